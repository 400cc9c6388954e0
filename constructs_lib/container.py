"""One container of a task: its props, the rules between its fields, and its ECS definition.

The definitions of a task are rendered as one JSON text, its strings Terraform text as every
prop's (``props``), and every value known only at plan time (an image tag read from SSM)
goes through ``jsonencode``: no value can add a field or end a string.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationInfo,
    model_validator,
)

from constructs_lib.fields import (
    ContainerName,
    ContainerPath,
    ContainerUser,
    EnvVarName,
    HealthCheckCommand,
    Port,
    PortMappingName,
    SecretArn,
    VolumeName,
)
from constructs_lib.images import ImageSource, ResolvedImage
from constructs_lib.props import NO_VALUE, REPORT_BY_FIELD, Props, problem_text
from ecs_cd.core.credentials import holds_password, secret_looking


def _unique(value: Sequence[Any]) -> Sequence[Any]:
    if len(set(value)) != len(value):
        raise ValueError("must not list the same item twice")
    return value


class HealthCheck(Props):
    """A container health check; timings in seconds, ECS's defaults (30, 5, 3, 0)."""

    command: HealthCheckCommand
    """``["CMD", "<executable>", ...]`` or ``["CMD-SHELL", "<command>"]``."""
    interval: Annotated[StrictInt, Field(ge=5, le=300)] = 30
    """Seconds between checks."""
    timeout: Annotated[StrictInt, Field(ge=2, le=60)] = 5
    """Seconds a check may take; shorter than ``interval``."""
    retries: Annotated[StrictInt, Field(ge=1, le=10)] = 3
    """Failed checks in a row that make the container unhealthy."""
    start_period: Annotated[StrictInt, Field(ge=0, le=300)] = 0
    """Seconds after start during which failures do not count."""

    @model_validator(mode="after")
    def _timeout_within_interval(self) -> HealthCheck:
        if self.timeout >= self.interval:
            raise ValueError("health_check.timeout must be shorter than health_check.interval")
        return self


NetworkMode = Literal["awsvpc", "bridge", "host"]
# The host ports Docker picks for a dynamic mapping ("hostPort": 0) on ECS's instances.
DYNAMIC_HOST_PORTS = (32768, 65535)


# The application protocol of a named port (ECS's appProtocol): what Service Connect's proxy
# speaks on it (metrics and retries per request); without it, plain TCP.
AppProtocol = Literal["http", "http2", "grpc"]


class PortMapping(Props):
    """A port the container listens on; ``protocol`` default ``tcp``; ``host_port`` default None:
    the task's network mode decides (awsvpc and host: the container port; bridge: 0, a dynamic
    port the instance picks). Another host port is allowed in bridge mode only. ``name`` (default
    None) is what a service's Service Connect ``port_name`` refers to; ``app_protocol`` (default
    None: TCP) needs a name."""

    container_port: Port
    """The port the container listens on."""
    protocol: Literal["tcp", "udp"] = "tcp"
    """``tcp`` or ``udp``."""
    host_port: Annotated[StrictInt, Field(ge=0, le=65535)] | None = None
    """The instance's port; one other than the container port in ``bridge`` networking only
    (unset: the network mode decides: the container port, or 0, a dynamic port, in ``bridge``)."""
    name: PortMappingName | None = None
    """The mapping's name, what a Service Connect ``port_name`` refers to (unset: unnamed)."""
    app_protocol: AppProtocol | None = None
    """``http``, ``http2`` or ``grpc``: what Service Connect's proxy speaks on the port (needs a
    name; unset: plain TCP)."""

    def host_port_in(self, network_mode: NetworkMode) -> int:
        """The host port ECS gets in ``network_mode``."""
        if self.host_port is not None:
            return self.host_port
        return 0 if network_mode == "bridge" else self.container_port


class MountPoint(Props):
    """A task volume (``source_volume``, required) mounted at ``container_path`` (required);
    ``read_only`` default False."""

    source_volume: VolumeName
    """The task volume (one of the service's ``volumes``)."""
    container_path: ContainerPath
    """The absolute path it is mounted at."""
    read_only: StrictBool = False
    """Mounted read-only."""


class VolumesFrom(Props):
    """Mount every volume of another container of the task (``source_container``, required);
    ``read_only`` default False."""

    source_container: ContainerName
    """Another container of the task."""
    read_only: StrictBool = False
    """Its volumes are mounted read-only."""


DependencyCondition = Literal["START", "COMPLETE", "SUCCESS", "HEALTHY"]


class Firelens(Props):
    """Makes the container the task's FireLens log router; ``type`` default ``fluentbit``;
    ``options`` default none (e.g. ``enable-ecs-log-metadata = "true"``)."""

    type: Literal["fluentbit", "fluentd"] = "fluentbit"
    """The router's image kind: ``fluentbit`` or ``fluentd``."""
    options: Mapping[Annotated[StrictStr, Field(min_length=1, max_length=255)], StrictStr] = Field(
        default_factory=dict
    )
    """FireLens options, e.g. ``enable-ecs-log-metadata = "true"``."""


LogOptionName = Annotated[StrictStr, Field(pattern=r"^[A-Za-z0-9_.-]{1,255}$")]


class ContainerProps(Props):
    """What runs in one container of a task. Defaults are ECS's unless said otherwise; each
    field's docstring says what it is."""

    name: ContainerName
    """The container's name, unique within the task; its log stream prefix."""
    image: ImageSource
    """Where the image comes from: ``SsmTag``, ``EcrDigest``, ``Fixed`` or ``ResolvedImage``."""
    container_port: Port | None = None
    """A TCP port, the one a load balancer may send to (unset: none)."""
    container_port_name: PortMappingName | None = None
    """The name of ``container_port``'s mapping, what Service Connect's ``port_name`` refers to
    (unset: unnamed)."""
    app_protocol: AppProtocol | None = None
    """What Service Connect's proxy speaks on ``container_port``: ``http``, ``http2`` or ``grpc``
    (needs a name; unset: plain TCP)."""
    port_mappings: tuple[PortMapping, ...] = ()
    """Further ports (e.g. UDP), beside ``container_port``."""
    environment: Mapping[EnvVarName, StrictStr] = Field(default_factory=dict)
    """Variables, ``{ NAME = "value" }``; a credential-looking name or a URL with a password is
    refused: use ``secrets``."""
    secrets: Mapping[EnvVarName, SecretArn] = Field(default_factory=dict)
    """Secrets, ``{ NAME = "<SSM parameter or Secrets Manager secret ARN>" }``, resolved by ECS
    when a task starts; the execution role may read exactly these."""
    command: tuple[StrictStr, ...] | None = None
    """The command, an argv list (unset: the image's)."""
    entry_point: tuple[StrictStr, ...] | None = None
    """The entry point, an argv list (unset: the image's)."""
    health_check: HealthCheck | None = None
    """The container's health check (unset: none)."""
    essential: StrictBool = True
    """The task stops when this container stops."""
    depends_on: Mapping[ContainerName, DependencyCondition] = Field(default_factory=dict)
    """The containers this one waits for: ``{ container = "START" | "COMPLETE" | "SUCCESS" |
    "HEALTHY" }``."""
    cpu: Annotated[StrictInt, Field(ge=0, le=196608)] | None = None
    """CPU units (unset: a share of the task's)."""
    memory: Annotated[StrictInt, Field(ge=6, le=1048576)] | None = None
    """Hard memory limit in MiB (unset: none of its own)."""
    memory_reservation: Annotated[StrictInt, Field(ge=6, le=1048576)] | None = None
    """Soft memory limit in MiB (unset: none)."""
    log_driver: Literal["awslogs", "awsfirelens"] = "awslogs"
    """``awslogs`` (the task's log group, stream prefix the container's name) or ``awsfirelens``
    (through the task's FireLens log router)."""
    log_options: Mapping[LogOptionName, StrictStr] = Field(default_factory=dict)
    """Options of the log driver (with ``awsfirelens``: the router's output plugin's)."""
    log_secret_options: Mapping[LogOptionName, SecretArn] = Field(default_factory=dict)
    """Log driver options read from secrets: ``{ name = "<ARN>" }`` (e.g. a log destination's
    API key)."""
    firelens: Firelens | None = None
    """Makes this container the task's FireLens log router (unset: it is not)."""
    user: ContainerUser | None = None
    """``user`` or ``user:group`` to run as; root (``root``, ``0``) is refused (unset: the image's)."""
    readonly_root_filesystem: StrictBool = True
    """Hardening: the root filesystem is read-only (list what the container writes to in
    ``writable_paths``)."""
    writable_paths: Annotated[tuple[ContainerPath, ...], Field(max_length=10), AfterValidator(_unique)] = ()
    """Absolute paths that get a writable task volume (e.g. ``["/tmp"]``), at most 10, each once."""
    mount_points: tuple[MountPoint, ...] = ()
    """The task's volumes mounted in this container."""
    volumes_from: tuple[VolumesFrom, ...] = ()
    """Other containers of the task whose volumes this one mounts."""
    links: Annotated[tuple[ContainerName, ...], AfterValidator(_unique)] = ()
    """Containers reachable by name (``bridge`` networking only)."""

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> ContainerProps:
        if isinstance(info.context, Mapping) and info.context.get(REPORT_BY_FIELD):
            return self
        problems = container_problems(self)
        if problems:
            raise ValueError(problem_text(problems))
        return self

    @property
    def ports(self) -> tuple[PortMapping, ...]:
        """Every port: ``container_port`` (tcp) first, then ``port_mappings``."""
        first = (
            (
                PortMapping.model_construct(
                    container_port=self.container_port,
                    protocol="tcp",
                    host_port=None,
                    name=self.container_port_name,
                    app_protocol=self.app_protocol,
                ),
            )
            if self.container_port
            else ()
        )
        return first + self.port_mappings

    @property
    def all_secret_arns(self) -> tuple[str, ...]:
        """The ARNs ECS reads for this container: its secrets and its log secret options."""
        return tuple(sorted({*self.secrets.values(), *self.log_secret_options.values()}))


def container_problems(c: ContainerProps) -> list[tuple[str, Any, str]]:
    """Contradictions between one container's fields, as (field, value or NO_VALUE, what is allowed).

    The one home of these rules: the props validate with it, the settings loader reports
    each problem at its field with it."""
    return [problem for rule in _CONTAINER_RULES for problem in rule(c)]


_Found = list[tuple[str, Any, str]]
# Why a credential must not be a plain environment value, whichever way it was spotted.
_MOVE_TO_SECRETS = (
    "plain environment values are readable by anyone who can describe the task definition, so move it "
    "to secrets (NAME = '<SSM parameter or Secrets Manager ARN>')"
)


def _credentials_in_environment(c: ContainerProps) -> _Found:
    found: _Found = []
    for key in sorted(c.environment):
        if secret_looking(key):
            found.append((f"environment.{key}", NO_VALUE, f"looks like a credential: {_MOVE_TO_SECRETS}"))
        elif holds_password(key, c.environment[key]):
            found.append(
                (
                    f"environment.{key}",
                    NO_VALUE,
                    f"holds a password (a URL's 'user:password@'): {_MOVE_TO_SECRETS}",
                )
            )
    return found


def _set_in_environment_and_secrets(c: ContainerProps) -> _Found:
    return [
        (f"secrets.{key}", NO_VALUE, "is also set in environment: keep one of the two")
        for key in sorted(set(c.environment) & set(c.secrets))
    ]


def _port_listed_twice(c: ContainerProps) -> _Found:
    found: _Found = []
    seen: set[tuple[int, str]] = set()
    for mapping in c.ports:
        port = (mapping.container_port, mapping.protocol)
        if port in seen:
            found.append(
                (
                    "port_mappings",
                    mapping.container_port,
                    f"lists {mapping.protocol} port {mapping.container_port} twice",
                )
            )
        seen.add(port)
    return found


def _port_names(c: ContainerProps) -> _Found:
    """A port's name and application protocol go with a port: ``container_port_name`` and
    ``app_protocol`` with ``container_port``, an application protocol with a name."""
    found: _Found = []
    if c.container_port is None:
        found += [
            (field, getattr(c, field), "names the mapping of container_port, which is not set")
            for field in ("container_port_name", "app_protocol")
            if getattr(c, field) is not None
        ]
    elif c.app_protocol is not None and c.container_port_name is None:
        found.append(
            ("app_protocol", c.app_protocol, "needs container_port_name (ECS applies it to named ports only)")
        )
    found += [
        (
            "port_mappings",
            m.container_port,
            f"sets app_protocol = {m.app_protocol!r} without a name (ECS applies it to named ports only)",
        )
        for m in c.port_mappings
        if m.app_protocol is not None and m.name is None
    ]
    return found


def _writable_paths_share_a_volume(c: ContainerProps) -> _Found:
    if len({volume_name(p) for p in c.writable_paths}) == len(c.writable_paths):
        return []
    return [
        ("writable_paths", list(c.writable_paths), "two paths map to one volume (they differ only in '/._')")
    ]


def _refers_to_itself(c: ContainerProps) -> _Found:
    found: _Found = []
    if c.name in c.depends_on:
        found.append((f"depends_on.{c.name}", c.depends_on[c.name], "a container cannot depend on itself"))
    if c.name in c.links:
        found.append(("links", c.name, "a container cannot link to itself"))
    if c.name in {v.source_container for v in c.volumes_from}:
        found.append(("volumes_from", c.name, "a container cannot mount its own volumes"))
    return found


def _mounted_at_one_path(c: ContainerProps) -> _Found:
    paths = [*c.writable_paths, *(m.container_path for m in c.mount_points)]
    return [
        ("mount_points", path, "two volumes are mounted at this path")
        for path in sorted({p for p in paths if paths.count(p) > 1})
    ]


def _reservation_over_memory(c: ContainerProps) -> _Found:
    if c.memory is None or c.memory_reservation is None or c.memory_reservation <= c.memory:
        return []
    return [
        (
            "memory_reservation",
            c.memory_reservation,
            f"must not exceed memory ({c.memory}): the soft limit is below the hard one",
        )
    ]


def _log_options_without_firelens(c: ContainerProps) -> _Found:
    if c.log_driver != "awslogs" or not (c.log_options or c.log_secret_options):
        return []
    return [
        (
            "log_options",
            NO_VALUE,
            "only with log_driver = 'awsfirelens' (awslogs writes to the task's log group)",
        )
    ]


def _router_logs_through_itself(c: ContainerProps) -> _Found:
    if c.firelens is None or c.log_driver != "awsfirelens":
        return []
    return [("log_driver", c.log_driver, "the FireLens router cannot log through itself: use awslogs")]


# In the order the problems are reported.
_CONTAINER_RULES: tuple[Callable[[ContainerProps], _Found], ...] = (
    _credentials_in_environment,
    _set_in_environment_and_secrets,
    _port_listed_twice,
    _port_names,
    _writable_paths_share_a_volume,
    _refers_to_itself,
    _mounted_at_one_path,
    _reservation_over_memory,
    _log_options_without_firelens,
    _router_logs_through_itself,
)


def volume_name(path: str) -> str:
    """The task volume backing a writable path: '/var/cache/app' -> 'var-cache-app'."""
    return path.strip("/").replace("/", "-").replace(".", "-").replace("_", "-")


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


def container_definition(
    c: ContainerProps,
    *,
    image: str,
    log_group: str,
    region: str,
    volumes: Mapping[str, str],
    network_mode: NetworkMode = "awsvpc",
) -> dict[str, Any]:
    """The container definition (ECS's JSON shape) of ``c``; ``image`` is a placeholder or literal.

    ``volumes`` maps each of ``c.writable_paths`` to its task volume; ``network_mode`` (default
    awsvpc) is the task's, which decides the host ports."""
    definition: dict[str, Any] = {
        "name": c.name,
        "image": image,
        "essential": c.essential,
        # Sorted so the rendered JSON (and so the plan) does not change with dict order.
        "environment": [{"name": key, "value": c.environment[key]} for key in sorted(c.environment)],
        "readonlyRootFilesystem": c.readonly_root_filesystem,
        "privileged": False,
        "logConfiguration": _log_configuration(c, log_group=log_group, region=region),
    }
    # What a container may leave unset: None leaves a field out (so does an empty list, but for
    # command and entryPoint, which are kept as written).
    optional: dict[str, Any] = {
        "portMappings": _port_mappings(c, network_mode) or None,
        "secrets": _name_value_from(c.secrets) or None,
        "mountPoints": _mount_points(c, volumes) or None,
        "volumesFrom": _volumes_from(c) or None,
        "links": list(c.links) or None,
        "user": c.user,
        "command": None if c.command is None else list(c.command),
        "entryPoint": None if c.entry_point is None else list(c.entry_point),
        "healthCheck": None if c.health_check is None else _health_check(c.health_check),
        "dependsOn": _depends_on(c) or None,
        "cpu": c.cpu,
        "memory": c.memory,
        "memoryReservation": c.memory_reservation,
        "firelensConfiguration": None if c.firelens is None else _firelens_configuration(c.firelens),
    }
    definition.update({key: value for key, value in optional.items() if value is not None})
    return definition


def _log_configuration(c: ContainerProps, *, log_group: str, region: str) -> dict[str, Any]:
    """awslogs: the task's log group, a stream per container; awsfirelens: the container's options."""
    if c.log_driver == "awslogs":
        return {
            "logDriver": "awslogs",
            "options": {
                "awslogs-group": log_group,
                "awslogs-region": region,
                "awslogs-stream-prefix": c.name,
            },
        }
    log: dict[str, Any] = {"logDriver": "awsfirelens"}
    if c.log_options:
        log["options"] = {key: c.log_options[key] for key in sorted(c.log_options)}
    if c.log_secret_options:
        log["secretOptions"] = _name_value_from(c.log_secret_options)
    return log


def _name_value_from(arns: Mapping[str, str]) -> list[dict[str, str]]:
    """Secrets as ECS takes them: each name with the ARN ECS reads its value from."""
    return [{"name": key, "valueFrom": arns[key]} for key in sorted(arns)]


def _port_mappings(c: ContainerProps, network_mode: NetworkMode) -> list[dict[str, Any]]:
    mappings: list[dict[str, Any]] = []
    for p in c.ports:
        mapping: dict[str, Any] = {
            "containerPort": p.container_port,
            "hostPort": p.host_port_in(network_mode),
            "protocol": p.protocol,
        }
        # Only when set: the definitions of a task without Service Connect stay as they were.
        if p.name is not None:
            mapping["name"] = p.name
        if p.app_protocol is not None:
            mapping["appProtocol"] = p.app_protocol
        mappings.append(mapping)
    return mappings


def _mount_points(c: ContainerProps, volumes: Mapping[str, str]) -> list[dict[str, Any]]:
    """The writable paths' own volumes first, then the task volumes mounted by name."""
    return [
        {"sourceVolume": volumes[path], "containerPath": path, "readOnly": False} for path in c.writable_paths
    ] + [
        {"sourceVolume": m.source_volume, "containerPath": m.container_path, "readOnly": m.read_only}
        for m in c.mount_points
    ]


def _volumes_from(c: ContainerProps) -> list[dict[str, Any]]:
    return [{"sourceContainer": v.source_container, "readOnly": v.read_only} for v in c.volumes_from]


def _depends_on(c: ContainerProps) -> list[dict[str, str]]:
    return [{"containerName": name, "condition": c.depends_on[name]} for name in sorted(c.depends_on)]


def _health_check(check: HealthCheck) -> dict[str, Any]:
    return {
        "command": list(check.command),
        "interval": check.interval,
        "timeout": check.timeout,
        "retries": check.retries,
        "startPeriod": check.start_period,
    }


def _firelens_configuration(firelens: Firelens) -> dict[str, Any]:
    configuration: dict[str, Any] = {"type": firelens.type}
    if firelens.options:
        configuration["options"] = {key: firelens.options[key] for key in sorted(firelens.options)}
    return configuration


def render_definitions(definitions: Sequence[Mapping[str, Any]], images: Sequence[ResolvedImage]) -> str:
    """The ``container_definitions`` text: JSON of ``definitions`` (whose strings are Terraform
    text, see ``terraform_text``) whose images (``images[i]`` for ``definitions[i]``) are JSON
    strings or, when only known at plan time, ``${jsonencode(…)}`` of the token."""
    from cdktf import Fn, Token

    placeholders: dict[str, str] = {}
    documents = []
    for index, (definition, image) in enumerate(zip(definitions, images, strict=True)):
        if Token.is_unresolved(image.reference):
            # A marker no JSON string escape can produce: it replaces the whole quoted value.
            marker = f"\u0000image-{index}\u0000"
            placeholders[json.dumps(marker)] = Fn.jsonencode(image.reference)
            documents.append({**definition, "image": marker})
        else:
            documents.append({**definition, "image": image.reference})
    text = json.dumps(documents)
    for quoted, expression in placeholders.items():
        if text.count(quoted) != 1:
            raise ValueError(
                "a container definition value contains NUL characters, which ECS does not accept"
            )
        text = text.replace(quoted, expression)
    return text
