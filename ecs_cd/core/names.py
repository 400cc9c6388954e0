"""The AWS names of everything the stacks create, derived in one place.

The stacks, the release command line, the demo and the tests all call these, so they can
never disagree on a parameter, cluster, service or stack name.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


def cluster_name(project: str, environment: str) -> str:
    return f"{project}-{environment}"


def service_name(service: str) -> str:
    # The cluster is per environment, so the service keeps the short name users type.
    return service


def task_family(project: str, environment: str, service: str) -> str:
    return f"{project}-{environment}-{service}"


def execution_role_name(project: str, environment: str, service: str) -> str:
    return f"{project}-{environment}-{service}-exec"


def task_role_name(project: str, environment: str, service: str) -> str:
    # Separate from the execution role: the application's own AWS permissions start empty.
    return f"{project}-{environment}-{service}-task"


def security_group_name(project: str, environment: str, service: str) -> str:
    return f"{project}-{environment}-{service}-tasks"


def load_balancer_name(project: str, environment: str) -> str:
    # project (16) + environment (12) + 1 stays within the ALB's 32 characters.
    return f"{project}-{environment}"


def load_balancer_security_group_name(project: str, environment: str) -> str:
    return f"{project}-{environment}-alb"


def target_group_name(project: str, environment: str, service: str) -> str:
    """At most 32 characters (AWS's limit): a readable prefix and a hash of the three names.

    The hash keeps ``shop``/``prod``/``eu-api`` and ``shop``/``prod-eu``/``api`` apart."""
    full = f"{project}-{environment}-{service}"
    digest = hashlib.sha256(f"{project}/{environment}/{service}".encode()).hexdigest()[:8]
    return f"{full[:23].rstrip('-')}-{digest}"


def scaling_resource_id(cluster: str, service: str) -> str:
    return f"service/{cluster}/{service}"


def queue_name(project: str, environment: str, service: str) -> str:
    """The SQS queue created for a queue worker: at most 16 + 12 + 28 + 2 = 58 characters."""
    return f"{project}-{environment}-{service}"


def dead_letter_queue_name(queue: str) -> str:
    """The dead-letter queue of a created queue (SQS allows 80 characters; the loader checks it)."""
    return f"{queue}-dlq"


def log_group_name(project: str, environment: str, service: str) -> str:
    return f"/ecs/{project}/{environment}/{service}"


def image_tag_parameter(service: str, environment: str) -> str:
    return f"/{service}/{environment}/docker-image-tag"


def service_stack_name(environment: str, service: str) -> str:
    """The stack of one service when an environment is split (``cdktf deploy dev-api``)."""
    return f"{environment}-{service}"


def service_state_key(key: str, service: str) -> str:
    """``ecs-cd/dev.tfstate`` -> ``ecs-cd/dev/api.tfstate``: one state per service stack."""
    stem = key[: -len(".tfstate")] if key.endswith(".tfstate") else key
    return f"{stem}/{service}.tfstate"


def schedule_name(project: str, environment: str, service: str) -> str:
    """A scheduled job's EventBridge Scheduler schedule (at most 58 of Scheduler's 64 characters)."""
    return f"{project}-{environment}-{service}"


def scheduler_role_name(project: str, environment: str, service: str) -> str:
    """The role the job's schedule runs its task with (at most 64 characters, IAM's limit)."""
    return f"{project}-{environment}-{service}-sched"


def job_task_group(schedule: str) -> str:
    """The ECS task group of a job's runs (RunTask's ``group``): the schedule's and `ecs-release run`'s,
    so `status` finds the last run among the family's stopped tasks."""
    return f"job:{schedule}"


def ec2_capacity_name(project: str, environment: str) -> str:
    """The environment's own EC2 capacity: provider, Auto Scaling group, launch template, role."""
    return f"{project}-{environment}-ec2"


def service_connect_namespace(project: str, environment: str) -> str:
    """The Cloud Map HTTP namespace an environment creates for Service Connect."""
    return f"{project}-{environment}"


def service_connect_security_group_name(project: str, environment: str) -> str:
    """The group every awsvpc service of an environment with Service Connect joins: the servers
    admit it on their Service Connect ports (and only it)."""
    return f"{project}-{environment}-service-connect"


def service_connect_port_name(service: str) -> str:
    """The name the app's ``container_port`` mapping gets when Service Connect serves it and the
    configuration names it not: the service's (a service name is a valid port mapping name)."""
    return service


@dataclass(frozen=True)
class ServiceNames:
    """A service's AWS names in one environment: the derived ones above, each replaced where the
    configuration's ``names`` table gives another (a service adopted under names of its own)."""

    service: str
    task_family: str
    log_group: str
    execution_role: str
    task_role: str
    security_group: str
    target_group: str
    # A scheduled job's schedule and the role it runs the task with (unused by a service).
    schedule: str = ""
    scheduler_role: str = ""

    @classmethod
    def derived(cls, project: str, environment: str, service: str) -> ServiceNames:
        return cls(
            service=service_name(service),
            task_family=task_family(project, environment, service),
            log_group=log_group_name(project, environment, service),
            execution_role=execution_role_name(project, environment, service),
            task_role=task_role_name(project, environment, service),
            security_group=security_group_name(project, environment, service),
            target_group=target_group_name(project, environment, service),
            schedule=schedule_name(project, environment, service),
            scheduler_role=scheduler_role_name(project, environment, service),
        )
