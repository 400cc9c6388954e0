"""The release command line stands alone: importing it loads no developer kit (``devkit``),
no stack module and no provider bindings, so ``ecs-release`` starts in a fraction of a second
and ships without the demo, the emulator or the tests' tooling."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]
FORBIDDEN = ("devkit", "stacks.environment_stack", "cdktf_cdktf_provider_aws")

# Imports ecs_cd.release.cli, then what its deploy command imports when it runs, and prints every
# loaded module that is, or lives under, one of the forbidden names.
PROBE = f"""
import json
import sys

import ecs_cd.release.cli
import ecs_cd.release.apply_process
import ecs_cd.release.deploy_failure
import ecs_cd.release.deploy_run
import ecs_cd.toolchain.cdktf_cli
import ecs_cd.toolchain.errors
import ecs_cd.toolchain.terraform_offline

forbidden = {FORBIDDEN!r}
loaded = sorted(m for m in sys.modules if any(m == f or m.startswith(f + ".") for f in forbidden))
print(json.dumps({{"release_cli": "ecs_cd.release.cli" in sys.modules, "loaded": loaded}}))
"""


def test_importing_release_cli_loads_no_devkit_stack_or_provider_module() -> None:
    # GIVEN a fresh interpreter in the project directory
    env = {**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}

    # WHEN it imports ecs_cd.release.cli and the toolchain modules its deploy command uses
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    # THEN the import succeeds, and no devkit, stack or provider-binding module was loaded
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["release_cli"] is True
    assert report["loaded"] == []


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module is not None and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def test_no_release_or_toolchain_source_imports_devkit_even_inside_a_function() -> None:
    # GIVEN every Python file of ecs_cd/release/ and ecs_cd/toolchain/
    sources = sorted(
        [
            *(PROJECT_DIR / "ecs_cd" / "release").rglob("*.py"),
            *(PROJECT_DIR / "ecs_cd" / "toolchain").rglob("*.py"),
        ]
    )
    assert sources

    # WHEN their import statements are read, including those deferred into functions
    offending = {
        str(path.relative_to(PROJECT_DIR)): sorted(
            name for name in _imported_modules(path) if name == "devkit" or name.startswith("devkit.")
        )
        for path in sources
    }

    # THEN none of them names devkit
    assert {path: names for path, names in offending.items() if names} == {}
