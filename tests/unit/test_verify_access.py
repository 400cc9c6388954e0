"""`ecs-release verify` when a read is denied (issue 13): each read AWS refuses is one problem
line naming what could not be read and the AWS error code, and the other checks still run.

botocore's Stubber stands in for AWS here: moto enforces no IAM policy by default, so it cannot
answer AccessDenied to the tool's own credentials."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from ecs_cd.release import errors
from ecs_cd.release.aws import Aws
from tests.release_helpers import run_cli

LISTENER = (
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/vf/0c1b2c3d4e5f6071/0c1b2c3d4e5f6071"
)
SECRET = "arn:aws:ssm:us-east-1:123456789012:parameter/vf/db-password"
WORKER = "123456789012.dkr.ecr.us-west-2.amazonaws.com/vf-worker"
CONFIG = f"""
[project]
name = "vf"

[services.api]
repository = "123456789012.dkr.ecr.us-east-1.amazonaws.com/vf-api"
secrets = {{ DB_PASSWORD = "{SECRET}" }}

[services.worker]
repository = "{WORKER}"

[environments.st]
region = "us-east-1"
network = {{ vpc_id = "vpc-0c1b2c3d4e5f60718", subnet_ids = ["subnet-0c1b2c3d4e5f60718"] }}
state = {{ backend = "s3", bucket = "vf-state", key = "vf/st.tfstate", region = "us-east-1" }}
load_balancer = {{ listener_arn = "{LISTENER}", security_group_id = "sg-0caa2c3d4e5f60718" }}
"""
EAST = [("us-east-1", "s3"), ("us-east-1", "elbv2"), ("us-east-1", "ssm")]
WEST = [("us-west-2", "ecr")]


def denied(stubber: Stubber, operation: str, code: str = "AccessDenied", **params: object) -> None:
    stubber.add_client_error(
        operation, service_error_code=code, service_message="not authorized", expected_params=params or None
    )


def stubbed(region: str, service: str) -> tuple[Any, Stubber]:
    client = boto3.client(service, region_name=region, aws_access_key_id="stub", aws_secret_access_key="stub")
    return client, Stubber(client)


def test_every_denied_read_is_one_problem_line_and_the_checks_go_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN credentials that may see the state bucket and the worker's tag parameter, and are
    # denied everything else verify reads
    clients = {key: stubbed(*key) for key in EAST + WEST}
    stubs = {service: stub for (_, service), (_, stub) in clients.items()}
    stubs["s3"].add_response("head_bucket", {}, {"Bucket": "vf-state"})
    denied(stubs["s3"], "get_bucket_versioning", Bucket="vf-state")
    denied(stubs["s3"], "get_bucket_encryption", Bucket="vf-state")
    denied(stubs["elbv2"], "describe_listeners", ListenerArns=[LISTENER])
    denied(stubs["ssm"], "get_parameter", "AccessDeniedException", Name="/api/st/docker-image-tag")
    denied(stubs["ssm"], "describe_parameters", "AccessDeniedException")
    stubs["ssm"].add_response(
        "get_parameter",
        {"Parameter": {"Name": "/worker/st/docker-image-tag", "Value": "2.0.0", "Type": "String"}},
        {"Name": "/worker/st/docker-image-tag"},
    )
    denied(stubs["ecr"], "describe_images", "AccessDeniedException")
    for stub in stubs.values():
        stub.activate()
    monkeypatch.setattr(Aws, "client", lambda self, service: clients[(self.region, service)][0])
    config = tmp_path / "ecs-cd.toml"
    config.write_text(CONFIG)
    # WHEN the environment is verified
    run = run_cli(config, None, "verify", "st")
    # THEN each denied read is one line with what and why, every check ran, exit 4
    assert run.exit_code == errors.VERIFICATION_FAILED, run.stdout + run.stderr
    assert run.json["problems"] == [
        "state bucket vf-state: its versioning cannot be read: AccessDenied: not authorized",
        "state bucket vf-state: its encryption cannot be read: AccessDenied: not authorized",
        f"listener {LISTENER} cannot be read: AccessDenied: not authorized",
        "api: SSM parameter /api/st/docker-image-tag cannot be read: AccessDeniedException: not authorized",
        f"api: secret {SECRET} cannot be read: AccessDeniedException: not authorized",
        f"worker: image {WORKER}:2.0.0 cannot be looked up in ECR (us-west-2): "
        "AWS ecr DescribeImages failed: AccessDeniedException: not authorized",
    ]
    assert run.stderr.count("problem: ") == 6
    assert run.json["passed"] == ["worker: /worker/st/docker-image-tag holds 2.0.0"]
    for stub in stubs.values():
        stub.assert_no_pending_responses()
