"""Following one ECS deployment, by its id, until ECS says how it ended.

Waiting for "services stable" is not enough: after the deployment circuit breaker rolls a
deployment back, the service is stable again on the old task definition and the waiter
reports success. So we follow the id of the deployment we started and only call it a
success when that deployment itself is PRIMARY and COMPLETED.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from ecs_cd.release.aws import Aws, describe_failure
from ecs_cd.release.errors import BadInput


class Outcome(enum.Enum):
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    ROLLED_BACK = "ROLLED_BACK"
    SUPERSEDED = "SUPERSEDED"
    TIMED_OUT = "TIMED_OUT"


@dataclass
class RolloutResult:
    """How a deployment ended, with ECS's reasons when it did not complete."""

    cluster: str
    service: str
    deployment_id: str
    outcome: Outcome
    message: str
    task_definition: str = ""
    stopped_tasks: list[dict[str, Any]] = field(default_factory=list)
    events: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.COMPLETED

    def as_dict(self) -> dict[str, Any]:
        return {
            "cluster": self.cluster,
            "service": self.service,
            "deployment_id": self.deployment_id,
            "outcome": self.outcome.value,
            "message": self.message,
            "task_definition": self.task_definition,
            "stopped_tasks": self.stopped_tasks,
            "events": self.events,
        }


def describe_service(aws: Aws, cluster: str, service: str) -> dict[str, Any]:
    """The service, or BadInput when it does not exist (not deployed yet?)."""
    try:
        response = aws.call("ecs", "describe_services", cluster=cluster, services=[service])
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ClusterNotFoundException":
            raise BadInput(f"cluster {cluster} does not exist: deploy the environment first") from None
        raise describe_failure("ecs", "DescribeServices", exc) from None
    services = [s for s in response.get("services", []) if s.get("status") != "INACTIVE"]
    if not services:
        raise BadInput(f"service {service} does not exist in cluster {cluster}: deploy the environment first")
    return dict(services[0])


def primary_deployment(service: dict[str, Any]) -> dict[str, Any] | None:
    return next((d for d in service.get("deployments", []) if d.get("status") == "PRIMARY"), None)


def force_new_deployment(aws: Aws, cluster: str, service: str) -> str:
    """Start a new deployment of the current task definition; returns its id."""
    describe_service(aws, cluster, service)  # a clear BadInput before any write
    try:
        response = aws.call(
            "ecs", "update_service", cluster=cluster, service=service, forceNewDeployment=True
        )
    except ClientError as exc:
        raise describe_failure("ecs", "UpdateService", exc) from None
    primary = primary_deployment(response["service"])
    if primary is None:
        raise BadInput(f"service {service} reported no PRIMARY deployment after update-service")
    return str(primary["id"])


def _stopped_tasks(aws: Aws, cluster: str, service: str, deployment_id: str) -> list[dict[str, Any]]:
    try:
        arns = aws.call(
            "ecs", "list_tasks", cluster=cluster, serviceName=service, desiredStatus="STOPPED", maxResults=20
        ).get("taskArns", [])
        if not arns:
            return []
        tasks = aws.call("ecs", "describe_tasks", cluster=cluster, tasks=arns).get("tasks", [])
    except ClientError:
        return []  # the reasons are a courtesy; the outcome stands without them
    ours = [t for t in tasks if t.get("startedBy") == deployment_id] or tasks
    out = []
    for task in ours[:5]:
        containers = [
            {"name": c.get("name"), "exit_code": c.get("exitCode"), "reason": c.get("reason", "")}
            for c in task.get("containers", [])
        ]
        out.append(
            {
                "task": task.get("taskArn", ""),
                "stopped_reason": task.get("stoppedReason", ""),
                "containers": containers,
            }
        )
    return out


def watch(
    aws: Aws,
    cluster: str,
    service: str,
    deployment_id: str,
    *,
    timeout: float,
    poll_interval: float = 5.0,
    progress: Callable[[str], None] = lambda _: None,
    observe: Callable[[dict[str, Any]], None] = lambda _: None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> RolloutResult:
    """Poll until deployment ``deployment_id`` completes, fails, is rolled back or superseded,
    or ``timeout`` seconds pass; ``observe`` sees the service as each poll described it."""
    deadline = clock() + timeout
    last = ""
    while True:
        svc = describe_service(aws, cluster, service)
        observe(svc)
        ending = _ending(svc, deployment_id)
        if ending is None:
            # Still running: _ending found our deployment among the service's.
            ours = next(d for d in svc.get("deployments", []) if d.get("id") == deployment_id)
            line = _progress_line(service, deployment_id, ours)
            if line != last:
                progress(line)
                last = line
            if clock() >= deadline:
                ending = _Ending(
                    Outcome.TIMED_OUT,
                    f"deployment {deployment_id} did not complete within {timeout:.0f} s ({line})",
                    str(ours.get("taskDefinition", "")),
                )
        if ending is not None:
            return _result(aws, cluster, service, deployment_id, ending, svc)
        sleep(poll_interval)


@dataclass(frozen=True)
class _Ending:
    """How a deployment ended, as one description of its service says."""

    outcome: Outcome
    message: str
    task_definition: str


def _ending(svc: dict[str, Any], deployment_id: str) -> _Ending | None:
    """How deployment ``deployment_id`` of the service ``svc`` describes ended, or None while it runs."""
    ours = next((d for d in svc.get("deployments", []) if d.get("id") == deployment_id), None)
    primary = primary_deployment(svc)
    if ours is None:
        now_running = primary.get("taskDefinition", "?") if primary else "nothing"
        return _Ending(
            Outcome.ROLLED_BACK,
            f"deployment {deployment_id} is gone; the service now runs {now_running}",
            now_running,
        )
    task_def = str(ours.get("taskDefinition", ""))
    state = ours.get("rolloutState", "")
    if state == "FAILED":
        reason = ours.get("rolloutStateReason") or "ECS reported the rollout FAILED"
        return _Ending(Outcome.FAILED, str(reason), task_def)
    if ours.get("status") != "PRIMARY":
        if primary is not None and primary.get("taskDefinition") != task_def:
            return _Ending(
                Outcome.ROLLED_BACK,
                f"deployment {deployment_id} is no longer PRIMARY; "
                f"{primary.get('id')} runs {primary.get('taskDefinition')} instead",
                task_def,
            )
        return _Ending(
            Outcome.SUPERSEDED,
            f"deployment {deployment_id} was superseded by {primary.get('id') if primary else '?'}",
            task_def,
        )
    if state == "COMPLETED":
        return _Ending(Outcome.COMPLETED, f"deployment {deployment_id} completed", task_def)
    return None


def _progress_line(service: str, deployment_id: str, ours: dict[str, Any]) -> str:
    return (
        f"{service}: {deployment_id} {ours.get('rolloutState', '') or 'IN_PROGRESS'} running "
        f"{ours.get('runningCount', 0)}/{ours.get('desiredCount', 0)} pending {ours.get('pendingCount', 0)}"
        f" failed tasks {ours.get('failedTasks', 0)}"
    )


def _result(
    aws: Aws, cluster: str, service: str, deployment_id: str, ending: _Ending, svc: dict[str, Any]
) -> RolloutResult:
    """The result of ``ending``; ECS's reasons (stopped tasks, recent events) when it did not complete."""
    failed = ending.outcome is not Outcome.COMPLETED
    return RolloutResult(
        cluster=cluster,
        service=service,
        deployment_id=deployment_id,
        outcome=ending.outcome,
        message=ending.message,
        task_definition=ending.task_definition,
        stopped_tasks=_stopped_tasks(aws, cluster, service, deployment_id) if failed else [],
        events=[str(e.get("message", "")) for e in svc.get("events", [])[:5]] if failed else [],
    )
