"""A resource that exists in AWS but not in the state (issue 16), end to end on the emulator.

A killed first apply leaves exactly this: the log group was created, the state never heard of
it, and every later deploy fails with "already exists". `ecs-release deploy` must name the
resource and print an import command that works as printed; after it, the deploy converges.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from core import names
from devkit.emulator import Emulator
from devkit.fake_ci import push_image, write_tag
from release.errors import DEPLOY_FAILED
from tests.release_helpers import ProcessRun, run_release_process

pytestmark = pytest.mark.e2e

CONFIG = """
[project]
name = "ae"

[services.api]
repository = "123456789012.dkr.ecr.us-east-1.amazonaws.com/ae-api"
container_port = 8080

[environments.local]
region = "us-east-1"
emulator_endpoint = "http://127.0.0.1:5000"
log_retention_days = 1
network = { use_default_vpc = true, assign_public_ip = true }
state = { backend = "local", path = "terraform.ae.tfstate" }
"""
LOG_GROUP = names.log_group_name("ae", "local", "api")


def test_an_orphaned_log_group_is_named_with_an_import_command_that_works(
    emulator: Emulator, tmp_path: Path
) -> None:
    # GIVEN a log group left in AWS by a killed first apply, and a released image
    config = tmp_path / "ecs-cd.toml"
    config.write_text(CONFIG)
    push_image(emulator.client("ecr"), "ae-api", "1.0.0")
    write_tag(emulator.client("ssm"), names.image_tag_parameter("api", "local"), "1.0.0")
    emulator.client("logs").create_log_group(logGroupName=LOG_GROUP)
    outdir = tmp_path / "cdktf.out"

    def deploy() -> ProcessRun:
        env = {"ECS_CD_CONFIG": str(config), "ECS_CD_EMULATOR_ENDPOINT": emulator.endpoint}
        return run_release_process(env, "deploy", "local", "--output", str(outdir))

    # WHEN the environment deploys
    failed = deploy()
    # THEN it fails (exit 5) naming the resource, its address and the import command
    assert failed.returncode == DEPLOY_FAILED, failed.stdout + failed.stderr[-4000:]
    error = failed.json["error"]
    assert f"already in AWS but not in the Terraform state: CloudWatch Logs Log Group {LOG_GROUP} (" in error
    assert "Terraform may have applied part of the plan" in error
    (found,) = failed.json["already_exists"]
    assert found["address"].startswith("aws_cloudwatch_log_group.") and found["name"] == LOG_GROUP
    assert found["import"] in error
    # WHEN the printed command runs in a plain shell, as printed
    imported = subprocess.run(
        ["sh", "-c", found["import"]], env=dict(os.environ), capture_output=True, text=True, timeout=300
    )
    assert imported.returncode == 0, imported.stdout + imported.stderr
    assert "Import successful" in imported.stdout
    # THEN the next deploy converges, and the state holds the log group AWS had
    again = deploy()
    assert again.returncode == 0, again.stdout + again.stderr[-4000:]
    groups = emulator.client("logs").describe_log_groups(logGroupNamePrefix=LOG_GROUP)["logGroups"]
    assert [g["logGroupName"] for g in groups] == [LOG_GROUP]
    assert groups[0]["retentionInDays"] == 1  # the deploy brought the imported group to its settings
