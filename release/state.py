"""Terraform state in S3: bootstrap the bucket, inspect and clear a stale lock, list and
restore earlier state versions. Works on the backend settings of the configuration."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from release.aws import Aws, describe_failure, error_code
from release.errors import BadInput
from stacks.settings import EnvironmentSettings, S3State


def s3_state(env: EnvironmentSettings) -> S3State:
    if not isinstance(env.state, S3State):
        raise BadInput(
            f"environment {env.name} keeps its state in a local file ({env.state.path}): "
            "this command works on S3 backends only"
        )
    return env.state


def lock_key(state: S3State, key: str | None = None) -> str:
    """Terraform's S3-native lock (use_lockfile): an object next to the state (``key``, default
    the environment's; a service stack of a split environment has its own)."""
    return f"{key or state.key}.tflock"


def tls_only_policy(bucket: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
    }


def bootstrap(aws: Aws, state: S3State, *, tls_only: bool = True) -> list[str]:
    """Create the state bucket if needed and (re)apply its settings; returns what was done.

    ``tls_only`` (default True) adds the policy that denies plain-HTTP access; an emulator
    reached over plain HTTP would then refuse Terraform itself, so the caller turns it off there."""
    done = []
    # HeadBucket first: in us-east-1, CreateBucket on a bucket you own answers 200, not an error.
    try:
        aws.call("s3", "head_bucket", Bucket=state.bucket)
        exists = True
    except ClientError as exc:
        if error_code(exc) in ("403", "Forbidden"):
            raise BadInput(
                f"bucket {state.bucket} exists and belongs to another account: choose another name"
            ) from None
        if error_code(exc) not in ("404", "NoSuchBucket", "NotFound"):
            raise describe_failure("s3", "HeadBucket", exc) from None
        exists = False
    if exists:
        done.append(f"bucket {state.bucket} exists (yours)")
    else:
        kwargs: dict[str, Any] = {"Bucket": state.bucket}
        if state.region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": state.region}
        try:
            aws.call("s3", "create_bucket", **kwargs)
        except ClientError as exc:
            raise describe_failure("s3", "CreateBucket", exc) from None
        done.append(f"created bucket {state.bucket} in {state.region}")
    steps: list[tuple[str, dict[str, Any], str]] = [
        ("put_bucket_versioning", {"VersioningConfiguration": {"Status": "Enabled"}}, "versioning on"),
        (
            "put_bucket_encryption",
            {
                "ServerSideEncryptionConfiguration": {
                    "Rules": [
                        {
                            "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"},
                            "BucketKeyEnabled": True,
                        }
                    ]
                }
            },
            "default encryption AES256",
        ),
        (
            "put_public_access_block",
            {
                "PublicAccessBlockConfiguration": {
                    "BlockPublicAcls": True,
                    "IgnorePublicAcls": True,
                    "BlockPublicPolicy": True,
                    "RestrictPublicBuckets": True,
                }
            },
            "public access blocked",
        ),
    ]
    if tls_only:
        policy = json.dumps(tls_only_policy(state.bucket))
        steps.append(("put_bucket_policy", {"Policy": policy}, "TLS-only bucket policy"))
    for operation, kwargs, label in steps:
        try:
            aws.call("s3", operation, Bucket=state.bucket, **kwargs)
        except ClientError as exc:
            raise describe_failure("s3", operation, exc) from None
        done.append(label)
    if not tls_only:
        done.append("TLS-only bucket policy NOT applied (plain-HTTP emulator endpoint)")
    return done


@dataclass(frozen=True)
class Lock:
    """Who holds the state lock, as Terraform wrote it."""

    id: str
    who: str
    operation: str
    created: str
    raw: dict[str, Any]

    @property
    def created_at(self) -> datetime | None:
        return parse_created(self.created)


_CREATED = re.compile(
    r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:\.(\d+))?\s*(Z|[+-]\d{2}:?\d{2})?(?:\s*UTC)?$"
)


def parse_created(text: str) -> datetime | None:
    """A lock's creation time, as Terraform writes it in the lock object (RFC 3339, nanoseconds)
    or prints it (``2026-11-23 10:00:00.123456789 +0000 UTC``); None if it is neither."""
    found = _CREATED.match(text.strip())
    if found is None:
        return None
    day, clock, fraction, zone = found.groups()
    zone = "+00:00" if zone in (None, "Z") else zone
    if ":" not in zone:
        zone = f"{zone[:3]}:{zone[3:]}"
    micro = f".{(fraction or '0')[:6]:0<6}"
    try:
        return datetime.fromisoformat(f"{day}T{clock}{micro}{zone}").astimezone(UTC)
    except ValueError:
        return None


def _no_bucket(state: S3State) -> BadInput:
    """The state bucket is missing: bad input (exit 2) with the command that creates it."""
    return BadInput(f"bucket {state.bucket} does not exist: run `ecs-release bootstrap`")


def read_lock(aws: Aws, state: S3State, key: str | None = None) -> Lock | None:
    """Who holds the lock of the state at ``key`` (default: the environment's), None if nobody."""
    try:
        body = aws.call("s3", "get_object", Bucket=state.bucket, Key=lock_key(state, key))["Body"].read()
    except ClientError as exc:
        if error_code(exc) == "NoSuchBucket":
            raise _no_bucket(state) from None
        if error_code(exc) in ("NoSuchKey", "404", "NotFound"):
            return None
        raise describe_failure("s3", "GetObject", exc) from None
    try:
        info = json.loads(body)
    except ValueError:
        info = {}
    return Lock(
        id=str(info.get("ID", "?")),
        who=str(info.get("Who", "?")),
        operation=str(info.get("Operation", "?")),
        created=str(info.get("Created", "?")),
        raw=info,
    )


def clear_lock(aws: Aws, state: S3State) -> None:
    try:
        aws.call("s3", "delete_object", Bucket=state.bucket, Key=lock_key(state))
    except ClientError as exc:
        if error_code(exc) == "NoSuchBucket":
            raise _no_bucket(state) from None
        raise describe_failure("s3", "DeleteObject", exc) from None


def versions(aws: Aws, state: S3State) -> list[dict[str, Any]]:
    """Every version of the state object, newest first."""
    found: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"Bucket": state.bucket, "Prefix": state.key}
    while True:
        try:
            response = aws.call("s3", "list_object_versions", **kwargs)
        except ClientError as exc:
            if error_code(exc) == "NoSuchBucket":
                raise _no_bucket(state) from None
            raise describe_failure("s3", "ListObjectVersions", exc) from None
        for item in response.get("Versions", []):
            if item["Key"] == state.key:
                found.append(
                    {
                        "version_id": item["VersionId"],
                        "latest": bool(item.get("IsLatest")),
                        "modified": item["LastModified"].isoformat(),
                        "size": int(item.get("Size", 0)),
                    }
                )
        if not response.get("IsTruncated"):
            break
        kwargs["KeyMarker"] = response.get("NextKeyMarker")
        kwargs["VersionIdMarker"] = response.get("NextVersionIdMarker")
    return sorted(found, key=lambda v: v["modified"], reverse=True)


def restore(aws: Aws, state: S3State, version_id: str) -> str:
    """Make ``version_id`` the current state again (as a new version); returns the new version id."""
    try:
        response = aws.call(
            "s3",
            "copy_object",
            Bucket=state.bucket,
            Key=state.key,
            CopySource={"Bucket": state.bucket, "Key": state.key, "VersionId": version_id},
        )
    except ClientError as exc:
        if error_code(exc) == "NoSuchBucket":
            raise _no_bucket(state) from None
        if error_code(exc) in ("NoSuchVersion", "InvalidArgument", "NoSuchKey"):
            raise BadInput(
                f"version {version_id!r} of {state.key} does not exist (see `state-versions`)"
            ) from None
        raise describe_failure("s3", "CopyObject", exc) from None
    return str(response.get("VersionId", ""))
