"""Scheduled jobs in ecs-release. A job is a task definition and an EventBridge Scheduler schedule
whose target names one revision; it has no ECS service. So where a service shows its deployments,
a job shows its schedule: the revision it runs, its next run, and its last run (the newest task of
the job's ECS task group, ``job:<schedule>``, that ECS still lists: it keeps stopped tasks for
about an hour). A deploy moves the schedule to the new revision (nothing to follow), and
`ecs-release run ENV JOB` runs the schedule's target now.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from ecs_cd.core import names
from ecs_cd.core.schedules import next_run
from ecs_cd.release.aws import Aws, describe_failure, error_code
from ecs_cd.release.errors import BadInput, DeployFailed
from ecs_cd.release.one_off import STARTED_BY as ONE_OFF
from ecs_cd.release.tags import read_tag

if TYPE_CHECKING:
    from ecs_cd.release.overview import Cell
    from ecs_cd.release.runtime import Runtime
    from ecs_cd.release.targets import Target

GROUP = "default"


def read_schedule(aws: Aws, t: Target) -> dict[str, Any] | None:
    """The job's schedule (GetSchedule), None before its first deploy."""
    try:
        return aws.call("scheduler", "get_schedule", Name=t.service.names.schedule, GroupName=GROUP)
    except ClientError as exc:
        if error_code(exc) == "ResourceNotFoundException":
            return None
        raise describe_failure("scheduler", "GetSchedule", exc) from None


def revision(schedule: dict[str, Any] | None) -> str | None:
    """The task definition revision the schedule runs."""
    if schedule is None:
        return None
    found = schedule.get("Target", {}).get("EcsParameters", {}).get("TaskDefinitionArn")
    return str(found) if found else None


def next_run_of(schedule: dict[str, Any], now: datetime) -> datetime | None:
    """When the schedule runs next (None: disabled, or a one-time schedule that has run)."""
    if schedule.get("State") == "DISABLED":
        return None
    started = schedule.get("StartDate") or schedule.get("CreationDate")
    since = started if isinstance(started, datetime) else None
    zone = str(schedule.get("ScheduleExpressionTimezone") or "UTC")
    return next_run(str(schedule["ScheduleExpression"]), zone, after=now, since=since)


def _when(value: Any) -> str | None:
    return value.astimezone(UTC).isoformat(timespec="seconds") if isinstance(value, datetime) else None


def last_run(aws: Aws, t: Target) -> dict[str, Any] | None:
    """The newest task of the job's group that ECS still lists (running or stopped), or None."""
    group = names.job_task_group(t.service.names.schedule)
    arns: list[str] = []
    for status in ("RUNNING", "STOPPED"):
        found = aws.call(
            "ecs", "list_tasks", cluster=t.cluster, family=t.service.names.task_family, desiredStatus=status
        )
        arns += found.get("taskArns", [])
    tasks: list[dict[str, Any]] = []
    for start in range(0, len(arns), 100):
        described = aws.call("ecs", "describe_tasks", cluster=t.cluster, tasks=arns[start : start + 100])
        tasks += [task for task in described.get("tasks", []) if task.get("group") == group]
    if not tasks:
        return None
    newest = max(tasks, key=lambda task: task.get("createdAt") or datetime.min.replace(tzinfo=UTC))
    app: dict[str, Any] = next(
        (c for c in newest.get("containers", []) if c.get("name") == t.service.name), {}
    )
    code = app.get("exitCode")
    return {
        "task": newest.get("taskArn"),
        "task_definition": newest.get("taskDefinitionArn"),
        "started_by": newest.get("startedBy"),
        "last_status": newest.get("lastStatus"),
        "created_at": _when(newest.get("createdAt")),
        "stopped_at": _when(newest.get("stoppedAt")),
        "exit_code": int(code) if code is not None else None,
        "stopped_reason": newest.get("stoppedReason"),
    }


def job_status(rt: Runtime, t: Target, *, now: datetime | None = None) -> dict[str, Any]:
    """`status` of a job: its SSM tag, the revision its schedule runs, its images, the schedule
    with its next run, and its last run."""
    aws = rt.aws(t.environment)
    fixed = t.service.image_tag
    tag = None if fixed is not None else read_tag(aws, t.parameter)
    status: dict[str, Any] = {
        "service": t.service.name,
        "kind": "job",
        "image_strategy": t.service.image_strategy,
        "parameter": None if fixed is not None else t.parameter,
        "tag": fixed if fixed is not None else (tag.tag if tag else None),
        "tag_version": tag.version if tag else None,
    }
    schedule = read_schedule(aws, t)
    if schedule is None:
        reason = f"schedule {t.service.names.schedule} does not exist: deploy the environment first"
        return {**status, "deployed": False, "reason": reason}
    when = next_run_of(schedule, now or datetime.now(UTC))
    task_definition = revision(schedule)
    images: list[str] = []
    if task_definition is not None:
        try:
            described = aws.call("ecs", "describe_task_definition", taskDefinition=task_definition)
        except ClientError as exc:
            raise describe_failure("ecs", "DescribeTaskDefinition", exc) from None
        images = [c.get("image") for c in described["taskDefinition"].get("containerDefinitions", [])]
    return {
        **status,
        "deployed": True,
        "task_definition": task_definition,
        "images": images,
        "schedule": {
            "name": schedule.get("Name"),
            "expression": schedule.get("ScheduleExpression"),
            "timezone": schedule.get("ScheduleExpressionTimezone"),
            "state": schedule.get("State"),
            "next_run": _when(when),
        },
        "last_run": last_run(aws, t),
    }


def run_text(run: dict[str, Any] | None) -> str:
    """The last run in words."""
    if run is None:
        return "none that ECS still lists (it keeps stopped tasks for about an hour)"
    by = "ecs-release run" if run["started_by"] == ONE_OFF else "the schedule"
    started = f"started {run['created_at']} by {by}" if run["created_at"] else f"started by {by}"
    if run["last_status"] != "STOPPED":
        return f"{run['last_status']} ({started})"
    stopped = f", stopped {run['stopped_at']}" if run["stopped_at"] else ""
    if run["exit_code"] is None:
        return f"stopped without an exit code: {run['stopped_reason'] or '?'} ({started}{stopped})"
    return f"exit {run['exit_code']} ({started}{stopped})"


def status_lines(status: dict[str, Any]) -> list[tuple[str, str | None]]:
    """What `status` prints of one job: each line with its style."""
    if status["parameter"] is None:
        tag = f"{status['tag']} (fixed in the configuration)"
    else:
        tag = f"{status['tag']} (version {status['tag_version']})" if status["tag"] else "(no tag parameter)"
    lines: list[tuple[str, str | None]] = [(f"{status['service']} (scheduled job): SSM tag {tag}", "bold")]
    if not status["deployed"]:
        return [*lines, (f"  not deployed: {status['reason']}", None)]
    schedule = status["schedule"]
    lines.append(
        (
            f"  schedule {schedule['name']}: {schedule['expression']} in {schedule['timezone']}, "
            f"{schedule['state']}",
            None,
        )
    )
    lines.append((f"  task definition {status['task_definition']}", None))
    lines += [(f"  image {image}", None) for image in status["images"]]
    lines.append(
        (f"  next run {schedule['next_run'] or '(none: disabled, or a one-time schedule that ran)'}", None)
    )
    lines.append((f"  last run {run_text(status['last_run'])}", None))
    return lines


def overview_cell(aws: Aws, t: Target, found: Cell, *, now: datetime | None = None) -> Cell:
    """An overview cell of a job: the tag the schedule's revision runs, its next run and last exit;
    '!' when SSM names another tag than the schedule runs (not deployed yet)."""
    schedule = read_schedule(aws, t)
    if schedule is None:
        return found
    found.deployed = True
    found.revision = revision(schedule)
    when = next_run_of(schedule, now or datetime.now(UTC))
    run = last_run(aws, t)
    found.schedule = {
        "expression": schedule.get("ScheduleExpression"),
        "timezone": schedule.get("ScheduleExpressionTimezone"),
        "state": schedule.get("State"),
        "next_run": _when(when),
        "last_run": run,
    }
    if found.revision is not None:
        task = aws.call("ecs", "describe_task_definition", taskDefinition=found.revision)
        containers = task["taskDefinition"].get("containerDefinitions", [])
        app: dict[str, Any] = next((c for c in containers if c.get("name") == t.service.name), {})
        found.image = app.get("image")
    if found.tag is not None and found.running_tag is not None and found.tag != found.running_tag:
        found.drift.append(f"SSM says {found.tag}, the schedule runs {found.running_tag} (not deployed yet)")
    return found


def revisions(rt: Runtime, jobs: Sequence[Target]) -> dict[str, str | None]:
    """The revision each job's schedule runs (before a deploy)."""
    return {t.service.name: revision(read_schedule(rt.aws(t.environment), t)) for t in jobs}


def report_schedules(
    rt: Runtime, jobs: Sequence[Target], before: dict[str, str | None], payload: dict[str, Any]
) -> None:
    """After a deploy: which revision each job's schedule runs from its next run on. A job has no
    rollout to follow: its next run starts the new revision."""
    for t in jobs:
        schedule = read_schedule(rt.aws(t.environment), t)
        after = revision(schedule)
        name = t.service.name
        if after is None:
            raise DeployFailed(
                f"{name}: its schedule {t.service.names.schedule} does not exist after the deploy"
            )
        moved = after != before.get(name)
        if moved:
            rt.out.say(
                f"{name}: the schedule runs {after} from its next run on (was {before.get(name) or 'none'})"
            )
        else:
            rt.out.say(f"{name}: no new revision (the schedule still runs {after})")
        payload.setdefault("schedules", []).append(
            {
                "service": name,
                "schedule": t.service.names.schedule,
                "task_definition": after,
                "previous": before.get(name),
                "moved": moved,
            }
        )


def run_request(
    schedule: dict[str, Any], container: str, command: Sequence[str] | None, *, started_by: str = ONE_OFF
) -> dict[str, Any]:
    """RunTask's request for what the schedule runs (its target's parameters, ECS's names), with
    ``command`` (None: the job's own) in ``container``."""
    target = schedule["Target"]
    ecs = target["EcsParameters"]
    request: dict[str, Any] = {
        "cluster": target["Arn"],
        "taskDefinition": ecs["TaskDefinitionArn"],
        "count": 1,
        "startedBy": started_by,
        "propagateTags": ecs.get("PropagateTags", "TASK_DEFINITION"),
        "enableECSManagedTags": bool(ecs.get("EnableECSManagedTags", False)),
    }
    if ecs.get("Group"):
        request["group"] = ecs["Group"]
    if command:
        request["overrides"] = {"containerOverrides": [{"name": container, "command": list(command)}]}
    if ecs.get("CapacityProviderStrategy"):
        request["capacityProviderStrategy"] = [
            {
                "capacityProvider": i["capacityProvider"],
                "weight": i.get("weight", 0),
                "base": i.get("base", 0),
            }
            for i in ecs["CapacityProviderStrategy"]
        ]
    elif ecs.get("LaunchType"):
        request["launchType"] = ecs["LaunchType"]
    awsvpc = ecs.get("NetworkConfiguration", {}).get("awsvpcConfiguration")
    if awsvpc:
        request["networkConfiguration"] = {
            "awsvpcConfiguration": {
                "subnets": awsvpc["Subnets"],
                "securityGroups": awsvpc.get("SecurityGroups", []),
                "assignPublicIp": awsvpc.get("AssignPublicIp", "DISABLED"),
            }
        }
    if ecs.get("PlacementConstraints"):
        request["placementConstraints"] = [
            {k: v for k, v in (("type", c.get("type")), ("expression", c.get("expression"))) if v}
            for c in ecs["PlacementConstraints"]
        ]
    if ecs.get("PlacementStrategy"):
        request["placementStrategy"] = [
            {k: v for k, v in (("type", p.get("type")), ("field", p.get("field"))) if v}
            for p in ecs["PlacementStrategy"]
        ]
    return request


def schedule_for_run(aws: Aws, t: Target) -> dict[str, Any]:
    """The schedule `run` starts the job's task from; BadInput before the first deploy."""
    schedule = read_schedule(aws, t)
    if schedule is None:
        raise BadInput(
            f"{t.service.name} is a scheduled job and its schedule {t.service.names.schedule} does not exist "
            f"in {t.environment.name}: deploy the environment first"
        )
    return schedule
