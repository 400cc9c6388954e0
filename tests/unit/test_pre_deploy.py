"""The pre-deploy gate's parts that need no AWS (issue 15): the configuration's `pre_deploy`,
the service's addresses and prerequisites in a synthesized stack, and RunTask's view of the
service from a plan. The gate itself runs end to end in tests/e2e/test_pre_deploy.py."""

from __future__ import annotations

import tomllib
from typing import Any

import pytest

from ecs_cd.release.errors import DeployFailed
from ecs_cd.release.pre_deploy import Addresses, addresses, run_request_service, summary_of_apply
from stacks.settings import ConfigError, settings_from_dict
from tests.conftest import FIXTURE_CONFIG

FILE = "conf.toml"


def _load(api: dict[str, Any], dev: dict[str, Any] | None = None) -> Any:
    raw = tomllib.loads(FIXTURE_CONFIG.read_text())
    raw["services"]["api"].update(api)
    if dev is not None:
        raw["environments"]["dev"].setdefault("services", {}).setdefault("api", {}).update(dev)
    return settings_from_dict(raw, file=FILE)


def _problems(api: dict[str, Any]) -> tuple[str, ...]:
    with pytest.raises(ConfigError) as caught:
        _load(api)
    return caught.value.problems


def test_pre_deploy_is_read_with_its_defaults_and_overridden_per_environment() -> None:
    # GIVEN a migration command for api, and another one in dev
    settings = _load(
        {"pre_deploy": {"command": ["./manage.py", "migrate"]}},
        dev={"pre_deploy": {"command": ["true"], "timeout_seconds": 30}},
    )
    # THEN each environment has its own, with the default container (the app) and timeout
    staging = settings.environments["staging"].service("api").pre_deploy
    dev = settings.environments["dev"].service("api").pre_deploy
    assert (staging.command, staging.container, staging.timeout_seconds) == (
        ["./manage.py", "migrate"],
        None,
        900,
    )
    assert (dev.command, dev.timeout_seconds) == (["true"], 30)


@pytest.mark.parametrize(
    ("pre_deploy", "field", "allowed"),
    [
        ({"command": []}, "pre_deploy.command", "at least 1"),
        ({"command": ["migrate", ""]}, "pre_deploy.command[1]", "at least 1 character"),
        ({"command": "./migrate"}, "pre_deploy.command", "list"),
        ({"command": ["x" * 8001]}, "pre_deploy.command", "8000 characters"),
        (
            {"command": ["migrate"], "timeout_seconds": 0},
            "pre_deploy.timeout_seconds",
            "greater than or equal to 1",
        ),
        (
            {"command": ["migrate"], "container": "db"},
            "pre_deploy.container",
            "names no container of the service",
        ),
        ({"command": ["migrate"], "retries": 2}, "pre_deploy.retries", "not a known"),
    ],
)
def test_each_pre_deploy_mistake_is_one_line(pre_deploy: dict[str, Any], field: str, allowed: str) -> None:
    # WHEN the configuration has the mistake
    problems = _problems({"pre_deploy": pre_deploy})
    # THEN one line names the file and the field, and says what is allowed
    (line,) = [p for p in problems if "pre_deploy" in p]
    assert line.startswith(f"{FILE}: services.api.{field}"), problems
    assert allowed in line, line


def _stack() -> dict[str, Any]:
    """A synthesized stack's resources as the shipped stacks name them (api and api-v2)."""
    return {
        "resource": {
            "aws_ecs_service": {
                "api_fargate_service_74117091": {
                    "cluster": "${aws_ecs_cluster.cluster_ecs-cluster_0A1B2C3D.arn}",
                    "task_definition": "${aws_ecs_task_definition.api_fargate_task_4677E85D.arn}",
                    "network_configuration": {
                        "security_groups": ["${aws_security_group.api_tasks_sg_1A2B3C4D.id}"],
                        "subnets": "${data.aws_subnets.network_subnets_5E6F7A8B.ids}",
                    },
                    "depends_on": ["aws_lb_listener_rule.api_target_rule_9A8B7C6D", "data.aws_vpc.network"],
                },
                "api-v2_fargate_service_01751B1B": {
                    "task_definition": "${aws_ecs_task_definition.api-v2_fargate_task_D4B049C8.arn}",
                },
            },
            "aws_ecs_task_definition": {
                "api_fargate_task_4677E85D": {"family": "shop-dev-api"},
                "api-v2_fargate_task_D4B049C8": {"family": "shop-dev-api-v2"},
            },
            "null_resource": {
                "api_redeploy_0F0F0F0F": {"depends_on": ["aws_ecs_service.api_fargate_service_74117091"]}
            },
        }
    }


def test_the_gate_targets_what_the_service_refers_to_and_never_the_service() -> None:
    # WHEN the addresses of api are looked up (beside a service api-v2)
    found = addresses(_stack(), "api", ["api", "api-v2"])
    # THEN the service and task definition are api's own, not api-v2's
    assert (found.service, found.task_definition) == (
        "aws_ecs_service.api_fargate_service_74117091",
        "aws_ecs_task_definition.api_fargate_task_4677E85D",
    )
    # AND the targets are what the service refers to and depends on, data sources and the
    # service itself (and what depends on it: the redeploy trigger) left out
    assert found.prerequisites == (
        "aws_ecs_cluster.cluster_ecs-cluster_0A1B2C3D",
        "aws_ecs_task_definition.api_fargate_task_4677E85D",
        "aws_lb_listener_rule.api_target_rule_9A8B7C6D",
        "aws_security_group.api_tasks_sg_1A2B3C4D",
    )
    assert addresses(_stack(), "api-v2", ["api", "api-v2"]).prerequisites == (
        "aws_ecs_task_definition.api-v2_fargate_task_D4B049C8",
    )


def test_a_stack_without_the_service_is_a_clear_failure() -> None:
    with pytest.raises(DeployFailed, match="0 ECS service"):
        addresses(_stack(), "worker", ["api", "api-v2", "worker"])


WHERE = Addresses(
    service="aws_ecs_service.api_fargate_service_74117091",
    task_definition="aws_ecs_task_definition.api_fargate_task_4677E85D",
    prerequisites=(),
)
REVISION = "arn:aws:ecs:eu-west-1:222222222222:task-definition/shop-dev-api:8"


def _plan(after: dict[str, Any]) -> dict[str, Any]:
    return {
        "resource_changes": [{"address": WHERE.service, "change": {"actions": ["update"], "after": after}}],
        "prior_state": {
            "values": {
                "root_module": {
                    "resources": [
                        {"address": WHERE.task_definition, "values": {"arn": REVISION}},
                        {
                            "address": WHERE.service,
                            "values": {"task_definition": REVISION.replace(":8", ":7")},
                        },
                    ]
                }
            }
        },
    }


def test_runtask_gets_the_planned_network_and_the_registered_revision() -> None:
    # GIVEN a plan whose service (under ignore_changes) still names revision 7 in its values
    plan = _plan(
        {
            "cluster": "arn:aws:ecs:eu-west-1:222222222222:cluster/shop-dev",
            "task_definition": REVISION.replace(":8", ":7"),
            "launch_type": "FARGATE",
            "capacity_provider_strategy": [],
            "network_configuration": [
                {"subnets": ["subnet-b", "subnet-a"], "security_groups": ["sg-1"], "assign_public_ip": False}
            ],
        }
    )
    # WHEN RunTask's view of the service is made
    service = run_request_service(plan, WHERE)
    # THEN it runs the revision in the state (the one just registered), in the planned network
    assert service == {
        "clusterArn": "arn:aws:ecs:eu-west-1:222222222222:cluster/shop-dev",
        "taskDefinition": REVISION,
        "launchType": "FARGATE",
        "networkConfiguration": {
            "awsvpcConfiguration": {
                "subnets": ["subnet-a", "subnet-b"],
                "securityGroups": ["sg-1"],
                "assignPublicIp": "DISABLED",
            }
        },
    }


def test_a_capacity_provider_strategy_replaces_the_launch_type_and_bridge_has_no_network() -> None:
    plan = _plan(
        {
            "cluster": "arn:aws:ecs:eu-west-1:222222222222:cluster/shop-dev",
            "launch_type": None,
            "capacity_provider_strategy": [
                {"capacity_provider": "FARGATE_SPOT", "weight": 3, "base": 0},
                {"capacity_provider": "FARGATE", "weight": 1, "base": 1},
            ],
            "network_configuration": [],
        }
    )
    service = run_request_service(plan, WHERE)
    assert service["capacityProviderStrategy"] == [
        {"capacityProvider": "FARGATE_SPOT", "weight": 3, "base": 0},
        {"capacityProvider": "FARGATE", "weight": 1, "base": 1},
    ]
    assert "launchType" not in service and "networkConfiguration" not in service


def test_a_plan_without_the_revision_in_the_state_is_refused() -> None:
    plan = _plan({"cluster": "arn:aws:ecs:eu-west-1:222222222222:cluster/shop-dev"})
    plan["prior_state"] = {}
    with pytest.raises(DeployFailed, match="not in the state"):
        run_request_service(plan, WHERE)


def test_the_apply_summary_is_terraforms_own_line() -> None:
    output = (
        "aws_ecs_task_definition.x: Creating...\n"
        "Apply complete! Resources: 1 added, 0 changed, 1 destroyed.\n"
    )
    assert summary_of_apply(output) == "Resources: 1 added, 0 changed, 1 destroyed"
    assert summary_of_apply("Error: nothing") == ""


def test_a_failure_says_what_the_gate_had_applied_before_it() -> None:
    from ecs_cd.release.pre_deploy import TerraformRun, _failed

    shown: list[str] = []
    # GIVEN the targeted apply registered the revision; WHEN the plan after it fails
    after_apply = _failed(
        "local", "plan", TerraformRun(1, "Error: boom\n", False), shown.append, "Resources: 1 added"
    )
    # THEN the message says the revision was registered, never that nothing was applied
    assert "had registered the new revision (Resources: 1 added)" in str(after_apply)
    assert "applied nothing" not in str(after_apply) and shown == ["Error: boom\n"]
    # AND an init that fails before any apply says this step applied nothing
    before = _failed("local", "init", TerraformRun(1, "Error\n", False), shown.append, None)
    assert "this step applied nothing; the service was not rolled out" in str(before)
    # AND an apply that started creating says it may have applied part of its targets
    partial = _failed(
        "local",
        "apply",
        TerraformRun(1, "aws_ecs_task_definition.x: Creating...\nError\n", False),
        shown.append,
        None,
    )
    assert "may have applied part of these targets" in str(partial)
