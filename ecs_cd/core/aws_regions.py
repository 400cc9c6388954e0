"""AWS's regions and partitions, and where an ARN is: validators that say what is allowed."""

from __future__ import annotations

import re
from collections.abc import Mapping

# AWS's regions by partition: commercial (aws), China (aws-cn) and GovCloud (aws-us-gov), as
# botocore 1.43 lists them (data/endpoints.json). The ISO and European Sovereign Cloud
# partitions are left out: this tool does not deploy there. When AWS opens a region, add it here.
REGIONS: Mapping[str, str] = {
    **dict.fromkeys(
        (
            "af-south-1",
            "ap-east-1",
            "ap-east-2",
            "ap-northeast-1",
            "ap-northeast-2",
            "ap-northeast-3",
            "ap-south-1",
            "ap-south-2",
            "ap-southeast-1",
            "ap-southeast-2",
            "ap-southeast-3",
            "ap-southeast-4",
            "ap-southeast-5",
            "ap-southeast-6",
            "ap-southeast-7",
            "ca-central-1",
            "ca-west-1",
            "eu-central-1",
            "eu-central-2",
            "eu-north-1",
            "eu-south-1",
            "eu-south-2",
            "eu-west-1",
            "eu-west-2",
            "eu-west-3",
            "il-central-1",
            "me-central-1",
            "me-south-1",
            "mx-central-1",
            "sa-east-1",
            "us-east-1",
            "us-east-2",
            "us-west-1",
            "us-west-2",
        ),
        "aws",
    ),
    "cn-north-1": "aws-cn",
    "cn-northwest-1": "aws-cn",
    "us-gov-east-1": "aws-us-gov",
    "us-gov-west-1": "aws-us-gov",
}

_REGION = re.compile(r"[a-z]{2}(?:-[a-z]+)+-[0-9]", re.ASCII)

# arn:<partition>:<service>:<region>:<account>:<resource>
_ARN = re.compile(r"arn:(?P<partition>[a-z-]+):(?P<service>[a-z0-9-]+):(?P<region>[a-z0-9-]*):", re.ASCII)


def validate_region(value: str) -> str:
    if not _REGION.fullmatch(value):
        raise ValueError("a region must look like 'us-east-1' (lower-case letters, hyphens, one digit)")
    if value not in REGIONS:
        area = value.rsplit("-", 1)[0]
        near = sorted(r for r in REGIONS if r.rsplit("-", 1)[0] == area)
        raise ValueError(
            "a region must look like 'us-east-1' and be one of AWS's regions (commercial, China or "
            f"GovCloud){', such as ' + ', '.join(near) if near else ''}"
        )
    return value


def arn_location(arn: str) -> tuple[str, str] | None:
    """(partition, region) of an ARN, or None when it is no ARN or names no region."""
    match = _ARN.match(arn)
    if match is None or not match.group("region"):
        return None
    return match.group("partition"), match.group("region")


_USED_IN_ITS_REGION = "AWS uses a key, listener, certificate or web ACL only in its own region"


def validate_arn_in_region(
    arn: str, region: str, *, where: str = "the environment's region", why: str = _USED_IN_ITS_REGION
) -> str:
    """``arn`` must be in ``region`` and its partition: a KMS key, a listener, a certificate or a web
    ACL is used only in its own region (``where`` names what the region is, ``why`` why it must
    be there, for the message)."""
    partition = REGIONS.get(region, "aws")
    location = arn_location(arn)
    if location != (partition, region):
        found = f"{location[1]} ({location[0]})" if location else "no region"
        raise ValueError(f"must be in {where} ({region}) and partition ({partition}), not in {found}: {why}")
    return arn


def validate_arn_partition(arn: str, region: str) -> str:
    """``arn`` (a role, which has no region) must be in the partition of ``region``: credentials of
    one partition (aws, aws-cn, aws-us-gov) cannot assume a role of another."""
    expected = partition(region)
    match = _ARN.match(arn)
    found = match.group("partition") if match is not None else None
    if found != expected:
        raise ValueError(
            f"must be in the partition of the environment's region ({region}: {expected}), not "
            f"{found or 'no partition'}: AWS keeps partitions apart, so a role of one cannot be "
            "assumed from another"
        )
    return arn


def partition(region: str) -> str:
    """The ARN partition of ``region``: ``aws``, ``aws-cn`` or ``aws-us-gov``."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"
