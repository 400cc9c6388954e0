"""Terraform state in S3: bootstrap the bucket, inspect and clear a stale lock, list and
restore earlier state versions. Works on the backend settings of the configuration."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from ecs_cd.release.aws import Aws, describe_failure, error_code
from ecs_cd.release.errors import BadInput
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


TLS_SIDS = ("DenyInsecureTransport", "DenyTlsBelow12")
# Terraform writes and reads the state and the lock; older TLS is refused like plain HTTP.
MIN_TLS_VERSION = "1.2"


def tls_statements(bucket: str) -> list[dict[str, Any]]:
    """Deny plain HTTP and TLS below 1.2, to every principal (these statements only deny)."""
    resources = [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]
    deny = {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": resources}
    return [
        {"Sid": TLS_SIDS[0], **deny, "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
        {"Sid": TLS_SIDS[1], **deny, "Condition": {"NumericLessThan": {"s3:TlsVersion": MIN_TLS_VERSION}}},
    ]


def merged_policy(existing: dict[str, Any] | None, bucket: str) -> dict[str, Any]:
    """``existing`` with this tool's statements (by Sid) replaced or added; the rest kept as is."""
    statements = (existing or {}).get("Statement", [])
    if isinstance(statements, dict):  # a policy may hold one statement as an object
        statements = [statements]
    kept = [s for s in statements if not (isinstance(s, dict) and s.get("Sid") in TLS_SIDS)]
    return {
        "Version": (existing or {}).get("Version", "2012-10-17"),
        "Statement": [*kept, *tls_statements(bucket)],
    }


def lifecycle_rule(state: S3State) -> dict[str, Any]:
    """Expire replaced state versions after ``noncurrent_version_days``, for this environment's
    keys only (its state, its lock and, when split, its services' states share the prefix)."""
    prefix = state.key[: -len(".tfstate")] if state.key.endswith(".tfstate") else state.key
    return {
        "ID": f"ecs-cd-noncurrent-versions-{prefix}"[:255],
        "Status": "Enabled",
        "Filter": {"Prefix": prefix},
        "NoncurrentVersionExpiration": {"NoncurrentDays": state.noncurrent_version_days},
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
    }


def bootstrap(aws: Aws, state: S3State, *, tls_only: bool = True) -> list[str]:
    """Create the state bucket if needed and bring its settings to this tool's floor, keeping
    what the bucket has beyond it (other policy statements, KMS encryption, other lifecycle
    rules); returns what was done, one line each.

    ``tls_only`` (default True) adds the statements that deny plain HTTP and TLS below 1.2; an
    emulator reached over plain HTTP would then refuse Terraform itself, so the caller turns it
    off there."""
    done = []
    bucket = state.bucket
    # HeadBucket first: in us-east-1, CreateBucket on a bucket you own answers 200, not an error.
    try:
        aws.call("s3", "head_bucket", Bucket=bucket)
        exists = True
    except ClientError as exc:
        if error_code(exc) in ("403", "Forbidden"):
            raise BadInput(
                f"bucket {bucket} exists and belongs to another account: choose another name"
            ) from None
        if error_code(exc) not in ("404", "NoSuchBucket", "NotFound"):
            raise describe_failure("s3", "HeadBucket", exc) from None
        exists = False
    if exists:
        done.append(f"bucket {bucket} exists (yours)")
    else:
        kwargs: dict[str, Any] = {"Bucket": bucket}
        if state.region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": state.region}
        _put(aws, "create_bucket", "CreateBucket", **kwargs)
        done.append(f"created bucket {bucket} in {state.region}")

    _put(
        aws,
        "put_bucket_versioning",
        "PutBucketVersioning",
        Bucket=bucket,
        VersioningConfiguration={"Status": "Enabled"},
    )
    done.append("versioning on")
    done.append(_encryption(aws, bucket))
    _put(
        aws,
        "put_public_access_block",
        "PutPublicAccessBlock",
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    done.append("public access blocked")
    done.append(_ownership(aws, bucket))
    done.append(_lifecycle(aws, state))
    if tls_only:
        done.append(_policy(aws, bucket))
    else:
        done.append("TLS-only bucket policy NOT applied (plain-HTTP emulator endpoint)")
    return done


def _put(aws: Aws, operation: str, api: str, **kwargs: Any) -> dict[str, Any]:
    try:
        return aws.call("s3", operation, **kwargs)
    except ClientError as exc:
        raise describe_failure("s3", api, exc) from None


def _get(aws: Aws, operation: str, api: str, bucket: str, absent: str) -> dict[str, Any] | None:
    """``operation`` on the bucket, or None when AWS answers ``absent`` (nothing configured)."""
    try:
        return aws.call("s3", operation, Bucket=bucket)
    except ClientError as exc:
        if error_code(exc) == absent:
            return None
        raise describe_failure("s3", api, exc) from None


def _encryption(aws: Aws, bucket: str) -> str:
    found = _get(
        aws,
        "get_bucket_encryption",
        "GetBucketEncryption",
        bucket,
        "ServerSideEncryptionConfigurationNotFoundError",
    )
    rules = (found or {}).get("ServerSideEncryptionConfiguration", {}).get("Rules", [])
    default = rules[0].get("ApplyServerSideEncryptionByDefault", {}) if rules else {}
    algorithm = default.get("SSEAlgorithm")
    if algorithm in ("aws:kms", "aws:kms:dsse"):
        # Stronger than the floor, and readers already have the key: keep it.
        return f"default encryption {algorithm} kept (key {default.get('KMSMasterKeyID', 'aws/s3')})"
    if algorithm == "AES256":
        return "default encryption AES256 (already)"
    _put(
        aws,
        "put_bucket_encryption",
        "PutBucketEncryption",
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    return "default encryption AES256 set"


def _ownership(aws: Aws, bucket: str) -> str:
    found = _get(
        aws,
        "get_bucket_ownership_controls",
        "GetBucketOwnershipControls",
        bucket,
        "OwnershipControlsNotFoundError",
    )
    rules = (found or {}).get("OwnershipControls", {}).get("Rules", [])
    if [r.get("ObjectOwnership") for r in rules] == ["BucketOwnerEnforced"]:
        return "object ownership BucketOwnerEnforced (already)"
    _put(
        aws,
        "put_bucket_ownership_controls",
        "PutBucketOwnershipControls",
        Bucket=bucket,
        OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
    )
    return "object ownership BucketOwnerEnforced set (ACLs disabled)"


def _lifecycle(aws: Aws, state: S3State) -> str:
    found = _get(
        aws,
        "get_bucket_lifecycle_configuration",
        "GetBucketLifecycleConfiguration",
        state.bucket,
        "NoSuchLifecycleConfiguration",
    )
    rules = list((found or {}).get("Rules", []))
    ours = lifecycle_rule(state)
    kept = [r for r in rules if r.get("ID") != ours["ID"]]
    others = f"; {len(kept)} other lifecycle rule(s) kept" if kept else ""
    wanted = kept if state.noncurrent_version_days == 0 else [*kept, ours]
    if wanted != rules:
        if wanted:
            _put(
                aws,
                "put_bucket_lifecycle_configuration",
                "PutBucketLifecycleConfiguration",
                Bucket=state.bucket,
                LifecycleConfiguration={"Rules": wanted},
            )
        else:
            _put(aws, "delete_bucket_lifecycle", "DeleteBucketLifecycle", Bucket=state.bucket)
    if state.noncurrent_version_days == 0:
        removed = "rule removed" if len(kept) < len(rules) else "no rule"
        return f"old state versions kept forever (noncurrent_version_days = 0; {removed}){others}"
    return (
        f"old state versions expire {state.noncurrent_version_days} days after they are replaced "
        f"(prefix {ours['Filter']['Prefix']!r}; rule {'set' if wanted != rules else 'unchanged'}){others}"
    )


def _policy(aws: Aws, bucket: str) -> str:
    found = _get(aws, "get_bucket_policy", "GetBucketPolicy", bucket, "NoSuchBucketPolicy")
    existing = json.loads(found["Policy"]) if found else None
    policy = merged_policy(existing, bucket)
    kept = len(policy["Statement"]) - len(TLS_SIDS)
    others = f"; {kept} other statement(s) kept" if kept else ""
    if existing == policy:
        return f"bucket policy denies plain HTTP and TLS below {MIN_TLS_VERSION} (already){others}"
    _put(aws, "put_bucket_policy", "PutBucketPolicy", Bucket=bucket, Policy=json.dumps(policy))
    return f"bucket policy denies plain HTTP and TLS below {MIN_TLS_VERSION} (set){others}"


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


def restore_previous(aws: Aws, state: S3State, env: str, version_id: str | None) -> tuple[str, str]:
    """Make ``version_id`` (default: the version before the current) current again, unless a run
    holds the lock; returns the version restored and the new version's id."""
    lock = read_lock(aws, state)
    if lock is not None:
        raise BadInput(
            f"the state is locked ({lock.operation} by {lock.who}): wait, or `unlock {env} --force`"
        )
    found = versions(aws, state)
    if version_id is None:
        if len(found) < 2:
            raise BadInput(f"s3://{state.bucket}/{state.key} has no earlier version to restore")
        version_id = str(found[1]["version_id"])
    return version_id, restore(aws, state, version_id)
