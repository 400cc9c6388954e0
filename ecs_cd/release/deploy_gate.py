"""The deploy's gate step: per gated service, register its new revision and run its pre-deploy
task on it (ecs_cd/release/pre_deploy.py) before anything rolls out; a task that does not exit 0 stops
the deploy (exit 1), saying what this deploy had applied before it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ecs_cd.release import errors
from ecs_cd.release.errors import BadInput, DeployFailed, RolloutFailed
from ecs_cd.release.rollout import describe_service

if TYPE_CHECKING:
    from ecs_cd.release.aws import Aws
    from ecs_cd.release.deploy import Scope, Tools
    from ecs_cd.release.pre_deploy import Gate, GateOutcome
    from ecs_cd.release.runtime import Runtime
    from ecs_cd.release.targets import Target


@dataclass
class Progress:
    """What the gate step applied: ``done``, applies that finished (the environment's stack, earlier
    gates); ``started``, applies that started (the current gate's too)."""

    done: list[str] = field(default_factory=list)
    started: list[str] = field(default_factory=list)


def pre_deploy(rt: Runtime, scope: Scope, tools: Tools, poll: float) -> list[dict[str, Any]]:
    """Run every gated service's pre-deploy task (after the environment's own stack, when split);
    a failure or an interruption adds what this deploy had applied before it."""
    progress = Progress()
    try:
        return _gates(rt, scope, tools, poll, progress)
    except (DeployFailed, RolloutFailed) as exc:
        if not progress.done:
            raise
        raise type(exc)(
            f"{exc}; before it, this deploy applied {', '.join(progress.done)} (no service was rolled out)",
            details=exc.details,
        ) from None
    except errors.Interrupted as exc:
        if not progress.started:
            raise
        details = {**exc.details, "nothing_applied": False}
        raise errors.Interrupted(
            f"{exc}; this deploy had applied {', '.join(progress.started)}",
            signal_number=exc.signal_number,
            details=details,
        ) from None


def _gates(rt: Runtime, scope: Scope, tools: Tools, poll: float, progress: Progress) -> list[dict[str, Any]]:
    env = scope.settings.name
    if scope.layout.split and env in scope.stacks:
        apply_environment_stack(rt, scope, tools, progress)
    outcomes: list[dict[str, Any]] = []
    for t in scope.gated:
        aws = rt.aws(t.environment)
        outcome = run_one(rt, scope, tools, t, aws, poll=poll, progress=progress)
        outcomes.append(outcome.as_dict())
        if outcome.ran:
            rt.out.say(
                f"{t.service.name}: pre-deploy task {outcome.outcome()}",
                style="green" if outcome.passed else "bold red",
            )
        if not outcome.passed:
            raise _stopped(t, aws, outcome, outcomes)
        progress.done.append(f"the new revision of {t.service.name}")
    return outcomes


def apply_environment_stack(rt: Runtime, scope: Scope, tools: Tools, progress: Progress) -> None:
    """The service stacks read the cluster from the environment's stack: it goes first, whole (it
    holds no service, so nothing rolls), as cdktf deploy would order it."""
    from ecs_cd.release.pre_deploy import terraform as run_terraform

    env = scope.settings.name
    place = scope.layout.place(env)
    directory = tools.outdir / "stacks" / place.name
    for args in (
        ["init", "-input=false", "-no-color"],
        ["apply", "-input=false", "-no-color", "-auto-approve"],
    ):
        if args[0] == "apply":
            progress.started.append(f"the environment's stack {env}")
        ran = run_terraform(
            tools.terraform,
            args,
            cwd=directory,
            env=tools.env,
            show=rt.out.raw,
            what=f"terraform {args[0]} of {env}",
        )
        if ran.returncode != 0:
            said = "may have applied part of its plan" if args[0] == "apply" else "applied nothing"
            raise DeployFailed(
                f"terraform {args[0]} of stack {env}, before the pre-deploy tasks, failed (output "
                f"above): it {said}; no service was rolled out"
            )
    progress.done.append(f"the environment's stack {env}")


def gate_of(scope: Scope, tools: Tools, t: Target) -> Gate:
    """What the gate of ``t`` needs, from the settings and the layout."""
    from ecs_cd.release.pre_deploy import Gate

    pre = t.service.pre_deploy
    assert pre is not None
    stack = scope.layout.stack_of(t.service.name)
    every = tuple(s.name for s in scope.settings.services)
    return Gate(
        service=t.service.name,
        command=tuple(pre.command),
        container=pre.container or t.service.name,
        timeout_seconds=pre.timeout_seconds,
        stack=stack,
        stack_dir=tools.outdir / "stacks" / stack,
        stack_services=(t.service.name,) if scope.layout.split else every,
    )


def run_one(
    rt: Runtime, scope: Scope, tools: Tools, t: Target, aws: Aws, *, poll: float, progress: Progress
) -> GateOutcome:
    """The gate of one service: its new revision registered and its pre-deploy task run on it."""
    import functools

    from ecs_cd.release.logs import last_lines
    from ecs_cd.release.pre_deploy import run_gate

    awslogs = [c.name for c in t.service.task_containers if c.log_driver == "awslogs"]
    group = t.service.names.log_group

    def lines(task: Any) -> list[str]:
        if task.container not in awslogs:
            return []
        return [
            line.text() for line in last_lines(aws, group, task_id=task.task_id, containers=[task.container])
        ]

    return run_gate(
        gate_of(scope, tools, t),
        terraform_binary=tools.terraform,
        env=tools.env,
        aws=aws,
        running_revision=functools.partial(running_revision, aws, t),
        poll=poll,
        say=rt.out.say,
        show=rt.out.raw,
        log_lines=lines,
        applying=functools.partial(progress.started.append, f"the new revision of {t.service.name}"),
    )


def running_revision(aws: Aws, t: Target) -> str | None:
    """The task definition the service runs (None: it was not created yet)."""
    try:
        return str(describe_service(aws, t.cluster, t.service_name)["taskDefinition"])
    except BadInput:
        return None


def _stopped(t: Target, aws: Aws, outcome: GateOutcome, outcomes: list[dict[str, Any]]) -> RolloutFailed:
    pre = t.service.pre_deploy
    assert pre is not None
    env = t.environment.name
    current = running_revision(aws, t)
    stays = f"the service stays on {current}" if current else "the service was not created"
    return RolloutFailed(
        f"deploy {env} stopped: the pre-deploy task of {t.service.name} "
        f"({' '.join(pre.command)}) "
        f"{outcome.outcome()}; {stays}: the new revision {outcome.revision} is registered, "
        "not rolled out" + (f" (Terraform: {outcome.applied})" if outcome.applied else ""),
        details={"environment": env, "deployed": False, "pre_deploy": outcomes},
    )
