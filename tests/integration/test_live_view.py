"""The live view of a rollout (issue 15): on a terminal, one table of the deployments redrawn at
each poll; in CI or through a pipe, plain lines. Run on the emulator, on a pseudo-terminal."""

from __future__ import annotations

import datetime as dt
import fcntl
import io
import os
import re
import select
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console

from devkit.emulator import Emulator
from ecs_cd.release.live import deployments_view

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
    console = Console(record=True, width=140, height=40, file=io.StringIO())
    console.print(deployments_view(svc, following="ecs-svc/new", elapsed=12.4))
    text = console.export_text()
    # THEN the followed deployment is marked, with its counts and revision, beside the old one and the event
    assert "api: 12 s" in text
    row = next(line for line in text.splitlines() if "> ecs-svc/new" in line)
    assert all(part in row for part in ("PRIMARY", "IN_PROGRESS", "1/2", "lv-local-api:2"))
    assert any("ecs-svc/old" in line and "lv-local-api:1" in line for line in text.splitlines())
    assert "18:00:05 (service api) has started 1 tasks" in text


def _rollout(new_id: str, family: str) -> dict[str, object]:
    return {
        "serviceName": "api",
        "deployments": [
            {
                "id": new_id,
                "status": "PRIMARY",
                "rolloutState": "IN_PROGRESS",
                "runningCount": 1,
                "desiredCount": 2,
                "pendingCount": 1,
                "failedTasks": 0,
                "taskDefinition": f"arn:aws:ecs:us-east-1:123456789012:task-definition/{family}:12",
            },
            {
                "id": "ecs-svc/1234567890123456789",
                "status": "ACTIVE",
                "rolloutState": "COMPLETED",
                "runningCount": 2,
                "desiredCount": 2,
                "taskDefinition": f"arn:aws:ecs:us-east-1:123456789012:task-definition/{family}:11",
            },
        ],
    }


@pytest.mark.parametrize("width", [80, 200])
def test_ids_and_revisions_are_whole_at_any_width(width: int) -> None:
    # GIVEN a rollout with ECS's full-length deployment ids and a long task family
    new_id, family = "ecs-svc/5432109876543210987", "payments-staging-settlement-worker"
    # WHEN drawn at 80 and at 200 columns
    console = Console(record=True, width=width, height=40, file=io.StringIO())
    console.print(deployments_view(_rollout(new_id, family), following=new_id, elapsed=3))
    lines = console.export_text().splitlines()
    # THEN nothing is cut and no line is wider than the terminal
    assert not any("…" in line for line in lines), lines
    assert all(len(line.rstrip()) <= width for line in lines), lines
    # AND the followed id and its revision stand whole on one line each (a table row when it fits)
    marked = [line for line in lines if f"> {new_id}" in line]
    assert len(marked) == 1, lines
    assert any(f"{family}:12" in line for line in lines) and any(f"{family}:11" in line for line in lines)
    if width == 200:
        assert "┃ deployment" in lines[2] and f"{family}:12" in marked[0] and "IN_PROGRESS" in marked[0]
    else:
        assert "PRIMARY" in marked[0] and "IN_PROGRESS" in marked[0]
        after = lines[lines.index(marked[0]) + 1 :][:2]
        assert after[0].split() == ["revision", f"{family}:12"]
        assert after[1].split() == ["running", "1/2", "pending", "1", "failed", "0"]


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


def _environment(emu: Emulator, config: Path, **extra: str) -> dict[str, str]:
    # Nothing of the terminal this suite happens to run under: no COLUMNS or LINES (rich would take
    # them over the terminal's size), no CI or NO_COLOR; TERM is set by the test that needs one.
    unset = ("CI", "NO_COLOR", "COLUMNS", "LINES", "TERM")
    env = {k: v for k, v in os.environ.items() if k not in unset}
    return {**env, "ECS_CD_CONFIG": str(config), "ECS_CD_EMULATOR_ENDPOINT": emu.endpoint, **extra}


def _redeploy() -> list[str]:
    return [sys.executable, "-m", "ecs_cd.release", "redeploy", "local", "api", "--wait", "--poll", "0.3"]


def _on_a_terminal(argv: list[str], env: dict[str, str], *, columns: int) -> tuple[int, str]:
    """Run ``argv`` on a new pseudo-terminal of ``columns`` x 40; its exit code and what it drew."""
    controller, terminal = os.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    process = subprocess.Popen(
        argv, cwd=PROJECT_DIR, env=env, stdin=terminal, stdout=terminal, stderr=terminal
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
    return code, seen.decode(errors="replace")


@pytest.mark.parametrize("columns", [80, 200])
def test_a_terminal_gets_the_live_view_with_whole_ids_and_revisions(
    emu: Emulator, tmp_path: Path, columns: int
) -> None:
    config = tmp_path / "ecs-cd.toml"
    config.write_text(CONFIG)
    # GIVEN `redeploy --wait` on a terminal of a known size, outside CI
    env = _environment(emu, config, TERM="xterm-256color")
    # WHEN it follows the rollout
    code, drawn = _on_a_terminal(_redeploy(), env, columns=columns)
    text = ANSI.sub("", drawn).replace("\r\n", "\n")
    # THEN it ended well and drew the view with colours (a terminal that has them)
    assert code == 0, text
    assert "\x1b[" in drawn, text
    assert "completed" in text
    # AND no progress line was printed instead of the view
    assert "IN_PROGRESS running" not in text
    # AND the followed deployment's id and each revision are whole, on one line, never cut
    assert "…" not in text, text
    marked = re.findall(r"> (ecs-svc/\d+)", text)
    assert marked, text
    followed = marked[-1]
    assert all(m == followed for m in marked), text
    assert re.search(r"lv-local-api:\d+", text), text
    if columns >= 120:
        # a table on a wide terminal: header, and the followed row with its revision
        assert re.search(r"deployment\s*┃\s*status\s*┃\s*rollout", text), text
        assert re.search(rf"│ > {re.escape(followed)} +│ PRIMARY +│ .*│ lv-local-api:\d+ +│", text), text
    else:
        # two lines a deployment at 80 columns: the marked id with its state, then its revision and tasks
        assert re.search(rf"^> {re.escape(followed)}  PRIMARY  \w+", text, re.MULTILINE), text
        state = r"^    revision lv-local-api:\d+  running \d+/\d+  pending \d+  failed \d+$"
        assert re.search(state, text, re.MULTILINE), text
        assert not any(len(line) > columns for line in text.splitlines()), text


def test_a_dumb_terminal_gets_plain_lines_without_colour(emu: Emulator, tmp_path: Path) -> None:
    config = tmp_path / "ecs-cd.toml"
    config.write_text(CONFIG)
    # GIVEN a terminal that cannot move the cursor nor show colours (TERM=dumb)
    env = _environment(emu, config, TERM="dumb")
    # WHEN `redeploy --wait` follows the rollout there
    code, drawn = _on_a_terminal(_redeploy(), env, columns=80)
    # THEN it prints plain progress lines, no escape codes
    assert code == 0, drawn
    assert "\x1b[" not in drawn, drawn
    assert "following deployment" in drawn and "completed" in drawn


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
