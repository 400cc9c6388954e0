"""The EC2 and capacity-provider examples (issue 12) deployed on the emulator through the real
`ecs-release deploy local --wait`: the first article's task definition (EC2, bridge, a dynamic
host port behind the load balancer, the timestamp redeploy) and a FARGATE_SPOT service with a
FARGATE base. moto runs no containers: what is checked is what ECS was asked for and what it
reports back, and that Terraform reads it back without changes it did not ask for.

One emulator for the module; each fixture deploys once and records what happened then.
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
from devkit.terraform import Terraform
from ecs_cd.core import names
from ecs_cd.toolchain.cdktf_cli import PROJECT_DIR, tool_environment
from ecs_cd.toolchain.terraform_offline import TerraformSetup
from tests.release_helpers import ProcessRun, run_release_process

pytestmark = pytest.mark.e2e

BRIDGE = PROJECT_DIR / "examples" / "ec2-bridge" / "ecs-cd.toml"
SPOT = PROJECT_DIR / "examples" / "fargate-spot" / "ecs-cd.toml"


@dataclass(frozen=True)
class Seen:
    """What ECS reported for the service right after a deploy."""

    service: dict[str, Any]
    task: dict[str, Any]
    run: ProcessRun

    @property
    def primary(self) -> dict[str, Any]:
        (found,) = [d for d in self.service["deployments"] if d["status"] == "PRIMARY"]
        return dict(found)


@dataclass
class Lab:
    emulator: Emulator
    setup: TerraformSetup
    work: Path

    def deploy(self, config: Path, project: str, service: str, label: str) -> Seen:
        env = {"ECS_CD_CONFIG": str(config), "ECS_CD_EMULATOR_ENDPOINT": self.emulator.endpoint}
        run = run_release_process(
            env, "deploy", "local", "--wait", "--poll", "0.2", "--output", str(self.outdir(config))
        )
        assert run.returncode == 0, f"{label}: " + run.stdout + run.stderr[-6000:]
        ecs = self.emulator.client("ecs")
        (svc,) = ecs.describe_services(cluster=names.cluster_name(project, "local"), services=[service])[
            "services"
        ]
        task = ecs.describe_task_definition(taskDefinition=svc["taskDefinition"])["taskDefinition"]
        return Seen(dict(svc), dict(task), run)

    def outdir(self, config: Path) -> Path:
        return self.work / config.parent.name

    def terraform(self, config: Path) -> Terraform:
        return Terraform(
            self.outdir(config) / "stacks" / "local",
            tool_environment(self.setup, emulator_endpoint=self.emulator.endpoint),
        )


@pytest.fixture(scope="module")
def lab(emulator: Emulator, tf_setup: TerraformSetup, tmp_path_factory: pytest.TempPathFactory) -> Lab:
    return Lab(emulator, tf_setup, tmp_path_factory.mktemp("ec2"))


@pytest.fixture(scope="module")
def bridge_config(lab: Lab, existing_lb: ExistingLoadBalancer) -> Path:
    """The ec2-bridge example behind a load balancer that already exists (the instances' security
    group admits it on the host ports all the same); its name stays the example's (outdir)."""
    config = lab.work / "configs" / BRIDGE.parent.name / BRIDGE.name
    config.parent.mkdir(parents=True)
    config.write_text(attach(BRIDGE.read_text(encoding="utf-8"), "local", existing_lb), encoding="utf-8")
    return config


@dataclass(frozen=True)
class BridgeRuns:
    first: Seen
    again: Seen  # nothing new: the timestamp trigger alone
    released: Seen  # a new tag
    plan_changes: dict[str, list[str]]


@pytest.fixture(scope="module")
def bridge(lab: Lab, bridge_config: Path) -> BridgeRuns:
    ecr, ssm = lab.emulator.client("ecr"), lab.emulator.client("ssm")
    parameter = names.image_tag_parameter("api", "local")
    push_image(ecr, "article-api", "1.0.0")
    write_tag(ssm, parameter, "1.0.0")
    first = lab.deploy(bridge_config, "article", "api", "first deploy")
    again = lab.deploy(bridge_config, "article", "api", "deploy with nothing new")
    push_image(ecr, "article-api", "1.1.0")
    write_tag(ssm, parameter, "1.1.0")
    released = lab.deploy(bridge_config, "article", "api", "deploy of 1.1.0")
    return BridgeRuns(first, again, released, lab.terraform(bridge_config).planned_changes())


def test_the_article_task_definition_runs_on_ec2_in_bridge_mode(bridge: BridgeRuns) -> None:
    # THEN ECS holds the article's task definition: EC2, bridge, dynamic host port, links, volumes
    task = bridge.first.task
    assert (task["networkMode"], task["requiresCompatibilities"]) == ("bridge", ["EC2"])
    containers = {c["name"]: c for c in task["containerDefinitions"]}
    api = containers["api"]
    assert api["portMappings"] == [{"containerPort": 8080, "hostPort": 0, "protocol": "tcp"}]
    assert (api["cpu"], api["memoryReservation"], api["links"]) == (10, 128, ["cache"])
    assert containers["log-tail"]["volumesFrom"] == [{"sourceContainer": "api", "readOnly": True}]
    assert {v["name"] for v in task["volumes"]} == {"tmp", "app-logs", "cache-data"}
    # AND the service runs on EC2 without an awsvpc configuration, behind an instance target group
    service = bridge.first.service
    assert service["launchType"] == "EC2"
    assert not service.get("networkConfiguration")
    (balancer,) = service["loadBalancers"]
    assert (balancer["containerName"], balancer["containerPort"]) == ("api", 8080)
    (rollout,) = bridge.first.run.json["rollouts"]
    assert rollout["outcome"] == "COMPLETED"


def test_the_timestamp_trigger_redeploys_the_same_revision(bridge: BridgeRuns) -> None:
    # WHEN deployed again with nothing new THEN a new deployment runs the same task definition
    assert bridge.again.primary["id"] != bridge.first.primary["id"]
    assert bridge.again.service["taskDefinition"] == bridge.first.service["taskDefinition"]
    # AND a new tag gives a new revision that runs it
    before = int(bridge.again.task["revision"])
    assert int(bridge.released.task["revision"]) == before + 1
    images = {c["name"]: c["image"] for c in bridge.released.task["containerDefinitions"]}
    assert images["api"].endswith("/article-api:1.1.0")


def test_a_second_plan_changes_only_the_timestamp_trigger(bridge: BridgeRuns) -> None:
    # THEN what ECS, the load balancer and IAM report back matches the configuration
    assert {address.split(".")[0] for address in bridge.plan_changes} == {"null_resource"}, json.dumps(
        bridge.plan_changes
    )


@pytest.fixture(scope="module")
def spot(lab: Lab) -> tuple[Seen, int]:
    push_image(lab.emulator.client("ecr"), "spot-worker", "2.0.0")
    write_tag(lab.emulator.client("ssm"), names.image_tag_parameter("worker", "local"), "2.0.0")
    seen = lab.deploy(SPOT, "spot", "worker", "spot deploy")
    return seen, lab.terraform(SPOT).plan_exit_code().returncode


def test_the_spot_service_keeps_its_strategy(spot: tuple[Seen, int], emulator: Emulator) -> None:
    seen, plan_code = spot
    # THEN DescribeServices shows the strategy: one task on FARGATE first, the rest on FARGATE_SPOT
    strategy = {
        (item["capacityProvider"], item.get("weight", 0), item.get("base", 0))
        for item in seen.service["capacityProviderStrategy"]
    }
    assert strategy == {("FARGATE", 0, 1), ("FARGATE_SPOT", 1, 0)}
    assert "launchType" not in seen.service or seen.service["launchType"] in ("", None)
    # AND the cluster has both providers
    (cluster,) = emulator.client("ecs").describe_clusters(clusters=[names.cluster_name("spot", "local")])[
        "clusters"
    ]
    assert sorted(cluster["capacityProviders"]) == ["FARGATE", "FARGATE_SPOT"]
    # AND a second plan is clean (ssm-tag: nothing changes until the tag does)
    assert plan_code == 0
