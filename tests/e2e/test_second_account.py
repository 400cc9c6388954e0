"""An environment in another AWS account, reached through a role (issue 13), end to end on the
emulator: moto keeps one set of resources per account and answers AssumeRole with credentials
of the role's account. `ecs-release bootstrap` creates the state bucket there, Terraform's
provider and S3 backend assume the role, the timestamp redeploy's `aws` command assumes it too,
and `ecs-release` acts there, behind the account guard. The same deploy carries the project's,
the environment's and the service's tags (one deploy, four tests)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from devkit.emulator import Emulator
from devkit.fake_ci import push_image
from ecs_cd.core import names
from ecs_cd.toolchain.cdktf_cli import deploy, tool_environment
from ecs_cd.toolchain.terraform_offline import TerraformSetup
from tests.release_helpers import ProcessRun, readme_sample, run_release_process

pytestmark = pytest.mark.e2e


SECOND_ACCOUNT = "222222222222"
ROLE = f"arn:aws:iam::{SECOND_ACCOUNT}:role/deployer"
BUCKET, KEY = "acct-second-state", "acct/local.tfstate"
STATE = f'state = {{ backend = "s3", bucket = "{BUCKET}", key = "{KEY}", region = "us-east-1" }}'
CONFIG = f"""
[project]
name = "acct"
tags = {{ CostCenter = "4711" }}

[services.api]
repository = "{SECOND_ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/acct-api"
container_port = 8080
tags = {{ Team = "payments" }}

[environments.local]
region = "us-east-1"
emulator_endpoint = "http://127.0.0.1:5000"
log_retention_days = 1
network = {{ use_default_vpc = true, assign_public_ip = true }}
{STATE}
aws = {{ account_id = "{SECOND_ACCOUNT}", role_arn = "{ROLE}", session_name = "ci-7" }}
tags = {{ Stage = "local" }}
"""
EXPECTED_TAGS = {
    "Project": "acct",
    "Environment": "local",
    "ManagedBy": "ecs-cd",
    "CostCenter": "4711",
    "Stage": "local",
    "Service": "api",
    "Team": "payments",
}


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


@dataclass(frozen=True)
class Deployed:
    run: ProcessRun
    emulator: Emulator
    config: Path

    def client(self, service: str) -> Any:
        return in_second_account(self.emulator, service)


@pytest.fixture(scope="module")
def deployed(emulator: Emulator, tmp_path_factory: pytest.TempPathFactory) -> Deployed:
    # GIVEN CI wrote the tag in the environment's account, through ecs-release and the role
    work = tmp_path_factory.mktemp("second-account")
    config = work / "ecs-cd.toml"
    config.write_text(CONFIG)
    env = {"ECS_CD_CONFIG": str(config), "ECS_CD_EMULATOR_ENDPOINT": emulator.endpoint}
    # (the state bucket bootstrapped in that account, the image in the account's own ECR:
    # `deploy` verifies both)
    bootstrapped = run_release_process(env, "bootstrap", "local")
    assert bootstrapped.returncode == 0, bootstrapped.stdout + bootstrapped.stderr
    push_image(in_second_account(emulator, "ecr"), "acct-api", "1.0.0")
    tagged = run_release_process(env, "set-tag", "local", "api", "1.0.0")
    assert tagged.returncode == 0, tagged.stdout + tagged.stderr
    # WHEN the environment deploys and the rollout is followed
    run = run_release_process(
        env, "deploy", "local", "--wait", "--poll", "0.2", "--output", str(work / "out")
    )
    assert run.returncode == 0, run.stdout + run.stderr[-6000:]
    return Deployed(run, emulator, config)


def test_the_environment_deploys_into_the_roles_account(deployed: Deployed) -> None:
    # THEN Terraform, the redeploy command and the rollout check all worked in that account
    cluster = names.cluster_name("acct", "local")
    (service,) = deployed.client("ecs").describe_services(cluster=cluster, services=["api"])["services"]
    assert service["taskDefinition"].split(":")[4] == SECOND_ACCOUNT
    assert "null_resource" in deployed.run.stderr and "Creation complete" in deployed.run.stderr
    # AND nothing was created in the credentials' own account
    assert deployed.emulator.client("ecs").list_clusters()["clusterArns"] == []


def test_the_state_is_in_the_roles_account(deployed: Deployed) -> None:
    # THEN the S3 backend assumed the role: the state object is in the second account's bucket
    s3 = deployed.client("s3")
    state = json.loads(s3.get_object(Bucket=BUCKET, Key=KEY)["Body"].read())
    assert {"aws_ecs_service", "aws_ecs_task_definition"} <= {r["type"] for r in state["resources"]}
    assert s3.get_bucket_versioning(Bucket=BUCKET)["Status"] == "Enabled"
    # AND deploy's own verify saw the bucket there
    assert f"state bucket {BUCKET} keeps versions" in deployed.run.json["verify"]["passed"]
    # AND the credentials' own account has no such bucket
    own = [b["Name"] for b in deployed.emulator.client("s3").list_buckets()["Buckets"]]
    assert BUCKET not in own


def test_verify_passes_in_the_roles_account_as_the_readme_shows(deployed: Deployed) -> None:
    # WHEN the deployed environment is verified
    env = {"ECS_CD_CONFIG": str(deployed.config), "ECS_CD_EMULATOR_ENDPOINT": deployed.emulator.endpoint}
    run = run_release_process(env, "verify", "local")
    # THEN every check passed in the second account, and the docs' sample is this run's output
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.json["problems"] == []
    assert run.stderr.splitlines() == readme_sample("verify-sample")


def test_every_resource_carries_the_tags(deployed: Deployed) -> None:
    ecs, logs = deployed.client("ecs"), deployed.client("logs")
    cluster = names.cluster_name("acct", "local")

    def ecs_tags(arn: str) -> dict[str, str]:
        return {t["key"]: t["value"] for t in ecs.list_tags_for_resource(resourceArn=arn)["tags"]}

    (service,) = ecs.describe_services(cluster=cluster, services=["api"], include=["TAGS"])["services"]
    cluster_arn = ecs.describe_clusters(clusters=[cluster])["clusters"][0]["clusterArn"]
    # THEN the service, its task definition and its log group carry all of them
    assert ecs_tags(service["serviceArn"]) == EXPECTED_TAGS
    assert ecs_tags(service["taskDefinition"]) == EXPECTED_TAGS
    group = logs.describe_log_groups(logGroupNamePrefix=names.log_group_name("acct", "local", "api"))
    assert (
        logs.list_tags_for_resource(resourceArn=group["logGroups"][0]["arn"].removesuffix(":*"))["tags"]
        == EXPECTED_TAGS
    )
    # AND the cluster, shared by the services, the project's and the environment's
    assert ecs_tags(cluster_arn) == {k: v for k, v in EXPECTED_TAGS.items() if k not in ("Service", "Team")}
    # AND tasks get the service's tags
    assert service["propagateTags"] == "SERVICE"


def test_terraform_itself_refuses_the_wrong_account(
    emulator: Emulator, tf_setup: TerraformSetup, tmp_path: Path
) -> None:
    # GIVEN an environment that names an account the credentials are not for, deployed with
    # the cdktf CLI directly (as `cdktf deploy local` by hand, without ecs-release's guard)
    config = tmp_path / "ecs-cd.toml"
    # (and a local state: the own account has no state bucket, and the provider is under test)
    config.write_text(
        CONFIG.replace(f', role_arn = "{ROLE}", session_name = "ci-7"', "")
        .replace(f'account_id = "{SECOND_ACCOUNT}"', 'account_id = "999999999999"')
        .replace(STATE, 'state = { backend = "local", path = "terraform.acct.tfstate" }')
    )
    env = tool_environment(
        tf_setup, emulator_endpoint=emulator.endpoint, extra={"ECS_CD_CONFIG": str(config)}
    )
    # WHEN Terraform plans
    done = deploy("local", setup=tf_setup, env=env, outdir=tmp_path / "out")
    # THEN the provider refuses before creating anything
    output = done.stdout + done.stderr
    assert done.returncode != 0, output[-4000:]
    assert "AWS account ID not allowed: 123456789012" in " ".join(output.split()), output[-4000:]
    assert "Creating..." not in output
