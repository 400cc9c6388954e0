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

EXIT_CODES = (
    "\nExit codes: " + "; ".join(f"{code} {meaning}" for code, meaning in errors.EXIT_CODE_MEANINGS) + ".\n"
)


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
