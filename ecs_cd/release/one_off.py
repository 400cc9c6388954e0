"""One-off tasks (`ecs-release run`): the service's task definition with another command, in the
service's own network and capacity, followed until it stops; its exit code is the command's."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ecs_cd.release.aws import Aws
from ecs_cd.release.errors import BadInput

# RunTask's own limit for the task's "startedBy".
STARTED_BY = "ecs-release run"


@dataclass
class OneOff:
    task_arn: str
    task_definition: str
    container: str
    last_status: str = "PROVISIONING"
    exit_code: int | None = None
    stopped_reason: str = ""
    container_reason: str = ""
    timed_out: bool = False
    lines: list[str] = field(default_factory=list)

    @property
    def task_id(self) -> str:
        return self.task_arn.rsplit("/", 1)[-1]

    def as_dict(self) -> dict[str, Any]:
        return {
            "task": self.task_arn,
            "task_definition": self.task_definition,
            "container": self.container,
            "last_status": self.last_status,
            "container_exit_code": self.exit_code,
            "stopped_reason": self.stopped_reason,
            "container_reason": self.container_reason,
            "timed_out": self.timed_out,
            "last_lines": self.lines,
        }


def run_request(
    service: dict[str, Any], container: str, command: Sequence[str], *, started_by: str = STARTED_BY
) -> dict[str, Any]:
    """RunTask's request: the service's revision, capacity and network, ``command`` in ``container``."""
    request: dict[str, Any] = {
        "cluster": service["clusterArn"],
        "taskDefinition": service["taskDefinition"],
        "count": 1,
        "startedBy": started_by,
        "overrides": {"containerOverrides": [{"name": container, "command": list(command)}]},
        "propagateTags": "TASK_DEFINITION",
    }
    if service.get("capacityProviderStrategy"):
        request["capacityProviderStrategy"] = service["capacityProviderStrategy"]
    elif service.get("launchType"):
        request["launchType"] = service["launchType"]
    if service.get("networkConfiguration"):
        request["networkConfiguration"] = service["networkConfiguration"]
    return request


def start(
    aws: Aws, service: dict[str, Any], container: str, command: Sequence[str], *, started_by: str = STARTED_BY
) -> OneOff:
    response = aws.call("ecs", "run_task", **run_request(service, container, command, started_by=started_by))
    tasks = response.get("tasks", [])
    if not tasks:
        failures = "; ".join(
            f"{f.get('arn', '')} {f.get('reason', '')}".strip() for f in response.get("failures", [])
        )
        raise BadInput(f"ECS started no task: {failures or 'no reason given'}")
    return OneOff(str(tasks[0]["taskArn"]), str(service["taskDefinition"]), container)


def wait(
    aws: Aws,
    cluster: str,
    one_off: OneOff,
    *,
    timeout: float,
    poll: float,
    progress: Callable[[str], None],
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> OneOff:
    """Poll until the task is STOPPED (or ``timeout``); its container's exit code then is the result."""
    deadline = clock() + timeout
    said = ""
    while True:
        found = aws.call("ecs", "describe_tasks", cluster=cluster, tasks=[one_off.task_arn])
        described = found.get("tasks", [])
        if described:
            task = described[0]
            one_off.last_status = str(task.get("lastStatus", ""))
            if one_off.last_status != said:
                progress(f"task {one_off.task_id}: {one_off.last_status}")
                said = one_off.last_status
            if one_off.last_status == "STOPPED":
                one_off.stopped_reason = str(task.get("stoppedReason", ""))
                for c in task.get("containers", []):
                    if c.get("name") == one_off.container:
                        code = c.get("exitCode")
                        one_off.exit_code = int(code) if code is not None else None
                        one_off.container_reason = str(c.get("reason", ""))
                return one_off
        if clock() >= deadline:
            one_off.timed_out = True
            return one_off
        sleep(poll)
