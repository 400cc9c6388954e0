"""`ecs-release`'s service commands: status, run, logs, overview, diff, redeploy, deploy. Their work
is in service_status.py, one_off.py, logs.py, overview.py, diff_run.py, follow.py and deploy.py;
those the command line does not need at start are imported when their command runs."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from ecs_cd.release import errors
from ecs_cd.release.cli_command import EXIT_CODES, command
from ecs_cd.release.cli_types import Duration, Seconds, output_option, wait_options
from ecs_cd.release.follow import redeploy as run_redeploy
from ecs_cd.release.runtime import Runtime
from ecs_cd.release.service_status import service_status, status_lines
from ecs_cd.release.targets import targets


@click.command(epilog=EXIT_CODES)
@click.argument("env")
@click.argument("service", required=False)
@command
def status(rt: Runtime, env: str, service: str | None) -> dict[str, Any]:
    """The SSM tag, the image the task definition runs, deployments and counts; for a scheduled
    job, the revision its schedule runs, its next run and its last run's exit."""
    from ecs_cd.release import jobs

    found = [
        (jobs.job_status if t.service.is_job else service_status)(rt, t)
        for t in targets(rt.settings, env, service)
    ]
    for s in found:
        for line, style in (jobs.status_lines if s.get("kind") == "job" else status_lines)(s):
            rt.out.say(line, style=style)
    return {"environment": env, "services": found}


@click.command("run", epilog=EXIT_CODES, context_settings={"ignore_unknown_options": True})
@click.argument("env")
@click.argument("service")
@click.argument("cmd", nargs=-1, required=False, type=click.UNPROCESSED)
@click.option("--container", default=None, help="The container to run CMD in (default: the app's).")
@click.option(
    "--timeout", type=Seconds(min=1, max=86_400), default=3600, show_default=True, help="Seconds to wait."
)
@click.option("--poll", type=Seconds(min=0.05, max=3_600), default=5, show_default=True, help="Seconds.")
@command
def run_command(
    rt: Runtime,
    env: str,
    service: str,
    cmd: tuple[str, ...],
    container: str | None,
    timeout: float,
    poll: float,
) -> dict[str, Any]:
    """Run CMD once in SERVICE's current task definition (ENV), in the service's network and
    capacity, wait until the task stops, print its last log lines and exit with the container's
    exit code (1 if it has none, or the task is still running at --timeout). Usage:
    ecs-release run ENV SERVICE [--container C] -- CMD [ARG...]. A scheduled job runs what its
    schedule runs, now, without CMD (its own command): ecs-release run ENV JOB"""
    from ecs_cd.release.one_off import run

    return run(rt, env, service, cmd, container=container, timeout=timeout, poll=poll)


@click.command("diff", epilog=EXIT_CODES)
@click.argument("env")
@output_option()
@click.option(
    "--service",
    "only",
    default=None,
    help="Only this service (and the changes of no service); in a split environment only its stack.",
)
@command
def diff_command(rt: Runtime, env: str, outdir: Path | None, only: str | None) -> dict[str, Any]:
    """What `deploy ENV` would change, per service in words: images old -> new, a new revision,
    restarts and why, scaling; then every other change, replacements and destroys in capitals;
    then each adopted resource (a stack's import block) the plan would replace or destroy, which
    `deploy` refuses to apply. Synthesizes and runs `terraform plan`; applies nothing. Exit 0: no
    changes; 7: changes; 8: changes `deploy` would refuse."""
    from ecs_cd.release.diff_run import diff
    from ecs_cd.release.plan_guard import refusal_message

    result = diff(rt, env, outdir or rt.project.output, only)
    for service in result.services:
        for line in service.lines():
            rt.out.say(line)
    if result.others:
        rt.out.say("other changes:")
        for line in result.others:
            rt.out.say(f"  {line}", style="red" if ("REPLACE" in line or "DESTROY" in line) else None)
    rt.out.say(f"{env}: {'changes' if result.changed else 'no changes'}")
    if result.refusals:
        outcome = "deploy would apply nothing of these stacks"
        for line in refusal_message(env, result.refusals, outcome=outcome).splitlines():
            rt.out.say(line, style="red")
    code = errors.PLAN_HAS_CHANGES if result.changed else errors.OK
    return {
        "environment": env,
        "changes": result.changed,
        "services": [s.as_dict() for s in result.services],
        "other_changes": result.others,
        "refusals": [r.to_json() for r in result.refusals],
        "exit_code": errors.PLAN_REFUSED if result.refusals else code,
    }


@click.command(epilog=EXIT_CODES)
@click.option(
    "--env",
    "envs",
    multiple=True,
    help="An environment to show (repeat for several; default: every one in the configuration).",
)
@command
def overview(rt: Runtime, envs: tuple[str, ...]) -> dict[str, Any]:
    """Every service in every environment: the SSM tag, the image running, the rollout state,
    running/desired and when it was deployed; marks drift ('!'): SSM ahead of what runs (not
    deployed yet), or a revision Terraform did not register (changed outside)."""
    from ecs_cd.release.overview import cells_of, table

    names = list(envs) or list(rt.settings.environments)
    cells = cells_of(rt, names)
    for line in table(cells, names):
        rt.out.say(line)
    return {"environments": names, "services": [c.as_dict() for c in cells]}


@click.command(epilog=EXIT_CODES)
@click.argument("env")
@click.argument("service")
@click.option("--container", default=None, help="Only this container's lines (default: every container's).")
@click.option(
    "--since", type=Duration(), default="10m", show_default=True, help="How far back: 90s, 10m, 2h, 1d."
)
@click.option("--follow", is_flag=True, help="Keep printing new lines until Ctrl-C (exit 0).")
@click.option(
    "--poll",
    type=Seconds(min=0.2, max=60),
    default=2,
    show_default=True,
    help="Seconds between reads with --follow.",
)
@command
def logs(
    rt: Runtime, env: str, service: str, container: str | None, since: float, follow: bool, poll: float
) -> dict[str, Any]:
    """The CloudWatch logs of SERVICE's tasks in ENV (awslogs containers), interleaved by time,
    each line with its container and task."""
    from ecs_cd.release.logs import show

    return show(rt, env, service, container=container, since=since, follow=follow, poll=poll)


@click.command(epilog=EXIT_CODES)
@click.argument("env")
@click.argument("service")
@wait_options
@command
def redeploy(rt: Runtime, env: str, service: str, wait: bool, timeout: float, poll: float) -> dict[str, Any]:
    """Force a new deployment of SERVICE in ENV (same task definition)."""
    return run_redeploy(rt, env, service, wait=wait, timeout=timeout, poll=poll)


@click.command(epilog=EXIT_CODES)
@click.argument("env")
@output_option("cdktf output directory, created if needed; local state lives here (env ECS_CD_OUTPUT).")
@click.option(
    "--service",
    "only",
    default=None,
    help="In an environment split per service: deploy only this service's stack (ENV-SERVICE).",
)
@click.option(
    "--finish-timeout",
    type=Seconds(min=0, max=3_600),
    default=60,
    show_default=True,
    help="After SIGINT/SIGTERM: seconds the running Terraform command may finish before it is "
    "interrupted (a second signal interrupts it at once).",
)
@click.option(
    "--parallel",
    type=click.IntRange(1, 64),
    default=lambda: os.cpu_count() or 1,
    show_default="the machine's cores",
    help="In an environment split per service: how many service stacks are applied at once "
    "(after the environment's own stack).",
)
@click.option(
    "--via",
    type=click.Choice(["terraform", "cdktf"]),
    default="terraform",
    show_default=True,
    help="terraform: synthesize without the cdktf CLI (or reuse the synthesis), then run `terraform "
    "apply` in each stack: init only when providers or backend changed, no version checks or output reads, "
    "a split environment's cluster stack first, each stack's outcome reported. cdktf: run "
    "`cdktf deploy` as by hand. Both leave the same state.",
)
@click.option(
    "--verify/--no-verify",
    default=True,
    show_default=True,
    help="First run the checks of `ecs-release verify ENV` (account, state bucket, listener, tags, "
    "images, secrets); any problem stops the deploy before Terraform runs (exit 4).",
)
@wait_options
@command
def deploy(rt: Runtime, env: str, outdir: Path | None, **options: Any) -> dict[str, Any]:
    """Check what the deploy needs (as `verify`), synthesize and apply ENV's stacks with
    Terraform (or `cdktf deploy ENV --auto-approve` with --via cdktf), then (with --wait)
    follow each service's new deployment.

    Says when Terraform waits for a state lock another run holds (who, since when, how long);
    a failure says whether Terraform ran and whether anything may have been applied."""
    from ecs_cd.release.deploy import DeployOptions
    from ecs_cd.release.deploy import deploy as run_deploy

    # Every other option is the DeployOptions field of its name, so a new one is declared once
    # above and once there; the runtime adds the project and whether output is a terminal.
    given = DeployOptions(
        env=env,
        outdir=outdir or rt.project.output,
        project=rt.project,
        color=rt.out.live,
        **options,
    )
    return run_deploy(given, rt)
