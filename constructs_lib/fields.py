"""Field types shared by construct props and the settings loader: each AWS rule once.

Each type is a string or number with the validator of its AWS format attached, so a
construct built in Python and a configuration file fail the same way, with the same words.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, Field, StrictInt, StrictStr

from ecs_cd.core import aws_formats, aws_regions, schedules


def _check(fn: Any) -> AfterValidator:
    return AfterValidator(fn)


ProjectName = Annotated[StrictStr, _check(aws_formats.validate_project_name)]
Region = Annotated[StrictStr, _check(aws_regions.validate_region)]
Repository = Annotated[StrictStr, _check(aws_formats.validate_repository)]
SsmName = Annotated[StrictStr, _check(aws_formats.validate_ssm_parameter_name)]
ContainerName = Annotated[StrictStr, _check(aws_formats.validate_container_name)]
EcsName = Annotated[StrictStr, _check(aws_formats.validate_ecs_name)]
EnvVarName = Annotated[StrictStr, _check(aws_formats.validate_env_var_name)]
ImageReference = Annotated[StrictStr, _check(aws_formats.validate_image_reference)]
ImageTag = Annotated[StrictStr, _check(aws_formats.validate_image_tag)]
Port = Annotated[StrictInt, Field(ge=1, le=65535)]
SecretArn = Annotated[StrictStr, _check(aws_formats.validate_secret_arn)]
KmsKeyArn = Annotated[StrictStr, _check(aws_formats.validate_kms_key_arn)]
ListenerArn = Annotated[StrictStr, _check(aws_formats.validate_listener_arn)]
SqsQueueArn = Annotated[StrictStr, _check(aws_formats.validate_sqs_queue_arn)]
SqsQueueName = Annotated[StrictStr, _check(aws_formats.validate_sqs_queue_name)]
AlarmName = Annotated[StrictStr, _check(aws_formats.validate_alarm_name)]
ContainerPath = Annotated[StrictStr, _check(aws_formats.validate_container_path)]
# A task volume's name (ECS: up to 255 letters, digits, '-' and '_').
VolumeName = Annotated[StrictStr, Field(pattern=r"^[A-Za-z0-9_-]{1,255}$")]
ContainerUser = Annotated[StrictStr, _check(aws_formats.validate_container_user)]
PathPattern = Annotated[StrictStr, _check(aws_formats.validate_path_pattern)]
HostHeader = Annotated[StrictStr, _check(aws_formats.validate_host_header)]
TagKey = Annotated[StrictStr, _check(aws_formats.validate_tag_key)]
TagValue = Annotated[StrictStr, _check(aws_formats.validate_tag_value)]
SecurityGroupId = Annotated[StrictStr, Field(pattern=r"^sg-[0-9a-f]{8,17}$")]
SecurityGroupName = Annotated[StrictStr, _check(aws_formats.validate_security_group_name)]
LoadBalancerName = Annotated[StrictStr, _check(aws_formats.validate_load_balancer_name)]
RoleName = Annotated[StrictStr, _check(aws_formats.validate_role_name)]
LogGroupName = Annotated[StrictStr, _check(aws_formats.validate_log_group_name)]
TargetGroupName = Annotated[StrictStr, _check(aws_formats.validate_target_group_name)]
S3BucketName = Annotated[StrictStr, _check(aws_formats.validate_s3_bucket_name)]
# ECS Service Connect: a port mapping's name, a discovery name, a client alias's DNS name, and a
# Cloud Map namespace's name or ARN.
PortMappingName = Annotated[StrictStr, _check(aws_formats.validate_port_mapping_name)]
DiscoveryName = Annotated[StrictStr, _check(aws_formats.validate_discovery_name)]
ServiceConnectDnsName = Annotated[StrictStr, _check(aws_formats.validate_service_connect_dns_name)]
NamespaceName = Annotated[StrictStr, _check(aws_formats.validate_namespace_name)]
NamespaceArn = Annotated[StrictStr, _check(aws_formats.validate_namespace_arn)]
# EventBridge Scheduler's cron(...), rate(...) or at(...), and an IANA time zone name.
ScheduleExpression = Annotated[StrictStr, _check(schedules.validate_expression)]
TimeZone = Annotated[StrictStr, _check(schedules.validate_timezone)]
HealthCheckCommand = Annotated[
    tuple[StrictStr, ...], Field(min_length=1), _check(aws_formats.validate_health_check_command)
]
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


# Checks of whole lists, for Annotated[list[...], check]:
# a service's security groups besides its own (at most 4: ECS allows 5), and its subnets (at most 16).
EXTRA_SECURITY_GROUPS = _check(aws_formats.validate_extra_security_groups)
SERVICE_SUBNETS = _check(aws_formats.validate_service_subnets)
