"""A `digest` service whose ECR repository is in another region than its environment (issue 13),
end to end on the emulator: the digest lookup asks ECR in the repository's region (a provider
for it), where before it asked the environment's region and failed at plan."""

from __future__ import annotations

from pathlib import Path

import pytest

from devkit.emulator import Emulator
from devkit.fake_ci import push_image, write_tag
from ecs_cd.core import names
from tests.release_helpers import run_release_process

pytestmark = pytest.mark.e2e

REPOSITORY = "123456789012.dkr.ecr.us-west-2.amazonaws.com/far-api"
CONFIG = f"""
[project]
name = "far"

[services.api]
repository = "{REPOSITORY}"
image_strategy = "digest"
container_port = 8080

[environments.local]
region = "us-east-1"
emulator_endpoint = "http://127.0.0.1:5000"
log_retention_days = 1
network = {{ use_default_vpc = true, assign_public_ip = true }}
state = {{ backend = "local", path = "terraform.far.tfstate" }}
"""


def test_a_repository_in_another_region_resolves_there(emulator: Emulator, tmp_path: Path) -> None:
    # GIVEN the image pushed to ECR in us-west-2 and its tag in SSM in the environment's us-east-1
    digest = push_image(emulator.client("ecr", region="us-west-2"), "far-api", "1.0.0")
    write_tag(emulator.client("ssm"), names.image_tag_parameter("api", "local"), "1.0.0")
    config = tmp_path / "ecs-cd.toml"
    config.write_text(CONFIG)
    env = {"ECS_CD_CONFIG": str(config), "ECS_CD_EMULATOR_ENDPOINT": emulator.endpoint}
    # AND the release command line verifies it there too
    verified = run_release_process(env, "set-tag", "local", "api", "1.0.0", "--verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    # WHEN the environment deploys
    run = run_release_process(env, "deploy", "local", "--output", str(tmp_path / "out"))
    # THEN the task runs the image by the digest ECR in us-west-2 gave
    assert run.returncode == 0, run.stdout + run.stderr[-6000:]
    ecs = emulator.client("ecs")
    (service,) = ecs.describe_services(cluster=names.cluster_name("far", "local"), services=["api"])[
        "services"
    ]
    task = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]
    assert task["containerDefinitions"][0]["image"] == f"{REPOSITORY}@{digest}"
