"""Guard-rails so the hubs don't grow back (issue 25): the layers' import rules and the size and
complexity limits that ARCHITECTURE.md states, read from the source with ``ast`` and ruff, and
that pyproject.toml keeps mypy strict on the product layers.

The functions and modules over a limit today are listed below with their figures today. The
lists only shrink: a new offender fails naming the limit, a listed one that grows fails, and one
that is back within the limits fails until its entry is removed. When you shrink a listed
function but it is still over, lower its figure so it cannot grow back. ``python -m
tests.unit.test_architecture`` prints today's figures in the lists' own form.

What ``import ecs_cd.release.cli`` loads is also checked at run time, in a fresh interpreter, by
tests/unit/test_release_imports.py (its check that ecs_cd/release/ and ecs_cd/toolchain/ never name devkit is
one case of the import rules here).
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]

# The code a user runs (the wheel's packages and the cdktf app), and the development tools.
# ecs_cd/ holds four layers: ecs_cd.core, ecs_cd.toolchain, ecs_cd.release and ecs_cd.synth.
PRODUCT = ("main.py", "ecs_cd", "constructs_lib", "stacks")
DEVELOPMENT = ("devkit", "bench")
PROJECT_ROOTS = frozenset({"main", "ecs_cd", "constructs_lib", "stacks", *DEVELOPMENT, "tests"})

MAX_FUNCTION_LINES = 80
MAX_MODULE_LINES = 600
RATCHET_RULES = ("C901", "PLR0912", "PLR0915")

# "path:function" (methods and nested functions by their qualified name) -> rule -> figure today.
COMPLEXITY_ALLOWED: dict[str, dict[str, int]] = {
    "ecs_cd/release/overview.py:cell": {"C901": 11},
}
# "path:function" -> lines today (``end_lineno - lineno + 1``: the def line to the last, docstring included).
LONG_FUNCTIONS_ALLOWED: dict[str, int] = {}
# path -> lines today.
LONG_MODULES_ALLOWED: dict[str, int] = {}

# The layers mypy checks with strict = true, each with its submodules (pyproject.toml's override).
STRICT_LAYERS = ("ecs_cd.core", "ecs_cd.toolchain", "constructs_lib", "stacks", "ecs_cd.release")

HEAVY = frozenset({"cdktf", "constructs", "jsii", "cdktf_cdktf_provider_aws", "cdktf_cdktf_provider_null"})
CONSTRUCT_LIBRARIES = (*sorted(HEAVY), "pydantic")


@dataclass(frozen=True)
class Layer:
    """Modules (by dotted prefix) and what they may import besides themselves and the standard
    library: project modules (by dotted prefix) and third-party distributions (by top-level name)."""

    modules: tuple[str, ...]
    project: tuple[str, ...] = ()
    third_party: tuple[str, ...] = ()


# The configuration's side of stacks/: what ecs_cd/release/ may import of it. Never the stack modules.
LOADER = ("stacks.settings", "stacks.configuration", "stacks.layout")
LAYERS: dict[str, Layer] = {
    "ecs_cd": Layer(("ecs_cd",)),  # the package's __init__ only: it imports nothing
    "ecs_cd.core": Layer(("ecs_cd.core",)),
    "ecs_cd.toolchain": Layer(("ecs_cd.toolchain",)),
    "constructs_lib": Layer(("constructs_lib",), ("ecs_cd.core",), CONSTRUCT_LIBRARIES),
    "the loader": Layer(LOADER, ("ecs_cd.core", "constructs_lib"), ("pydantic",)),
    "stacks": Layer(("stacks",), ("ecs_cd.core", "constructs_lib"), CONSTRUCT_LIBRARIES),
    "main.py": Layer(("main",), ("ecs_cd.core", "stacks"), ("cdktf",)),
    # `python -m ecs_cd.synth`: the synthesis ecs-release runs as a child process (no cdktf CLI).
    "ecs_cd.synth": Layer(("ecs_cd.synth",), ("ecs_cd.core", "stacks")),
    "ecs_cd.release": Layer(
        ("ecs_cd.release",),
        ("ecs_cd.core", "ecs_cd.toolchain", *LOADER),
        ("boto3", "botocore", "click", "rich", "pydantic"),
    ),
    # The development tools run the release command line as a process, as a pipeline does.
    "devkit": Layer(
        ("devkit",),
        ("ecs_cd.core", "ecs_cd.toolchain", "constructs_lib", "stacks", "main"),
        ("boto3", "moto", "werkzeug"),
    ),
    "bench": Layer(
        ("bench",), ("ecs_cd.core", "ecs_cd.toolchain", "constructs_lib", "stacks", "main", "devkit")
    ),
}


# --- reading the source -------------------------------------------------------------------------


def _files(roots: tuple[str, ...]) -> list[Path]:
    found: list[Path] = []
    for root in roots:
        path = PROJECT_DIR / root
        found.extend([path] if path.is_file() else sorted(path.rglob("*.py")))
    return found


def _rel(path: Path) -> str:
    return path.relative_to(PROJECT_DIR).as_posix()


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PROJECT_DIR).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _module_path(name: str) -> Path | None:
    base = PROJECT_DIR.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _functions(
    tree: ast.AST, prefix: str = ""
) -> Iterator[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    """Every function, method and nested function, by qualified name (``Class.method``, ``outer.inner``)."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield prefix + node.name, node
            yield from _functions(node, f"{prefix}{node.name}.")
        elif isinstance(node, ast.ClassDef):
            yield from _functions(node, f"{prefix}{node.name}.")
        else:
            yield from _functions(node, prefix)


@dataclass(frozen=True)
class Import:
    module: str  # absolute; ``from a import b`` is ``a.b`` when ``a/b`` is a module of the project
    line: int
    at_import_time: bool  # module level, outside ``if TYPE_CHECKING:``: runs when the module is imported


def _imports(path: Path) -> list[Import]:
    """Every import statement of a module, at any depth (function bodies included)."""
    package = _module_name(path) if path.name == "__init__.py" else _module_name(path).rpartition(".")[0]
    found: list[Import] = []

    def visit(node: ast.AST, runtime: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                found.extend(Import(alias.name, child.lineno, runtime) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    parts = package.split(".")
                    base = ".".join(parts[: len(parts) - child.level + 1])
                    module = f"{base}.{child.module}" if child.module else base
                else:
                    module = child.module or ""
                for alias in child.names:
                    submodule = f"{module}.{alias.name}"
                    name = submodule if _module_path(submodule) else module
                    found.append(Import(name, child.lineno, runtime))
            elif isinstance(child, ast.If) and _is_type_checking(child.test):
                for statement in child.body:
                    visit(ast.Module(body=[statement], type_ignores=[]), False)
                for statement in child.orelse:
                    visit(ast.Module(body=[statement], type_ignores=[]), runtime)
            else:
                deferred = isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
                visit(child, runtime and not deferred)

    visit(_parse(path), True)
    return list(dict.fromkeys(found))  # ``from a import b, c`` is one import of ``a``


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _within(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def _layer_of(module: str) -> str:
    """The layer whose longest prefix holds ``module``."""
    matches = [
        (len(p), name) for name, layer in LAYERS.items() for p in layer.modules if _within(module, (p,))
    ]
    assert matches, f"{module} is in no layer: place it in LAYERS and in ARCHITECTURE.md"
    return max(matches)[1]


# --- measuring ------------------------------------------------------------------------------------


def _ruff_offences() -> dict[str, dict[str, int]]:
    """The product functions over a complexity limit: ``path:function`` -> rule -> figure. Per-file
    ignores and ``# noqa`` are both set aside: this list is the one place offenders are allowed."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "ruff",
            "check",
            "--select",
            ",".join(RATCHET_RULES),
            "--config",
            "lint.per-file-ignores = {}",
            "--ignore-noqa",
            "--output-format",
            "json",
            *PRODUCT,
        ],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode in (0, 1), result.stderr
    by_line: dict[tuple[str, int], str] = {}
    for path in _files(PRODUCT):
        for name, node in _functions(_parse(path)):
            by_line[(_rel(path), node.lineno)] = name
    found: dict[str, dict[str, int]] = {}
    for diagnostic in json.loads(result.stdout):
        rel = _rel(Path(diagnostic["filename"]))
        name = by_line[(rel, diagnostic["location"]["row"])]
        figure = re.search(r"\((\d+) > \d+\)", diagnostic["message"])
        assert figure is not None, diagnostic["message"]
        found.setdefault(f"{rel}:{name}", {})[diagnostic["code"]] = int(figure.group(1))
    return found


def _ruff_limits() -> dict[str, int]:
    lint = tomllib.loads((PROJECT_DIR / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["ruff"]["lint"]
    return {
        "C901": lint["mccabe"]["max-complexity"],
        "PLR0912": lint["pylint"]["max-branches"],
        "PLR0915": lint["pylint"]["max-statements"],
    }


def _function_lines() -> dict[str, int]:
    lines: dict[str, int] = {}
    for path in _files(PRODUCT):
        for name, node in _functions(_parse(path)):
            assert node.end_lineno is not None
            key = f"{_rel(path)}:{name}"
            lines[key] = max(lines.get(key, 0), node.end_lineno - node.lineno + 1)
    return lines


def _module_lines() -> dict[str, int]:
    return {_rel(path): len(path.read_text(encoding="utf-8").splitlines()) for path in _files(PRODUCT)}


def _ratchet(
    what: str, figures: dict[str, int], allowed: dict[str, int], limit: int, listing: str
) -> list[str]:
    """Why ``figures`` break the ratchet: one line per new, grown or no longer needed entry."""
    problems = []
    for key, figure in sorted(figures.items()):
        if figure <= limit:
            if key in allowed:
                problems.append(f"{key}: {what} within the limit ({limit}) now: remove it from {listing}")
        elif key not in allowed:
            problems.append(
                f"{key}: {what} {figure} > {limit}: split it (ARCHITECTURE.md); {listing} only shrinks"
            )
        elif figure > allowed[key]:
            problems.append(
                f"{key}: {what} grew from {allowed[key]} to {figure} (limit {limit}): split it instead"
            )
    problems.extend(
        f"{key}: no longer exists: remove it from {listing}" for key in sorted(set(allowed) - set(figures))
    )
    return problems


def _no(problems: list[str]) -> None:
    """Fail with every problem on a line of its own (pytest would show only the first)."""
    assert not problems, "\n" + "\n".join(problems)


# --- the size and complexity limits ---------------------------------------------------------------


def test_no_product_function_is_more_complex_than_the_limits_but_the_listed_ones_which_only_shrink() -> None:
    # GIVEN ruff's complexity limits from pyproject.toml and the product functions over them today
    limits = _ruff_limits()

    # WHEN ruff measures every product function, per-file ignores and noqa comments set aside
    offences, functions = _ruff_offences(), _function_lines()

    # THEN each rule's offenders are the listed ones, none grown and none back within the limit
    problems = []
    for rule, limit in limits.items():
        figures = {key: rules[rule] for key, rules in offences.items() if rule in rules}
        allowed = {key: rules[rule] for key, rules in COMPLEXITY_ALLOWED.items() if rule in rules}
        # a listed function now within this rule's limit has no figure: 0 stands for "within"
        figures |= {key: 0 for key in allowed if key not in figures and key in functions}
        problems += _ratchet(rule, figures, allowed, limit, "COMPLEXITY_ALLOWED")
    _no(problems)


def test_the_per_file_ignores_of_the_limits_name_exactly_the_files_of_listed_functions() -> None:
    # GIVEN pyproject.toml's per-file ignores of the limits' rules on product files
    lint = tomllib.loads((PROJECT_DIR / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["ruff"]["lint"]
    ignored: dict[str, set[str]] = {}
    for pattern, rules in lint.get("per-file-ignores", {}).items():
        if pattern.split("/")[0] in {*PRODUCT, "main.py"}:
            ignored[pattern] = {r for r in rules if r in RATCHET_RULES or r == "C90"}

    # WHEN they are compared with the files and rules of COMPLEXITY_ALLOWED
    expected: dict[str, set[str]] = {}
    for key, rules in COMPLEXITY_ALLOWED.items():
        expected.setdefault(key.partition(":")[0], set()).update(rules)

    # THEN each such file is ignored for exactly its listed functions' rules (no glob, no more)
    assert {path: sorted(rules) for path, rules in ignored.items()} == {
        path: sorted(rules) for path, rules in expected.items()
    }


def test_no_product_function_is_over_80_lines_but_the_listed_ones_which_only_shrink() -> None:
    # GIVEN every product function, method and nested function, measured with ast
    # WHEN its lines are compared with the limit and with LONG_FUNCTIONS_ALLOWED
    problems = _ratchet(
        "lines", _function_lines(), LONG_FUNCTIONS_ALLOWED, MAX_FUNCTION_LINES, "LONG_FUNCTIONS_ALLOWED"
    )

    # THEN only the listed ones are over it, none longer than its figure, none back within the limit
    _no(problems)


def test_no_product_module_is_over_600_lines_but_the_listed_ones_which_only_shrink() -> None:
    # GIVEN every product module, and WHEN its lines are compared with the limit and the list
    problems = _ratchet(
        "lines", _module_lines(), LONG_MODULES_ALLOWED, MAX_MODULE_LINES, "LONG_MODULES_ALLOWED"
    )

    # THEN only the listed ones are over it, none longer than its figure, none back within the limit
    _no(problems)


# --- the import rules -----------------------------------------------------------------------------


def test_every_module_imports_only_what_its_layer_may() -> None:
    # GIVEN every module of the product and of the development tools, each in its layer
    problems = []
    for path in _files((*PRODUCT, *DEVELOPMENT)):
        name = _layer_of(_module_name(path))
        layer = LAYERS[name]

        # WHEN each of its imports, at any depth, is placed: the standard library, its own layer,
        # what its layer may import of the project, or a third-party distribution its layer may use
        for imp in _imports(path):
            root = imp.module.split(".")[0]
            if root in sys.stdlib_module_names or _within(imp.module, layer.modules + layer.project):
                continue
            if root not in PROJECT_ROOTS and root in layer.third_party:
                continue
            shown = imp.module if root in PROJECT_ROOTS else root
            problems.append(f"{_rel(path)}:{imp.line}: imports {shown}: {name} may import {_may(layer)}")

    # THEN none breaks a rule of ARCHITECTURE.md
    _no(problems)


def _may(layer: Layer) -> str:
    named = [*layer.project, *layer.third_party]
    return f"the standard library, {', '.join(named)}" if named else "the standard library only"


def test_nothing_the_release_command_line_imports_at_import_time_loads_cdktf_or_jsii() -> None:
    # GIVEN every module of ecs_cd.release, ecs_cd.toolchain and the loader
    # (ecs-release starts without jsii or Node)
    starts = ("ecs_cd.release", "ecs_cd.toolchain", *LOADER)
    start = [m for m in map(_module_name, _files(PRODUCT)) if _within(m, starts)]

    # WHEN the imports they run when imported are followed through the project, package by package
    # (not function bodies, not `if TYPE_CHECKING:`)
    via: dict[str, str | None] = dict.fromkeys(start)
    queue = list(start)
    problems = []
    while queue:
        module = queue.pop()
        path = _module_path(module)
        assert path is not None, module
        for imp in _imports(path):
            if not imp.at_import_time:
                continue
            root = imp.module.split(".")[0]
            if root in HEAVY:
                chain = [module]
                while (before := via[chain[-1]]) is not None:
                    chain.append(before)
                where = f" (imported by {' <- '.join(chain[1:])})" if chain[1:] else ""
                problems.append(f"{module}:{imp.line}: imports {imp.module}{where}")
            if root in PROJECT_ROOTS:
                parts = imp.module.split(".")
                for n in range(1, len(parts) + 1):  # a package's __init__ runs first
                    name = ".".join(parts[:n])
                    if name not in via and _module_path(name) is not None:
                        via[name] = module
                        queue.append(name)

    # THEN none of them imports cdktf, constructs, jsii or the provider bindings
    _no(problems)


def test_every_package_the_wheel_installs_is_product_code_and_architecture_md_names_every_layer() -> None:
    # GIVEN the packages pyproject.toml installs and the repository's ARCHITECTURE.md
    setuptools = tomllib.loads((PROJECT_DIR / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
        "setuptools"
    ]
    installed = {name for name in setuptools["packages"]["find"]["include"] if "." not in name}
    architecture = (PROJECT_DIR / "ARCHITECTURE.md").read_text(encoding="utf-8")

    # WHEN they are compared with the code this test measures and the layers it checks
    prefixes = [p for layer in LAYERS.values() for p in layer.modules]

    # THEN every installed package is measured as product code, and the note names every layer
    assert sorted(installed - set(PRODUCT)) == []
    assert [p for p in prefixes if f"`{'main.py' if p == 'main' else p}" not in architecture] == []


def test_mypy_is_strict_on_the_product_layers_and_no_override_relaxes_it() -> None:
    # GIVEN pyproject.toml's mypy configuration
    mypy = tomllib.loads((PROJECT_DIR / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mypy"]
    overrides = [
        (override, [override["module"]] if isinstance(override["module"], str) else override["module"])
        for override in mypy["overrides"]
    ]
    strict = {
        module for override, modules in overrides if override.get("strict") is True for module in modules
    }

    # THEN its strict override names every listed layer with its submodules ...
    assert sorted({f"{layer}.*" for layer in STRICT_LAYERS} - strict) == []
    # ... each a layer checked here, a package of the project, under the files mypy reads
    assert [layer for layer in STRICT_LAYERS if layer not in LAYERS] == []
    assert [
        p for p in STRICT_LAYERS if not (PROJECT_DIR.joinpath(*p.split(".")) / "__init__.py").is_file()
    ] == []
    assert sorted({layer.split(".")[0] for layer in STRICT_LAYERS} - set(mypy["files"])) == []
    # AND no other override turns it off, or the errors off, for any module of them
    relaxed = [
        module
        for override, modules in overrides
        if override.get("strict") is False or override.get("ignore_errors") is True
        for module in modules
        if any(module == layer or module.startswith(f"{layer}.") for layer in STRICT_LAYERS)
    ]
    assert relaxed == []


def _report() -> None:
    """Today's figures: the three lists in their own form, then the note's figures (issue 25)."""
    offences = _ruff_offences()
    functions, modules = _function_lines(), _module_lines()
    print("COMPLEXITY_ALLOWED = {")
    for key in sorted(offences):
        print(f"    {key!r}: {dict(sorted(offences[key].items()))!r},")
    print("}\nLONG_FUNCTIONS_ALLOWED = {")
    for key in sorted(k for k, n in functions.items() if n > MAX_FUNCTION_LINES):
        print(f"    {key!r}: {functions[key]},")
    print("}\nLONG_MODULES_ALLOWED = {")
    for key in sorted(k for k, n in modules.items() if n > MAX_MODULE_LINES):
        print(f"    {key!r}: {modules[key]},")
    print("}")
    print(f"# {len(modules)} product modules, {sum(modules.values())} lines; {len(functions)} functions")
    print(f"# functions over 60 lines: {sum(n > 60 for n in functions.values())}, ", end="")
    print(f"over {MAX_FUNCTION_LINES}: {sum(n > MAX_FUNCTION_LINES for n in functions.values())}")
    for key, n in sorted(functions.items(), key=lambda item: -item[1])[:25]:
        print(f"#   {n:5}  {key}")
    print("# largest modules:")
    for key, n in sorted(modules.items(), key=lambda item: -item[1])[:10]:
        print(f"#   {n:5}  {key}")


if __name__ == "__main__":
    _report()
