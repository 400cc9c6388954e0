"""The account guard (issue 13): an environment names its AWS account, Terraform's provider
refuses any other (allowed_account_ids), and `ecs-release` checks the credentials' account
with STS before any call, on the emulator (moto answers GetCallerIdentity for 123456789012)."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cdktf import Testing

from devkit.emulator import Emulator
from main import add_stacks
from release import errors
from stacks.settings import ConfigError, settings_from_dict
from tests.release_helpers import run_cli

EMULATOR_ACCOUNT = "123456789012"
CONFIG = """
[project]
name = "acct"

[services.api]
repository = "123456789012.dkr.ecr.us-east-1.amazonaws.com/acct-api"

[environments.st]
region = "us-east-1"
emulator_endpoint = "http://127.0.0.1:1"
network = {{ use_default_vpc = true }}
state = {{ backend = "local" }}
aws = {{ account_id = "{account}" }}

[environments.prod]
region = "eu-west-1"
network = {{ vpc_id = "vpc-0c1b2c3d4e5f60718", subnet_ids = ["subnet-0c1b2c3d4e5f60718"] }}
state = {{ backend = "s3", bucket = "acct-state", key = "prod.tfstate", region = "eu-west-1" }}
aws = {{ account_id = "111111111111", profile = "acct-prod" }}
"""
PARAMETER = "/api/st/docker-image-tag"


@pytest.fixture(scope="module")
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    with Emulator(running_count=1, log_path=tmp_path_factory.mktemp("moto") / "moto.log") as running:
        yield running


def config_for(tmp_path: Path, account: str) -> Path:
    path = tmp_path / "ecs-cd.toml"
    path.write_text(CONFIG.format(account=account))
    return path


def test_the_wrong_account_is_refused_before_any_write(emu: Emulator, tmp_path: Path) -> None:
    # GIVEN an environment that lives in another account than the credentials'
    config = config_for(tmp_path, "999999999999")
    # WHEN a pipeline writes a tag there
    run = run_cli(config, emu.endpoint, "set-tag", "st", "api", "1.0.0")
    # THEN it is bad input naming both accounts, and the parameter was not written
    assert run.exit_code == errors.BAD_INPUT, run.stdout + run.stderr
    assert run.json["error"] == (
        "environment st is in AWS account 999999999999 (aws.account_id), but the credentials are "
        f"for account {EMULATOR_ACCOUNT} (arn:aws:sts::{EMULATOR_ACCOUNT}:user/moto): nothing was written"
    )
    names = [p["Name"] for p in emu.client("ssm").describe_parameters()["Parameters"]]
    assert PARAMETER not in names


def test_a_deploy_to_the_wrong_account_stops_before_cdktf(emu: Emulator, tmp_path: Path) -> None:
    config = config_for(tmp_path, "999999999999")
    run = run_cli(config, emu.endpoint, "deploy", "st", "--output", str(tmp_path / "out"))
    assert run.exit_code == errors.BAD_INPUT and "nothing was written" in run.json["error"]
    assert "running:" not in run.stderr and not (tmp_path / "out" / "stacks").exists()


def test_the_right_account_passes(emu: Emulator, tmp_path: Path) -> None:
    config = config_for(tmp_path, EMULATOR_ACCOUNT)
    run = run_cli(config, emu.endpoint, "set-tag", "st", "api", "1.0.0")
    assert run.exit_code == 0, run.stdout + run.stderr
    assert emu.client("ssm").get_parameter(Name=PARAMETER)["Parameter"]["Value"] == "1.0.0"


def test_a_profile_that_does_not_exist_is_one_line(tmp_path: Path) -> None:
    # GIVEN AWS config files without the environment's profile
    empty = tmp_path / "aws-config"
    empty.write_text("")
    config = config_for(tmp_path, EMULATOR_ACCOUNT)
    env = {"AWS_CONFIG_FILE": str(empty), "AWS_SHARED_CREDENTIALS_FILE": str(empty)}
    # WHEN prod (on AWS, profile acct-prod) is asked for its history
    run = run_cli(config, None, "history", "prod", "api", env=env)
    # THEN one line names the profile, exit 3 (an AWS access problem), no traceback
    assert run.exit_code == errors.AWS_ERROR, run.stdout + run.stderr
    assert run.json["error"] == "AWS profile 'acct-prod' is not in the AWS config files (aws.profile)"


def _stack(account: str, env: str) -> dict[str, Any]:
    settings = settings_from_dict(tomllib.loads(CONFIG.format(account=account)), file="ecs-cd.toml")
    parsed: dict[str, Any] = json.loads(Testing.synth(add_stacks(Testing.app(), settings)[env]))
    return parsed


def test_terraform_is_told_the_account_and_the_profile() -> None:
    prod = _stack(EMULATOR_ACCOUNT, "prod")
    (provider,) = prod["provider"]["aws"]
    assert provider["allowed_account_ids"] == ["111111111111"] and provider["profile"] == "acct-prod"
    assert prod["terraform"]["backend"]["s3"]["profile"] == "acct-prod"
    # the timestamp redeploy's `aws` command uses the same profile
    (redeploy,) = prod["resource"]["null_resource"].values()
    assert redeploy["provisioner"][0]["local-exec"]["environment"] == {"AWS_PROFILE": "acct-prod"}
    (emulated,) = _stack(EMULATOR_ACCOUNT, "st")["provider"]["aws"]
    assert emulated["allowed_account_ids"] == [EMULATOR_ACCOUNT]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            'aws = {{ account_id = "{account}" }}',
            'aws = {{ account_id = "{account}", profile = "dev" }}',
            "ecs-cd.toml: environments.st.aws.profile = 'dev': an environment on the emulator",
        ),
        (
            'account_id = "111111111111"',
            'account_id = "1111"',
            "ecs-cd.toml: environments.prod.aws.account_id = '1111':",
        ),
    ],
)
def test_aws_mistakes_are_one_line(old: str, new: str, expected: str) -> None:
    assert CONFIG.count(old) == 1
    raw = tomllib.loads(CONFIG.replace(old, new).format(account=EMULATOR_ACCOUNT))
    with pytest.raises(ConfigError) as caught:
        settings_from_dict(raw, file="ecs-cd.toml")
    assert any(line.startswith(expected) for line in caught.value.problems), caught.value.problems
