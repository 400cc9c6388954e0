"""The pipeline end to end: `set-tag` then `deploy local --wait` through the real cdktf CLI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from devkit.emulator import Emulator
from devkit.fake_ci import create_secrets, push_image
from devkit.load_balancer import ExistingLoadBalancer, attach
from ecs_cd.toolchain.cdktf_cli import PROJECT_DIR
from tests.release_helpers import run_cli

pytestmark = pytest.mark.e2e
SHIPPED = PROJECT_DIR / "config" / "ecs-cd.toml"
REPOSITORY = "123456789012.dkr.ecr.us-east-1.amazonaws.com/demo-api"


def _running(emulator: Emulator) -> tuple[str, str, dict[str, Any]]:
    """(task definition, image, PRIMARY deployment) of the api service."""
    ecs = emulator.client("ecs")
    (service,) = ecs.describe_services(cluster="demo-local", services=["api"])["services"]
    task = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]
    (primary,) = [d for d in service["deployments"] if d["status"] == "PRIMARY"]
    return service["taskDefinition"], task["containerDefinitions"][0]["image"], primary


def test_set_tag_then_deploy_wait_runs_the_new_image(
    emulator: Emulator, existing_lb: ExistingLoadBalancer, tmp_path: Path
) -> None:
    outdir = tmp_path / "cdktf.out"
    # The shipped configuration, behind a load balancer that already exists (not this test's subject)
    config = tmp_path / "ecs-cd.toml"
    config.write_text(attach(SHIPPED.read_text(encoding="utf-8"), "local", existing_lb), encoding="utf-8")
    ecr = emulator.client("ecr")
    # GIVEN the account has the secret the shipped configuration names (`deploy` verifies it)
    secret = "arn:aws:ssm:us-east-1:123456789012:parameter/demo/local/api/db-password"
    create_secrets(lambda region: emulator.client("ssm", region), [secret])
    revisions = []
    for tag in ("5.0.0", "5.0.1"):
        # GIVEN CI pushed the image and set its tag (verified against ECR)
        push_image(ecr, "demo-api", tag)
        written = run_cli(config, emulator.endpoint, "set-tag", "local", "api", tag, "--verify")
        assert written.exit_code == 0, written.stdout + written.stderr
        # WHEN the pipeline deploys and waits
        deployed = run_cli(
            config, emulator.endpoint, "deploy", "local", "--wait", "--poll", "0.2", "--output", str(outdir)
        )
        # THEN the rollout of the deployment it started completed, on the new image
        assert deployed.exit_code == 0, deployed.stdout + deployed.stderr[-4000:]
        # AND the second release, a new tag only, reused the first one's synthesis
        assert deployed.json["synthesis"] == ("ran" if tag == "5.0.0" else "reused")
        (rollout,) = deployed.json["rollouts"]
        assert (rollout["service"], rollout["outcome"]) == ("api", "COMPLETED")
        task_definition, image, primary = _running(emulator)
        assert image == f"{REPOSITORY}:{tag}"
        # AND it followed the PRIMARY deployment, which runs the service's new revision
        assert rollout["deployment_id"] == primary["id"]
        assert rollout["task_definition"] == primary["taskDefinition"] == task_definition
        revisions.append(int(task_definition.rsplit(":", 1)[1]))
        assert "Apply complete!" in deployed.stderr  # Terraform's output went to stderr, not stdout
        # AND `status` shows that deployment, COMPLETED, on the revision the service runs
        status = run_cli(config, emulator.endpoint, "status", "local")
        assert status.exit_code == 0, status.stdout + status.stderr
        (api,) = [s for s in status.json["services"] if s["service"] == "api"]
        assert api["task_definition"] == task_definition and api["images"] == [image]
        shown = [(d["id"], d["status"], d["rollout_state"], d["task_definition"]) for d in api["deployments"]]
        assert shown == [(primary["id"], "PRIMARY", "COMPLETED", task_definition)]
    assert revisions[1] == revisions[0] + 1
