"""What to say about a deploy that failed or was interrupted: one error, claiming only what the
recorded Terraform commands and Terraform's own output show, with advice that works for the
environment's state backend."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ecs_cd.release import signals
from ecs_cd.release.errors import DeployFailed, DeployNotStarted, Interrupted, PlanRefused, ReleaseError
from ecs_cd.release.terraform_commands import APPLYING_COMMANDS
from stacks.settings import LocalState, S3State

if TYPE_CHECKING:
    from ecs_cd.release.run_result import RunResult


def _head(env: str, result: RunResult) -> str:
    return result.label or f"cdktf deploy {env}"


def _holder_of(info: Mapping[str, str]) -> str:
    if not info.get("Who"):
        return ""
    operation = info.get("Operation", "").removeprefix("OperationType").lower()
    return (
        f" ({info['Who']}"
        + (f", {operation}" if operation else "")
        + (f" since {info['Created']}" if info.get("Created") else "")
        + (f", lock id {info['ID']}" if info.get("ID") else "")
        + ")"
    )


def interruption(
    env: str, result: RunResult, *, locks_held: Sequence[str], state: LocalState | S3State | None = None
) -> Interrupted:
    """What a signal during the run did, claiming only what the recorded commands and
    Terraform's own output show."""
    stopping = result.stopping
    number = stopping.signal_number
    assert number is not None
    applied = result.stacks_with(frozenset({"apply"}))
    unfinished = [s for s in applied if s not in result.output.apply_completed]
    details: dict[str, object] = {
        "signal": signals.name(number),
        "terraform_ran": result.terraform_ran,
        "nothing_applied": not applied,
        "applies_finished": [s for s in applied if s not in unfinished],
        "applies_interrupted": unfinished,
        "terraform_killed": stopping.killed,
        "locks_held": list(locks_held),
    }
    head = f"{_head(env, result)} interrupted by {signals.name(number)}"
    if not applied:
        return Interrupted(
            f"{head} before Terraform applied anything: nothing was applied",
            signal_number=number,
            details=details,
        )
    if isinstance(state, LocalState):
        left = lock_info_files(state, result.stacks_dir, applied)
        details["lock_info_left"] = [str(p) for p in left]
        lock = "the state lock was released" + _left_behind(left)
    elif locks_held:
        lock = (
            f"the state lock of {', '.join(locks_held)} is still held: once no run is active, "
            f"`ecs-release unlock {env} --force`"
        )
    else:
        lock = "the state lock was released"
    if not unfinished:
        return Interrupted(
            f"{head} after Terraform finished the apply of {', '.join(applied)}: the plan was applied "
            f"and the state written ({lock}); the rollout was not followed: check "
            f"`ecs-release status {env}`",
            signal_number=number,
            details=details,
        )
    how = "was killed" if stopping.killed else "was interrupted"
    return Interrupted(
        f"{head}: Terraform {how} during the apply of {', '.join(unfinished)}; it may have applied "
        f"part of the plan, and resources it was creating may exist in AWS without being in the "
        f"state (the next deploy names them, with the import command) ({lock}): check "
        f"`ecs-release status {env}` and deploy again",
        signal_number=number,
        details=details,
    )


def lock_info_files(state: LocalState, stacks_dir: Path, stacks: Sequence[str]) -> list[Path]:
    """The lock-info files a killed Terraform left next to the local state of ``stacks``."""
    relative = Path(state.path)
    name = f".{relative.name}.lock.info"  # where Terraform's local backend writes it
    return [p for p in (stacks_dir / s / relative.parent / name for s in stacks) if p.is_file()]


def _left_behind(left: Sequence[Path]) -> str:
    if not left:
        return ""
    return (
        f"; Terraform left {', '.join(str(p) for p in left)} behind: it holds no lock (a local state's "
        "lock is the OS's, gone with the process) and can be removed"
    )


def _lock_after_kill(
    env: str, result: RunResult, stacks: Sequence[str], state: LocalState | S3State | None
) -> tuple[str, list[str]]:
    """What a killed Terraform left of its state lock, ending in what to check; only commands
    that work for the environment's backend (`unlock` knows S3 lock objects only). Also the
    lock-info files left next to a local state."""
    if isinstance(state, LocalState):
        left = lock_info_files(state, result.stacks_dir, stacks)
        return (
            "; its state lock was released when it died (a local state's lock is the OS's)"
            f"{_left_behind(left)}: check `ecs-release status {env}`",
            [str(p) for p in left],
        )
    if isinstance(state, S3State) and not state.use_lockfile:  # no lock was taken
        return f": check `ecs-release status {env}`", []
    return f", and left its state lock: check `ecs-release unlock {env}` and `ecs-release status {env}`", []


def _unfinished_apply(
    env: str, result: RunResult, state: LocalState | S3State | None = None
) -> DeployFailed | None:
    """cdktf exits 0 when Terraform is killed mid-apply (seen with SIGKILL): an apply that never
    said "Apply complete!" did not finish, whatever the exit code."""
    applied = result.stacks_with(frozenset({"apply"}))
    unfinished = [s for s in applied if s not in result.output.apply_completed]
    if not unfinished or "?" in result.output.apply_completed:
        return None
    lock, left = _lock_after_kill(env, result, unfinished, state)
    details: dict[str, object] = {"terraform_ran": True, "nothing_applied": False, "unfinished": unfinished}
    if isinstance(state, LocalState):
        details["lock_info_left"] = left
    return DeployFailed(
        f"{_head(env, result)} exited 0, but Terraform's apply of {', '.join(unfinished)} never said "
        f"'Apply complete!': it was killed or stopped mid-apply and may have applied part of the plan"
        f"{lock}, then deploy again",
        details=details,
    )


def _killed_applies(
    env: str, result: RunResult, state: LocalState | S3State | None = None
) -> DeployFailed | None:
    """Run directly, Terraform's exit is seen: an apply killed by a signal did not finish."""
    killed = {o.stack: number for o in result.outcomes if (number := o.killed_by) is not None}
    if not killed:
        return None
    stacks = list(killed)
    how = ", ".join(sorted({signals.name(number) for number in killed.values()}))
    lock, left = _lock_after_kill(env, result, stacks, state)
    details: dict[str, object] = {
        "terraform_ran": True,
        "nothing_applied": False,
        "unfinished": stacks,
        "stack_outcomes": [o.to_json() for o in result.outcomes],
    }
    if isinstance(state, LocalState):
        details["lock_info_left"] = left
    return DeployFailed(
        f"{_head(env, result)}: Terraform's apply of {', '.join(stacks)} was killed ({how}) and never said "
        f"'Apply complete!': it may have applied part of the plan{lock}, then deploy again"
        f"{result.outcome_text()}",
        details=details,
    )


def failure(
    env: str,
    result: RunResult,
    *,
    lock_timeout: int,
    lock_waits: Sequence[dict[str, Any]] = (),
    state: LocalState | S3State | None = None,
) -> ReleaseError | None:
    """The error for a failed cdktf deploy, claiming only what the recorded commands show.

    ``state``: the environment's backend, so that the advice names only commands that work for
    it (None: as for S3)."""
    if result.returncode == 0:
        return _unfinished_apply(env, result, state)
    killed = _killed_applies(env, result, state)
    if killed is not None:
        return killed
    details: dict[str, object] = {"terraform_ran": result.terraform_ran, "lock_waits": list(lock_waits)}
    if result.outcomes:
        details["stack_outcomes"] = [o.to_json() for o in result.outcomes]
    return (
        _refused(env, result, details)
        or _not_started(env, result, details)
        or _locked(env, result, details, lock_timeout=lock_timeout, state=state)
        or _failed_before_apply(env, result, details)
        or _already_exists(env, result, details)
        or _failed_after_start(env, result, details)
    )


def _refused(env: str, result: RunResult, details: dict[str, object]) -> ReleaseError | None:
    """The guard refused a stack's plan: it would replace or destroy an adopted resource. Nothing
    of that stack was applied; another stack of the run may have been."""
    from ecs_cd.release.plan_guard import refusal_message

    refused = [o for o in result.outcomes if o.apply == "refused"]
    if not refused:
        return None
    stacks = [o.stack for o in refused]
    others = [s for s in result.stacks_with(APPLYING_COMMANDS) if s not in stacks]
    if others:
        outcome = (
            f"nothing was applied to {', '.join(stacks)}, but Terraform applied {', '.join(others)}: "
            f"check `ecs-release status {env}`"
        )
    else:
        outcome = "nothing was applied"
    details.update(
        {
            "nothing_applied": not others,
            "refused": [{"stack": o.stack, **r.to_json()} for o in refused for r in o.refusals],
        }
    )
    return PlanRefused(
        refusal_message(env, [r for o in refused for r in o.refusals], outcome=outcome), details=details
    )


def _not_started(env: str, result: RunResult, details: dict[str, object]) -> ReleaseError | None:
    """Terraform never ran in a stack directory: synthesis, cdktf or the runner failed first."""
    if not result.stopped_before_terraform:
        return None
    if result.output.synth_error:
        stage = "synthesis failed"
    else:
        stage = "no stack could be started" if result.direct else "cdktf failed"
    log = f" (cdktf's output: {result.log})" if result.log else ""
    details.update({"nothing_applied": True, "log": str(result.log) if result.log else None})
    return DeployNotStarted(
        f"{_head(env, result)} stopped before Terraform ran, {stage}: "
        f"{result.output.failure_reason()}; nothing was applied{log}",
        details=details,
    )


def _locked(
    env: str,
    result: RunResult,
    details: dict[str, object],
    *,
    lock_timeout: int,
    state: LocalState | S3State | None,
) -> ReleaseError | None:
    """Another run held a state lock for longer than the lock timeout."""
    if not result.output.lock_errors:
        return None
    applied = result.stacks_with(APPLYING_COMMANDS)
    locked = list(result.output.lock_errors)
    before = [s for s in applied if s not in locked]
    holder = _holder_of(next(iter(result.output.lock_errors.values())))
    if before:
        outcome = (
            f"nothing was applied to {', '.join(locked)}, but Terraform had applied "
            f"{', '.join(before)} before: check `ecs-release status {env}`"
        )
    else:
        outcome = "nothing was applied"
    details.update({"nothing_applied": not before, "lock": result.output.lock_errors})
    if isinstance(state, LocalState):
        # An OS lock: only a running Terraform holds it, and `unlock` knows S3 locks only.
        advice = (
            "Retry once that run has ended, or raise the timeout (a local state's lock goes with its process)"
        )
    else:
        advice = f"Retry, raise the timeout, or if that run died: ecs-release unlock {env} --force"
    return DeployFailed(
        f"{_head(env, result)}: the state is locked by another run{holder} and stayed locked for "
        f"lock_timeout_seconds = {lock_timeout}; {outcome}. {advice}",
        details=details,
    )


def _failed_before_apply(env: str, result: RunResult, details: dict[str, object]) -> ReleaseError | None:
    """A Terraform command failed before any apply started (init, plan, …)."""
    if not result.recorded or result.stacks_with(APPLYING_COMMANDS):
        return None
    last = result.commands[-1]
    step = f"terraform {last.subcommand or ' '.join(last.args)}"
    where = f" of stack {last.directory.name}" if result.terraform_ran else ""
    details["nothing_applied"] = True
    return DeployFailed(
        f"{_head(env, result)} failed before Terraform applied anything ({step}{where} failed, "
        f"see its output above); nothing was applied{result.outcome_text()}",
        details=details,
    )


def _applied_text(result: RunResult) -> str:
    applied = result.stacks_with(APPLYING_COMMANDS)
    return f" (apply started for {', '.join(applied)})" if applied else ""


def _already_exists(env: str, result: RunResult, details: dict[str, object]) -> ReleaseError | None:
    """The apply failed on resources AWS has and the state lacks: each with its import command."""
    existing = [e for e in result.output.already_exists if e.address]
    if not existing:
        return None
    details["nothing_applied"] = False
    details["already_exists"] = [
        {
            "stack": e.stack,
            "address": e.address,
            "name": e.name,
            "import": e.import_command(result.stacks_dir),
        }
        for e in existing
    ]
    found = "; ".join(f"{e.what} {e.name} ({e.address})" for e in existing)
    commands = "; ".join(e.import_command(result.stacks_dir) for e in existing)
    return DeployFailed(
        f"{_head(env, result)}: already in AWS but not in the Terraform state: {found}. An earlier "
        f"apply that was killed, or another stack, created it; Terraform may have applied part of "
        f"the plan before failing{_applied_text(result)}. If it is this stack's, import it into the "
        f"state, then deploy again: "
        f"{commands}",
        details=details,
    )


def _failed_after_start(env: str, result: RunResult, details: dict[str, object]) -> ReleaseError:
    """Terraform failed once an apply had started: part of the plan may be applied."""
    details["nothing_applied"] = False
    how = "failed" if result.direct else f"exited with {result.returncode}"
    return DeployFailed(
        f"{_head(env, result)} {how} after Terraform started{_applied_text(result)}; "
        f"Terraform may have applied part of the plan before failing: check `ecs-release status {env}` "
        f"and deploy again{result.outcome_text()}",
        details=details,
    )
