"""One-off tasks (`ecs-release run`): the service's task definition with another command, in the
service's own network and capacity, followed until it stops; its exit code is the command's."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ecs_cd.release import errors
from ecs_cd.release.aws import Aws
from ecs_cd.release.errors import BadInput
from ecs_cd.release.logs import last_lines
from ecs_cd.release.rollout import describe_service
from ecs_cd.release.targets import target

if TYPE_CHECKING:
    from ecs_cd.release.runtime import Runtime

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
    return launch(aws, run_request(service, container, command, started_by=started_by), container)


def launch(aws: Aws, request: dict[str, Any], container: str) -> OneOff:
    """RunTask of ``request``; the task it started, followed by ``container``'s exit code."""
    response = aws.call("ecs", "run_task", **request)
    tasks = response.get("tasks", [])
    if not tasks:
        failures = "; ".join(
            f"{f.get('arn', '')} {f.get('reason', '')}".strip() for f in response.get("failures", [])
        )
        raise BadInput(f"ECS started no task: {failures or 'no reason given'}")
    return OneOff(str(tasks[0]["taskArn"]), str(request["taskDefinition"]), container)


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


def run(
    rt: Runtime,
    env: str,
    service: str,
    cmd: Sequence[str],
    *,
    container: str | None,
    timeout: float,
    poll: float,
) -> dict[str, Any]:
    """`ecs-release run`: start ``cmd`` in ``container`` (default: the app's), follow the task until
    it stops, print its last log lines; the result's exit code is the container's. For a scheduled
    job: what its schedule runs, now (its own command without ``cmd``)."""
    t = target(rt.settings, env, service)
    containers = {c.name: c.log_driver for c in t.service.task_containers}
    name = container or t.service.name
    if name not in containers:
        raise BadInput(f"--container {name}: no container of {service} (containers: {', '.join(containers)})")
    aws = rt.aws(t.environment)
    if t.service.is_job:
        from ecs_cd.release.jobs import run_request as job_request
        from ecs_cd.release.jobs import schedule_for_run

        one_off = launch(aws, job_request(schedule_for_run(aws, t), name, cmd), name)
    elif not cmd:
        raise BadInput(
            f"{service} is a service: give the command to run, ecs-release run {env} {service} -- CMD"
        )
    else:
        one_off = start(aws, describe_service(aws, t.cluster, t.service_name), name, cmd)
    what = " ".join(cmd) if cmd else "its scheduled command"
    rt.out.say(f"{service}: started task {one_off.task_arn} on {one_off.task_definition}: {what}")
    wait(aws, t.cluster, one_off, timeout=timeout, poll=poll, progress=rt.out.say)
    if containers[name] == "awslogs":
        group = t.service.names.log_group
        one_off.lines = [
            line.text() for line in last_lines(aws, group, task_id=one_off.task_id, containers=[name])
        ]
    for line in one_off.lines:
        rt.out.say(f"  {line}")
    outcome, code = outcome_of(one_off, timeout)
    rt.out.say(f"{service}: task {one_off.task_id} {outcome}", style="green" if code == 0 else "bold red")
    return {
        "ok": code == 0,
        "environment": env,
        "service": service,
        "command": list(cmd),
        "outcome": outcome,
        **one_off.as_dict(),
        "exit_code": code,
    }


def outcome_of(one_off: OneOff, timeout: float) -> tuple[str, int]:
    """How the task ended, in words, and the exit code `run` answers with: the container's own,
    else a rollout failure's (the task still runs, or stopped without one)."""
    if one_off.timed_out:
        return (
            f"still {one_off.last_status} after {timeout:.0f} s: it goes on in ECS ({one_off.task_arn})",
            errors.ROLLOUT_FAILED,
        )
    if one_off.exit_code is None:
        return (
            f"stopped without an exit code: {one_off.stopped_reason} {one_off.container_reason}".rstrip(),
            errors.ROLLOUT_FAILED,
        )
    return f"exited with {one_off.exit_code}", one_off.exit_code
