"""Rollout outcomes the emulator cannot produce (moto never fails or rolls back a
deployment), made with botocore's Stubber: real ECS response shapes, real client, real
command line; only the ECS responses are scripted."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from ecs_cd.release.aws import Aws
from ecs_cd.release.rollout import Outcome, watch
from tests.release_helpers import RELEASE_CONFIG, run_cli

CLUSTER, SERVICE = "rel-local", "api"
OLD_TD = "arn:aws:ecs:us-east-1:123456789012:task-definition/rel-local-api:1"
NEW_TD = "arn:aws:ecs:us-east-1:123456789012:task-definition/rel-local-api:2"
NOW = dt.datetime(2026, 11, 22, tzinfo=dt.UTC)


def deployment(id_: str, status: str, state: str, td: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": id_,
        "status": status,
        "rolloutState": state,
        "taskDefinition": td,
        "desiredCount": 1,
        "runningCount": extra.pop("running", 0),
        "pendingCount": 0,
        "failedTasks": extra.pop("failed", 0),
        "createdAt": NOW,
        **extra,
    }


def services(*deployments: dict[str, Any], events: tuple[str, ...] = ()) -> dict[str, Any]:
    primary = next(d for d in deployments if d["status"] == "PRIMARY")
    return {
        "services": [
            {
                "serviceName": SERVICE,
                "clusterArn": f"arn:aws:ecs:us-east-1:123456789012:cluster/{CLUSTER}",
                "status": "ACTIVE",
                "taskDefinition": primary["taskDefinition"],
                "desiredCount": 1,
                "runningCount": 1,
                "deployments": list(deployments),
                "events": [
                    {"id": str(i), "createdAt": NOW, "message": message} for i, message in enumerate(events)
                ],
            }
        ],
        "failures": [],
    }


DESCRIBE = {"cluster": CLUSTER, "services": [SERVICE]}
OLD = deployment("ecs-svc/old", "PRIMARY", "COMPLETED", OLD_TD, running=1)


@pytest.fixture()
def stub(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stubber]:
    """ECS's stubbed client; CloudWatch Logs' (for the stopped tasks' last lines) is its ``logs``."""
    clients = {
        name: boto3.client(name, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
        for name in ("ecs", "logs")
    }
    stubber, logs = Stubber(clients["ecs"]), Stubber(clients["logs"])
    stubber.logs = logs
    monkeypatch.setattr(Aws, "client", lambda self, service: clients[service])
    with stubber, logs:
        yield stubber
    stubber.assert_no_pending_responses()
    logs.assert_no_pending_responses()


def stopped_task(stub: Stubber, deployment_id: str) -> None:
    arn = "arn:aws:ecs:us-east-1:123456789012:task/rel-local/abc"
    stub.add_response(
        "list_tasks",
        {"taskArns": [arn]},
        {"cluster": CLUSTER, "serviceName": SERVICE, "desiredStatus": "STOPPED", "maxResults": 20},
    )
    stub.add_response(
        "describe_tasks",
        {
            "tasks": [
                {
                    "taskArn": arn,
                    "startedBy": deployment_id,
                    "stoppedReason": "Essential container in task exited",
                    "containers": [
                        {"name": "api", "exitCode": 1, "reason": "CannotPullContainerError: not found"}
                    ],
                }
            ],
            "failures": [],
        },
        {"cluster": CLUSTER, "tasks": [arn]},
    )
    # and what the task wrote before it stopped (the awslogs stream of its one container)
    stream = "api/api/abc"
    stub.logs.add_response(
        "filter_log_events",
        {
            "events": [
                {
                    "logStreamName": stream,
                    "timestamp": 1_700_000_000_000,
                    "message": "starting",
                    "eventId": "1",
                },
                {
                    "logStreamName": stream,
                    "timestamp": 1_700_000_001_000,
                    "message": "boom: no DB",
                    "eventId": "2",
                },
            ]
        },
        {"logGroupName": "/ecs/rel/local/api", "logStreamNames": [stream]},
    )


def start_redeploy(stub: Stubber) -> None:
    stub.add_response("describe_services", services(OLD), DESCRIBE)
    new = deployment("ecs-svc/new", "PRIMARY", "IN_PROGRESS", OLD_TD)
    old_active = {**OLD, "status": "ACTIVE"}
    stub.add_response(
        "update_service",
        {"service": services(new, old_active)["services"][0]},
        {"cluster": CLUSTER, "service": SERVICE, "forceNewDeployment": True},
    )
    stub.add_response("describe_services", services(new, old_active), DESCRIBE)


def redeploy(tmp_path: Path, *extra: str) -> Any:
    config = tmp_path / "c.toml"
    config.write_text(RELEASE_CONFIG)
    return run_cli(config, None, "redeploy", "local", SERVICE, "--wait", "--poll", "0.05", *extra)


def test_failed_rollout_exits_1_with_ecs_reasons(stub: Stubber, tmp_path: Path) -> None:
    # GIVEN ECS marks our deployment FAILED (the circuit breaker gave up on it)
    start_redeploy(stub)
    failed = deployment(
        "ecs-svc/new",
        "PRIMARY",
        "FAILED",
        OLD_TD,
        failed=3,
        rolloutStateReason="ECS deployment circuit breaker: tasks failed to start.",
    )
    stub.add_response("describe_services", services(failed, {**OLD, "status": "ACTIVE"}), DESCRIBE)
    stopped_task(stub, "ecs-svc/new")
    # WHEN redeploy --wait follows it
    result = redeploy(tmp_path)
    # THEN exit 1, the reason and the stopped task's reasons are reported
    assert result.exit_code == 1
    rollout = result.json["rollout"]
    assert rollout["outcome"] == "FAILED"
    assert rollout["message"] == "ECS deployment circuit breaker: tasks failed to start."
    assert rollout["stopped_tasks"][0]["containers"][0]["reason"] == "CannotPullContainerError: not found"
    assert result.json["error"] == "api: FAILED: ECS deployment circuit breaker: tasks failed to start."
    assert "CannotPullContainerError: not found" in result.stderr
    # AND next to the reasons, the last lines the task wrote
    assert rollout["stopped_tasks"][0]["last_lines"] == [
        "2023-11-14T22:13:20.000Z api/abc starting",
        "2023-11-14T22:13:21.000Z api/abc boom: no DB",
    ]
    assert "    2023-11-14T22:13:21.000Z api/abc boom: no DB" in result.stderr.splitlines()


def test_rolled_back_deployment_is_not_reported_as_success(stub: Stubber, tmp_path: Path) -> None:
    # GIVEN the circuit breaker rolled back: our deployment is gone, the old one is PRIMARY
    # and the service is stable again (a "services stable" waiter would call this success)
    start_redeploy(stub)
    stub.add_response(
        "describe_services",
        services(OLD, events=("(service api) rolling back to deployment ecs-svc/old.",)),
        DESCRIBE,
    )
    stopped_task(stub, "ecs-svc/new")
    result = redeploy(tmp_path)
    assert result.exit_code == 1
    assert result.json["rollout"]["outcome"] == "ROLLED_BACK"
    assert f"the service now runs {OLD_TD}" in result.json["rollout"]["message"]
    assert result.json["rollout"]["events"] == ["(service api) rolling back to deployment ecs-svc/old."]


def test_completed_rollout_exits_0(stub: Stubber, tmp_path: Path) -> None:
    start_redeploy(stub)
    done = deployment("ecs-svc/new", "PRIMARY", "COMPLETED", OLD_TD, running=1)
    stub.add_response("describe_services", services(done), DESCRIBE)
    result = redeploy(tmp_path)
    assert result.exit_code == 0, result.stdout
    assert result.json["rollout"]["outcome"] == "COMPLETED"
    assert "IN_PROGRESS running 0/1" in result.stderr  # live progress was shown


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def _watch(stub: Stubber, timeout: float = 60) -> Any:
    clock = FakeClock()
    lines: list[str] = []
    result = watch(
        Aws(region="us-east-1"),
        CLUSTER,
        SERVICE,
        "ecs-svc/new",
        timeout=timeout,
        poll_interval=5,
        progress=lines.append,
        clock=clock,
        sleep=clock.sleep,
    )
    return result, lines, clock


def test_stuck_rollout_times_out(stub: Stubber) -> None:
    # GIVEN a deployment that never gets a task running
    stuck = deployment("ecs-svc/new", "PRIMARY", "IN_PROGRESS", NEW_TD)
    for _ in range(3):
        stub.add_response("describe_services", services(stuck, {**OLD, "status": "ACTIVE"}), DESCRIBE)
    stub.add_response(
        "list_tasks",
        {"taskArns": []},
        {"cluster": CLUSTER, "serviceName": SERVICE, "desiredStatus": "STOPPED", "maxResults": 20},
    )
    # WHEN watched with a 10 s timeout THEN it times out after polls at 0, 5 and 10 s
    result, lines, clock = _watch(stub, timeout=10)
    assert result.outcome is Outcome.TIMED_OUT
    assert clock.now == 10
    assert "did not complete within 10 s" in result.message
    assert lines == ["api: ecs-svc/new IN_PROGRESS running 0/1 pending 0 failed tasks 0"]


def test_other_task_definition_becoming_primary_is_a_rollback(stub: Stubber) -> None:
    ours = deployment("ecs-svc/new", "ACTIVE", "IN_PROGRESS", NEW_TD)
    stub.add_response("describe_services", services(OLD, ours), DESCRIBE)
    stub.add_response(
        "list_tasks",
        {"taskArns": []},
        {"cluster": CLUSTER, "serviceName": SERVICE, "desiredStatus": "STOPPED", "maxResults": 20},
    )
    result, _, _ = _watch(stub)
    assert result.outcome is Outcome.ROLLED_BACK
    assert f"ecs-svc/old runs {OLD_TD} instead" in result.message


def test_a_newer_deployment_of_the_same_revision_supersedes(stub: Stubber) -> None:
    ours = deployment("ecs-svc/new", "ACTIVE", "IN_PROGRESS", OLD_TD)
    newer = deployment("ecs-svc/newer", "PRIMARY", "IN_PROGRESS", OLD_TD)
    stub.add_response("describe_services", services(newer, ours), DESCRIBE)
    stub.add_response(
        "list_tasks",
        {"taskArns": []},
        {"cluster": CLUSTER, "serviceName": SERVICE, "desiredStatus": "STOPPED", "maxResults": 20},
    )
    result, _, _ = _watch(stub)
    assert result.outcome is Outcome.SUPERSEDED
    assert not result.ok


def test_stuck_rollout_exits_1_after_the_timeout(
    stub: Stubber, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a redeploy whose deployment never completes, and a clock the test controls
    import functools

    import ecs_cd.release.follow

    clock = FakeClock()
    monkeypatch.setattr(
        ecs_cd.release.follow, "watch", functools.partial(watch, clock=clock, sleep=clock.sleep)
    )
    start_redeploy(stub)  # the first poll (t=0) sees IN_PROGRESS
    stuck = deployment("ecs-svc/new", "PRIMARY", "IN_PROGRESS", OLD_TD)
    stub.add_response("describe_services", services(stuck, {**OLD, "status": "ACTIVE"}), DESCRIBE)
    stub.add_response(
        "list_tasks",
        {"taskArns": []},
        {"cluster": CLUSTER, "serviceName": SERVICE, "desiredStatus": "STOPPED", "maxResults": 20},
    )
    # WHEN it waits with --timeout 5 and --poll 5 (polls at t=0 and t=5)
    config = tmp_path / "c.toml"
    config.write_text(RELEASE_CONFIG)
    result = run_cli(config, None, "redeploy", "local", SERVICE, "--wait", "--timeout", "5", "--poll", "5")
    # THEN exit 1 and the message says it timed out
    assert result.exit_code == 1
    assert result.json["rollout"]["outcome"] == "TIMED_OUT"
    assert "did not complete within 5 s" in result.json["error"]
