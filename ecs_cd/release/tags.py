"""Image tags in SSM Parameter Store, and the images they name in ECR."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from ecs_cd.core import aws_formats
from ecs_cd.core.aws_formats import ecr_location
from ecs_cd.release.aws import Aws, describe_failure, error_code
from ecs_cd.release.errors import AwsUnreachable, BadInput, ReleaseError


def validate_tag(tag: str) -> str:
    try:
        return aws_formats.validate_image_tag(tag)
    except ValueError as exc:
        raise BadInput(f"tag {tag!r}: {exc}") from None


@dataclass(frozen=True)
class TagVersion:
    """One version of a tag parameter."""

    version: int
    tag: str
    date: str
    user: str

    def as_dict(self) -> dict[str, Any]:
        return {"version": self.version, "tag": self.tag, "date": self.date, "user": self.user}


def read_tag(aws: Aws, parameter: str) -> TagVersion | None:
    """The current tag, or None when the parameter does not exist yet."""
    try:
        response = aws.call("ssm", "get_parameter", Name=parameter)
    except ClientError as exc:
        if error_code(exc) == "ParameterNotFound":
            return None
        raise describe_failure("ssm", "GetParameter", exc) from None
    param = response["Parameter"]
    return TagVersion(
        version=int(param["Version"]),
        tag=str(param["Value"]),
        date=_date(param.get("LastModifiedDate")),
        user="",
    )


def write_tag(aws: Aws, parameter: str, tag: str) -> int:
    """Write ``tag`` (creating the parameter if needed); returns the new version."""
    validate_tag(tag)
    try:
        response = aws.call("ssm", "put_parameter", Name=parameter, Value=tag, Type="String", Overwrite=True)
    except ClientError as exc:
        raise describe_failure("ssm", "PutParameter", exc) from None
    return int(response["Version"])


def history(aws: Aws, parameter: str) -> list[TagVersion]:
    """Every version of the parameter, oldest first; BadInput when it does not exist."""
    entries: list[TagVersion] = []
    token: str | None = None
    while True:
        kwargs: dict[str, Any] = {"Name": parameter, "MaxResults": 50}
        if token:
            kwargs["NextToken"] = token
        try:
            response = aws.call("ssm", "get_parameter_history", **kwargs)
        except ClientError as exc:
            if error_code(exc) == "ParameterNotFound":
                raise BadInput(
                    f"SSM parameter {parameter} does not exist: write a tag first (set-tag)"
                ) from None
            raise describe_failure("ssm", "GetParameterHistory", exc) from None
        for item in response.get("Parameters", []):
            entries.append(
                TagVersion(
                    version=int(item["Version"]),
                    tag=str(item["Value"]),
                    date=_date(item.get("LastModifiedDate")),
                    user=str(item.get("LastModifiedUser", "")),
                )
            )
        token = response.get("NextToken")
        if not token:
            break
    return sorted(entries, key=lambda e: e.version)


def rollback_target(entries: list[TagVersion], to: str | None) -> TagVersion:
    """The version to go back to: ``to`` as a version number or a tag, else the previous distinct tag."""
    if not entries:
        raise BadInput("the parameter has no history")
    current = entries[-1]
    if to is None:
        for entry in reversed(entries):
            if entry.tag != current.tag:
                return entry
        raise BadInput(f"nothing to roll back to: every version holds {current.tag!r}")
    # ASCII digits only ("²".isdigit() is true), compared as text: int() refuses 4,300+ digits.
    if re.fullmatch(r"[0-9]+", to):
        for entry in entries:
            if str(entry.version) == (to.lstrip("0") or "0"):
                return entry
        shown = to if len(to) <= 20 else f"{to[:20]}… ({len(to)} digits)"
        raise BadInput(f"version {shown} is not in the history (versions 1-{current.version})")
    validate_tag(to)
    for entry in reversed(entries):
        if entry.tag == to:
            return entry
    raise BadInput(f"tag {to!r} was never written to this parameter (see `history`)")


def image_digest(aws: Aws, repository: str, tag: str) -> str | None:
    """The digest of ``repository:tag`` in ECR, or None when ECR has no such image.

    ``aws`` must be for the repository's region. BadInput if the repository is not in ECR.
    """
    location = ecr_location(repository)
    if location is None:
        raise BadInput(f"{repository} is not an ECR repository: its images cannot be verified")
    account, _, name = location
    try:
        response = aws.call(
            "ecr",
            "describe_images",
            registryId=account,
            repositoryName=name,
            imageIds=[{"imageTag": tag}],
        )
    except ClientError as exc:
        if error_code(exc) in ("ImageNotFoundException", "RepositoryNotFoundException"):
            return None
        raise describe_failure("ecr", "DescribeImages", exc) from None
    details = response.get("imageDetails", [])
    return str(details[0]["imageDigest"]) if details else None


def _date(value: Any) -> str:
    if value is None:
        return ""
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def ecr_image(ecr: Callable[[str], Aws], repository: str, image_id: dict[str, str]) -> dict[str, Any] | None:
    """ECR's details of one image of ``repository`` (in its own region and account), or None:
    not in ECR, or ECR cannot be read (the overview still shows what it has)."""
    location = ecr_location(repository)
    if location is None:
        return None
    account, region, name = location
    try:
        found = ecr(region).call(
            "ecr", "describe_images", registryId=account, repositoryName=name, imageIds=[image_id]
        )
    except AwsUnreachable:
        raise
    except (ClientError, ReleaseError):
        return None
    details = found.get("imageDetails", [])
    return dict(details[0]) if details else None
