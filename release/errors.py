"""Failures the command line reports as one line and an exit code."""

from __future__ import annotations

# Exit codes (documented in the README and in `--help`).
OK = 0
ROLLOUT_FAILED = 1
BAD_INPUT = 2
AWS_ERROR = 3
VERIFICATION_FAILED = 4
DEPLOY_FAILED = 5
DEPLOY_NOT_STARTED = 6


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
