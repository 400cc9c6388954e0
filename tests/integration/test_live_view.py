"""The live view of a rollout (issue 15): on a terminal, one table of the deployments redrawn at
each poll; in CI or through a pipe, plain lines. Run on the emulator, on a pseudo-terminal."""

from __future__ import annotations

import datetime as dt
import os
import re
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console

from devkit.emulator import Emulator
from release.live import deployments_view

PROJECT_DIR = Path(__file__).resolve().parents[2]
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
CONFIG = """
[project]
name = "lv"

[services.api]
repository = "123456789012.dkr.ecr.us-east-1.amazonaws.com/lv-api"

[environments.local]
region = "us-east-1"
emulator_endpoint = "http://127.0.0.1:1"
network = { use_default_vpc = true }
state = { backend = "local" }
"""


def test_the_view_shows_each_deployment_and_the_latest_events() -> None:
    # GIVEN a service in the middle of a rollout
    svc = {
        "serviceName": "api",
        "deployments": [
            {
                "id": "ecs-svc/new",
                "status": "PRIMARY",
                "rolloutState": "IN_PROGRESS",
                "runningCount": 1,
                "desiredCount": 2,
                "pendingCount": 1,
                "failedTasks": 0,
                "taskDefinition": "arn:aws:ecs:us-east-1:123456789012:task-definition/lv-local-api:2",
            },
            {
                "id": "ecs-svc/old",
                "status": "ACTIVE",
                "rolloutState": "COMPLETED",
                "runningCount": 2,
                "desiredCount": 2,
                "taskDefinition": "arn:aws:ecs:us-east-1:123456789012:task-definition/lv-local-api:1",
            },
        ],
        "events": [
            {"createdAt": dt.datetime(2026, 11, 23, 18, 0, 5), "message": "(service api) has started 1 tasks"}
        ],
    }
    # WHEN drawn
    console = Console(record=True, width=140)
    console.print(deployments_view(svc, following="ecs-svc/new", elapsed=12.4))
    text = console.export_text()
    # THEN the followed deployment is marked, with its counts and revision, beside the old one and the event
    assert "api: 12 s" in text
    row = next(line for line in text.splitlines() if "> ecs-svc/new" in line)
    assert all(part in row for part in ("PRIMARY", "IN_PROGRESS", "1/2", "lv-local-api:2"))
    assert any("ecs-svc/old" in line and "lv-local-api:1" in line for line in text.splitlines())
    assert "18:00:05 (service api) has started 1 tasks" in text


@pytest.fixture(scope="module")
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    with Emulator(running_count=1, log_path=tmp_path_factory.mktemp("moto") / "moto.log") as running:
        ecs, ec2 = running.client("ecs"), running.client("ec2")
        subnets = [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]][:1]
        group = ec2.describe_security_groups()["SecurityGroups"][0]["GroupId"]
        ecs.create_cluster(clusterName="lv-local")
        revision = ecs.register_task_definition(
            family="lv-local-api",
            networkMode="awsvpc",
            requiresCompatibilities=["FARGATE"],
            cpu="256",
            memory="512",
            containerDefinitions=[{"name": "api", "image": "nginx:1.27", "essential": True}],
        )["taskDefinition"]["taskDefinitionArn"]
        ecs.create_service(
            cluster="lv-local",
            serviceName="api",
            taskDefinition=revision,
            desiredCount=1,
            launchType="FARGATE",
            networkConfiguration={"awsvpcConfiguration": {"subnets": subnets, "securityGroups": [group]}},
        )
        yield running


def _environment(emu: Emulator, config: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "NO_COLOR")}
    return {**env, "ECS_CD_CONFIG": str(config), "ECS_CD_EMULATOR_ENDPOINT": emu.endpoint, "COLUMNS": "160"}


def _redeploy() -> list[str]:
    return [sys.executable, "-m", "release", "redeploy", "local", "api", "--wait", "--poll", "0.3"]


def test_a_terminal_gets_the_live_table(emu: Emulator, tmp_path: Path) -> None:
    config = tmp_path / "ecs-cd.toml"
    config.write_text(CONFIG)
    # GIVEN `redeploy --wait` on a terminal, outside CI
    controller, terminal = os.openpty()
    process = subprocess.Popen(
        _redeploy(),
        cwd=PROJECT_DIR,
        env=_environment(emu, config),
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
    )
    os.close(terminal)
    seen = b""
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            ready, _, _ = select.select([controller], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(controller, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                seen += chunk
            elif process.poll() is not None:
                break
        code = process.wait(timeout=30)
    finally:
        os.close(controller)
    text = ANSI.sub("", seen.decode(errors="replace"))
    # THEN it drew the deployments table, marking the one it followed, and ended well
    assert code == 0, text
    assert "deployment" in text and "rollout" in text and "revision" in text, text
    assert re.search(r"> ecs-svc/\d+", text), text
    assert "completed" in text
    # AND no progress line was printed instead of the view
    assert "IN_PROGRESS running" not in text


def test_a_pipe_gets_plain_lines(emu: Emulator, tmp_path: Path) -> None:
    config = tmp_path / "ecs-cd.toml"
    config.write_text(CONFIG)
    done = subprocess.run(
        _redeploy(),
        cwd=PROJECT_DIR,
        env=_environment(emu, config),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "following deployment" in done.stdout and "completed" in done.stdout
    assert "\x1b[" not in done.stdout and "┃" not in done.stdout and "│" not in done.stdout
