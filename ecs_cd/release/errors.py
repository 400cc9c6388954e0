"""Failures the command line reports as one line and an exit code."""

from __future__ import annotations

# Exit codes (documented in `--help` and docs/reference/cli.md).
OK = 0
ROLLOUT_FAILED = 1
BAD_INPUT = 2
AWS_ERROR = 3
VERIFICATION_FAILED = 4
DEPLOY_FAILED = 5
DEPLOY_NOT_STARTED = 6
PLAN_HAS_CHANGES = 7
PLAN_REFUSED = 8
# 128 + the signal's number, as a shell reports a command a signal ended.
INTERRUPTED_SIGINT = 130
INTERRUPTED_SIGTERM = 143

# What each code means: `--help`'s epilog (cli_command.EXIT_CODES) and the command-line reference
# (docs/reference/cli.md, `make reference`) are made of these.
EXIT_CODE_MEANINGS: tuple[tuple[int, str], ...] = (
    (OK, "ok"),
    (ROLLOUT_FAILED, "rollout failed, rolled back, superseded or timed out"),
    (
        BAD_INPUT,
        "bad input (unknown environment or service, malformed tag, missing parameter or service, "
        "invalid or no configuration)",
    ),
    (AWS_ERROR, "AWS error (after retries) or AWS unreachable"),
    (VERIFICATION_FAILED, "image verification failed (not in ECR, digest differs)"),
    (
        DEPLOY_FAILED,
        "Terraform (or cdktf deploy) failed after it started (the message says whether anything may "
        "have been applied)",
    ),
    (
        DEPLOY_NOT_STARTED,
        "deploy stopped before Terraform ran (synthesis failed, unusable --output, Node, Terraform or "
        "the --via cdktf CLI missing): nothing was applied",
    ),
    (PLAN_HAS_CHANGES, "`diff`: the plan has changes (0: none)"),
    (
        PLAN_REFUSED,
        "the plan would replace or destroy an adopted resource (a stack's import block): `deploy` "
        "applied nothing of that stack, `diff` shows it",
    ),
    (INTERRUPTED_SIGINT, "stopped by SIGINT (the message says whether anything was applied)"),
    (INTERRUPTED_SIGTERM, "stopped by SIGTERM (the message says whether anything was applied)"),
)


class ReleaseError(Exception):
    """A failure with the exit code it maps to."""

    exit_code = AWS_ERROR

    def __init__(self, message: str, *, details: dict[str, object] | None = None) -> None:
        super().__init__(message)
        self.details = details or {}


class BadInput(ReleaseError):
    """Unknown environment or service, malformed tag, missing parameter or service."""

    exit_code = BAD_INPUT


class AwsFailure(ReleaseError):
    """An AWS call failed (after retries), or AWS could not be reached."""

    exit_code = AWS_ERROR


class AwsUnreachable(AwsFailure):
    """AWS (or the emulator) could not be reached: no connection, or no answer in time.

    Exit 3 whichever step met it first: a check that could not ask AWS found nothing wrong (not 4),
    and a deploy it stopped before Terraform ran applied nothing (not 5)."""


class VerificationFailed(ReleaseError):
    """The image is not where it must be, or is not the same image."""

    exit_code = VERIFICATION_FAILED


class RolloutFailed(ReleaseError):
    """The deployment failed, was rolled back, was superseded or timed out."""

    exit_code = ROLLOUT_FAILED


class DeployFailed(ReleaseError):
    """`cdktf deploy` failed after Terraform started (the message says whether it applied anything)."""

    exit_code = DEPLOY_FAILED


class DeployNotStarted(ReleaseError):
    """`deploy` stopped before Terraform ran: nothing was applied."""

    exit_code = DEPLOY_NOT_STARTED


class PlanRefused(ReleaseError):
    """The plan would replace or destroy a resource a stack adopted (an import block): `deploy`
    applied nothing of that stack, `diff` reports it (ecs_cd/release/plan_guard.py)."""

    exit_code = PLAN_REFUSED


class Interrupted(ReleaseError):
    """SIGINT or SIGTERM stopped the command (the message says whether anything was applied)."""

    def __init__(self, message: str, *, signal_number: int, details: dict[str, object] | None = None) -> None:
        super().__init__(message, details=details)
        self.signal_number = signal_number
        self.exit_code = 128 + signal_number
