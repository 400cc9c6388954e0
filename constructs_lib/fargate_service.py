"""A Fargate service: log group, roles, security group, task definition, ECS service.

Optional parts: a load balancer target (rule + target group), target-tracking
autoscaling, CloudWatch alarms that roll a deployment back.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.ecs_service import (
    EcsService,
    EcsServiceAlarms,
    EcsServiceDeploymentCircuitBreaker,
    EcsServiceLoadBalancer,
    EcsServiceNetworkConfiguration,
)
from cdktf_cdktf_provider_aws.ecs_task_definition import EcsTaskDefinition, EcsTaskDefinitionVolume
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.vpc_security_group_egress_rule import VpcSecurityGroupEgressRule
from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule
from constructs import Construct

from constructs_lib.autoscaling import Autoscaling, ServiceAutoscaling
from constructs_lib.checks import skip_check
from constructs_lib.container import ContainerSettings, container_definition, volume_name
from constructs_lib.load_balancer import ListenerAttachment, ServiceTarget
from constructs_lib.naming import (
    scaling_resource_id,
    validate_alarm_name,
    validate_ecs_name,
    validate_fargate_size,
    validate_image_reference,
    validate_kms_key_arn,
    validate_region,
)

_ECR_PULL_ACTIONS = [
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchGetImage",
    "ecr:GetDownloadUrlForLayer",
]
_ASSUME_BY_TASKS = json.dumps(
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
)


@dataclass(frozen=True)
class Deployment:
    """Rolling update bounds (percent of desired count) and what stops and rolls back a bad deployment."""

    minimum_healthy_percent: int = 100
    maximum_percent: int = 200
    circuit_breaker: bool = True
    rollback: bool = True
    alarm_names: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if not 0 <= self.minimum_healthy_percent <= 100:
            raise ValueError(
                f"Deployment.minimum_healthy_percent must be 0-100, got {self.minimum_healthy_percent}"
            )
        if not 100 <= self.maximum_percent <= 200:
            raise ValueError(f"Deployment.maximum_percent must be 100-200, got {self.maximum_percent}")
        if self.maximum_percent <= self.minimum_healthy_percent:
            raise ValueError("Deployment.maximum_percent must exceed minimum_healthy_percent")
        if self.rollback and not self.circuit_breaker and not self.alarm_names:
            raise ValueError("Deployment.rollback needs circuit_breaker or alarm_names")
        for name in self.alarm_names:
            validate_alarm_name(name)


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
        ecr_repository_arn: str | None = None,
        secrets_kms_key_arn: str | None = None,
        deployment: Deployment | None = None,
        load_balancer: ListenerAttachment | None = None,
        autoscaling: Autoscaling | None = None,
        wait_for_steady_state: bool = False,
        cluster_name: str | None = None,
        service_ignore_changes: Sequence[str] = (),
    ) -> None:
        """Props: ``cluster_arn``, ``service_name``, ``family``, ``container``, ``image`` (may be
        a token), ``region``, ``subnets``, ``log_group_name``, ``execution_role_name``,
        ``task_role_name`` (the application's role, no permissions), ``vpc_id`` and
        ``security_group_name`` (the tasks' own group: egress HTTPS, ingress only from the load
        balancer) are required; ``cpu`` default 256; ``memory`` default 512; ``desired_count``
        default 1 (only the initial count with ``autoscaling``); ``security_groups`` default none
        (extra groups, e.g. for a database); ``assign_public_ip`` default False;
        ``log_retention_days`` default 30; ``log_kms_key_arn`` default None (CloudWatch's own
        encryption); ``ecr_repository_arn`` default None (no ECR pull permission: the image is
        public or elsewhere); ``secrets_kms_key_arn`` default None (secrets use AWS managed
        keys); ``deployment`` default ``Deployment()`` (circuit breaker with rollback);
        ``load_balancer`` default None; ``autoscaling`` default None; ``wait_for_steady_state``
        default False; ``cluster_name`` default None (required with ``autoscaling``);
        ``service_ignore_changes`` default none (service attributes Terraform
        should not reconcile)."""
        super().__init__(scope, id_)
        validate_ecs_name(service_name)
        validate_ecs_name(family)
        validate_region(region)
        validate_fargate_size(cpu, memory)
        if "${" not in image:  # a token (e.g. from SSM or ECR) is resolved by Terraform
            validate_image_reference(image)
        deployment = deployment if deployment is not None else Deployment()
        if desired_count < 0:
            raise ValueError(f"desired_count must be >= 0, got {desired_count}")
        if not subnets:
            raise ValueError("subnets must name at least one subnet (awsvpc networking needs one)")
        if log_retention_days < 1:
            raise ValueError(f"log_retention_days must be >= 1, got {log_retention_days}")
        for key in (log_kms_key_arn, secrets_kms_key_arn):
            if key is not None:
                validate_kms_key_arn(key)
        if secrets_kms_key_arn is not None and not container.secrets:
            raise ValueError("secrets_kms_key_arn is set but the container has no secrets")
        if load_balancer is not None and container.port is None:
            raise ValueError("load_balancer needs container.port (the port the target group sends to)")
        if autoscaling is not None and not (
            autoscaling.min_capacity <= desired_count <= autoscaling.max_capacity
        ):
            raise ValueError(
                f"desired_count ({desired_count}) must lie within the autoscaling bounds "
                f"({autoscaling.min_capacity}-{autoscaling.max_capacity})"
            )
        if autoscaling is not None and cluster_name is None:
            raise ValueError(
                "autoscaling needs cluster_name (its resource id is service/<cluster>/<service>)"
            )
        if execution_role_name == task_role_name:
            raise ValueError("execution_role_name and task_role_name must differ (two roles, two purposes)")

        self._log_group = CloudwatchLogGroup(
            self,
            "logs",
            name=log_group_name,
            retention_in_days=log_retention_days,
            kms_key_id=log_kms_key_arn,
        )
        if log_kms_key_arn is None:
            skip_check(
                self._log_group,
                "CKV_AWS_158",
                "no log_kms_key_arn configured: CloudWatch Logs encrypts at rest with its own keys; "
                "set log_kms_key_arn for a customer-managed key",
            )
        if log_retention_days < 365:
            skip_check(
                self._log_group,
                "CKV_AWS_338",
                f"log_retention_days = {log_retention_days} is this environment's configured choice; "
                "a year or more is a compliance requirement, not a default",
            )
        self._execution_role = IamRole(
            self, "execution-role", name=execution_role_name, assume_role_policy=_ASSUME_BY_TASKS
        )
        # What the application itself may do in AWS: nothing until the user attaches policies.
        self._task_role = IamRole(self, "task-role", name=task_role_name, assume_role_policy=_ASSUME_BY_TASKS)
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
        ssm_arns = sorted(a for a in container.secrets.values() if ":ssm:" in a)
        secret_arns = sorted(a for a in container.secrets.values() if ":secretsmanager:" in a)
        if ssm_arns:
            statements.append(
                {
                    "Sid": "SsmSecrets",
                    "Effect": "Allow",
                    "Action": ["ssm:GetParameters"],
                    "Resource": ssm_arns,
                }
            )
        if secret_arns:
            statements.append(
                {
                    "Sid": "SecretsManagerSecrets",
                    "Effect": "Allow",
                    "Action": ["secretsmanager:GetSecretValue"],
                    "Resource": secret_arns,
                }
            )
        if secrets_kms_key_arn is not None:
            statements.append(
                {
                    "Sid": "DecryptSecrets",
                    "Effect": "Allow",
                    "Action": ["kms:Decrypt"],
                    "Resource": secrets_kms_key_arn,
                }
            )
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
            # The name predates secrets; kept, because renaming an inline policy replaces it.
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
            task_role_arn=self._task_role.arn,
            container_definitions=json.dumps([definition]),
            # Task-scoped (Fargate ephemeral storage) volumes: the writable paths of a
            # read-only root filesystem.
            volume=[EcsTaskDefinitionVolume(name=volume_name(path)) for path in container.writable_paths]
            or None,
        )

        self._security_group = SecurityGroup(
            self,
            "security-group",
            name=security_group_name,
            # EC2 allows only a-zA-Z0-9. _-:/()#,@[]+=&;{}!$* in descriptions.
            description=f"Tasks of {service_name}: HTTPS out; in only from its load balancer",
            vpc_id=vpc_id,
        )
        VpcSecurityGroupEgressRule(
            self,
            "egress-https",
            security_group_id=self._security_group.id,
            description="HTTPS to AWS APIs (ECR, CloudWatch Logs, SSM, Secrets Manager)",
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            cidr_ipv4="0.0.0.0/0",
        )
        self._target: ServiceTarget | None = None
        dependencies: list[object] = [self._execution_policy]
        load_balancers = None
        if load_balancer is not None:
            port = container.port
            assert port is not None
            VpcSecurityGroupIngressRule(
                self,
                "ingress-from-lb",
                security_group_id=self._security_group.id,
                description="the load balancer, on the container port only",
                ip_protocol="tcp",
                from_port=port,
                to_port=port,
                referenced_security_group_id=load_balancer.source_security_group_id,
            )
            if load_balancer.open_source_egress:
                VpcSecurityGroupEgressRule(
                    self,
                    "lb-egress",
                    security_group_id=load_balancer.source_security_group_id,
                    description=f"to the tasks of {service_name} on the container port",
                    ip_protocol="tcp",
                    from_port=port,
                    to_port=port,
                    referenced_security_group_id=self._security_group.id,
                )
            self._target = ServiceTarget(self, "lb", attachment=load_balancer, vpc_id=vpc_id, port=port)
            # ECS refuses a target group that no listener rule uses yet.
            dependencies.append(self._target.rule)
            load_balancers = [
                EcsServiceLoadBalancer(
                    target_group_arn=self._target.target_group.arn,
                    container_name=container.name,
                    container_port=port,
                )
            ]

        ignore = list(service_ignore_changes)
        if autoscaling is not None and "desired_count" not in ignore:
            # The scaler owns the count: a deploy must not reset it to the initial value.
            ignore.append("desired_count")
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
                security_groups=[self._security_group.id, *security_groups],
                assign_public_ip=assign_public_ip,
            ),
            load_balancer=load_balancers,
            health_check_grace_period_seconds=load_balancer.health_check_grace_period_seconds
            if load_balancer is not None
            else None,
            deployment_minimum_healthy_percent=deployment.minimum_healthy_percent,
            deployment_maximum_percent=deployment.maximum_percent,
            deployment_circuit_breaker=EcsServiceDeploymentCircuitBreaker(
                enable=deployment.circuit_breaker, rollback=deployment.rollback and deployment.circuit_breaker
            ),
            alarms=EcsServiceAlarms(
                alarm_names=list(deployment.alarm_names), enable=True, rollback=deployment.rollback
            )
            if deployment.alarm_names
            else None,
            wait_for_steady_state=wait_for_steady_state,
            # The role's policy must exist before the first task pulls its image.
            depends_on=dependencies,  # type: ignore[arg-type]
            lifecycle=TerraformResourceLifecycle(ignore_changes=ignore) if ignore else None,
        )
        if assign_public_ip:
            skip_check(
                self._service,
                "CKV_AWS_333",
                "assign_public_ip = true in this environment's network config (subnets without NAT, "
                "e.g. a default VPC); the tasks' security group still admits only the load balancer",
            )
        self._autoscaling: ServiceAutoscaling | None = None
        if autoscaling is not None:
            self._autoscaling = ServiceAutoscaling(
                self,
                "autoscaling",
                resource_id=scaling_resource_id(cluster_name, service_name),  # type: ignore[arg-type]
                policy_name_prefix=family,
                settings=autoscaling,
                depends_on=[self._service],
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
    def task_role(self) -> IamRole:
        """The application's own role (no permissions: attach what the application needs)."""
        return self._task_role

    @property
    def security_group(self) -> SecurityGroup:
        """The tasks' security group."""
        return self._security_group

    @property
    def target(self) -> ServiceTarget | None:
        """Target group and listener rule (with ``load_balancer`` only)."""
        return self._target

    @property
    def autoscaling(self) -> ServiceAutoscaling | None:
        """Scalable target and policies (with ``autoscaling`` only)."""
        return self._autoscaling

    @property
    def task_definition(self) -> EcsTaskDefinition:
        """The ``aws_ecs_task_definition``."""
        return self._task_definition

    @property
    def service(self) -> EcsService:
        """The ``aws_ecs_service``."""
        return self._service
