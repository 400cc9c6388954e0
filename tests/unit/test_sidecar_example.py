"""The sidecar example (examples/sidecar/ecs-cd.toml), synthesized: an app whose image comes from
SSM, a pinned Datadog agent and a pinned FireLens (fluent-bit) router the app logs through.

Every assertion is on parsed values: the container definitions as Terraform renders them,
the execution policy as JSON, the service's load balancer block.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from stacks.settings import Settings, load_settings
from tests.conftest import Synthesized
from tests.terraform_text import parse_definitions

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sidecar" / "ecs-cd.toml"
ENVIRONMENTS = ("local", "prod")
SERVICE = "api"
APP_REPOSITORY = "123456789012.dkr.ecr.us-east-1.amazonaws.com/shop-api"
APP_REPOSITORY_ARN = "arn:aws:ecr:us-east-1:123456789012:repository/shop-api"
DATADOG_IMAGE = "public.ecr.aws/datadog/agent:7.60.0"
ROUTER_IMAGE = "public.ecr.aws/aws-observability/aws-for-fluent-bit:2.32.4"
API_KEY = "arn:aws:ssm:us-east-1:123456789012:parameter/shop/datadog/api-key"


@pytest.fixture(scope="module")
def example() -> Settings:
    return load_settings(EXAMPLE)


@pytest.fixture(scope="module")
def out(examples: dict[str, dict[str, Synthesized]]) -> dict[str, Synthesized]:
    """Every environment of the example, from the session's synthesis of every example."""
    return examples["sidecar"]


def _definitions(synthesized: Synthesized) -> list[dict[str, Any]]:
    task = synthesized.one("aws_ecs_task_definition", f"{SERVICE}/fargate/task")
    return parse_definitions(task["container_definitions"])


def _by_name(synthesized: Synthesized) -> dict[str, dict[str, Any]]:
    return {d["name"]: d for d in _definitions(synthesized)}


def _execution_policy(synthesized: Synthesized) -> dict[str, Any]:
    policy = synthesized.one("aws_iam_role_policy", f"{SERVICE}/fargate/execution-policy")
    parsed: dict[str, Any] = json.loads(policy["policy"])
    return parsed


def _statement(policy: dict[str, Any], sid: str) -> dict[str, Any]:
    found = [s for s in policy["Statement"] if s.get("Sid") == sid]
    assert len(found) == 1, (sid, policy)
    return dict(found[0])


def _environment(definition: dict[str, Any]) -> dict[str, str]:
    return {item["name"]: item["value"] for item in definition["environment"]}


def test_the_example_has_both_environments(out: dict[str, Synthesized]) -> None:
    # GIVEN the example WHEN synthesized THEN there is one stack per environment, no more
    assert sorted(out) == sorted(ENVIRONMENTS)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_three_containers_in_file_order(out: dict[str, Synthesized], env: str) -> None:
    # GIVEN the app (flat fields) and two [services.api.containers.*] tables
    # WHEN synthesized THEN the task has the app first, then the sidecars in file order
    assert [d["name"] for d in _definitions(out[env])] == ["api", "datadog", "log-router"]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_app_waits_for_the_router_and_a_healthy_agent(out: dict[str, Synthesized], env: str) -> None:
    containers = _by_name(out[env])
    # THEN the app starts after the router has started and the agent is healthy (sorted by name)
    assert containers["api"]["dependsOn"] == [
        {"containerName": "datadog", "condition": "HEALTHY"},
        {"containerName": "log-router", "condition": "START"},
    ]
    # and the sidecars wait for nothing
    assert "dependsOn" not in containers["datadog"]
    assert "dependsOn" not in containers["log-router"]
    # the agent has the health check the app's HEALTHY condition needs
    assert containers["datadog"]["healthCheck"]["command"] == ["CMD-SHELL", "agent health"]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_container_is_essential(out: dict[str, Synthesized], env: str) -> None:
    # GIVEN the app (always essential) and two sidecars with essential = true
    # WHEN synthesized THEN each definition says so, as a JSON boolean
    assert {name: d["essential"] for name, d in _by_name(out[env]).items()} == {
        "api": True,
        "datadog": True,
        "log-router": True,
    }


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_only_the_app_image_comes_from_ssm(out: dict[str, Synthesized], env: str) -> None:
    synthesized = out[env]
    containers = _by_name(synthesized)
    # GIVEN one SSM data source: the app's tag parameter
    ssm = synthesized.data("aws_ssm_parameter")
    assert len(ssm) == 1, ssm
    key = synthesized.key("data", "aws_ssm_parameter", f"{SERVICE}/image/tag")
    assert ssm[key]["name"] == f"/{SERVICE}/{env}/docker-image-tag"
    # THEN the app's image is its repository with that parameter's value as the tag
    assert containers["api"]["image"] == f"{APP_REPOSITORY}:${{data.aws_ssm_parameter.{key}.insecure_value}}"
    # and the sidecars' images are the literal pinned references, with no Terraform reference
    assert containers["datadog"]["image"] == DATADOG_IMAGE
    assert containers["log-router"]["image"] == ROUTER_IMAGE
    task = synthesized.one("aws_ecs_task_definition", f"{SERVICE}/fargate/task")
    assert task["container_definitions"].count("data.aws_ssm_parameter.") == 1
    # and nothing else looks an image up (no ECR lookup for pinned public images)
    assert synthesized.data("aws_ecr_image") == {}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_app_logs_through_firelens_to_datadog(out: dict[str, Synthesized], env: str) -> None:
    log = _by_name(out[env])["api"]["logConfiguration"]
    # THEN the app's driver is awsfirelens with the Datadog output's options
    assert log["logDriver"] == "awsfirelens"
    assert log["options"] == {
        "Name": "datadog",
        "Host": "http-intake.logs.datadoghq.com",
        "TLS": "on",
        "provider": "ecs",
        "dd_service": "api",
        "dd_source": "api",
    }
    # and the API key is a secret option (ECS resolves it), never a plain option
    assert log["secretOptions"] == [{"name": "apikey", "valueFrom": API_KEY}]
    assert API_KEY not in json.dumps(log["options"])


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_router_is_fluentbit_and_logs_to_the_task_log_group(
    out: dict[str, Synthesized], env: str
) -> None:
    synthesized = out[env]
    router = _by_name(synthesized)["log-router"]
    log_group = synthesized.one("aws_cloudwatch_log_group", f"{SERVICE}/fargate/logs")
    # THEN the router carries the FireLens configuration
    assert router["firelensConfiguration"] == {
        "type": "fluentbit",
        "options": {"enable-ecs-log-metadata": "true"},
    }
    # and logs itself with awslogs to the task's log group, under its own stream prefix
    assert router["logConfiguration"] == {
        "logDriver": "awslogs",
        "options": {
            "awslogs-group": log_group["name"],
            "awslogs-region": "us-east-1",
            "awslogs-stream-prefix": "log-router",
        },
    }
    # and it is the only router
    assert [name for name, d in _by_name(synthesized).items() if "firelensConfiguration" in d] == [
        "log-router"
    ]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_execution_role_reads_exactly_the_secrets_and_pulls_only_the_app(
    out: dict[str, Synthesized], example: Settings, env: str
) -> None:
    service = example.environments[env].service(SERVICE)
    # GIVEN the union of every container's secrets and log secret options (one SSM parameter)
    wanted = {arn for container in service.task_containers for arn in container.all_secret_arns}
    assert wanted == {API_KEY}
    policy = _execution_policy(out[env])
    # THEN the policy reads exactly those parameters, from SSM only
    assert _statement(policy, "SsmSecrets") == {
        "Sid": "SsmSecrets",
        "Effect": "Allow",
        "Action": ["ssm:GetParameters"],
        "Resource": sorted(wanted),
    }
    assert "SecretsManagerSecrets" not in {s.get("Sid") for s in policy["Statement"]}
    # no key configured: nothing to decrypt with
    assert "DecryptSecrets" not in {s.get("Sid") for s in policy["Statement"]}
    # and pulls only from the app's ECR repository (the sidecars' images are public)
    pull = _statement(policy, "EcrPull")
    assert pull["Resource"] == APP_REPOSITORY_ARN
    ecr_resources = [
        s["Resource"] for s in policy["Statement"] if any(a.startswith("ecr:") for a in s["Action"])
    ]
    assert ecr_resources == ["*", APP_REPOSITORY_ARN]  # GetAuthorizationToken has no resource form
    assert _statement(policy, "EcrAuth")["Action"] == ["ecr:GetAuthorizationToken"]


def test_the_prod_override_reaches_only_the_agent_in_prod(out: dict[str, Synthesized]) -> None:
    prod, local = _by_name(out["prod"]), _by_name(out["local"])
    # GIVEN [environments.prod.services.api.containers.datadog] environment = { DD_ENV = "prod" }
    # THEN in prod the agent has DD_ENV next to its own variables (merged key by key)
    assert _environment(prod["datadog"]) == {
        "ECS_FARGATE": "true",
        "DD_APM_ENABLED": "true",
        "DD_SITE": "datadoghq.com",
        "DD_ENV": "prod",
    }
    # and the app and the router do not get it
    assert "DD_ENV" not in _environment(prod["api"])
    assert "DD_ENV" not in _environment(prod["log-router"])
    # and local has it nowhere
    assert all("DD_ENV" not in _environment(d) for d in local.values())
    assert _environment(local["datadog"]) == {
        "ECS_FARGATE": "true",
        "DD_APM_ENABLED": "true",
        "DD_SITE": "datadoghq.com",
    }
    # and everything else of the agent is the same in both environments
    assert {k: v for k, v in prod["datadog"].items() if k not in ("environment", "logConfiguration")} == {
        k: v for k, v in local["datadog"].items() if k not in ("environment", "logConfiguration")
    }


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_load_balancer_targets_the_app_on_8080(out: dict[str, Synthesized], env: str) -> None:
    synthesized = out[env]
    service = synthesized.one("aws_ecs_service", f"{SERVICE}/fargate/service")
    target_group = synthesized.one("aws_lb_target_group", f"{SERVICE}/fargate/lb/target-group")
    # THEN the service registers the api container's port 8080 with the target group
    assert service["load_balancer"] == [
        {
            "container_name": "api",
            "container_port": 8080,
            "target_group_arn": synthesized.ref(
                "aws_lb_target_group", f"{SERVICE}/fargate/lb/target-group", "arn"
            ),
        }
    ]
    assert target_group["port"] == 8080
    # and the tasks admit the load balancer on that port only
    ingress = synthesized.one("aws_vpc_security_group_ingress_rule", f"{SERVICE}/fargate/ingress-from-lb")
    assert (ingress["from_port"], ingress["to_port"]) == (8080, 8080)
    # and the api container maps it
    assert {"containerPort": 8080, "hostPort": 8080, "protocol": "tcp"} in _by_name(synthesized)["api"][
        "portMappings"
    ]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_snapshot(out: dict[str, Synthesized], env: str, snapshot: Any) -> None:
    # One reviewed snapshot per environment of the example.
    assert out[env].json == snapshot
