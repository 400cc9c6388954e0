"""`ecs-release`: set, promote, roll back and watch image versions per environment.

Run as `ecs-release …` (installed), `pipenv run ecs-release …` or `python -m ecs_cd.release …` (a
checkout). Reads the same configuration as the stacks: --config, else ECS_CD_CONFIG, else
./ecs-cd.toml or ./config/ecs-cd.toml (ecs_cd/release/project.py); ECS_CD_EMULATOR_ENDPOINT for the
emulator.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click
from botocore.exceptions import ClientError

from ecs_cd.core.aws_formats import ecr_location
from ecs_cd.release import errors, signals
from ecs_cd.release import state as state_ops
from ecs_cd.release.aws import (
    CONNECT_TIMEOUT,
    MAX_ATTEMPTS,
    READ_TIMEOUT,
    TIMEOUT_ATTEMPTS,
    Aws,
    describe_failure,
)
from ecs_cd.release.cli_command import EXIT_CODES, command
from ecs_cd.release.cli_types import Duration, Seconds, wait_options
from ecs_cd.release.errors import (
    BadInput,
    RolloutFailed,
    VerificationFailed,
)
from ecs_cd.release.follow import follow
from ecs_cd.release.output import Output
from ecs_cd.release.rollout import (
    describe_service,
    force_new_deployment,
)
from ecs_cd.release.runtime import Runtime
from ecs_cd.release.state import s3_state
from ecs_cd.release.tags import (
    history,
    image_digest,
    read_tag,
    rollback_target,
    validate_tag,
    write_tag,
)
from ecs_cd.release.targets import Target, environment, target, targets
from ecs_cd.release.verify import problems_text, run_checks
from stacks.settings import EnvironmentSettings, S3State


@click.group(epilog=EXIT_CODES)
@click.option(
    "--config",
    type=click.Path(path_type=Path, dir_okay=False),
    envvar="ECS_CD_CONFIG",
    default=None,
    show_default="./ecs-cd.toml, else ./config/ecs-cd.toml",
    help="Configuration file (env ECS_CD_CONFIG). Its project directory, where cdktf.out and .cache "
    "go, is the nearest directory above it with a cdktf.json, else its own.",
)
@click.option("--json", "json_mode", is_flag=True, help="Print one JSON document on stdout.")
@click.option(
    "--max-attempts",
    type=click.IntRange(1, 20),
    envvar="ECS_RELEASE_MAX_ATTEMPTS",
    default=MAX_ATTEMPTS,
    show_default=True,
    help="Attempts per AWS call, retries with backoff included (env ECS_RELEASE_MAX_ATTEMPTS).",
)
@click.option(
    "--connect-timeout",
    type=Seconds(min=1, max=300),
    envvar="ECS_RELEASE_CONNECT_TIMEOUT",
    default=CONNECT_TIMEOUT,
    show_default=True,
    help="Seconds to connect to AWS, per attempt (env ECS_RELEASE_CONNECT_TIMEOUT).",
)
@click.option(
    "--read-timeout",
    type=Seconds(min=1, max=300),
    envvar="ECS_RELEASE_READ_TIMEOUT",
    default=READ_TIMEOUT,
    show_default=True,
    help=f"Seconds to wait for AWS's answer, per attempt; a call that timed out is tried "
    f"{TIMEOUT_ATTEMPTS} times at most (env ECS_RELEASE_READ_TIMEOUT).",
)
@click.pass_context
def cli(
    ctx: click.Context,
    config: Path | None,
    json_mode: bool,
    max_attempts: int,
    connect_timeout: float,
    read_timeout: float,
) -> None:
    """Release image versions to ECS services: tags in SSM, deploys, rollouts."""
    ctx.obj = Runtime(config, json_mode, max_attempts, timeouts=(connect_timeout, read_timeout))


# --- tags ---------------------------------------------------------------------------


def _verify_in_ecr(rt: Runtime, t: Target, tag: str) -> str:
    location = ecr_location(t.repository)
    if location is None:
        raise BadInput(f"--verify: {t.repository} is not an ECR repository, so the image cannot be checked")
    digest = image_digest(rt.aws(t.environment, location[1]), t.repository, tag)
    if digest is None:
        raise VerificationFailed(f"image {t.repository}:{tag} is not in ECR: push it first")
    return digest


@cli.command("set-tag", epilog=EXIT_CODES)
@click.argument("env")
@click.argument("service")
@click.argument("tag")
@click.option("--verify", is_flag=True, help="Check that the image exists in ECR before writing.")
@command
def set_tag(rt: Runtime, env: str, service: str, tag: str, verify: bool) -> dict[str, Any]:
    """Write TAG to SERVICE's image-tag parameter in ENV."""
    t = target(rt.settings, env, service)
    validate_tag(tag)
    digest = _verify_in_ecr(rt, t, tag) if verify else None
    return _write(rt, t, tag, digest=digest, action="set-tag")


def _write(rt: Runtime, t: Target, tag: str, *, digest: str | None, action: str) -> dict[str, Any]:
    aws = rt.aws(t.environment)
    old = read_tag(aws, t.parameter)
    if old is not None and old.tag == tag:
        version, changed = old.version, False
        rt.out.say(f"{t.parameter}: already {tag} (version {version}), nothing written")
    else:
        version, changed = write_tag(aws, t.parameter, tag), True
        rt.out.say(
            f"{t.parameter}: {old.tag if old else '(none)'} -> {tag} (version {version})", style="green"
        )
    return {
        "action": action,
        "environment": t.environment.name,
        "service": t.service.name,
        "parameter": t.parameter,
        "old": old.tag if old else None,
        "new": tag,
        "version": version,
        "changed": changed,
        "digest": digest,
    }


@cli.command(epilog=EXIT_CODES)
@click.argument("service")
@click.option("--from", "source", required=True, help="Environment to copy the tag from.")
@click.option("--to", "destination", required=True, help="Environment to write it to.")
@command
def promote(rt: Runtime, service: str, source: str, destination: str) -> dict[str, Any]:
    """Copy SERVICE's exact tag from one environment to another (same image digest where in ECR)."""
    if source == destination:
        raise BadInput(f"--from and --to are both {source!r}")
    src = target(rt.settings, source, service)
    dst = target(rt.settings, destination, service)
    current = read_tag(rt.aws(src.environment), src.parameter)
    if current is None:
        raise BadInput(f"{source} has no tag for {service} ({src.parameter} does not exist)")
    tag = current.tag
    src_ecr, dst_ecr = ecr_location(src.repository), ecr_location(dst.repository)
    digest = None
    if dst_ecr is not None:
        digest = image_digest(rt.aws(dst.environment, dst_ecr[1]), dst.repository, tag)
        if digest is None:
            raise VerificationFailed(
                f"image {dst.repository}:{tag} is not in {destination}'s repository: "
                "push or replicate it first"
            )
    if src_ecr is not None and dst_ecr is not None:
        src_digest = image_digest(rt.aws(src.environment, src_ecr[1]), src.repository, tag)
        if src_digest != digest:
            raise VerificationFailed(
                f"{tag} is not the same image in both environments: {source} has {src_digest}, "
                f"{destination} has {digest}"
            )
    rt.out.say(
        f"promoting {service} {tag} from {source} to {destination}" + (f" ({digest})" if digest else "")
    )
    result = _write(rt, dst, tag, digest=digest, action="promote")
    result.update({"from": source, "to": destination})
    return result


@cli.command(epilog=EXIT_CODES)
@click.argument("env")
@click.argument("service")
@click.option(
    "--to", "to", default=None, help="A version number or a tag from the history (default: previous tag)."
)
@command
def rollback(rt: Runtime, env: str, service: str, to: str | None) -> dict[str, Any]:
    """Write an earlier tag from the parameter's history back (default: the previous distinct tag)."""
    t = target(rt.settings, env, service)
    aws = rt.aws(t.environment)
    entries = history(aws, t.parameter)
    chosen = rollback_target(entries, to)
    if chosen.tag == entries[-1].tag:
        raise BadInput(f"{t.parameter} already holds {chosen.tag!r} (version {entries[-1].version})")
    rt.out.say(f"rolling back to {chosen.tag} (version {chosen.version} of {t.parameter})")
    result = _write(rt, t, chosen.tag, digest=None, action="rollback")
    result["rolled_back_to_version"] = chosen.version
    rt.out.say(f"deploy to apply it: ecs-release deploy {env} --wait")
    return result


@cli.command("history", epilog=EXIT_CODES)
@click.argument("env")
@click.argument("service")
@command
def history_command(rt: Runtime, env: str, service: str) -> dict[str, Any]:
    """Every version of SERVICE's tag in ENV: version, tag, date, who."""
    t = target(rt.settings, env, service)
    entries = history(rt.aws(t.environment), t.parameter)
    rt.out.table(
        t.parameter, ["version", "tag", "date", "who"], [(e.version, e.tag, e.date, e.user) for e in entries]
    )
    return {
        "environment": env,
        "service": service,
        "parameter": t.parameter,
        "versions": [e.as_dict() for e in entries],
    }


# --- services -----------------------------------------------------------------------


def _service_status(rt: Runtime, t: Target) -> dict[str, Any]:
    aws = rt.aws(t.environment)
    fixed = t.service.image_tag
    tag = None if fixed is not None else read_tag(aws, t.parameter)
    status: dict[str, Any] = {
        "service": t.service.name,
        "image_strategy": t.service.image_strategy,
        "parameter": None if fixed is not None else t.parameter,
        "tag": fixed if fixed is not None else (tag.tag if tag else None),
        "tag_version": tag.version if tag else None,
    }
    try:
        svc = describe_service(aws, t.cluster, t.service_name)
    except BadInput as exc:
        status.update({"deployed": False, "reason": str(exc)})
        return status
    images = []
    try:
        task = aws.call("ecs", "describe_task_definition", taskDefinition=svc["taskDefinition"])
        images = [c.get("image") for c in task["taskDefinition"].get("containerDefinitions", [])]
    except ClientError as exc:
        raise describe_failure("ecs", "DescribeTaskDefinition", exc) from None
    status.update(
        {
            "deployed": True,
            "task_definition": svc["taskDefinition"],
            "images": images,
            "running": svc.get("runningCount", 0),
            "desired": svc.get("desiredCount", 0),
            "deployments": [
                {
                    "id": d.get("id"),
                    "status": d.get("status"),
                    "rollout_state": d.get("rolloutState"),
                    "task_definition": d.get("taskDefinition"),
                    "running": d.get("runningCount", 0),
                    "desired": d.get("desiredCount", 0),
                }
                for d in svc.get("deployments", [])
            ],
        }
    )
    return status


@cli.command("run", epilog=EXIT_CODES, context_settings={"ignore_unknown_options": True})
@click.argument("env")
@click.argument("service")
@click.argument("cmd", nargs=-1, required=True, type=click.UNPROCESSED)
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
    ecs-release run ENV SERVICE [--container C] -- CMD [ARG...]"""
    from ecs_cd.core.names import log_group_name
    from ecs_cd.release.logs import last_lines
    from ecs_cd.release.one_off import start, wait

    t = target(rt.settings, env, service)
    containers = {c.name: c.log_driver for c in t.service.task_containers}
    name = container or t.service.name
    if name not in containers:
        raise BadInput(f"--container {name}: no container of {service} (containers: {', '.join(containers)})")
    aws = rt.aws(t.environment)
    svc = describe_service(aws, t.cluster, t.service_name)
    one_off = start(aws, svc, name, cmd)
    rt.out.say(f"{service}: started task {one_off.task_arn} on {one_off.task_definition}: {' '.join(cmd)}")
    wait(aws, t.cluster, one_off, timeout=timeout, poll=poll, progress=rt.out.say)
    if containers[name] == "awslogs":
        group = log_group_name(rt.settings.project, env, service)
        one_off.lines = [
            line.text() for line in last_lines(aws, group, task_id=one_off.task_id, containers=[name])
        ]
    for line in one_off.lines:
        rt.out.say(f"  {line}")
    if one_off.timed_out:
        outcome = f"still {one_off.last_status} after {timeout:.0f} s: it goes on in ECS ({one_off.task_arn})"
        code = errors.ROLLOUT_FAILED
    elif one_off.exit_code is None:
        outcome = (
            f"stopped without an exit code: {one_off.stopped_reason} {one_off.container_reason}".rstrip()
        )
        code = errors.ROLLOUT_FAILED
    else:
        outcome = f"exited with {one_off.exit_code}"
        code = one_off.exit_code
    rt.out.say(f"{service}: task {one_off.task_id} {outcome}", style="green" if code == 0 else "bold red")
    return {
        "ok": code == 0,
        "environment": env,
        "service": service,
        "command": list(cmd),
        "outcome": outcome,
        **one_off.as_dict(),
        "exit_code": code,
    }


@cli.command("diff", epilog=EXIT_CODES)
@click.argument("env")
@click.option(
    "--output",
    "outdir",
    type=click.Path(path_type=Path),
    envvar="ECS_CD_OUTPUT",
    default=None,
    show_default="cdktf.out in the project directory",
    help="cdktf output directory (the one deploy uses: local state lives there; env ECS_CD_OUTPUT).",
)
@click.option(
    "--service",
    "only",
    default=None,
    help="Only this service (and the changes of no service); in a split environment only its stack.",
)
@command
def diff_command(rt: Runtime, env: str, outdir: Path | None, only: str | None) -> dict[str, Any]:
    """What `deploy ENV` would change, per service in words: images old -> new, a new revision,
    restarts and why, scaling; then every other change, replacements and destroys in capitals.
    Synthesizes and runs `terraform plan`; applies nothing. Exit 0: no changes; 7: changes."""
    from ecs_cd.release.diff_run import diff

    result = diff(rt, env, outdir or rt.project.output, only)
    for service in result.services:
        for line in service.lines():
            rt.out.say(line)
    if result.others:
        rt.out.say("other changes:")
        for line in result.others:
            rt.out.say(f"  {line}", style="red" if ("REPLACE" in line or "DESTROY" in line) else None)
    rt.out.say(f"{env}: {'changes' if result.changed else 'no changes'}")
    return {
        "environment": env,
        "changes": result.changed,
        "services": [s.as_dict() for s in result.services],
        "other_changes": result.others,
        "exit_code": errors.PLAN_HAS_CHANGES if result.changed else errors.OK,
    }


@cli.command(epilog=EXIT_CODES)
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
    from ecs_cd.release.overview import cell, table

    names = list(envs) or list(rt.settings.environments)
    cells = []
    for env in names:
        env_settings = environment(rt.settings, env)
        aws = rt.aws(env_settings)
        sessions: dict[str, Aws] = {env_settings.region: aws}

        def ecr(
            region: str, env_settings: EnvironmentSettings = env_settings, sessions: dict[str, Aws] = sessions
        ) -> Aws:
            # The repository's own region (it may be elsewhere), with the environment's role.
            if region not in sessions:
                sessions[region] = rt.aws(env_settings, region)
            return sessions[region]

        cells += [cell(aws, t, ecr) for t in targets(rt.settings, env, None)]
    for line in table(cells, names):
        rt.out.say(line)
    return {"environments": names, "services": [c.as_dict() for c in cells]}


@cli.command(epilog=EXIT_CODES)
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
    import time

    from ecs_cd.core.names import log_group_name
    from ecs_cd.release import logs as log_lines

    t = target(rt.settings, env, service)
    containers = [t.service.name, *(c.name for c in t.service.sidecars)]
    if container is not None and container not in containers:
        raise BadInput(
            f"--container {container}: no container of {service} (containers: {', '.join(containers)})"
        )
    shown = [container] if container is not None else None
    group = log_group_name(rt.settings.project, env, service)
    aws = rt.aws(t.environment)
    start_ms = int((time.time() - since) * 1000)
    events = log_lines.read(aws, group, start_ms=start_ms, containers=shown)
    for line in events:
        rt.out.say(line.text())
    seen = {line.event_id for line in events}
    followed = False
    if follow:
        try:
            while True:
                time.sleep(poll)
                # From the last line's time on (the same millisecond may hold more): new ids only.
                since_ms = max([start_ms, *(line.timestamp_ms for line in events)])
                fresh = [
                    line
                    for line in log_lines.read(aws, group, start_ms=since_ms, containers=shown)
                    if line.event_id not in seen
                ]
                for line in fresh:
                    rt.out.say(line.text())
                    seen.add(line.event_id)
                events += fresh
        except errors.Interrupted:
            followed = True  # Ctrl-C (or a CI runner's SIGTERM) ends a follow: that is its end
    return {
        "environment": env,
        "service": service,
        "log_group": group,
        "followed_until_interrupted": followed,
        "events": [line.as_dict() for line in events],
    }


@cli.command(epilog=EXIT_CODES)
@click.argument("env")
@click.argument("service", required=False)
@command
def status(rt: Runtime, env: str, service: str | None) -> dict[str, Any]:
    """The SSM tag, the image the task definition runs, deployments and counts."""
    found = [_service_status(rt, t) for t in targets(rt.settings, env, service)]
    for s in found:
        if s["parameter"] is None:
            tag = f"{s['tag']} (fixed in the configuration)"
        else:
            tag = f"{s['tag']} (version {s['tag_version']})" if s["tag"] else "(no tag parameter)"
        rt.out.say(f"{s['service']}: SSM tag {tag}", style="bold")
        if not s["deployed"]:
            rt.out.say(f"  not deployed: {s['reason']}")
            continue
        rt.out.say(f"  task definition {s['task_definition']}")
        for image in s["images"]:
            rt.out.say(f"  image {image}")
        rt.out.say(f"  running {s['running']}/{s['desired']}")
        for d in s["deployments"]:
            rt.out.say(
                f"  deployment {d['id']} {d['status']} {d['rollout_state'] or ''} "
                f"running {d['running']}/{d['desired']} {d['task_definition']}"
            )
    return {"environment": env, "services": found}


@cli.command(epilog=EXIT_CODES)
@click.argument("env")
@click.argument("service")
@wait_options
@command
def redeploy(rt: Runtime, env: str, service: str, wait: bool, timeout: float, poll: float) -> dict[str, Any]:
    """Force a new deployment of SERVICE in ENV (same task definition)."""
    t = target(rt.settings, env, service)
    deployment_id = force_new_deployment(rt.aws(t.environment), t.cluster, t.service_name)
    rt.out.say(f"{service}: started deployment {deployment_id}")
    payload: dict[str, Any] = {"environment": env, "service": service, "deployment_id": deployment_id}
    if wait:
        result = follow(rt, t, deployment_id, timeout, poll)
        payload["rollout"] = result.as_dict()
        if not result.ok:
            raise RolloutFailed(f"{service}: {result.outcome.value}: {result.message}", details=payload)
    return payload


@cli.command(epilog=EXIT_CODES)
@click.argument("env")
@click.option(
    "--output",
    "outdir",
    type=click.Path(path_type=Path),
    envvar="ECS_CD_OUTPUT",
    default=None,
    show_default="cdktf.out in the project directory",
    help="cdktf output directory, created if needed; local state lives here (env ECS_CD_OUTPUT).",
)
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
def deploy(
    rt: Runtime,
    env: str,
    outdir: Path | None,
    only: str | None,
    finish_timeout: float,
    parallel: int,
    via: str,
    verify: bool,
    wait: bool,
    timeout: float,
    poll: float,
) -> dict[str, Any]:
    """Check what the deploy needs (as `verify`), synthesize and apply ENV's stacks with
    Terraform (or `cdktf deploy ENV --auto-approve` with --via cdktf), then (with --wait)
    follow each service's new deployment.

    Says when Terraform waits for a state lock another run holds (who, since when, how long);
    a failure says whether Terraform ran and whether anything may have been applied."""
    from ecs_cd.release.deploy import DeployOptions
    from ecs_cd.release.deploy import deploy as run_deploy

    options = DeployOptions(
        env=env,
        outdir=outdir or rt.project.output,
        project=rt.project,
        only=only,
        finish_timeout=finish_timeout,
        parallel=parallel,
        via=via,
        verify=verify,
        wait=wait,
        timeout=timeout,
        poll=poll,
        color=rt.out.live,
    )
    return run_deploy(options, rt)


# --- state ----------------------------------------------------------------------------


def _state_aws(rt: Runtime, env: str) -> tuple[Aws, S3State, EnvironmentSettings]:
    env_settings = environment(rt.settings, env)
    state = s3_state(env_settings)
    return rt.aws(env_settings, state.region), state, env_settings


@cli.command(epilog=EXIT_CODES)
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


@cli.command("verify", epilog=EXIT_CODES)
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


@cli.command(epilog=EXIT_CODES)
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


@cli.command("state-versions", epilog=EXIT_CODES)
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


@cli.command("state-restore", epilog=EXIT_CODES)
@click.argument("env")
@click.option("--version-id", default=None, help="Version to restore (default: the one before the current).")
@command
def state_restore(rt: Runtime, env: str, version_id: str | None) -> dict[str, Any]:
    """Make an earlier version of ENV's state current again (a new version; nothing is deleted)."""
    aws, state, _ = _state_aws(rt, env)
    lock = state_ops.read_lock(aws, state)
    if lock is not None:
        raise BadInput(
            f"the state is locked ({lock.operation} by {lock.who}): wait, or `unlock {env} --force`"
        )
    found = state_ops.versions(aws, state)
    if version_id is None:
        if len(found) < 2:
            raise BadInput(f"s3://{state.bucket}/{state.key} has no earlier version to restore")
        version_id = found[1]["version_id"]
    new_version = state_ops.restore(aws, state, version_id)
    rt.out.say(
        f"restored {version_id} as the current state of {env} (new version {new_version})", style="green"
    )
    return {"environment": env, "restored": version_id, "new_version": new_version}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    try:
        with signals.raising():
            cli.main(args=args, prog_name="ecs-release", standalone_mode=False)
    except SystemExit as exc:  # every command ends with sys.exit(code)
        return int(exc.code or 0)
    except errors.Interrupted as exc:  # outside a command's own reporting (parsing, printing)
        Output(json_mode="--json" in args).error(str(exc), exit_code=exc.exit_code)
        return exc.exit_code
    except click.UsageError as exc:
        # Missing or unknown arguments are bad input too: one line (JSON with --json), exit 2.
        Output(json_mode="--json" in args).error(exc.format_message(), exit_code=errors.BAD_INPUT)
        if exc.ctx is not None and "--json" not in args:
            print(exc.ctx.get_usage(), file=sys.stderr)
        return errors.BAD_INPUT
    except click.Abort:
        print("aborted", file=sys.stderr)
        return 130
    return 0
