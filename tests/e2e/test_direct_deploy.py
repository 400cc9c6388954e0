"""`ecs-release deploy` runs Terraform directly (ecs_cd/release/terraform_run.py); `npx cdktf deploy`
by hand keeps working on the same output directory and state. Each path sees the state the
other left as its own: Terraform finds nothing to change, either way round.

Real tools throughout: the cdktf CLI, Terraform, the AWS provider, the emulator. The service
uses the `ssm-tag` strategy, which has no trigger that changes on every apply, so "nothing to
change" is exact.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from devkit.emulator import Emulator
from devkit.fake_ci import push_image, write_tag
from ecs_cd.release.cdktf_output import plain
from ecs_cd.toolchain.cdktf_cli import deploy, tool_environment
from ecs_cd.toolchain.terraform_offline import TerraformSetup
from tests.release_helpers import run_cli

pytestmark = pytest.mark.e2e

CONFIG = """
[project]
name = "dd"

[services.api]
repository = "123456789012.dkr.ecr.us-east-1.amazonaws.com/dd-api"
image_strategy = "ssm-tag"

[environments.local]
region = "us-east-1"
emulator_endpoint = "http://127.0.0.1:1"
network = { use_default_vpc = true }
state = { backend = "local" }
"""
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/dd-api"


def test_both_deploy_paths_leave_the_same_state(
    emulator: Emulator, tf_setup: TerraformSetup, tmp_path: Path
) -> None:
    config = tmp_path / "ecs-cd.toml"
    config.write_text(CONFIG)
    outdir = tmp_path / "cdktf.out"
    ecr, ssm, ecs = emulator.client("ecr"), emulator.client("ssm"), emulator.client("ecs")

    def image() -> str:
        (service,) = ecs.describe_services(cluster="dd-local", services=["api"])["services"]
        task = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]
        return str(task["containerDefinitions"][0]["image"])

    def by_hand() -> str:
        env = tool_environment(
            tf_setup, emulator_endpoint=emulator.endpoint, extra={"ECS_CD_CONFIG": str(config)}
        )
        done = deploy("local", setup=tf_setup, env=env, outdir=outdir)
        output = "\n".join(plain(line) for line in (done.stdout + done.stderr).splitlines())
        assert done.returncode == 0, output[-4000:]
        return " ".join(output.split())

    push_image(ecr, "dd-api", "1.0.0")
    write_tag(ssm, "/api/local/docker-image-tag", "1.0.0")
    # GIVEN a first deploy through ecs-release, which runs Terraform itself
    first = run_cli(config, emulator.endpoint, "deploy", "local", "--output", str(outdir))
    assert first.exit_code == 0, first.stdout + first.stderr[-4000:]
    assert (first.json["via"], first.json["synthesis"]) == ("terraform", "ran")
    (outcome,) = first.json["stack_outcomes"]
    assert (outcome["stack"], outcome["init"], outcome["apply"]) == ("local", "ran", "applied")
    assert outcome["summary"].startswith("Apply complete! Resources: ")
    assert image() == f"{IMAGE}:1.0.0"
    # WHEN `cdktf deploy local` is run by hand on the same output directory
    hand = by_hand()
    # THEN Terraform, under cdktf, finds the state already what the configuration says
    assert "No changes. Your infrastructure matches the configuration." in hand, hand[-3000:]

    # GIVEN CI released 1.1.0 and it was deployed by hand with cdktf
    push_image(ecr, "dd-api", "1.1.0")
    write_tag(ssm, "/api/local/docker-image-tag", "1.1.0")
    applied = by_hand()
    assert "Apply complete! Resources: " in applied and "No changes." not in applied, applied[-3000:]
    assert image() == f"{IMAGE}:1.1.0"
    # WHEN ecs-release deploys again
    again = run_cli(config, emulator.endpoint, "deploy", "local", "--output", str(outdir))
    # THEN its Terraform finds nothing to change either: no new deployment is started
    assert again.exit_code == 0, again.stdout + again.stderr[-4000:]
    (outcome,) = again.json["stack_outcomes"]
    assert outcome["summary"].startswith("No changes."), again.stderr[-3000:]
    assert again.json["rollouts"] == []
    # AND it did not run `terraform init` again: providers and backend are unchanged (cdktf's
    # own runs in between left the directory initialised the same way)
    assert outcome["init"] == "skipped"
    # AND it reused the synthesis it had recorded: cdktf synthesized the same JSON meanwhile
    assert again.json["synthesis"] == "reused"
    assert "local: No changes." in again.stderr
