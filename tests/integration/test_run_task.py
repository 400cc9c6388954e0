"""`ecs-release run` on the emulator (issue 15): RunTask gets the service's revision, network and
launch type with the command override, and the run follows the task until it stops. moto walks
a task through its states to STOPPED with exit code 0 (it runs nothing, so the lines its
container would write to its awslogs stream are written here with PutLogEvents once the task
exists); other exit codes and stop reasons are tested with Stubber in tests/unit/test_one_off.py."""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from devkit.emulator import Emulator
from ecs_cd.release import one_off
from ecs_cd.release.aws import Aws
from ecs_cd.release.one_off import STARTED_BY, OneOff
from tests.release_helpers import readme_sample, run_cli

CONFIG = """
[project]
name = "rt"

[services.api]
repository = "123456789012.dkr.ecr.us-east-1.amazonaws.com/rt-api"

[environments.local]
region = "us-east-1"
emulator_endpoint = "http://127.0.0.1:1"
network = { use_default_vpc = true }
state = { backend = "local" }
"""


GROUP = "/ecs/rt/local/api"
COMMAND = ["./manage.py", "showmigrations", "accounts"]
# What showmigrations prints, as the awslogs driver would send it (moto runs no container).
PRINTED = ["accounts", " [X] 0041_profile_avatar", " [X] 0042_email_unique"]


def _write_the_containers_lines(monkeypatch: pytest.MonkeyPatch, logs: Any) -> None:
    """Once RunTask returned the task, its container "prints" PRINTED to its awslogs stream."""
    real_start = one_off.start

    def start(aws: Aws, service: dict[str, Any], container: str, command: Sequence[str], **kw: Any) -> OneOff:
        started = real_start(aws, service, container, command, **kw)
        stream = f"api/api/{started.task_id}"
        logs.create_log_stream(logGroupName=GROUP, logStreamName=stream)
        now = int(time.time() * 1000)
        events = [{"timestamp": now + i, "message": text} for i, text in enumerate(PRINTED)]
        logs.put_log_events(logGroupName=GROUP, logStreamName=stream, logEvents=events)
        return started

    monkeypatch.setattr(one_off, "start", start)


def test_run_starts_the_services_revision_with_the_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Emulator(running_count=1, log_path=tmp_path / "moto.log") as emu:
        # GIVEN the api service, deployed (here with boto3) on revision 1 in its own network
        ecs, ec2 = emu.client("ecs"), emu.client("ec2")
        subnets = [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]][:1]
        ecs.create_cluster(clusterName="rt-local")
        revision = ecs.register_task_definition(
            family="rt-local-api",
            networkMode="awsvpc",
            requiresCompatibilities=["FARGATE"],
            cpu="256",
            memory="512",
            containerDefinitions=[{"name": "api", "image": "nginx:1.27", "essential": True}],
        )["taskDefinition"]["taskDefinitionArn"]
        group = ec2.describe_security_groups()["SecurityGroups"][0]["GroupId"]
        network = {"awsvpcConfiguration": {"subnets": subnets, "securityGroups": [group]}}
        ecs.create_service(
            cluster="rt-local",
            serviceName="api",
            taskDefinition=revision,
            desiredCount=1,
            launchType="FARGATE",
            networkConfiguration=network,
        )
        emu.client("logs").create_log_group(logGroupName=GROUP)
        _write_the_containers_lines(monkeypatch, emu.client("logs"))
        config = tmp_path / "ecs-cd.toml"
        config.write_text(CONFIG)
        # WHEN a one-off command runs
        run = run_cli(
            config,
            emu.endpoint,
            "run",
            "local",
            "api",
            "--timeout",
            "60",
            "--poll",
            "0.2",
            "--",
            *COMMAND,
        )
        # THEN ECS ran that revision with the command, started by ecs-release
        (task,) = ecs.describe_tasks(cluster="rt-local", tasks=[run.json["task"]])["tasks"]
        assert task["taskDefinitionArn"] == revision
        assert task["overrides"]["containerOverrides"] == [{"name": "api", "command": COMMAND}]
        assert task["startedBy"] == STARTED_BY
        assert task["launchType"] == "FARGATE"
        # AND the run followed it to STOPPED and took the container's exit code as its own
        assert run.exit_code == 0, run.stdout + run.stderr
        assert (run.json["last_status"], run.json["outcome"]) == ("STOPPED", "exited with 0")
        task_id = task["taskArn"].rsplit("/", 1)[1]
        assert f"task {task_id}: STOPPED" in run.stderr
        # AND it printed the container's lines from its awslogs stream, oldest first
        assert [line.split(" ", 2)[2] for line in run.json["last_lines"]] == PRINTED
        # AND the docs' sample is this run's human output (stderr with --json), but for the
        # times and the task id, which moto draws at random
        assert task_id in run.stderr
        assert [_as_sample(line) for line in run.stderr.splitlines()] == [
            _as_sample(line) for line in readme_sample("run-sample")
        ]


def _as_sample(line: str) -> str:
    line = re.sub(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z", "<time>", line.strip())
    return re.sub(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", "<task id>", line)
