"""An environment in another AWS account, reached through a role (issue 13), end to end on the
emulator: moto keeps one set of resources per account and answers AssumeRole with credentials
of the role's account. Terraform's provider assumes the role, the timestamp redeploy's `aws`
command assumes it too, and `ecs-release` acts there, behind the account guard."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from core import names
from devkit.emulator import Emulator
from tests.release_helpers import run_release_process

pytestmark = pytest.mark.e2e

SECOND_ACCOUNT = "222222222222"
ROLE = f"arn:aws:iam::{SECOND_ACCOUNT}:role/deployer"
CONFIG = f"""
[project]
name = "acct"

[services.api]
repository = "{SECOND_ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/acct-api"
container_port = 8080

[environments.local]
region = "us-east-1"
emulator_endpoint = "http://127.0.0.1:5000"
log_retention_days = 1
network = {{ use_default_vpc = true, assign_public_ip = true }}
state = {{ backend = "local", path = "terraform.acct.tfstate" }}
aws = {{ account_id = "{SECOND_ACCOUNT}", role_arn = "{ROLE}", session_name = "ci-7" }}
"""


def in_second_account(emulator: Emulator, service: str) -> Any:
    creds = emulator.client("sts").assume_role(RoleArn=ROLE, RoleSessionName="test")["Credentials"]
    return boto3.client(
        service,
        region_name="us-east-1",
        endpoint_url=emulator.endpoint,
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )


def test_the_environment_deploys_into_the_roles_account(emulator: Emulator, tmp_path: Any) -> None:
    # GIVEN CI wrote the tag in the environment's account, through ecs-release and the role
    config = tmp_path / "ecs-cd.toml"
    config.write_text(CONFIG)
    env = {"ECS_CD_CONFIG": str(config), "ECS_CD_EMULATOR_ENDPOINT": emulator.endpoint}
    tagged = run_release_process(env, "set-tag", "local", "api", "1.0.0")
    assert tagged.returncode == 0, tagged.stdout + tagged.stderr
    # WHEN the environment deploys and the rollout is followed
    run = run_release_process(
        env, "deploy", "local", "--wait", "--poll", "0.2", "--output", str(tmp_path / "out")
    )
    # THEN Terraform, the redeploy command and the rollout check all worked in that account
    assert run.returncode == 0, run.stdout + run.stderr[-6000:]
    cluster = names.cluster_name("acct", "local")
    ecs = in_second_account(emulator, "ecs")
    (service,) = ecs.describe_services(cluster=cluster, services=["api"])["services"]
    assert service["taskDefinition"].split(":")[4] == SECOND_ACCOUNT
    assert "null_resource" in run.stderr and "Creation complete" in run.stderr
    # AND nothing was created in the credentials' own account
    assert emulator.client("ecs").list_clusters()["clusterArns"] == []
