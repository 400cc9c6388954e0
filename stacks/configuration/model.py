"""The configuration file's tables as models, and the validated settings the stacks read.

The models hold what the file says; the rules between a service's fields live in the
constructs' own props (``constructs_lib``), which ``build`` checks a merged service against.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
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
    EXTRA_SECURITY_GROUPS,
    SERVICE_SUBNETS,
    CertificateArn,
    Cidr,
    ContainerName,
    ContainerPath,
    ContainerUser,
    EcsName,
    EnvVarName,
    ImageTag,
    KmsKeyArn,
    ListenerArn,
    LogGroupName,
    Port,
    PortMappingName,
    Region,
    Repository,
    RoleName,
    S3BucketName,
    SecretArn,
    SecurityGroupId,
    SecurityGroupName,
    SsmName,
    TagKey,
    TagValue,
    TargetGroupName,
)
from constructs_lib.imports import ServiceImports
from constructs_lib.load_balancer_props import ApplicationLoadBalancerProps, https_problems
from constructs_lib.queue_props import ServiceQueue
from constructs_lib.schedule_props import JobSchedule
from constructs_lib.service_connect_props import ServiceConnectServer
from constructs_lib.service_props import Autoscaling, Compute, Deployment, ListenerRule
from constructs_lib.task_definition_props import TaskDefinitionProps, Volume
from ecs_cd.core import image_strategies
from ecs_cd.core.names import ServiceNames, service_connect_port_name
from stacks.configuration.namespace import ServiceConnectNamespace, ServiceConnectTable
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


def validate_endpoint(value: str) -> str:
    # urlsplit silently drops tabs and newlines, so they are refused before it sees them.
    if any(c.isspace() or not c.isprintable() for c in value):
        raise ValueError("an endpoint must be an http(s) URL like 'http://127.0.0.1:4566'")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/"):
        raise ValueError("an endpoint must be an http(s) URL like 'http://127.0.0.1:4566'")
    if parts.query or parts.fragment or parts.username:
        raise ValueError("an endpoint must be an http(s) URL like 'http://127.0.0.1:4566'")
    return value.rstrip("/")


Endpoint = Annotated[StrictStr, AfterValidator(validate_endpoint)]


class _Model(BaseModel):
    # The loader words each error itself; a ValidationError's own text never shows an input.
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)


def _unique(value: list[Any]) -> list[Any]:
    if len(set(value)) != len(value):
        raise ValueError("must not list the same item twice")
    return value


class ServiceLoadBalancerSettings(ListenerRule):
    """A listener rule on the environment's load balancer and ``container``, the container it
    sends to (default: the app container, named after the service)."""

    container: ContainerName | None = None


def _overrides_fit(command: list[str]) -> list[str]:
    # RunTask refuses container overrides above 8192 characters in all.
    if sum(len(part) for part in command) > 8000:
        raise ValueError("must be at most 8000 characters in all (RunTask's overrides limit)")
    return command


class PreDeploy(_Model):
    """A one-off task `ecs-release deploy` runs on a service's new revision before the service
    rolls to it (a database migration): the rollout goes on only if it exits 0."""

    # The command, run in ``container`` (default: the app container, named after the service).
    command: Annotated[
        list[Annotated[StrictStr, Field(min_length=1)]], Field(min_length=1), AfterValidator(_overrides_fit)
    ]
    container: ContainerName | None = None
    # How long the task may take, from RunTask to STOPPED (default 15 minutes).
    timeout_seconds: Annotated[StrictInt, Field(ge=1, le=86_400)] = 900


class ServiceNameOverrides(_Model):
    """A service's AWS names where they differ from the derived ones (``ecs_cd.core.names``): a
    service adopted under names of its own. Each default None: the derived name."""

    service: EcsName | None = None
    task_family: EcsName | None = None
    log_group: LogGroupName | None = None
    execution_role: RoleName | None = None
    task_role: RoleName | None = None
    security_group: SecurityGroupName | None = None
    target_group: TargetGroupName | None = None

    def applied_to(self, derived: ServiceNames) -> ServiceNames:
        """The derived names with these in their place."""
        return replace(derived, **{k: v for k, v in self if v is not None})


class ServiceFile(_Model):
    """A ``[services.<name>]`` table as the file writes it, merged with an environment's override:
    flat (the app container's fields and the task's are the service's own). ``build`` checks it
    against the constructs' props and maps it into ``ServiceSettings``."""

    name: StrictStr
    repository: Repository
    # The task's size: on Fargate default the task definition props' (256 units and 512 MiB, filled
    # in before validation); on EC2 default unset (the containers' own limits count).
    cpu: StrictInt | None = None
    memory: StrictInt | None = None
    # Where and how the tasks run: Fargate (default), a capacity provider strategy or EC2;
    # awsvpc (default), bridge or host networking (EC2 only), and the task's volumes.
    compute: Compute = Field(default_factory=Compute)
    network_mode: NetworkMode = "awsvpc"
    volumes: tuple[Volume, ...] = ()
    desired_count: Annotated[StrictInt, Field(ge=0, le=1000)] = 1
    container_port: Port | None = None
    # container_port's mapping: its name (Service Connect's port_name) and application protocol.
    container_port_name: PortMappingName | None = None
    app_protocol: AppProtocol | None = None
    environment: dict[EnvVarName, StrictStr] = Field(default_factory=dict)
    command: list[StrictStr] | None = None
    entry_point: list[StrictStr] | None = None
    health_check: HealthCheck | None = None
    image_tag_parameter: SsmName | None = None
    image_strategy: image_strategies.ImageStrategy = "timestamp"
    # On every resource of the service, beside the project's and the environment's.
    tags: dict[TagKey, TagValue] = Field(default_factory=dict)
    image_tag: ImageTag | None = None
    # Container secrets: variable name -> SSM parameter or Secrets Manager ARN, resolved
    # by ECS at start; the execution role may read exactly these.
    secrets: dict[EnvVarName, SecretArn] = Field(default_factory=dict)
    # Customer-managed key the secrets are encrypted with (adds kms:Decrypt on it only).
    secrets_kms_key_arn: KmsKeyArn | None = None
    # Hardening: the root filesystem is read-only; list the paths the app writes to.
    readonly_root_filesystem: StrictBool = True
    writable_paths: Annotated[list[ContainerPath], Field(max_length=10), AfterValidator(_unique)] = Field(
        default_factory=list
    )
    user: ContainerUser | None = None
    # More of the app container (ContainerProps has the rules): further ports, the
    # containers it waits for, and its logging (awsfirelens: through the task's log router).
    port_mappings: tuple[PortMapping, ...] = ()
    depends_on: dict[ContainerName, DependencyCondition] = Field(default_factory=dict)
    log_driver: Literal["awslogs", "awsfirelens"] = "awslogs"
    log_options: dict[LogOptionName, StrictStr] = Field(default_factory=dict)
    log_secret_options: dict[LogOptionName, SecretArn] = Field(default_factory=dict)
    # The app container's own limits (cpu and memory above size the task), and its volumes
    # and links (EC2's bridge form of the first article's task definition).
    container_cpu: Annotated[StrictInt, Field(ge=0, le=196608)] | None = None
    container_memory: Annotated[StrictInt, Field(ge=6, le=1048576)] | None = None
    memory_reservation: Annotated[StrictInt, Field(ge=6, le=1048576)] | None = None
    mount_points: tuple[MountPoint, ...] = ()
    volumes_from: tuple[VolumesFrom, ...] = ()
    links: Annotated[tuple[ContainerName, ...], AfterValidator(_unique)] = ()
    # The other containers of the task ([services.<name>.containers.<container>]), in file order.
    containers: dict[ContainerName, ContainerProps] = Field(default_factory=dict)
    deployment: Deployment = Field(default_factory=Deployment)
    load_balancer: ServiceLoadBalancerSettings | None = None
    autoscaling: Autoscaling | None = None
    # A queue worker: the SQS queue it reads and its scaling on that queue (default none).
    queue: ServiceQueue | None = None
    # A task run on the new revision before each rollout (ecs-release deploy): default none.
    pre_deploy: PreDeploy | None = None
    # The port the environment's other services call it on through Service Connect: default none.
    service_connect: ServiceConnectServer | None = None
    schedule: JobSchedule | None = None  # a scheduled job: no ECS service (default none)
    # AWS names other than the derived ones (an adopted service's): default none.
    names: ServiceNameOverrides = Field(default_factory=ServiceNameOverrides)
    # Live resources the service takes over (ecs-release adopt writes them): default none.
    adopt: ServiceImports | None = None

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


class TaskSettings(_Model):
    """What the file gives of a service's task definition (``TaskDefinitionProps``' fields of the
    same names; the stack adds the names, roles, log group and account it derives); its
    compatibility is the service's ``compute``'s."""

    cpu: StrictInt | None
    memory: StrictInt | None
    network_mode: NetworkMode = "awsvpc"
    volumes: tuple[Volume, ...] = ()
    secrets_kms_key_arn: KmsKeyArn | None = None


class ServiceSettings(_Model):
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


class NetworkSettings(_Model):
    """awsvpc networking: either the account's default VPC or explicit subnets."""

    use_default_vpc: StrictBool = False
    # The VPC of subnet_ids: the service's security group and target group live in it.
    vpc_id: Annotated[StrictStr, Field(pattern=r"^vpc-[0-9a-f]{8,17}$")] | None = None
    # At most 16 subnets, and 4 security groups: ECS allows 5 per service, one is the service's own.
    subnet_ids: Annotated[
        list[Annotated[StrictStr, Field(pattern=r"^subnet-[0-9a-f]{8,17}$")]], SERVICE_SUBNETS
    ] = Field(default_factory=list)
    security_group_ids: Annotated[
        list[Annotated[StrictStr, Field(pattern=r"^sg-[0-9a-f]{8,17}$")]], EXTRA_SECURITY_GROUPS
    ] = Field(default_factory=list)
    assign_public_ip: StrictBool = False

    @model_validator(mode="after")
    def _one_source(self) -> NetworkSettings:
        if self.use_default_vpc and self.subnet_ids:
            raise ValueError("set either use_default_vpc = true or subnet_ids, not both")
        if not self.use_default_vpc and not self.subnet_ids:
            raise ValueError("set use_default_vpc = true or list at least one subnet in subnet_ids")
        if self.use_default_vpc and self.vpc_id is not None:
            raise ValueError("vpc_id is only for subnet_ids; use_default_vpc finds the VPC itself")
        if self.subnet_ids and self.vpc_id is None:
            raise ValueError("subnet_ids need vpc_id (the VPC they are in: security groups live there)")
        return self


class LoadBalancerSettings(_Model):
    """The environment's Application Load Balancer: an existing listener, or one created here."""

    # Attach to an existing ALB: its listener and its security group (the tasks admit only it).
    listener_arn: ListenerArn | None = None
    security_group_id: SecurityGroupId | None = None
    # Or create one (ApplicationLoadBalancerProps has the rules and the defaults: internal, with
    # deletion protection).
    create: StrictBool = False
    internal: StrictBool = ApplicationLoadBalancerProps.model_fields["internal"].default
    certificate_arn: CertificateArn | None = None
    ingress_cidr_blocks: Annotated[list[Cidr], AfterValidator(_unique)] | None = None
    deletion_protection: StrictBool = ApplicationLoadBalancerProps.model_fields["deletion_protection"].default
    # S3 bucket for access logs (its policy must let ELB log delivery write).
    access_logs_bucket: S3BucketName | None = None
    # WAF web ACL to associate (recommended for internet-facing load balancers).
    web_acl_arn: (
        Annotated[
            StrictStr,
            Field(
                pattern=r"^arn:aws(?:-cn|-us-gov)?:wafv2:[a-z]{2}(?:-[a-z]+)+-[0-9]:[0-9]{12}:regional/webacl/"
                r"[A-Za-z0-9_-]{1,128}/[0-9a-f-]{36}$"
            ),
        ]
        | None
    ) = None

    @model_validator(mode="after")
    def _one_source(self) -> LoadBalancerSettings:
        existing = self.listener_arn is not None or self.security_group_id is not None
        if existing and self.create:
            raise ValueError("set either create = true or listener_arn and security_group_id, not both")
        created_only = [
            name
            for name in ("certificate_arn", "ingress_cidr_blocks", "access_logs_bucket", "web_acl_arn")
            if getattr(self, name) is not None
        ]
        if created_only and not self.create:
            raise ValueError(
                f"{', '.join(created_only)} only apply with create = true (an existing load balancer "
                "is configured where it is managed)"
            )
        if not self.create and (self.listener_arn is None or self.security_group_id is None):
            raise ValueError(
                "an existing load balancer needs both listener_arn and security_group_id "
                "(or set create = true)"
            )
        for problem in https_problems(self.internal, self.certificate_arn):
            raise ValueError(problem.message)
        return self


class AwsAccess(_Model):
    """How an environment reaches its AWS account (all optional).

    - ``account_id``: the account the environment's resources live in. Terraform's provider
      refuses any other (``allowed_account_ids``), and ``ecs-release`` checks the credentials'
      account (STS GetCallerIdentity) before any call: the wrong account is exit 2, nothing
      written.
    - ``profile``: the AWS CLI/SDK profile for the provider, the S3 backend, the redeploy
      command and ``ecs-release``."""

    account_id: Annotated[StrictStr, Field(pattern=r"^[0-9]{12}$")] | None = None
    profile: Annotated[StrictStr, Field(pattern=r"^[A-Za-z0-9_.+@=,-]{1,64}$")] | None = None
    role_arn: (
        Annotated[
            StrictStr,
            Field(pattern=r"^arn:aws(-cn|-us-gov)?:iam::[0-9]{12}:role/[A-Za-z0-9_+=,.@/-]{1,512}$"),
        ]
        | None
    ) = None
    external_id: Annotated[StrictStr, Field(pattern=r"^[A-Za-z0-9_+=,.@:/-]{2,1224}$")] | None = None
    session_name: Annotated[StrictStr, Field(pattern=r"^[A-Za-z0-9_+=,.@-]{2,64}$")] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> AwsAccess:
        if self.role_arn is None and (self.external_id is not None or self.session_name is not None):
            raise ValueError("external_id and session_name go with role_arn (the role to assume)")
        role_account = self.role_arn.split(":")[4] if self.role_arn is not None else None
        if role_account is not None and self.account_id is not None and role_account != self.account_id:
            raise ValueError(
                f"role_arn is a role of account {role_account}, but account_id is {self.account_id}: "
                "the role to assume lives in the environment's account"
            )
        return self

    def role_session_name(self, environment: str) -> str:
        """The session name the role is assumed with (CloudTrail shows it): default ecs-cd-<env>."""
        return self.session_name or f"ecs-cd-{environment}"[:64]


class ClusterSettings(_Model):
    """The environment's ECS cluster: ``name`` (default ``<project>-<environment>``) and where it
    comes from (default ``created``): ``adopted``, a live cluster Terraform imports and owns
    from then on, or ``existing``, a live one used as it is and never changed here."""

    name: EcsName | None = None
    origin: Literal["created", "adopted", "existing"] = "created"


class EnvironmentFile(_Model):
    region: Region
    emulator_endpoint: Endpoint | None = None
    aws: AwsAccess = Field(default_factory=AwsAccess)
    network: NetworkSettings
    state: Annotated[LocalState | S3State, Field(discriminator="backend")]
    log_retention_days: Literal[
        1,
        3,
        5,
        7,
        14,
        30,
        60,
        90,
        120,
        150,
        180,
        365,
        400,
        545,
        731,
        1096,
        1827,
        2192,
        2557,
        2922,
        3288,
        3653,
    ] = 30
    redeploy_command: list[StrictStr] | None = None
    stack_per_service: StrictBool = False
    # Terraform waits for each service to reach a steady state before the apply ends.
    wait_for_steady_state: StrictBool = False
    # Customer-managed key for the services' log groups (default: CloudWatch's own encryption).
    log_kms_key_arn: KmsKeyArn | None = None
    load_balancer: LoadBalancerSettings | None = None
    # The cluster's own EC2 instances: an Auto Scaling group and its capacity provider.
    ec2_capacity: Ec2CapacityProps | None = None
    # On every resource of the environment (with the project's: the provider's default_tags).
    tags: dict[TagKey, TagValue] = Field(default_factory=dict)
    cluster: ClusterSettings = Field(default_factory=ClusterSettings)
    # Service Connect: the namespace every service joins (default none: no Service Connect).
    service_connect: ServiceConnectTable | None = None
    services: dict[str, dict[str, Any]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _capacity_on_own_cluster(self) -> EnvironmentFile:
        if self.ec2_capacity is not None and self.cluster.origin == "existing":
            raise ValueError(
                "ec2_capacity attaches its capacity provider to the cluster, which an existing cluster "
                "(cluster.origin = 'existing') does not let this project change: adopt it "
                "(origin = 'adopted') or attach the capacity where the cluster is managed"
            )
        return self


class EnvironmentSettings(_Model):
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


class Settings(_Model):
    """The whole validated configuration."""

    source: StrictStr
    project: StrictStr
    null_provider_version: StrictStr
    environments: Mapping[str, EnvironmentSettings]
