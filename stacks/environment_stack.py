"""One Terraform stack per environment: providers, state backend, cluster, services."""

from __future__ import annotations

from cdktf import LocalBackend, S3Backend, S3BackendEndpointConfig, TerraformStack
from cdktf_cdktf_provider_aws.data_aws_subnets import DataAwsSubnets, DataAwsSubnetsFilter
from cdktf_cdktf_provider_aws.data_aws_vpc import DataAwsVpc
from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderEndpoints
from cdktf_cdktf_provider_null.provider import NullProvider
from constructs import Construct

from constructs_lib import naming
from constructs_lib.cluster import EcsCluster
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


class EnvironmentStack(TerraformStack):
    """Everything one environment runs: one ECS cluster shared by all its services."""

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
        endpoint = env.emulator_endpoint

        if endpoint is not None:
            AwsProvider(
                self,
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
            AwsProvider(self, "aws", region=env.region)
        NullProvider(self, "null")
        self.add_override("terraform.required_providers.null.version", null_provider_version)

        if isinstance(env.state, LocalState):
            LocalBackend(self, path=env.state.path)
        else:
            emulator_backend = {}
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
                self,
                bucket=env.state.bucket,
                key=env.state.key,
                region=env.state.region,
                encrypt=env.state.encrypt,
                **emulator_backend,  # type: ignore[arg-type]
            )
            if env.state.use_lockfile:
                # cdktf 0.21's S3Backend predates use_lockfile; the override writes it as is.
                self.add_override("terraform.backend.s3.use_lockfile", True)

        if env.network.use_default_vpc:
            vpc = DataAwsVpc(self, "default-vpc", default=True)
            subnets: list[str] = DataAwsSubnets(
                self,
                "default-subnets",
                filter=[DataAwsSubnetsFilter(name="vpc-id", values=[vpc.id])],
            ).ids
        else:
            subnets = list(env.network.subnet_ids)

        self.cluster = EcsCluster(self, "cluster", name=naming.cluster_name(project, env.name))

        redeploy_environment = None
        if endpoint is not None:
            redeploy_environment = {
                "AWS_ENDPOINT_URL": endpoint,
                "AWS_ACCESS_KEY_ID": _EMULATOR_KEY,
                "AWS_SECRET_ACCESS_KEY": _EMULATOR_KEY,
                "AWS_DEFAULT_REGION": env.region,
            }

        self.services: dict[str, SsmTaggedService] = {}
        for service in env.services:
            timestamp = service.image_strategy == "timestamp"
            self.services[service.name] = SsmTaggedService(
                self,
                service.name,
                cluster=self.cluster,
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
                redeploy_environment=redeploy_environment if timestamp else None,
                service_ignore_changes=_EMULATOR_SERVICE_GAPS if endpoint is not None else (),
            )
