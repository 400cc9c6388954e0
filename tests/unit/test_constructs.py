"""Constructs used programmatically: contradictory or unsafe props are rejected when the props are built."""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from cdktf import TerraformStack, Testing

from constructs_lib.cluster import EcsCluster
from constructs_lib.container import ContainerProps, HealthCheck, container_definition
from constructs_lib.image_lookup import SsmTaggedImage
from constructs_lib.images import Fixed, SsmTag
from constructs_lib.redeploy import TimestampRedeploy, render_command
from constructs_lib.service import Service, ServiceOptions, ServiceProps
from constructs_lib.task_definition import TaskDefinition
from constructs_lib.task_definition_props import TaskDefinitionProps
from tests.terraform_text import parse_definitions

IMAGE = Fixed(reference="nginx:1.27")


def _stack() -> TerraformStack:
    return TerraformStack(Testing.app(), "test")


def _task_props(**overrides: Any) -> TaskDefinitionProps:
    props: dict[str, Any] = {
        "family": "p-e-api",
        "containers": (ContainerProps(name="api", image=IMAGE, container_port=80),),
        "region": "us-east-1",
        "log_group_name": "/ecs/p/e/api",
        "execution_role_name": "p-e-api-exec",
        "task_role_name": "p-e-api-task",
    }
    props.update(overrides)
    return TaskDefinitionProps(**props)


def _service_options(**overrides: Any) -> ServiceOptions:
    props: dict[str, Any] = {
        "cluster_arn": "arn:aws:ecs:us-east-1:123456789012:cluster/c",
        "service_name": "api",
        "subnets": ("subnet-0a1b2c3d",),
        "vpc_id": "vpc-0a1b2c3d",
        "security_group_name": "p-e-api-tasks",
    }
    props.update(overrides)
    return ServiceOptions(**props)


@dataclass(frozen=True)
class Built:
    """One stack: a cluster, a task definition, its service and a timestamp redeploy, synthesized once."""

    cluster: EcsCluster
    task: TaskDefinition
    service: Service
    redeploy: TimestampRedeploy
    out: dict[str, Any]


@pytest.fixture(scope="module")
def built() -> Built:
    stack = _stack()
    cluster = EcsCluster(stack, "c2", name="ok", container_insights=False)
    task = TaskDefinition(stack, "task", props=_task_props())
    service = Service(stack, "svc", props=ServiceProps.of(_service_options(), task))
    redeploy = TimestampRedeploy(
        stack,
        "redeploy",
        cluster_name="c",
        service_name="api",
        region="us-east-1",
        environment={"AWS_ENDPOINT_URL": "http://127.0.0.1:1"},
        depends_on=[service.service],
        task_definition=task.arn,
    )
    return Built(cluster, task, service, redeploy, json.loads(Testing.synth(stack)))


def test_task_definition_and_service_expose_their_children(built: Built) -> None:
    # GIVEN a task definition of one container and a service running it, synthesized
    task, service = built.task, built.service
    # THEN the read-only attributes are the resources that were synthesized
    assert task.task_definition.family_input == "p-e-api"
    assert service.service.name_input == "api"
    assert service.task_definition is task
    assert set(built.out["resource"]) == {
        "aws_cloudwatch_log_group",
        "aws_iam_role",
        "aws_iam_role_policy",
        "aws_ecs_task_definition",
        "aws_ecs_service",
        "aws_security_group",
        "aws_vpc_security_group_egress_rule",
        "aws_ecs_cluster",
        "null_resource",  # the redeploy's
    }
    assert task.roles.task_role.name_input == "p-e-api-task"
    assert task.roles.execution_role.name_input == "p-e-api-exec"
    assert task.log_group.name_input == "/ecs/p/e/api"
    assert [c.name for c in task.containers] == ["api"] and task.container("api").container_port == 80
    with pytest.raises(KeyError):
        task.container("other")
    assert service.target is None and service.autoscaling is None
    (task_json,) = built.out["resource"]["aws_ecs_task_definition"].values()
    (definition,) = parse_definitions(task_json["container_definitions"])
    assert definition["image"] == "nginx:1.27"
    # AND neither the constructs' children nor their props can be replaced
    with pytest.raises(AttributeError):
        service.service = None  # type: ignore[misc,assignment]
    with pytest.raises(AttributeError):
        task.roles.task_role = None  # type: ignore[misc,assignment]
    with pytest.raises(ValueError, match="Instance is frozen"):
        task.props.family = "other"


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: _task_props(cpu=256, memory=4096), re.escape("Fargate memory for cpu 256 must be one of")),
        (lambda: _task_props(cpu=100), "Fargate cpu must be one of"),
        (
            lambda: _service_options(desired_count=-1),
            r"desired_count\n  Input should be greater than or equal to 0",
        ),
        (lambda: _service_options(service_name="api; rm -rf /"), "an ECS name must be"),
        (lambda: _task_props(region="US-EAST-1"), "a region must look like"),
        (
            lambda: _task_props(log_retention_days=0),
            r"log_retention_days\n  Input should be greater than or equal to 1",
        ),
    ],
)
def test_task_and_service_props_reject_bad_values(build: Callable[[], object], message: str) -> None:
    # GIVEN one bad value WHEN the props are built THEN a ValueError names the field and the rule
    with pytest.raises(ValueError, match=message):
        build()


def test_cluster_and_image_validate_names(built: Built) -> None:
    stack = _stack()
    # GIVEN bad names WHEN the constructs (or the image values) are built THEN each is refused
    with pytest.raises(ValueError, match="an ECS name must be"):
        EcsCluster(stack, "c1", name="bad name")
    with pytest.raises(ValueError, match="must not start with 'aws' or 'ssm'"):
        SsmTaggedImage(stack, "i1", repository="nginx", parameter_name="/ssm/tag")
    with pytest.raises(ValueError, match="no tag or digest"):
        SsmTaggedImage(stack, "i2", repository="nginx:latest", parameter_name="/x/tag")
    with pytest.raises(ValueError, match="must not start with 'aws' or 'ssm'"):
        SsmTag(repository="nginx", parameter_name="/ssm/tag")
    with pytest.raises(ValueError, match="no tag or digest"):
        SsmTag(repository="nginx:latest", parameter_name="/x/tag")
    # AND a good cluster keeps its name and its Container Insights setting
    assert built.cluster.name == "ok"
    (body,) = built.out["resource"]["aws_ecs_cluster"].values()
    assert body["setting"] == [{"name": "containerInsights", "value": "disabled"}]


def test_container_props_reject_bad_values() -> None:
    with pytest.raises(ValueError, match=r"container_port\n  Input should be greater than or equal to 1"):
        ContainerProps(name="a", image=IMAGE, container_port=0)
    with pytest.raises(ValueError, match="environment variable name"):
        ContainerProps(name="a", image=IMAGE, environment={"A-B": "x"})
    with pytest.raises(
        ValueError, match=re.escape("health_check.timeout must be shorter than health_check.interval")
    ):
        HealthCheck(command=("CMD", "true"), interval=5, timeout=5)
    with pytest.raises(ValueError, match="the first item must be 'CMD', 'CMD-SHELL' or 'NONE'"):
        HealthCheck(command=("true",))


def test_container_definition_without_optional_settings() -> None:
    definition = container_definition(
        ContainerProps(name="job", image=Fixed(reference="busybox:1")),
        image="busybox:1",
        log_group="/g",
        region="eu-west-1",
        volumes={},
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


def test_timestamp_redeploy_passes_environment_and_dependencies(built: Built) -> None:
    # GIVEN a redeploy with an extra environment, depending on the service, synthesized
    redeploy = built.redeploy
    (trigger,) = built.out["resource"]["null_resource"].values()
    # THEN its provisioner runs the rendered command with that environment
    local_exec = trigger["provisioner"][0]["local-exec"]
    assert local_exec["environment"] == {"AWS_ENDPOINT_URL": "http://127.0.0.1:1"}
    argv = shlex.split(local_exec["command"])
    assert argv[:5] == ["aws", "ecs", "update-service", "--cluster", "c"]
    # AND it names the task definition's revision as a Terraform reference
    task_key = next(iter(built.out["resource"]["aws_ecs_task_definition"]))
    assert argv[argv.index("--task-definition") + 1] == f"${{aws_ecs_task_definition.{task_key}.arn}}"
    assert shlex.split(redeploy.command)[:5] == argv[:5]
    # AND it runs after the service
    (dependency,) = trigger["depends_on"]
    assert dependency.startswith("aws_ecs_service.svc_service_")
