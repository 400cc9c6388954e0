"""Constructs used programmatically: contradictory or unsafe props are rejected in __init__."""

from __future__ import annotations

import json
import shlex
from typing import Any

import pytest
from cdktf import TerraformStack, Testing

from constructs_lib.cluster import EcsCluster
from constructs_lib.container import ContainerSettings, HealthCheck, container_definition
from constructs_lib.fargate_service import FargateService
from constructs_lib.image import SsmTaggedImage
from constructs_lib.redeploy import TimestampRedeploy, render_command


def _stack() -> TerraformStack:
    return TerraformStack(Testing.app(), "test")


def _fargate(stack: TerraformStack, **overrides: Any) -> FargateService:
    props: dict[str, Any] = {
        "cluster_arn": "arn:aws:ecs:us-east-1:123456789012:cluster/c",
        "service_name": "api",
        "family": "p-e-api",
        "container": ContainerSettings(name="api", port=80),
        "image": "nginx:1.27",
        "region": "us-east-1",
        "subnets": ["subnet-0a1b2c3d"],
        "log_group_name": "/ecs/p/e/api",
        "execution_role_name": "p-e-api-exec",
        "task_role_name": "p-e-api-task",
        "vpc_id": "vpc-0a1b2c3d",
        "security_group_name": "p-e-api-tasks",
    }
    props.update(overrides)
    return FargateService(stack, "svc", **props)


def test_fargate_service_exposes_its_children() -> None:
    stack = _stack()
    service = _fargate(stack)
    out = json.loads(Testing.synth(stack))
    # the read-only attributes are the resources that were synthesized
    assert service.task_definition.family_input == "p-e-api"
    assert service.service.name_input == "api"
    assert set(out["resource"]) == {
        "aws_cloudwatch_log_group",
        "aws_iam_role",
        "aws_iam_role_policy",
        "aws_ecs_task_definition",
        "aws_ecs_service",
        "aws_security_group",
        "aws_vpc_security_group_egress_rule",
    }
    assert service.task_role.name_input == "p-e-api-task"
    assert service.execution_role.name_input == "p-e-api-exec"
    assert service.target is None and service.autoscaling is None
    with pytest.raises(AttributeError):
        service.service = None  # type: ignore[misc,assignment]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"cpu": 256, "memory": 4096}, "Fargate memory for cpu 256 must be one of"),
        ({"cpu": 100}, "Fargate cpu must be one of"),
        ({"desired_count": -1}, "desired_count must be >= 0"),
        ({"subnets": []}, "subnets must name at least one subnet"),
        ({"service_name": "api; rm -rf /"}, "an ECS name must be"),
        ({"region": "US-EAST-1"}, "a region must look like"),
        ({"log_retention_days": 0}, "log_retention_days must be >= 1"),
    ],
)
def test_fargate_service_rejects_bad_props(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _fargate(_stack(), **overrides)


def test_cluster_and_image_validate_names() -> None:
    stack = _stack()
    with pytest.raises(ValueError, match="an ECS name must be"):
        EcsCluster(stack, "c1", name="bad name")
    with pytest.raises(ValueError, match="must not start with 'aws' or 'ssm'"):
        SsmTaggedImage(stack, "i1", repository="nginx", parameter_name="/ssm/tag")
    with pytest.raises(ValueError, match="no tag or digest"):
        SsmTaggedImage(stack, "i2", repository="nginx:latest", parameter_name="/x/tag")
    cluster = EcsCluster(stack, "c2", name="ok", container_insights=False)
    assert cluster.name == "ok"
    (body,) = json.loads(Testing.synth(stack))["resource"]["aws_ecs_cluster"].values()
    assert body["setting"] == [{"name": "containerInsights", "value": "disabled"}]


def test_container_settings_reject_bad_values() -> None:
    with pytest.raises(ValueError, match="port must be 1-65535"):
        ContainerSettings(name="a", port=0)
    with pytest.raises(ValueError, match="environment variable name"):
        ContainerSettings(name="a", environment={"A-B": "x"})
    with pytest.raises(ValueError, match="shorter than the interval"):
        HealthCheck(command=("CMD", "true"), interval=5, timeout=5)
    with pytest.raises(ValueError, match="must start with 'CMD'"):
        HealthCheck(command=("true",))


def test_container_definition_without_optional_settings() -> None:
    definition = container_definition(
        ContainerSettings(name="job"),
        image="busybox:1",
        log_group="/g",
        region="eu-west-1",
        stream_prefix="job",
    )
    assert definition == {
        "name": "job",
        "image": "busybox:1",
        "essential": True,
        "readonlyRootFilesystem": True,
        "privileged": False,
        "environment": [],
        "logConfiguration": {
            "logDriver": "awslogs",
            "options": {"awslogs-group": "/g", "awslogs-region": "eu-west-1", "awslogs-stream-prefix": "job"},
        },
    }


def test_redeploy_command_is_filled_and_quoted() -> None:
    # GIVEN a custom command whose arguments contain shell metacharacters
    command = render_command(
        ["my deploy", "--target", "{cluster}/{service}", "--note", "it's $(not) run", "{region}"],
        cluster="c-1",
        service="svc_2",
        region="eu-west-1",
    )
    # THEN a shell splits it back into exactly the intended arguments
    assert shlex.split(command) == [
        "my deploy",
        "--target",
        "c-1/svc_2",
        "--note",
        "it's $(not) run",
        "eu-west-1",
    ]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"cluster": "c; reboot"}, "an ECS name must be"),
        ({"service": "$(id)"}, "an ECS name must be"),
        ({"region": "eu-west-1; id"}, "a region must look like"),
        ({"command": ["aws", "{account}"]}, "may only use the placeholders"),
        ({"command": ["aws", "{cluster!r}"]}, "may only use the placeholders"),
        ({"command": []}, "non-empty list"),
    ],
)
def test_redeploy_rejects_unsafe_values(kwargs: dict[str, Any], message: str) -> None:
    args: dict[str, Any] = {
        "command": ["aws", "{cluster}"],
        "cluster": "c",
        "service": "s",
        "region": "us-east-1",
    }
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        render_command(args.pop("command"), **args)


def test_timestamp_redeploy_passes_environment_and_dependencies() -> None:
    stack = _stack()
    service = _fargate(stack)
    redeploy = TimestampRedeploy(
        stack,
        "redeploy",
        cluster_name="c",
        service_name="api",
        region="us-east-1",
        environment={"AWS_ENDPOINT_URL": "http://127.0.0.1:1"},
        depends_on=[service.service],
    )
    (trigger,) = json.loads(Testing.synth(stack))["resource"]["null_resource"].values()
    assert trigger["provisioner"][0]["local-exec"] == {
        "command": redeploy.command,
        "environment": {"AWS_ENDPOINT_URL": "http://127.0.0.1:1"},
    }
    assert shlex.split(redeploy.command)[:5] == ["aws", "ecs", "update-service", "--cluster", "c"]
    (dependency,) = trigger["depends_on"]
    assert dependency.startswith("aws_ecs_service.svc_service_")
