"""The checkov security gate on every environment of the shipped and the fixture configuration.

No check may fail; a resource may skip a check only with a reason
(``resource.add_override("//.checkov.skip", [{"id": ..., "comment": ...}])``). checkov is
also held to having really checked: it silently checks nothing in a file it cannot parse
(issue 7454) and it does not look inside JSON strings such as container_definitions, so each
environment must show passed checks on the resource types that matter. A canary stack,
scanned in the same run, proves that failures, skips and required_version are handled.
"""

from __future__ import annotations

from typing import Any

import pytest

from devkit.checkov import Report, scan
from tests.conftest import Synthesized

CANARY = "canary"
MUST_EVALUATE = frozenset(
    {"aws_ecs_task_definition", "aws_ecs_service", "aws_iam_role", "aws_cloudwatch_log_group"}
)
CANARY_REASON = "canary: a skip with a reason is reported as skipped"


def canary_stack() -> dict[str, Any]:
    """A log group without a KMS key (CKV_AWS_158 fails) that skips CKV_AWS_338 with a reason,
    in a stack with terraform.required_version (which checkov alone would not check at all)."""
    from cdktf import TerraformStack, Testing
    from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
    from cdktf_cdktf_provider_aws.provider import AwsProvider

    stack = TerraformStack(Testing.app(), CANARY)
    stack.add_override("terraform.required_version", ">= 1.10")
    AwsProvider(stack, "aws", region="eu-west-1")
    logs = CloudwatchLogGroup(stack, "logs", name="canary", retention_in_days=7)
    logs.add_override("//.checkov.skip", [{"id": "CKV_AWS_338", "comment": CANARY_REASON}])
    return dict(stack.to_terraform())


@pytest.fixture(scope="module")
def reports(
    synthesized: dict[str, Synthesized],
    shipped: dict[str, Synthesized],
    examples: dict[str, dict[str, Synthesized]],
) -> dict[str, Report]:
    """checkov's report per environment ('config/prod', 'fixture/dev', 'sidecar/prod', …) and the
    canary: one run."""
    # The session's stacks (synthesized once for all tests), as the stacks' own JSON:
    # Testing.synth's text drops the "//" keys and the skips in them.
    stacks: dict[str, dict[str, Any]] = {}
    for label, outputs in (("config", shipped), ("fixture", synthesized), *examples.items()):
        for name, out in outputs.items():
            stacks[f"{label}/{name}"] = out.terraform
    stacks[CANARY] = canary_stack()
    return scan(stacks)


def environments(reports: dict[str, Report]) -> dict[str, Report]:
    return {name: report for name, report in reports.items() if name != CANARY}


def test_the_gate_sees_failures_and_skips(reports: dict[str, Report]) -> None:
    # GIVEN the canary stack, scanned with the environments
    canary = reports[CANARY]
    # THEN its failure is found on its resource, and its skip is reported with the reason
    assert not canary.parsing_errors
    failed = {(c.check_id, c.resource) for c in canary.failed}
    assert ("CKV_AWS_158", "aws_cloudwatch_log_group.logs") in failed, canary.failed
    skipped = {(c.check_id, c.resource, c.suppress_comment) for c in canary.skipped}
    assert skipped == {("CKV_AWS_338", "aws_cloudwatch_log_group.logs", CANARY_REASON)}
    assert not canary.unused_skips


def test_no_check_fails_in_any_environment(reports: dict[str, Report]) -> None:
    # GIVEN every environment of both configurations, synthesized
    # WHEN checkov scans them
    failures = [
        f"{name}: {check}" for name, report in environments(reports).items() for check in report.failed
    ]
    # THEN no check fails (or the resource skips it with a reason)
    assert not failures, f"{len(failures)} failed checkov check(s):\n" + "\n".join(failures)


def test_checkov_really_checked_every_environment(reports: dict[str, Report]) -> None:
    # GIVEN checkov's reports
    problems = []
    for name, report in environments(reports).items():
        # THEN each file was parsed, had passed checks and the resource types that matter evaluated
        if report.parsing_errors:
            problems.append(f"{name}: checkov could not parse {report.parsing_errors}")
        if not report.passed:
            problems.append(f"{name}: no check passed, so checkov checked nothing")
        missing = MUST_EVALUATE - report.resource_types
        if missing:
            problems.append(f"{name}: checkov evaluated no check on {sorted(missing)}")
    assert environments(reports), "no environment was scanned"
    assert not problems, "\n".join(problems)


def test_every_skip_has_a_reason_and_still_applies(reports: dict[str, Report]) -> None:
    # GIVEN the skips the resources declare
    problems = []
    for name, report in environments(reports).items():
        # THEN each skipped check carries its reason, and no skip outlived its failure
        problems += [
            f"{name}: {c} is skipped without a reason" for c in report.skipped if not c.suppress_comment
        ]
        problems += [
            f"{name}: {c.check_id} on {c.resource} is skipped but does not fail; remove the skip"
            for c in report.unused_skips
        ]
    assert not problems, "\n".join(problems)
