"""The production constructs used programmatically: contradictory props are rejected in __init__."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cdktf import TerraformStack, Testing

from constructs_lib.autoscaling import Autoscaling
from constructs_lib.container import ContainerSettings
from constructs_lib.fargate_service import Deployment, FargateService
from constructs_lib.load_balancer import ApplicationLoadBalancer, ListenerAttachment

LISTENER = (
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/x/0123456789abcdef/0123456789abcdef"
)
SSM = "arn:aws:ssm:us-east-1:123456789012:parameter/p/db"
SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:p/db-AbCdEf"
KEY = "arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9"


def _attachment(**overrides: Any) -> ListenerAttachment:
    props: dict[str, Any] = {
        "listener_arn": LISTENER,
        "source_security_group_id": "sg-0a1b2c3d",
        "target_group_name": "p-e-api",
        "priority": 10,
        "path_patterns": ("/api/*",),
    }
    props.update(overrides)
    return ListenerAttachment(**props)


def _fargate(**overrides: Any) -> tuple[FargateService, dict[str, Any]]:
    stack = TerraformStack(Testing.app(), "test")
    props: dict[str, Any] = {
        "cluster_arn": "arn:aws:ecs:us-east-1:123456789012:cluster/c",
        "cluster_name": "c",
        "service_name": "api",
        "family": "p-e-api",
        "container": ContainerSettings(name="api", port=8080),
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
    service = FargateService(stack, "svc", **props)
    return service, json.loads(Testing.synth(stack))


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Deployment(minimum_healthy_percent=100, maximum_percent=100), "must exceed"),
        (lambda: Deployment(circuit_breaker=False), "rollback needs circuit_breaker or alarm_names"),
        (lambda: Deployment(maximum_percent=250), "100-200"),
        (lambda: Deployment(alarm_names=("",)), "alarm name"),
        (lambda: Autoscaling(min_capacity=3, max_capacity=2, cpu_target_percent=50), "min_capacity <= max"),
        (lambda: Autoscaling(min_capacity=1, max_capacity=2), "cpu_target_percent or memory_target_percent"),
        (lambda: Autoscaling(min_capacity=1, max_capacity=2, cpu_target_percent=0), "1-100 percent"),
        (lambda: _attachment(priority=0), "priority must be 1-50000"),
        (lambda: _attachment(path_patterns=()), "path_patterns or host_headers"),
        (lambda: _attachment(listener_arn="arn:aws:elb:x"), "ALB listener ARN"),
        (lambda: _attachment(host_headers=("bad host",)), "host header"),
        (lambda: _attachment(target_group_name="x" * 33), "1-32 characters"),
        (lambda: ContainerSettings(name="a", environment={"API_TOKEN": "t"}), "looks like a credential"),
        (lambda: ContainerSettings(name="a", secrets={"DB": "plain"}), "full ARN"),
        (lambda: ContainerSettings(name="a", environment={"DB": "x"}, secrets={"DB": SSM}), "both"),
        (lambda: ContainerSettings(name="a", user="root"), "must not be root"),
        (lambda: ContainerSettings(name="a", writable_paths=("/a-b", "/a/b")), "one volume"),
        (lambda: ContainerSettings(name="a", writable_paths=("/",)), "container path"),
        (
            lambda: _fargate(load_balancer=_attachment(), container=ContainerSettings(name="api")),
            "needs container.port",
        ),
        (lambda: _fargate(autoscaling=Autoscaling(1, 2, 50), cluster_name=None), "needs cluster_name"),
        (
            lambda: _fargate(autoscaling=Autoscaling(2, 3, 50), desired_count=1),
            "within the autoscaling bounds",
        ),
        (lambda: _fargate(task_role_name="p-e-api-exec"), "must differ"),
        (lambda: _fargate(secrets_kms_key_arn=KEY), "no secrets"),
        (lambda: _fargate(log_kms_key_arn="alias/x"), "KMS key"),
        (lambda: _fargate(image="nginx:1.27@sha256:abc"), "an image reference must be"),
        (lambda: _fargate(image="Nginx:latest"), "an image reference must be"),
    ],
)
def test_contradictory_production_props_are_rejected(build: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build()


def test_internet_facing_load_balancer_needs_a_certificate() -> None:
    stack = TerraformStack(Testing.app(), "test")
    with pytest.raises(ValueError, match="needs certificate_arn"):
        ApplicationLoadBalancer(
            stack,
            "alb",
            name="p-e",
            security_group_name="p-e-alb",
            vpc_id="vpc-0a1b2c3d",
            subnets=["subnet-0a1b2c3d"],
            ingress_cidr_blocks=["0.0.0.0/0"],
            internal=False,
        )


def test_fargate_service_with_everything_exposes_its_children() -> None:
    # GIVEN a service with a load balancer, autoscaling, secrets from both stores and keys
    service, out = _fargate(
        container=ContainerSettings(
            name="api", port=8080, secrets={"A": SSM, "B": SECRET}, writable_paths=("/tmp",)
        ),
        load_balancer=_attachment(open_source_egress=True),
        autoscaling=Autoscaling(
            min_capacity=1, max_capacity=4, cpu_target_percent=60, memory_target_percent=70
        ),
        secrets_kms_key_arn=KEY,
        log_kms_key_arn=KEY,
        deployment=Deployment(alarm_names=("api-5xx",)),
        wait_for_steady_state=True,
    )
    # THEN every child is exposed read-only and was synthesized
    assert service.target is not None and service.autoscaling is not None
    assert service.target.rule.priority_input == 10
    assert sorted(service.autoscaling.policies) == ["cpu", "memory"]
    assert service.autoscaling.target.resource_id_input == "service/c/api"
    resources = out["resource"]
    assert len(resources["aws_appautoscaling_policy"]) == 2
    # the source group (ours) opens egress to the tasks on the container port only
    egress = list(resources["aws_vpc_security_group_egress_rule"].values())
    to_tasks = [r for r in egress if r["security_group_id"] == "sg-0a1b2c3d"]
    assert [(r["from_port"], r["to_port"]) for r in to_tasks] == [(8080, 8080)]
    (ecs,) = resources["aws_ecs_service"].values()
    assert ecs["lifecycle"] == {"ignore_changes": ["desired_count"]}
    assert ecs["alarms"] == {"alarm_names": ["api-5xx"], "enable": True, "rollback": True}
    (task,) = resources["aws_ecs_task_definition"].values()
    assert task["volume"] == [{"name": "tmp"}]
    with pytest.raises(AttributeError):
        service.task_role = None  # type: ignore[misc,assignment]


def test_an_existing_load_balancers_group_is_left_alone() -> None:
    # GIVEN an attachment to a listener we do not own
    _, out = _fargate(load_balancer=_attachment(open_source_egress=False))
    # THEN no rule is added to its security group; only the tasks' group changes
    egress = out["resource"]["aws_vpc_security_group_egress_rule"].values()
    assert all(r["security_group_id"] != "sg-0a1b2c3d" for r in egress)
