"""Terraform stacks per environment: providers, state backend, cluster, services.

By default one stack per environment holds the cluster and every service. With
``stack_per_service = true`` the environment's stack holds only the cluster, and each
service gets a stack ``<env>-<service>`` with its own state, so pipelines of different
services never wait for each other's lock.
"""

from __future__ import annotations

from typing import Any

from cdktf import LocalBackend, S3Backend, S3BackendEndpointConfig, TerraformStack
from cdktf_cdktf_provider_aws.data_aws_subnets import DataAwsSubnets, DataAwsSubnetsFilter
from cdktf_cdktf_provider_aws.data_aws_vpc import DataAwsVpc
from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderEndpoints
from cdktf_cdktf_provider_null.provider import NullProvider
from constructs import Construct

from constructs_lib import naming
from constructs_lib.cluster import ClusterRef, EcsCluster, ExistingCluster
from constructs_lib.container import ContainerSettings, HealthCheck
from constructs_lib.deployed_service import SsmTaggedService
from stacks.settings import EnvironmentSettings, LocalState, ServiceSettings

# Credentials the emulator accepts; never used against real AWS because they are only
# written for environments that set emulator_endpoint.
_EMULATOR_KEY = "emulator"
_EMULATED_SERVICES = ("ec2", "ecr", "ecs", "iam", "cloudwatchlogs", "ssm", "sts")
# moto's DescribeServices omits availabilityZoneRebalancing, so after every refresh the
# provider would plan to set it again; on the emulator only, Terraform leaves it alone.
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
            skip_requesting_account_id=True,
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


def _subnets(stack: TerraformStack, env: EnvironmentSettings) -> list[str]:
    if not env.network.use_default_vpc:
        return list(env.network.subnet_ids)
    vpc = DataAwsVpc(stack, "default-vpc", default=True)
    ids: list[str] = DataAwsSubnets(
        stack,
        "default-subnets",
        filter=[DataAwsSubnetsFilter(name="vpc-id", values=[vpc.id])],
    ).ids
    return ids


def _service(
    stack: TerraformStack,
    *,
    project: str,
    env: EnvironmentSettings,
    cluster: ClusterRef,
    subnets: list[str],
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
        subnets=subnets,
        log_group_name=naming.log_group_name(project, env.name, service.name),
        execution_role_name=naming.execution_role_name(project, env.name, service.name),
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
        subnets = _subnets(self, env)
        for service in env.services:
            self.services[service.name] = _service(
                self, project=project, env=env, cluster=self.cluster, subnets=subnets, service=service
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
        self.service = _service(
            self, project=project, env=env, cluster=self.cluster, subnets=_subnets(self, env), service=service
        )
