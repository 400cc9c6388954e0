"""Image strategies end to end on the emulator, with plain Terraform on the synthesized stacks.

One environment per strategy (ts = timestamp, tag = ssm-tag, dig = digest), synthesized
once; tags and images change in SSM and ECR between plans, exactly as CI would change them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from devkit.cdktf_cli import cdktf, tool_environment
from devkit.emulator import Emulator
from devkit.fake_ci import push_image, write_tag
from devkit.terraform import Terraform
from devkit.terraform_offline import TerraformSetup

pytestmark = pytest.mark.e2e
REPO = "123456789012.dkr.ecr.us-east-1.amazonaws.com/strat-api"
STRATEGIES = {"ts": "timestamp", "tag": "ssm-tag", "dig": "digest"}


def config_text() -> str:
    text = f"""
[project]
name = "strat"

[services.api]
repository = "{REPO}"
container_port = 8080
environment = {{ LOG_LEVEL = "info" }}
"""
    for env, strategy in STRATEGIES.items():
        text += f"""
[environments.{env}]
region = "us-east-1"
emulator_endpoint = "http://127.0.0.1:1"
network = {{ use_default_vpc = true, assign_public_ip = true }}
state = {{ backend = "local" }}

[environments.{env}.services.api]
image_strategy = "{strategy}"
"""
    return text


@dataclass
class Stacks:
    emulator: Emulator
    terraform: dict[str, Terraform]

    def observe(self, env: str) -> tuple[str, str, str]:
        """(task definition ARN, image, PRIMARY deployment id) of api in ``env``."""
        ecs = self.emulator.client("ecs")
        (service,) = ecs.describe_services(cluster=f"strat-{env}", services=["api"])["services"]
        task = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]
        (primary,) = [d for d in service["deployments"] if d["status"] == "PRIMARY"]
        return service["taskDefinition"], task["containerDefinitions"][0]["image"], primary["id"]


@pytest.fixture(scope="module")
def stacks(
    emulator: Emulator, tf_setup: TerraformSetup, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stacks]:
    work = tmp_path_factory.mktemp("strategies")
    config = work / "strategies.toml"
    config.write_text(config_text())
    push_image(emulator.client("ecr"), "strat-api", "1.0.0")
    for env in STRATEGIES:
        write_tag(emulator.client("ssm"), f"/api/{env}/docker-image-tag", "1.0.0")
    env_vars = tool_environment(
        tf_setup, emulator_endpoint=emulator.endpoint, extra={"ECS_CD_CONFIG": str(config)}
    )
    synth = cdktf(["synth", "--output", str(work / "out")], env=env_vars)
    assert synth.returncode == 0, synth.stdout + synth.stderr
    terraform = {env: Terraform(work / "out" / "stacks" / env, env_vars) for env in STRATEGIES}
    for tf in terraform.values():
        tf.init()
        tf.apply()
    yield Stacks(emulator, terraform)


def _kinds(changes: dict[str, list[str]]) -> dict[str, list[str]]:
    """Resource type -> actions (one resource per type here)."""
    out: dict[str, list[str]] = {}
    for address, actions in changes.items():
        kind = address.split(".")[0]
        assert kind not in out, f"two {kind} changes: {changes}"
        out[kind] = sorted(actions)
    return out


REPLACE_TASK_AND_UPDATE_SERVICE = {
    "aws_ecs_task_definition": ["create", "delete"],
    "aws_ecs_service": ["update"],
}


def test_ssm_tag_and_digest_plan_no_changes_after_deploy(stacks: Stacks) -> None:
    for env in ("tag", "dig"):
        plan = stacks.terraform[env].plan_exit_code()
        assert plan.returncode == 0, plan.output[-3000:]
        assert "No changes." in plan.output


def test_timestamp_plans_always_replace_the_trigger(stacks: Stacks) -> None:
    plan = stacks.terraform["ts"].plan_exit_code()
    assert plan.returncode == 2
    assert _kinds(stacks.terraform["ts"].planned_changes()) == {"null_resource": ["create", "delete"]}


def test_timestamp_redeploys_exactly_once_per_apply(stacks: Stacks) -> None:
    for _ in range(2):
        task_before, _, deployment_before = stacks.observe("ts")
        applied = stacks.terraform["ts"].apply()
        task_after, _, deployment_after = stacks.observe("ts")
        # one null_resource replaced, one update-service, same task definition
        assert applied.output.count("Creation complete") == 1
        assert applied.output.count("(local-exec): Executing:") == 1
        assert deployment_after != deployment_before
        assert task_after == task_before


def test_new_ssm_tag_changes_only_task_definition_and_service(stacks: Stacks) -> None:
    tf = stacks.terraform["tag"]
    task_before, _, _ = stacks.observe("tag")
    # GIVEN CI released 1.1.0
    push_image(stacks.emulator.client("ecr"), "strat-api", "1.1.0")
    write_tag(stacks.emulator.client("ssm"), "/api/tag/docker-image-tag", "1.1.0")
    # WHEN planned THEN exactly the task definition is replaced and the service updated
    assert _kinds(tf.planned_changes()) == REPLACE_TASK_AND_UPDATE_SERVICE
    # AND the plan shows the tags, not "(sensitive value)"
    plan = tf.plan_exit_code()
    assert f"{REPO}:1.0.0" in plan.output and f"{REPO}:1.1.0" in plan.output
    assert "(sensitive value)" not in plan.output
    # WHEN applied THEN a new revision runs 1.1.0, and the next plan is clean
    tf.apply()
    task_after, image, _ = stacks.observe("tag")
    assert image == f"{REPO}:1.1.0"
    assert int(task_after.rsplit(":", 1)[1]) == int(task_before.rsplit(":", 1)[1]) + 1
    assert tf.plan_exit_code().returncode == 0


def test_repush_under_the_same_tag_changes_only_task_definition_and_service(stacks: Stacks) -> None:
    tf = stacks.terraform["dig"]
    task_before, image_before, _ = stacks.observe("dig")
    ecr = stacks.emulator.client("ecr")
    first_digest = ecr.describe_images(repositoryName="strat-api", imageIds=[{"imageTag": "1.0.0"}])[
        "imageDetails"
    ][0]["imageDigest"]
    assert image_before == f"{REPO}@{first_digest}"
    # GIVEN CI re-pushed 1.0.0 with different content (the SSM tag did not change)
    new_digest = push_image(ecr, "strat-api", "1.0.0", content="rebuilt")
    assert new_digest != first_digest
    # WHEN planned THEN exactly the task definition is replaced and the service updated
    assert _kinds(tf.planned_changes()) == REPLACE_TASK_AND_UPDATE_SERVICE
    # WHEN applied THEN the new revision pins the new digest, and the next plan is clean
    tf.apply()
    task_after, image, _ = stacks.observe("dig")
    assert image == f"{REPO}@{new_digest}"
    assert int(task_after.rsplit(":", 1)[1]) == int(task_before.rsplit(":", 1)[1]) + 1
    assert tf.plan_exit_code().returncode == 0


def test_state_records_the_pinned_digest(stacks: Stacks) -> None:
    shown = stacks.terraform["dig"].run("show", "-json")
    state = json.loads(shown.output[shown.output.index("{") :])
    resources = state["values"]["root_module"]["resources"]
    (task,) = [r for r in resources if r["type"] == "aws_ecs_task_definition"]
    (container,) = json.loads(task["values"]["container_definitions"])
    assert "@sha256:" in container["image"]


def test_terraform_binary_is_found_at_run_time(stacks: Stacks) -> None:
    assert Path(stacks.terraform["ts"].binary).name == "terraform"
