"""`ecs-release`'s state commands: bootstrap, verify, unlock, state-versions, state-restore,
move-layout (their work: state.py, verify.py and layout_move_run.py)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from ecs_cd.release import state as state_ops
from ecs_cd.release.aws import Aws
from ecs_cd.release.cli_command import EXIT_CODES, command
from ecs_cd.release.cli_types import output_option
from ecs_cd.release.errors import VerificationFailed
from ecs_cd.release.runtime import Runtime
from ecs_cd.release.state import s3_state
from ecs_cd.release.targets import environment, targets
from ecs_cd.release.verify import problems_text, run_checks
from stacks.settings import EnvironmentSettings, S3State


def _state_aws(rt: Runtime, env: str) -> tuple[Aws, S3State, EnvironmentSettings]:
    env_settings = environment(rt.settings, env)
    state = s3_state(env_settings)
    return rt.aws(env_settings, state.region), state, env_settings


@click.command(epilog=EXIT_CODES)
@click.argument("env")
@click.option(
    "--tls-only/--no-tls-only",
    default=None,
    help="Deny plain-HTTP access (default: on, except for a plain-HTTP emulator endpoint).",
)
@command
def bootstrap(rt: Runtime, env: str, tls_only: bool | None) -> dict[str, Any]:
    """Create ENV's state bucket: versioning, encryption, public access blocked, TLS only. Idempotent."""
    aws, state, env_settings = _state_aws(rt, env)
    if tls_only is None:
        endpoint = env_settings.emulator_endpoint
        tls_only = endpoint is None or not endpoint.startswith("http://")
    done = state_ops.bootstrap(aws, state, tls_only=tls_only)
    for line in done:
        rt.out.say(f"{state.bucket}: {line}")
    return {"environment": env, "bucket": state.bucket, "region": state.region, "done": done}


@click.command("verify", epilog=EXIT_CODES)
@click.argument("env")
@click.argument("service", required=False)
@command
def verify_command(rt: Runtime, env: str, service: str | None) -> dict[str, Any]:
    """Check what a deploy of ENV needs, writing nothing: the credentials' account, the state
    bucket (exists, versioned, encrypted), the listener, each service's tag parameter and its
    image in ECR (in the repository's region), and every secret's ARN. Exit 4 on any problem."""
    env_settings = environment(rt.settings, env)
    report = run_checks(rt, env_settings, targets(rt.settings, env, service), passed=True)
    result: dict[str, Any] = {"environment": env, "passed": report.passed, "problems": report.problems}
    if report.problems:
        raise VerificationFailed(f"{env}: {problems_text(report.problems)}", details=result)
    return result


@click.command(epilog=EXIT_CODES)
@click.argument("env")
@click.option("--force", is_flag=True, help="Delete the lock. Only when the run holding it is dead.")
@command
def unlock(rt: Runtime, env: str, force: bool) -> dict[str, Any]:
    """Show who holds ENV's state lock; with --force, clear a stale one."""
    aws, state, _ = _state_aws(rt, env)
    lock = state_ops.read_lock(aws, state)
    if lock is None:
        rt.out.say(f"s3://{state.bucket}/{state.key}: not locked")
        return {"environment": env, "locked": False, "cleared": False}
    rt.out.say(
        f"s3://{state.bucket}/{state.key} is locked: id {lock.id}, "
        f"{lock.operation} by {lock.who} since {lock.created}"
    )
    if not force:
        rt.out.say("if that run is dead, clear the lock with --force")
        return {"environment": env, "locked": True, "cleared": False, "lock": lock.raw}
    state_ops.clear_lock(aws, state)
    rt.out.say("lock cleared; the next deploy will take it normally", style="green")
    return {"environment": env, "locked": False, "cleared": True, "lock": lock.raw}


@click.command("state-versions", epilog=EXIT_CODES)
@click.argument("env")
@command
def state_versions(rt: Runtime, env: str) -> dict[str, Any]:
    """List the versions of ENV's state object, newest first."""
    aws, state, _ = _state_aws(rt, env)
    found = state_ops.versions(aws, state)
    rt.out.table(
        f"s3://{state.bucket}/{state.key}",
        ["version id", "modified", "bytes", "current"],
        [(v["version_id"], v["modified"], v["size"], "yes" if v["latest"] else "") for v in found],
    )
    return {"environment": env, "bucket": state.bucket, "key": state.key, "versions": found}


@click.command("state-restore", epilog=EXIT_CODES)
@click.argument("env")
@click.option("--version-id", default=None, help="Version to restore (default: the one before the current).")
@command
def state_restore(rt: Runtime, env: str, version_id: str | None) -> dict[str, Any]:
    """Make an earlier version of ENV's state current again (a new version; nothing is deleted)."""
    aws, state, _ = _state_aws(rt, env)
    restored, new_version = state_ops.restore_previous(aws, state, env, version_id)
    rt.out.say(
        f"restored {restored} as the current state of {env} (new version {new_version})", style="green"
    )
    return {"environment": env, "restored": restored, "new_version": new_version}


@click.command("move-layout", epilog=EXIT_CODES)
@click.argument("env")
@output_option()
@click.option("--dry-run", is_flag=True, help="Plan every stack of the move and print it; apply nothing.")
@click.option(
    "--parallel",
    type=click.IntRange(1, 64),
    default=lambda: os.cpu_count() or 1,
    show_default="the machine's cores",
    help="How many stacks are planned, or applied, at once (the stacks that take the resources are "
    "all applied before those that give them up).",
)
@command
def move_layout(rt: Runtime, env: str, outdir: Path | None, dry_run: bool, parallel: int) -> dict[str, Any]:
    """After `stack_per_service` was flipped for ENV in the configuration (before the next deploy):
    move each service's resources from the other layout's state(s) into the stacks of the new one,
    nothing replaced or destroyed: import blocks in the stacks that take them, removed blocks
    (destroy = false) in those that give them up; every plan is checked first, then the takers
    are applied, then the givers. Run again after a failure: it converges."""
    from ecs_cd.release.layout_move_run import Request
    from ecs_cd.release.layout_move_run import move_layout as run

    moving = run(rt, Request(env, outdir or rt.project.output, dry_run, parallel), rt.out.say, rt.out.raw)
    if not moving.steps:
        rt.out.say(f"{env}: nothing to move: its services' resources are in the stacks of its layout")
    elif dry_run:
        rt.out.say(
            f"{env}: dry run: nothing was applied (above: the plans of the move to {moving.layout_text})"
        )
    else:
        rt.out.say(f"{env}: moved to {moving.layout_text}: `ecs-release deploy {env}` deploys it from now on")
    return {
        "environment": env,
        "layout": "stack_per_service" if moving.split else "one_stack",
        "dry_run": dry_run,
        "moved": sum(s.count for s in moving.steps if s.role == "destination"),
        "stacks": [s.to_json() for s in moving.steps],
    }
