"""Invariants of every synthesized environment, read from the parsed JSON strings checkov cannot see.

Container definitions and IAM policies are JSON strings inside the Terraform JSON, so a
scanner that reads only HCL attributes misses them. These tests parse them and check, for
every environment of the fixture and of the shipped configuration, what must always hold.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from ecs_cd.core import aws_formats, credentials, names
from stacks.settings import EnvironmentSettings, Settings
from tests.conftest import Synthesized
from tests.terraform_text import parse_definitions


@pytest.fixture(scope="module")
def every_environment(
    fixture_settings: Settings,
    synthesized: dict[str, Synthesized],
    shipped_settings: Settings,
    shipped: dict[str, Synthesized],
) -> list[tuple[str, EnvironmentSettings, Synthesized]]:
    """(label, settings, synthesized stack) for the fixture's and the shipped environments."""
    cases = [(f"fixture/{n}", fixture_settings.environments[n], out) for n, out in synthesized.items()]
    cases += [(f"shipped/{n}", shipped_settings.environments[n], out) for n, out in shipped.items()]
    assert len(cases) == 8
    return cases


def _containers(out: Synthesized, service: str) -> list[dict[str, Any]]:
    task = out.one("aws_ecs_task_definition", f"{service}/fargate/task")
    parsed: list[dict[str, Any]] = parse_definitions(task["container_definitions"])
    return parsed


def _policies(out: Synthesized) -> list[dict[str, Any]]:
    return [json.loads(p["policy"]) for p in out.resources("aws_iam_role_policy").values()]


def test_containers_are_hardened_and_keep_credentials_out_of_environment(
    every_environment: list[tuple[str, EnvironmentSettings, Synthesized]],
) -> None:
    for where, env, out in every_environment:
        for service in env.services:
            (container,) = _containers(out, service.name)
            # no secret-looking variable in plain environment
            names = [item["name"] for item in container["environment"]]
            assert not [n for n in names if credentials.secret_looking(n)], where
            # secrets come by reference, each a well-formed ARN, exactly the configured ones
            secrets = {s["name"]: s["valueFrom"] for s in container.get("secrets", [])}
            assert secrets == dict(service.app.secrets), where
            for arn in secrets.values():
                assert aws_formats.validate_secret_arn(arn) == arn
            assert container["readonlyRootFilesystem"] is True, where
            assert container["privileged"] is False, where
            user = container.get("user")
            assert user is None or user.split(":")[0] not in ("0", "root"), where
            # every writable path is a task volume, and nothing else is writable
            task = out.one("aws_ecs_task_definition", f"{service.name}/fargate/task")
            volumes = {v["name"] for v in task.get("volume", [])}
            mounts = container.get("mountPoints", [])
            assert {m["sourceVolume"] for m in mounts} == volumes, where
            assert [m["containerPath"] for m in mounts] == list(service.app.writable_paths), where


def test_roles_are_separate_and_policies_least_privilege(
    every_environment: list[tuple[str, EnvironmentSettings, Synthesized]],
) -> None:
    for where, env, out in every_environment:
        for service in env.services:
            task = out.one("aws_ecs_task_definition", f"{service.name}/fargate/task")
            execution = out.ref("aws_iam_role", f"{service.name}/fargate/execution-role", "arn")
            task_role = out.ref("aws_iam_role", f"{service.name}/fargate/task-role", "arn")
            assert task["execution_role_arn"] == execution, where
            assert task["task_role_arn"] == task_role != execution, where
        for policy in _policies(out):
            for statement in policy["Statement"]:
                actions = statement["Action"]
                actions = [actions] if isinstance(actions, str) else actions
                # no wildcard action anywhere
                assert not [a for a in actions if "*" in a], (where, statement)
                resources = statement["Resource"]
                resources = [resources] if isinstance(resources, str) else resources
                if "*" in resources:
                    # "*" only where AWS offers no resource-level permission
                    assert actions == ["ecr:GetAuthorizationToken"], (where, statement)
                assert statement["Effect"] == "Allow"


def test_the_execution_role_reads_exactly_the_configured_secrets(
    every_environment: list[tuple[str, EnvironmentSettings, Synthesized]],
) -> None:
    for where, env, out in every_environment:
        for service in env.services:
            policy = json.loads(
                out.one("aws_iam_role_policy", f"{service.name}/fargate/execution-policy")["policy"]
            )
            by_sid = {s["Sid"]: s for s in policy["Statement"]}
            ssm = sorted(a for a in service.app.secrets.values() if ":ssm:" in a)
            managed = sorted(a for a in service.app.secrets.values() if ":secretsmanager:" in a)
            assert by_sid.get("SsmSecrets", {}).get("Resource", []) == ssm, where
            assert by_sid.get("SecretsManagerSecrets", {}).get("Resource", []) == managed, where
            decrypt = by_sid.get("DecryptSecrets")
            if service.task.secrets_kms_key_arn is None:
                assert decrypt is None, where
                assert not any("kms:" in a for s in policy["Statement"] for a in s["Action"]), where
            else:
                assert decrypt == {
                    "Sid": "DecryptSecrets",
                    "Effect": "Allow",
                    "Action": ["kms:Decrypt"],
                    "Resource": service.task.secrets_kms_key_arn,
                }, where


def test_rollouts_are_guarded_and_logs_retained(
    every_environment: list[tuple[str, EnvironmentSettings, Synthesized]],
) -> None:
    for where, env, out in every_environment:
        for service in env.services:
            ecs = out.one("aws_ecs_service", f"{service.name}/fargate/service")
            breaker = ecs["deployment_circuit_breaker"]
            assert breaker["enable"] is service.deployment.circuit_breaker, where
            assert breaker["rollback"] is (service.deployment.rollback and service.deployment.circuit_breaker)
            assert ecs["deployment_minimum_healthy_percent"] == service.deployment.minimum_healthy_percent
            assert ecs["deployment_maximum_percent"] == service.deployment.maximum_percent
            assert ecs["wait_for_steady_state"] is env.wait_for_steady_state, where
            if service.deployment.alarm_names:
                assert ecs["alarms"] == {
                    "alarm_names": list(service.deployment.alarm_names),
                    "enable": True,
                    "rollback": service.deployment.rollback,
                }
            else:
                assert "alarms" not in ecs
            logs = out.one("aws_cloudwatch_log_group", f"{service.name}/fargate/logs")
            assert logs["retention_in_days"] == env.log_retention_days >= 1, where
            assert logs.get("kms_key_id") == env.log_kms_key_arn, where


def test_tasks_admit_only_their_load_balancer(
    every_environment: list[tuple[str, EnvironmentSettings, Synthesized]],
) -> None:
    for where, env, out in every_environment:
        for service in env.services:
            group = out.ref("aws_security_group", f"{service.name}/fargate/security-group", "id")
            ingress = [
                r
                for r in out.resources("aws_vpc_security_group_ingress_rule").values()
                if r["security_group_id"] == group
            ]
            egress = [
                r
                for r in out.resources("aws_vpc_security_group_egress_rule").values()
                if r["security_group_id"] == group
            ]
            # out: HTTPS only
            assert [(r["ip_protocol"], r["from_port"], r["to_port"]) for r in egress] == [("tcp", 443, 443)]
            ecs = out.one("aws_ecs_service", f"{service.name}/fargate/service")
            if service.load_balancer is None:
                assert ingress == [], where
                assert "load_balancer" not in ecs
                continue
            assert env.load_balancer is not None
            # in: only from the load balancer's group, only on the container port, no CIDR
            (rule,) = ingress
            port = service.app.container_port
            assert (rule["from_port"], rule["to_port"], rule["ip_protocol"]) == (port, port, "tcp"), where
            assert "cidr_ipv4" not in rule and "cidr_ipv6" not in rule
            expected_source = (
                out.ref("aws_security_group", "alb/security-group", "id")
                if env.load_balancer.create
                else env.load_balancer.security_group_id
            )
            assert rule["referenced_security_group_id"] == expected_source, where
            assert ecs["load_balancer"] == [
                {
                    "container_name": service.name,
                    "container_port": port,
                    "target_group_arn": out.ref(
                        "aws_lb_target_group", f"{service.name}/fargate/lb/target-group", "arn"
                    ),
                }
            ]
            assert (
                ecs["health_check_grace_period_seconds"]
                == service.load_balancer.health_check_grace_period_seconds
            )
            listener_rule = out.one("aws_lb_listener_rule", f"{service.name}/fargate/lb/rule")
            assert listener_rule["priority"] == service.load_balancer.priority
            expected_listener = (
                out.ref("aws_lb_listener", "alb/listener", "arn")
                if env.load_balancer.create
                else env.load_balancer.listener_arn
            )
            assert listener_rule["listener_arn"] == expected_listener, where


def test_the_scaler_owns_the_desired_count(
    every_environment: list[tuple[str, EnvironmentSettings, Synthesized]],
) -> None:
    for where, env, out in every_environment:
        for service in env.services:
            ecs = out.one("aws_ecs_service", f"{service.name}/fargate/service")
            ignored = ecs.get("lifecycle", {}).get("ignore_changes", [])
            targets = [
                t
                for t in out.resources("aws_appautoscaling_target").values()
                if t["resource_id"] == f"service/{names.cluster_name(_project(out), env.name)}/{service.name}"
            ]
            if service.autoscaling is None:
                assert "desired_count" not in ignored and targets == [], where
                continue
            assert "desired_count" in ignored, where
            (target,) = targets
            assert (target["min_capacity"], target["max_capacity"]) == (
                service.autoscaling.min_capacity,
                service.autoscaling.max_capacity,
            )
            policies = [
                p["target_tracking_scaling_policy_configuration"]
                for p in out.resources("aws_appautoscaling_policy").values()
                if p["name"].startswith(f"{_project(out)}-{env.name}-{service.name}-")
            ]
            expected = {
                "ECSServiceAverageCPUUtilization": service.autoscaling.cpu_target_percent,
                "ECSServiceAverageMemoryUtilization": service.autoscaling.memory_target_percent,
            }
            got = {
                p["predefined_metric_specification"]["predefined_metric_type"]: p["target_value"]
                for p in policies
            }
            assert got == {k: v for k, v in expected.items() if v is not None}, where


def test_created_load_balancers_never_listen_in_plain_http_to_the_internet(
    every_environment: list[tuple[str, EnvironmentSettings, Synthesized]],
) -> None:
    for where, env, out in every_environment:
        lbs = out.resources("aws_lb")
        if env.load_balancer is None or not env.load_balancer.create:
            assert lbs == {}, where
            continue
        (lb,) = lbs.values()
        assert lb["drop_invalid_header_fields"] is True
        assert lb["internal"] is env.load_balancer.internal
        listeners = list(out.resources("aws_lb_listener").values())
        for listener in listeners:
            if listener["protocol"] == "HTTP" and not lb["internal"]:
                # only a redirect to HTTPS may listen in plain HTTP on the internet
                assert listener["default_action"][0]["type"] == "redirect", where
        https = [x for x in listeners if x["protocol"] == "HTTPS"]
        if env.load_balancer.certificate_arn is not None:
            (listener,) = https
            assert listener["ssl_policy"].startswith("ELBSecurityPolicy-TLS13-1-2")
            assert listener["certificate_arn"] == env.load_balancer.certificate_arn


def _project(out: Synthesized) -> str:
    (cluster,) = out.resources("aws_ecs_cluster").values()
    return str(cluster["name"]).rsplit("-", 1)[0]
