"""`ecs-release deploy ENV` as named steps: verify → synthesize or reuse → gate (pre-deploy) →
guard (adopted resources, --via cdktf) → apply → follow the rollout.

``deploy(options, rt)`` runs them in order; each is a function a test can call. A new deploy
behaviour is a new step here (or in a module of its own that a step calls), not another branch.
"""

from __future__ import annotations

import contextlib
import functools
import shutil
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ecs_cd.release import errors, jobs, signals, synth_cache
from ecs_cd.release import state as state_ops
from ecs_cd.release.errors import (
    AwsUnreachable,
    BadInput,
    DeployFailed,
    DeployNotStarted,
    ReleaseError,
    RolloutFailed,
    VerificationFailed,
)
from ecs_cd.release.follow import follow
from ecs_cd.release.rollout import describe_service, primary_deployment
from ecs_cd.release.targets import Target, environment, targets
from ecs_cd.release.verify import problems_text, run_checks
from stacks.layout import StackLayout

if TYPE_CHECKING:
    from ecs_cd.release.lock_watch import LockSpot, LockWatch
    from ecs_cd.release.project import Project
    from ecs_cd.release.run_result import RunResult
    from ecs_cd.release.runtime import Runtime
    from ecs_cd.release.terraform_commands import TerraformRecorder
    from ecs_cd.release.terraform_run import StackOutcome
    from ecs_cd.toolchain.terraform_offline import TerraformSetup
    from stacks.settings import EnvironmentSettings


@dataclass(frozen=True)
class DeployOptions:
    """Everything a deploy is told: the command's options, and what the runtime adds (``project``,
    the configuration file and its directory; ``color``, whether output goes to a terminal)."""

    env: str
    outdir: Path
    project: Project
    only: str | None = None
    finish_timeout: float = 60
    parallel: int = 1
    via: str = "terraform"
    verify: bool = True
    wait: bool = False
    timeout: float = 900
    poll: float = 5
    color: bool = False

    @property
    def config(self) -> Path:
        return self.project.config

    @property
    def direct(self) -> bool:
        """Terraform run by ecs_cd/release/terraform_run.py, not through `cdktf deploy`."""
        return self.via == "terraform"

    @property
    def label(self) -> str:
        return f"deploy {self.env}" if self.direct else f"cdktf deploy {self.env}"


@dataclass
class Stage:
    """How far the deploy got: ``before`` Terraform ran, Terraform ``ran``, ``after`` its apply."""

    now: str = "before"


@dataclass(frozen=True)
class Scope:
    """What the deploy covers: the environment, its layout, the services and the stacks, in order."""

    settings: EnvironmentSettings
    layout: StackLayout
    targets: list[Target]
    stacks: list[str]

    @property
    def services(self) -> list[Target]:
        """The services (each with an ECS service to roll)."""
        return [t for t in self.targets if not t.service.is_job]

    @property
    def jobs(self) -> list[Target]:
        """The scheduled jobs (a schedule to move, nothing to roll)."""
        return [t for t in self.targets if t.service.is_job]

    @property
    def gated(self) -> list[Target]:
        """The services with a pre-deploy task."""
        return [t for t in self.targets if t.service.pre_deploy is not None]


@dataclass
class Tools:
    """The output directory, the offline Terraform setup and the environment the tools run in."""

    outdir: Path
    setup: TerraformSetup
    env: dict[str, str]
    terraform: str
    lock_timeout: int


@dataclass(frozen=True)
class Synthesis:
    """``ran`` (synthesized by this deploy) or ``reused``, and the fingerprint it is recorded by."""

    state: str
    fingerprint: str


@dataclass
class Applied:
    """What the apply step ran, and the lock waits it saw."""

    ran: RunResult
    lock_waits: list[dict[str, Any]] = field(default_factory=list)


def deploy(options: DeployOptions, rt: Runtime) -> dict[str, Any]:
    """Run the steps; an interruption or AWS out of reach says how far the deploy got."""
    stage = Stage()
    try:
        return run_steps(options, rt, stage)
    except AwsUnreachable as exc:
        if stage.now != "before":
            raise
        raise AwsUnreachable(
            f"deploy {options.env} not started: {exc}; nothing was applied",
            details={"environment": options.env, "deployed": False, "nothing_applied": True},
        ) from None
    except errors.Interrupted as exc:
        if exc.details:  # the run's own report, from what Terraform did
            raise
        raise interrupted(options, stage, exc.signal_number) from None


def interrupted(options: DeployOptions, stage: Stage, signal_number: int) -> errors.Interrupted:
    """The error of a deploy a signal stopped at ``stage``, when the run itself did not report it."""
    env, signal_name, label = options.env, signals.name(signal_number), options.label
    if stage.now == "before":
        message = (
            f"{label} interrupted by {signal_name} before Terraform applied anything: nothing was applied"
        )
    elif stage.now == "ran":
        message = (
            f"{label} interrupted by {signal_name} after Terraform ran, before its outcome "
            f"was read: it may have applied part of the plan: check `ecs-release status {env}`"
        )
    else:
        message = (
            f"deploy {env} interrupted by {signal_name} after Terraform's apply had finished, while "
            f"following the rollout: the deployment goes on in ECS: check `ecs-release status {env}`"
        )
    details: dict[str, object] = {"signal": signal_name, "nothing_applied": stage.now == "before"}
    return errors.Interrupted(message, signal_number=signal_number, details=details)


def run_steps(options: DeployOptions, rt: Runtime, stage: Stage) -> dict[str, Any]:
    """verify → synthesize or reuse → gate → guard → apply → follow; the payload of a deploy that worked."""
    scope = scope_of(options, rt)
    verified = verify(options, rt, scope)
    tools = tools_for(options, rt, scope)
    synthesis = synthesize_or_reuse(options, rt, scope, tools)
    argv = runner_argv(options, rt, scope, tools, synthesis)
    before = {t.service.name: primary(rt, t) for t in scope.services}
    jobs_before = jobs.revisions(rt, scope.jobs)
    gates: list[dict[str, Any]] = []
    if scope.gated:
        stage.now = "ran"
        gates = gate(options, rt, scope, tools, synthesis)
    guard(options, rt, scope, tools, synthesis)
    applied = apply(options, rt, scope, tools, synthesis, argv, stage)
    stage.now = "after"
    payload: dict[str, Any] = {
        "environment": options.env,
        "stacks": scope.stacks,
        "deployed": True,
        "rollouts": [],
        "lock_waits": applied.lock_waits,
        "verify": verified,
        "pre_deploy": gates,
        "synthesis": synthesis.state,
        "parallel": options.parallel if len(scope.stacks) > 1 else None,
        "via": options.via,
        "stack_outcomes": [o.to_json() for o in applied.ran.outcomes],
    }
    say_outcomes(rt, applied.ran.outcomes)
    jobs.report_schedules(rt, scope.jobs, jobs_before, payload)
    follow_rollouts(options, rt, scope, before, payload)
    return payload


# --- the steps ----------------------------------------------------------------------------------


def scope_of(options: DeployOptions, rt: Runtime) -> Scope:
    """The environment (its account checked first), the services and the stacks to deploy."""
    env_settings = environment(rt.settings, options.env)
    rt.aws(env_settings)  # the account guard, before anything else talks to AWS or Terraform
    if options.only is not None and not env_settings.stack_per_service:
        raise BadInput(
            f"environment {options.env} is one stack (stack_per_service = false): deploy it without --service"
        )
    ts = targets(rt.settings, options.env, options.only)
    layout = StackLayout.of(env_settings)
    stacks = list(layout.to_deploy(tuple(t.service.name for t in ts), only=options.only))
    return Scope(env_settings, layout, ts, stacks)


def verify(options: DeployOptions, rt: Runtime, scope: Scope) -> dict[str, Any]:
    """The checks of `ecs-release verify` (unless --no-verify): any problem stops the deploy."""
    if not options.verify:
        return {"skipped": True}
    report = run_checks(rt, scope.settings, scope.targets, passed=False)
    verified = {"passed": report.passed, "problems": report.problems}
    if report.problems:
        raise VerificationFailed(
            f"deploy {options.env} not started: {problems_text(report.problems)}; nothing was applied "
            "(`--no-verify` deploys anyway)",
            details={"environment": options.env, "deployed": False, "verify": verified},
        )
    rt.out.say(f"verified: {len(report.passed)} checks passed")
    return verified


def tools_for(options: DeployOptions, rt: Runtime, scope: Scope) -> Tools:
    """The output directory, and Terraform and the cdktf CLI set up to run offline if need be."""
    from ecs_cd.release.deploy_run import find_terraform, prepare_output
    from ecs_cd.toolchain.cdktf_cli import lock_timeout_environment, tool_environment
    from ecs_cd.toolchain.errors import ToolError
    from ecs_cd.toolchain.terraform_offline import terraform_setup

    outdir = prepare_output(options.outdir)
    try:
        setup = terraform_setup(options.project.cache)
        lock_timeout = scope.settings.state.lock_timeout_seconds
        tool_env = tool_environment(
            setup,
            emulator_endpoint=scope.settings.emulator_endpoint,
            # main.py must synthesize the configuration this command read (--config included)
            extra={**lock_timeout_environment(lock_timeout), "ECS_CD_CONFIG": str(options.config.resolve())},
        )
        tool_env = options.project.child_environment(tool_env)
        terraform = find_terraform(tool_env)
    except ToolError as exc:
        raise DeployNotStarted(f"{exc}; nothing was applied") from None
    return Tools(outdir, setup, tool_env, terraform, lock_timeout)


def synthesize_or_reuse(options: DeployOptions, rt: Runtime, scope: Scope, tools: Tools) -> Synthesis:
    """Reuse the last synthesis if nothing it depends on changed; else forget it (the synthesis
    itself runs in the gate or the apply step)."""
    synth_print = synth_cache.fingerprint(synthesis_directory(options), options.config, tools.env)
    if synth_cache.reusable(tools.outdir, synth_print, scope.stacks):
        rt.out.say(
            f"synthesis reused: the configuration and the code are those of the synthesis in {tools.outdir} "
            f"(fingerprint {synth_print[:12]}), and a tag is read at plan time"
        )
        return Synthesis("reused", synth_print)
    synth_cache.forget(tools.outdir)  # a synthesis that fails half-way leaves no record behind
    return Synthesis("ran", synth_print)


def synthesis_directory(options: DeployOptions) -> Path:
    """Where the synthesis runs: the project directory; with --via cdktf, the cdktf project."""
    if options.direct:
        return options.project.directory
    return options.project.cdktf_project or options.project.directory


def synthesize(options: DeployOptions, tools: Tools) -> None:
    """`python -m ecs_cd.synth` into the output directory (no cdktf CLI); a failure stops the
    deploy before Terraform runs."""
    from ecs_cd.release.cdktf_output import LOG_NAME
    from ecs_cd.release.synthesis import synthesize as run

    run(options.project, tools.outdir, tools.env, head=options.label, log=LOG_NAME)


def cdktf_project(options: DeployOptions) -> Path:
    """The cdktf project `cdktf deploy` runs in (--via cdktf); ``DeployNotStarted`` without one."""
    from ecs_cd.toolchain.cdktf_cli import CDKTF_CLI

    found = options.project.cdktf_project
    if found is None:
        raise DeployNotStarted(
            f"--via cdktf runs `cdktf deploy` in a cdktf project, and there is no cdktf.json in "
            f"{options.project.directory} or above: deploy without --via cdktf (Terraform run "
            f"directly, no cdktf CLI), or make it one (its cdktf.json, `npm install {CDKTF_CLI}`); "
            "nothing was applied"
        )
    return found


def runner_argv(
    options: DeployOptions, rt: Runtime, scope: Scope, tools: Tools, synthesis: Synthesis
) -> list[str]:
    """The command that applies the stacks: ecs_cd/release/terraform_run.py (synthesized first, unless a
    gate does it), or `cdktf deploy`."""
    from ecs_cd.toolchain.cdktf_cli import deploy_command
    from ecs_cd.toolchain.errors import ToolError

    try:
        if not options.direct:
            # the guard step synthesizes first (unless a gate did, or it is reused): cdktf deploys that
            extra = cdktf_extra(options, scope, skip_synth=True)
            return deploy_command(
                scope.stacks,
                setup=tools.setup,
                outdir=tools.outdir,
                extra=extra,
                color=options.color,
                project=cdktf_project(options),
            )
        if synthesis.state == "ran" and not scope.gated:  # a gate synthesizes first itself
            synthesize(options, tools)
            synth_cache.record(tools.outdir, synthesis.fingerprint)
        stack_report(tools).unlink(missing_ok=True)
        split_whole = scope.settings.stack_per_service and options.only is None
        return [
            sys.executable,
            "-m",
            "ecs_cd.release.terraform_run",
            "--stacks-dir",
            str(tools.outdir / "stacks"),
            "--parallel",
            str(options.parallel),
            "--report",
            str(stack_report(tools)),
            *(["--first", options.env] if split_whole else []),
            *(["--color"] if options.color else []),
            *scope.stacks,
        ]
    except ToolError as exc:
        raise DeployNotStarted(f"{exc}; nothing was applied") from None


def cdktf_extra(options: DeployOptions, scope: Scope, *, skip_synth: bool) -> list[str]:
    """`cdktf deploy`'s options besides the stacks."""
    # A service stack depends on the environment's (cluster) stack; deploying it alone
    # is the point of the split, so cdktf must not insist on deploying the cluster too.
    extra = ["--ignore-missing-stack-dependencies"] if options.only is not None else []
    if len(scope.stacks) > 1:
        # cdktf runs every stack at once unless told: 20 services' Terraform runs, each
        # loading the AWS provider, took 9 GB and 3.6x a single stack's time (issue 17).
        extra += ["--parallelism", str(options.parallel)]
    if skip_synth:
        extra.append("--skip-synth")  # what was gated (or reused) is what deploys
    return extra


def stack_report(tools: Tools) -> Path:
    """Where ecs_cd/release/terraform_run.py writes each stack's outcome."""
    return tools.outdir / "ecs-release-stacks.json"


def primary(rt: Runtime, t: Target) -> tuple[str, str] | None:
    """(PRIMARY deployment id, task definition) of the service, None before its first deploy."""
    try:
        svc = describe_service(rt.aws(t.environment), t.cluster, t.service_name)
    except BadInput:
        return None
    found = primary_deployment(svc)
    return (str(found["id"]), str(svc.get("taskDefinition", ""))) if found else None


def gate(
    options: DeployOptions, rt: Runtime, scope: Scope, tools: Tools, synthesis: Synthesis
) -> list[dict[str, Any]]:
    """Each gated service's pre-deploy task on its new revision (ecs_cd/release/deploy_gate.py)."""
    from ecs_cd.release.deploy_gate import pre_deploy

    if synthesis.state == "ran":
        synthesize(options, tools)
    gates = pre_deploy(rt, scope, tools, options.poll)
    if synthesis.state == "ran":
        synth_cache.record(tools.outdir, synthesis.fingerprint)
    return gates


def guard(options: DeployOptions, rt: Runtime, scope: Scope, tools: Tools, synthesis: Synthesis) -> None:
    """--via cdktf (which plans and applies by itself): synthesize unless done, then plan each stack
    with import blocks and refuse, before cdktf starts, a plan that replaces or destroys an adopted
    resource (ecs_cd/release/deploy_guard.py). Run directly, the runner checks each saved plan."""
    from ecs_cd.release.deploy_guard import check_stacks, refuse

    if options.direct:
        return
    if synthesis.state == "ran" and not scope.gated:  # a gate synthesized already
        synthesize(options, tools)
        synth_cache.record(tools.outdir, synthesis.fingerprint)
    stacks_dir = tools.outdir / "stacks"
    found = check_stacks(
        options.label, stacks_dir, scope.stacks, terraform=tools.terraform, env=tools.env, raw=rt.out.raw
    )
    refuse(options.env, found)


def apply(
    options: DeployOptions,
    rt: Runtime,
    scope: Scope,
    tools: Tools,
    synthesis: Synthesis,
    argv: list[str],
    stage: Stage,
) -> Applied:
    """Run ``argv`` with the lock watch; an interruption or a failure says what was applied."""
    from ecs_cd.release.apply_process import run_cdktf
    from ecs_cd.release.deploy_failure import failure, interruption
    from ecs_cd.release.lock_watch import lock_spots
    from ecs_cd.release.terraform_commands import TerraformRecorder
    from ecs_cd.release.terraform_run import read_report

    if options.direct:
        rt.out.say(
            f"running: terraform apply in {', '.join(scope.stacks)}"
            + (f" (after {options.env}, at most {options.parallel} at once)" if len(scope.stacks) > 2 else "")
        )
    else:
        rt.out.say("running: " + " ".join(argv[1:]))
    printing = threading.Lock()

    def say(text: str) -> None:
        with printing:
            rt.out.say(text, style="yellow")

    def raw(line: str) -> None:
        # Terraform's output is for people: it goes where human output goes (stderr with --json).
        with printing:
            rt.out.raw(line)

    with _work_directory(options.project.cache) as work:
        recorder = TerraformRecorder(work, tools.terraform)
        tools.env.update(recorder.environment)
        spots = lock_spots(scope.settings, scope.stacks)
        watch = lock_watch(rt, scope, tools, spots, recorder, say)
        stage.now = "ran"
        ran = run_cdktf(
            argv,
            cwd=synthesis_directory(options),
            env=tools.env,
            stacks=scope.stacks,
            outdir=tools.outdir,
            recorder=recorder,
            raw=raw,
            watch=watch,
            say=say,
            finish_seconds=options.finish_timeout,
            label=options.label,
            direct=options.direct,
        )
        if options.direct:
            ran.outcomes = read_report(stack_report(tools))  # none if the runner was killed first
    if ran.stopping.signal_number is not None:
        held = _locks_held(rt, scope.settings, spots)
        raise interruption(options.env, ran, locks_held=held, state=scope.settings.state)
    lock_waits = watch.waits if watch is not None else []
    failed = failure(
        options.env, ran, lock_timeout=tools.lock_timeout, lock_waits=lock_waits, state=scope.settings.state
    )
    if failed is not None:
        from ecs_cd.release.orphans import named_completely

        aws = functools.partial(rt.aws, scope.settings)
        raise named_completely(
            failed, ran, head=options.label, aws=aws, terraform=tools.terraform, env=tools.env
        )
    return Applied(ran, lock_waits)


def lock_watch(
    rt: Runtime,
    scope: Scope,
    tools: Tools,
    spots: list[LockSpot],
    recorder: TerraformRecorder,
    say: Callable[[str], None],
) -> LockWatch | None:
    """What says when Terraform waits for a state lock another run holds (None: it does not wait)."""
    from ecs_cd.release.lock_watch import LockWatch
    from ecs_cd.release.terraform_commands import started_on

    if tools.lock_timeout <= 0:  # with 0, Terraform does not wait: the failure names the holder
        return None
    lock_aws = rt.aws(scope.settings, spots[0].state.region, max_attempts=2) if spots else None
    if lock_aws is not None:
        lock_aws.client("s3")  # made here: boto3 clients are shared by threads, not made by them

    def read(spot: LockSpot) -> state_ops.Lock | None:
        assert lock_aws is not None
        return state_ops.read_lock(lock_aws, spot.state, spot.key)

    return LockWatch(
        scope.stacks,
        spots,
        read=read,
        started=started_on(recorder, tools.outdir / "stacks"),
        say=say,
        timeout_seconds=tools.lock_timeout,
    )


def say_outcomes(rt: Runtime, outcomes: list[StackOutcome]) -> None:
    """One line per stack the direct runner applied: what changed, whether init ran, how long."""
    for o in outcomes:
        init = "init ran" if o.init == "ran" else "init skipped (providers and backend unchanged)"
        seconds = o.seconds if o.seconds is not None else 0
        rt.out.say(f"{o.stack}: {o.summary or o.apply} ({init}, {seconds} s)")


def follow_rollouts(
    options: DeployOptions,
    rt: Runtime,
    scope: Scope,
    before: dict[str, tuple[str, str] | None],
    payload: dict[str, Any],
) -> None:
    """Each service's new deployment: started, or (with --wait) followed to its end."""
    failures = []
    for t in scope.services:
        after = primary(rt, t)
        if after is None:
            raise DeployFailed(f"{t.service.name} has no PRIMARY deployment after cdktf deploy {options.env}")
        # A new deployment id, or a new task definition (some emulators keep the id): follow it.
        if after == before[t.service.name]:
            rt.out.say(f"{t.service.name}: no new deployment (nothing changed)")
            continue
        deployment_id = after[0]
        if not options.wait:
            rt.out.say(f"{t.service.name}: deployment {deployment_id} started")
            payload["rollouts"].append({"service": t.service.name, "deployment_id": deployment_id})
            continue
        result = follow(rt, t, deployment_id, options.timeout, options.poll)
        payload["rollouts"].append({"service": t.service.name, **result.as_dict()})
        if not result.ok:
            failures.append(f"{t.service.name}: {result.outcome.value}")
    if failures:
        raise RolloutFailed("; ".join(failures), details=payload)


# --- helpers ------------------------------------------------------------------------------------


def _locks_held(rt: Runtime, env_settings: EnvironmentSettings, spots: list[LockSpot]) -> list[str]:
    """The stacks whose state lock is still taken after an interrupted run."""
    if spots:
        aws = rt.aws(env_settings, spots[0].state.region, max_attempts=2)
        try:
            return [s.stack for s in spots if state_ops.read_lock(aws, s.state, s.key) is not None]
        except ReleaseError:
            return [f"{s.stack} (unknown: the lock object could not be read)" for s in spots]
    # The local backend's lock is the OS's, gone with the Terraform that held it: the lock-info
    # file a killed one leaves holds nothing (interruption() names it).
    return []


@contextlib.contextmanager
def _work_directory(cache: Path) -> Iterator[Path]:
    """A private directory for one deploy (the Terraform wrapper): under the project's .cache/,
    where executables run (a system temp directory may be mounted noexec), else the temp directory."""
    try:
        cache.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix="deploy-", dir=cache))
    except OSError:
        work = Path(tempfile.mkdtemp(prefix="ecs-release-deploy-"))
    try:
        yield work
    finally:
        shutil.rmtree(work, ignore_errors=True)
