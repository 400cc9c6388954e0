"""The configuration file's tables as models, and the validated settings the stacks read.

The models hold what the file says; the rules between a service's fields live in the
constructs' own props (``constructs_lib``), which ``build`` checks a merged service against.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
    model_validator,
)

from constructs_lib.container import (
    AppProtocol,
    ContainerProps,
    DependencyCondition,
    HealthCheck,
    LogOptionName,
    MountPoint,
    NetworkMode,
    PortMapping,
    VolumesFrom,
)
from constructs_lib.ec2_capacity_props import Ec2CapacityProps
from constructs_lib.fields import (
    ContainerName,
    ContainerPath,
    ContainerUser,
    EcsName,
    EnvVarName,
    ImageTag,
    KmsKeyArn,
    LogGroupName,
    Port,
    PortMappingName,
    Repository,
    RoleName,
    SecretArn,
    SecurityGroupName,
    SsmName,
    TagKey,
    TagValue,
    TargetGroupName,
)
from constructs_lib.imports import ServiceImports
from constructs_lib.queue_props import ServiceQueue
from constructs_lib.schedule_props import JobSchedule
from constructs_lib.service_connect_props import ServiceConnectServer
from constructs_lib.service_props import Autoscaling, Compute, Deployment, ListenerRule
from constructs_lib.task_definition_props import TaskDefinitionProps, Volume
from ecs_cd.core import image_strategies
from ecs_cd.core.names import ServiceNames, service_connect_port_name
from stacks.configuration.environment_file import (
    AwsAccess,
    ClusterSettings,
    ConfigModel,
    LoadBalancerSettings,
    NetworkSettings,
    unique_items,
)
from stacks.configuration.namespace import ServiceConnectNamespace
from stacks.configuration.state_model import LocalState, S3State

# The provider bindings pin null 3.2.4 exactly; the range admits the 2.x series as
# well because the null_resource schema is the same and offline machines may only
# have a mirrored 2.1.2. Override it in [terraform] to pin.
DEFAULT_NULL_PROVIDER_VERSION = ">= 2.1.2, < 4.0.0"

# A Terraform version constraint: comma-separated conditions, each an optional operator and a
# version (1 to 3 numbers, an optional pre-release and build suffix).
_CONDITION = (
    r" *(?:(?:=|!=|>=|<=|>|<|~>) *)?[0-9]+(?:\.[0-9]+){0,2}(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)? *"
)
VERSION_CONSTRAINT = re.compile(rf"{_CONDITION}(?:,{_CONDITION})*", re.ASCII)


class ServiceLoadBalancerSettings(ListenerRule):
    """A listener rule on the environment's load balancer and ``container``, the container it
    sends to (default: the app container, named after the service)."""

    container: ContainerName | None = None
    """The container the rule sends to; it needs a ``container_port`` (unset: the app container)."""


def _overrides_fit(command: list[str]) -> list[str]:
    # RunTask refuses container overrides above 8192 characters in all.
    if sum(len(part) for part in command) > 8000:
        raise ValueError("must be at most 8000 characters in all (RunTask's overrides limit)")
    return command


class PreDeploy(ConfigModel):
    """A one-off task `ecs-release deploy` runs on a service's new revision before the service
    rolls to it (a database migration): the rollout goes on only if it exits 0."""

    command: Annotated[
        list[Annotated[StrictStr, Field(min_length=1)]], Field(min_length=1), AfterValidator(_overrides_fit)
    ]
    """The command to run, an argv list; at most 8000 characters in all (RunTask's limit)."""
    container: ContainerName | None = None
    """The container it runs in, one of the task's (unset: the app container)."""
    timeout_seconds: Annotated[StrictInt, Field(ge=1, le=86_400)] = 900
    """How long the task may take, from RunTask to STOPPED, in seconds."""


class ServiceNameOverrides(ConfigModel):
    """A service's AWS names where they differ from the derived ones (``ecs_cd.core.names``): a
    service adopted under names of its own. Each default None: the derived name."""

    service: EcsName | None = None
    """The ECS service's name (unset: ``<service>``)."""
    task_family: EcsName | None = None
    """The task definition's family (unset: ``<project>-<env>-<service>``)."""
    log_group: LogGroupName | None = None
    """The log group's name (unset: ``/ecs/<project>/<env>/<service>``)."""
    execution_role: RoleName | None = None
    """The task execution role's name (unset: ``<project>-<env>-<service>-exec``)."""
    task_role: RoleName | None = None
    """The task role's name (unset: ``<project>-<env>-<service>-task``)."""
    security_group: SecurityGroupName | None = None
    """The tasks' security group's name (unset: ``<project>-<env>-<service>-tasks``)."""
    target_group: TargetGroupName | None = None
    """The target group's name (unset: a hashed 32-character name)."""

    def applied_to(self, derived: ServiceNames) -> ServiceNames:
        """The derived names with these in their place."""
        return replace(derived, **{k: v for k, v in self if v is not None})


class ServiceFile(ConfigModel):
    """A ``[services.<name>]`` table as the file writes it, merged with an environment's override:
    flat (the app container's fields and the task's are the service's own). ``build`` checks it
    against the constructs' props and maps it into ``ServiceSettings``."""

    name: StrictStr
    """The service's name: its table key (``[services.<name>]``), never written as a field."""
    repository: Repository
    """The app's image repository, without tag or digest (e.g.
    ``123456789012.dkr.ecr.us-east-1.amazonaws.com/api``). Required: in the service's table or in
    every environment's override of it."""
    # On Fargate the default is filled in before validation (_fargate_size_by_default).
    cpu: StrictInt | None = None
    """The task's CPU units. On Fargate one of Fargate's sizes (unset: 256); on EC2 optional,
    128-196608 (unset: the containers' own limits count)."""
    memory: StrictInt | None = None
    """The task's memory in MiB. On Fargate a size Fargate allows with ``cpu`` (unset: 512); on EC2
    optional (unset: each container needs ``container_memory`` or ``memory_reservation``)."""
    compute: Compute = Field(default_factory=Compute)
    """Where the tasks run: a launch type, or a capacity provider strategy (default: Fargate)."""
    network_mode: NetworkMode = "awsvpc"
    """The task's networking: ``awsvpc``, or on EC2 ``bridge`` (a port's host port is dynamic unless
    ``port_mappings`` sets one; ``links`` allowed) or ``host``."""
    volumes: tuple[Volume, ...] = ()
    """The task's volumes, which the containers' ``mount_points`` name."""
    desired_count: Annotated[StrictInt, Field(ge=0, le=1000)] = 1
    """The number of tasks to run (within the scaler's bounds with ``autoscaling`` or ``queue``)."""
    container_port: Port | None = None
    """The app container's TCP port, the one a load balancer sends to (unset: no port)."""
    container_port_name: PortMappingName | None = None
    """The name of ``container_port``'s mapping, what ``service_connect.port_name`` refers to: 1-64
    of ``a-z0-9_-``, not starting with ``-``, unique in the task (unset: unnamed, or the service's
    name when ``service_connect`` serves it)."""
    app_protocol: AppProtocol | None = None
    """What Service Connect's proxy speaks on ``container_port`` (needs a name; unset: plain TCP)."""
    environment: dict[EnvVarName, StrictStr] = Field(default_factory=dict)
    """The app container's variables, ``{ NAME = "value" }``, merged key by key with an environment's
    override. A credential-looking name (``DB_PASSWORD``, ``DATABASE_URL``, ...) or a URL with a
    password is refused: use ``secrets``."""
    command: list[StrictStr] | None = None
    """The app container's command, an argv list (unset: the image's)."""
    entry_point: list[StrictStr] | None = None
    """The app container's entry point, an argv list (unset: the image's)."""
    health_check: HealthCheck | None = None
    """The app container's health check (unset: none)."""
    image_tag_parameter: SsmName | None = None
    """The SSM parameter that holds the app's image tag; ``{project}``, ``{service}`` and ``{env}``
    are replaced per environment, any other ``{...}`` is refused (unset:
    ``/<service>/<env>/docker-image-tag``)."""
    image_strategy: image_strategies.ImageStrategy = "timestamp"
    """How a release changes the image: ``timestamp`` (redeploy on every apply), ``ssm-tag`` (a new
    tag in SSM) or ``digest`` (the tag resolved to its ECR digest)."""
    tags: dict[TagKey, TagValue] = Field(default_factory=dict)
    """Tags of the service's resources, beside ``Service = <name>`` and the project's and the
    environment's; merged key by key with an environment's override; at most 50 per resource in all."""
    image_tag: ImageTag | None = None
    """A fixed tag such as ``latest``, resolved to its digest instead of reading the SSM parameter;
    only with ``image_strategy = "digest"`` (unset: the tag from SSM)."""
    secrets: dict[EnvVarName, SecretArn] = Field(default_factory=dict)
    """The app container's secrets, ``{ NAME = "<SSM parameter or Secrets Manager secret ARN>" }``,
    resolved by ECS when a task starts (the execution role may read exactly these); merged key by
    key with an environment's override."""
    secrets_kms_key_arn: KmsKeyArn | None = None
    """The customer-managed key the secrets are encrypted with, in the environment's region (adds
    ``kms:Decrypt`` on it only; unset: AWS managed keys)."""
    readonly_root_filesystem: StrictBool = True
    """Hardening: the app container's root filesystem is read-only (list what it writes to in
    ``writable_paths``)."""
    writable_paths: Annotated[list[ContainerPath], Field(max_length=10), AfterValidator(unique_items)] = (
        Field(default_factory=list)
    )
    """Absolute paths of the app container that get a writable task volume (e.g. ``["/tmp"]``),
    at most 10, each once."""
    user: ContainerUser | None = None
    """``user`` or ``user:group`` the app runs as; root (``root``, ``0``) is refused (unset: the
    image's)."""
    port_mappings: tuple[PortMapping, ...] = ()
    """The app container's further ports (e.g. UDP), beside ``container_port``."""
    depends_on: dict[ContainerName, DependencyCondition] = Field(default_factory=dict)
    """The containers the app waits for: ``{ container = "START" | "COMPLETE" | "SUCCESS" |
    "HEALTHY" }``."""
    log_driver: Literal["awslogs", "awsfirelens"] = "awslogs"
    """Where the app logs: ``awslogs`` (the service's log group) or ``awsfirelens`` (through the
    task's FireLens log router, a container with ``firelens``)."""
    log_options: dict[LogOptionName, StrictStr] = Field(default_factory=dict)
    """Options of the log driver (with ``awsfirelens``: the router's output plugin's)."""
    log_secret_options: dict[LogOptionName, SecretArn] = Field(default_factory=dict)
    """Log driver options read from secrets: ``{ name = "<ARN>" }`` (e.g. a log destination's API key)."""
    # cpu and memory above size the task; these are the app container's own limits.
    container_cpu: Annotated[StrictInt, Field(ge=0, le=196608)] | None = None
    """The app container's own CPU units (unset: a share of the task's)."""
    container_memory: Annotated[StrictInt, Field(ge=6, le=1048576)] | None = None
    """The app container's hard memory limit in MiB (unset: none of its own)."""
    memory_reservation: Annotated[StrictInt, Field(ge=6, le=1048576)] | None = None
    """The app container's soft memory limit in MiB (unset: none)."""
    mount_points: tuple[MountPoint, ...] = ()
    """The task's volumes mounted in the app container."""
    volumes_from: tuple[VolumesFrom, ...] = ()
    """Other containers of the task whose volumes the app container mounts."""
    links: Annotated[tuple[ContainerName, ...], AfterValidator(unique_items)] = ()
    """Containers the app reaches by name (``bridge`` networking only)."""
    containers: dict[ContainerName, ContainerProps] = Field(default_factory=dict)
    """The task's other containers (sidecars), ``[services.<name>.containers.<container>]``, in
    file order; merged container by container with an environment's override."""
    deployment: Deployment = Field(default_factory=Deployment)
    """How ECS replaces the tasks: a rolling update guarded by the circuit breaker."""
    load_balancer: ServiceLoadBalancerSettings | None = None
    """A rule on the environment's load balancer that sends to the service (needs the environment's
    ``load_balancer``; unset: none)."""
    autoscaling: Autoscaling | None = None
    """Target tracking on CPU and/or memory (not with ``queue``; unset: a fixed ``desired_count``)."""
    queue: ServiceQueue | None = None
    """A queue worker: the SQS queue it reads and its scaling on the queue's backlog (not with
    ``autoscaling``; unset: none)."""
    pre_deploy: PreDeploy | None = None
    """A one-off task ``ecs-release deploy`` runs on the new revision before each rollout (a
    database migration; unset: none)."""
    service_connect: ServiceConnectServer | None = None
    """The port the environment's other services call this one on through ECS Service Connect
    (needs the environment's ``service_connect``; unset: a client only, when there is a namespace)."""
    schedule: JobSchedule | None = None
    """Makes the service a scheduled job: its task run by an EventBridge Scheduler schedule, no ECS
    service; not with ``load_balancer``, ``autoscaling``, ``desired_count``, ``deployment``,
    ``pre_deploy`` or ``adopt``. Merged key by key with an environment's override (unset: a service)."""
    names: ServiceNameOverrides = Field(default_factory=ServiceNameOverrides)
    """The service's AWS names where they differ from the derived ones (an adopted service's)."""
    adopt: ServiceImports | None = None
    """The ids of live resources the service takes over (Terraform import blocks), written by
    ``ecs-release adopt``; only in an environment's override (unset: every resource is created)."""

    @model_validator(mode="before")
    @classmethod
    def _fargate_size_by_default(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            try:
                fargate = Compute.model_validate(data.get("compute", {})).compatibility == "FARGATE"
            except (ValidationError, TypeError):
                fargate = True  # the compute error is reported at its field
            if fargate:
                # An explicit None (a JSON null from settings_from_dict; TOML has none) is unset too.
                sizes = {k: TaskDefinitionProps.model_fields[k].default for k in ("cpu", "memory")}
                data = {**data, **{k: v for k, v in sizes.items() if data.get(k) is None}}
        return data

    def app_fields(self) -> dict[str, Any]:
        """The app container's fields (ContainerProps' names) of the flat form; its container_port
        mapping named after the service when Service Connect serves it and nothing names it."""
        fields = {name: getattr(self, name) for name in APP_CONTAINER_FIELDS}
        server = self.service_connect
        named = self.container_port is None or self.container_port_name is not None
        if server is not None and server.port_name is None and not named:
            fields["container_port_name"] = service_connect_port_name(self.name)
        return {**fields, "cpu": self.container_cpu, "memory": self.container_memory}

    @property
    def sidecars(self) -> tuple[ContainerProps, ...]:
        """The other containers, in file order."""
        return tuple(self.containers.values())

    @property
    def target_container(self) -> str:
        """The container the load balancer sends to."""
        return _target_container(self.name, self.load_balancer)


def _target_container(service: str, lb: ServiceLoadBalancerSettings | None) -> str:
    return lb.container if lb is not None and lb.container is not None else service


# The fields of the flat form that describe the app container: ContainerProps' own, except
# cpu and memory, which in the flat form size the task (the app's own are container_cpu and
# container_memory).
APP_CONTAINER_FIELDS = tuple(
    name
    for name in ContainerProps.model_fields
    if name in ServiceFile.model_fields and name not in ("name", "cpu", "memory")
)


class TaskSettings(ConfigModel):
    """What the file gives of a service's task definition (``TaskDefinitionProps``' fields of the
    same names; the stack adds the names, roles, log group and account it derives); its
    compatibility is the service's ``compute``'s."""

    cpu: StrictInt | None
    memory: StrictInt | None
    network_mode: NetworkMode = "awsvpc"
    volumes: tuple[Volume, ...] = ()
    secrets_kms_key_arn: KmsKeyArn | None = None


class ServiceSettings(ConfigModel):
    """One service as it runs in one environment (defaults merged with overrides): the
    constructs' props the loader built from the file, and what no construct owns."""

    name: StrictStr
    # The app container (named after the service), its image as the image strategy reads it.
    app: ContainerProps
    # The other containers of the task ([services.<name>.containers.<container>]), in file order.
    containers: dict[ContainerName, ContainerProps] = Field(default_factory=dict)
    task: TaskSettings
    compute: Compute = Field(default_factory=Compute)
    deployment: Deployment = Field(default_factory=Deployment)
    load_balancer: ServiceLoadBalancerSettings | None = None
    autoscaling: Autoscaling | None = None
    # A queue worker's queue and scaling; a created queue named (the loader derives the name).
    queue: ServiceQueue | None = None
    desired_count: Annotated[StrictInt, Field(ge=0, le=1000)] = 1
    # Where the app's image comes from and how a release changes it (ecs-release reads these).
    repository: Repository
    image_strategy: image_strategies.ImageStrategy = "timestamp"
    image_tag: ImageTag | None = None
    # The file's or, without a fixed image_tag, the derived one (the loader checks either).
    image_tag_parameter: StrictStr | None = None
    # On every resource of the service, beside the project's and the environment's.
    tags: dict[TagKey, TagValue] = Field(default_factory=dict)
    # A task run on the new revision before each rollout (ecs-release deploy): default none.
    pre_deploy: PreDeploy | None = None
    # Its Service Connect server side, its port named (default none: a client only).
    service_connect: ServiceConnectServer | None = None
    schedule: JobSchedule | None = None  # a scheduled job: no ECS service (default none)
    # Its AWS names in this environment: derived, or the file's names table.
    names: ServiceNames
    # Live resources it takes over (Terraform import blocks): default none.
    adopt: ServiceImports | None = None

    @property
    def sidecars(self) -> tuple[ContainerProps, ...]:
        """The other containers, in file order."""
        return tuple(self.containers.values())

    @property
    def task_containers(self) -> tuple[ContainerProps, ...]:
        """Every container of the task: the app's, then the others in file order."""
        return (self.app, *self.sidecars)

    @property
    def is_job(self) -> bool:
        """A scheduled job (a task definition and a schedule), not an ECS service."""
        return self.schedule is not None

    def container(self, name: str) -> ContainerProps:
        """The container ``name`` (the app's or another); KeyError if the service has none."""
        return self.app if name == self.name else self.containers[name]

    @property
    def target_container(self) -> str:
        """The container the load balancer sends to."""
        return _target_container(self.name, self.load_balancer)


class EnvironmentSettings(ConfigModel):
    """Everything one environment's stack needs, validated."""

    name: StrictStr
    region: StrictStr
    emulator_endpoint: StrictStr | None
    network: NetworkSettings
    state: LocalState | S3State
    log_retention_days: int
    redeploy_command: tuple[str, ...]
    stack_per_service: bool
    wait_for_steady_state: bool = False
    log_kms_key_arn: str | None = None
    load_balancer: LoadBalancerSettings | None = None
    # The cluster's own EC2 capacity, its name resolved (default <project>-<env>-ec2).
    ec2_capacity: Ec2CapacityProps | None = None
    # The cluster, its name resolved (default <project>-<env>).
    cluster: ClusterSettings = Field(default_factory=ClusterSettings)
    # Service Connect's namespace, its name resolved (default none: no Service Connect).
    service_connect: ServiceConnectNamespace | None = None
    services: tuple[ServiceSettings, ...]
    # Services defined for the project but left out of this environment (enabled = false).
    disabled_services: tuple[str, ...] = ()
    aws: AwsAccess = Field(default_factory=AwsAccess)
    # The provider's default_tags: the tool's (Project, Environment, ManagedBy), the project's
    # and the environment's.
    tags: Mapping[str, str] = Field(default_factory=dict)

    @property
    def cluster_name(self) -> str:
        """The cluster's name (the loader resolves it)."""
        assert self.cluster.name is not None
        return self.cluster.name

    def service(self, name: str) -> ServiceSettings:
        for service in self.services:
            if service.name == name:
                return service
        raise KeyError(name)


class Settings(ConfigModel):
    """The whole validated configuration."""

    source: StrictStr
    project: StrictStr
    null_provider_version: StrictStr
    environments: Mapping[str, EnvironmentSettings]
