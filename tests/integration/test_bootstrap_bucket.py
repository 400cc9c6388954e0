"""`ecs-release bootstrap` on the emulator (issue 16): a new bucket gets the tool's floor, and an
existing bucket keeps what it has beyond it (its own policy statements, KMS encryption, other
lifecycle rules), with one line per setting saying what was done."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devkit.emulator import Emulator
from ecs_cd.release.state import TLS_SIDS
from tests.release_helpers import Run, run_cli

KMS_KEY = "arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9"
CONFIG = """
[project]
name = "bt"

[services.api]
repository = "123456789012.dkr.ecr.us-east-1.amazonaws.com/bt-api"

[environments.{env}]
region = "us-east-1"
emulator_endpoint = "http://127.0.0.1:1"
network = {{ use_default_vpc = true }}
state = {{ backend = "s3", bucket = "{bucket}", key = "bt/{env}.tfstate", region = "us-east-1"{extra} }}
"""
READER = {
    "Sid": "ReadersOfTheState",
    "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::123456789012:role/auditor"},
    "Action": "s3:GetObject",
    "Resource": "arn:aws:s3:::bt-existing/*",
}
ARCHIVE_RULE = {
    "ID": "archive-reports",
    "Status": "Enabled",
    "Filter": {"Prefix": "reports/"},
    "Expiration": {"Days": 365},
}


@pytest.fixture(scope="module")
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    with Emulator(running_count=1, log_path=tmp_path_factory.mktemp("moto") / "moto.log") as running:
        yield running


def bootstrap(emu: Emulator, tmp_path: Path, env: str, bucket: str, extra: str = "") -> Run:
    config = tmp_path / f"{env}.toml"
    config.write_text(CONFIG.format(env=env, bucket=bucket, extra=extra))
    # --tls-only: the emulator speaks plain HTTP, where the default leaves the policy out
    return run_cli(config, emu.endpoint, "bootstrap", env, "--tls-only")


def settings(emu: Emulator, bucket: str) -> dict[str, Any]:
    s3 = emu.client("s3")
    return {
        "policy": json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"]),
        "encryption": s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"],
        "ownership": s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"],
        "lifecycle": s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"],
        "versioning": s3.get_bucket_versioning(Bucket=bucket)["Status"],
        "public": s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"],
    }


def test_a_new_bucket_gets_the_floor(emu: Emulator, tmp_path: Path) -> None:
    # WHEN an environment's state bucket is bootstrapped
    run = bootstrap(emu, tmp_path, "fresh", "bt-fresh")
    assert run.exit_code == 0, run.stdout + run.stderr
    got = settings(emu, "bt-fresh")
    # THEN versioning, AES256, public access blocked, ACLs disabled
    assert got["versioning"] == "Enabled" and all(got["public"].values()) and len(got["public"]) == 4
    assert got["encryption"][0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert got["ownership"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    # AND replaced state versions of this environment's keys expire after 90 days
    (rule,) = got["lifecycle"]
    assert rule["Filter"] == {"Prefix": "bt/fresh"} and rule["Status"] == "Enabled"
    assert rule["NoncurrentVersionExpiration"]["NoncurrentDays"] == 90
    # AND the policy denies plain HTTP and TLS below 1.2
    by_sid = {s["Sid"]: s for s in got["policy"]["Statement"]}
    assert set(by_sid) == set(TLS_SIDS)
    assert by_sid["DenyInsecureTransport"]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert by_sid["DenyTlsBelow12"]["Condition"] == {"NumericLessThan": {"s3:TlsVersion": "1.2"}}
    assert all(s["Effect"] == "Deny" for s in by_sid.values())
    assert run.json["done"][0] == "created bucket bt-fresh in us-east-1"


def test_an_existing_bucket_keeps_its_own_settings_and_is_told_what_changed(
    emu: Emulator, tmp_path: Path
) -> None:
    # GIVEN a bucket with a statement of its own, KMS default encryption and a lifecycle rule
    s3 = emu.client("s3")
    s3.create_bucket(Bucket="bt-existing")
    s3.put_bucket_policy(
        Bucket="bt-existing", Policy=json.dumps({"Version": "2012-10-17", "Statement": [READER]})
    )
    s3.put_bucket_encryption(
        Bucket="bt-existing",
        ServerSideEncryptionConfiguration={
            "Rules": [
                {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": KMS_KEY}}
            ]
        },
    )
    s3.put_bucket_lifecycle_configuration(
        Bucket="bt-existing", LifecycleConfiguration={"Rules": [ARCHIVE_RULE]}
    )
    # WHEN it is bootstrapped
    run = bootstrap(emu, tmp_path, "old", "bt-existing", extra=", noncurrent_version_days = 30")
    assert run.exit_code == 0, run.stdout + run.stderr
    got = settings(emu, "bt-existing")
    # THEN its statement, its KMS key and its lifecycle rule are kept beside the tool's
    assert got["policy"]["Statement"][0] == READER
    assert [s["Sid"] for s in got["policy"]["Statement"]] == ["ReadersOfTheState", *TLS_SIDS]
    assert got["encryption"][0]["ApplyServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms",
        "KMSMasterKeyID": KMS_KEY,
    }
    assert [r["ID"] for r in got["lifecycle"]] == ["archive-reports", "ecs-cd-noncurrent-versions-bt/old"]
    assert got["lifecycle"][1]["NoncurrentVersionExpiration"]["NoncurrentDays"] == 30
    # AND each line says what was kept and what was set
    assert run.json["done"] == [
        "bucket bt-existing exists (yours)",
        "versioning on",
        f"default encryption aws:kms kept (key {KMS_KEY})",
        "public access blocked",
        "object ownership BucketOwnerEnforced set (ACLs disabled)",
        "old state versions expire 30 days after they are replaced (prefix 'bt/old'; rule set); "
        "1 other lifecycle rule(s) kept",
        "bucket policy denies plain HTTP and TLS below 1.2 (set); 1 other statement(s) kept",
    ]
    # AND a second bootstrap changes nothing and says so
    again = bootstrap(emu, tmp_path, "old", "bt-existing", extra=", noncurrent_version_days = 30")
    assert settings(emu, "bt-existing") == got
    assert "object ownership BucketOwnerEnforced (already)" in again.json["done"]
    assert any("(already); 1 other statement(s) kept" in line for line in again.json["done"])
    assert any("rule unchanged" in line for line in again.json["done"])


def test_zero_days_removes_only_the_tools_rule(emu: Emulator, tmp_path: Path) -> None:
    # GIVEN a bucket bootstrapped with the default lifecycle rule, and another rule of its own
    assert bootstrap(emu, tmp_path, "zero", "bt-zero").exit_code == 0
    s3 = emu.client("s3")
    rules = s3.get_bucket_lifecycle_configuration(Bucket="bt-zero")["Rules"]
    s3.put_bucket_lifecycle_configuration(
        Bucket="bt-zero", LifecycleConfiguration={"Rules": [*rules, ARCHIVE_RULE]}
    )
    # WHEN noncurrent_version_days = 0 is bootstrapped
    run = bootstrap(emu, tmp_path, "zero", "bt-zero", extra=", noncurrent_version_days = 0")
    # THEN only the other rule is left, and the line says old versions are kept
    assert [r["ID"] for r in s3.get_bucket_lifecycle_configuration(Bucket="bt-zero")["Rules"]] == [
        "archive-reports"
    ]
    kept_forever = "old state versions kept forever (noncurrent_version_days = 0; rule removed)"
    assert f"{kept_forever}; 1 other lifecycle rule(s) kept" in run.json["done"]
