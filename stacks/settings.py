"""Typed settings and their loader: the only code that parses the configuration file.

Data flows one way: the TOML file is read and validated here, every environment gets
one frozen ``EnvironmentSettings`` with its services already merged with that
environment's overrides, and the stacks only ever see those typed values.

Every mistake a user can make in the file is reported as one ``ConfigError`` whose
lines each name the file, the field, the value and what is allowed, before any
construct (and so before jsii or AWS) is touched.
"""

from __future__ import annotations

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
    ValidationError,
    field_validator,
    model_validator,
)

from constructs_lib import naming

# The provider bindings pin null 3.2.4 exactly; the range admits the 2.x series as
# well because the null_resource schema is the same and offline machines may only
# have a mirrored 2.1.2. Override it in [terraform] to pin.
DEFAULT_NULL_PROVIDER_VERSION = ">= 2.1.2, < 4.0.0"


class ConfigError(Exception):
    """A configuration mistake, already phrased for the user (one line per problem)."""

    def __init__(self, problems: Sequence[str]) -> None:
        # One problem, one line: names and keys typed by the user may hold control characters.
        self.problems = tuple(_printable(p) for p in problems)
        super().__init__("\n".join(self.problems))


def _printable(text: str) -> str:
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _show(value: Any) -> str:
    """``repr(value)`` for a problem line; an int too long to print does not crash the loader."""
    try:
        return repr(value)
    except ValueError:
        return "<a value too large to show>"


def _check(fn: Any) -> AfterValidator:
    return AfterValidator(fn)


ProjectName = Annotated[StrictStr, _check(naming.validate_project_name)]
Region = Annotated[StrictStr, _check(naming.validate_region)]
Repository = Annotated[StrictStr, _check(naming.validate_repository)]
SsmName = Annotated[StrictStr, _check(naming.validate_ssm_parameter_name)]
EcsName = Annotated[StrictStr, _check(naming.validate_ecs_name)]
EnvVarName = Annotated[StrictStr, _check(naming.validate_env_var_name)]
ImageTag = Annotated[StrictStr, _check(naming.validate_image_tag)]
Port = Annotated[StrictInt, Field(ge=1, le=65535)]
SecretArn = Annotated[StrictStr, _check(naming.validate_secret_arn)]
KmsKeyArn = Annotated[StrictStr, _check(naming.validate_kms_key_arn)]
ListenerArn = Annotated[StrictStr, _check(naming.validate_listener_arn)]
AlarmName = Annotated[StrictStr, _check(naming.validate_alarm_name)]
ContainerPath = Annotated[StrictStr, _check(naming.validate_container_path)]
ContainerUser = Annotated[StrictStr, _check(naming.validate_container_user)]
PathPattern = Annotated[StrictStr, _check(naming.validate_path_pattern)]
HostHeader = Annotated[StrictStr, _check(naming.validate_host_header)]
SecurityGroupId = Annotated[StrictStr, Field(pattern=r"^sg-[0-9a-f]{8,17}$")]
Cidr = Annotated[
    StrictStr,
    Field(
        pattern=r"^(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])/(?:3[0-2]|[12]?[0-9])$"
    ),
]
CertificateArn = Annotated[
    StrictStr,
    Field(
        pattern=r"^arn:aws(?:-cn|-us-gov)?:acm:[a-z]{2}(?:-[a-z]+)+-[0-9]:[0-9]{12}:certificate/[0-9a-f-]{36}$"
    ),
]


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


Endpoint = Annotated[StrictStr, _check(_validate_endpoint)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HealthCheckSettings(_Model):
    """Container health check; ECS's own defaults apply to omitted timings."""

    command: Annotated[list[StrictStr], Field(min_length=1)]
    interval: Annotated[StrictInt, Field(ge=5, le=300)] = 30
    timeout: Annotated[StrictInt, Field(ge=2, le=60)] = 5
    retries: Annotated[StrictInt, Field(ge=1, le=10)] = 3
    start_period: Annotated[StrictInt, Field(ge=0, le=300)] = 0

    @field_validator("command")
    @classmethod
    def _command_kind(cls, value: list[str]) -> list[str]:
        if value[0] not in ("CMD", "CMD-SHELL", "NONE"):
            raise ValueError("the first item must be 'CMD', 'CMD-SHELL' or 'NONE'")
        return value

    @model_validator(mode="after")
    def _timeout_within_interval(self) -> HealthCheckSettings:
        if self.timeout >= self.interval:
            raise ValueError("health_check.timeout must be shorter than health_check.interval")
        return self


def _unique(value: list[Any]) -> list[Any]:
    if len(set(value)) != len(value):
        raise ValueError("must not list the same item twice")
    return value


class DeploymentSettings(_Model):
    """How ECS replaces tasks: rolling update guarded by the circuit breaker (and alarms)."""

    # Rolling update bounds, as percentages of the desired count.
    minimum_healthy_percent: Annotated[StrictInt, Field(ge=0, le=100)] = 100
    maximum_percent: Annotated[StrictInt, Field(ge=100, le=200)] = 200
    # The circuit breaker stops a deployment whose tasks keep failing; rollback returns
    # to the last deployment that completed.
    circuit_breaker: StrictBool = True
    rollback: StrictBool = True
    # Existing CloudWatch alarms that, in ALARM during a deployment, fail (and roll) it back.
    alarm_names: Annotated[list[AlarmName], AfterValidator(_unique)] = Field(default_factory=list)

    @model_validator(mode="after")
    def _can_progress(self) -> DeploymentSettings:
        if self.maximum_percent <= self.minimum_healthy_percent:
            raise ValueError(
                f"deployment.maximum_percent ({self.maximum_percent}) must be greater than "
                f"deployment.minimum_healthy_percent ({self.minimum_healthy_percent}), or no task "
                "can ever be replaced"
            )
        if self.rollback and not self.circuit_breaker and not self.alarm_names:
            raise ValueError(
                "deployment.rollback = true needs circuit_breaker = true or alarm_names: "
                "nothing else can trigger a rollback"
            )
        return self


class ServiceLoadBalancerSettings(_Model):
    """A listener rule and target group on the environment's load balancer."""

    path_patterns: Annotated[list[PathPattern], Field(max_length=5), AfterValidator(_unique)] = Field(
        default_factory=list
    )
    host_headers: Annotated[list[HostHeader], Field(max_length=5), AfterValidator(_unique)] = Field(
        default_factory=list
    )
    priority: Annotated[StrictInt, Field(ge=1, le=50000)]
    health_check_path: PathPattern = "/"
    health_check_grace_period_seconds: Annotated[StrictInt, Field(ge=0, le=2147483647)] = 60
    deregistration_delay_seconds: Annotated[StrictInt, Field(ge=0, le=3600)] = 30

    @model_validator(mode="after")
    def _some_condition(self) -> ServiceLoadBalancerSettings:
        if not self.path_patterns and not self.host_headers:
            raise ValueError("load_balancer needs path_patterns or host_headers (what the rule matches)")
        return self


class AutoscalingSettings(_Model):
    """Target tracking on average CPU and/or memory between min_capacity and max_capacity tasks."""

    min_capacity: Annotated[StrictInt, Field(ge=0, le=1000)]
    max_capacity: Annotated[StrictInt, Field(ge=1, le=1000)]
    cpu_target_percent: Annotated[StrictInt, Field(ge=1, le=100)] | None = None
    memory_target_percent: Annotated[StrictInt, Field(ge=1, le=100)] | None = None
    scale_in_cooldown_seconds: Annotated[StrictInt, Field(ge=0, le=3600)] = 300
    scale_out_cooldown_seconds: Annotated[StrictInt, Field(ge=0, le=3600)] = 60

    @model_validator(mode="after")
    def _consistent(self) -> AutoscalingSettings:
        if self.min_capacity > self.max_capacity:
            raise ValueError(
                f"autoscaling.min_capacity ({self.min_capacity}) must not exceed "
                f"autoscaling.max_capacity ({self.max_capacity})"
            )
        if self.cpu_target_percent is None and self.memory_target_percent is None:
            raise ValueError("autoscaling needs cpu_target_percent or memory_target_percent (or both)")
        return self


class ServiceSettings(_Model):
    """One service as it runs in one environment (defaults merged with overrides)."""

    name: StrictStr
    repository: Repository
    cpu: StrictInt = 256
    memory: StrictInt = 512
    desired_count: Annotated[StrictInt, Field(ge=0, le=1000)] = 1
    container_port: Port | None = None
    environment: dict[EnvVarName, StrictStr] = Field(default_factory=dict)
    command: list[StrictStr] | None = None
    entry_point: list[StrictStr] | None = None
    health_check: HealthCheckSettings | None = None
    image_tag_parameter: SsmName | None = None
    image_strategy: naming.ImageStrategy = "timestamp"
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
    deployment: DeploymentSettings = Field(default_factory=DeploymentSettings)
    load_balancer: ServiceLoadBalancerSettings | None = None
    autoscaling: AutoscalingSettings | None = None


def _service_conflicts(service: ServiceSettings) -> list[tuple[str, Any, str]]:
    """Contradictions between a service's fields, as (field path, value or _NO_VALUE, message)."""
    found: list[tuple[str, Any, str]] = []
    for key in sorted(service.environment):
        if naming.secret_looking(key):
            # The value is not echoed: it may be the credential itself.
            found.append(
                (
                    f"environment.{key}",
                    _NO_VALUE,
                    "looks like a credential: plain environment values are readable by anyone who "
                    "can describe the task definition, so move it to secrets "
                    "(NAME = '<SSM parameter or Secrets Manager ARN>')",
                )
            )
    for key in sorted(set(service.environment) & set(service.secrets)):
        found.append((f"secrets.{key}", _NO_VALUE, "is also set in environment: keep one of the two"))
    if service.secrets_kms_key_arn is not None and not service.secrets:
        found.append(
            ("secrets_kms_key_arn", service.secrets_kms_key_arn, "is set but there are no secrets to decrypt")
        )
    if service.load_balancer is not None and service.container_port is None:
        found.append(
            ("load_balancer", _NO_VALUE, "needs container_port (the port the target group sends to)")
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


_NO_VALUE = object()


class NetworkSettings(_Model):
    """awsvpc networking: either the account's default VPC or explicit subnets."""

    use_default_vpc: StrictBool = False
    # The VPC of subnet_ids: the service's security group and target group live in it.
    vpc_id: Annotated[StrictStr, Field(pattern=r"^vpc-[0-9a-f]{8,17}$")] | None = None
    subnet_ids: list[Annotated[StrictStr, Field(pattern=r"^subnet-[0-9a-f]{8,17}$")]] = Field(
        default_factory=list
    )
    security_group_ids: list[Annotated[StrictStr, Field(pattern=r"^sg-[0-9a-f]{8,17}$")]] = Field(
        default_factory=list
    )
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
    access_logs_bucket: Annotated[StrictStr, Field(pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")] | None = (
        None
    )
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


class LocalState(_Model):
    """Terraform state in a file next to the synthesized stack."""

    backend: Literal["local"]
    path: StrictStr = "terraform.tfstate"
    lock_timeout_seconds: LockTimeout = 0


class S3State(_Model):
    """Terraform state in S3."""

    backend: Literal["s3"]
    bucket: Annotated[StrictStr, Field(pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")]
    key: Annotated[StrictStr, Field(min_length=1, max_length=1024)]
    region: Region
    encrypt: StrictBool = True
    # S3-native locking (Terraform >= 1.10): a <key>.tflock object next to the state.
    use_lockfile: StrictBool = True
    # How long a second pipeline waits for the lock before failing (0: fail at once).
    lock_timeout_seconds: LockTimeout = 300


class _EnvironmentFile(_Model):
    region: Region
    emulator_endpoint: Endpoint | None = None
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
    services: tuple[ServiceSettings, ...]

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
        "repository",
        "cpu",
        "memory",
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
    }
)


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
        # pydantic adds the discriminated union's tag after "state" and "[key]" after a dict
        # key that failed: the user wrote neither (but may have named a table "state" or "[key]").
        if len(own) >= 2 and own[0] == "state" and own[1] in ("local", "s3"):
            del own[1]
        if len(own) >= 2 and own[-1] == "[key]" and error["type"] != "extra_forbidden":
            del own[-1]
        where = _where([*base, *own])
        if error["type"] == "missing":
            lines.append(f"{file}: {where}: {_message(error)}")
        else:
            lines.append(f"{file}: {where} = {_show(error['input'])}: {_message(error)}")
    return lines


def _validate_name(file: str, where: str, value: str, check: Any) -> list[str]:
    try:
        check(value)
    except ValueError as exc:
        return [f"{file}: {where} = {_show(value)}: {exc}"]
    return []


def load_settings(path: Path, *, emulator_endpoint: str | None = None) -> Settings:
    """Read and validate the configuration file.

    ``emulator_endpoint`` (default None) replaces the endpoint of every environment that
    runs against the emulator, for tools that start the emulator on a free port.
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
    return settings_from_dict(raw, file=file, emulator_endpoint=emulator_endpoint)


def settings_from_dict(
    raw: Mapping[str, Any], *, file: str, emulator_endpoint: str | None = None
) -> Settings:
    """Validate an already parsed configuration (``file`` names it in errors)."""
    problems: list[str] = []
    known = {"project", "terraform", "services", "environments"}
    for key in raw:
        if key not in known:
            problems.append(f"{file}: {key}: is not a known section (allowed: {', '.join(sorted(known))})")

    project = raw.get("project")
    project_name = ""
    if not isinstance(project, Mapping) or "name" not in project:
        problems.append(f"{file}: project.name: is required but missing")
    else:
        for key in project:
            if key != "name":
                problems.append(f"{file}: project.{key}: is not a known field (allowed: name)")
        project_name = project["name"]
        if not isinstance(project_name, str):
            problems.append(f"{file}: project.name = {_show(project_name)}: must be a string")
        else:
            problems += _validate_name(file, "project.name", project_name, naming.validate_project_name)

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
            elif not isinstance(value, str) or not value.strip() or any(c in value for c in '"\\\n'):
                problems.append(
                    f"{file}: terraform.null_provider_version = {_show(value)}: must be a Terraform "
                    "version constraint such as '>= 2.1.2, < 4.0.0'"
                )
            else:
                null_version = value

    services = raw.get("services")
    if not isinstance(services, Mapping) or not services:
        problems.append(f"{file}: services: define at least one [services.<name>] table")
        services = {}
    for name, body in services.items():
        problems += _validate_name(file, f"services.{name}", name, naming.validate_service_name)
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
        problems += _validate_name(file, "emulator endpoint override", emulator_endpoint, _validate_endpoint)

    environments: dict[str, EnvironmentSettings] = {}
    for env_name, env_body in environments_raw.items():
        env_where = f"environments.{env_name}"
        name_problems = _validate_name(file, env_where, env_name, naming.validate_environment_name)
        if name_problems or not isinstance(env_body, Mapping):
            problems += name_problems or [f"{file}: {env_where} = {_show(env_body)}: must be a table"]
            continue
        try:
            env_file = _EnvironmentFile.model_validate(env_body)
        except ValidationError as exc:
            problems += _problems(file, ["environments", env_name], exc.errors())
            continue

        redeploy = naming.DEFAULT_REDEPLOY_COMMAND
        if env_file.redeploy_command is not None:
            try:
                redeploy = naming.validate_redeploy_command(env_file.redeploy_command)
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
            merged = {**svc_body, **{k: v for k, v in override.items() if k not in bad}}
            for table in ("environment", "secrets"):
                if isinstance(svc_body.get(table), Mapping) and isinstance(override.get(table), Mapping):
                    merged[table] = {**svc_body[table], **override[table]}
            try:
                service = ServiceSettings.model_validate({**merged, "name": svc_name})
            except ValidationError as exc:
                for error in exc.errors():
                    loc = error["loc"]
                    from_override = bool(loc) and loc[0] in override
                    if from_override and loc[0] in ("environment", "secrets") and len(loc) > 1:
                        # merged key by key: blame the table the variable came from
                        env_vars = override[loc[0]]
                        from_override = not isinstance(env_vars, Mapping) or loc[1] in env_vars
                    base = (
                        ["environments", env_name, "services", svc_name]
                        if from_override
                        else ["services", svc_name]
                    )
                    line = _problems(file, base, [error])[0]
                    if line not in problems:
                        problems.append(line)
                continue
            try:
                naming.validate_fargate_size(service.cpu, service.memory)
            except ValueError as exc:
                field = "cpu" if service.cpu not in naming.FARGATE_CPU_MEMORY else "memory"
                where = f"{env_where}.services.{svc_name}" if field in override else f"services.{svc_name}"
                line = f"{file}: {where}.{field} = {_show(getattr(service, field))}: {exc}"
                if line not in problems:
                    problems.append(line)
                continue

            for path, value, message in _service_conflicts(service):
                top = path.split(".")[0]
                in_override = top in override and (
                    "." not in path
                    or not isinstance(override[top], Mapping)
                    or path.split(".", 1)[1] in override[top]
                )
                where = f"{env_where}.services.{svc_name}" if in_override else f"services.{svc_name}"
                shown = "" if value is _NO_VALUE else f" = {_show(value)}"
                line = f"{file}: {where}.{path}{shown}: {message}"
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
            if service.image_strategy == "digest" and naming.ecr_repository_arn(service.repository) is None:
                strategy_problems.append(
                    f"{file}: {at['image_strategy']} = 'digest': 'digest' resolves the tag through ECR, so "
                    f"repository must be an ECR repository (<account>.dkr.ecr.<region>.amazonaws.com/<name>),"
                    f" not {_show(service.repository)}"
                )
            if strategy_problems:
                problems += [p for p in strategy_problems if p not in problems]
                continue
            if service.image_tag_parameter is None and service.image_tag is None:
                tag_parameter = naming.image_tag_parameter(svc_name, env_name)
                problems += _validate_name(
                    file,
                    f"{env_where}.services.{svc_name}.image_tag_parameter (derived)",
                    tag_parameter,
                    naming.validate_ssm_parameter_name,
                )
                service = service.model_copy(update={"image_tag_parameter": tag_parameter})
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
            services=tuple(resolved),
        )

    owners: dict[str, str] = {}
    # Only for an otherwise valid file: the names are derived from the (valid) project name.
    for env_name, env in environments.items() if not problems else ():
        for service in env.services:
            family = naming.task_family(project_name, env_name, service.name)
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
