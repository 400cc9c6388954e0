"""Image strategies end to end on the emulator, with plain Terraform on the synthesized stacks.

One environment per strategy (ts = timestamp, tag = ssm-tag, dig = digest), synthesized
once; tags and images change in SSM and ECR between plans, exactly as CI would change them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from devkit.emulator import Emulator
from devkit.fake_ci import push_image
from devkit.strategy_lab import REPO, REPO_NAME, Observed, StrategyLab
from ecs_cd.toolchain.terraform_offline import TerraformSetup

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def lab(
    emulator: Emulator, tf_setup: TerraformSetup, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[StrategyLab]:
    lab = StrategyLab(emulator, tf_setup, tmp_path_factory.mktemp("strategies"))
    lab.deploy_all("1.0.0")
    yield lab


def _kinds(changes: dict[str, list[str]]) -> dict[str, list[str]]:
    """Resource type -> actions (one resource per type here)."""
    out: dict[str, list[str]] = {}
    for address, actions in changes.items():
        kind = address.split(".")[0]
        assert kind not in out, f"two {kind} changes: {changes}"
        out[kind] = sorted(actions)
    return out


def _revision(observed: Observed) -> int:
    return int(observed.task_definition.rsplit(":", 1)[1])


REPLACE_TASK_AND_UPDATE_SERVICE = {
    "aws_ecs_task_definition": ["create", "delete"],
    "aws_ecs_service": ["update"],
}


def test_timestamp_plans_always_replace_the_trigger(lab: StrategyLab) -> None:
    assert _kinds(lab.terraform["ts"].planned_changes()) == {"null_resource": ["create", "delete"]}


def test_timestamp_redeploys_exactly_once_per_apply(lab: StrategyLab) -> None:
    # GIVEN the deployed timestamp service (its first apply created the trigger; the next test's
    # apply, with a new tag, is another one) WHEN applied with nothing new
    before = lab.observe("ts")
    applied = lab.terraform["ts"].apply()
    after = lab.observe("ts")
    # THEN one null_resource replaced, one update-service, same task definition
    assert applied.output.count("Creation complete") == 1
    assert applied.output.count("(local-exec): Executing:") == 1
    assert lab.update_service_calls(applied.output) == 1
    assert after.deployment_id != before.deployment_id
    assert after.task_definition == before.task_definition


def test_timestamp_new_tag_is_one_deployment(lab: StrategyLab) -> None:
    tf = lab.terraform["ts"]
    before = lab.observe("ts")
    # GIVEN CI released 1.2.0 to the timestamp service
    lab.release("ts", "1.2.0")
    # WHEN planned THEN a new revision and the trigger; the service itself is not updated,
    # since its revision belongs to the redeploy command
    assert _kinds(tf.planned_changes()) == {
        "aws_ecs_task_definition": ["create", "delete"],
        "null_resource": ["create", "delete"],
    }
    # WHEN applied THEN one UpdateService (the command's) switched to the new revision and
    # forced the rollout: one deployment, not the service's update and then a forced one
    applied = tf.apply()
    after = lab.observe("ts")
    assert lab.update_service_calls(applied.output) == 1
    assert after.image == f"{REPO}:1.2.0"
    assert _revision(after) == _revision(before) + 1
    assert after.deployment_id != before.deployment_id
    # AND the next plan replaces only the trigger, as every timestamp plan does
    assert _kinds(tf.planned_changes()) == {"null_resource": ["create", "delete"]}


def test_new_ssm_tag_changes_only_task_definition_and_service(lab: StrategyLab) -> None:
    tf = lab.terraform["tag"]
    before = lab.observe("tag")
    # GIVEN CI released 1.1.0
    lab.release("tag", "1.1.0")
    # WHEN planned THEN exactly the task definition is replaced and the service updated
    plan, changes = tf.plan()
    assert _kinds(changes) == REPLACE_TASK_AND_UPDATE_SERVICE
    # AND the plan shows the tags, not "(sensitive value)"
    assert f"{REPO}:1.0.0" in plan.output and f"{REPO}:1.1.0" in plan.output
    assert "(sensitive value)" not in plan.output
    # WHEN applied THEN a new revision runs 1.1.0, and the next plan is clean: an ssm-tag stack
    # plans "No changes" after a deploy (the digest stack's test below checks its own)
    tf.apply()
    after = lab.observe("tag")
    assert after.image == f"{REPO}:1.1.0"
    assert _revision(after) == _revision(before) + 1
    clean = tf.plan_exit_code()
    assert clean.returncode == 0 and "No changes." in clean.output, clean.output[-3000:]


def test_repush_under_the_same_tag_changes_only_task_definition_and_service(lab: StrategyLab) -> None:
    tf = lab.terraform["dig"]
    before = lab.observe("dig")
    ecr = lab.emulator.client("ecr")
    first_digest = ecr.describe_images(repositoryName=REPO_NAME, imageIds=[{"imageTag": "1.0.0"}])[
        "imageDetails"
    ][0]["imageDigest"]
    assert before.image == f"{REPO}@{first_digest}"
    # GIVEN CI re-pushed 1.0.0 with different content (the SSM tag did not change)
    new_digest = push_image(ecr, REPO_NAME, "1.0.0", content="rebuilt")
    assert new_digest != first_digest
    # WHEN planned THEN exactly the task definition is replaced and the service updated
    assert _kinds(tf.planned_changes()) == REPLACE_TASK_AND_UPDATE_SERVICE
    # WHEN applied THEN the new revision pins the new digest, and the next plan is clean
    tf.apply()
    after = lab.observe("dig")
    assert after.image == f"{REPO}@{new_digest}"
    assert _revision(after) == _revision(before) + 1
    clean = tf.plan_exit_code()
    assert clean.returncode == 0 and "No changes." in clean.output, clean.output[-3000:]


def test_state_records_the_pinned_digest(lab: StrategyLab) -> None:
    shown = lab.terraform["dig"].run("show", "-json")
    state = json.loads(shown.output[shown.output.index("{") :])
    resources = state["values"]["root_module"]["resources"]
    (task,) = [r for r in resources if r["type"] == "aws_ecs_task_definition"]
    (container,) = json.loads(task["values"]["container_definitions"])
    assert "@sha256:" in container["image"]


def test_terraform_binary_is_found_at_run_time(lab: StrategyLab) -> None:
    assert Path(lab.terraform["ts"].binary).name == "terraform"
