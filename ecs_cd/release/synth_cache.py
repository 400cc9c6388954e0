"""Reusing a synthesis: a release that changes nothing but tags needs none.

The image tag is read at plan time (the SSM data source), so the synthesized JSON depends only
on the configuration file, the code that synthesizes it, the installed cdktf packages and three
environment variables. Their fingerprint is written beside the output after a synthesis that
Terraform then used; the next deploy skips synthesis (`cdktf deploy --skip-synth`) only if the
fingerprint is the same and every synthesized file is still byte for byte what that synthesis
wrote (another command, or a person, may have synthesized something else into the same
directory since).

The code is found where Python imports it from (a checkout's working tree or site-packages),
so an installed package's fingerprint covers the installed files.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import sys
from collections.abc import Iterable, Mapping
from importlib import metadata
from pathlib import Path

RECORD = "ecs-release-synth.json"
# What main.py and python -m ecs_cd.synth read besides the configuration file (see their docstrings).
ENVIRONMENT = ("ECS_CD_CONFIG", "ECS_CD_EMULATOR_ENDPOINT", "ECS_CD_FAST_IMPORT")
# The distributions whose code writes the JSON.
PACKAGES = (
    "cdktf",
    "constructs",
    "jsii",
    "cdktf-cdktf-provider-aws",
    "cdktf-cdktf-provider-null",
    "pydantic",
)
# The project directory's files a synthesis runs or reads, where they exist (a checkout has them
# all; `cdktf synth` runs main.py as cdktf.json says, with the Pipfile's and package-lock's pins).
CODE = ("main.py", "cdktf.json", "Pipfile", "package-lock.json")
# The project's packages and modules that synthesize (main.py and ecs_cd.synth import only these).
CODE_PACKAGES = ("stacks", "constructs_lib", "ecs_cd.core", "ecs_cd.synth")


def code_locations() -> dict[str, Path]:
    """Where each of CODE_PACKAGES is imported from (its ``__file__``'s directory for a package,
    the file for a module), found without importing it."""
    found: dict[str, Path] = {}
    for name in CODE_PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            raise ModuleNotFoundError(f"{name} is not importable: reinstall ecs-cd")
        origin = Path(spec.origin)
        found[name] = origin.parent if spec.submodule_search_locations is not None else origin
    return found


def _code_files(project: Path, code: Mapping[str, Path]) -> Iterable[tuple[str, Path]]:
    for name in CODE:
        if (project / name).is_file():
            yield f"file {name}", project / name
    for package, location in sorted(code.items()):
        if location.is_file():
            yield f"code {package}", location
            continue
        for path in sorted(location.rglob("*.py")):
            yield f"code {package}/{path.relative_to(location).as_posix()}", path


def fingerprint(
    project: Path, config: Path, environment: Mapping[str, str], code: Mapping[str, Path] | None = None
) -> str:
    """The hash of everything the synthesized JSON depends on: ``project``'s files of CODE, the
    code of CODE_PACKAGES (``code``: where they are imported from), the distributions' versions,
    the configuration file and the environment variables the app reads."""
    digest = hashlib.sha256()

    def add(label: str, data: bytes) -> None:
        digest.update(f"{label}\0{len(data)}\0".encode())
        digest.update(data)

    add("python", sys.version.encode())
    for package in PACKAGES:
        try:
            add(f"package {package}", metadata.version(package).encode())
        except metadata.PackageNotFoundError:
            add(f"package {package}", b"-")
    for name in ENVIRONMENT:
        add(f"env {name}", environment.get(name, "\0unset").encode())
    add("config path", str(config.resolve()).encode())
    add("config", config.read_bytes())
    for label, path in _code_files(project, code_locations() if code is None else code):
        add(label, path.read_bytes())
    return digest.hexdigest()


def _outputs(outdir: Path) -> dict[str, str]:
    """Each synthesized file (the manifest and every stack's JSON) and its hash."""
    files = [outdir / "manifest.json", *sorted((outdir / "stacks").glob("*/cdk.tf.json"))]
    return {
        str(path.relative_to(outdir)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in files
        if path.is_file()
    }


def record(outdir: Path, print_: str) -> None:
    """After a synthesis Terraform used: remember its fingerprint and what it wrote."""
    (outdir / RECORD).write_text(json.dumps({"fingerprint": print_, "outputs": _outputs(outdir)}, indent=1))


def reusable(outdir: Path, print_: str, stacks: Iterable[str]) -> bool:
    """Whether the synthesis in ``outdir`` is the one ``print_`` would write, untouched, and
    has every stack the deploy needs."""
    try:
        recorded = json.loads((outdir / RECORD).read_text())
    except (OSError, ValueError):
        return False
    if not isinstance(recorded, dict) or recorded.get("fingerprint") != print_:
        return False
    outputs = _outputs(outdir)
    if recorded.get("outputs") != outputs:
        return False
    return all(f"stacks/{stack}/cdk.tf.json" in outputs for stack in stacks)


def forget(outdir: Path) -> None:
    (outdir / RECORD).unlink(missing_ok=True)
