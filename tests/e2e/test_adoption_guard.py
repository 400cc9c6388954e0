"""The adoption guard with the real Terraform and AWS provider on the emulator: a service made by
hand is adopted by a stack (an import block), and a plan that would replace it is not applied.

The configuration side that writes import blocks is not here yet, so the test adds them to the
synthesized cdk.tf.json itself, as cdktf 0.21 emits them: a top-level ``"import"`` list of
``{"to": ADDRESS, "id": IMPORT_ID}``. The hand-made service runs on the EC2 launch type while the
configuration's is Fargate: ``launch_type`` forces a replacement, which the guard refuses. The
stack is applied by the direct runner (ecs_cd/release/terraform_run.py, what `ecs-release deploy`
starts), so the whole path is the deploy's: init, plan to a file, show -json, the guard.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from devkit.emulator import Emulator
from devkit.fake_ci import push_image, write_tag
from devkit.terraform import synthesize
from ecs_cd.release.plan_guard import refusal_message
from ecs_cd.release.terraform_run import read_report
from ecs_cd.toolchain.cdktf_cli import tool_environment
from ecs_cd.toolchain.terraform_offline import TerraformSetup

pytestmark = pytest.mark.e2e

CONFIG = """
[project]
name = "adopt"

[services.api]
repository = "123456789012.dkr.ecr.us-east-1.amazonaws.com/adopt-api"
image_strategy = "ssm-tag"

[environments.local]
region = "us-east-1"
emulator_endpoint = "http://127.0.0.1:1"
network = { use_default_vpc = true }
state = { backend = "local" }
"""
CLUSTER, SERVICE = "adopt-local", "api"


def address_of(document: dict[str, Any], kind: str) -> str:
    (name,) = document["resource"][kind]
    return f"{kind}.{name}"


def test_a_plan_replacing_an_adopted_service_is_refused_and_nothing_changes(
    emulator: Emulator, tf_setup: TerraformSetup, tmp_path: Path
) -> None:
    ecs = emulator.client("ecs")
    push_image(emulator.client("ecr"), "adopt-api", "1.0.0")
    write_tag(emulator.client("ssm"), "/api/local/docker-image-tag", "1.0.0")
    # GIVEN a cluster and a service made by hand, on the EC2 launch type
    ecs.create_cluster(clusterName=CLUSTER)
    task = ecs.register_task_definition(
        family="api-by-hand",
        containerDefinitions=[{"name": "api", "image": "busybox", "memory": 128}],
    )["taskDefinition"]["taskDefinitionArn"]
    ecs.create_service(
        cluster=CLUSTER, serviceName=SERVICE, taskDefinition=task, desiredCount=1, launchType="EC2"
    )
    (before,) = ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"]
    # AND a stack of a configuration with the same names (a Fargate service), adopting both
    config = tmp_path / "ecs-cd.toml"
    config.write_text(CONFIG)
    env = tool_environment(
        tf_setup, emulator_endpoint=emulator.endpoint, extra={"ECS_CD_CONFIG": str(config)}
    )
    outdir = tmp_path / "out"
    synthesize(config, outdir, env)
    stack = outdir / "stacks" / "local" / "cdk.tf.json"
    document = json.loads(stack.read_text())
    service = address_of(document, "aws_ecs_service")
    document["import"] = [
        {"to": address_of(document, "aws_ecs_cluster"), "id": CLUSTER},
        {"to": service, "id": f"{CLUSTER}/{SERVICE}"},
    ]
    stack.write_text(json.dumps(document))
    # WHEN the deploy's runner applies the stack
    report = tmp_path / "report.json"
    ran = subprocess.run(
        [
            *(sys.executable, "-m", "ecs_cd.release.terraform_run"),
            *("--stacks-dir", str(outdir / "stacks"), "--report", str(report), "local"),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    # THEN it fails, refusing the replacement of the adopted service because of its launch type
    assert ran.returncode == 1, ran.stdout[-4000:] + ran.stderr[-2000:]
    (outcome,) = read_report(report)
    assert outcome.apply == "refused", outcome
    (refusal,) = outcome.refusals
    assert (refusal.address, refusal.import_id, refusal.action) == (service, "adopt-local/api", "replace")
    assert "launch_type" in refusal.attributes, refusal
    message = refusal_message("local", outcome.refusals)
    assert (
        f"local: refusing to apply: the plan would replace {service} (adopted from adopt-local/api)"
        in message
    )
    assert message.splitlines()[-1].startswith("local: nothing was applied")
    # AND Terraform's output showed the same line, and no apply ran
    assert f"refusing to apply: the plan would replace {service}" in ran.stdout
    assert "Apply complete!" not in ran.stdout and "Creating..." not in ran.stdout
    # AND the hand-made service is untouched: the same task definition, the same deployment created
    # at the same time (the emulator gives a service no createdAt: its deployment's stands in), EC2
    (after,) = ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"]

    def kept(svc: dict[str, Any]) -> tuple[Any, ...]:
        deployments = [(d["id"], d["createdAt"], d["taskDefinition"]) for d in svc["deployments"]]
        return svc["serviceArn"], svc["taskDefinition"], svc["launchType"], svc["status"], deployments

    assert kept(after) == kept(before)
    assert (after["taskDefinition"], after["launchType"]) == (task, "EC2")
