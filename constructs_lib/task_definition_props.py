"""The props of a task definition and the rules between its containers (no cdktf: the loader uses them)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from functools import partial
from typing import Annotated, Any, Literal

from pydantic import Field, StrictInt, StrictStr, model_validator

from constructs_lib.container import ContainerProps, NetworkMode, container_definition, volume_name
from constructs_lib.fields import ContainerPath, EcsName, KmsKeyArn, Region, VolumeName
from constructs_lib.props import NO_VALUE, Problem, Props, problem_text
from ecs_cd.core.aws_formats import (
    validate_arn_in_region,
    validate_ec2_task_cpu,
    validate_ec2_task_memory,
    validate_fargate_cpu,
    validate_fargate_memory,
    validate_task_definition_size,
)


def _as_problems(found: Sequence[tuple[str, Any, str]]) -> list[Problem]:
    return [Problem(*problem) for problem in found]


# ECS's limit of containers per task definition.
MAX_CONTAINERS = 10

Compatibility = Literal["FARGATE", "EC2"]


class Volume(Props):
    """A task volume that containers mount (``mount_points``): ``name`` (required).

    Default: a task-scoped volume Fargate and EC2 both give (gone with the task). On EC2 only:
    ``host_path`` (default None), a path of the instance bind-mounted; or ``docker_scope``
    (default None: no Docker volume) ``task`` or ``shared`` with ``docker_driver`` (default
    ``local``)."""

    name: VolumeName
    host_path: ContainerPath | None = None
    docker_scope: Literal["task", "shared"] | None = None
    docker_driver: Annotated[StrictStr, Field(pattern=r"^[A-Za-z0-9_./:-]{1,255}$")] = "local"

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
    # At most MAX_CONTAINERS: a rule of task_problems, which the settings loader reports at its field.
    containers: Annotated[tuple[ContainerProps, ...], Field(min_length=1)]
    region: Region
    log_group_name: Annotated[StrictStr, Field(pattern=r"^[A-Za-z0-9_./#-]{1,512}$")]
    execution_role_name: Annotated[StrictStr, Field(pattern=r"^[A-Za-z0-9+=,.@_-]{1,64}$")]
    task_role_name: Annotated[StrictStr, Field(pattern=r"^[A-Za-z0-9+=,.@_-]{1,64}$")]
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


def task_problems(
    containers: Sequence[ContainerProps],
    *,
    cpu: int | None,
    memory: int | None,
    secrets_kms_key_arn: str | None,
    compatibility: Compatibility = "FARGATE",
    network_mode: NetworkMode = "awsvpc",
    volumes: Sequence[Volume] = (),
) -> list[Problem]:
    """Contradictions between the containers of a task, as (field, value, what is allowed, and
    the fields the rule read beside the one it is reported at).

    Fields are relative to the task: ``containers.<name>.<field>``, ``network_mode``,
    ``volumes.<name>``. The one home of these rules: the props validate with it, the settings
    loader reports each at its field."""
    found = _as_problems(_network_problems(containers, compatibility, network_mode))
    found += _as_problems(_volume_problems(containers, compatibility, volumes))
    names = [c.name for c in containers]
    if len(containers) > MAX_CONTAINERS:
        found.append(
            Problem(
                "containers",
                NO_VALUE,
                f"the task would have {len(containers)} containers (every one counts, the app's too): "
                f"ECS allows at most {MAX_CONTAINERS} per task definition",
                read=("containers.*",),
            )
        )
    for name in sorted({n for n in names if names.count(n) > 1}):
        found.append(
            Problem(f"containers.{name}", name, "two containers have this name: names must be unique")
        )
    known = set(names)
    for c in containers:
        for other in sorted(c.depends_on):
            if other not in known:
                found.append(
                    Problem(
                        f"containers.{c.name}.depends_on.{other}",
                        c.depends_on[other],
                        f"names no container of this task (containers: {', '.join(names)})",
                    )
                )
    found += _as_problems(_condition_problems(containers))
    cycle = _dependency_cycle(containers)
    if cycle:
        found.append(
            Problem(
                f"containers.{cycle[0]}.depends_on",
                " -> ".join(cycle),
                "the containers depend on each other in a cycle: none could start",
            )
        )
    if not any(c.essential for c in containers):
        found.append(
            Problem(
                "containers",
                names,
                "at least one container must be essential (essential = true)",
                read=("containers.*.essential",),
            )
        )
    found += _as_problems(_port_problems(containers, network_mode))
    cpu_total = sum(c.cpu or 0 for c in containers)
    if cpu is not None and cpu_total > cpu:
        found.append(
            Problem(
                "containers",
                cpu_total,
                f"their cpu units add up to {cpu_total}, over the task's cpu ({cpu})",
                read=("cpu", "containers.*.cpu"),
            )
        )
    memory_total = sum(c.memory or c.memory_reservation or 0 for c in containers)
    if memory is not None and memory_total > memory:
        found.append(
            Problem(
                "containers",
                memory_total,
                f"their memory (MiB) adds up to {memory_total}, over the task's memory ({memory})",
                read=("memory", "containers.*.memory", "containers.*.memory_reservation"),
            )
        )
    if memory is None:
        for c in containers:
            if c.memory is None and c.memory_reservation is None:
                found.append(
                    Problem(
                        f"containers.{c.name}.memory_reservation",
                        NO_VALUE,
                        "is needed (or memory): the task has no memory of its own, so ECS needs each "
                        "container's",
                    )
                )
    routers = [c.name for c in containers if c.firelens is not None]
    if len(routers) > 1:
        found.append(
            Problem(
                f"containers.{routers[1]}.firelens",
                NO_VALUE,
                f"a task has one FireLens log router ({routers[0]} already)",
            )
        )
    for c in containers:
        if c.log_driver == "awsfirelens" and not routers:
            found.append(
                Problem(
                    f"containers.{c.name}.log_driver",
                    c.log_driver,
                    "needs a FireLens log router in the task (a container with firelens = {…})",
                )
            )
    secrets = any(c.all_secret_arns for c in containers)
    if secrets_kms_key_arn is not None and not secrets:
        found.append(
            Problem("secrets_kms_key_arn", secrets_kms_key_arn, "is set but there are no secrets to decrypt")
        )
    return found


def _condition_problems(containers: Sequence[ContainerProps]) -> list[tuple[str, Any, str]]:
    """A ``depends_on`` condition ECS refuses for the container it waits for."""
    found: list[tuple[str, Any, str]] = []
    by_name = {c.name: c for c in containers}
    for c in containers:
        for other in sorted(c.depends_on):
            target = by_name.get(other)
            if target is None or other == c.name:
                continue  # reported as an unknown container, or as a dependency on itself
            condition = c.depends_on[other]
            where = f"containers.{c.name}.depends_on.{other}"
            check = target.health_check
            if condition == "HEALTHY" and (check is None or check.command[0] == "NONE"):
                found.append(
                    (
                        where,
                        condition,
                        f"{other} has no health_check, so it never reports HEALTHY: give it one, or "
                        "wait for START",
                    )
                )
            if condition in ("COMPLETE", "SUCCESS") and target.essential:
                found.append(
                    (
                        where,
                        condition,
                        f"{other} is essential, and ECS waits for {condition} only on a container with "
                        "essential = false (an essential container's exit stops the task)",
                    )
                )
    return found


def _network_problems(
    containers: Sequence[ContainerProps], compatibility: Compatibility, network_mode: NetworkMode
) -> list[tuple[str, Any, str]]:
    found: list[tuple[str, Any, str]] = []
    if compatibility == "FARGATE" and network_mode != "awsvpc":
        found.append(("network_mode", network_mode, "Fargate runs awsvpc only: bridge and host need EC2"))
    names = [c.name for c in containers]
    for c in containers:
        for index, mapping in enumerate(c.port_mappings):
            if (
                mapping.host_port is not None
                and network_mode != "bridge"
                and mapping.host_port != mapping.container_port
            ):
                found.append(
                    (
                        f"containers.{c.name}.port_mappings.{index}.host_port",
                        mapping.host_port,
                        f"must equal container_port ({mapping.container_port}) in {network_mode} networking "
                        "(another host port, or 0 for a dynamic one, needs bridge)",
                    )
                )
        if c.links and network_mode != "bridge":
            found.append(
                (
                    f"containers.{c.name}.links",
                    list(c.links),
                    f"only in bridge networking (not {network_mode})",
                )
            )
        for link in c.links:
            if link not in names:
                found.append(
                    (
                        f"containers.{c.name}.links",
                        link,
                        f"names no container of this task (containers: {', '.join(names)})",
                    )
                )
        for source in c.volumes_from:
            if source.source_container not in names:
                found.append(
                    (
                        f"containers.{c.name}.volumes_from",
                        source.source_container,
                        f"names no container of this task (containers: {', '.join(names)})",
                    )
                )
    return found


def _port_problems(
    containers: Sequence[ContainerProps], network_mode: NetworkMode
) -> list[tuple[str, Any, str]]:
    """Two containers that would bind one port. awsvpc and host: the containers share one
    network (the task's, the instance's), so a container port is one container's. bridge: each
    container has its own namespace, so only a fixed host port (not 0) can clash."""
    found: list[tuple[str, Any, str]] = []
    if network_mode == "bridge":
        bound: dict[tuple[int, str], str] = {}
        for c in containers:
            # container_port has no host port of its own: dynamic (0) in bridge
            for index, mapping in enumerate(c.port_mappings):
                port = mapping.host_port_in(network_mode)
                if port == 0:
                    continue
                key = (port, mapping.protocol)
                if key not in bound:
                    bound[key] = c.name
                    continue
                by = "another of its port mappings" if bound[key] == c.name else bound[key]
                found.append(
                    (
                        f"containers.{c.name}.port_mappings.{index}.host_port",
                        port,
                        f"{mapping.protocol} host port {port} is also bound by {by}: an instance's host port "
                        "takes one mapping (0 lets the instance pick a free one)",
                    )
                )
        return found
    shared = (
        "the containers of a task share one network namespace"
        if network_mode == "awsvpc"
        else "the containers of a host-network task share the instance's network"
    )
    owners: dict[tuple[int, str], str] = {}
    for c in containers:
        for index, mapping in enumerate(c.ports):
            key = (mapping.container_port, mapping.protocol)
            other = owners.setdefault(key, c.name)
            if other != c.name:
                field = "container_port" if index == 0 and c.container_port is not None else "port_mappings"
                found.append(
                    (
                        f"containers.{c.name}.{field}",
                        mapping.container_port,
                        f"{mapping.protocol} port {mapping.container_port} is also {other}'s: {shared}",
                    )
                )
    return found


def _volume_problems(
    containers: Sequence[ContainerProps], compatibility: Compatibility, volumes: Sequence[Volume]
) -> list[tuple[str, Any, str]]:
    found: list[tuple[str, Any, str]] = []
    declared = [v.name for v in volumes]
    for name in sorted({n for n in declared if declared.count(n) > 1}):
        found.append((f"volumes.{name}", name, "two volumes have this name"))
    own = set(volume_names(tuple(containers)).values())
    for v in volumes:
        if v.name in own:
            found.append(
                (f"volumes.{v.name}", v.name, "is the name of a writable_paths volume: choose another")
            )
        if compatibility == "FARGATE" and (v.host_path is not None or v.docker_scope is not None):
            found.append(
                (
                    f"volumes.{v.name}",
                    v.host_path or v.docker_scope,
                    "host_path and docker_scope need EC2 (Fargate has task-scoped volumes only)",
                )
            )
    for c in containers:
        for m in c.mount_points:
            if m.source_volume not in declared:
                found.append(
                    (
                        f"containers.{c.name}.mount_points",
                        m.source_volume,
                        f"names no volume of the task (volumes: {', '.join(declared) or 'none'})",
                    )
                )
    return found


def _dependency_cycle(containers: Sequence[ContainerProps]) -> list[str]:
    """One cycle of ``depends_on`` (first name repeated at the end), or none."""
    graph = {c.name: sorted(c.depends_on) for c in containers}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(name: str) -> list[str]:
        state[name] = 1
        stack.append(name)
        for other in graph.get(name, ()):
            if other not in graph or other == name:
                continue
            if state.get(other) == 1:
                return [*stack[stack.index(other) :], other]
            if other not in state:
                found = visit(other)
                if found:
                    return found
        stack.pop()
        state[name] = 2
        return []

    for name in graph:
        if name not in state:
            cycle = visit(name)
            if cycle:
                return cycle
    return []


def volume_names(containers: tuple[ContainerProps, ...]) -> dict[tuple[str, str], str]:
    """(container, writable path) -> task volume: the path's name, or ``<container>_<name>``
    when two containers write a path of that name (each keeps its own volume). A path's name
    never holds ``_``, so a prefixed name can equal no other volume's."""
    counts: dict[str, int] = {}
    for c in containers:
        for path in c.writable_paths:
            counts[volume_name(path)] = counts.get(volume_name(path), 0) + 1
    return {
        (c.name, path): volume_name(path)
        if counts[volume_name(path)] == 1
        else f"{c.name}_{volume_name(path)}"
        for c in containers
        for path in c.writable_paths
    }
