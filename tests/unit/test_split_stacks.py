"""An environment split into one stack per service: separate states, shared cluster."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from cdktf import Testing

from ecs_cd.core.names import service_state_key
from stacks.app import build_app
from stacks.environment_stack import EnvironmentStack, ServiceStack
from stacks.settings import Settings, settings_from_dict

CONFIG = """
[project]
name = "sp"
[services.api]
repository = "123456789012.dkr.ecr.us-east-1.amazonaws.com/sp-api"
[services.worker]
repository = "123456789012.dkr.ecr.us-east-1.amazonaws.com/sp-worker"
image_strategy = "ssm-tag"
[environments.dev]
region = "eu-west-1"
stack_per_service = true
network = { vpc_id = "vpc-0a1b2c3d4e5f60718", subnet_ids = ["subnet-0a1b2c3d4e5f60718"] }
state = { backend = "s3", bucket = "sp-state", key = "ecs-cd/dev.tfstate", region = "eu-west-1" }
[environments.prod]
region = "eu-west-1"
network = { vpc_id = "vpc-0a1b2c3d4e5f60718", subnet_ids = ["subnet-0a1b2c3d4e5f60718"] }
state = { backend = "s3", bucket = "sp-state", key = "ecs-cd/prod.tfstate", region = "eu-west-1" }
"""


@pytest.fixture(scope="module")
def settings() -> Settings:
    return settings_from_dict(tomllib.loads(CONFIG), file="c")


def test_environment_stack_keeps_only_the_cluster(settings: Settings) -> None:
    env = settings.environments["dev"]
    stack = EnvironmentStack(
        Testing.app(), "dev", project="sp", environment=env, null_provider_version="3.2.4"
    )
    out = json.loads(Testing.synth(stack))
    assert set(out["resource"]) == {"aws_ecs_cluster"}
    assert out["terraform"]["backend"]["s3"]["key"] == "ecs-cd/dev.tfstate"


def test_service_stack_has_its_own_state_and_looks_up_the_cluster(settings: Settings) -> None:
    env = settings.environments["dev"]
    service = env.service("worker")
    stack = ServiceStack(
        Testing.app(),
        "dev-worker",
        project="sp",
        environment=env,
        service=service,
        null_provider_version="3.2.4",
    )
    out = json.loads(Testing.synth(stack))
    assert out["terraform"]["backend"]["s3"]["key"] == "ecs-cd/dev/worker.tfstate"
    assert out["terraform"]["backend"]["s3"]["use_lockfile"] is True
    (lookup_key, lookup) = next(iter(out["data"]["aws_ecs_cluster"].items()))
    assert lookup == {"cluster_name": "sp-dev"}
    (svc,) = out["resource"]["aws_ecs_service"].values()
    assert svc["cluster"] == f"${{data.aws_ecs_cluster.{lookup_key}.arn}}"
    assert svc["name"] == "worker"
    assert "aws_ecs_cluster" not in out["resource"]


def test_service_stack_refuses_an_unsplit_environment(settings: Settings) -> None:
    env = settings.environments["prod"]
    with pytest.raises(ValueError, match="not split per service"):
        ServiceStack(
            Testing.app(),
            "prod-api",
            project="sp",
            environment=env,
            service=env.service("api"),
            null_provider_version="x",
        )


def test_app_names_service_stacks_and_orders_them_after_the_cluster(
    settings: Settings, tmp_path: Path
) -> None:
    app = build_app(settings, outdir=str(tmp_path))
    app.synth()
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    stacks = manifest["stacks"]
    assert sorted(stacks) == ["dev", "dev-api", "dev-worker", "prod"]
    assert stacks["dev-api"]["dependencies"] == ["dev"]
    assert stacks["prod"]["dependencies"] == []


@pytest.mark.parametrize(
    ("key", "expected"),
    [("ecs-cd/dev.tfstate", "ecs-cd/dev/api.tfstate"), ("state/dev", "state/dev/api.tfstate")],
)
def test_service_state_keys(key: str, expected: str) -> None:
    assert service_state_key(key, "api") == expected
