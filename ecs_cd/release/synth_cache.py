"""Reusing a synthesis: a release that changes nothing but tags needs none.

The image tag is read at plan time (the SSM data source), so the synthesized JSON depends only
on the configuration file, the code that synthesizes it, the installed cdktf packages and three
environment variables. Their fingerprint is written beside the output after a synthesis that
Terraform then used; the next deploy skips synthesis (`cdktf deploy --skip-synth`) only if the
fingerprint is the same and every synthesized file is still byte for byte what that synthesis
wrote (another command, or a person, may have synthesized something else into the same
directory since).
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterable, Mapping
from importlib import metadata
from pathlib import Path

RECORD = "ecs-release-synth.json"
# What main.py reads besides the configuration file (see its docstring).
ENVIRONMENT = ("ECS_CD_CONFIG", "ECS_CD_EMULATOR_ENDPOINT", "ECS_CD_FAST_IMPORT")
# The packages whose code writes the JSON.
PACKAGES = (
    "cdktf",
    "constructs",
    "jsii",
    "cdktf-cdktf-provider-aws",
    "cdktf-cdktf-provider-null",
    "pydantic",
)
# The project's files that synthesis runs or reads (main.py imports only these packages).
CODE = ("main.py", "cdktf.json", "Pipfile", "package-lock.json")
CODE_PACKAGES = ("stacks", "constructs_lib", "ecs_cd/core")


def _code_files(project: Path) -> Iterable[Path]:
    for name in CODE:
        yield project / name
    for package in CODE_PACKAGES:
        yield from sorted((project / package).rglob("*.py"))


def fingerprint(project: Path, config: Path, environment: Mapping[str, str]) -> str:
    """The hash of everything the synthesized JSON depends on."""
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
    for path in _code_files(project):
        add(f"file {path.relative_to(project)}", path.read_bytes() if path.is_file() else b"\0missing")
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
