"""The package installs and works from another repository: a wheel of this repository, installed
into a fresh virtualenv, synthesizes ``examples/own-stack`` (a cdktf app of its own) and runs
``ecs-release``, with nothing of the repository importable.

The wheel and the virtualenv are tests/wheel_helpers.py's: the wheel goes in with ``--no-deps``
and the project venv's site-packages are appended to the fresh venv's ``sys.path`` (a ``.pth``
file), so the five packages can only come from the wheel, which the test asserts. Nothing is
downloaded. tests/e2e/test_installed_release.py deploys with such an installation.
"""

from __future__ import annotations

import json
import shutil
import time
import tomllib
import zipfile
from pathlib import Path

import pytest

from tests.terraform_text import parse_definitions
from tests.wheel_helpers import PROJECT_DIR, build_wheel, clean_environment, fresh_venv, run

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


def test_wheel_installs_into_a_fresh_venv_and_synthesizes_the_own_stack_example(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    started = time.monotonic()
    env = clean_environment()

    # GIVEN a wheel built from the repository's sources
    wheel = build_wheel(tmp_path, env)
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
    venv = fresh_venv(tmp_path, wheel, env)
    python, fresh_site = venv.python, venv.site

    # AND the example copied out of the repository
    example = tmp_path / "own-stack"
    shutil.copytree(EXAMPLE_DIR, example, ignore=shutil.ignore_patterns("cdktf.out", "__pycache__"))

    # WHEN the fresh venv's python imports the packages there
    found = json.loads(run([python, "-c", PROBE], cwd=example, env=env))
    # THEN the three packages come from the wheel, and nothing else of the repository is importable
    for name in PACKAGES:
        assert found[name] is not None and Path(found[name]).is_relative_to(fresh_site), (name, found[name])
    assert {name: found[name] for name in NOT_SHIPPED} == dict.fromkeys(NOT_SHIPPED)

    # WHEN the example app runs with it
    outdir = tmp_path / "out"
    run([python, "main.py"], cwd=example, env={**env, "CDKTF_OUTDIR": str(outdir)})
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
    usage = run([venv.bin / "ecs-release", "--help"], cwd=example, env=env, timeout=60)
    assert "ecs-release" in usage and "Usage" in usage

    with capsys.disabled():
        seconds = time.monotonic() - started
        print(f"\ntest_installable: wheel, fresh venv, synth and ecs-release in {seconds:.1f} s")
