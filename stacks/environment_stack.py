"""Terraform stacks per environment: providers, state backend, cluster, services.

By default one stack per environment holds the cluster and every service. With
``stack_per_service = true`` the environment's stack holds only the cluster, and each
service gets a stack ``<env>-<service>`` with its own state, so pipelines of different
services never wait for each other's lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cdktf import LocalBackend, S3Backend, S3BackendEndpointConfig, TerraformStack
from cdktf_cdktf_provider_aws.data_aws_subnets import DataAwsSubnets, DataAwsSubnetsFilter
from cdktf_cdktf_provider_aws.data_aws_vpc import DataAwsVpc
from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderEndpoints
from cdktf_cdktf_provider_null.provider import NullProvider
from constructs import Construct

from constructs_lib import naming
from constructs_lib.autoscaling import Autoscaling
from constructs_lib.cluster import ClusterRef, EcsCluster, ExistingCluster
from constructs_lib.container import ContainerSettings, HealthCheck
from constructs_lib.deployed_service import SsmTaggedService
from constructs_lib.fargate_service import Deployment
from constructs_lib.load_balancer import ApplicationLoadBalancer, ListenerAttachment
from stacks.settings import EnvironmentSettings, LocalState, ServiceSettings

# Credentials the emulator accepts; never used against real AWS because they are only
# written for environments that set emulator_endpoint.
_EMULATOR_KEY = "emulator"
_EMULATED_SERVICES = (
    "applicationautoscaling",
    "cloudwatch",
    "cloudwatchlogs",
    "ec2",
    "ecr",
    "ecs",
    "elbv2",
    "iam",
    "kms",
    "secretsmanager",
    "ssm",
    "sts",
)
# moto's DescribeServices omits availabilityZoneRebalancing, so after every refresh the
# provider would plan to set it again; on the emulator only, Terraform leaves it alone.
# (devkit/moto_server.py fills the gaps that can be filled faithfully.)
_EMULATOR_SERVICE_GAPS = ("availability_zone_rebalancing",)


def service_stack_name(environment: str, service: str) -> str:
    """The stack of one service when an environment is split (``cdktf deploy dev-api``)."""
    return f"{environment}-{service}"


def service_state_key(key: str, service: str) -> str:
    """``ecs-cd/dev.tfstate`` -> ``ecs-cd/dev/api.tfstate``: one state per service stack."""
    stem = key[: -len(".tfstate")] if key.endswith(".tfstate") else key
    return f"{stem}/{service}.tfstate"


def _container(service: ServiceSettings) -> ContainerSettings:
    check = service.health_check
    return ContainerSettings(
        name=service.name,
        port=service.container_port,
        environment=dict(service.environment),
        command=tuple(service.command) if service.command is not None else None,
        entry_point=tuple(service.entry_point) if service.entry_point is not None else None,
        secrets=dict(service.secrets),
        readonly_root_filesystem=service.readonly_root_filesystem,
        writable_paths=tuple(service.writable_paths),
        user=service.user,
        health_check=HealthCheck(
            command=tuple(check.command),
            interval=check.interval,
            timeout=check.timeout,
            retries=check.retries,
            start_period=check.start_period,
        )
        if check is not None
        else None,
    )


def _providers_and_backend(
    stack: TerraformStack, env: EnvironmentSettings, null_provider_version: str, service: str | None
) -> None:
    endpoint = env.emulator_endpoint
    if endpoint is not None:
        AwsProvider(
            stack,
            "aws",
            region=env.region,
            access_key=_EMULATOR_KEY,
            secret_key=_EMULATOR_KEY,
            skip_credentials_validation=True,
            # The emulator answers GetCallerIdentity; knowing the account, the provider reads
            # rules that reference a security group as "sg-…", not "<account>/sg-…".
            skip_requesting_account_id=False,
            skip_metadata_api_check="true",
            endpoints=[AwsProviderEndpoints(**{name: endpoint for name in _EMULATED_SERVICES})],
        )
    else:
        AwsProvider(stack, "aws", region=env.region)
    NullProvider(stack, "null")
    stack.add_override("terraform.required_providers.null.version", null_provider_version)

    if isinstance(env.state, LocalState):
        LocalBackend(stack, path=env.state.path)
        return
    emulator_backend: dict[str, Any] = {}
    if endpoint is not None:
        emulator_backend = {
            "endpoints": S3BackendEndpointConfig(s3=endpoint),
            "use_path_style": True,
            "access_key": _EMULATOR_KEY,
            "secret_key": _EMULATOR_KEY,
            "skip_credentials_validation": True,
            "skip_requesting_account_id": True,
            "skip_metadata_api_check": True,
            "skip_s3_checksum": True,
        }
    S3Backend(
        stack,
        bucket=env.state.bucket,
        key=env.state.key if service is None else service_state_key(env.state.key, service),
        region=env.state.region,
        encrypt=env.state.encrypt,
        **emulator_backend,
    )
    if env.state.use_lockfile:
        # cdktf 0.21's S3Backend predates use_lockfile; the override writes it as is.
        stack.add_override("terraform.backend.s3.use_lockfile", True)


@dataclass(frozen=True)
class _Network:
    vpc_id: str
    subnets: list[str]
    vpc: DataAwsVpc | None  # the default VPC's lookup, when there is one


def _network(stack: TerraformStack, env: EnvironmentSettings) -> _Network:
    if not env.network.use_default_vpc:
        assert env.network.vpc_id is not None  # the settings require it with subnet_ids
        return _Network(env.network.vpc_id, list(env.network.subnet_ids), None)
    vpc = DataAwsVpc(stack, "default-vpc", default=True)
    ids: list[str] = DataAwsSubnets(
        stack,
        "default-subnets",
        filter=[DataAwsSubnetsFilter(name="vpc-id", values=[vpc.id])],
    ).ids
    return _Network(vpc.id, ids, vpc)


@dataclass(frozen=True)
class _Listener:
    arn: str
    security_group_id: str
    ours: bool


def _load_balancer(
    stack: TerraformStack, *, project: str, env: EnvironmentSettings, network: _Network
) -> _Listener | None:
    settings = env.load_balancer
    if settings is None:
        return None
    if not settings.create:
        assert settings.listener_arn is not None and settings.security_group_id is not None
        return _Listener(settings.listener_arn, settings.security_group_id, ours=False)
    cidrs = settings.ingress_cidr_blocks
    if cidrs is None:
        if settings.internal:
            vpc = network.vpc or DataAwsVpc(stack, "vpc", id=network.vpc_id)
            cidrs = [vpc.cidr_block]
        else:
            cidrs = ["0.0.0.0/0"]
    alb = ApplicationLoadBalancer(
        stack,
        "alb",
        name=naming.load_balancer_name(project, env.name),
        security_group_name=naming.load_balancer_security_group_name(project, env.name),
        vpc_id=network.vpc_id,
        subnets=network.subnets,
        ingress_cidr_blocks=cidrs,
        internal=settings.internal,
        certificate_arn=settings.certificate_arn,
        deletion_protection=settings.deletion_protection,
        access_logs_bucket=settings.access_logs_bucket,
        web_acl_arn=settings.web_acl_arn,
    )
    return _Listener(alb.listener.arn, alb.security_group.id, ours=True)


def _attachment(
    project: str, env: EnvironmentSettings, service: ServiceSettings, listener: _Listener | None
) -> ListenerAttachment | None:
    lb = service.load_balancer
    if lb is None:
        return None
    assert listener is not None  # the settings require the environment's load balancer
    return ListenerAttachment(
        listener_arn=listener.arn,
        source_security_group_id=listener.security_group_id,
        target_group_name=naming.target_group_name(project, env.name, service.name),
        priority=lb.priority,
        path_patterns=tuple(lb.path_patterns),
        host_headers=tuple(lb.host_headers),
        health_check_path=lb.health_check_path,
        health_check_grace_period_seconds=lb.health_check_grace_period_seconds,
        deregistration_delay_seconds=lb.deregistration_delay_seconds,
        open_source_egress=listener.ours,
    )


def _service(
    stack: TerraformStack,
    *,
    project: str,
    env: EnvironmentSettings,
    cluster: ClusterRef,
    network: _Network,
    listener: _Listener | None,
    service: ServiceSettings,
) -> SsmTaggedService:
    endpoint = env.emulator_endpoint
    timestamp = service.image_strategy == "timestamp"
    redeploy_environment = None
    if endpoint is not None and timestamp:
        redeploy_environment = {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": _EMULATOR_KEY,
            "AWS_SECRET_ACCESS_KEY": _EMULATOR_KEY,
            "AWS_DEFAULT_REGION": env.region,
        }
    return SsmTaggedService(
        stack,
        service.name,
        cluster=cluster,
        service_name=naming.service_name(service.name),
        family=naming.task_family(project, env.name, service.name),
        repository=service.repository,
        tag_parameter=service.image_tag_parameter,
        image_strategy=service.image_strategy,
        fixed_tag=service.image_tag,
        container=_container(service),
        region=env.region,
        subnets=network.subnets,
        vpc_id=network.vpc_id,
        security_group_name=naming.security_group_name(project, env.name, service.name),
        log_group_name=naming.log_group_name(project, env.name, service.name),
        log_kms_key_arn=env.log_kms_key_arn,
        execution_role_name=naming.execution_role_name(project, env.name, service.name),
        task_role_name=naming.task_role_name(project, env.name, service.name),
        secrets_kms_key_arn=service.secrets_kms_key_arn,
        deployment=Deployment(
            minimum_healthy_percent=service.deployment.minimum_healthy_percent,
            maximum_percent=service.deployment.maximum_percent,
            circuit_breaker=service.deployment.circuit_breaker,
            rollback=service.deployment.rollback,
            alarm_names=tuple(service.deployment.alarm_names),
        ),
        load_balancer=_attachment(project, env, service, listener),
        autoscaling=Autoscaling(**service.autoscaling.model_dump()) if service.autoscaling else None,
        wait_for_steady_state=env.wait_for_steady_state,
        cpu=service.cpu,
        memory=service.memory,
        desired_count=service.desired_count,
        security_groups=env.network.security_group_ids,
        assign_public_ip=env.network.assign_public_ip,
        log_retention_days=env.log_retention_days,
        redeploy_command=env.redeploy_command if timestamp else None,
        redeploy_environment=redeploy_environment,
        service_ignore_changes=_EMULATOR_SERVICE_GAPS if endpoint is not None else (),
    )


class EnvironmentStack(TerraformStack):
    """One environment: its ECS cluster and (unless split per service) every service on it."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        project: str,
        environment: EnvironmentSettings,
        null_provider_version: str,
    ) -> None:
        """``project``: name prefix; ``environment``: validated settings; ``null_provider_version``:
        the Terraform constraint for hashicorp/null (replaces the bindings' exact pin)."""
        super().__init__(scope, id_)
        env = environment
        _providers_and_backend(self, env, null_provider_version, service=None)
        self.cluster = EcsCluster(self, "cluster", name=naming.cluster_name(project, env.name))
        self.services: dict[str, SsmTaggedService] = {}
        if env.stack_per_service:
            return
        network = _network(self, env)
        listener = _load_balancer(self, project=project, env=env, network=network)
        for service in env.services:
            self.services[service.name] = _service(
                self,
                project=project,
                env=env,
                cluster=self.cluster,
                network=network,
                listener=listener,
                service=service,
            )


class ServiceStack(TerraformStack):
    """One service of a split environment, with its own state; the cluster is looked up by name."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        project: str,
        environment: EnvironmentSettings,
        service: ServiceSettings,
        null_provider_version: str,
    ) -> None:
        """``service``: the one service this stack deploys; other props as ``EnvironmentStack``."""
        super().__init__(scope, id_)
        env = environment
        if not env.stack_per_service:
            raise ValueError(f"environment {env.name} is not split per service (stack_per_service = false)")
        _providers_and_backend(self, env, null_provider_version, service=service.name)
        self.cluster = ExistingCluster(self, "cluster", name=naming.cluster_name(project, env.name))
        network = _network(self, env)
        # The settings refuse load_balancer.create with split stacks: a listener is given.
        listener = _load_balancer(self, project=project, env=env, network=network)
        self.service = _service(
            self,
            project=project,
            env=env,
            cluster=self.cluster,
            network=network,
            listener=listener,
            service=service,
        )
