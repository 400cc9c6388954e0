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
from ecs_cd.release import errors
from stacks.app import add_stacks
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


def test_the_wrong_account_leaves_an_existing_tag_as_it_was(emu: Emulator, tmp_path: Path) -> None:
    # GIVEN the parameter holds a tag (written in the right account)
    ssm = emu.client("ssm")
    ssm.put_parameter(Name=PARAMETER, Value="0.9.0", Type="String", Overwrite=True)
    before = ssm.get_parameter(Name=PARAMETER)["Parameter"]
    # WHEN a pipeline whose configuration names another account writes a new tag
    run = run_cli(config_for(tmp_path, "999999999999"), emu.endpoint, "set-tag", "st", "api", "2.0.0")
    # THEN it is refused, and the parameter keeps its value and its version
    assert run.exit_code == errors.BAD_INPUT, run.stdout + run.stderr
    after = ssm.get_parameter(Name=PARAMETER)["Parameter"]
    assert (
        (after["Value"], after["Version"])
        == (before["Value"], before["Version"])
        == ("0.9.0", before["Version"])
    )


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


# --- a role per environment ------------------------------------------------------------------

SECOND_ACCOUNT = "222222222222"
ROLE = f"arn:aws:iam::{SECOND_ACCOUNT}:role/deployer"


def role_config(tmp_path: Path, *, external_id: str = "") -> Path:
    extra = f', external_id = "{external_id}"' if external_id else ""
    text = CONFIG.format(account=SECOND_ACCOUNT).replace(
        f'aws = {{ account_id = "{SECOND_ACCOUNT}" }}',
        f'aws = {{ account_id = "{SECOND_ACCOUNT}", role_arn = "{ROLE}"{extra} }}',
    )
    path = tmp_path / "ecs-cd.toml"
    path.write_text(text)
    return path


def in_account(emu: Emulator, service: str, role: str = ROLE) -> Any:
    """A client acting in the role's account, as the tool's session does."""
    creds = emu.client("sts").assume_role(RoleArn=role, RoleSessionName="test")["Credentials"]
    import boto3

    return boto3.client(
        service,
        region_name="us-east-1",
        endpoint_url=emu.endpoint,
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )


def test_ecs_release_acts_in_the_roles_account(emu: Emulator, tmp_path: Path) -> None:
    # GIVEN an environment whose role lives in a second account (and names that account)
    config = role_config(tmp_path, external_id="shop-ci")
    # WHEN CI writes a tag there
    run = run_cli(config, emu.endpoint, "set-tag", "st", "api", "2.0.0")
    # THEN the account guard passed (the assumed credentials are the second account's) and the
    # parameter is in the second account, not in the credentials' own
    assert run.exit_code == 0, run.stdout + run.stderr
    assert in_account(emu, "ssm").get_parameter(Name=PARAMETER)["Parameter"]["Value"] == "2.0.0"
    own = emu.client("ssm").describe_parameters()["Parameters"]
    assert all(p.get("Value") != "2.0.0" for p in own)
    if any(p["Name"] == PARAMETER for p in own):  # set by another test in the own account
        assert emu.client("ssm").get_parameter(Name=PARAMETER)["Parameter"]["Value"] != "2.0.0"


def test_terraform_and_the_redeploy_command_assume_the_role() -> None:
    text = CONFIG.format(account=EMULATOR_ACCOUNT).replace(
        'aws = { account_id = "111111111111", profile = "acct-prod" }',
        f'aws = {{ role_arn = "{ROLE}", external_id = "shop-ci", session_name = "ci-42" }}',
    )
    settings = settings_from_dict(tomllib.loads(text), file="ecs-cd.toml")
    prod: dict[str, Any] = json.loads(Testing.synth(add_stacks(Testing.app(), settings)["prod"]))
    role = {"role_arn": ROLE, "external_id": "shop-ci", "session_name": "ci-42"}
    assert prod["provider"]["aws"][0]["assume_role"] == [role]
    assert prod["terraform"]["backend"]["s3"]["assume_role"] == role
    (redeploy,) = prod["resource"]["null_resource"].values()
    command = redeploy["provisioner"][0]["local-exec"]["command"]
    assert command.startswith(
        "creds=$(aws sts assume-role --region eu-west-1 --role-arn "
        f"{ROLE} --role-session-name ci-42 --external-id shop-ci "
        "--query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' --output text) && set -- $creds && "
        'AWS_ACCESS_KEY_ID="$1" AWS_SECRET_ACCESS_KEY="$2" AWS_SESSION_TOKEN="$3" aws ecs update-service '
    )


@pytest.mark.parametrize(
    ("aws", "expected"),
    [
        ('{ external_id = "x-1" }', "external_id and session_name go with role_arn"),
        (
            f'{{ account_id = "111111111111", role_arn = "{ROLE}" }}',
            f"role_arn is a role of account {SECOND_ACCOUNT}, but account_id is 111111111111",
        ),
        ('{ role_arn = "arn:aws:iam::2222:role/x" }', "environments.prod.aws.role_arn = "),
    ],
)
def test_role_mistakes_are_one_line(aws: str, expected: str) -> None:
    text = CONFIG.format(account=EMULATOR_ACCOUNT)
    old = 'aws = { account_id = "111111111111", profile = "acct-prod" }'
    assert text.count(old) == 1
    raw = tomllib.loads(text.replace(old, f"aws = {aws}"))
    with pytest.raises(ConfigError) as caught:
        settings_from_dict(raw, file="ecs-cd.toml")
    assert any(expected in line for line in caught.value.problems), caught.value.problems


# --- bootstrap in the role's account ----------------------------------------------------------

LOCAL_STATE = 'state = { backend = "local" }'


def with_s3_state(config: Path, bucket: str) -> Path:
    """``config`` with st's state in S3 (``bucket``, us-east-1)."""
    text = config.read_text()
    assert text.count(LOCAL_STATE) == 1
    config.write_text(
        text.replace(
            LOCAL_STATE,
            f'state = {{ backend = "s3", bucket = "{bucket}", key = "st.tfstate", region = "us-east-1" }}',
        )
    )
    return config


def bucket_names(s3: Any) -> list[str]:
    return [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_bootstrap_creates_the_state_bucket_in_the_roles_account(emu: Emulator, tmp_path: Path) -> None:
    # GIVEN an environment whose role lives in a second account, its state in S3
    config = with_s3_state(role_config(tmp_path, external_id="shop-ci"), "acct-role-state")
    # WHEN the state bucket is bootstrapped
    run = run_cli(config, emu.endpoint, "bootstrap", "st")
    # THEN the account guard passed and the bucket, versioned and encrypted, is the role's account's
    assert run.exit_code == 0, run.stdout + run.stderr
    assert run.json["done"][0] == "created bucket acct-role-state in us-east-1"
    s3 = in_account(emu, "s3")
    assert "acct-role-state" in bucket_names(s3)
    assert s3.get_bucket_versioning(Bucket="acct-role-state")["Status"] == "Enabled"
    assert s3.get_bucket_encryption(Bucket="acct-role-state")["ServerSideEncryptionConfiguration"]["Rules"]
    # AND not in the credentials' own account
    assert "acct-role-state" not in bucket_names(emu.client("s3"))


def test_bootstrap_in_the_wrong_account_creates_no_bucket(emu: Emulator, tmp_path: Path) -> None:
    # GIVEN an environment that names another account than the credentials'
    config = with_s3_state(config_for(tmp_path, "999999999999"), "acct-wrong-state")
    # WHEN its state bucket is bootstrapped
    run = run_cli(config, emu.endpoint, "bootstrap", "st")
    # THEN it is bad input naming both accounts, and no bucket was created
    assert run.exit_code == errors.BAD_INPUT, run.stdout + run.stderr
    assert run.json["error"].startswith("environment st is in AWS account 999999999999 (aws.account_id)")
    assert run.json["error"].endswith("nothing was written")
    assert "acct-wrong-state" not in bucket_names(emu.client("s3"))
