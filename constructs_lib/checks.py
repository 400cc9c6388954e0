"""Security scanner skips, declared on the resource they concern, each with its reason.

A skip is written into cdktf's comment key, which Terraform ignores:
``"//": {"checkov": {"skip": [{"id": "CKV_AWS_158", "comment": "why"}]}}``. checkov's
terraform_json framework reads no inline skip (checkov issue 4634), so the project's gate
(devkit/checkov.py) applies them, and fails on a skip that no longer matches a finding.
Skips are added only where the configuration made the choice the check objects to, so
changing the configuration removes the skip.
"""

from __future__ import annotations

import re

from cdktf import TerraformResource

_CHECK_ID = re.compile(r"CKV2?_AWS_[0-9]+")
_SKIPS_ATTRIBUTE = "_ecs_cd_checkov_skips"


def skip_check(resource: TerraformResource, check_id: str, reason: str) -> None:
    """Declare that checkov's ``check_id`` does not apply to ``resource``, because of ``reason``."""
    if not _CHECK_ID.fullmatch(check_id):
        raise ValueError(f"not a checkov AWS check id: {check_id!r}")
    if not reason.strip():
        raise ValueError(f"skipping {check_id} needs a reason")
    # One override holds every skip of a resource: a second override of the path replaces it.
    skips: list[dict[str, str]] = getattr(resource, _SKIPS_ATTRIBUTE, [])
    skips = [s for s in skips if s["id"] != check_id] + [{"id": check_id, "comment": reason}]
    setattr(resource, _SKIPS_ATTRIBUTE, skips)
    resource.add_override("//.checkov.skip", skips)


def skipped_checks(resource: TerraformResource) -> dict[str, str]:
    """The checks skipped on ``resource``, with their reasons."""
    return {s["id"]: s["comment"] for s in getattr(resource, _SKIPS_ATTRIBUTE, [])}
