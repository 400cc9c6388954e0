"""One continuously delivered service: SSM tag -> image -> Fargate service -> redeploy."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from constructs import Construct

from constructs_lib.cluster import EcsCluster
from constructs_lib.container import ContainerSettings
from constructs_lib.fargate_service import FargateService
from constructs_lib.image import SsmTaggedImage
from constructs_lib.naming import DEFAULT_REDEPLOY_COMMAND, ecr_repository_arn
from constructs_lib.redeploy import TimestampRedeploy


class SsmTaggedService(Construct):
    """A Fargate service whose image tag CI writes to SSM, force-redeployed on every apply."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        cluster: EcsCluster,
        service_name: str,
        family: str,
        repository: str,
        tag_parameter: str,
        container: ContainerSettings,
        region: str,
        subnets: Sequence[str],
        log_group_name: str,
        execution_role_name: str,
        cpu: int = 256,
        memory: int = 512,
        desired_count: int = 1,
        security_groups: Sequence[str] = (),
        assign_public_ip: bool = False,
        log_retention_days: int = 30,
        redeploy_command: Sequence[str] = DEFAULT_REDEPLOY_COMMAND,
        redeploy_environment: Mapping[str, str] | None = None,
    ) -> None:
        """Props as for ``SsmTaggedImage`` (``repository``, ``tag_parameter``), ``FargateService``
        (same names and defaults; ECR pull permission is derived from ``repository``) and
        ``TimestampRedeploy`` (``redeploy_command`` default ``aws ecs update-service …``,
        ``redeploy_environment`` default none)."""
        super().__init__(scope, id_)
        self._image = SsmTaggedImage(self, "image", repository=repository, parameter_name=tag_parameter)
        self._fargate = FargateService(
            self,
            "fargate",
            cluster_arn=cluster.cluster.arn,
            service_name=service_name,
            family=family,
            container=container,
            image=self._image.image,
            region=region,
            subnets=subnets,
            log_group_name=log_group_name,
            execution_role_name=execution_role_name,
            cpu=cpu,
            memory=memory,
            desired_count=desired_count,
            security_groups=security_groups,
            assign_public_ip=assign_public_ip,
            log_retention_days=log_retention_days,
            ecr_repository_arn=ecr_repository_arn(repository),
        )
        self._redeploy = TimestampRedeploy(
            self,
            "redeploy",
            cluster_name=cluster.name,
            service_name=service_name,
            region=region,
            command=redeploy_command,
            environment=redeploy_environment,
            depends_on=[self._fargate.service],
        )

    @property
    def image(self) -> SsmTaggedImage:
        """The SSM tag lookup and the image it builds."""
        return self._image

    @property
    def fargate(self) -> FargateService:
        """Log group, execution role, task definition and service."""
        return self._fargate

    @property
    def redeploy(self) -> TimestampRedeploy:
        """The timestamp-triggered ``null_resource``."""
        return self._redeploy
