"""A Fargate service: log group, execution role, task definition and ECS service."""

from __future__ import annotations

import json
from collections.abc import Sequence

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.ecs_service import EcsService, EcsServiceNetworkConfiguration
from cdktf_cdktf_provider_aws.ecs_task_definition import EcsTaskDefinition
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from constructs import Construct

from constructs_lib.container import ContainerSettings, container_definition
from constructs_lib.naming import (
    validate_ecs_name,
    validate_fargate_size,
    validate_region,
)

_ECR_PULL_ACTIONS = [
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchGetImage",
    "ecr:GetDownloadUrlForLayer",
]


class FargateService(Construct):
    """An ECS service on Fargate (awsvpc) running one container that logs to CloudWatch."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        cluster_arn: str,
        service_name: str,
        family: str,
        container: ContainerSettings,
        image: str,
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
        ecr_repository_arn: str | None = None,
        service_ignore_changes: Sequence[str] = (),
    ) -> None:
        """Props: ``cluster_arn``, ``service_name``, ``family``, ``container``, ``image`` (may be
        a token), ``region``, ``subnets``, ``log_group_name``, ``execution_role_name`` are
        required; ``cpu`` default 256; ``memory`` default 512; ``desired_count`` default 1;
        ``security_groups`` default none (the VPC's default group); ``assign_public_ip``
        default False; ``log_retention_days`` default 30; ``ecr_repository_arn`` default None
        (no ECR pull permission: the image is public or elsewhere); ``service_ignore_changes``
        default none (service attributes Terraform should not reconcile)."""
        super().__init__(scope, id_)
        validate_ecs_name(service_name)
        validate_ecs_name(family)
        validate_region(region)
        validate_fargate_size(cpu, memory)
        if desired_count < 0:
            raise ValueError(f"desired_count must be >= 0, got {desired_count}")
        if not subnets:
            raise ValueError("subnets must name at least one subnet (awsvpc networking needs one)")
        if log_retention_days < 1:
            raise ValueError(f"log_retention_days must be >= 1, got {log_retention_days}")

        self._log_group = CloudwatchLogGroup(
            self, "logs", name=log_group_name, retention_in_days=log_retention_days
        )
        self._execution_role = IamRole(
            self,
            "execution-role",
            name=execution_role_name,
            assume_role_policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
            ),
        )
        statements: list[dict[str, object]] = []
        if ecr_repository_arn is not None:
            statements += [
                # GetAuthorizationToken has no resource-level permissions: "*" is the only form.
                {
                    "Sid": "EcrAuth",
                    "Effect": "Allow",
                    "Action": ["ecr:GetAuthorizationToken"],
                    "Resource": "*",
                },
                {
                    "Sid": "EcrPull",
                    "Effect": "Allow",
                    "Action": _ECR_PULL_ACTIONS,
                    "Resource": ecr_repository_arn,
                },
            ]
        statements.append(
            {
                "Sid": "Logs",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": f"{self._log_group.arn}:*",
            }
        )
        self._execution_policy = IamRolePolicy(
            self,
            "execution-policy",
            name="pull-image-and-write-logs",
            role=self._execution_role.id,
            policy=json.dumps({"Version": "2012-10-17", "Statement": statements}),
        )
        definition = container_definition(
            container,
            image=image,
            log_group=log_group_name,
            region=region,
            stream_prefix=container.name,
        )
        self._task_definition = EcsTaskDefinition(
            self,
            "task",
            family=family,
            cpu=str(cpu),
            memory=str(memory),
            network_mode="awsvpc",
            requires_compatibilities=["FARGATE"],
            execution_role_arn=self._execution_role.arn,
            container_definitions=json.dumps([definition]),
        )
        self._service = EcsService(
            self,
            "service",
            name=service_name,
            cluster=cluster_arn,
            task_definition=self._task_definition.arn,
            desired_count=desired_count,
            launch_type="FARGATE",
            network_configuration=EcsServiceNetworkConfiguration(
                subnets=list(subnets),
                security_groups=list(security_groups),
                assign_public_ip=assign_public_ip,
            ),
            # The role's policy must exist before the first task pulls its image.
            depends_on=[self._execution_policy],
            lifecycle=TerraformResourceLifecycle(ignore_changes=list(service_ignore_changes))
            if service_ignore_changes
            else None,
        )

    @property
    def log_group(self) -> CloudwatchLogGroup:
        """The ``aws_cloudwatch_log_group`` the container logs to."""
        return self._log_group

    @property
    def execution_role(self) -> IamRole:
        """The task execution role (image pull, log writes)."""
        return self._execution_role

    @property
    def task_definition(self) -> EcsTaskDefinition:
        """The ``aws_ecs_task_definition``."""
        return self._task_definition

    @property
    def service(self) -> EcsService:
        """The ``aws_ecs_service``."""
        return self._service
