"""One continuously delivered service: tag (SSM or fixed) -> image -> Fargate service -> redeploy.

The image strategy decides how the image is chosen and what redeploys the service:
``timestamp``: ``<repo>:<SSM tag>`` and a null_resource forcing a deployment on every apply;
``ssm-tag``: ``<repo>:<SSM tag>``, a new tag gives a new revision, nothing else redeploys;
``digest``: the tag resolved through ECR to ``<repo>@sha256:…``, a new digest gives a new revision.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from constructs import Construct

from constructs_lib.autoscaling import Autoscaling
from constructs_lib.cluster import ClusterRef
from constructs_lib.container import ContainerSettings
from constructs_lib.fargate_service import Deployment, FargateService
from constructs_lib.image import EcrDigestImage, SsmTaggedImage
from constructs_lib.load_balancer import ListenerAttachment
from constructs_lib.naming import (
    DEFAULT_REDEPLOY_COMMAND,
    IMAGE_STRATEGIES,
    ImageStrategy,
    ecr_repository_arn,
)
from constructs_lib.redeploy import TimestampRedeploy


class SsmTaggedService(Construct):
    """A Fargate service whose image CI releases through SSM (or a fixed tag), per ``image_strategy``."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        cluster: ClusterRef,
        service_name: str,
        family: str,
        repository: str,
        tag_parameter: str | None,
        container: ContainerSettings,
        region: str,
        subnets: Sequence[str],
        log_group_name: str,
        execution_role_name: str,
        task_role_name: str,
        vpc_id: str,
        security_group_name: str,
        cpu: int = 256,
        memory: int = 512,
        desired_count: int = 1,
        security_groups: Sequence[str] = (),
        assign_public_ip: bool = False,
        log_retention_days: int = 30,
        log_kms_key_arn: str | None = None,
        secrets_kms_key_arn: str | None = None,
        deployment: Deployment | None = None,
        load_balancer: ListenerAttachment | None = None,
        autoscaling: Autoscaling | None = None,
        wait_for_steady_state: bool = False,
        image_strategy: ImageStrategy = "timestamp",
        fixed_tag: str | None = None,
        redeploy_command: Sequence[str] | None = None,
        redeploy_environment: Mapping[str, str] | None = None,
        service_ignore_changes: Sequence[str] = (),
    ) -> None:
        """Props as for ``SsmTaggedImage`` (``repository``, ``tag_parameter``), ``FargateService``
        (same names and defaults: roles, security group, deployment, load balancer, autoscaling;
        ECR pull permission is derived from ``repository``) and
        ``TimestampRedeploy`` (``redeploy_command`` default ``aws ecs update-service …``,
        ``redeploy_environment`` default none; only with ``timestamp``); ``image_strategy``
        default ``timestamp``; ``fixed_tag`` default None (only with ``digest``, instead of
        ``tag_parameter``); ``service_ignore_changes`` default none."""
        super().__init__(scope, id_)
        if image_strategy not in IMAGE_STRATEGIES:
            raise ValueError(
                f"image_strategy must be one of {list(IMAGE_STRATEGIES)}, got {image_strategy!r}"
            )
        if fixed_tag is not None and image_strategy != "digest":
            raise ValueError(
                "fixed_tag needs image_strategy='digest' (the other strategies read the tag from SSM)"
            )
        if (fixed_tag is None) == (tag_parameter is None) and image_strategy == "digest":
            raise ValueError("image_strategy='digest' needs exactly one of tag_parameter and fixed_tag")
        if tag_parameter is None and image_strategy != "digest":
            raise ValueError(f"image_strategy={image_strategy!r} needs tag_parameter")
        if image_strategy != "timestamp" and (redeploy_command is not None or redeploy_environment):
            raise ValueError(
                "redeploy_command and redeploy_environment only apply to image_strategy='timestamp'"
            )

        self._tag: SsmTaggedImage | None = None
        self._digest: EcrDigestImage | None = None
        if tag_parameter is not None:
            # id "image" predates the strategies: keeping it keeps existing Terraform addresses.
            self._tag = SsmTaggedImage(self, "image", repository=repository, parameter_name=tag_parameter)
        if image_strategy == "digest":
            tag = fixed_tag if fixed_tag is not None else self._tag.tag  # type: ignore[union-attr]
            self._digest = EcrDigestImage(self, "digest", repository=repository, tag=tag)
            image = self._digest.image
        else:
            assert self._tag is not None
            image = self._tag.image
        self._image_reference = image
        self._fargate = FargateService(
            self,
            "fargate",
            cluster_arn=cluster.arn,
            service_name=service_name,
            family=family,
            container=container,
            image=image,
            region=region,
            subnets=subnets,
            log_group_name=log_group_name,
            execution_role_name=execution_role_name,
            task_role_name=task_role_name,
            vpc_id=vpc_id,
            security_group_name=security_group_name,
            cpu=cpu,
            memory=memory,
            desired_count=desired_count,
            security_groups=security_groups,
            assign_public_ip=assign_public_ip,
            log_retention_days=log_retention_days,
            log_kms_key_arn=log_kms_key_arn,
            secrets_kms_key_arn=secrets_kms_key_arn,
            deployment=deployment,
            load_balancer=load_balancer,
            autoscaling=autoscaling,
            wait_for_steady_state=wait_for_steady_state,
            cluster_name=cluster.name,
            ecr_repository_arn=ecr_repository_arn(repository),
            service_ignore_changes=service_ignore_changes,
        )
        self._redeploy: TimestampRedeploy | None = None
        if image_strategy == "timestamp":
            self._redeploy = TimestampRedeploy(
                self,
                "redeploy",
                cluster_name=cluster.name,
                service_name=service_name,
                region=region,
                command=redeploy_command if redeploy_command is not None else DEFAULT_REDEPLOY_COMMAND,
                environment=redeploy_environment,
                depends_on=[self._fargate.service],
            )

    @property
    def image(self) -> SsmTaggedImage | None:
        """The SSM tag lookup (None with a fixed tag)."""
        return self._tag

    @property
    def digest_image(self) -> EcrDigestImage | None:
        """The ECR digest lookup (``digest`` strategy only)."""
        return self._digest

    @property
    def image_reference(self) -> str:
        """A token for the image the task definition runs."""
        return self._image_reference

    @property
    def fargate(self) -> FargateService:
        """Log group, execution role, task definition and service."""
        return self._fargate

    @property
    def redeploy(self) -> TimestampRedeploy | None:
        """The timestamp-triggered ``null_resource`` (``timestamp`` strategy only)."""
        return self._redeploy
