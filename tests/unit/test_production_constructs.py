"""The production constructs used programmatically: contradictory props are rejected when built."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from cdktf import TerraformStack, Testing

from constructs_lib.container import ContainerProps
from constructs_lib.images import Fixed
from constructs_lib.load_balancer import ListenerAttachment
from constructs_lib.load_balancer_props import ApplicationLoadBalancerProps
from constructs_lib.service import Service, ServiceProps
from constructs_lib.service_props import Autoscaling, Deployment, ListenerRule
from constructs_lib.task_definition import TaskDefinition
from constructs_lib.task_definition_props import TaskDefinitionProps
from constructs_lib.terraform_text import literal_values

LISTENER = (
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/x/0123456789abcdef/0123456789abcdef"
)
SSM = "arn:aws:ssm:us-east-1:123456789012:parameter/p/db"
SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:p/db-AbCdEf"
KEY = "arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9"
IMAGE = Fixed(reference="nginx:1.27")
LB_GROUP = "sg-0a1b2c3d"


def _rule(**overrides: Any) -> ListenerRule:
    props: dict[str, Any] = {"priority": 10, "path_patterns": ["/api/*"]}
    props.update(overrides)
    return ListenerRule(**props)


def _attachment(**overrides: Any) -> ListenerAttachment:
    props: dict[str, Any] = {
        "listener_arn": LISTENER,
        "source_security_group_id": LB_GROUP,
        "target_group_name": "p-e-api",
        "rule": _rule(),
    }
    props.update(overrides)
    return ListenerAttachment(**props)


def _service(
    stack: TerraformStack,
    id_: str,
    *,
    container: ContainerProps | None = None,
    task: Mapping[str, Any] | None = None,
    **overrides: Any,
) -> Service:
    """A task definition of ``container`` (``task``: its other props) and the service running it."""
    task_props: dict[str, Any] = {
        "family": f"p-e-{id_}",
        "containers": (container or ContainerProps(name="api", image=IMAGE, container_port=8080),),
        "region": "us-east-1",
        "log_group_name": f"/ecs/p/e/{id_}",
        "execution_role_name": f"p-e-{id_}-exec",
        "task_role_name": f"p-e-{id_}-task",
    }
    task_props.update(task or {})
    options: dict[str, Any] = {
        "cluster_arn": "arn:aws:ecs:us-east-1:123456789012:cluster/c",
        "cluster_name": "c",
        "service_name": id_,
        "subnets": ("subnet-0a1b2c3d",),
        "vpc_id": "vpc-0a1b2c3d",
        "security_group_name": f"p-e-{id_}-tasks",
    }
    options.update(overrides)
    definition = TaskDefinition(stack, f"{id_}-task", props=TaskDefinitionProps(**task_props))
    return Service(stack, id_, props=ServiceProps(task_definition=definition, **options))


def _fargate(**overrides: Any) -> Service:
    return _service(TerraformStack(Testing.app(), "test"), "api", **overrides)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (
            lambda: Deployment(minimum_healthy_percent=100, maximum_percent=100),
            re.escape("maximum_percent (100) must be greater than deployment.minimum_healthy_percent (100)"),
        ),
        (
            lambda: Deployment(circuit_breaker=False),
            "rollback = true needs circuit_breaker = true or alarm_names",
        ),
        (
            lambda: Deployment(maximum_percent=250),
            r"maximum_percent\n  Input should be less than or equal to 200",
        ),
        (lambda: Deployment(alarm_names=[""]), "a CloudWatch alarm name must be"),
        (
            lambda: Autoscaling(min_capacity=3, max_capacity=2, cpu_target_percent=50),
            re.escape("min_capacity (3) must not exceed autoscaling.max_capacity (2)"),
        ),
        (
            lambda: Autoscaling(min_capacity=1, max_capacity=2),
            "needs cpu_target_percent or memory_target_percent",
        ),
        (
            lambda: Autoscaling(min_capacity=1, max_capacity=2, cpu_target_percent=0),
            r"cpu_target_percent\n  Input should be greater than or equal to 1",
        ),
        (lambda: _rule(priority=0), r"priority\n  Input should be greater than or equal to 1"),
        (lambda: _rule(path_patterns=[]), "needs path_patterns or host_headers"),
        (lambda: _attachment(listener_arn="arn:aws:elb:x"), "ALB listener ARN"),
        (lambda: _rule(host_headers=["bad host"]), "a host header must be"),
        (lambda: _attachment(target_group_name="x" * 33), "1-32 characters"),
        (
            lambda: ContainerProps(name="a", image=IMAGE, environment={"API_TOKEN": "t"}),
            "environment.API_TOKEN: looks like a credential",
        ),
        (
            lambda: ContainerProps(name="a", image=IMAGE, secrets={"DB": "plain"}),
            "a secret must be the full ARN",
        ),
        (
            lambda: ContainerProps(name="a", image=IMAGE, environment={"DB": "x"}, secrets={"DB": SSM}),
            "secrets.DB: is also set in environment",
        ),
        (lambda: ContainerProps(name="a", image=IMAGE, user="root"), "must not be root"),
        (
            lambda: ContainerProps(name="a", image=IMAGE, writable_paths=("/a-b", "/a/b")),
            "two paths map to one volume",
        ),
        (
            lambda: ContainerProps(name="a", image=IMAGE, writable_paths=("/",)),
            "a container path must be absolute",
        ),
        (
            lambda: _fargate(load_balancer=_attachment(), container=ContainerProps(name="api", image=IMAGE)),
            "load_balancer: needs a container with container_port",
        ),
        (
            lambda: _fargate(
                autoscaling=Autoscaling(min_capacity=1, max_capacity=2, cpu_target_percent=50),
                cluster_name=None,
            ),
            "autoscaling needs cluster_name",
        ),
        (
            lambda: _fargate(
                autoscaling=Autoscaling(min_capacity=2, max_capacity=3, cpu_target_percent=50),
                desired_count=1,
            ),
            re.escape("desired_count: must lie within autoscaling.min_capacity (2) and max_capacity (3)"),
        ),
        (
            lambda: _fargate(task={"task_role_name": "p-e-api-exec"}),
            "execution_role_name and task_role_name must differ",
        ),
        (
            lambda: _fargate(task={"secrets_kms_key_arn": KEY}),
            "is set but there are no secrets to decrypt",
        ),
        (lambda: _fargate(task={"log_kms_key_arn": "alias/x"}), "a KMS key must be a key ARN"),
        (lambda: Fixed(reference="nginx:1.27@sha256:abc"), "an image reference must be"),
        (lambda: Fixed(reference="Nginx:latest"), "an image reference must be"),
    ],
)
def test_contradictory_production_props_are_rejected(build: Callable[[], object], message: str) -> None:
    # GIVEN contradictory or malformed props WHEN built THEN a ValueError says what is allowed
    with pytest.raises(ValueError, match=message):
        build()


def test_internet_facing_load_balancer_needs_a_certificate() -> None:
    # GIVEN an internet-facing load balancer without a certificate WHEN its props are built
    # THEN a ValueError says it only listens on HTTPS (the rule the configuration reports too)
    with pytest.raises(
        ValueError,
        match=re.escape(
            "certificate_arn: an internet-facing load balancer (internal = false) needs certificate_arn: "
            "it only listens on HTTPS"
        ),
    ):
        ApplicationLoadBalancerProps(
            name="p-e",
            security_group_name="p-e-alb",
            vpc_id="vpc-0a1b2c3d",
            subnets=("subnet-0a1b2c3d",),
            ingress_cidr_blocks=("0.0.0.0/0",),
            internal=False,
        )


@dataclass(frozen=True)
class Built:
    """``api``: a service with everything; ``other``: one on a load balancer we do not own."""

    api: Service
    other: Service
    out: dict[str, Any]

    def resources(self, resource_type: str, owner: str) -> list[dict[str, Any]]:
        """The resources of ``resource_type`` below the construct ``owner``."""
        found = self.out["resource"].get(resource_type, {})
        return [body for key, body in found.items() if key.startswith(f"{owner}_")]


@pytest.fixture(scope="module")
def built() -> Built:
    stack = TerraformStack(Testing.app(), "test")
    # GIVEN a service with a load balancer, autoscaling, secrets from both stores and keys
    api = _service(
        stack,
        "api",
        container=ContainerProps(
            name="api",
            image=IMAGE,
            container_port=8080,
            secrets={"A": SSM, "B": SECRET},
            writable_paths=("/tmp",),
        ),
        task={"secrets_kms_key_arn": KEY, "log_kms_key_arn": KEY},
        load_balancer=_attachment(open_source_egress=True),
        autoscaling=Autoscaling(
            min_capacity=1, max_capacity=4, cpu_target_percent=60, memory_target_percent=70
        ),
        deployment=Deployment(alarm_names=["api-5xx"]),
        wait_for_steady_state=True,
    )
    # AND a service attached to a listener we do not own
    other = _service(
        stack,
        "other",
        container=ContainerProps(name="other", image=IMAGE, container_port=9090),
        load_balancer=_attachment(
            open_source_egress=False, target_group_name="p-e-other", rule=_rule(priority=20)
        ),
    )
    return Built(api, other, json.loads(Testing.synth(stack)))


def test_service_with_everything_exposes_its_children(built: Built) -> None:
    service = built.api
    # THEN every child is exposed read-only and was synthesized
    assert service.target is not None and service.autoscaling is not None
    assert service.target.rule.priority_input == 10
    assert sorted(service.autoscaling.policies) == ["cpu", "memory"]
    assert service.autoscaling.target.resource_id_input == "service/c/api"
    assert len(built.resources("aws_appautoscaling_policy", "api")) == 2
    # the source group (ours) opens egress to the tasks on the container port only
    egress = built.resources("aws_vpc_security_group_egress_rule", "api")
    to_tasks = [r for r in egress if r["security_group_id"] == LB_GROUP]
    assert [(r["from_port"], r["to_port"]) for r in to_tasks] == [(8080, 8080)]
    (ingress,) = built.resources("aws_vpc_security_group_ingress_rule", "api")
    assert (ingress["referenced_security_group_id"], ingress["from_port"], ingress["to_port"]) == (
        LB_GROUP,
        8080,
        8080,
    )
    (ecs,) = built.resources("aws_ecs_service", "api")
    assert ecs["lifecycle"] == {"ignore_changes": ["desired_count"]}
    assert ecs["alarms"] == {"alarm_names": ["api-5xx"], "enable": True, "rollback": True}
    assert ecs["wait_for_steady_state"] is True
    assert [(lb["container_name"], lb["container_port"]) for lb in ecs["load_balancer"]] == [("api", 8080)]
    (task,) = built.resources("aws_ecs_task_definition", "api-task")
    assert task["volume"] == [{"name": "tmp"}]
    (log_group,) = built.resources("aws_cloudwatch_log_group", "api-task")
    assert log_group["kms_key_id"] == KEY
    with pytest.raises(AttributeError):
        service.task_definition = None  # type: ignore[misc,assignment]
    with pytest.raises(AttributeError):
        service.task_definition.roles.task_role = None  # type: ignore[misc,assignment]


def test_execution_role_reads_exactly_the_secrets_and_decrypts_with_the_key(built: Built) -> None:
    # WHEN the execution policy of the service with secrets from both stores is parsed
    (policy,) = built.resources("aws_iam_role_policy", "api-task")
    statements = {s["Sid"]: s for s in json.loads(policy["policy"])["Statement"]}
    # THEN it reads exactly its secrets, decrypts with exactly the configured key, and pulls no
    # image from ECR (nginx is on Docker Hub)
    assert statements["SsmSecrets"]["Action"] == ["ssm:GetParameters"]
    assert statements["SsmSecrets"]["Resource"] == [SSM]
    assert statements["SecretsManagerSecrets"]["Resource"] == [SECRET]
    assert statements["DecryptSecrets"] == {
        "Sid": "DecryptSecrets",
        "Effect": "Allow",
        "Action": ["kms:Decrypt"],
        "Resource": KEY,
    }
    assert sorted(statements) == ["DecryptSecrets", "Logs", "SecretsManagerSecrets", "SsmSecrets"]


def test_an_existing_load_balancers_group_is_left_alone(built: Built) -> None:
    # GIVEN an attachment to a listener we do not own
    # THEN no rule is added to its security group; only the tasks' group changes
    egress = built.resources("aws_vpc_security_group_egress_rule", "other")
    assert egress and all(r["security_group_id"] != LB_GROUP for r in egress)
    (ingress,) = built.resources("aws_vpc_security_group_ingress_rule", "other")
    assert (ingress["referenced_security_group_id"], ingress["from_port"]) == (LB_GROUP, 9090)


def test_alarm_names_reach_terraform_as_text_not_templates() -> None:
    from tests.terraform_text import render_template

    # GIVEN alarm names that look like Terraform template syntax (CloudWatch allows both), made
    # literal the way the stacks make every configuration value literal
    names = ["api-${path.cwd}", "db-%{ if true }x%{ endif }"]
    stack = TerraformStack(Testing.app(), "test")
    _service(
        stack,
        "api",
        container=ContainerProps(name="api", image=IMAGE, container_port=8080),
        deployment=literal_values(Deployment(alarm_names=names)),
    )
    # WHEN synthesized
    (ecs,) = json.loads(Testing.synth(stack))["resource"]["aws_ecs_service"].values()
    # THEN each stays escaped, so Terraform reads exactly the name given
    assert ecs["alarms"]["alarm_names"] == ["api-$${path.cwd}", "db-%%{ if true }x%%{ endif }"]
    assert [render_template(name) for name in ecs["alarms"]["alarm_names"]] == names
