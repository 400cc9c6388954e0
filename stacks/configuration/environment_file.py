"""An environment's table of the configuration file (``[environments.<env>]``): its network, AWS
access, load balancer, cluster and the rest, as the file writes them. Its services' overrides are
plain tables here; ``build`` merges each into its service."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictStr,
    model_validator,
)

from constructs_lib.ec2_capacity_props import Ec2CapacityProps
from constructs_lib.fields import (
    EXTRA_SECURITY_GROUPS,
    SERVICE_SUBNETS,
    CertificateArn,
    Cidr,
    EcsName,
    KmsKeyArn,
    ListenerArn,
    Region,
    S3BucketName,
    SecurityGroupId,
    TagKey,
    TagValue,
)
from constructs_lib.load_balancer_props import ApplicationLoadBalancerProps, https_problems
from stacks.configuration.namespace import ServiceConnectTable
from stacks.configuration.state_model import LocalState, S3State


class ConfigModel(BaseModel):
    """A table of the configuration file (model.py's models too): unknown fields refused, frozen;
    each field's docstring is its description in the schema and the reference."""

    # The loader words each error itself; a ValidationError's own text never shows an input.
    model_config = ConfigDict(
        extra="forbid", frozen=True, hide_input_in_errors=True, use_attribute_docstrings=True
    )


def unique_items(value: list[Any]) -> list[Any]:
    if len(set(value)) != len(value):
        raise ValueError("must not list the same item twice")
    return value


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


class NetworkSettings(ConfigModel):
    """awsvpc networking: either the account's default VPC or explicit subnets."""

    use_default_vpc: StrictBool = False
    """The tasks run in the account's default VPC and its subnets (not with ``subnet_ids``)."""
    vpc_id: Annotated[StrictStr, Field(pattern=r"^vpc-[0-9a-f]{8,17}$")] | None = None
    """The VPC of ``subnet_ids``, where the services' security groups and target groups live
    (required with ``subnet_ids``, not with ``use_default_vpc``)."""
    # ECS allows 5 security groups per service, and one is the service's own.
    subnet_ids: Annotated[
        list[Annotated[StrictStr, Field(pattern=r"^subnet-[0-9a-f]{8,17}$")]], SERVICE_SUBNETS
    ] = Field(default_factory=list)
    """The subnets the tasks run in, at most 16 (unset: ``use_default_vpc`` is required)."""
    security_group_ids: Annotated[
        list[Annotated[StrictStr, Field(pattern=r"^sg-[0-9a-f]{8,17}$")]], EXTRA_SECURITY_GROUPS
    ] = Field(default_factory=list)
    """Security groups the tasks join beside their service's own, at most 4."""
    assign_public_ip: StrictBool = False
    """The tasks get public IPs (Fargate only: public subnets without a NAT gateway)."""

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


class LoadBalancerSettings(ConfigModel):
    """The environment's Application Load Balancer: an existing listener, or one created here."""

    listener_arn: ListenerArn | None = None
    """An existing load balancer's listener, in the environment's region (with
    ``security_group_id``; not with ``create``)."""
    security_group_id: SecurityGroupId | None = None
    """The existing load balancer's security group: the tasks admit only it."""
    # ApplicationLoadBalancerProps has the rules and the defaults of a created one.
    create: StrictBool = False
    """Create a load balancer here instead of attaching to an existing one."""
    internal: StrictBool = ApplicationLoadBalancerProps.model_fields["internal"].default
    """The created load balancer is internal (false: internet-facing, HTTPS only, which needs
    ``certificate_arn``)."""
    certificate_arn: CertificateArn | None = None
    """The created load balancer's ACM certificate, in the environment's region: HTTPS, and HTTP
    redirected to it (unset: plain HTTP, internal only)."""
    ingress_cidr_blocks: Annotated[list[Cidr], AfterValidator(unique_items)] | None = None
    """Who may connect to the created load balancer, IPv4 CIDR blocks (unset: the VPC's CIDR block
    when internal, anyone, ``0.0.0.0/0``, when internet-facing)."""
    deletion_protection: StrictBool = ApplicationLoadBalancerProps.model_fields["deletion_protection"].default
    """The created load balancer refuses deletion until this is turned off."""
    access_logs_bucket: S3BucketName | None = None
    """An S3 bucket for the created load balancer's access logs; its policy must let ELB log
    delivery write (unset: no access logs)."""
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
    """A WAF web ACL to associate with the created load balancer, in the environment's region
    (recommended when internet-facing; unset: none)."""

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


class AwsAccess(ConfigModel):
    """How an environment reaches its AWS account (all optional)."""

    account_id: Annotated[StrictStr, Field(pattern=r"^[0-9]{12}$")] | None = None
    """The account the environment's resources live in: Terraform's provider refuses any other
    (``allowed_account_ids``), and ``ecs-release`` checks the credentials' account before any call
    (the wrong one is exit 2, nothing written). Unset: not checked."""
    profile: Annotated[StrictStr, Field(pattern=r"^[A-Za-z0-9_.+@=,-]{1,64}$")] | None = None
    """The AWS CLI/SDK profile for the provider, the S3 backend, the redeploy command and
    ``ecs-release``; not with ``emulator_endpoint`` (unset: the default credentials)."""
    role_arn: (
        Annotated[
            StrictStr,
            Field(pattern=r"^arn:aws(-cn|-us-gov)?:iam::[0-9]{12}:role/[A-Za-z0-9_+=,.@/-]{1,512}$"),
        ]
        | None
    ) = None
    """A role to assume in the environment's account, in the partition of the environment's region
    (unset: the credentials are used as they are)."""
    external_id: Annotated[StrictStr, Field(pattern=r"^[A-Za-z0-9_+=,.@:/-]{2,1224}$")] | None = None
    """The external id the role's trust policy asks for (with ``role_arn``)."""
    session_name: Annotated[StrictStr, Field(pattern=r"^[A-Za-z0-9_+=,.@-]{2,64}$")] | None = None
    """The role session's name, which CloudTrail shows (with ``role_arn``; unset: ``ecs-cd-<env>``)."""

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


class ClusterSettings(ConfigModel):
    """The environment's ECS cluster: its name and where it comes from."""

    name: EcsName | None = None
    """The cluster's name (unset: ``<project>-<env>``)."""
    origin: Literal["created", "adopted", "existing"] = "created"
    """``created`` (made here), ``adopted`` (a live cluster Terraform imports and owns from then on)
    or ``existing`` (a live one used as it is, never changed here; not with ``ec2_capacity``)."""


class EnvironmentFile(ConfigModel):
    """An ``[environments.<env>]`` table as the file writes it."""

    region: Region
    """The AWS region: one of the commercial, China and GovCloud regions of
    ``ecs_cd/core/aws_regions.py``."""
    emulator_endpoint: Endpoint | None = None
    """Run against an AWS emulator at this http(s) URL, e.g. ``http://127.0.0.1:4566`` (fake
    credentials, custom endpoints; unset: real AWS)."""
    aws: AwsAccess = Field(default_factory=AwsAccess)
    """The environment's account, profile and a role to assume there."""
    network: NetworkSettings
    """Where the tasks run: the default VPC or explicit subnets."""
    state: Annotated[LocalState | S3State, Field(discriminator="backend")]
    """Where the environment's Terraform state lives: ``backend = "local"`` or ``"s3"``. No two
    environments may share a state."""
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
    """How many days CloudWatch keeps the services' logs (one of the values CloudWatch allows)."""
    redeploy_command: list[StrictStr] | None = None
    """The argv of the redeploy ``local-exec`` (image strategy ``timestamp``); may use
    ``{cluster}``, ``{service}``, ``{region}`` and ``{task_definition}`` (unset: ``aws ecs
    update-service --cluster {cluster} --service {service} --task-definition {task_definition}
    --force-new-deployment --region {region} ...``)."""
    stack_per_service: StrictBool = False
    """One Terraform stack per service (``<env>-<service>``, each with its own state) beside the
    environment's, which then holds the cluster; switch an existing environment with
    ``ecs-release move-layout``."""
    wait_for_steady_state: StrictBool = False
    """Terraform waits for each service to reach a steady state before the apply ends."""
    log_kms_key_arn: KmsKeyArn | None = None
    """A customer-managed key for the services' log groups, in the environment's region (unset:
    CloudWatch's own encryption)."""
    load_balancer: LoadBalancerSettings | None = None
    """The environment's Application Load Balancer: an existing one, or one created here (unset:
    none; a service's ``load_balancer`` needs it)."""
    ec2_capacity: Ec2CapacityProps | None = None
    """The cluster's own EC2 instances: an Auto Scaling group and its capacity provider (unset:
    none)."""
    tags: dict[TagKey, TagValue] = Field(default_factory=dict)
    """Tags of every resource of the environment, over the project's (the provider's
    ``default_tags``)."""
    cluster: ClusterSettings = Field(default_factory=ClusterSettings)
    """The environment's ECS cluster."""
    service_connect: ServiceConnectTable | None = None
    """ECS Service Connect: the Cloud Map namespace every enabled service joins as a client (unset:
    no Service Connect)."""
    services: dict[str, dict[str, Any]] = Field(default_factory=dict)
    """Per-environment overrides of the services, ``[environments.<env>.services.<name>]``: merged
    into the service's table for this environment."""

    @model_validator(mode="after")
    def _capacity_on_own_cluster(self) -> EnvironmentFile:
        if self.ec2_capacity is not None and self.cluster.origin == "existing":
            raise ValueError(
                "ec2_capacity attaches its capacity provider to the cluster, which an existing cluster "
                "(cluster.origin = 'existing') does not let this project change: adopt it "
                "(origin = 'adopted') or attach the capacity where the cluster is managed"
            )
        return self
