"""Typed settings and their loader: the only code that parses the configuration file.

Data flows one way: the TOML file is read and validated here, every environment gets
one frozen ``EnvironmentSettings`` with its services already merged with that
environment's overrides, and the stacks only ever see those typed values.

Every mistake a user can make in the file is reported as one ``ConfigError`` whose
lines each name the file, the field, the value and what is allowed, before any
construct (and so before jsii or AWS) is touched.
"""

from __future__ import annotations

import itertools
import posixpath
import re
import sys
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
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
    TypeAdapter,
    ValidationError,
    model_validator,
)

from constructs_lib.container import (
    NO_VALUE,
    REPORT_BY_FIELD,
    ContainerProps,
    DependencyCondition,
    HealthCheck,
    LogOptionName,
    MountPoint,
    NetworkMode,
    PortMapping,
    VolumesFrom,
    container_problems,
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
    EnvVarName,
    ImageTag,
    KmsKeyArn,
    ListenerArn,
    Port,
    Region,
    Repository,
    S3BucketName,
    SecretArn,
    SecurityGroupId,
    SsmName,
    TagKey,
    TagValue,
)
from constructs_lib.images import EcrDigest, Fixed, ImageSource, SsmTag
from constructs_lib.service_props import (
    Autoscaling,
    Compute,
    Deployment,
    ListenerRule,
    validate_capacity_provider_name,
)
from constructs_lib.task_definition_props import Volume, definitions_size, task_problems
from core import aws_formats, image_strategies, names

# The provider bindings pin null 3.2.4 exactly; the range admits the 2.x series as
# well because the null_resource schema is the same and offline machines may only
# have a mirrored 2.1.2. Override it in [terraform] to pin.
DEFAULT_NULL_PROVIDER_VERSION = ">= 2.1.2, < 4.0.0"

# A Terraform version constraint: comma-separated conditions, each an optional operator and a
# version (1 to 3 numbers, an optional pre-release and build suffix).
_CONDITION = (
    r" *(?:(?:=|!=|>=|<=|>|<|~>) *)?[0-9]+(?:\.[0-9]+){0,2}(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)? *"
)
_VERSION_CONSTRAINT = re.compile(rf"{_CONDITION}(?:,{_CONDITION})*", re.ASCII)


class ConfigError(Exception):
    """A configuration mistake, already phrased for the user (one line per problem)."""

    def __init__(self, problems: Sequence[str]) -> None:
        # One problem, one line: names and keys typed by the user may hold control characters.
        # A URL's password, and any credential by its shape, is masked in any line, whatever
        # field (or table key) it was written in: the lines end up in CI logs.
        self.problems = tuple(
            _printable(aws_formats.redact_credentials(aws_formats.redact_passwords(p))) for p in problems
        )
        super().__init__("\n".join(self.problems))


def _printable(text: str) -> str:
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _show(value: Any) -> str:
    """``repr(value)`` for a problem line; an int too long to print does not crash the loader."""
    try:
        return repr(value)
    except ValueError:
        return "<a value too large to show>"


def _validate_endpoint(value: str) -> str:
    # urlsplit silently drops tabs and newlines, so they are refused before it sees them.
    if any(c.isspace() or not c.isprintable() for c in value):
        raise ValueError("an endpoint must be an http(s) URL like 'http://127.0.0.1:4566'")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/"):
        raise ValueError("an endpoint must be an http(s) URL like 'http://127.0.0.1:4566'")
    if parts.query or parts.fragment or parts.username:
        raise ValueError("an endpoint must be an http(s) URL like 'http://127.0.0.1:4566'")
    return value.rstrip("/")


Endpoint = Annotated[StrictStr, AfterValidator(_validate_endpoint)]


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


class ServiceSettings(_Model):
    """One service as it runs in one environment (defaults merged with overrides)."""

    name: StrictStr
    repository: Repository
    # The task's size: on Fargate default 256 units and 512 MiB (filled in before validation);
    # on EC2 default unset (the containers' own limits count).
    cpu: StrictInt | None = None
    memory: StrictInt | None = None
    # Where and how the tasks run: Fargate (default), a capacity provider strategy or EC2;
    # awsvpc (default), bridge or host networking (EC2 only), and the task's volumes.
    compute: Compute = Field(default_factory=Compute)
    network_mode: NetworkMode = "awsvpc"
    volumes: tuple[Volume, ...] = ()
    desired_count: Annotated[StrictInt, Field(ge=0, le=1000)] = 1
    container_port: Port | None = None
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
    links: tuple[ContainerName, ...] = ()
    # The other containers of the task ([services.<name>.containers.<container>]), in file order.
    containers: dict[ContainerName, ContainerProps] = Field(default_factory=dict)
    deployment: Deployment = Field(default_factory=Deployment)
    load_balancer: ServiceLoadBalancerSettings | None = None
    autoscaling: Autoscaling | None = None
    # A task run on the new revision before each rollout (ecs-release deploy): default none.
    pre_deploy: PreDeploy | None = None

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
                data = {**data, **{k: v for k, v in (("cpu", 256), ("memory", 512)) if data.get(k) is None}}
        return data

    def app_fields(self) -> dict[str, Any]:
        """The app container's fields (ContainerProps' names) of the flat form."""
        fields = {name: getattr(self, name) for name in APP_CONTAINER_FIELDS}
        return {**fields, "cpu": self.container_cpu, "memory": self.container_memory}

    def app_container(self, image: ImageSource) -> ContainerProps:
        """The app container (named after the service) of the flat form, with ``image``."""
        return ContainerProps(name=self.name, image=image, **self.app_fields())

    @property
    def sidecars(self) -> tuple[ContainerProps, ...]:
        """The other containers, in file order."""
        return tuple(self.containers.values())

    @property
    def target_container(self) -> str:
        """The container the load balancer sends to."""
        lb = self.load_balancer
        return lb.container if lb is not None and lb.container is not None else self.name

    def container_port_of(self, container: str) -> int | None:
        """The ``container_port`` of ``container`` (the app or a sidecar)."""
        if container == self.name:
            return self.container_port
        sidecar = self.containers.get(container)
        return sidecar.container_port if sidecar is not None else None


# The fields of the flat form that describe the app container: ContainerProps' own, except
# cpu and memory, which in the flat form size the task (the app's own are container_cpu and
# container_memory).
APP_CONTAINER_FIELDS = tuple(
    name
    for name in ContainerProps.model_fields
    if name in ServiceSettings.model_fields and name not in ("name", "cpu", "memory")
)


def _service_conflicts(
    service: ServiceSettings, *, public_ip_from: str | None = None
) -> list[tuple[str, Any, str]]:
    """Contradictions between a service's fields, as (field path, value or _NO_VALUE, message);
    ``public_ip_from``: the field that gives the environment's tasks public IPs, if one does."""
    found: list[tuple[str, Any, str]] = []
    # The app container is built unvalidated so each of its problems is reported at its field.
    placeholder = Fixed.model_construct(reference="placeholder")
    app = ContainerProps.model_construct(name=service.name, image=placeholder, **service.app_fields())
    found += container_problems(app)
    for sidecar in service.sidecars:
        found += [
            (f"containers.{sidecar.name}.{where}", value, why)
            for where, value, why in container_problems(sidecar)
        ]
    for where, value, why in task_problems(
        (app, *service.sidecars),
        cpu=service.cpu,
        memory=service.memory,
        secrets_kms_key_arn=service.secrets_kms_key_arn,
        compatibility=service.compute.compatibility,
        network_mode=service.network_mode,
        volumes=service.volumes,
    ):
        app_prefix = f"containers.{service.name}"
        if where == app_prefix:
            where = "name"
        elif where.startswith(app_prefix + "."):
            where = where[len(app_prefix) + 1 :]
            where = {"cpu": "container_cpu", "memory": "container_memory"}.get(where, where)
        found.append((where, value, why))
    public_ip_problem = service.compute.public_ip_problem()
    if public_ip_from is not None and public_ip_problem is not None:
        found.append(
            (
                "compute",
                _NO_VALUE,
                f"{public_ip_problem}, but {public_ip_from} = true (Fargate only, whatever the network "
                "mode): use private subnets with a NAT gateway",
            )
        )
    if service.load_balancer is not None:
        target = service.target_container
        if target != service.name and target not in service.containers:
            found.append(
                (
                    "load_balancer.container",
                    target,
                    f"names no container of the service (containers: "
                    f"{', '.join([service.name, *service.containers])})",
                )
            )
        elif service.container_port_of(target) is None:
            where = "load_balancer" if target == service.name else "load_balancer.container"
            shown = _NO_VALUE if target == service.name else target
            what = "container_port" if target == service.name else f"containers.{target}.container_port"
            found.append((where, shown, f"needs {what} (the port the target group sends to)"))
    pre_deploy = service.pre_deploy
    container = pre_deploy.container if pre_deploy is not None else None
    if container is not None and container != service.name and container not in service.containers:
        found.append(
            (
                "pre_deploy.container",
                container,
                f"names no container of the service (containers: "
                f"{', '.join([service.name, *service.containers])})",
            )
        )
    scaling = service.autoscaling
    if scaling is not None and not scaling.min_capacity <= service.desired_count <= scaling.max_capacity:
        found.append(
            (
                "desired_count",
                service.desired_count,
                f"must lie within autoscaling.min_capacity ({scaling.min_capacity}) and "
                f"max_capacity ({scaling.max_capacity})",
            )
        )
    return found


_NO_VALUE = NO_VALUE


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
    # Or create one (internal by default).
    create: StrictBool = False
    internal: StrictBool = True
    certificate_arn: CertificateArn | None = None
    ingress_cidr_blocks: Annotated[list[Cidr], AfterValidator(_unique)] | None = None
    deletion_protection: StrictBool = True
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
        if not self.internal and self.certificate_arn is None:
            raise ValueError(
                "an internet-facing load balancer (internal = false) needs certificate_arn: "
                "it only listens on HTTPS"
            )
        return self


LockTimeout = Annotated[StrictInt, Field(ge=0, le=3600)]


def _validate_state_path(value: str) -> str:
    if not value.strip() or value.endswith("/") or any(not c.isprintable() for c in value):
        raise ValueError(
            "a local state path must be a file path such as 'terraform.tfstate' (not empty or blank, "
            "not a directory, no control characters)"
        )
    return value


class LocalState(_Model):
    """Terraform state in a file next to the synthesized stack."""

    backend: Literal["local"]
    # Relative to the stack's directory (cdktf.out/stacks/<stack>), so each stack has its own.
    path: Annotated[StrictStr, AfterValidator(_validate_state_path)] = "terraform.tfstate"
    lock_timeout_seconds: LockTimeout = 0


class S3State(_Model):
    """Terraform state in S3."""

    backend: Literal["s3"]
    bucket: S3BucketName
    key: Annotated[StrictStr, Field(min_length=1, max_length=1024)]
    region: Region
    encrypt: StrictBool = True
    # S3-native locking (Terraform >= 1.10): a <key>.tflock object next to the state.
    use_lockfile: StrictBool = True
    # How long a second pipeline waits for the lock before failing (0: fail at once).
    lock_timeout_seconds: LockTimeout = 300
    # `ecs-release bootstrap`: replaced state versions expire after this many days (0: never);
    # state-restore can go back this far.
    noncurrent_version_days: Annotated[StrictInt, Field(ge=0, le=36_500)] = 90


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


class _EnvironmentFile(_Model):
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
    services: dict[str, dict[str, Any]] = Field(default_factory=dict)


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
    services: tuple[ServiceSettings, ...]
    # Services defined for the project but left out of this environment (enabled = false).
    disabled_services: tuple[str, ...] = ()
    aws: AwsAccess = Field(default_factory=AwsAccess)
    # The provider's default_tags: the tool's (Project, Environment, ManagedBy), the project's
    # and the environment's.
    tags: Mapping[str, str] = Field(default_factory=dict)

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


_OVERRIDABLE = frozenset(
    {
        "enabled",
        "tags",
        "container_port",
        "repository",
        "cpu",
        "memory",
        "compute",
        "network_mode",
        "volumes",
        "desired_count",
        "environment",
        "image_tag_parameter",
        "image_strategy",
        "image_tag",
        "secrets",
        "secrets_kms_key_arn",
        "deployment",
        "load_balancer",
        "autoscaling",
        "pre_deploy",
        # the app container's fields and the other containers (merged container by container)
        "command",
        "entry_point",
        "health_check",
        "user",
        "readonly_root_filesystem",
        "writable_paths",
        "port_mappings",
        "depends_on",
        "log_driver",
        "log_options",
        "log_secret_options",
        "container_cpu",
        "container_memory",
        "memory_reservation",
        "mount_points",
        "volumes_from",
        "links",
        "containers",
    }
)

# Tables merged key by key with an environment's override (the rest is replaced whole).
_MERGED_TABLES = ("environment", "secrets", "log_options", "log_secret_options", "tags")

# Keys of a [services.<name>.containers.<container>] table that say where its image comes from.
_IMAGE_KEYS = ("image", "repository", "image_tag_parameter")


_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
PLACEHOLDERS = ("project", "service", "env")


def fill_placeholders(template: str, values: Mapping[str, str]) -> str:
    """``template`` with ``{project}``, ``{service}`` and ``{env}`` replaced; ValueError names
    any other placeholder (the result is validated as the field's format afterwards)."""

    def value(found: re.Match[str]) -> str:
        key = found.group(1)
        if key not in values:
            allowed = ", ".join(f"{{{name}}}" for name in PLACEHOLDERS)
            raise ValueError(f"unknown placeholder {{{key}}}: the placeholders are {allowed}")
        return values[key]

    return _PLACEHOLDER.sub(value, template)


def _parameter_placeholders(
    merged: dict[str, Any], values: Mapping[str, str]
) -> list[tuple[list[str | int], Any, str]]:
    """Fill the placeholders of the service's and its containers' image_tag_parameter in place;
    the problems as (path below the service, value, message)."""
    problems: list[tuple[list[str | int], Any, str]] = []
    tables: list[tuple[list[str | int], Any]] = [([], merged)]
    containers = merged.get("containers")
    if isinstance(containers, Mapping):
        merged["containers"] = containers = dict(containers)
        for name, body in containers.items():
            if isinstance(body, Mapping):
                containers[name] = dict(body)
                tables.append((["containers", name], containers[name]))
    for path, table in tables:
        template = table.get("image_tag_parameter")
        if not isinstance(template, str) or "{" not in template:
            continue
        try:
            table["image_tag_parameter"] = fill_placeholders(template, values)
        except ValueError as exc:
            problems.append(([*path, "image_tag_parameter"], template, str(exc)))
    return problems


def _merge_service(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """A service's table with an environment's override: variables key by key, containers
    container by container (and their variables key by key), everything else replaced."""
    merged = {**base, **override}
    for table in _MERGED_TABLES:
        if isinstance(base.get(table), Mapping) and isinstance(override.get(table), Mapping):
            merged[table] = {**base[table], **override[table]}
    if isinstance(base.get("containers"), Mapping) and isinstance(override.get("containers"), Mapping):
        containers = dict(base["containers"])
        for name, body in override["containers"].items():
            old = containers.get(name)
            containers[name] = (
                _merge_service(old, body) if isinstance(old, Mapping) and isinstance(body, Mapping) else body
            )
        merged["containers"] = containers
    return merged


def _from_override(path: Sequence[str | int], override: Mapping[str, Any]) -> bool:
    """Whether the value at ``path`` of a merged service came from the environment's override."""
    node: Any = override
    for part in path:
        if not isinstance(node, Mapping):
            return True
        if part not in node:
            return False
        node = node[part]
    return True


def _conflict_from_override(conflict: str, message: str, override: Mapping[str, Any]) -> bool:
    """Whether a problem at ``conflict`` (a field path) comes from the environment's override.

    A problem of all containers together (their cpu or memory sum) is the override's only
    when the override sets what is summed; any other override of a container is not to blame."""
    if conflict == "containers":
        sidecars = override.get("containers")
        if "per task definition" in message:
            # Too many containers: the override's when it names containers (it may add some).
            return isinstance(sidecars, Mapping) and bool(sidecars)
        what = ("cpu",) if "cpu units" in message else ("memory", "memory_reservation")
        return (what[0] in override) or (
            isinstance(sidecars, Mapping)
            and any(isinstance(body, Mapping) and any(k in body for k in what) for body in sidecars.values())
        )
    return _from_override(conflict.split("."), override)


def _container_images(
    service: str, containers: Any, strategy: Any
) -> tuple[Any, list[tuple[list[str | int], Any, str]]]:
    """``containers`` with each table's image keys turned into an image source, and the
    problems found doing it as (path below the service, value or NO_VALUE, message)."""
    if not isinstance(containers, Mapping):
        return containers, []
    problems: list[tuple[list[str | int], Any, str]] = []
    out: dict[str, Any] = {}
    for name, body in containers.items():
        where: list[str | int] = ["containers", name]
        if not isinstance(body, Mapping):
            out[name] = body
            continue
        if name == service:
            problems.append((where, NO_VALUE, "is the app container's name (the service's): choose another"))
        if "name" in body:
            problems.append(
                (
                    [*where, "name"],
                    NO_VALUE,
                    f"is not a known field (the container's name is its table key, {name!r})",
                )
            )
        fields = {k: v for k, v in body.items() if k not in (*_IMAGE_KEYS, "name")}
        image, repository, parameter = (body.get(k) for k in _IMAGE_KEYS)
        source: Any = None
        try:
            if image is not None and repository is None and parameter is None:
                source = Fixed(reference=image)
            elif image is None and repository is not None and parameter is not None:
                if strategy == "digest":
                    source = EcrDigest(repository=repository, tag_parameter=parameter)
                else:
                    source = SsmTag(repository=repository, parameter_name=parameter)
            else:
                problems.append(
                    (
                        where,
                        NO_VALUE,
                        "set image (a fixed reference such as 'public.ecr.aws/org/agent:7') or repository "
                        "and image_tag_parameter (the tag from SSM), not both, not neither",
                    )
                )
        except ValidationError as exc:
            for error in exc.errors():
                key = "image" if image is not None else (error["loc"][0] if error["loc"] else "repository")
                key = {"parameter_name": "image_tag_parameter", "tag_parameter": "image_tag_parameter"}.get(
                    str(key), str(key)
                )
                problems.append(([*where, key], body.get(key, NO_VALUE), _message(error)))
        # A container whose image is wrong is still checked field by field (its image problem
        # is already reported): a placeholder stands in for the image.
        fields["image"] = source if source is not None else Fixed.model_construct(reference="placeholder")
        fields["name"] = name
        out[name] = fields
    return out, problems


def _where(loc: Sequence[int | str]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def _message(error: Mapping[str, Any]) -> str:
    kind = error["type"]
    if kind == "missing":
        return "is required but missing"
    if kind == "extra_forbidden":
        return "is not a known field (check the spelling against the README's configuration reference)"
    msg = str(error["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        msg = msg.removeprefix(prefix)
    return msg[:1].lower() + msg[1:]


def _problems(file: str, base: Sequence[str | int], errors: Sequence[Mapping[str, Any]]) -> list[str]:
    lines = []
    for error in errors:
        own = list(error["loc"])
        key_failed = own[-1:] == ["[key]"]
        # pydantic adds the discriminated union's tag after "state" and "[key]" after a dict
        # key that failed: the user wrote neither (but may have named a table "state" or "[key]").
        if len(own) >= 2 and own[0] == "state" and own[1] in ("local", "s3"):
            del own[1]
        if len(own) >= 2 and own[-1] == "[key]" and error["type"] != "extra_forbidden":
            del own[-1]
        path = [*base, *own]
        for index, part in enumerate(path):
            # A table key refused as a credential (any tag key of that shape is) is named by its
            # kind: the path would show it, also in the line of its value's problem.
            refused_key = index == len(path) - 1 and key_failed
            if isinstance(part, str) and (refused_key or path[index - 1 : index] == ["tags"]):
                kind = aws_formats.credential_shape(part)
                path[index] = part if kind is None else f"<{kind}, not shown>"
        where = _where(path)
        hidden = (
            _secret_field(own)
            or any(
                part == "environment" and isinstance(key, str) and aws_formats.secret_looking(key)
                for part, key in itertools.pairwise(own)
            )
            # a tag's value (not its key) that failed may be a password, in any tags table
            or (len(path) >= 2 and path[-2] == "tags" and not key_failed)
            or aws_formats.holds_credential(error["input"])
        )
        if error["type"] == "missing" or hidden:
            # A credential-looking variable's value is never shown, whatever its type, nor is
            # anything written in secrets (a secret's value where its ARN belongs), nor a value
            # of a credential's shape in any field: the field and what is allowed say enough.
            lines.append(f"{file}: {where}: {_message(error)}")
        else:
            lines.append(f"{file}: {where} = {_show(error['input'])}: {_message(error)}")
    return lines


_TAGS: TypeAdapter[dict[str, str]] = TypeAdapter(dict[TagKey, TagValue])

_SECRET_FIELDS = ("secrets", "log_secret_options")


def _secret_field(own: Sequence[str | int]) -> bool:
    """Whether ``own`` (a path in a service) is in a table of secrets, the service's or a container's."""
    return (len(own) >= 1 and own[0] in _SECRET_FIELDS) or (
        len(own) >= 3 and own[0] == "containers" and own[2] in _SECRET_FIELDS
    )


def _validate_name(file: str, where: str, value: str, check: Any) -> list[str]:
    try:
        check(value)
    except ValueError as exc:
        return [f"{file}: {where} = {_show(value)}: {exc}"]
    return []


def _in_region(file: str, where: str, arn: str, region: str) -> list[str]:
    try:
        aws_formats.validate_arn_in_region(arn, region)
    except ValueError as exc:
        return [f"{file}: {where} = {_show(arn)}: {exc}"]
    return []


def _region_problems(file: str, env_where: str, env: _EnvironmentFile) -> list[str]:
    """ARNs of an environment that AWS uses only in their own region: in the environment's."""
    arns = [("log_kms_key_arn", env.log_kms_key_arn)]
    if env.load_balancer is not None:
        arns += [
            (f"load_balancer.{name}", getattr(env.load_balancer, name))
            for name in ("listener_arn", "certificate_arn", "web_acl_arn")
        ]
    lines = [
        line
        for where, arn in arns
        if arn is not None
        for line in _in_region(file, f"{env_where}.{where}", arn, env.region)
    ]
    role = env.aws.role_arn
    if role is not None:
        lines += _validate_name(
            file,
            f"{env_where}.aws.role_arn",
            role,
            lambda arn: aws_formats.validate_arn_partition(arn, env.region),
        )
    return lines


def _task_containers(service: ServiceSettings) -> tuple[ContainerProps, ...]:
    """The containers of a service's task as the stacks build them (the app's image from SSM or ECR)."""
    assert service.image_tag_parameter is not None or service.image_tag is not None
    image: ImageSource
    if service.image_strategy == "digest":
        image = EcrDigest.model_construct(repository=service.repository, tag=service.image_tag or "x")
    else:
        image = SsmTag.model_construct(repository=service.repository, parameter_name="/x")
    app = ContainerProps.model_construct(name=service.name, image=image, **service.app_fields())
    return (app, *service.sidecars)


def _derived_name_problems(
    file: str, project: str, environments: Mapping[str, EnvironmentSettings]
) -> list[str]:
    """A name AWS refuses that the project name would give (a security group starting with 'sg-',
    a load balancer starting with 'internal-'): one line at project.name, for the first found."""
    derived: list[tuple[str, str, Any]] = []
    for env_name, env in environments.items():
        derived += [
            (
                "the tasks' security groups",
                names.security_group_name(project, env_name, service.name),
                aws_formats.validate_security_group_name,
            )
            for service in env.services
        ]
        if env.load_balancer is not None and env.load_balancer.create:
            derived += [
                (
                    "the load balancers",
                    names.load_balancer_name(project, env_name),
                    aws_formats.validate_load_balancer_name,
                ),
                (
                    "the load balancers' security groups",
                    names.load_balancer_security_group_name(project, env_name),
                    aws_formats.validate_security_group_name,
                ),
            ]
    for what, name, check in derived:
        try:
            check(name)
        except ValueError as exc:
            return [
                f"{file}: project.name = {_show(project)}: would name {what} like {name!r}, and {exc}: "
                "choose another project name"
            ]
    return []


def _state_locations(env: EnvironmentSettings) -> list[tuple[tuple[str, ...], str | None, str, str]]:
    """Where an environment's stacks keep their state: (identity, service or None, field, shown)."""
    state = env.state
    stacks: list[tuple[str, str | None]] = [(env.name, None)]
    if env.stack_per_service:
        stacks += [(names.service_stack_name(env.name, s.name), s.name) for s in env.services]
    found: list[tuple[tuple[str, ...], str | None, str, str]] = []
    for stack, service in stacks:
        if isinstance(state, LocalState):
            # Terraform runs in cdktf.out/stacks/<stack>: a relative path is in that directory.
            path = posixpath.normpath(posixpath.join("stacks", stack, state.path))
            found.append((("local", path), service, "path", state.path))
        else:
            key = state.key if service is None else names.service_state_key(state.key, service)
            identity = ("s3", env.emulator_endpoint or "aws", state.bucket, key)
            found.append((identity, service, "key", state.key))
    return found


def _shared_state_problems(file: str, environments: Mapping[str, EnvironmentSettings]) -> list[str]:
    """Two environments on one state: the second's apply would destroy the first's resources."""
    owners: dict[tuple[str, ...], str] = {}
    lines = []
    for env_name, env in environments.items():
        for identity, service, field, shown in _state_locations(env):
            owner = f"environments.{env_name}" + (f"'s service {service}" if service else "")
            other = owners.setdefault(identity, owner)
            if other == owner:
                continue
            subject = "this state" if service is None else f"the state of its service {service}"
            where = identity[-1] if identity[0] == "local" else f"s3://{identity[2]}/{identity[3]}"
            lines.append(
                f"{file}: environments.{env_name}.state.{field} = {_show(shown)}: {subject} ({where}) is "
                f"also the state of {other}: one apply would destroy the other's resources; give each "
                f"environment its own state {field}"
            )
            break
    return lines


def _stack_name_problems(file: str, environments: Mapping[str, EnvironmentSettings]) -> list[str]:
    """A split environment's service stack named like another environment: cdktf needs one name each."""
    environment_names = set(environments)
    lines = []
    for env_name, env in environments.items():
        if not env.stack_per_service:
            continue
        for service in env.services:
            stack = names.service_stack_name(env_name, service.name)
            if stack in environment_names:
                lines.append(
                    f"{file}: environments.{env_name}.stack_per_service = true: the stack of its service "
                    f"{service.name} would be named {stack!r}, the name of environments.{stack}: each stack "
                    "needs its own name; rename that environment or set stack_per_service = false"
                )
    return lines


EMULATOR_ENDPOINT_VARIABLE = "environment variable ECS_CD_EMULATOR_ENDPOINT"
_TOO_DEEP = "arrays or tables nested too deeply (a configuration needs a few levels)"


def load_settings(
    path: Path,
    *,
    emulator_endpoint: str | None = None,
    emulator_endpoint_source: str = EMULATOR_ENDPOINT_VARIABLE,
) -> Settings:
    """Read and validate the configuration file.

    ``emulator_endpoint`` (default None) replaces the endpoint of every environment that
    runs against the emulator, for tools that start the emulator on a free port;
    ``emulator_endpoint_source`` names where it came from in a problem (default: the
    environment variable ECS_CD_EMULATOR_ENDPOINT, which main.py and ecs-release read).
    """
    file = str(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError([f"{file}: file not found (set ECS_CD_CONFIG or create it)"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{file}: cannot be read: {exc}"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{file}: is not valid TOML: {exc}"]) from None
    except RecursionError:
        raise ConfigError([f"{file}: cannot be read: {_TOO_DEEP}"]) from None
    except ValueError as exc:
        # Python refuses to convert an integer of more digits than sys.get_int_max_str_digits().
        raise ConfigError(
            [f"{file}: cannot be read: an integer has more than {sys.get_int_max_str_digits()} digits"]
            if "digits" in str(exc)
            else [f"{file}: is not valid TOML: {exc}"]
        ) from None
    try:
        return settings_from_dict(
            raw,
            file=file,
            emulator_endpoint=emulator_endpoint,
            emulator_endpoint_source=emulator_endpoint_source,
        )
    except RecursionError:
        raise ConfigError([f"{file}: cannot be checked: {_TOO_DEEP}"]) from None


def settings_from_dict(
    raw: Mapping[str, Any],
    *,
    file: str,
    emulator_endpoint: str | None = None,
    emulator_endpoint_source: str = EMULATOR_ENDPOINT_VARIABLE,
) -> Settings:
    """Validate an already parsed configuration (``file`` names it in errors; see ``load_settings``)."""
    problems: list[str] = []
    known = {"project", "terraform", "services", "environments"}
    for key in raw:
        if key not in known:
            problems.append(f"{file}: {key}: is not a known section (allowed: {', '.join(sorted(known))})")

    project = raw.get("project")
    project_name = ""
    project_tags: dict[str, str] = {}
    project_ok = False
    if not isinstance(project, Mapping) or "name" not in project:
        problems.append(f"{file}: project.name: is required but missing")
    else:
        for key in project:
            if key not in ("name", "tags"):
                problems.append(f"{file}: project.{key}: is not a known field (allowed: name, tags)")
        try:
            project_tags = _TAGS.validate_python(project.get("tags", {}))
        except ValidationError as exc:
            problems += _problems(file, ["project", "tags"], exc.errors())
        project_name = project["name"]
        if not isinstance(project_name, str):
            problems.append(f"{file}: project.name = {_show(project_name)}: must be a string")
        else:
            name_problems = _validate_name(
                file, "project.name", project_name, aws_formats.validate_project_name
            )
            problems += name_problems
            project_ok = not name_problems

    terraform = raw.get("terraform", {})
    null_version = DEFAULT_NULL_PROVIDER_VERSION
    if not isinstance(terraform, Mapping):
        problems.append(f"{file}: terraform = {_show(terraform)}: must be a table")
    else:
        for key, value in terraform.items():
            if key != "null_provider_version":
                problems.append(
                    f"{file}: terraform.{key}: is not a known field (allowed: null_provider_version)"
                )
            elif not isinstance(value, str) or not _VERSION_CONSTRAINT.fullmatch(value):
                problems.append(
                    f"{file}: terraform.null_provider_version = {_show(value)}: must be a Terraform "
                    "version constraint: conditions such as '>= 2.1.2, < 4.0.0' (operators =, !=, >, >=, <, "
                    "<=, ~>; versions of numbers and dots, optionally '-beta1'), separated by commas"
                )
            else:
                null_version = value

    services = raw.get("services")
    if not isinstance(services, Mapping) or not services:
        problems.append(f"{file}: services: define at least one [services.<name>] table")
        services = {}
    for name, body in services.items():
        problems += _validate_name(file, f"services.{name}", name, aws_formats.validate_service_name)
        if not isinstance(body, Mapping):
            problems.append(f"{file}: services.{name} = {_show(body)}: must be a table")
        elif "name" in body:
            # the table's key is the name; a "name" field would be silently replaced by it
            problems.append(
                f"{file}: services.{name}.name: is not a known field (the service's name is its table key, "
                f"{name!r})"
            )

    environments_raw = raw.get("environments")
    if not isinstance(environments_raw, Mapping) or not environments_raw:
        problems.append(f"{file}: environments: define at least one [environments.<name>] table")
        environments_raw = {}

    if emulator_endpoint is not None:
        try:
            _validate_endpoint(emulator_endpoint)
        except ValueError as exc:
            # Not a line of the file: name where the value came from.
            problems.append(f"{emulator_endpoint_source} = {_show(emulator_endpoint)}: {exc}")

    environments: dict[str, EnvironmentSettings] = {}
    for env_name, env_body in environments_raw.items():
        env_where = f"environments.{env_name}"
        name_problems = _validate_name(file, env_where, env_name, aws_formats.validate_environment_name)
        if name_problems or not isinstance(env_body, Mapping):
            problems += name_problems or [f"{file}: {env_where} = {_show(env_body)}: must be a table"]
            continue
        try:
            env_file = _EnvironmentFile.model_validate(env_body)
        except ValidationError as exc:
            problems += _problems(file, ["environments", env_name], exc.errors())
            continue

        problems += _region_problems(file, env_where, env_file)
        if env_file.aws.profile is not None and env_file.emulator_endpoint is not None:
            problems.append(
                f"{file}: {env_where}.aws.profile = {_show(env_file.aws.profile)}: an environment on "
                "the emulator (emulator_endpoint) uses the emulator's keys: remove the profile"
            )

        redeploy = image_strategies.DEFAULT_REDEPLOY_COMMAND
        if env_file.redeploy_command is not None:
            try:
                redeploy = image_strategies.validate_redeploy_command(env_file.redeploy_command)
            except ValueError as exc:
                problems.append(
                    f"{file}: {env_where}.redeploy_command = {_show(env_file.redeploy_command)}: {exc}"
                )

        for unknown in sorted(set(env_file.services) - set(services)) if services else ():
            problems.append(
                f"{file}: {env_where}.services.{unknown}: overrides a service that is not defined "
                f"(defined: {', '.join(sorted(services)) or 'none'})"
            )

        resolved: list[ServiceSettings] = []
        disabled: list[str] = []
        for svc_name, svc_body in services.items():
            if not isinstance(svc_body, Mapping):
                continue
            override = env_file.services.get(svc_name, {})
            bad = [k for k in override if k not in _OVERRIDABLE]
            for key in bad:
                problems.append(
                    f"{file}: {env_where}.services.{svc_name}.{key}: cannot be overridden per "
                    f"environment (allowed: {', '.join(sorted(_OVERRIDABLE))})"
                )
            merged = _merge_service(svc_body, {k: v for k, v in override.items() if k not in bad})
            enabled = merged.pop("enabled", True)
            if not isinstance(enabled, bool):
                where = (f"{env_where}." if "enabled" in override else "") + f"services.{svc_name}"
                problems.append(f"{file}: {where}.enabled = {_show(enabled)}: must be true or false")
                continue
            if not enabled:
                disabled.append(svc_name)
                continue
            placeholder_problems = _parameter_placeholders(
                # a project name that is not a string is reported at project.name
                merged,
                {
                    "project": project_name if isinstance(project_name, str) else "",
                    "service": svc_name,
                    "env": env_name,
                },
            )
            for path, value, message in placeholder_problems:
                base = (
                    ["environments", env_name, "services", svc_name]
                    if _from_override(path, override)
                    else ["services", svc_name]
                )
                problems.append(f"{file}: {_where([*base, *path])} = {_show(value)}: {message}")
            if placeholder_problems:
                continue
            merged["containers"], image_problems = _container_images(
                svc_name, merged.get("containers", {}), merged.get("image_strategy", "timestamp")
            )
            for path, value, message in image_problems:
                image_keys = [[*path, key] for key in _IMAGE_KEYS] if len(path) == 2 else [path]
                base = (
                    ["environments", env_name, "services", svc_name]
                    if any(_from_override(keys, override) for keys in image_keys)
                    else ["services", svc_name]
                )
                shown = "" if value is NO_VALUE else f" = {_show(value)}"
                line = f"{file}: {_where([*base, *path])}{shown}: {message}"
                if line not in problems:
                    problems.append(line)
            try:
                service = ServiceSettings.model_validate(
                    {**merged, "name": svc_name}, context={REPORT_BY_FIELD: True}
                )
            except ValidationError as exc:
                for error in exc.errors():
                    loc = error["loc"]
                    if len(loc) == 3 and loc[0] == "containers" and loc[2] == "name":
                        continue  # the table key, reported as such; the user wrote no name field
                    from_override = _from_override(loc, override)
                    base = (
                        ["environments", env_name, "services", svc_name]
                        if from_override
                        else ["services", svc_name]
                    )
                    line = _problems(file, base, [error])[0]
                    if line not in problems:
                        problems.append(line)
                continue
            if image_problems:
                continue
            try:
                if service.compute.compatibility == "FARGATE":
                    assert service.cpu is not None and service.memory is not None  # filled by default
                    aws_formats.validate_fargate_size(service.cpu, service.memory)
                else:
                    aws_formats.validate_ec2_task_size(service.cpu, service.memory)
            except ValueError as exc:
                field = "memory" if str(exc).startswith(("Fargate memory", "task memory")) else "cpu"
                where = f"{env_where}.services.{svc_name}" if field in override else f"services.{svc_name}"
                line = f"{file}: {where}.{field} = {_show(getattr(service, field))}: {exc}"
                if line not in problems:
                    problems.append(line)
                continue

            for conflict, value, message in _service_conflicts(
                service,
                public_ip_from=f"{env_where}.network.assign_public_ip"
                if env_file.network.assign_public_ip
                else None,
            ):
                in_override = _conflict_from_override(conflict, message, override)
                where = f"{env_where}.services.{svc_name}" if in_override else f"services.{svc_name}"
                shown = "" if value is _NO_VALUE else f" = {_show(value)}"
                line = f"{file}: {where}.{conflict}{shown}: {message}"
                if line not in problems:
                    problems.append(line)

            at = {
                field: f"{env_where}.services.{svc_name}.{field}"
                if field in override
                else f"services.{svc_name}.{field}"
                for field in ("image_tag", "image_tag_parameter", "image_strategy")
            }
            strategy_problems = []
            if service.image_tag is not None and service.image_strategy != "digest":
                strategy_problems.append(
                    f"{file}: {at['image_tag']} = {_show(service.image_tag)}: a fixed image_tag needs "
                    f"image_strategy = 'digest' (with {_show(service.image_strategy)} the tag comes from SSM)"
                )
            if service.image_tag is not None and service.image_tag_parameter is not None:
                strategy_problems.append(
                    f"{file}: {at['image_tag_parameter']} = {_show(service.image_tag_parameter)}: set either "
                    "image_tag (a fixed tag) or image_tag_parameter (the tag from SSM), not both"
                )
            if (
                service.image_strategy == "digest"
                and aws_formats.ecr_repository_arn(service.repository) is None
            ):
                strategy_problems.append(
                    f"{file}: {at['image_strategy']} = 'digest': 'digest' resolves the tag through ECR, so "
                    f"repository must be an ECR repository (<account>.dkr.ecr.<region>.amazonaws.com/<name>),"
                    f" not {_show(service.repository)}"
                )
            if strategy_problems:
                problems += [p for p in strategy_problems if p not in problems]
                continue
            if service.image_tag_parameter is None and service.image_tag is None:
                tag_parameter = names.image_tag_parameter(svc_name, env_name)
                problems += _validate_name(
                    file,
                    f"{env_where}.services.{svc_name}.image_tag_parameter (derived)",
                    tag_parameter,
                    aws_formats.validate_ssm_parameter_name,
                )
                service = service.model_copy(update={"image_tag_parameter": tag_parameter})
            if service.secrets_kms_key_arn is not None:
                where = (
                    f"{env_where}.services.{svc_name}"
                    if "secrets_kms_key_arn" in override
                    else f"services.{svc_name}"
                )
                for line in _in_region(
                    file,
                    f"{where}.secrets_kms_key_arn",
                    service.secrets_kms_key_arn,
                    env_file.region,
                ):
                    if line not in problems:
                        problems.append(line)
            size = definitions_size(
                _task_containers(service),
                region=env_file.region,
                # an invalid project name (reported above) counts at the longest a valid one can be
                log_group_name=names.log_group_name(
                    project_name if project_ok else "p" * aws_formats.PROJECT_NAME_MAX, env_name, svc_name
                ),
                network_mode=service.network_mode,
            )
            try:
                aws_formats.validate_task_definition_size(size)
            except ValueError as exc:
                in_override = any(k in override for k in (*APP_CONTAINER_FIELDS, "containers", "repository"))
                where = f"{env_where}.services.{svc_name}" if in_override else f"services.{svc_name}"
                if not any(p.startswith(f"{file}: {where}: its container definitions") for p in problems):
                    problems.append(f"{file}: {where}: {exc}")
            resolved.append(service)

        balanced = [s.name for s in resolved if s.load_balancer is not None]
        if balanced and env_file.load_balancer is None:
            problems.append(
                f"{file}: {env_where}.load_balancer: is required because "
                f"{', '.join('services.' + n + '.load_balancer' for n in balanced)} is set "
                "(listener_arn and security_group_id of an existing ALB, or create = true)"
            )
        priorities: dict[int, str] = {}
        for svc in resolved:
            if svc.load_balancer is None:
                continue
            other = priorities.setdefault(svc.load_balancer.priority, svc.name)
            if other != svc.name:
                problems.append(
                    f"{file}: {env_where}: services {other} and {svc.name} both use load_balancer.priority = "
                    f"{svc.load_balancer.priority}: listener rule priorities must be unique"
                )
        if (
            env_file.load_balancer is not None
            and env_file.load_balancer.create
            and env_file.stack_per_service
        ):
            problems.append(
                f"{file}: {env_where}.load_balancer.create = true: not supported with "
                "stack_per_service = true (service stacks attach to an existing listener: set "
                "listener_arn and security_group_id)"
            )

        capacity = env_file.ec2_capacity
        if capacity is not None and capacity.name is None:
            derived = names.ec2_capacity_name(project_name, env_name)
            try:
                validate_capacity_provider_name(derived)
                capacity = capacity.model_copy(update={"name": derived})
            except ValueError as exc:
                problems.append(
                    f"{file}: {env_where}.ec2_capacity.name (derived {derived!r}): {exc}: set name"
                )

        endpoint = env_file.emulator_endpoint
        if endpoint is not None and emulator_endpoint is not None:
            endpoint = emulator_endpoint.rstrip("/")
        environments[env_name] = EnvironmentSettings(
            name=env_name,
            region=env_file.region,
            emulator_endpoint=endpoint,
            network=env_file.network,
            state=env_file.state,
            log_retention_days=env_file.log_retention_days,
            redeploy_command=redeploy,
            stack_per_service=env_file.stack_per_service,
            wait_for_steady_state=env_file.wait_for_steady_state,
            log_kms_key_arn=env_file.log_kms_key_arn,
            load_balancer=env_file.load_balancer,
            ec2_capacity=capacity,
            services=tuple(resolved),
            disabled_services=tuple(disabled),
            aws=env_file.aws,
            tags={
                "Project": project_name if isinstance(project_name, str) else "",
                "Environment": env_name,
                "ManagedBy": "ecs-cd",
                **project_tags,
                **env_file.tags,
            },
        )
        for service in resolved:
            count = len(environments[env_name].tags) + 1 + len(service.tags)
            if count > aws_formats.MAX_TAGS_PER_RESOURCE:
                problems.append(
                    f"{file}: {env_where}: service {service.name}'s resources would carry {count} tags "
                    f"(4 of the tool's, the project's, the environment's and the service's): AWS allows "
                    f"{aws_formats.MAX_TAGS_PER_RESOURCE} per resource"
                )

    if project_ok:
        problems += _derived_name_problems(file, str(project_name), environments)
    problems += _shared_state_problems(file, environments)
    problems += _stack_name_problems(file, environments)

    owners: dict[str, str] = {}
    # Only for an otherwise valid file: the names are derived from the (valid) project name.
    for env_name, env in environments.items() if not problems else ():
        for service in env.services:
            family = names.task_family(project_name, env_name, service.name)
            other = owners.setdefault(family, f"{env_name}/{service.name}")
            if other != f"{env_name}/{service.name}":
                problems.append(
                    f"{file}: environments.{env_name}.services.{service.name}: its AWS names "
                    f"({family}, {family}-exec, ...) are also those of {other}: rename the "
                    "environment or the service (a hyphen in both makes them collide)"
                )

    if problems:
        raise ConfigError(problems)
    return Settings(
        source=file,
        project=project_name,
        null_provider_version=null_version,
        environments=environments,
    )
