"""The synthesized Terraform JSON of every environment (fixture: two services, four environments)."""

from __future__ import annotations

import json
import re
import shlex
from typing import Any

import pytest
from cdktf import Testing
from cdktf_cdktf_provider_aws.data_aws_ssm_parameter import DataAwsSsmParameter
from cdktf_cdktf_provider_aws.ecs_cluster import EcsCluster
from cdktf_cdktf_provider_aws.ecs_service import EcsService
from cdktf_cdktf_provider_null.resource import Resource as NullResource

from stacks.settings import Settings
from tests.conftest import ENVIRONMENTS, Synthesized
from tests.terraform_text import parse_definitions

SERVICES = ("api", "worker")


def _containers(synthesized: Synthesized, service: str) -> list[dict[str, Any]]:
    task = synthesized.one("aws_ecs_task_definition", f"{service}/fargate/task")
    parsed: list[dict[str, Any]] = parse_definitions(task["container_definitions"])
    return parsed


def _tag_data_source(synthesized: Synthesized, service: str) -> tuple[str, dict[str, Any]]:
    key = synthesized.key("data", "aws_ssm_parameter", f"{service}/image/tag")
    return key, synthesized.data("aws_ssm_parameter")[key]


def test_every_environment_has_a_stack(synthesized: dict[str, Synthesized]) -> None:
    # GIVEN the fixture configuration WHEN synthesized THEN there is one stack per environment
    assert sorted(synthesized) == sorted(ENVIRONMENTS)


def test_cluster_with_container_insights(synthesized: dict[str, Synthesized], env_name: str) -> None:
    # GIVEN an environment WHEN synthesized THEN it has one cluster named after project and environment
    assert Testing.to_have_resource_with_properties(
        synthesized[env_name].text,
        EcsCluster.TF_RESOURCE_TYPE,
        {"name": f"shop-{env_name}", "setting": [{"name": "containerInsights", "value": "enabled"}]},
    )
    assert len(synthesized[env_name].resources("aws_ecs_cluster")) == 1


def test_ssm_lookup_uses_the_environments_parameter(
    synthesized: dict[str, Synthesized], env_name: str
) -> None:
    # GIVEN the default parameter naming (prod overrides api's) WHEN synthesized
    expected = {
        "api": "/api/{env}/docker-image-tag" if env_name != "prod" else "/shop/prod/api/image-tag",
        "worker": "/worker/{env}/docker-image-tag",
    }
    for service in SERVICES:
        # THEN each service reads its own tag parameter for this environment
        _, body = _tag_data_source(synthesized[env_name], service)
        assert body["name"] == expected[service].format(env=env_name)
        assert Testing.to_have_data_source_with_properties(
            synthesized[env_name].text,
            DataAwsSsmParameter.TF_RESOURCE_TYPE,
            {"name": expected[service].format(env=env_name)},
        )


def test_image_is_repository_and_ssm_tag(
    synthesized: dict[str, Synthesized], fixture_settings: Settings, env_name: str
) -> None:
    environment = fixture_settings.environments[env_name]
    for service in SERVICES:
        # GIVEN the service's repository for this environment
        repository = environment.service(service).repository
        key, _ = _tag_data_source(synthesized[env_name], service)
        # WHEN its container definition is parsed THEN the image is <repository>:<SSM value>
        (container,) = _containers(synthesized[env_name], service)
        assert container["image"] == f"{repository}:${{data.aws_ssm_parameter.{key}.insecure_value}}"


def test_task_definition_is_fargate_with_logs_and_execution_role(
    synthesized: dict[str, Synthesized], fixture_settings: Settings, env_name: str
) -> None:
    out = synthesized[env_name]
    environment = fixture_settings.environments[env_name]
    for service in SERVICES:
        settings = environment.service(service)
        task = out.one("aws_ecs_task_definition", f"{service}/fargate/task")
        assert task["family"] == f"shop-{env_name}-{service}"
        assert task["requires_compatibilities"] == ["FARGATE"]
        assert task["network_mode"] == "awsvpc"
        assert (task["cpu"], task["memory"]) == (str(settings.task.cpu), str(settings.task.memory))
        assert task["execution_role_arn"] == out.ref(
            "aws_iam_role", f"{service}/fargate/execution-role", "arn"
        )
        (container,) = _containers(out, service)
        log_group = out.one("aws_cloudwatch_log_group", f"{service}/fargate/logs")
        assert log_group["name"] == f"/ecs/shop/{env_name}/{service}"
        assert log_group["retention_in_days"] == environment.log_retention_days
        assert container["logConfiguration"] == {
            "logDriver": "awslogs",
            "options": {
                "awslogs-group": log_group["name"],
                "awslogs-region": environment.region,
                "awslogs-stream-prefix": service,
            },
        }


def test_container_settings_are_rendered(synthesized: dict[str, Synthesized]) -> None:
    # GIVEN api with a port, environment (dev overrides FEATURE_X) and health check,
    # and worker with command and entry point
    (api_dev,) = _containers(synthesized["dev"], "api")
    (api_local,) = _containers(synthesized["local"], "api")
    (worker,) = _containers(synthesized["dev"], "worker")
    # THEN each is in the container definition in ECS's shape
    assert api_dev["portMappings"] == [{"containerPort": 8080, "hostPort": 8080, "protocol": "tcp"}]
    assert api_dev["environment"] == [
        {"name": "FEATURE_X", "value": "on"},
        {"name": "LOG_LEVEL", "value": "info"},
    ]
    assert {"name": "FEATURE_X", "value": "off"} in api_local["environment"]
    assert api_dev["healthCheck"] == {
        "command": ["CMD-SHELL", "curl -f http://localhost:8080/health || exit 1"],
        "interval": 10,
        "timeout": 3,
        "retries": 2,
        "startPeriod": 15,
    }
    assert worker["command"] == ["sh", "-c", "while true; do sleep 60; done"]
    assert worker["entryPoint"] == ["/bin/entry"]
    assert "portMappings" not in worker and "healthCheck" not in worker
    assert all(c["essential"] for c in (api_dev, worker))


def test_execution_role_policy_is_scoped(
    synthesized: dict[str, Synthesized], fixture_settings: Settings, env_name: str
) -> None:
    out = synthesized[env_name]
    region = fixture_settings.environments[env_name].region
    account = "${data.aws_caller_identity.account.account_id}"
    for service in SERVICES:
        # GIVEN both roles of a task WHEN their trust is parsed THEN only ECS tasks of this
        # stack's own account and region may assume them (confused-deputy guidance)
        for role_id in ("execution-role", "task-role"):
            role = out.one("aws_iam_role", f"{service}/fargate/{role_id}")
            trust = json.loads(role["assume_role_policy"])
            assert trust["Statement"] == [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                    "Condition": {
                        "StringEquals": {"aws:SourceAccount": account},
                        "ArnLike": {"aws:SourceArn": f"arn:aws:ecs:{region}:{account}:*"},
                    },
                }
            ]
        policy = json.loads(out.one("aws_iam_role_policy", f"{service}/fargate/execution-policy")["policy"])
        by_sid = {s["Sid"]: s for s in policy["Statement"]}
        log_group = out.ref("aws_cloudwatch_log_group", f"{service}/fargate/logs", "arn")
        assert by_sid["Logs"]["Resource"] == f"{log_group}:*"
        for statement in policy["Statement"]:
            assert all("*" not in action for action in statement["Action"])
            if statement["Resource"] == "*":
                assert statement["Action"] == ["ecr:GetAuthorizationToken"]
    assert out.data("aws_caller_identity") == {"account": {}}
    # api pulls from ECR: pull is scoped to that repository; worker's image is public: no ECR rights
    api = json.loads(out.one("aws_iam_role_policy", "api/fargate/execution-policy")["policy"])
    pull = next(s for s in api["Statement"] if s["Sid"] == "EcrPull")
    assert re.fullmatch(r"arn:aws:ecr:[a-z0-9-]+:\d{12}:repository/shop-api", pull["Resource"])
    worker = json.loads(out.one("aws_iam_role_policy", "worker/fargate/execution-policy")["policy"])
    assert [s["Sid"] for s in worker["Statement"]] == ["Logs"]


def test_service_runs_the_task_on_the_cluster(
    synthesized: dict[str, Synthesized], fixture_settings: Settings, env_name: str
) -> None:
    out = synthesized[env_name]
    environment = fixture_settings.environments[env_name]
    cluster = out.ref("aws_ecs_cluster", "cluster/cluster", "arn")
    for service in SERVICES:
        assert Testing.to_have_resource_with_properties(
            out.text,
            EcsService.TF_RESOURCE_TYPE,
            {
                "name": service,
                "cluster": cluster,
                "task_definition": out.ref("aws_ecs_task_definition", f"{service}/fargate/task", "arn"),
                "desired_count": environment.service(service).desired_count,
                "launch_type": "FARGATE",
            },
        )
        network = out.one("aws_ecs_service", f"{service}/fargate/service")["network_configuration"]
        assert network["assign_public_ip"] == environment.network.assign_public_ip
        if environment.network.use_default_vpc:
            assert network["subnets"] == "${data.aws_subnets.default-subnets.ids}"
        else:
            assert network["subnets"] == environment.network.subnet_ids
        # the tasks' own group first, then the configured extra groups
        assert network["security_groups"] == [
            out.ref("aws_security_group", f"{service}/fargate/security-group", "id"),
            *environment.network.security_group_ids,
        ]


def test_local_uses_the_emulators_default_vpc(synthesized: dict[str, Synthesized]) -> None:
    local = synthesized["local"]
    assert local.data("aws_vpc")["default-vpc"]["default"] is True
    assert local.data("aws_subnets")["default-subnets"]["filter"] == [
        {"name": "vpc-id", "values": ["${data.aws_vpc.default-vpc.id}"]}
    ]
    for env in ("dev", "staging", "prod"):
        assert not synthesized[env].data("aws_vpc")


def test_redeploy_null_resource_runs_update_service(
    synthesized: dict[str, Synthesized], fixture_settings: Settings, env_name: str
) -> None:
    out = synthesized[env_name]
    region = fixture_settings.environments[env_name].region
    for service in SERVICES:
        # GIVEN a service WHEN synthesized THEN a null_resource triggered by timestamp() exists
        trigger = out.one("null_resource", f"{service}/redeploy/trigger")
        assert trigger["triggers"] == {"always_run": "${timestamp()}"}
        assert trigger["depends_on"] == [
            "aws_ecs_service." + out.key("resource", "aws_ecs_service", f"{service}/fargate/service")
        ]
        (provisioner,) = trigger["provisioner"]
        argv = shlex.split(provisioner["local-exec"]["command"])
        # AND its command forces a new deployment of this environment's cluster and service
        assert argv[:3] == ["aws", "ecs", "update-service"]
        assert argv[argv.index("--cluster") + 1] == f"shop-{env_name}"
        assert argv[argv.index("--service") + 1] == service
        assert argv[argv.index("--region") + 1] == region
        assert "--force-new-deployment" in argv
        task_ref = out.ref("aws_ecs_task_definition", f"{service}/fargate/task", "arn")
        ecs_service = out.one("aws_ecs_service", f"{service}/fargate/service")
        assert ecs_service["task_definition"] == task_ref  # the first revision, at creation
        ignored = ecs_service.get("lifecycle", {}).get("ignore_changes", [])
        if "{task_definition}" in fixture_settings.environments[env_name].redeploy_command:
            # AND with the default command it switches the service to the revision this apply
            # registered, and the service leaves its task definition to it: one UpdateService
            assert argv[argv.index("--task-definition") + 1] == task_ref
            assert "task_definition" in ignored
        else:
            # AND a command without {task_definition} (prod's) leaves the revision to the service
            assert "--task-definition" not in argv and "task_definition" not in ignored
    assert Testing.to_have_resource_with_properties(
        out.text, NullResource.TF_RESOURCE_TYPE, {"triggers": {"always_run": "${timestamp()}"}}
    )


def test_only_the_emulator_environment_gets_endpoints_and_fake_keys(
    synthesized: dict[str, Synthesized],
) -> None:
    (local_aws,) = synthesized["local"].json["provider"]["aws"]
    assert set(local_aws["endpoints"][0].values()) == {"http://127.0.0.1:4566"}
    assert local_aws["skip_credentials_validation"] is True
    environment = synthesized["local"].one("null_resource", "api/redeploy/trigger")["provisioner"][0]
    assert environment["local-exec"]["environment"]["AWS_ENDPOINT_URL"] == "http://127.0.0.1:4566"
    for env in ("dev", "staging", "prod"):
        (aws,) = synthesized[env].json["provider"]["aws"]
        # a real environment's provider: its region and the default tags, nothing of the emulator
        assert set(aws) == {"region", "default_tags"}
        assert aws["default_tags"] == [
            {"tags": {"Project": "shop", "Environment": env, "ManagedBy": "ecs-cd"}}
        ]
        trigger = synthesized[env].one("null_resource", "api/redeploy/trigger")
        assert "environment" not in trigger["provisioner"][0]["local-exec"]


def test_state_backends(synthesized: dict[str, Synthesized]) -> None:
    assert synthesized["local"].json["terraform"]["backend"] == {"local": {"path": "terraform.local.tfstate"}}
    assert synthesized["prod"].json["terraform"]["backend"] == {
        "s3": {
            "bucket": "shop-tf-state-prod",
            "key": "shop/prod.tfstate",
            "region": "eu-central-1",
            "encrypt": True,
            "use_lockfile": True,
        }
    }
    assert synthesized["dev"].json["terraform"]["backend"]["s3"]["key"] == "shop/dev.tfstate"


def test_null_provider_constraint_is_the_configured_one(
    synthesized: dict[str, Synthesized], env_name: str
) -> None:
    providers = synthesized[env_name].json["terraform"]["required_providers"]
    assert providers["null"]["version"] == ">= 2.1.2, < 4.0.0"
    assert providers["aws"]["version"] == "5.100.0"


def test_no_name_collides_across_environments(synthesized: dict[str, Synthesized]) -> None:
    # Names that are unique per account and region must differ between environments,
    # so that two environments can share an account without clobbering each other.
    seen: dict[tuple[str, str], str] = {}
    for env, out in synthesized.items():
        names = [("cluster", c["name"]) for c in out.resources("aws_ecs_cluster").values()]
        names += [("family", t["family"]) for t in out.resources("aws_ecs_task_definition").values()]
        names += [("role", r["name"]) for r in out.resources("aws_iam_role").values()]
        names += [("log group", g["name"]) for g in out.resources("aws_cloudwatch_log_group").values()]
        names += [("security group", g["name"]) for g in out.resources("aws_security_group").values()]
        names += [("target group", g["name"]) for g in out.resources("aws_lb_target_group").values()]
        names += [("parameter", p["name"]) for p in out.data("aws_ssm_parameter").values()]
        for name in names:
            assert name not in seen, f"{name} is used by {seen.get(name)} and {env}"
            seen[name] = env
    # per environment: the cluster; per service: family, two roles, log group, security
    # group, tag parameter; plus the target groups and created load balancers' groups
    extra = [
        name
        for out in synthesized.values()
        for name in (*out.resources("aws_lb_target_group"), *out.resources("aws_lb"))
    ]
    assert len(seen) == 4 * (1 + 6 * len(SERVICES)) + len(extra)


def test_two_services_share_the_cluster_and_nothing_else(synthesized: dict[str, Synthesized]) -> None:
    out = synthesized["dev"]
    services = out.resources("aws_ecs_service")
    assert len(services) == 2
    assert len({s["cluster"] for s in services.values()}) == 1
    for resource_type in (
        "aws_ecs_task_definition",
        "aws_iam_role_policy",
        "aws_cloudwatch_log_group",
        "aws_security_group",
        "null_resource",
    ):
        assert len(out.resources(resource_type)) == 2, resource_type
    # an execution role and a task role each
    assert len(out.resources("aws_iam_role")) == 4
    assert len(out.data("aws_ssm_parameter")) == 2
    task_refs = {s["task_definition"] for s in services.values()}
    assert len(task_refs) == 2


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_snapshot(synthesized: dict[str, Synthesized], env: str, snapshot: Any) -> None:
    # One reviewed snapshot per environment, next to the fine-grained assertions above.
    assert synthesized[env].json == snapshot


def test_only_the_emulator_ignores_what_moto_does_not_report(synthesized: dict[str, Synthesized]) -> None:
    # moto's DescribeServices lacks availabilityZoneRebalancing: without this, every plan
    # on the emulator would show a change. Real environments reconcile everything.
    # (desired_count is ignored wherever autoscaling owns it, emulator or not.)
    for service in SERVICES:
        for env, out in synthesized.items():
            resource = out.one("aws_ecs_service", f"{service}/fargate/service")
            ignored = resource.get("lifecycle", {}).get("ignore_changes", [])
            assert ("availability_zone_rebalancing" in ignored) == (env == "local"), (env, service)


def test_s3_backends_lock_with_a_lockfile(synthesized: dict[str, Synthesized]) -> None:
    for env in ("dev", "staging", "prod"):
        assert synthesized[env].json["terraform"]["backend"]["s3"]["use_lockfile"] is True
