"""A scheduled job (a service table with ``schedule``): the service fields it cannot have, one
problem each, at the field that was written."""

from __future__ import annotations

from constructs_lib.props import NO_VALUE, Problem
from stacks.configuration.model import ServiceFile

# What a job has no use for, and why: it is a task definition and a schedule, no ECS service.
NOT_FOR_JOBS = {
    "load_balancer": "a scheduled job has no ECS service and no load balancer: remove load_balancer "
    "(or schedule, to make it a service)",
    "autoscaling": "a scheduled job runs one task per run, with no service to scale: remove autoscaling",
    "desired_count": "a scheduled job runs one task per run, with no service to keep a count: "
    "remove desired_count",
    "deployment": "a scheduled job has no rollout (its next run takes the new revision): remove deployment",
    "pre_deploy": "a scheduled job has no rollout to gate: migrate in the job's own command, or with "
    "`ecs-release run` before the deploy; remove pre_deploy",
    "adopt": "ecs-release adopt takes over ECS services; a scheduled job has none: remove adopt",
    "queue": "a scheduled job runs on its schedule, with no service to scale on a queue: remove queue "
    "(or schedule, to make it a queue worker)",
    "service_connect": "Service Connect serves an ECS service's tasks; a scheduled job has none: "
    "remove service_connect",
}


def job_conflicts(service: ServiceFile) -> list[Problem]:
    """The service fields written for a job that a job cannot have (none for a service)."""
    if service.schedule is None:
        return []
    written = service.model_fields_set
    return [
        Problem(field, NO_VALUE, why)
        for field, why in NOT_FOR_JOBS.items()
        if field in written and getattr(service, field) is not None
    ]
