"""`ecs-release`: set, promote, roll back and watch image versions per environment.

Run as `pipenv run ecs-release …` or `python -m release …`. Reads the same configuration
as the stacks (ECS_CD_CONFIG or --config; ECS_CD_EMULATOR_ENDPOINT for the emulator).
"""

from __future__ import annotations

import contextlib
import functools
import json
import math
import os
import shutil
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import click
from botocore.exceptions import ClientError

from core.aws_formats import ecr_location
from release import errors, signals, synth_cache
from release import state as state_ops
from release.aws import (
    CONNECT_TIMEOUT,
    MAX_ATTEMPTS,
    READ_TIMEOUT,
    TIMEOUT_ATTEMPTS,
    Aws,
    caller_account,
    describe_failure,
)
from release.errors import (
    AwsUnreachable,
    BadInput,
    DeployFailed,
    DeployNotStarted,
    ReleaseError,
    RolloutFailed,
    VerificationFailed,
)
from release.follow import follow
from release.output import Output
from release.rollout import (
    describe_service,
    force_new_deployment,
    primary_deployment,
)
from release.runtime import Runtime
from release.state import s3_state
from release.tags import (
    history,
    image_digest,
    read_tag,
    rollback_target,
    validate_tag,
    write_tag,
)
from release.targets import Target, environment, target, targets
from release.verify import problems_text, run_checks
from stacks.settings import EnvironmentSettings, S3State

PROJECT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = PROJECT_DIR / "config" / "ecs-cd.toml"

EXIT_CODES = f"""
Exit codes: {errors.OK} ok; {errors.ROLLOUT_FAILED} rollout failed, rolled back, superseded or timed out;
{errors.BAD_INPUT} bad input (unknown environment or service, malformed tag, missing parameter or
service, invalid configuration); {errors.AWS_ERROR} AWS error (after retries) or AWS unreachable;
{errors.VERIFICATION_FAILED} image verification failed (not in ECR, digest differs);
{errors.DEPLOY_FAILED} Terraform (or cdktf deploy) failed after it started (the message says whether
anything may have been applied); {errors.DEPLOY_NOT_STARTED} deploy stopped before Terraform
ran (synthesis failed, unusable --output, cdktf CLI or Terraform missing): nothing was applied;
{errors.INTERRUPTED_SIGINT} / {errors.INTERRUPTED_SIGTERM} stopped by SIGINT / SIGTERM (the message says
whether anything was applied); {errors.PLAN_HAS_CHANGES} `diff`: the plan has changes (0: none).
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


class Seconds(click.FloatRange):
    """A number of seconds within bounds: nan passes a FloatRange (every comparison with it is false)."""

    name = "seconds"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        seconds = super().convert(value, param, ctx)
        if not math.isfinite(seconds):
            self.fail(f"{value!r} is not a number of seconds from {self.min:g} to {self.max:g}", param, ctx)
        return seconds


@click.group(epilog=EXIT_CODES)
@click.option(
    "--config",
    type=click.Path(path_type=Path, dir_okay=False),
    envvar="ECS_CD_CONFIG",
    default=DEFAULT_CONFIG,
    show_default="config/ecs-cd.toml",
    help="Configuration file (env ECS_CD_CONFIG).",
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
    config: Path,
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
    from core.names import log_group_name
    from release.logs import last_lines
    from release.one_off import start, wait

    t = target(rt.settings, env, service)
    containers = {t.service.name: t.service.log_driver, **{c.name: c.log_driver for c in t.service.sidecars}}
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
    default=PROJECT_DIR / "cdktf.out",
    show_default="cdktf.out",
    help="cdktf output directory (the one deploy uses: local state lives there; env ECS_CD_OUTPUT).",
)
@click.option(
    "--service",
    "only",
    default=None,
    help="Only this service (and the changes of no service); in a split environment only its stack.",
)
@command
def diff_command(rt: Runtime, env: str, outdir: Path, only: str | None) -> dict[str, Any]:
    """What `deploy ENV` would change, per service in words: images old -> new, a new revision,
    restarts and why, scaling; then every other change, replacements and destroys in capitals.
    Synthesizes and runs `terraform plan`; applies nothing. Exit 0: no changes; 7: changes."""
    import json as json_lib

    from core.names import service_stack_name
    from release import process_tree
    from release.deploy_run import find_terraform, prepare_output
    from release.diff import name_images, summarize
    from release.tags import ecr_image
    from toolchain.cdktf_cli import CACHE_DIR, cdktf, tool_environment
    from toolchain.errors import ToolError
    from toolchain.terraform_offline import terraform_setup

    env_settings = environment(rt.settings, env)
    session = rt.aws(env_settings)  # the account guard, before Terraform reads anything
    if env_settings.aws.account_id is None:
        # Before synthesis and the plan, whose AWS provider retries a refused connection for half
        # a minute before it fails: AWS out of reach is said at once, with every command's exit 3.
        caller_account(session)
    every = [t.service.name for t in targets(rt.settings, env, None)]
    ts = targets(rt.settings, env, only)
    stacks = [env]
    if env_settings.stack_per_service:
        service_stacks = [service_stack_name(env, t.service.name) for t in ts]
        stacks = service_stacks if only is not None else [env, *service_stacks]
    outdir = prepare_output(outdir)
    try:
        setup = terraform_setup(CACHE_DIR)
        tool_env = tool_environment(
            setup,
            emulator_endpoint=env_settings.emulator_endpoint,
            extra={"ECS_CD_CONFIG": str(rt.config.resolve())},
        )
        terraform = find_terraform(tool_env)
    except ToolError as exc:
        raise DeployNotStarted(f"{exc}; nothing was planned") from None
    try:
        synth = cdktf(["synth", "--output", str(outdir)], env=tool_env)
    except ToolError as exc:
        raise DeployNotStarted(f"{exc}; nothing was planned") from None
    if synth.returncode != 0:
        tail = (synth.stdout + synth.stderr).strip().splitlines()
        detail = f": {tail[-1][:300]}" if tail else ""
        raise DeployNotStarted(
            f"diff {env}: synthesis failed (cdktf synth exited with {synth.returncode}){detail}; "
            "nothing was planned"
        )
    resource_changes: list[Any] = []
    for stack in stacks:
        directory = outdir / "stacks" / stack
        for args in (
            ["init", "-input=false", "-no-color"],
            ["plan", "-input=false", "-no-color", "-lock=false", "-out=ecs-release-diff.tfplan"],
        ):
            ran = process_tree.run([terraform, *args], cwd=directory, env=tool_env)
            if ran.returncode != 0:
                rt.out.raw((ran.stdout + ran.stderr)[-4000:])
                raise DeployFailed(
                    f"diff {env}: terraform {args[0]} of stack {stack} failed (its output above)"
                )
        shown = process_tree.run(
            [terraform, "show", "-json", "ecs-release-diff.tfplan"], cwd=directory, env=tool_env
        )
        if shown.returncode != 0:
            rt.out.raw(shown.stderr[-4000:])
            raise DeployFailed(f"diff {env}: terraform show of stack {stack} failed (its output above)")
        resource_changes += json_lib.loads(shown.stdout).get("resource_changes", [])
    # Every service's resources are told apart, so that --service leaves out the others' changes.
    services, others = summarize({"resource_changes": resource_changes}, every)
    services = [s for s in services if s.service in {t.service.name for t in ts}]
    sessions: dict[str, Aws] = {}

    def ecr(region: str) -> Aws:
        # The repository's own region (it may be elsewhere), with the environment's role.
        if region not in sessions:
            sessions[region] = rt.aws(env_settings, region)
        return sessions[region]

    name_images(services, lambda repository, image_id: ecr_image(ecr, repository, image_id))
    for service in services:
        for line in service.lines():
            rt.out.say(line)
    if others:
        rt.out.say("other changes:")
        for line in others:
            rt.out.say(f"  {line}", style="red" if ("REPLACE" in line or "DESTROY" in line) else None)
    changed = any(s.changed for s in services) or bool(others)
    rt.out.say(f"{env}: {'changes' if changed else 'no changes'}")
    return {
        "environment": env,
        "changes": changed,
        "services": [s.as_dict() for s in services],
        "other_changes": others,
        "exit_code": errors.PLAN_HAS_CHANGES if changed else errors.OK,
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
    from release.overview import cell, table

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


class Duration(click.ParamType[float, Any]):
    """A duration back from now: ``90``, ``90s``, ``10m``, ``2h``, ``1d``."""

    name = "duration"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from release.logs import parse_duration

        if isinstance(value, float):
            return value
        try:
            return parse_duration(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


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

    from core.names import log_group_name
    from release import logs as log_lines

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


_wait_options = [
    click.option("--wait", is_flag=True, help="Follow the deployment until it completes or fails."),
    click.option(
        "--timeout", type=Seconds(min=1, max=86_400), default=900, show_default=True, help="Seconds."
    ),
    click.option("--poll", type=Seconds(min=0.05, max=3_600), default=5, show_default=True, help="Seconds."),
]


def wait_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(_wait_options):
        fn = option(fn)
    return fn


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
    default=PROJECT_DIR / "cdktf.out",
    show_default="cdktf.out",
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
    help="terraform: synthesize (or reuse the synthesis), then run `terraform apply` in each stack "
    "directly: init only when providers or backend changed, no version checks or output reads, "
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
    outdir: Path,
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
    stage = ["before"]
    try:
        return _deploy(
            rt, env, outdir, only, finish_timeout, parallel, via, verify, wait, timeout, poll, stage
        )
    except AwsUnreachable as exc:
        if stage[0] != "before":
            raise
        raise AwsUnreachable(
            f"deploy {env} not started: {exc}; nothing was applied",
            details={"environment": env, "deployed": False, "nothing_applied": True},
        ) from None
    except errors.Interrupted as exc:
        if exc.details:  # the run's own report, from what Terraform did
            raise
        signal_name = signals.name(exc.signal_number)
        label = f"deploy {env}" if via == "terraform" else f"cdktf deploy {env}"
        if stage[0] == "before":
            message = (
                f"{label} interrupted by {signal_name} before Terraform applied anything: nothing was applied"
            )
        elif stage[0] == "ran":
            message = (
                f"{label} interrupted by {signal_name} after Terraform ran, before its outcome "
                f"was read: it may have applied part of the plan: check `ecs-release status {env}`"
            )
        else:
            message = (
                f"deploy {env} interrupted by {signal_name} after Terraform's apply had finished, while "
                f"following the rollout: the deployment goes on in ECS: check `ecs-release status {env}`"
            )
        details: dict[str, object] = {"signal": signal_name, "nothing_applied": stage[0] == "before"}
        raise errors.Interrupted(message, signal_number=exc.signal_number, details=details) from None


def _deploy(
    rt: Runtime,
    env: str,
    outdir: Path,
    only: str | None,
    finish_timeout: float,
    parallel: int,
    via: str,
    verify: bool,
    wait: bool,
    timeout: float,
    poll: float,
    stage: list[str],
) -> dict[str, Any]:
    from core.names import service_stack_name
    from release.deploy_run import (
        LockSpot,
        LockWatch,
        TerraformRecorder,
        failure,
        find_terraform,
        interruption,
        lock_spots,
        prepare_output,
        run_cdktf,
        started_on,
    )
    from toolchain.cdktf_cli import CACHE_DIR, deploy_command, lock_timeout_environment, tool_environment
    from toolchain.errors import ToolError
    from toolchain.terraform_offline import terraform_setup

    env_settings = environment(rt.settings, env)
    rt.aws(env_settings)  # the account guard, before anything else talks to AWS or Terraform
    if only is not None and not env_settings.stack_per_service:
        raise BadInput(
            f"environment {env} is one stack (stack_per_service = false): deploy it without --service"
        )
    ts = targets(rt.settings, env, only)
    if not env_settings.stack_per_service:
        stacks = [env]
    elif only is not None:
        stacks = [service_stack_name(env, only)]
    else:
        stacks = [env, *(service_stack_name(env, t.service.name) for t in ts)]
    verified: dict[str, Any] = {"skipped": True}
    if verify:
        report = run_checks(rt, env_settings, ts, passed=False)
        verified = {"passed": report.passed, "problems": report.problems}
        if report.problems:
            raise VerificationFailed(
                f"deploy {env} not started: {problems_text(report.problems)}; nothing was applied "
                "(`--no-verify` deploys anyway)",
                details={"environment": env, "deployed": False, "verify": verified},
            )
        rt.out.say(f"verified: {len(report.passed)} checks passed")

    def primary(t: Target) -> tuple[str, str] | None:
        """(PRIMARY deployment id, task definition) of the service, None before its first deploy."""
        try:
            svc = describe_service(rt.aws(t.environment), t.cluster, t.service_name)
        except BadInput:
            return None
        found = primary_deployment(svc)
        return (str(found["id"]), str(svc.get("taskDefinition", ""))) if found else None

    outdir = prepare_output(outdir)
    gated = [t for t in ts if t.service.pre_deploy is not None]
    try:
        setup = terraform_setup(CACHE_DIR)
        # A service stack depends on the environment's (cluster) stack; deploying it alone
        # is the point of the split, so cdktf must not insist on deploying the cluster too.
        extra = ["--ignore-missing-stack-dependencies"] if only is not None else []
        if len(stacks) > 1:
            # cdktf runs every stack at once unless told: 20 services' Terraform runs, each
            # loading the AWS provider, took 9 GB and 3.6x a single stack's time (issue 17).
            extra += ["--parallelism", str(parallel)]
        lock_timeout = env_settings.state.lock_timeout_seconds
        tool_env = tool_environment(
            setup,
            emulator_endpoint=env_settings.emulator_endpoint,
            # main.py must synthesize the configuration this command read (--config included)
            extra={**lock_timeout_environment(lock_timeout), "ECS_CD_CONFIG": str(rt.config.resolve())},
        )
        terraform = find_terraform(tool_env)
    except ToolError as exc:
        raise DeployNotStarted(f"{exc}; nothing was applied") from None
    synth_print = synth_cache.fingerprint(PROJECT_DIR, rt.config, tool_env)
    synthesis = "reused" if synth_cache.reusable(outdir, synth_print, stacks) else "ran"
    if synthesis == "reused":
        rt.out.say(
            f"synthesis reused: the configuration and the code are those of the synthesis in {outdir} "
            f"(fingerprint {synth_print[:12]}), and a tag is read at plan time"
        )
    else:
        synth_cache.forget(outdir)  # a synthesis that fails half-way leaves no record behind
    if gated or synthesis == "reused":
        extra.append("--skip-synth")  # what was gated (or reused) is what deploys
    direct = via == "terraform"
    label = f"deploy {env}" if direct else f"cdktf deploy {env}"
    try:
        if direct:
            if synthesis == "ran" and not gated:  # a gate synthesizes first itself
                _synthesize(env, outdir, tool_env)
                synth_cache.record(outdir, synth_print)
            stack_report = outdir / "ecs-release-stacks.json"
            stack_report.unlink(missing_ok=True)
            split_whole = env_settings.stack_per_service and only is None
            argv = [
                sys.executable,
                "-m",
                "release.terraform_run",
                "--stacks-dir",
                str(outdir / "stacks"),
                "--parallel",
                str(parallel),
                "--report",
                str(stack_report),
                *(["--first", env] if split_whole else []),
                *(["--color"] if rt.out.live else []),
                *stacks,
            ]
        else:
            argv = deploy_command(stacks, setup=setup, outdir=outdir, extra=extra, color=rt.out.live)
    except ToolError as exc:
        raise DeployNotStarted(f"{exc}; nothing was applied") from None
    before = {t.service.name: primary(t) for t in ts}
    gates: list[dict[str, Any]] = []
    if gated:
        stage[0] = "ran"
        gates = _pre_deploy(rt, env_settings, gated, stacks, outdir, tool_env, terraform, poll, synthesis)
        if synthesis == "ran":
            synth_cache.record(outdir, synth_print)
    if direct:
        rt.out.say(
            f"running: terraform apply in {', '.join(stacks)}"
            + (f" (after {env}, at most {parallel} at once)" if len(stacks) > 2 else "")
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

    with _work_directory() as work:
        recorder = TerraformRecorder(work, terraform)
        tool_env.update(recorder.environment)
        spots = lock_spots(env_settings, stacks)
        watch = None
        if lock_timeout > 0:  # with 0, Terraform does not wait: the failure names the holder
            lock_aws = rt.aws(env_settings, spots[0].state.region, max_attempts=2) if spots else None
            if lock_aws is not None:
                lock_aws.client("s3")  # made here: boto3 clients are shared by threads, not made by them

            def read(spot: LockSpot) -> state_ops.Lock | None:
                assert lock_aws is not None
                return state_ops.read_lock(lock_aws, spot.state, spot.key)

            watch = LockWatch(
                stacks,
                spots,
                read=read,
                started=started_on(recorder, outdir / "stacks"),
                say=say,
                timeout_seconds=lock_timeout,
            )
        stage[0] = "ran"
        ran = run_cdktf(
            argv,
            cwd=PROJECT_DIR,
            env=tool_env,
            stacks=stacks,
            outdir=outdir,
            recorder=recorder,
            raw=raw,
            watch=watch,
            say=say,
            finish_seconds=finish_timeout,
            label=label,
            direct=direct,
        )
        if direct:
            ran.outcomes = _stack_outcomes(stack_report)
    if synthesis == "ran" and not gated and ran.terraform_ran and not direct:
        synth_cache.record(outdir, synth_print)  # Terraform started: the synthesis succeeded
    if ran.stopping.signal_number is not None:
        raise interruption(
            env,
            ran,
            locks_held=_locks_held(rt, env_settings, spots, outdir, stacks),
            state=env_settings.state,
        )
    lock_waits = watch.waits if watch is not None else []
    failed = failure(env, ran, lock_timeout=lock_timeout, lock_waits=lock_waits, state=env_settings.state)
    if failed is not None:
        from release.orphans import named_completely

        aws = functools.partial(rt.aws, env_settings)
        raise named_completely(failed, ran, head=label, aws=aws, terraform=terraform, env=tool_env)
    stage[0] = "after"
    payload: dict[str, Any] = {
        "environment": env,
        "stacks": stacks,
        "deployed": True,
        "rollouts": [],
        "lock_waits": lock_waits,
        "verify": verified,
        "pre_deploy": gates,
        "synthesis": synthesis,
        "parallel": parallel if len(stacks) > 1 else None,
        "via": via,
        "stack_outcomes": ran.outcomes,
    }
    for o in ran.outcomes:
        init = "init ran" if o["init"] == "ran" else "init skipped (providers and backend unchanged)"
        rt.out.say(f"{o['stack']}: {o.get('summary') or o['apply']} ({init}, {o.get('seconds', 0)} s)")
    failures = []
    for t in ts:
        after = primary(t)
        if after is None:
            raise DeployFailed(f"{t.service.name} has no PRIMARY deployment after cdktf deploy {env}")
        # A new deployment id, or a new task definition (some emulators keep the id): follow it.
        if after == before[t.service.name]:
            rt.out.say(f"{t.service.name}: no new deployment (nothing changed)")
            continue
        deployment_id = after[0]
        if not wait:
            rt.out.say(f"{t.service.name}: deployment {deployment_id} started")
            payload["rollouts"].append({"service": t.service.name, "deployment_id": deployment_id})
            continue
        result = follow(rt, t, deployment_id, timeout, poll)
        payload["rollouts"].append({"service": t.service.name, **result.as_dict()})
        if not result.ok:
            failures.append(f"{t.service.name}: {result.outcome.value}")
    if failures:
        raise RolloutFailed("; ".join(failures), details=payload)
    return payload


def _synthesize(env: str, outdir: Path, tool_env: dict[str, str]) -> None:
    """`cdktf synth` into ``outdir``; a failure stops the deploy before Terraform runs."""
    from release.deploy_run import synthesis_failure
    from toolchain.cdktf_cli import cdktf
    from toolchain.errors import ToolError

    try:
        synth = cdktf(["synth", "--output", str(outdir)], env=tool_env)
    except ToolError as exc:
        raise DeployNotStarted(f"{exc}; nothing was applied") from None
    if synth.returncode != 0:
        raise synthesis_failure(env, outdir, synth.returncode, synth.stdout + synth.stderr)


def _stack_outcomes(report: Path) -> list[dict[str, Any]]:
    """What release/terraform_run.py wrote of each stack (nothing if it was stopped hard)."""
    try:
        found = json.loads(report.read_text())
    except (OSError, ValueError):
        return []
    return found if isinstance(found, list) else []


def _pre_deploy(
    rt: Runtime,
    env_settings: EnvironmentSettings,
    gated: list[Target],
    stacks: list[str],
    outdir: Path,
    tool_env: dict[str, str],
    terraform: str,
    poll: float,
    synthesis: str,
) -> list[dict[str, Any]]:
    """Synthesize, then per gated service register its new revision and run its pre-deploy task
    on it (release/pre_deploy.py); a task that does not exit 0 stops the deploy (exit 1)."""
    from core.names import log_group_name, service_stack_name
    from release.logs import last_lines
    from release.pre_deploy import Gate, run_gate
    from release.pre_deploy import terraform as run_terraform

    env = env_settings.name
    if synthesis == "ran":
        _synthesize(env, outdir, tool_env)
    done: list[str] = []  # applies that finished: the environment's stack, earlier gates
    started: list[str] = []  # applies that started (the current gate's too)

    def gates() -> list[dict[str, Any]]:
        split = env_settings.stack_per_service
        if split and env in stacks:
            # The service stacks read the cluster from the environment's stack: it goes first, whole
            # (it holds no service, so nothing rolls), as cdktf deploy would order it.
            directory = outdir / "stacks" / env
            for args in (
                ["init", "-input=false", "-no-color"],
                ["apply", "-input=false", "-no-color", "-auto-approve"],
            ):
                if args[0] == "apply":
                    started.append(f"the environment's stack {env}")
                ran = run_terraform(
                    terraform,
                    args,
                    cwd=directory,
                    env=tool_env,
                    show=rt.out.raw,
                    what=f"terraform {args[0]} of {env}",
                )
                if ran.returncode != 0:
                    said = "may have applied part of its plan" if args[0] == "apply" else "applied nothing"
                    raise DeployFailed(
                        f"terraform {args[0]} of stack {env}, before the pre-deploy tasks, failed (output "
                        f"above): it {said}; no service was rolled out"
                    )
            done.append(f"the environment's stack {env}")
        all_services = tuple(t.service.name for t in targets(rt.settings, env, None))
        outcomes: list[dict[str, Any]] = []
        for t in gated:
            pre = t.service.pre_deploy
            assert pre is not None
            stack = service_stack_name(env, t.service.name) if split else env
            gate = Gate(
                service=t.service.name,
                command=tuple(pre.command),
                container=pre.container or t.service.name,
                timeout_seconds=pre.timeout_seconds,
                stack=stack,
                stack_dir=outdir / "stacks" / stack,
                stack_services=(t.service.name,) if split else all_services,
            )
            aws = rt.aws(t.environment)
            awslogs = [t.service.name] if t.service.log_driver == "awslogs" else []
            awslogs += [c.name for c in t.service.sidecars if c.log_driver == "awslogs"]
            group = log_group_name(rt.settings.project, env, t.service.name)

            def running(target: Target = t, aws: Aws = aws) -> str | None:
                try:
                    return str(describe_service(aws, target.cluster, target.service_name)["taskDefinition"])
                except BadInput:
                    return None

            def lines(
                task: Any, aws: Aws = aws, group: str = group, containers: list[str] = awslogs
            ) -> list[str]:
                if task.container not in containers:
                    return []
                return [
                    line.text()
                    for line in last_lines(aws, group, task_id=task.task_id, containers=[task.container])
                ]

            outcome = run_gate(
                gate,
                terraform_binary=terraform,
                env=tool_env,
                aws=aws,
                running_revision=running,
                poll=poll,
                say=rt.out.say,
                show=rt.out.raw,
                log_lines=lines,
                applying=functools.partial(started.append, f"the new revision of {t.service.name}"),
            )
            outcomes.append(outcome.as_dict())
            if outcome.ran:
                rt.out.say(
                    f"{t.service.name}: pre-deploy task {outcome.outcome()}",
                    style="green" if outcome.passed else "bold red",
                )
            if not outcome.passed:
                current = running()
                stays = f"the service stays on {current}" if current else "the service was not created"
                raise RolloutFailed(
                    f"deploy {env} stopped: the pre-deploy task of {t.service.name} "
                    f"({' '.join(pre.command)}) "
                    f"{outcome.outcome()}; {stays}: the new revision {outcome.revision} is registered, "
                    "not rolled out" + (f" (Terraform: {outcome.applied})" if outcome.applied else ""),
                    details={"environment": env, "deployed": False, "pre_deploy": outcomes},
                )
            done.append(f"the new revision of {t.service.name}")
        return outcomes

    try:
        return gates()
    except (DeployFailed, RolloutFailed) as exc:
        if not done:
            raise
        raise type(exc)(
            f"{exc}; before it, this deploy applied {', '.join(done)} (no service was rolled out)",
            details=exc.details,
        ) from None
    except errors.Interrupted as exc:
        if not started:
            raise
        details = {**exc.details, "nothing_applied": False}
        raise errors.Interrupted(
            f"{exc}; this deploy had applied {', '.join(started)}",
            signal_number=exc.signal_number,
            details=details,
        ) from None


def _locks_held(
    rt: Runtime, env_settings: EnvironmentSettings, spots: list[Any], outdir: Path, stacks: list[str]
) -> list[str]:
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
def _work_directory() -> Iterator[Path]:
    """A private directory for one deploy (the Terraform wrapper): under .cache/ in the project,
    where executables run (a system temp directory may be mounted noexec), else the temp directory."""
    from toolchain.cdktf_cli import CACHE_DIR

    try:
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix="deploy-", dir=CACHE_DIR))
    except OSError:
        work = Path(tempfile.mkdtemp(prefix="ecs-release-deploy-"))
    try:
        yield work
    finally:
        shutil.rmtree(work, ignore_errors=True)


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
