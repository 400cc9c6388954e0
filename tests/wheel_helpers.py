"""A wheel of this repository installed into a fresh virtualenv, as a team installs the package
(tests/integration/test_installable.py, tests/e2e/test_installed_release.py).

The dependencies are not installed again (the AWS provider bindings alone are hundreds of MB):
the wheel goes in with ``--no-deps`` and a ``.pth`` file in the fresh venv's site-packages
appends the project venv's site-packages (this interpreter's) to ``sys.path``. That directory
comes after the fresh venv's own, holds no module of this repository, and its own ``.pth``
files are not run; so the repository's packages can only come from the wheel. Nothing is
downloaded: pip runs with ``--no-index`` and the build with ``--no-build-isolation`` (setuptools
from the project venv, pinned in the Pipfile's dev-packages).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[1]
PIP = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]


def run(argv: list[str | Path], *, cwd: Path, env: dict[str, str], timeout: float = 120) -> str:
    """Run ``argv``; its stdout, after asserting it exited 0."""
    result = subprocess.run(
        [str(a) for a in argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert result.returncode == 0, f"{argv} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def clean_environment() -> dict[str, str]:
    """This process's environment without what would point Python or cdktf elsewhere."""
    drop = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV", "CDKTF_OUTDIR")
    env = {key: value for key, value in os.environ.items() if key not in drop}
    env.update({"JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20", "CHECKPOINT_DISABLE": "1"})
    return env


def copy_sources(destination: Path) -> Path:
    """The repository's files as a checkout has them: no venv, node_modules, caches or build output
    (building in place would write build/ and *.egg-info into the working tree)."""
    ignore = shutil.ignore_patterns(
        ".*", "node_modules", "cdktf.out", "__pycache__", "build", "dist", "*.egg-info"
    )
    shutil.copytree(PROJECT_DIR, destination, ignore=ignore)
    return destination


def build_wheel(work: Path, env: dict[str, str]) -> Path:
    """The wheel of a copy of the repository's sources, built in ``work``."""
    sources = copy_sources(work / "src")
    dist = work / "dist"
    run(
        [*PIP, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", dist, sources],
        cwd=work,
        env=env,
    )
    (wheel,) = dist.glob("ecs_cd-0.1.0-py3-none-any.whl")
    return wheel


@dataclass(frozen=True)
class Venv:
    """A fresh virtualenv with the wheel installed: its directory, interpreter and site-packages."""

    root: Path
    python: Path
    site: Path

    @property
    def bin(self) -> Path:
        return self.root / "bin"


def fresh_venv(work: Path, wheel: Path, env: dict[str, str]) -> Venv:
    """A virtualenv in ``work/venv`` with ``wheel`` installed and the project's dependencies visible."""
    root = work / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", root], cwd=work, env=env)
    python = root / "bin" / "python"
    run([*PIP, "--python", python, "install", "--no-deps", "--no-index", wheel], cwd=work, env=env)
    site = Path(
        run(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=work, env=env
        ).strip()
    )
    project_site = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site / "ecs-cd-test-dependencies.pth").write_text("".join(f"{path}\n" for path in sorted(project_site)))
    return Venv(root, python, site)
