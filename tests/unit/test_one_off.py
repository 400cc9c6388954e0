"""`ecs-release run` outcomes the emulator cannot produce (moto's tasks never stop, so they have
no exit code), made with botocore's Stubber: real response shapes, the real command line."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from ecs_cd.release.aws import Aws
from ecs_cd.release.one_off import STARTED_BY
from tests.release_helpers import RELEASE_CONFIG, run_cli

CLUSTER = "arn:aws:ecs:us-east-1:123456789012:cluster/rel-local"
TD = "arn:aws:ecs:us-east-1:123456789012:task-definition/rel-local-api:7"
TASK = "arn:aws:ecs:us-east-1:123456789012:task/rel-local/0f1e2d"
NETWORK = {"awsvpcConfiguration": {"subnets": ["subnet-0a1b2c3d"], "securityGroups": ["sg-0a1b2c3d"]}}


@pytest.fixture()
def stubs(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Stubber]]:
    clients = {
        name: boto3.client(name, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
        for name in ("ecs", "logs")
    }
    stubbers = {name: Stubber(client) for name, client in clients.items()}
    monkeypatch.setattr(Aws, "client", lambda self, service: clients[service])
    for stubber in stubbers.values():
        stubber.activate()
    yield stubbers
    for stubber in stubbers.values():
        stubber.assert_no_pending_responses()
        stubber.deactivate()


def _service() -> dict[str, Any]:
    return {
        "serviceName": "api",
        "clusterArn": CLUSTER,
        "taskDefinition": TD,
        "launchType": "FARGATE",
        "networkConfiguration": NETWORK,
        "deployments": [],
    }


def _task(status: str, **container: Any) -> dict[str, Any]:
    task: dict[str, Any] = {
        "taskArn": TASK,
        "lastStatus": status,
        "containers": [{"name": "api", **container}],
    }
    if status == "STOPPED":
        task["stoppedReason"] = "Essential container in task exited"
    return task


def script(stubs: dict[str, Stubber], *statuses: dict[str, Any], lines: list[str]) -> None:
    ecs = stubs["ecs"]
    ecs.add_response("describe_services", {"services": [_service()], "failures": []})
    ecs.add_response(
        "run_task",
        {"tasks": [_task("PROVISIONING")], "failures": []},
        {
            "cluster": CLUSTER,
            "taskDefinition": TD,
            "count": 1,
            "startedBy": STARTED_BY,
            "overrides": {"containerOverrides": [{"name": "api", "command": ["rake", "db:migrate"]}]},
            "propagateTags": "TASK_DEFINITION",
            "launchType": "FARGATE",
            "networkConfiguration": NETWORK,
        },
    )
    for status in statuses:
        ecs.add_response("describe_tasks", {"tasks": [status], "failures": []})
    stubs["logs"].add_response(
        "filter_log_events",
        {
            "events": [
                {
                    "logStreamName": "api/api/0f1e2d",
                    "timestamp": 1_700_000_000_000 + i,
                    "message": m,
                    "eventId": str(i),
                }
                for i, m in enumerate(lines)
            ]
        },
        {"logGroupName": "/ecs/rel/local/api", "logStreamNames": ["api/api/0f1e2d"]},
    )


def run(tmp_path: Path, *args: str) -> Any:
    config = tmp_path / "c.toml"
    config.write_text(RELEASE_CONFIG)
    return run_cli(config, None, "run", "local", "api", "--poll", "0.05", *args, "--", "rake", "db:migrate")


def test_the_commands_exit_code_is_the_runs(stubs: dict[str, Stubber], tmp_path: Path) -> None:
    # GIVEN the migration fails with exit 3, after saying why
    script(
        stubs, _task("RUNNING"), _task("STOPPED", exitCode=3), lines=["migrating", "error: relation exists"]
    )
    # WHEN it is run through the service's task definition
    result = run(tmp_path)
    # THEN the command's exit code is ecs-release's, with the task's last lines and its reason
    assert result.exit_code == 3, result.stdout + result.stderr
    assert result.json["ok"] is False and result.json["container_exit_code"] == 3
    assert result.json["outcome"] == "exited with 3"
    assert result.json["stopped_reason"] == "Essential container in task exited"
    assert [line.split(" ", 2)[2] for line in result.json["last_lines"]] == [
        "migrating",
        "error: relation exists",
    ]
    assert "  2023-11-14T22:13:20.001Z api/0f1e2d error: relation exists" in result.stderr.splitlines()


def test_success_is_exit_0(stubs: dict[str, Stubber], tmp_path: Path) -> None:
    script(stubs, _task("STOPPED", exitCode=0), lines=["done"])
    result = run(tmp_path)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert (result.json["ok"], result.json["task_definition"]) == (True, TD)


def test_a_task_that_never_ran_the_command_is_exit_1(stubs: dict[str, Stubber], tmp_path: Path) -> None:
    script(stubs, _task("STOPPED", reason="CannotPullContainerError: pull access denied"), lines=[])
    result = run(tmp_path)
    assert result.exit_code == 1
    assert result.json["outcome"] == (
        "stopped without an exit code: Essential container in task exited "
        "CannotPullContainerError: pull access denied"
    )
