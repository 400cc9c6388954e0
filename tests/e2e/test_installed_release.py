"""A package a team installs (issue 25): a wheel of this repository, installed into a fresh
virtualenv, run as `ecs-release` in a directory that holds only an ``ecs-cd.toml``, verifies,
diffs, deploys and reports on the emulator, with no checkout of the repository and no cdktf CLI.

The wheel and the virtualenv are tests/wheel_helpers.py's (the project venv's dependencies made
visible, nothing downloaded). The commands run as a user runs them: in that directory, with no
``ECS_CD_*`` variable (the configuration names the emulator itself), on a PATH holding the venv's
scripts, Node and Terraform only. The one thing the directory gets besides its configuration is
this machine's offline null provider mirror in its ``.cache/`` (what the first offline run there
would download; docs/operations/offline.md); with the Terraform registry in reach nothing is needed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from devkit.emulator import Emulator
from devkit.fake_ci import push_image, write_tag
from ecs_cd.toolchain.cdktf_cli import CACHE_DIR
from ecs_cd.toolchain.terraform_offline import TerraformSetup
from tests.wheel_helpers import PROJECT_DIR, build_wheel, clean_environment, fresh_venv

pytestmark = pytest.mark.e2e

REPOSITORY = "123456789012.dkr.ecr.us-east-1.amazonaws.com/team-api"
CONFIG = """
[project]
name = "team"

[services.api]
repository = "{repository}"
image_strategy = "ssm-tag"

[environments.dev]
region = "us-east-1"
emulator_endpoint = "{endpoint}"
network = {{ use_default_vpc = true }}
state = {{ backend = "local" }}
"""
# What a run of the repository's own code may write there and other tests write meanwhile.
NOT_COMPARED = {".git", ".venv", "node_modules", ".cache", ".pytest_cache", ".mypy_cache", ".ruff_cache"}


def _repository_files() -> dict[str, int]:
    """Every file of the repository with its modification time, but the caches and __pycache__."""
    found: dict[str, int] = {}
    for root, dirs, files in os.walk(PROJECT_DIR):
        dirs[:] = [d for d in dirs if d not in NOT_COMPARED and d != "__pycache__"]
        for name in files:
            path = Path(root) / name
            found[str(path.relative_to(PROJECT_DIR))] = path.lstat().st_mtime_ns
    return found


def _user_environment(venv_bin: Path) -> dict[str, str]:
    """A user's shell: the venv's scripts, Node and Terraform on PATH, no ECS_CD_* variable."""
    tools = [shutil.which("node"), shutil.which("terraform")]
    assert all(tools), "node and terraform must be on PATH"
    path = os.pathsep.join(dict.fromkeys([str(venv_bin), *(str(Path(t).parent) for t in tools if t)]))
    env = {k: v for k, v in clean_environment().items() if not k.startswith("ECS_CD_")}
    return {**env, "PATH": path, "CI": "true"}


def test_an_installed_ecs_release_deploys_from_a_directory_holding_only_its_configuration(
    emulator: Emulator,
    tf_setup: TerraformSetup,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    started = time.monotonic()
    # GIVEN a wheel of the repository installed into a fresh virtualenv
    build = tmp_path / "build"
    build.mkdir()
    venv = fresh_venv(build, build_wheel(build, clean_environment()), clean_environment())
    # AND a directory holding only an ecs-cd.toml, whose one environment is on the emulator
    team = tmp_path / "team"
    team.mkdir()
    (team / "ecs-cd.toml").write_text(CONFIG.format(repository=REPOSITORY, endpoint=emulator.endpoint))
    if tf_setup.offline:  # the machine's offline null provider (see the module's docstring)
        (team / ".cache").mkdir()
        (team / ".cache" / "null-mirror").symlink_to(CACHE_DIR.resolve() / "null-mirror")
    # AND a user's PATH, on which no cdktf CLI can be found
    env = _user_environment(venv.bin)
    assert shutil.which("cdktf", path=env["PATH"]) is None
    # AND CI pushed an image and wrote its tag
    push_image(emulator.client("ecr"), "team-api", "1.0.0")
    write_tag(emulator.client("ssm"), "/api/dev/docker-image-tag", "1.0.0")
    repository_before = _repository_files()
    took: dict[str, float] = {}

    def release(*args: str) -> tuple[int, dict[str, Any], str]:
        begun = time.monotonic()
        done = subprocess.run(
            [str(venv.bin / "ecs-release"), "--json", *args],
            cwd=team,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        took[" ".join(args)] = time.monotonic() - begun
        assert "Traceback" not in done.stderr, done.stderr[-3000:]
        return done.returncode, json.loads(done.stdout), done.stderr

    # WHEN the installed ecs-release verifies dev there
    code, verified, said = release("verify", "dev")
    # THEN it found ./ecs-cd.toml and every check passed
    assert code == 0, said[-3000:]
    assert verified["problems"] == [] and verified["passed"]

    # WHEN it diffs dev
    code, diffed, said = release("diff", "dev")
    # THEN it synthesized without the cdktf CLI into ./cdktf.out and planned the new service (exit 7)
    assert code == 7, said[-3000:]
    (api,) = diffed["services"]
    assert api["service"] == "api" and api["changed"]
    assert (team / "cdktf.out" / "stacks" / "dev" / "cdk.tf.json").is_file()

    # WHEN it is told to deploy through the cdktf CLI, which this directory has not
    code, refused, said = release("deploy", "dev", "--via", "cdktf")
    # THEN it stops before Terraform, in one line naming what is missing and what to install
    assert code == 6, said[-3000:]
    assert refused["error"] == (
        f"--via cdktf runs `cdktf deploy` in a cdktf project, and there is no cdktf.json in {team} or "
        "above: deploy without --via cdktf (Terraform run directly, no cdktf CLI), or make it one (its "
        "cdktf.json, `npm install cdktf-cli@0.21.0`); nothing was applied"
    )
    ecs = emulator.client("ecs")
    assert ecs.describe_clusters(clusters=["team-dev"])["clusters"] == []

    # WHEN it deploys dev and follows the rollout
    code, deployed, said = release("deploy", "dev", "--wait", "--poll", "0.2")
    # THEN the deploy ran Terraform itself and the rollout completed
    assert code == 0, said[-3000:]
    assert (deployed["via"], deployed["stacks"]) == ("terraform", ["dev"])
    (rollout,) = deployed["rollouts"]
    assert (rollout["service"], rollout["outcome"]) == ("api", "COMPLETED"), rollout
    # AND the emulator has the service, running the image CI tagged
    (service,) = ecs.describe_services(cluster="team-dev", services=["api"])["services"]
    task = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]
    assert service["status"] == "ACTIVE"
    assert [c["image"] for c in task["containerDefinitions"]] == [f"{REPOSITORY}:1.0.0"]

    # WHEN it reports dev's status
    code, status, said = release("status", "dev")
    # THEN it shows that service, that image and tag
    assert code == 0, said[-3000:]
    (shown,) = status["services"]
    assert (shown["service"], shown["tag"], shown["images"]) == ("api", "1.0.0", [f"{REPOSITORY}:1.0.0"])
    assert shown["task_definition"] == service["taskDefinition"]

    # AND everything was written in that directory: the synthesis and local state in cdktf.out, the
    # offline Terraform setup and the deploy's work directory in .cache
    assert sorted(p.name for p in team.iterdir()) == sorted(
        ["ecs-cd.toml", "cdktf.out", *([".cache"] if (team / ".cache").exists() else [])]
    )
    assert (team / "cdktf.out" / "manifest.json").is_file()
    assert (team / "cdktf.out" / "stacks" / "dev" / "terraform.tfstate").is_file()
    if tf_setup.offline:
        assert (team / ".cache" / "terraformrc").is_file()
    # AND nothing in the repository
    assert _repository_files() == repository_before
    with capsys.disabled():
        times = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in took.items())
        print(f"\ninstalled ecs-release: {times}; in all {time.monotonic() - started:.1f} s")
