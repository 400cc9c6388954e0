"""An environment split into one stack per service: the services' pipelines deploy in
parallel, each with its own state object and lock, on the emulator's S3."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from devkit.emulator import Emulator
from devkit.fake_ci import push_image, write_tag
from tests.release_helpers import run_release_process

pytestmark = pytest.mark.e2e

CONFIG = """
[project]
name = "sp"

[services.api]
repository = "123456789012.dkr.ecr.us-east-1.amazonaws.com/sp-api"
image_strategy = "ssm-tag"

[services.worker]
repository = "123456789012.dkr.ecr.us-east-1.amazonaws.com/sp-worker"
image_strategy = "ssm-tag"

[environments.dev]
region = "us-east-1"
emulator_endpoint = "http://127.0.0.1:1"
stack_per_service = true
network = { use_default_vpc = true }
state = { backend = "s3", bucket = "sp-state", key = "ecs-cd/dev.tfstate", region = "us-east-1" }
"""


def test_service_stacks_deploy_in_parallel_with_separate_states(emulator: Emulator, tmp_path: Path) -> None:
    config = tmp_path / "split.toml"
    config.write_text(CONFIG)
    for service in ("api", "worker"):
        push_image(emulator.client("ecr"), f"sp-{service}", "1.0.0")
        write_tag(emulator.client("ssm"), f"/{service}/dev/docker-image-tag", "1.0.0")
    env = {"ECS_CD_CONFIG": str(config), "ECS_CD_EMULATOR_ENDPOINT": emulator.endpoint}

    def release(*args: str) -> tuple[int, str, float, float]:
        done = run_release_process(env, *args)
        output = done.stdout if done.returncode == 0 else done.stderr[-3000:]
        return done.returncode, output, done.started, done.ended

    assert release("bootstrap", "dev")[0] == 0
    # GIVEN the environment's cluster stack deployed
    code, out, _, _ = release("deploy", "dev", "--parallel", "1", "--output", str(tmp_path / "all"))
    assert code == 0, out
    assert json.loads(out)["stacks"] == ["dev", "dev-api", "dev-worker"]
    assert json.loads(out)["parallel"] == 1  # one stack at a time
    # the cluster stack first, then each service's, each applied and reported
    outcomes = json.loads(out)["stack_outcomes"]
    assert [(o["stack"], o["init"], o["apply"]) for o in outcomes] == [
        ("dev", "ran", "applied"),
        ("dev-api", "ran", "applied"),
        ("dev-worker", "ran", "applied"),
    ]
    # (its three stacks took three locks in turn, all its own: no wait is reported)
    assert json.loads(out)["lock_waits"] == []
    # WHEN api's CI released 1.1.0, and each service's pipeline deploys only its own stack,
    # at the same time
    push_image(emulator.client("ecr"), "sp-api", "1.1.0")
    write_tag(emulator.client("ssm"), "/api/dev/docker-image-tag", "1.1.0")
    with ThreadPoolExecutor(max_workers=2) as pool:
        api, worker = pool.map(
            lambda s: release(
                "deploy", "dev", "--service", s, "--wait", "--poll", "0.2", "--output", str(tmp_path / s)
            ),
            ["api", "worker"],
        )
    # THEN both succeed, overlapping in time, each with its own state object
    assert api[0] == 0, api[1]
    assert worker[0] == 0, worker[1]
    assert api[2] < worker[3] and worker[2] < api[3]
    assert json.loads(api[1])["stacks"] == ["dev-api"]
    (rollout,) = json.loads(api[1])["rollouts"]
    assert (rollout["service"], rollout["outcome"]) == ("api", "COMPLETED")
    assert json.loads(worker[1])["rollouts"] == []  # nothing changed for worker
    # separate locks: neither pipeline waited for the other
    assert json.loads(api[1])["lock_waits"] == json.loads(worker[1])["lock_waits"] == []
    keys = {o["Key"] for o in emulator.client("s3").list_objects_v2(Bucket="sp-state")["Contents"]}
    assert keys == {"ecs-cd/dev.tfstate", "ecs-cd/dev/api.tfstate", "ecs-cd/dev/worker.tfstate"}
    ecs = emulator.client("ecs")
    services = ecs.describe_services(cluster="sp-dev", services=["api", "worker"])["services"]
    assert sorted(s["serviceName"] for s in services) == ["api", "worker"]
