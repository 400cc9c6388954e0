"""The package installs and works from another repository: a wheel of this repository, installed
into a fresh virtualenv, synthesizes ``examples/own-stack`` (a cdktf app of its own) and runs
``ecs-release``, with nothing of the repository importable.

The dependencies are not installed again (the AWS provider bindings alone are hundreds of MB):
the wheel goes in with ``--no-deps`` and a ``.pth`` file in the fresh venv's site-packages
appends the project venv's site-packages (this interpreter's) to ``sys.path``. That directory
comes after the fresh venv's own, holds no module of this repository, and its own ``.pth``
files are not run; so the five packages can only come from the wheel, which the test asserts.
Nothing is downloaded: pip runs with ``--no-index`` and the build with ``--no-build-isolation``
(setuptools from the project venv, pinned in the Pipfile's dev-packages).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import time
import tomllib
import zipfile
from pathlib import Path

import pytest

from tests.terraform_text import parse_definitions

PROJECT_DIR = Path(__file__).resolve().parents[2]
EXAMPLE_DIR = PROJECT_DIR / "examples" / "own-stack"
PACKAGES = ("constructs_lib", "ecs_cd", "stacks")
# and the generic names the wheel once installed: no longer anywhere
NOT_SHIPPED = ("devkit", "tests", "bench", "examples", "core", "release", "toolchain")
SIDECAR_IMAGE = "public.ecr.aws/aws-observability/aws-otel-collector:v0.43.1"

# Where each package of the wheel (and of the repository only) is imported from, as the
# example's main.py would: run in the example's directory, which is sys.path[0] either way.
PROBE = f"""
import importlib, json
found = {{}}
for name in {PACKAGES + NOT_SHIPPED!r}:
    try:
        found[name] = importlib.import_module(name).__file__
    except ModuleNotFoundError:
        found[name] = None
print(json.dumps(found))
"""


def _run(argv: list[str | Path], *, cwd: Path, env: dict[str, str], timeout: float = 120) -> str:
    result = subprocess.run(
        [str(a) for a in argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert result.returncode == 0, f"{argv} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def _copy_sources(destination: Path) -> Path:
    """The repository's files as a checkout has them: no venv, node_modules, caches or build output
    (building in place would write build/ and *.egg-info into the working tree)."""
    ignore = shutil.ignore_patterns(
        ".*", "node_modules", "cdktf.out", "__pycache__", "build", "dist", "*.egg-info"
    )
    shutil.copytree(PROJECT_DIR, destination, ignore=ignore)
    return destination


def test_wheel_installs_into_a_fresh_venv_and_synthesizes_the_own_stack_example(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    started = time.monotonic()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV", "CDKTF_OUTDIR")
    }
    env.update({"JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20", "CHECKPOINT_DISABLE": "1"})

    # GIVEN a wheel built from the repository's sources
    sources = _copy_sources(tmp_path / "src")
    dist = tmp_path / "dist"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]
    _run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", dist, sources],
        cwd=tmp_path,
        env=env,
    )
    (wheel,) = dist.glob("ecs_cd-0.1.0-py3-none-any.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        top_level = {name.split("/")[0] for name in names}
        metadata = archive.read("ecs_cd-0.1.0.dist-info/METADATA").decode()
        entry_points = archive.read("ecs_cd-0.1.0.dist-info/entry_points.txt").decode()
    assert top_level == {*PACKAGES, "ecs_cd-0.1.0.dist-info"}
    # PEP 561 markers: another repository's type checker reads the constructs' annotations
    assert {"constructs_lib/py.typed", "ecs_cd/core/py.typed"} <= set(names)
    project = tomllib.loads((PROJECT_DIR / "pyproject.toml").read_text())["project"]
    requires = sorted(
        line.removeprefix("Requires-Dist: ")
        for line in metadata.splitlines()
        if line.startswith("Requires-Dist: ")
    )
    assert requires == sorted(project["dependencies"])
    assert "ecs-release = ecs_cd.release.cli:main" in entry_points

    # AND a fresh virtualenv with the wheel installed and the project's dependencies visible
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", venv], cwd=tmp_path, env=env)
    python = venv / "bin" / "python"
    _run([*pip, "--python", python, "install", "--no-deps", "--no-index", wheel], cwd=tmp_path, env=env)
    fresh_site = Path(
        _run(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=tmp_path, env=env
        ).strip()
    )
    project_site = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (fresh_site / "ecs-cd-test-dependencies.pth").write_text(
        "".join(f"{path}\n" for path in sorted(project_site))
    )

    # AND the example copied out of the repository
    example = tmp_path / "own-stack"
    shutil.copytree(EXAMPLE_DIR, example, ignore=shutil.ignore_patterns("cdktf.out", "__pycache__"))

    # WHEN the fresh venv's python imports the packages there
    found = json.loads(_run([python, "-c", PROBE], cwd=example, env=env))
    # THEN the three packages come from the wheel, and nothing else of the repository is importable
    for name in PACKAGES:
        assert found[name] is not None and Path(found[name]).is_relative_to(fresh_site), (name, found[name])
    assert {name: found[name] for name in NOT_SHIPPED} == dict.fromkeys(NOT_SHIPPED)

    # WHEN the example app runs with it
    outdir = tmp_path / "out"
    _run([python, "main.py"], cwd=example, env={**env, "CDKTF_OUTDIR": str(outdir)})
    # THEN it synthesized one service whose task runs the app (tag from SSM) and the pinned sidecar
    stack = json.loads((outdir / "stacks" / "own-stack" / "cdk.tf.json").read_text())
    resources = stack["resource"]
    (task,) = resources["aws_ecs_task_definition"].values()
    (service,) = resources["aws_ecs_service"].values()
    assert len(resources["aws_ecs_cluster"]) == 1
    containers = {c["name"]: c for c in parse_definitions(task["container_definitions"])}
    assert list(containers) == ["api", "otel"]
    (parameter_id,) = stack["data"]["aws_ssm_parameter"]
    assert containers["api"]["image"] == (
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com/orders-api:"
        f"${{data.aws_ssm_parameter.{parameter_id}.insecure_value}}"
    )
    assert containers["otel"]["image"] == SIDECAR_IMAGE
    assert containers["otel"]["essential"] is False
    assert service["name"] == "orders-api" and service["launch_type"] == "FARGATE"
    assert service["task_definition"].startswith("${aws_ecs_task_definition.")
    assert stack["provider"]["aws"][0]["region"] == "eu-west-1"

    # AND the installed release command runs
    usage = _run([venv / "bin" / "ecs-release", "--help"], cwd=example, env=env, timeout=60)
    assert "ecs-release" in usage and "Usage" in usage

    with capsys.disabled():
        seconds = time.monotonic() - started
        print(f"\ntest_installable: wheel, fresh venv, synth and ecs-release in {seconds:.1f} s")
