"""The rules between the containers of a task (``task_problems``), each a function of its own,
run in the order they are reported. No cdktf: the props and the settings loader use them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from constructs_lib.container import ContainerProps, NetworkMode, volume_names
from constructs_lib.props import NO_VALUE, Problem

if TYPE_CHECKING:
    # Only annotations: the props module validates with task_problems, so it imports this one.
    from constructs_lib.task_definition_props import Compatibility, Volume

# ECS's limit of containers per task definition.
MAX_CONTAINERS = 10


def _as_problems(found: Sequence[tuple[str, Any, str]]) -> list[Problem]:
    return [Problem(*problem) for problem in found]


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
    task = _Task(
        containers=tuple(containers),
        cpu=cpu,
        memory=memory,
        secrets_kms_key_arn=secrets_kms_key_arn,
        compatibility=compatibility,
        network_mode=network_mode,
        volumes=tuple(volumes),
    )
    return [problem for rule in _TASK_RULES for problem in rule(task)]


@dataclass(frozen=True)
class _Task:
    """What the rules between a task's containers read."""

    containers: tuple[ContainerProps, ...]
    cpu: int | None
    memory: int | None
    secrets_kms_key_arn: str | None
    compatibility: Compatibility
    network_mode: NetworkMode
    volumes: tuple[Volume, ...]

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.containers]


def _network_problems(task: _Task) -> list[Problem]:
    containers, compatibility, network_mode = task.containers, task.compatibility, task.network_mode
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
    return _as_problems(found)


def _volume_problems(task: _Task) -> list[Problem]:
    containers, compatibility, volumes = task.containers, task.compatibility, task.volumes
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
    return _as_problems(found)


def _too_many_containers(task: _Task) -> list[Problem]:
    if len(task.containers) <= MAX_CONTAINERS:
        return []
    return [
        Problem(
            "containers",
            NO_VALUE,
            f"the task would have {len(task.containers)} containers (every one counts, the app's too): "
            f"ECS allows at most {MAX_CONTAINERS} per task definition",
            read=("containers.*",),
        )
    ]


def _names_twice(task: _Task) -> list[Problem]:
    names = task.names
    return [
        Problem(f"containers.{name}", name, "two containers have this name: names must be unique")
        for name in sorted({n for n in names if names.count(n) > 1})
    ]


def _unknown_dependencies(task: _Task) -> list[Problem]:
    names = task.names
    return [
        Problem(
            f"containers.{c.name}.depends_on.{other}",
            c.depends_on[other],
            f"names no container of this task (containers: {', '.join(names)})",
        )
        for c in task.containers
        for other in sorted(c.depends_on)
        if other not in names
    ]


def _condition_problems(task: _Task) -> list[Problem]:
    """A ``depends_on`` condition ECS refuses for the container it waits for."""
    found: list[tuple[str, Any, str]] = []
    by_name = {c.name: c for c in task.containers}
    for c in task.containers:
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
    return _as_problems(found)


def _dependencies_in_a_cycle(task: _Task) -> list[Problem]:
    cycle = _dependency_cycle(task.containers)
    if not cycle:
        return []
    return [
        Problem(
            f"containers.{cycle[0]}.depends_on",
            " -> ".join(cycle),
            "the containers depend on each other in a cycle: none could start",
        )
    ]


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


def _none_essential(task: _Task) -> list[Problem]:
    if any(c.essential for c in task.containers):
        return []
    return [
        Problem(
            "containers",
            task.names,
            "at least one container must be essential (essential = true)",
            read=("containers.*.essential",),
        )
    ]


def _port_problems(task: _Task) -> list[Problem]:
    """Two containers that would bind one port. awsvpc and host: the containers share one
    network (the task's, the instance's), so a container port is one container's. bridge: each
    container has its own namespace, so only a fixed host port (not 0) can clash."""
    containers, network_mode = task.containers, task.network_mode
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
        return _as_problems(found)
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
    return _as_problems(found)


def _port_names_twice(task: _Task) -> list[Problem]:
    """A port mapping's name is the task's (Service Connect's port_name finds it by name alone)."""
    found: list[tuple[str, Any, str]] = []
    owners: dict[str, str] = {}
    for c in task.containers:
        for index, mapping in enumerate(c.ports):
            if mapping.name is None:
                continue
            other = owners.setdefault(mapping.name, c.name)
            if other == c.name and index == _first_named(c, mapping.name):
                continue
            field = "container_port_name" if index == 0 and c.container_port is not None else "port_mappings"
            by = "another of its port mappings" if other == c.name else f"a port of {other}"
            found.append(
                (
                    f"containers.{c.name}.{field}",
                    mapping.name,
                    f"also names {by}: a port name is unique within the task",
                )
            )
    return _as_problems(found)


def _first_named(c: ContainerProps, name: str) -> int:
    return next(i for i, m in enumerate(c.ports) if m.name == name)


def _cpu_over_the_task(task: _Task) -> list[Problem]:
    total = sum(c.cpu or 0 for c in task.containers)
    if task.cpu is None or total <= task.cpu:
        return []
    return [
        Problem(
            "containers",
            total,
            f"their cpu units add up to {total}, over the task's cpu ({task.cpu})",
            read=("cpu", "containers.*.cpu"),
        )
    ]


def _memory_over_the_task(task: _Task) -> list[Problem]:
    total = sum(c.memory or c.memory_reservation or 0 for c in task.containers)
    if task.memory is None or total <= task.memory:
        return []
    return [
        Problem(
            "containers",
            total,
            f"their memory (MiB) adds up to {total}, over the task's memory ({task.memory})",
            read=("memory", "containers.*.memory", "containers.*.memory_reservation"),
        )
    ]


def _memory_of_neither(task: _Task) -> list[Problem]:
    if task.memory is not None:
        return []
    return [
        Problem(
            f"containers.{c.name}.memory_reservation",
            NO_VALUE,
            "is needed (or memory): the task has no memory of its own, so ECS needs each container's",
        )
        for c in task.containers
        if c.memory is None and c.memory_reservation is None
    ]


def _log_routers(task: _Task) -> list[str]:
    return [c.name for c in task.containers if c.firelens is not None]


def _second_log_router(task: _Task) -> list[Problem]:
    routers = _log_routers(task)
    if len(routers) <= 1:
        return []
    return [
        Problem(
            f"containers.{routers[1]}.firelens",
            NO_VALUE,
            f"a task has one FireLens log router ({routers[0]} already)",
        )
    ]


def _firelens_without_a_router(task: _Task) -> list[Problem]:
    if _log_routers(task):
        return []
    return [
        Problem(
            f"containers.{c.name}.log_driver",
            c.log_driver,
            "needs a FireLens log router in the task (a container with firelens = {…})",
        )
        for c in task.containers
        if c.log_driver == "awsfirelens"
    ]


def _key_without_secrets(task: _Task) -> list[Problem]:
    if task.secrets_kms_key_arn is None or any(c.all_secret_arns for c in task.containers):
        return []
    return [
        Problem("secrets_kms_key_arn", task.secrets_kms_key_arn, "is set but there are no secrets to decrypt")
    ]


# In the order the problems are reported.
_TASK_RULES: tuple[Callable[[_Task], list[Problem]], ...] = (
    _network_problems,
    _volume_problems,
    _too_many_containers,
    _names_twice,
    _unknown_dependencies,
    _condition_problems,
    _dependencies_in_a_cycle,
    _none_essential,
    _port_problems,
    _port_names_twice,
    _cpu_over_the_task,
    _memory_over_the_task,
    _memory_of_neither,
    _second_log_router,
    _firelens_without_a_router,
    _key_without_secrets,
)
