"""Adopting a service another Terraform configuration made (issue 27): a team's HCL with its own
state, as both articles this project started from have one. As the docs' "From another
Terraform configuration" says: `ecs-release adopt --from-state` reads their state, their
configuration forgets the resources (the docs' `removed` blocks, applied: nothing
destroyed), and ecs-cd's first deploy imports them. Real Terraform on both sides, the AWS
provider, the emulator; boto3 checks that the same service runs on, never replaced.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from devkit.emulator import ACCESS_KEY, SECRET_KEY, Emulator
from devkit.fake_ci import push_image
from ecs_cd.toolchain.cdktf_cli import tool_environment
from ecs_cd.toolchain.terraform_offline import TerraformSetup
from tests.reader_shell import readme_block
from tests.release_helpers import run_cli

pytestmark = pytest.mark.e2e

REPOSITORY = "123456789012.dkr.ecr.us-east-1.amazonaws.com/hcl-api"

# The team's own configuration: the provider pointed at the emulator, and the service's resources
# under the addresses the docs' removed blocks name.
THEIRS = """
terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = "5.100.0" }
  }
}

provider "aws" {
  region                      = "us-east-1"
  access_key                  = "%(key)s"
  secret_key                  = "%(secret)s"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_requesting_account_id  = true
  endpoints {
    ecs  = "%(endpoint)s"
    ec2  = "%(endpoint)s"
    iam  = "%(endpoint)s"
    logs = "%(endpoint)s"
    sts  = "%(endpoint)s"
  }
}

data "aws_vpc" "default" {
  default = true
}

data "aws_subnets" "default" {
  filter {
    name   = "vpc-id"
    values = [data.aws_vpc.default.id]
  }
}

"""
RESOURCES = """
resource "aws_ecs_cluster" "main" {
  name = "shop-prod"
}

resource "aws_cloudwatch_log_group" "api" {
  name = "/shop/api"
}

resource "aws_iam_role" "api_exec" {
  name = "shop-api-exec"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{
      Effect = "Allow", Principal = { Service = "ecs-tasks.amazonaws.com" }, Action = "sts:AssumeRole"
    }]
  })
}

resource "aws_security_group" "api" {
  name        = "shop-api"
  description = "api tasks"
  vpc_id      = data.aws_vpc.default.id
}

resource "aws_ecs_task_definition" "api" {
  family                   = "shop-api"
  network_mode             = "awsvpc"
  requires_compatibilities = ["FARGATE"]
  cpu                      = "256"
  memory                   = "512"
  execution_role_arn       = aws_iam_role.api_exec.arn
  container_definitions = jsonencode([{
    name         = "api"
    image        = "%(repository)s:1.0.0"
    essential    = true
    portMappings = [{ containerPort = 8080, protocol = "tcp" }]
    logConfiguration = {
      logDriver = "awslogs"
      options = { awslogs-group = "/shop/api", awslogs-region = "us-east-1", awslogs-stream-prefix = "api" }
    }
  }])
}

resource "aws_ecs_service" "api" {
  name            = "api"
  cluster         = aws_ecs_cluster.main.arn
  task_definition = aws_ecs_task_definition.api.arn
  desired_count   = 1
  launch_type     = "FARGATE"
  network_configuration {
    subnets          = data.aws_subnets.default.ids
    security_groups  = [aws_security_group.api.id]
    assign_public_ip = true
  }
}
"""

CONFIG = """
[project]
name = "shop"

[environments.prod]
region = "us-east-1"
emulator_endpoint = "http://127.0.0.1:1"
network = { use_default_vpc = true, assign_public_ip = true }
state = { backend = "local" }
"""


def terraform(where: Path, env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        ["terraform", *args, "-input=false", "-no-color"],
        cwd=where,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, f"terraform {' '.join(args)}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def adoption(
    emulator: Emulator, tf_setup: TerraformSetup, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """Their configuration applied, adopted from its state, forgotten there, deployed here."""
    root = tmp_path_factory.mktemp("adopt-hcl")
    theirs, ours = root / "their-terraform", root / "ecs-cd"
    theirs.mkdir()
    ours.mkdir()
    endpoint = emulator.endpoint
    head = THEIRS % {"endpoint": endpoint, "key": ACCESS_KEY, "secret": SECRET_KEY}
    (theirs / "main.tf").write_text(head + RESOURCES % {"repository": REPOSITORY})
    env = tool_environment(tf_setup)
    push_image(emulator.client("ecr"), "hcl-api", "1.0.0")
    terraform(theirs, env, "init")
    terraform(theirs, env, "apply", "-auto-approve")
    ecs = emulator.client("ecs")
    (made,) = ecs.describe_services(cluster="shop-prod", services=["api"])["services"]
    config = ours / "ecs-cd.toml"
    config.write_text(CONFIG)
    state = str(theirs / "terraform.tfstate")
    # WHEN ecs-cd adopts from their state (they still manage everything)
    adopted = run_cli(config, endpoint, "adopt", "prod", "--from-state", state, "--append")
    assert adopted.exit_code == 0, adopted.stdout + adopted.stderr
    # AND they forget the resources: the docs' removed blocks in place of their resource blocks
    (theirs / "main.tf").write_text(head + readme_block("adopt-removed", "hcl"))
    forgot = terraform(theirs, env, "apply", "-auto-approve")
    listed = subprocess.run(
        ["terraform", "state", "list"], cwd=theirs, env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    # AND ecs-cd deploys: the imports, then the release of the tag it runs
    tag = run_cli(config, endpoint, "set-tag", "prod", "api", "1.0.0")
    assert tag.exit_code == 0, tag.stdout + tag.stderr
    deployed = run_cli(config, endpoint, "deploy", "prod", "--wait", "--output", str(ours / "cdktf.out"))
    assert deployed.exit_code == 0, deployed.stdout + deployed.stderr[-5000:]
    (after,) = ecs.describe_services(cluster="shop-prod", services=["api"])["services"]
    return {
        "made": made,
        "after": after,
        "adopted": adopted.json,
        "forgot": forgot,
        "their_state": listed,
        "deployed": deployed.json,
    }


def test_adopt_reads_their_state_and_names_what_it_manages_too(adoption: dict[str, Any]) -> None:
    (service,) = adoption["adopted"]["services"]
    # THEN the service their state manages was adopted under its live names
    assert service["name"] == "api"
    assert service["ids"]["service"] == "shop-prod/api"
    assert service["names"] == {
        "task_family": "shop-api",
        "log_group": "/shop/api",
        "execution_role": "shop-api-exec",
        "security_group": "shop-api",
    }
    # AND what their state manages too is named, with how to make it forget
    (shared,) = [n for n in service["notes"] if "manages" in n]
    for address in ("aws_cloudwatch_log_group.api", "aws_iam_role.api_exec", "aws_security_group.api"):
        assert address in shared


def test_their_configuration_forgets_without_destroying(adoption: dict[str, Any]) -> None:
    # THEN their apply of the removed blocks destroyed nothing, and their state keeps no resource
    assert re.search(r"Apply complete! Resources: 0 added, 0 changed, 0 destroyed", adoption["forgot"])
    assert [a for a in adoption["their_state"] if not a.startswith("data.")] == []


def test_the_first_deploy_imports_and_replaces_nothing(adoption: dict[str, Any]) -> None:
    (outcome,) = adoption["deployed"]["stack_outcomes"]
    # THEN Terraform imported, added and changed, and destroyed nothing
    summary = outcome["summary"]
    assert re.fullmatch(
        r"Apply complete! Resources: \d+ imported, \d+ added, \d+ changed, 0 destroyed\.", summary
    )
    imported = int(summary.split("Resources: ")[1].split()[0])
    assert imported == 5  # cluster, service, log group, role, security group: never the task definition
    # AND the same service runs on, now on the second revision of its family
    made, after = adoption["made"], adoption["after"]
    assert after["serviceArn"] == made["serviceArn"]
    assert after["taskDefinition"].endswith(":task-definition/shop-api:2")
    assert after["networkConfiguration"] == made["networkConfiguration"]
    assert json.dumps(adoption["deployed"]).count("REPLACE") == 0
