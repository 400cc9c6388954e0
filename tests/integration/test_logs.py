"""`ecs-release logs` on the emulator (issue 15): lines written with PutLogEvents, as the awslogs
driver names its streams, come back interleaved by time with their container and task."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from devkit.emulator import Emulator
from ecs_cd.release import errors
from tests.release_helpers import readme_sample, run_cli

PROJECT_DIR = Path(__file__).resolve().parents[2]
GROUP = "/ecs/lg/local/api"
# Two tasks of the service, with ids as ECS gives them.
ONE, TWO = "4f1c9e2a7b3d4e5f8a6b0c1d2e3f4a5b", "9b8a7c6d5e4f40312a1b2c3d4e5f6a7b"
CONFIG = """
[project]
name = "lg"

[services.api]
repository = "123456789012.dkr.ecr.us-east-1.amazonaws.com/lg-api"

[services.api.containers.agent]
image = "public.ecr.aws/datadog/agent:7.60.0"

[services.quiet]
repository = "123456789012.dkr.ecr.us-east-1.amazonaws.com/lg-quiet"

[environments.local]
region = "us-east-1"
emulator_endpoint = "http://127.0.0.1:1"
network = { use_default_vpc = true }
state = { backend = "local" }
"""


def now_ms(offset_seconds: float = 0) -> int:
    return int((time.time() + offset_seconds) * 1000)


@pytest.fixture(scope="module")
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    with Emulator(running_count=1, log_path=tmp_path_factory.mktemp("moto") / "moto.log") as running:
        logs = running.client("logs")
        logs.create_log_group(logGroupName=GROUP)
        # What the awslogs driver writes: <prefix = container>/<container>/<task id>, per task
        written = {
            f"api/api/{ONE}": [(-300, "listening on :8080"), (-100, "GET /health 200")],
            f"api/api/{TWO}": [(-200, "listening on :8080"), (-30, "GET /orders 500")],
            f"agent/agent/{ONE}": [(-250, "agent ready")],
        }
        for stream, events in written.items():
            logs.create_log_stream(logGroupName=GROUP, logStreamName=stream)
            logs.put_log_events(
                logGroupName=GROUP,
                logStreamName=stream,
                logEvents=[{"timestamp": now_ms(at), "message": text} for at, text in events],
            )
        yield running


@pytest.fixture()
def config(tmp_path: Path) -> Path:
    path = tmp_path / "ecs-cd.toml"
    path.write_text(CONFIG)
    return path


def test_every_containers_lines_interleaved_by_time(emu: Emulator, config: Path) -> None:
    # WHEN the last 10 minutes are read
    run = run_cli(config, emu.endpoint, "logs", "local", "api", json_mode=False)
    # THEN every line is there once, oldest first, with its container and task
    assert run.exit_code == 0, run.stderr
    shown = [line.split(" ", 1)[1] for line in run.stdout.splitlines()]
    assert shown == [
        f"api/{ONE} listening on :8080",
        f"agent/{ONE} agent ready",
        f"api/{TWO} listening on :8080",
        f"api/{ONE} GET /health 200",
        f"api/{TWO} GET /orders 500",
    ]
    # AND the docs' sample is this output (the times aside)
    assert [_timeless(line) for line in run.stdout.splitlines()] == [
        _timeless(line) for line in readme_sample("logs-sample")
    ]


def _timeless(line: str) -> str:
    return re.sub(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z ", "<time> ", line.strip())


def test_one_container_and_a_shorter_window(emu: Emulator, config: Path) -> None:
    # WHEN only the app's lines of the last 2 minutes are asked for, as JSON
    run = run_cli(config, emu.endpoint, "logs", "local", "api", "--container", "api", "--since", "2m")
    assert run.exit_code == 0, run.stderr
    # THEN the two newest app lines, each with its time, container and task
    events = run.json["events"]
    assert [(e["container"], e["task"], e["message"]) for e in events] == [
        ("api", ONE, "GET /health 200"),
        ("api", TWO, "GET /orders 500"),
    ]
    assert events[0]["timestamp_ms"] < events[1]["timestamp_ms"]
    assert run.json["log_group"] == GROUP


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--container", "db"), "--container db: no container of api (containers: api, agent)"),
        (
            ("--since", "ten minutes"),
            "'ten minutes' is not a duration: a number with s, m, h or d (e.g. 10m)",
        ),
        (("--since", "0s"), "'0s' is not a duration from 1s to 3653d"),
    ],
)
def test_bad_input_is_one_line(
    emu: Emulator,
    config: Path,
    args: tuple[str, ...],
    message: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from ecs_cd.release.cli import main

    # WHEN the command line is given a bad value (as a pipeline's shell would run it)
    monkeypatch.setenv("ECS_CD_EMULATOR_ENDPOINT", emu.endpoint)
    code = main(["--json", "--config", str(config), "logs", "local", "api", *args])
    # THEN one JSON document says what is wrong, exit 2
    assert code == errors.BAD_INPUT
    assert message in json.loads(capsys.readouterr().out)["error"]


def test_a_service_never_deployed_says_so(emu: Emulator, config: Path) -> None:
    run = run_cli(config, emu.endpoint, "logs", "local", "quiet")
    assert run.exit_code == errors.BAD_INPUT
    assert run.json["error"] == "log group /ecs/lg/local/quiet does not exist: deploy the service first"


def test_follow_prints_new_lines_until_ctrl_c(emu: Emulator, config: Path) -> None:
    # GIVEN `logs --follow` running as a reader would run it
    env = {**os.environ, "ECS_CD_CONFIG": str(config), "ECS_CD_EMULATOR_ENDPOINT": emu.endpoint, "CI": "true"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ecs_cd.release",
            "logs",
            "local",
            "api",
            "--since",
            "1m",
            "--follow",
            "--poll",
            "0.3",
        ],
        cwd=PROJECT_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.endswith(f"api/{TWO} GET /orders 500\n"), first
        # WHEN a task writes a new line
        emu.client("logs").put_log_events(
            logGroupName=GROUP,
            logStreamName=f"api/api/{TWO}",
            logEvents=[{"timestamp": now_ms(), "message": "GET /orders 200"}],
        )
        # THEN it is printed, once
        assert process.stdout.readline().endswith(f"api/{TWO} GET /orders 200\n")
        # AND Ctrl-C ends the follow with exit 0 and no traceback
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, err
    assert "Traceback" not in err and "GET /orders 200" not in out
