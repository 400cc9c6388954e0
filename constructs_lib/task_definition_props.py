"""The props of a task definition and its size (no cdktf: the loader uses them); the rules
between its containers are ``task_rules``."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from functools import partial
from typing import Annotated, Any, Literal

from pydantic import Field, StrictInt, StrictStr, model_validator

from constructs_lib.container import ContainerProps, NetworkMode, container_definition, volume_names
from constructs_lib.fields import (
    ContainerPath,
    EcsName,
    KmsKeyArn,
    LogGroupName,
    Region,
    RoleName,
    VolumeName,
)
from constructs_lib.props import NO_VALUE, Problem, Props, problem_text
from constructs_lib.task_rules import task_problems
from ecs_cd.core.aws_regions import validate_arn_in_region
from ecs_cd.core.task_sizes import (
    validate_ec2_task_cpu,
    validate_ec2_task_memory,
    validate_fargate_cpu,
    validate_fargate_memory,
    validate_task_definition_size,
)

Compatibility = Literal["FARGATE", "EC2"]


class Volume(Props):
    """A task volume that containers mount (``mount_points``): ``name`` (required).

    Default: a task-scoped volume Fargate and EC2 both give (gone with the task). On EC2 only:
    ``host_path`` (default None), a path of the instance bind-mounted; or ``docker_scope``
    (default None: no Docker volume) ``task`` or ``shared`` with ``docker_driver`` (default
    ``local``)."""

    name: VolumeName
    """The volume's name, which ``mount_points`` name: up to 255 letters, digits, ``-`` and ``_``."""
    host_path: ContainerPath | None = None
    """A path of the EC2 instance bind-mounted (EC2 only; unset: a task-scoped volume)."""
    docker_scope: Literal["task", "shared"] | None = None
    """A Docker volume, ``task`` or ``shared`` (EC2 only; not with ``host_path``; unset: none)."""
    docker_driver: Annotated[StrictStr, Field(pattern=r"^[A-Za-z0-9_./:-]{1,255}$")] = "local"
    """The Docker volume's driver (with ``docker_scope``)."""

    @model_validator(mode="after")
    def _one_kind(self) -> Volume:
        if self.host_path is not None and self.docker_scope is not None:
            raise ValueError(f"volume {self.name}: host_path or docker_scope, not both")
        return self


class TaskDefinitionProps(Props):
    """A task of ``containers`` (1-10, in order).

    - ``family``, ``region``, ``log_group_name``, ``execution_role_name``,
      ``task_role_name`` (required).
    - ``compatibility`` (default ``FARGATE``) or ``EC2``; ``network_mode`` (default ``awsvpc``;
      ``bridge`` and ``host`` on EC2 only).
    - ``cpu`` (default 256 units) and ``memory`` (default 512 MiB): on Fargate a size of its
      table; on EC2 optional (None), cpu 128-196608 units; the containers' own cpu and memory
      must fit in them. On EC2 without task memory, each container needs ``memory`` or
      ``memory_reservation``.
    - ``volumes`` (default none): the task volumes the containers' ``mount_points`` name.
    - ``log_retention_days`` (default 30), ``log_kms_key_arn`` (default None: CloudWatch's
      own encryption), ``secrets_kms_key_arn`` (default None: secrets use AWS managed keys);
      keys in ``region``.
    - ``account_id`` (default None: no condition): the account whose ECS alone may assume
      the roles (``aws:SourceAccount``/``aws:SourceArn``); may be a token, e.g. from
      ``data.aws_caller_identity``.
    """

    family: EcsName
    # At most MAX_CONTAINERS: a rule of task_rules, which the settings loader reports at its field.
    containers: Annotated[tuple[ContainerProps, ...], Field(min_length=1)]
    region: Region
    log_group_name: LogGroupName
    execution_role_name: RoleName
    task_role_name: RoleName
    compatibility: Compatibility = "FARGATE"
    network_mode: NetworkMode = "awsvpc"
    cpu: StrictInt | None = 256
    memory: StrictInt | None = 512
    volumes: tuple[Volume, ...] = ()
    log_retention_days: Annotated[StrictInt, Field(ge=1)] = 30
    log_kms_key_arn: KmsKeyArn | None = None
    secrets_kms_key_arn: KmsKeyArn | None = None
    account_id: Annotated[StrictStr, Field(pattern=r"^(?:[0-9]{12}|\$\{.+\})$")] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> TaskDefinitionProps:
        for _, _, why in size_problems(self.compatibility, self.cpu, self.memory):
            raise ValueError(why)
        if self.execution_role_name == self.task_role_name:
            raise ValueError("execution_role_name and task_role_name must differ (two roles, two purposes)")
        for name in ("log_kms_key_arn", "secrets_kms_key_arn"):
            arn = getattr(self, name)
            if arn is not None:
                try:
                    validate_arn_in_region(arn, self.region, where="the task's region")
                except ValueError as exc:
                    raise ValueError(f"{name} {exc}") from None
        problems = task_problems(
            self.containers,
            cpu=self.cpu,
            memory=self.memory,
            secrets_kms_key_arn=self.secrets_kms_key_arn,
            compatibility=self.compatibility,
            network_mode=self.network_mode,
            volumes=self.volumes,
        )
        # The definitions are measured once the containers agree (their volumes, their names).
        problems = problems or definitions_problems(
            self.containers,
            region=self.region,
            log_group_name=self.log_group_name,
            network_mode=self.network_mode,
        )
        if problems:
            raise ValueError(problem_text(problems))
        return self


def size_problems(
    compatibility: Compatibility, cpu: int | None, memory: int | None
) -> list[tuple[str, Any, str]]:
    """The task's size against what ECS allows, as (field, value, what is allowed), the first
    found. The one home of the rule: the props validate with it, the settings loader reports it
    at its field."""
    checks: list[tuple[str, int | None, Callable[[], None]]]
    if compatibility == "FARGATE":
        if cpu is None or memory is None:
            field = "cpu" if cpu is None else "memory"
            return [(field, NO_VALUE, "a Fargate task needs cpu and memory (a size of Fargate's table)")]
        checks = [
            ("cpu", cpu, partial(validate_fargate_cpu, cpu)),
            ("memory", memory, partial(validate_fargate_memory, cpu, memory)),
        ]
    else:
        checks = [
            ("cpu", cpu, partial(validate_ec2_task_cpu, cpu)),
            ("memory", memory, partial(validate_ec2_task_memory, memory)),
        ]
    for field, value, check in checks:
        try:
            check()
        except ValueError as exc:
            return [(field, value, str(exc))]
    return []


def definitions_size(
    containers: Sequence[ContainerProps],
    *,
    region: str,
    log_group_name: str,
    network_mode: NetworkMode = "awsvpc",
) -> int:
    """The bytes of the containers' definitions as compact JSON, images at their longest: at least
    what ECS counts against its 64 KiB per task definition."""
    volumes = volume_names(tuple(containers))
    documents = [
        container_definition(
            c,
            image="",
            log_group=log_group_name,
            region=region,
            volumes={path: volumes[(c.name, path)] for path in c.writable_paths},
            network_mode=network_mode,
        )
        for c in containers
    ]
    text = json.dumps(documents, separators=(",", ":"), ensure_ascii=False)
    return len(text.encode("utf-8", "surrogatepass")) + sum(c.image.longest for c in containers)


def definitions_problems(
    containers: Sequence[ContainerProps],
    *,
    region: str,
    log_group_name: str,
    network_mode: NetworkMode = "awsvpc",
) -> list[Problem]:
    """ECS's 64 KiB per task definition (``definitions_size`` against it), as a problem at
    ``containers``: what every container's fields wrote together. The one home of the rule: the
    props validate with it, the settings loader reports it at the service."""
    size = definitions_size(
        containers, region=region, log_group_name=log_group_name, network_mode=network_mode
    )
    try:
        validate_task_definition_size(size)
    except ValueError as exc:
        return [Problem("containers", NO_VALUE, str(exc), read=("containers.*",))]
    return []
