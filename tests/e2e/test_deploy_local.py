"""`cdktf deploy local` end to end on the emulator: SSM tag -> image -> service -> redeploy.

Three deploys build on each other (module-scoped fixtures): a first deploy of tag 1.0.0,
a second after CI wrote 1.0.1, and a third with nothing changed, where only the
timestamp-triggered null_resource can have started the new deployment.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from devkit.emulator import Emulator
from devkit.fake_ci import push_image, write_tag
from devkit.load_balancer import ExistingLoadBalancer, attach
from ecs_cd.core import names
from ecs_cd.toolchain.cdktf_cli import PROJECT_DIR, cdktf, deploy, tool_environment
from ecs_cd.toolchain.terraform_offline import TerraformSetup
from stacks.settings import EnvironmentSettings, Settings, load_settings

pytestmark = pytest.mark.e2e
CONFIG = PROJECT_DIR / "config" / "ecs-cd.toml"


@dataclass(frozen=True)
class Deployment:
    """What the emulator says about the service after one deploy."""

    output: str
    task_definition_arn: str
    revision: int
    image: str
    deployment_id: str


@dataclass
class Scenario:
    emulator: Emulator
    settings: Settings
    env: dict[str, str]
    outdir: Path
    setup: TerraformSetup

    @property
    def local(self) -> EnvironmentSettings:
        return self.settings.environments["local"]

    def release(self, tag: str) -> None:
        """Play CI for every service: push the image, write its tag to SSM."""
        ecr = self.emulator.client("ecr", self.local.region)
        ssm = self.emulator.client("ssm", self.local.region)
        for service in self.local.services:
            assert service.image_tag_parameter is not None
            push_image(ecr, service.repository.split("/", 1)[1], tag)
            write_tag(ssm, service.image_tag_parameter, tag)

    def deploy(self) -> Deployment:
        result = deploy("local", setup=self.setup, env=self.env, outdir=self.outdir)
        output = result.stdout + result.stderr
        assert result.returncode == 0, output[-6000:]
        return self.observe(output)

    def observe(self, output: str = "") -> Deployment:
        ecs = self.emulator.client("ecs", self.local.region)
        cluster = names.cluster_name(self.settings.project, "local")
        (service,) = ecs.describe_services(cluster=cluster, services=["api"])["services"]
        task = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]
        primary = [d for d in service["deployments"] if d["status"] == "PRIMARY"]
        assert len(primary) == 1
        return Deployment(
            output=output,
            task_definition_arn=service["taskDefinition"],
            revision=int(task["revision"]),
            image=str(task["containerDefinitions"][0]["image"]),
            deployment_id=str(primary[0]["id"]),
        )


@pytest.fixture(scope="module")
def scenario(
    emulator: Emulator,
    tf_setup: TerraformSetup,
    existing_lb: ExistingLoadBalancer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Scenario:
    # The shipped configuration, its local environment behind a load balancer that already exists
    # (nothing here is about creating one; test_plain_shell deploys the shipped file as it is).
    work = tmp_path_factory.mktemp("cdktf")
    config = work / "ecs-cd.toml"
    config.write_text(attach(CONFIG.read_text(encoding="utf-8"), "local", existing_lb), encoding="utf-8")
    settings = load_settings(config, emulator_endpoint=emulator.endpoint)
    extra = {**emulator.aws_environment(), "ECS_CD_CONFIG": str(config)}
    env = tool_environment(tf_setup, emulator_endpoint=emulator.endpoint, extra=extra)
    return Scenario(emulator, settings, env, work / "out", tf_setup)


@pytest.fixture(scope="module")
def first(scenario: Scenario) -> Deployment:
    scenario.release("1.0.0")
    return scenario.deploy()


@pytest.fixture(scope="module")
def second(scenario: Scenario, first: Deployment) -> Deployment:
    scenario.release("1.0.1")
    return scenario.deploy()


@pytest.fixture(scope="module")
def third(scenario: Scenario, second: Deployment) -> tuple[Deployment, Deployment]:
    before = scenario.observe()
    return before, scenario.deploy()


def test_first_deploy_creates_cluster_service_and_task_definition(
    scenario: Scenario, first: Deployment, existing_lb: ExistingLoadBalancer
) -> None:
    # GIVEN CI pushed 1.0.0 and wrote it to /api/local/docker-image-tag
    # WHEN `cdktf deploy local` ran (fixture `first`)
    ecs = scenario.emulator.client("ecs", scenario.local.region)
    # THEN the cluster exists with Container Insights on
    (cluster,) = ecs.describe_clusters(clusters=["demo-local"], include=["SETTINGS"])["clusters"]
    assert cluster["status"] == "ACTIVE"
    assert {"name": "containerInsights", "value": "enabled"} in cluster["settings"]
    # AND the service runs a Fargate task definition whose image carries the SSM tag
    (service,) = ecs.describe_services(cluster="demo-local", services=["api"])["services"]
    assert service["launchType"] == "FARGATE"
    assert service["desiredCount"] == 1
    assert service["taskDefinition"] == first.task_definition_arn
    assert first.image == "123456789012.dkr.ecr.us-east-1.amazonaws.com/demo-api:1.0.0"
    assert first.task_definition_arn.endswith("task-definition/demo-local-api:1")
    # AND the log group and the execution role were created and wired in
    logs = scenario.emulator.client("logs", scenario.local.region)
    groups = logs.describe_log_groups(logGroupNamePrefix="/ecs/demo/local/api")["logGroups"]
    assert [(g["logGroupName"], g.get("retentionInDays")) for g in groups] == [("/ecs/demo/local/api", 1)]
    iam = scenario.emulator.client("iam", scenario.local.region)
    role = iam.get_role(RoleName="demo-local-api-exec")["Role"]
    task = ecs.describe_task_definition(taskDefinition=first.task_definition_arn)["taskDefinition"]
    assert task["executionRoleArn"] == role["Arn"]
    policy = iam.get_role_policy(RoleName="demo-local-api-exec", PolicyName="pull-image-and-write-logs")
    document: Any = policy["PolicyDocument"]
    statements = json.loads(document)["Statement"] if isinstance(document, str) else document["Statement"]
    # (the shipped api reads one SSM secret: its statement names exactly that parameter)
    assert {s["Sid"] for s in statements} == {"EcrAuth", "EcrPull", "Logs", "SsmSecrets"}
    (secrets,) = [s for s in statements if s["Sid"] == "SsmSecrets"]
    assert secrets["Resource"] == [scenario.local.service("api").app.secrets["DB_PASSWORD"]]
    # AND the application runs under its own role, behind the environment's load balancer
    assert task["taskRoleArn"] != task["executionRoleArn"]
    (attachment,) = service["loadBalancers"]
    assert (attachment["containerName"], attachment["containerPort"]) == ("api", 8080)
    # (the existing one: its listener now forwards the service's paths to the service's target group)
    elbv2 = scenario.emulator.client("elbv2", scenario.local.region)
    rules = elbv2.describe_rules(ListenerArn=existing_lb.listener_arn)["Rules"]
    forwards = [a["TargetGroupArn"] for r in rules for a in r["Actions"] if a["Type"] == "forward"]
    assert forwards == [attachment["targetGroupArn"]]


def test_new_tag_gives_a_new_revision_that_the_service_runs(first: Deployment, second: Deployment) -> None:
    # GIVEN CI wrote 1.0.1 WHEN deployed again
    # THEN a new task definition revision carries the new image and the service uses it
    assert second.revision == first.revision + 1
    assert second.image == "123456789012.dkr.ecr.us-east-1.amazonaws.com/demo-api:1.0.1"
    assert second.task_definition_arn.endswith(f"task-definition/demo-local-api:{second.revision}")
    assert second.deployment_id != first.deployment_id


def test_redeploy_trigger_really_calls_update_service(third: tuple[Deployment, Deployment]) -> None:
    before, after = third
    # GIVEN nothing changed since the last deploy WHEN deployed again
    # THEN the task definition is the same one ...
    assert after.task_definition_arn == before.task_definition_arn
    # ... yet ECS started a new deployment: only the null_resource's
    # `aws ecs update-service --force-new-deployment` can have done that
    assert after.deployment_id != before.deployment_id
    # AND its local-exec printed the id of the deployment it started, read from the emulator
    assert "(local-exec)" in after.output
    assert after.deployment_id in after.output
    assert "1 added, 0 changed, 1 destroyed" in after.output


def test_cdktf_synth_writes_every_environment(tf_setup: TerraformSetup, tmp_path: Path) -> None:
    # WHEN the cdktf CLI synthesizes the app THEN there is one stack per environment
    result = cdktf(["synth", "--output", str(tmp_path / "out")], env=tool_environment(tf_setup))
    assert result.returncode == 0, result.stdout + result.stderr
    stacks = sorted(p.name for p in (tmp_path / "out" / "stacks").iterdir())
    assert stacks == ["dev", "local", "prod", "staging"]
    for stack in stacks:
        synthesized = json.loads((tmp_path / "out" / "stacks" / stack / "cdk.tf.json").read_text())
        (cluster,) = synthesized["resource"]["aws_ecs_cluster"].values()
        assert cluster["name"] == f"demo-{stack}"
