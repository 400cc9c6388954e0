"""How every `ecs-release` command ends: its result or its one-line error (JSON with --json), the
retries AWS needed, and the exit code of its cause (ecs_cd/release/errors.py)."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click
from botocore.exceptions import ClientError

from ecs_cd.release import errors
from ecs_cd.release.aws import describe_failure
from ecs_cd.release.errors import ReleaseError
from ecs_cd.release.runtime import Runtime

EXIT_CODES = f"""
Exit codes: {errors.OK} ok; {errors.ROLLOUT_FAILED} rollout failed, rolled back, superseded or timed out;
{errors.BAD_INPUT} bad input (unknown environment or service, malformed tag, missing parameter or
service, invalid or no configuration); {errors.AWS_ERROR} AWS error (after retries) or AWS unreachable;
{errors.VERIFICATION_FAILED} image verification failed (not in ECR, digest differs);
{errors.DEPLOY_FAILED} Terraform (or cdktf deploy) failed after it started (the message says whether
anything may have been applied); {errors.DEPLOY_NOT_STARTED} deploy stopped before Terraform ran (synthesis
failed, unusable --output, Node, Terraform or the --via cdktf CLI missing): nothing was applied;
{errors.INTERRUPTED_SIGINT} / {errors.INTERRUPTED_SIGTERM} stopped by SIGINT / SIGTERM (the message says
whether anything was applied); {errors.PLAN_HAS_CHANGES} `diff`: the plan has changes (0: none);
{errors.PLAN_REFUSED} the plan would replace or destroy an adopted resource (a stack's import block):
`deploy` applied nothing of that stack, `diff` shows it.
"""


F = TypeVar("F", bound=Callable[..., dict[str, Any]])


def command(fn: F) -> Callable[..., None]:
    """Run a command: one line and the right exit code for every failure, never a traceback."""

    @click.pass_obj
    @functools.wraps(fn)
    def wrapper(rt: Runtime, *args: Any, **kwargs: Any) -> None:
        code = errors.OK
        try:
            payload = fn(rt, *args, **kwargs)
            payload.setdefault("ok", True)
        except ReleaseError as exc:
            payload = None
            code = exc.exit_code
            message, details = str(exc), dict(exc.details)
        except ClientError as exc:
            payload = None
            failure = describe_failure(
                exc.operation_name.split(":")[0] if exc.operation_name else "aws", exc.operation_name, exc
            )
            code, message, details = failure.exit_code, str(failure), {}
        retries = rt.retries()
        for entry in retries:
            rt.out.say(
                f"note: AWS {entry['operation']} was retried {entry['retries']} time(s) ({entry['reason']})",
                style="yellow",
            )
        if payload is not None:
            payload["retries"] = retries
            # A command that succeeded may still answer with a code (diff: changes or none).
            code = int(payload.pop("exit_code", errors.OK))
            rt.out.result(payload)
        else:
            details["retries"] = retries
            rt.out.error(message, exit_code=code, details=details)
        sys.exit(code)

    return wrapper
