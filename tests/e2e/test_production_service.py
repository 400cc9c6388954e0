"""A production-shaped service end to end on the emulator: load balancer, autoscaling, secrets.

The stack is synthesized by the real cdktf CLI and applied by real Terraform with the real AWS
provider against moto. What moto cannot do (run tasks, scale, roll back) is not claimed here:
these tests check what was created and that Terraform converges (a second plan is empty,
and a deploy leaves alone the desired count the scaler owns).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from devkit.emulator import ACCOUNT_ID, REGION, Emulator
from devkit.fake_ci import push_image, write_tag
from devkit.terraform import Terraform, synthesize
from ecs_cd.toolchain.cdktf_cli import tool_environment
from ecs_cd.toolchain.terraform_offline import TerraformSetup

pytestmark = pytest.mark.e2e

PROJECT = "prod"
ENV = "local"
SERVICE = "web"
REPO_NAME = "prod-web"
REPO = f"{ACCOUNT_ID}.dkr.ecr.{REGION}.amazonaws.com/{REPO_NAME}"
PARAMETER = f"/{SERVICE}/{ENV}/docker-image-tag"
CLUSTER = f"{PROJECT}-{ENV}"


@dataclass(frozen=True)
class Given:
    """What exists before the deploy, as CI and the platform team would have made it."""

    db_password_arn: str
    api_key_arn: str
    kms_key_arn: str
    alarm_name: str


def _config(given: Given) -> str:
    return f"""
[project]
name = "{PROJECT}"

[services.{SERVICE}]
repository = "{REPO}"
image_strategy = "ssm-tag"
container_port = 8080
desired_count = 1
environment = {{ LOG_LEVEL = "info" }}
secrets = {{ DB_PASSWORD = "{given.db_password_arn}", API_KEY = "{given.api_key_arn}" }}
secrets_kms_key_arn = "{given.kms_key_arn}"
writable_paths = ["/tmp"]
user = "1000:1000"
deployment = {{ minimum_healthy_percent = 50, maximum_percent = 200, alarm_names = ["{given.alarm_name}"] }}
load_balancer = {{ path_patterns = ["/web/*"], priority = 10, health_check_path = "/health" }}
autoscaling = {{ min_capacity = 1, max_capacity = 3, cpu_target_percent = 60, memory_target_percent = 70 }}

[environments.{ENV}]
region = "{REGION}"
emulator_endpoint = "http://127.0.0.1:5000"
network = {{ use_default_vpc = true, assign_public_ip = true }}
state = {{ backend = "local", path = "terraform.tfstate" }}
log_retention_days = 7
log_kms_key_arn = "{given.kms_key_arn}"
wait_for_steady_state = true
load_balancer = {{ create = true, deletion_protection = false }}
"""


@dataclass
class Deployed:
    emulator: Emulator
    given: Given
    terraform: Terraform
    first_apply: str

    def client(self, service: str) -> Any:
        return self.emulator.client(service)

    def service(self) -> dict[str, Any]:
        (found,) = self.client("ecs").describe_services(cluster=CLUSTER, services=[SERVICE])["services"]
        return dict(found)


@pytest.fixture(scope="module")
def deployed(
    emulator: Emulator, tf_setup: TerraformSetup, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployed]:
    workdir: Path = tmp_path_factory.mktemp("production")
    # GIVEN an image and its tag from CI, two secrets, a KMS key and an alarm
    push_image(emulator.client("ecr"), REPO_NAME, "1.0.0")
    write_tag(emulator.client("ssm"), PARAMETER, "1.0.0")
    kms_key_arn = emulator.client("kms").create_key(Description="prod secrets and logs")["KeyMetadata"]["Arn"]
    emulator.client("ssm").put_parameter(
        Name="/prod/web/db-password", Value="s3cret", Type="SecureString", KeyId=kms_key_arn
    )
    db_password_arn = emulator.client("ssm").get_parameter(Name="/prod/web/db-password")["Parameter"]["ARN"]
    api_key_arn = emulator.client("secretsmanager").create_secret(
        Name="prod/web/api-key", SecretString="k3y", KmsKeyId=kms_key_arn
    )["ARN"]
    emulator.client("cloudwatch").put_metric_alarm(
        AlarmName="prod-web-5xx",
        Namespace="AWS/ApplicationELB",
        MetricName="HTTPCode_Target_5XX_Count",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=10,
        ComparisonOperator="GreaterThanThreshold",
    )
    given = Given(db_password_arn, api_key_arn, kms_key_arn, "prod-web-5xx")
    config = workdir / "prod.toml"
    config.write_text(_config(given))
    env = tool_environment(
        tf_setup, emulator_endpoint=emulator.endpoint, extra={"ECS_CD_CONFIG": str(config)}
    )
    # WHEN the stack is synthesized as ecs-release does it and Terraform applies it
    synthesize(config, workdir / "out", env)
    terraform = Terraform(workdir / "out" / "stacks" / ENV, env)
    terraform.init()
    applied = terraform.apply()
    yield Deployed(emulator, given, terraform, applied.output)


def test_the_service_is_behind_its_load_balancer_rule(deployed: Deployed) -> None:
    elb = deployed.client("elbv2")
    service = deployed.service()
    (attachment,) = service["loadBalancers"]
    assert (attachment["containerName"], attachment["containerPort"]) == (SERVICE, 8080)
    (group,) = elb.describe_target_groups(TargetGroupArns=[attachment["targetGroupArn"]])["TargetGroups"]
    assert (group["TargetType"], group["Port"], group["HealthCheckPath"]) == ("ip", 8080, "/health")
    (lb,) = elb.describe_load_balancers(Names=[CLUSTER])["LoadBalancers"]
    assert lb["Scheme"] == "internal"
    (listener,) = elb.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]
    rules = elb.describe_rules(ListenerArn=listener["ListenerArn"])["Rules"]
    (rule,) = [r for r in rules if not r["IsDefault"]]
    assert rule["Priority"] == "10"
    assert rule["Actions"][0]["TargetGroupArn"] == group["TargetGroupArn"]
    (condition,) = rule["Conditions"]
    assert condition["Field"] == "path-pattern"
    assert condition["PathPatternConfig"]["Values"] == ["/web/*"]


def test_the_tasks_admit_only_the_load_balancer(deployed: Deployed) -> None:
    ec2 = deployed.client("ec2")
    (lb,) = deployed.client("elbv2").describe_load_balancers(Names=[CLUSTER])["LoadBalancers"]
    (lb_group,) = lb["SecurityGroups"]
    groups = deployed.service()["networkConfiguration"]["awsvpcConfiguration"]["securityGroups"]
    (tasks_group,) = groups
    rules = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [tasks_group]}])[
        "SecurityGroupRules"
    ]
    ingress = [r for r in rules if not r["IsEgress"]]
    egress = [r for r in rules if r["IsEgress"]]
    assert [(r["FromPort"], r["ToPort"], r["ReferencedGroupInfo"]["GroupId"]) for r in ingress] == [
        (8080, 8080, lb_group)
    ]
    assert [(r["FromPort"], r["ToPort"], r.get("CidrIpv4")) for r in egress] == [(443, 443, "0.0.0.0/0")]


def test_secrets_are_referenced_and_readable_only_by_the_execution_role(deployed: Deployed) -> None:
    ecs, iam = deployed.client("ecs"), deployed.client("iam")
    task = ecs.describe_task_definition(taskDefinition=deployed.service()["taskDefinition"])["taskDefinition"]
    (container,) = task["containerDefinitions"]
    assert {s["name"]: s["valueFrom"] for s in container["secrets"]} == {
        "DB_PASSWORD": deployed.given.db_password_arn,
        "API_KEY": deployed.given.api_key_arn,
    }
    assert "s3cret" not in json.dumps(task) and "k3y" not in json.dumps(task)
    assert container["readonlyRootFilesystem"] is True
    assert container["user"] == "1000:1000"
    assert container["mountPoints"] == [{"sourceVolume": "tmp", "containerPath": "/tmp", "readOnly": False}]
    assert task["taskRoleArn"] != task["executionRoleArn"]
    execution_role = task["executionRoleArn"].rsplit("/", 1)[1]
    (policy_name,) = iam.list_role_policies(RoleName=execution_role)["PolicyNames"]
    document = iam.get_role_policy(RoleName=execution_role, PolicyName=policy_name)["PolicyDocument"]
    statements = {
        s["Sid"]: s for s in (json.loads(document) if isinstance(document, str) else document)["Statement"]
    }
    assert statements["SsmSecrets"]["Resource"] == [deployed.given.db_password_arn]
    assert statements["SecretsManagerSecrets"]["Resource"] == [deployed.given.api_key_arn]
    assert statements["DecryptSecrets"]["Resource"] == deployed.given.kms_key_arn
    task_role = task["taskRoleArn"].rsplit("/", 1)[1]
    assert iam.list_role_policies(RoleName=task_role)["PolicyNames"] == []
    assert iam.list_attached_role_policies(RoleName=task_role)["AttachedPolicies"] == []


def test_rollouts_are_guarded_by_the_circuit_breaker_and_the_alarm(deployed: Deployed) -> None:
    configuration = deployed.service()["deploymentConfiguration"]
    assert configuration["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    assert (configuration["minimumHealthyPercent"], configuration["maximumPercent"]) == (50, 200)
    assert configuration["alarms"] == {"alarmNames": ["prod-web-5xx"], "enable": True, "rollback": True}
    # wait_for_steady_state: Terraform waited for the service before the apply finished
    assert "Apply complete!" in deployed.first_apply


def test_autoscaling_tracks_cpu_and_memory(deployed: Deployed) -> None:
    scaling = deployed.client("application-autoscaling")
    resource_id = f"service/{CLUSTER}/{SERVICE}"
    (target,) = scaling.describe_scalable_targets(ServiceNamespace="ecs", ResourceIds=[resource_id])[
        "ScalableTargets"
    ]
    assert (target["MinCapacity"], target["MaxCapacity"]) == (1, 3)
    policies = scaling.describe_scaling_policies(ServiceNamespace="ecs", ResourceId=resource_id)[
        "ScalingPolicies"
    ]
    targets = {
        p["TargetTrackingScalingPolicyConfiguration"]["PredefinedMetricSpecification"][
            "PredefinedMetricType"
        ]: p["TargetTrackingScalingPolicyConfiguration"]["TargetValue"]
        for p in policies
    }
    assert targets == {"ECSServiceAverageCPUUtilization": 60.0, "ECSServiceAverageMemoryUtilization": 70.0}


def test_logs_are_encrypted_with_the_configured_key(deployed: Deployed) -> None:
    (group,) = deployed.client("logs").describe_log_groups(
        logGroupNamePrefix=f"/ecs/{PROJECT}/{ENV}/{SERVICE}"
    )["logGroups"]
    assert group["kmsKeyId"] == deployed.given.kms_key_arn
    assert group["retentionInDays"] == 7


def test_a_second_plan_shows_no_changes(deployed: Deployed) -> None:
    plan = deployed.terraform.plan_exit_code()
    assert plan.returncode == 0, plan.output[-4000:]
    assert "No changes." in plan.output


def test_a_deploy_leaves_the_scaled_desired_count_alone(deployed: Deployed) -> None:
    # GIVEN the scaler raised the desired count to 3
    deployed.client("ecs").update_service(cluster=CLUSTER, service=SERVICE, desiredCount=3)
    # WHEN CI releases a new tag and Terraform applies it
    write_tag(deployed.client("ssm"), PARAMETER, "1.1.0")
    push_image(deployed.client("ecr"), REPO_NAME, "1.1.0")
    changes = deployed.terraform.planned_changes()
    applied = deployed.terraform.apply()
    # THEN the new image rolls out and the count stays the scaler's
    assert "aws_ecs_service" in {address.split(".")[0] for address in changes}
    assert "Apply complete!" in applied.output
    service = deployed.service()
    assert service["desiredCount"] == 3
    task = deployed.client("ecs").describe_task_definition(taskDefinition=service["taskDefinition"])
    assert task["taskDefinition"]["containerDefinitions"][0]["image"] == f"{REPO}:1.1.0"
    plan = deployed.terraform.plan_exit_code()
    assert plan.returncode == 0, plan.output[-4000:]
