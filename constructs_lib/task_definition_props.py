"""The props of a task definition and the rules between its containers (no cdktf: the loader uses them)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Annotated, Any

from pydantic import Field, StrictInt, StrictStr, model_validator

from constructs_lib.container import NO_VALUE, ContainerProps, container_definition, problem_text, volume_name
from constructs_lib.fields import EcsName, KmsKeyArn, Region
from constructs_lib.images import EcrDigest, Fixed, ImageSource, SsmTag
from constructs_lib.props import Props
from core.aws_formats import (
    IMAGE_REFERENCE_MAX,
    IMAGE_TAG_MAX,
    validate_arn_in_region,
    validate_fargate_size,
    validate_task_definition_size,
)

# ECS's limit of containers per task definition.
MAX_CONTAINERS = 10


class TaskDefinitionProps(Props):
    """A task of ``containers`` (1-10, in order) on Fargate (awsvpc).

    - ``family``, ``region``, ``log_group_name``, ``execution_role_name``,
      ``task_role_name`` (required).
    - ``cpu`` (default 256 units) and ``memory`` (default 512 MiB): a Fargate size; the
      containers' own cpu and memory must fit in it.
    - ``log_retention_days`` (default 30), ``log_kms_key_arn`` (default None: CloudWatch's
      own encryption), ``secrets_kms_key_arn`` (default None: secrets use AWS managed keys);
      keys in ``region``.
    - ``account_id`` (default None: no condition): the account whose ECS alone may assume
      the roles (``aws:SourceAccount``/``aws:SourceArn``); may be a token, e.g. from
      ``data.aws_caller_identity``.
    """

    family: EcsName
    containers: Annotated[tuple[ContainerProps, ...], Field(min_length=1, max_length=MAX_CONTAINERS)]
    region: Region
    log_group_name: Annotated[StrictStr, Field(pattern=r"^[A-Za-z0-9_./#-]{1,512}$")]
    execution_role_name: Annotated[StrictStr, Field(pattern=r"^[A-Za-z0-9+=,.@_-]{1,64}$")]
    task_role_name: Annotated[StrictStr, Field(pattern=r"^[A-Za-z0-9+=,.@_-]{1,64}$")]
    cpu: StrictInt = 256
    memory: StrictInt = 512
    log_retention_days: Annotated[StrictInt, Field(ge=1)] = 30
    log_kms_key_arn: KmsKeyArn | None = None
    secrets_kms_key_arn: KmsKeyArn | None = None
    account_id: Annotated[StrictStr, Field(pattern=r"^(?:[0-9]{12}|\$\{.+\})$")] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> TaskDefinitionProps:
        validate_fargate_size(self.cpu, self.memory)
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
            self.containers, cpu=self.cpu, memory=self.memory, secrets_kms_key_arn=self.secrets_kms_key_arn
        )
        if problems:
            raise ValueError(problem_text(problems))
        validate_task_definition_size(
            definitions_size(self.containers, region=self.region, log_group_name=self.log_group_name)
        )
        return self


def _longest_image(image: ImageSource) -> int:
    """The most characters ``image`` can have in the definitions: a tag read from SSM counts at its
    maximum, a digest at its length, a token (known only at plan time) as the longest reference."""
    if isinstance(image, SsmTag):
        return len(image.repository) + 1 + IMAGE_TAG_MAX
    if isinstance(image, EcrDigest):
        return len(image.repository) + len("@sha256:") + 64
    if isinstance(image, Fixed):
        return len(image.reference)
    return IMAGE_REFERENCE_MAX if "${" in image.reference else len(image.reference)


def definitions_size(containers: Sequence[ContainerProps], *, region: str, log_group_name: str) -> int:
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
        )
        for c in containers
    ]
    text = json.dumps(documents, separators=(",", ":"), ensure_ascii=False)
    return len(text.encode("utf-8", "surrogatepass")) + sum(_longest_image(c.image) for c in containers)


def task_problems(
    containers: Sequence[ContainerProps], *, cpu: int, memory: int, secrets_kms_key_arn: str | None
) -> list[tuple[str, Any, str]]:
    """Contradictions between the containers of a task, as (field, value, what is allowed).

    Fields are relative to the task: ``containers.<name>.<field>``. The one home of these
    rules: the props validate with it, the settings loader reports each at its field."""
    cpu_limit, memory_limit = cpu, memory
    found: list[tuple[str, Any, str]] = []
    names = [c.name for c in containers]
    for name in sorted({n for n in names if names.count(n) > 1}):
        found.append((f"containers.{name}", name, "two containers have this name: names must be unique"))
    known = set(names)
    for c in containers:
        for other in sorted(c.depends_on):
            if other not in known:
                found.append(
                    (
                        f"containers.{c.name}.depends_on.{other}",
                        c.depends_on[other],
                        f"names no container of this task (containers: {', '.join(names)})",
                    )
                )
    cycle = _dependency_cycle(containers)
    if cycle:
        found.append(
            (
                f"containers.{cycle[0]}.depends_on",
                " -> ".join(cycle),
                "the containers depend on each other in a cycle: none could start",
            )
        )
    if not any(c.essential for c in containers):
        found.append(("containers", names, "at least one container must be essential (essential = true)"))
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
                        f"{mapping.protocol} port {mapping.container_port} is also {other}'s: the containers "
                        "of a task share one network namespace",
                    )
                )
    cpu_total = sum(c.cpu or 0 for c in containers)
    if cpu_total > cpu_limit:
        found.append(
            (
                "containers",
                cpu_total,
                f"their cpu units add up to {cpu_total}, over the task's cpu ({cpu_limit})",
            )
        )
    memory_total = sum(c.memory or c.memory_reservation or 0 for c in containers)
    if memory_total > memory_limit:
        found.append(
            (
                "containers",
                memory_total,
                f"their memory (MiB) adds up to {memory_total}, over the task's memory ({memory_limit})",
            )
        )
    routers = [c.name for c in containers if c.firelens is not None]
    if len(routers) > 1:
        found.append(
            (
                f"containers.{routers[1]}.firelens",
                NO_VALUE,
                f"a task has one FireLens log router ({routers[0]} already)",
            )
        )
    for c in containers:
        if c.log_driver == "awsfirelens" and not routers:
            found.append(
                (
                    f"containers.{c.name}.log_driver",
                    c.log_driver,
                    "needs a FireLens log router in the task (a container with firelens = {…})",
                )
            )
    secrets = any(c.all_secret_arns for c in containers)
    if secrets_kms_key_arn is not None and not secrets:
        found.append(
            ("secrets_kms_key_arn", secrets_kms_key_arn, "is set but there are no secrets to decrypt")
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
