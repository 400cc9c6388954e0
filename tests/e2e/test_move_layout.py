"""`ecs-release move-layout` on the emulator: an environment deployed as one stack is moved to a
stack per service after `stack_per_service = true`, then back, with the real Terraform and AWS
provider; no service is replaced or redeployed, and the next deploy has nothing to change."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from devkit.emulator import Emulator
from devkit.fake_ci import push_image, write_tag
from devkit.load_balancer import ExistingLoadBalancer
from tests.release_helpers import run_cli

pytestmark = pytest.mark.e2e

CLUSTER = "mv-dev"
# One service, with the resources whose import ids take the most building (a target group and its
# listener rule, a scalable target and its policy): one service's stack proves the move; each more
# would cost another stack's plan and apply in every step.
SERVICES = ("api",)


def config_text(balancer: ExistingLoadBalancer, *, split: bool) -> str:
    return f"""
[project]
name = "mv"

[services.api]
repository = "123456789012.dkr.ecr.us-east-1.amazonaws.com/mv-api"
image_strategy = "ssm-tag"
container_port = 8080
load_balancer = {{ path_patterns = ["/mv/*"], priority = 31 }}
autoscaling = {{ min_capacity = 1, max_capacity = 2, cpu_target_percent = 60 }}

[environments.dev]
region = "us-east-1"
emulator_endpoint = "http://127.0.0.1:1"
stack_per_service = {"true" if split else "false"}
network = {{ use_default_vpc = true }}
state = {{ backend = "local" }}
load_balancer = {balancer.setting}
"""


def services(emulator: Emulator) -> dict[str, tuple[Any, ...]]:
    """Each service's ARN, task definition and deployments (id, creation time)."""
    found = emulator.client("ecs").describe_services(cluster=CLUSTER, services=list(SERVICES))["services"]
    return {
        s["serviceName"]: (
            s["serviceArn"],
            s["taskDefinition"],
            sorted((d["id"], str(d["createdAt"])) for d in s["deployments"]),
        )
        for s in found
    }


def state_addresses(outdir: Path, stack: str) -> set[str]:
    state = json.loads((outdir / "stacks" / stack / "terraform.tfstate").read_text())
    return {f"{r['type']}.{r['name']}" for r in state["resources"] if r["mode"] == "managed"}


def stack_addresses(outdir: Path, stack: str) -> set[str]:
    document = json.loads((outdir / "move-layout" / "stacks" / stack / "cdk.tf.json").read_text())
    return {f"{kind}.{name}" for kind, named in document["resource"].items() for name in named}


def deploy_changes_nothing(config: Path, emulator: Emulator, outdir: Path, stacks: list[str]) -> None:
    deployed = run_cli(config, emulator.endpoint, "deploy", "dev", "--no-verify", "--output", str(outdir))
    assert deployed.exit_code == 0, deployed.stdout + deployed.stderr[-4000:]
    outcomes = [(o["stack"], o["summary"].split(".")[0]) for o in deployed.json["stack_outcomes"]]
    assert outcomes == [(stack, "No changes") for stack in stacks], deployed.stderr[-4000:]
    assert deployed.json["rollouts"] == []


def test_one_stack_to_a_stack_per_service_and_back_replaces_nothing(
    emulator: Emulator, existing_lb: ExistingLoadBalancer, tmp_path: Path
) -> None:
    for service in SERVICES:
        push_image(emulator.client("ecr"), f"mv-{service}", "1.0.0")
        write_tag(emulator.client("ssm"), f"/{service}/dev/docker-image-tag", "1.0.0")
    config, outdir = tmp_path / "ecs-cd.toml", tmp_path / "out"
    # GIVEN an environment deployed as one stack, with two services
    config.write_text(config_text(existing_lb, split=False))
    first = run_cli(config, emulator.endpoint, "deploy", "dev", "--no-verify", "--output", str(outdir))
    assert first.exit_code == 0, first.stdout + first.stderr[-4000:]
    before = services(emulator)
    one_stack = state_addresses(outdir, "dev")
    # WHEN stack_per_service is flipped on (--dry-run, which applies nothing: unit tests), and the
    # move runs
    config.write_text(config_text(existing_lb, split=True))
    moved = run_cli(config, emulator.endpoint, "move-layout", "dev", "--output", str(outdir))
    # THEN each service's stack imported its resources, and the environment's forgot them
    assert moved.exit_code == 0, moved.stdout + moved.stderr[-4000:]
    assert [(s["stack"], s["applied"]) for s in moved.json["stacks"]] == [("dev-api", True), ("dev", True)]
    assert moved.json["moved"] == len(one_stack) - 1  # all but the cluster
    plans = {s["stack"]: s["plan"] for s in moved.json["stacks"]}
    assert plans["dev"]["to forget"] == len(one_stack) - 1
    assert plans["dev-api"]["to import"] == len(one_stack) - 1
    assert all(p["to destroy"] == p["to replace"] == p["to create"] == 0 for p in plans.values()), plans
    assert "dev-api: imported" in moved.stderr and "dev: forgot" in moved.stderr
    for service in SERVICES:
        assert state_addresses(outdir, f"dev-{service}") == stack_addresses(outdir, f"dev-{service}")
    assert state_addresses(outdir, "dev") == {a for a in one_stack if a.startswith("aws_ecs_cluster.")}
    # AND the services are the very same: same ARN, same revision, the same deployments (no new
    # revision was registered: with ssm-tag the task definition is unchanged, so nothing restarted)
    assert services(emulator) == before
    # AND the next deploy has nothing to change in any stack
    deploy_changes_nothing(config, emulator, outdir, ["dev", "dev-api"])
    # WHEN it is flipped back and moved again
    config.write_text(config_text(existing_lb, split=False))
    back = run_cli(config, emulator.endpoint, "move-layout", "dev", "--output", str(outdir))
    # THEN the environment's stack holds everything again, the services' stacks nothing
    assert back.exit_code == 0, back.stdout + back.stderr[-4000:]
    assert [(s["stack"], s["role"]) for s in back.json["stacks"]] == [
        ("dev", "destination"),
        ("dev-api", "source"),
    ]
    assert all(s["plan"]["to destroy"] == s["plan"]["to replace"] == 0 for s in back.json["stacks"])
    assert state_addresses(outdir, "dev") == one_stack
    assert state_addresses(outdir, "dev-api") == set()
    assert services(emulator) == before
    # AND a second run has nothing left to move
    again = run_cli(config, emulator.endpoint, "move-layout", "dev", "--output", str(outdir))
    assert again.exit_code == 0 and again.json["stacks"] == [], again.stdout + again.stderr[-4000:]
    deploy_changes_nothing(config, emulator, outdir, ["dev"])
    assert services(emulator) == before
