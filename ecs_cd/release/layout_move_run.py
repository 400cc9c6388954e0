"""`ecs-release move-layout ENV`'s work: after ``stack_per_service`` was flipped in the
configuration, move each service's resources from the stack(s) of the other layout into the
stacks of the configuration's, with no resource replaced (ecs_cd/release/layout_move.py says how).

1. synthesize the configuration's layout (into ``OUTPUT/move-layout``, so that no stack directory
   of the other layout, where a local state lives, is removed as an orphan);
2. read the other layout's states with ``terraform state pull`` in their stack directories under
   ``OUTPUT/stacks`` (one stack: the environment's; split: each service's, whose directory gets a
   stack that declares nothing, with its backend: ``StackLayout`` of the flipped layout);
3. write the import blocks into the stacks that take the resources and the removed blocks into
   those that give them up, in ``OUTPUT/stacks/<stack>/cdk.tf.json``;
4. plan every one of them first (nothing applied if any is refused: an imported address replaced
   or destroyed, as deploy's guard says; a source that would destroy anything), then apply the
   saved plans: the destinations, then the sources.

A run after a partial failure converges: an import of an address already in the destination's
state is no import, and a source's state without the address has nothing to forget.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ecs_cd.release import errors, signals, synth_cache
from ecs_cd.release.errors import BadInput, DeployFailed, DeployNotStarted, PlanRefused
from ecs_cd.release.layout_move import (
    Move,
    Summary,
    deletions,
    forgetting_stack,
    move,
    read_state,
    summary,
    with_blocks,
)
from ecs_cd.release.plan_guard import adopted, refusals
from ecs_cd.release.targets import environment
from ecs_cd.release.terraform_cli import OWN_SESSION, Result, Terraform
from stacks.layout import StackLayout, StackPlace

if TYPE_CHECKING:
    from ecs_cd.release.runtime import Runtime
    from stacks.settings import EnvironmentSettings

PLAN_FILE = "ecs-release-move.tfplan"
LOG_NAME = "ecs-release-move-layout.log"
SYNTHESIS = "move-layout"  # under the output directory


@dataclass(frozen=True)
class Request:
    env: str
    outdir: Path
    dry_run: bool = False
    parallel: int = 1  # stacks planned or applied at once


@dataclass
class Step:
    """One stack of the move: a ``destination`` (imports) or a ``source`` (removed blocks)."""

    stack: str
    role: str
    document: dict[str, Any]
    moves: list[Move]
    plan: Summary = field(default_factory=Summary)
    applied: str | None = None  # Terraform's summary line, once applied

    @property
    def others(self) -> list[str]:
        """The stacks it takes from (a destination) or gives to (a source)."""
        return [m.source if self.role == "destination" else m.destination for m in self.moves]

    @property
    def count(self) -> int:
        return sum(m.count for m in self.moves)

    def to_json(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "role": self.role,
            ("from" if self.role == "destination" else "to"): self.others,
            "imports": {a: i for m in self.moves for a, i in m.imports.items()}
            if self.role == "destination"
            else {},
            "recreated": [a for m in self.moves for a in m.recreated] if self.role == "destination" else [],
            "forgotten": [r for m in self.moves for r in m.forgotten] if self.role == "source" else [],
            "plan": dict(self.plan.counts()),
            "applied": self.applied is not None,
            "summary": self.applied,
        }


@dataclass
class Moving:
    """The move of one environment: its stacks in the order they apply, destinations first."""

    env: str
    split: bool
    directory: Path  # OUTPUT/stacks
    cli: Terraform
    raw: Callable[[str], None]  # Terraform's output, shown when a command of it failed or applied
    parallel: int = 1
    steps: list[Step] = field(default_factory=list)

    @property
    def layout_text(self) -> str:
        return "a stack per service" if self.split else "one stack"


def move_layout(
    rt: Runtime, request: Request, say: Callable[[str], None], raw: Callable[[str], None]
) -> Moving:
    """Move ``request.env``'s services into the stacks of its configured layout (see the module)."""
    from ecs_cd.release.deploy_run import prepare_output

    env_settings = environment(rt.settings, request.env)
    rt.aws(env_settings)  # the account guard, before Terraform reads anything
    outdir = prepare_output(request.outdir)
    tool_env, terraform = _tools(rt, env_settings)
    documents = _synthesize(rt, request.env, outdir, tool_env)
    synth_cache.forget(outdir)  # the stacks' documents below are the move's, not a synthesis's
    cli = Terraform(terraform, tool_env, signals=OWN_SESSION)
    moving = Moving(
        request.env, env_settings.stack_per_service, outdir / "stacks", cli, raw, request.parallel
    )
    flipped = env_settings.model_copy(update={"stack_per_service": not env_settings.stack_per_service})
    old = StackLayout.of(flipped)
    moving.steps = _steps(moving, StackLayout.of(env_settings), old, documents, outdir)
    run_steps(moving, request.dry_run, say)
    return moving


def run_steps(moving: Moving, dry_run: bool, say: Callable[[str], None]) -> None:
    """Plan every step; unless ``dry_run``, then apply the destinations' plans, then the sources'."""
    if not moving.steps:
        return
    _plan_all(moving, dry_run, say)
    if not dry_run:
        _apply_all(moving, say)


def _tools(rt: Runtime, env_settings: EnvironmentSettings) -> tuple[dict[str, str], str]:
    from ecs_cd.release.deploy_run import find_terraform
    from ecs_cd.toolchain.cdktf_cli import lock_timeout_environment, tool_environment
    from ecs_cd.toolchain.errors import ToolError
    from ecs_cd.toolchain.terraform_offline import terraform_setup

    try:
        setup = terraform_setup(rt.project.cache)
        extra = {
            **lock_timeout_environment(env_settings.state.lock_timeout_seconds),
            "ECS_CD_CONFIG": str(rt.config.resolve()),
        }
        tool_env = tool_environment(setup, emulator_endpoint=env_settings.emulator_endpoint, extra=extra)
        return rt.project.child_environment(tool_env), find_terraform(tool_env)
    except ToolError as exc:
        raise DeployNotStarted(f"{exc}; nothing was applied") from None


def _synthesize(rt: Runtime, env: str, outdir: Path, tool_env: dict[str, str]) -> dict[str, dict[str, Any]]:
    """The configuration's stacks, synthesized into OUTPUT/move-layout: stack -> its document."""
    from ecs_cd.release.synthesis import synthesize

    into = outdir / SYNTHESIS
    synthesize(rt.project, into, tool_env, head=f"move-layout {env}", log=LOG_NAME)
    documents = {}
    for path in sorted((into / "stacks").glob("*/cdk.tf.json")):
        documents[path.parent.name] = json.loads(path.read_text())
    return documents


def _steps(
    moving: Moving,
    new: StackLayout,
    old: StackLayout,
    documents: Mapping[str, dict[str, Any]],
    outdir: Path,
) -> list[Step]:
    """The destinations and then the sources, each with what it takes or gives up; none that
    has nothing to move."""
    env_document = documents[moving.env]
    if new.split:  # the environment's stack gives its services' resources to their own stacks
        sources = {moving.env: env_document}
    else:  # each service's old stack gives its resources to the environment's
        backend = env_document.get("terraform", {}).get("backend", {})
        sources = {
            p.name: forgetting_stack(env_document, _backend_of(p, backend))
            for p in old.places
            if p.service is not None and _has_state(p, outdir)
        }
    states = {name: _pulled(moving, name, document) for name, document in sources.items()}
    destinations = [p.name for p in new.places if p.service is not None] if new.split else [moving.env]
    found = [_moved(s, states[s], d, documents[d]) for d in destinations for s in sources]
    found = [m for m in found if m.count]
    steps = []
    for d in destinations:
        into = [m for m in found if m.destination == d]
        if into:
            imports = {a: i for m in into for a, i in m.imports.items()}
            steps.append(Step(d, "destination", with_blocks(documents[d], imports=imports), into))
    for s, document in sources.items():
        out_of = [m for m in found if m.source == s]
        if out_of:
            removed = [r for m in out_of for r in m.forgotten]
            steps.append(Step(s, "source", _removing(s, document, removed), out_of))
    for step in steps:
        _write(moving.directory / step.stack, step.document)
    return steps


def _moved(source: str, state: Mapping[str, Any], destination: str, document: Mapping[str, Any]) -> Move:
    try:
        return move(source, state, destination, document)
    except ValueError as exc:
        raise BadInput(f"move-layout: {exc}; nothing was applied") from None


def _removing(stack: str, document: Mapping[str, Any], removed: list[str]) -> dict[str, Any]:
    try:
        return with_blocks(document, removed=removed)
    except ValueError as exc:
        raise BadInput(f"move-layout: {stack}: {exc}; nothing was applied") from None


def _backend_of(place: StackPlace, backend: Mapping[str, Any]) -> dict[str, Any]:
    """The backend of an old service stack: the environment's, with that stack's S3 key (a local
    state's path is relative to the stack's own directory: the same)."""
    if "s3" in backend and place.state_key is not None:
        return {"s3": {**backend["s3"], "key": place.state_key}}
    return dict(backend)


def _has_state(place: StackPlace, outdir: Path) -> bool:
    """Whether there may be a state to read: always in S3; a local one only where its file is."""
    return place.state_path is None or (outdir / place.state_path).is_file()


def _write(directory: Path, document: Mapping[str, Any]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "cdk.tf.json").write_text(json.dumps(document, indent=2))


def _pulled(moving: Moving, stack: str, document: Mapping[str, Any]) -> dict[str, Any]:
    """The state of ``stack`` (``terraform state pull`` in its directory, given ``document``)."""
    directory = moving.directory / stack
    _write(directory, document)
    _pull_ran(moving, stack, moving.cli.init(directory))
    pulled = _pull_ran(moving, stack, moving.cli.state_pull(directory, timeout=300))
    try:
        return read_state(pulled.text)
    except ValueError as exc:
        raise DeployFailed(f"move-layout {moving.env}: the state of {stack} cannot be read ({exc})") from None


def _pull_ran(moving: Moving, stack: str, result: Result) -> Result:
    """Reading a state: a failure or a signal stops the move before anything is applied."""
    if result.signal_number is not None:
        raise errors.Interrupted(
            f"move-layout {moving.env} interrupted by {signals.name(result.signal_number)} while reading "
            f"the state of {stack}; nothing was applied",
            signal_number=result.signal_number,
        )
    try:
        return _ran(moving, stack, result)
    except DeployFailed as exc:
        raise DeployFailed(f"move-layout {moving.env}: {exc}; nothing was applied") from None


def _ran(moving: Moving, stack: str, result: Result) -> Result:
    """``result`` if Terraform succeeded; else ``DeployFailed`` (the caller says what was applied)."""
    if not result.ok:
        if result.command != "apply":  # an apply's output was shown as it ran
            moving.raw((result.text + result.errors)[-4000:])
        raise DeployFailed(f"terraform {result.command} of {stack} failed (its output above)")
    return result


def _in_parallel(moving: Moving, steps: Sequence[Step], work: Callable[[Step], None]) -> None:
    """``work`` on each step, at most ``moving.parallel`` at once. A SIGINT or SIGTERM starts no
    other, lets the Terraform commands running finish (each in a session of its own), then
    raises ``Interrupted`` saying what was applied; a failure raises once all have ended."""
    received: list[int] = []

    def guarded(step: Step) -> None:
        if not received:
            work(step)

    with signals.forwarding(received.append), ThreadPoolExecutor(max_workers=moving.parallel) as pool:
        futures = [pool.submit(guarded, step) for step in steps]
        failures = [exc for f in futures if (exc := f.exception()) is not None]
    if received:
        raise errors.Interrupted(
            f"move-layout {moving.env} interrupted by {signals.name(received[0])}; {outcome(moving)}",
            signal_number=received[0],
        )
    if failures:
        first = failures[0]
        if not isinstance(first, DeployFailed):
            raise first
        raise DeployFailed(f"move-layout {moving.env}: {first}; {outcome(moving)}", details=first.details)


def _plan_all(moving: Moving, dry_run: bool, say: Callable[[str], None]) -> None:
    """Plan every stack of the move; ``PlanRefused`` (nothing applied) if any plan replaces or
    destroys an imported address, or a source's plan destroys anything."""
    refused: list[str] = []

    def plan(step: Step) -> None:
        directory = moving.directory / step.stack
        _ran(moving, step.stack, moving.cli.init(directory))
        # A source only forgets: its resources need not be read again.
        planned = moving.cli.plan(directory, PLAN_FILE, lock=not dry_run, refresh=step.role == "destination")
        _ran(moving, step.stack, planned)
        shown = _ran(moving, step.stack, moving.cli.show_json(directory, PLAN_FILE))
        step.plan = summary(shown.document)
        say(f"{step.stack}: plan: {step.plan.text()}")
        if step.role == "destination":
            refused.extend(
                f"{step.stack}: {r.text()}" for r in refusals(shown.document, adopted(step.document))
            )
        else:
            refused.extend(
                f"{step.stack}: the plan would destroy {a}, which the new layout does not have"
                for a in deletions(shown.document)
            )

    try:
        _in_parallel(moving, moving.steps, plan)
    finally:
        if dry_run or refused:
            _forget_plans(moving)
    if refused:
        raise PlanRefused(
            f"move-layout {moving.env}: refusing to apply: {'; '.join(refused)}; nothing was applied",
            details={"refused": refused, "nothing_applied": True},
        )


def _forget_plans(moving: Moving) -> None:
    for step in moving.steps:
        (moving.directory / step.stack / PLAN_FILE).unlink(missing_ok=True)


def _apply_all(moving: Moving, say: Callable[[str], None]) -> None:
    """Apply the saved plans: the destinations (at most ``parallel`` at once), then, once every
    one of them is applied, the sources; a failure says what was applied and what was not."""
    printing = threading.Lock()

    def apply(step: Step) -> None:
        def show(line: str) -> None:
            with printing:
                moving.raw(f"{step.stack}  {line}")

        applied = moving.cli.apply(moving.directory / step.stack, plan_file=PLAN_FILE, on_line=show)
        _ran(moving, step.stack, applied)
        step.applied = applied.summary
        with printing:
            say(moved_text(step))

    try:
        for role in ("destination", "source"):
            _in_parallel(moving, [s for s in moving.steps if s.role == role], apply)
    finally:
        _forget_plans(moving)


def outcome(moving: Moving) -> str:
    """What the move has applied so far, and what not: ``dev-api: imported 14 resources from
    dev; not applied: dev (it still manages them too: run move-layout again)``."""
    done = [moved_text(s) for s in moving.steps if s.applied is not None]
    rest = [s for s in moving.steps if s.applied is None]
    if not done:
        return "nothing was applied"
    parts = [f"applied: {'; '.join(done)}"]
    if rest:
        parts.append(f"not applied: {', '.join(s.stack for s in rest)}")
    sources = [s.stack for s in rest if s.role == "source"]
    if sources:
        parts.append(
            f"{', '.join(sources)} still manage{'s' if len(sources) == 1 else ''} the resources moved "
            f"too: run `ecs-release move-layout {moving.env}` again"
        )
    return "; ".join(parts)


def moved_text(step: Step) -> str:
    """``dev-api: imported 14 resources from dev`` (a destination), ``dev: forgot 29 resources,
    now in dev-api, dev-worker`` (a source)."""
    if step.role == "destination":
        imported = sum(len(m.imports) for m in step.moves)
        recreated = [a for m in step.moves for a in m.recreated]
        text = f"{step.stack}: imported {imported} resources from {', '.join(step.others)}"
        return text + (f", created anew: {', '.join(recreated)}" if recreated else "")
    forgotten = sum(len(m.forgotten) for m in step.moves)
    return f"{step.stack}: forgot {forgotten} resources, now in {', '.join(step.others)}"
