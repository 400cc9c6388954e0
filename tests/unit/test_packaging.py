"""One rule, two files: the package's dependencies (pyproject.toml ``[project]``) are the
Pipfile's ``[packages]``, each pinned to the same exact version.

The Pipfile is the development environment (``pipenv install --dev``); ``pip install .``
reads pyproject.toml. This test is what keeps the two from drifting apart."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parents[2]
PINNED = re.compile(
    r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?P<extras>\[[^\]]*\])?==(?P<version>[^\s,;=<>!~]+)$"
)
PACKAGES = ("ecs_cd", "constructs_lib", "stacks")


def _normalized(name: str) -> str:
    """PEP 503: case and runs of ``-_.`` do not matter."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _load(name: str) -> dict[str, Any]:
    return tomllib.loads((PROJECT_DIR / name).read_text(encoding="utf-8"))


def _pipfile_pins() -> dict[str, str]:
    pins: dict[str, str] = {}
    for name, spec in _load("Pipfile")["packages"].items():
        assert isinstance(spec, str) and spec.startswith("==") and "*" not in spec, (
            f"Pipfile [packages] {name} = {spec!r}: every runtime package is pinned exactly ('==x.y.z')"
        )
        pins[_normalized(name)] = spec.removeprefix("==")
    return pins


def _project_pins() -> dict[str, str]:
    pins: dict[str, str] = {}
    for requirement in _load("pyproject.toml")["project"]["dependencies"]:
        match = PINNED.match(requirement.replace(" ", ""))
        assert match, (
            f"[project].dependencies {requirement!r}: pin it exactly ('name==x.y.z'), as the Pipfile"
        )
        name = _normalized(match["name"] + (match["extras"] or ""))
        assert name not in pins, f"[project].dependencies lists {match['name']} twice"
        pins[name] = match["version"]
    return pins


def test_project_dependencies_are_the_pipfile_packages_with_the_same_pins() -> None:
    # GIVEN the Pipfile's runtime packages and the package's declared dependencies
    pipfile, project = _pipfile_pins(), _project_pins()
    # THEN they name the same packages (nothing added to one file only) ...
    assert sorted(project.keys() - pipfile.keys()) == [], "in pyproject.toml only: add them to the Pipfile"
    assert sorted(pipfile.keys() - project.keys()) == [], "in the Pipfile only: add them to pyproject.toml"
    # ... at the same versions
    differing = {name: (pipfile[name], project[name]) for name in pipfile if pipfile[name] != project[name]}
    assert differing == {}, "(Pipfile, pyproject.toml) versions differ"


def test_the_package_ships_the_library_and_release_cli_only() -> None:
    # GIVEN the package discovery of pyproject.toml
    config = _load("pyproject.toml")
    include = config["tool"]["setuptools"]["packages"]["find"]["include"]
    # THEN it names the three top-level packages (and their subpackages), not devkit, tests, bench, examples
    assert sorted(include) == sorted([*PACKAGES, *(f"{p}.*" for p in PACKAGES)])
    assert all((PROJECT_DIR / p / "__init__.py").is_file() for p in PACKAGES)
    # AND its command is the one `python -m ecs_cd.release` runs
    assert config["project"]["scripts"] == {"ecs-release": "ecs_cd.release.cli:main"}
    assert (
        "from ecs_cd.release.cli import main"
        in (PROJECT_DIR / "ecs_cd" / "release" / "__main__.py").read_text()
    )
