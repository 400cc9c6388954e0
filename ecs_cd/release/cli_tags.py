"""`ecs-release`'s tag commands: set-tag, promote, rollback, history (their work: tag_changes.py)."""

from __future__ import annotations

from typing import Any

import click

from ecs_cd.release import tag_changes
from ecs_cd.release.cli_command import EXIT_CODES, command
from ecs_cd.release.runtime import Runtime
from ecs_cd.release.tags import history
from ecs_cd.release.targets import target


@click.command("set-tag", epilog=EXIT_CODES)
@click.argument("env")
@click.argument("service")
@click.argument("tag")
@click.option("--verify", is_flag=True, help="Check that the image exists in ECR before writing.")
@command
def set_tag(rt: Runtime, env: str, service: str, tag: str, verify: bool) -> dict[str, Any]:
    """Write TAG to SERVICE's image-tag parameter in ENV."""
    return tag_changes.set_tag(rt, env, service, tag, verify=verify)


@click.command(epilog=EXIT_CODES)
@click.argument("service")
@click.option("--from", "source", required=True, help="Environment to copy the tag from.")
@click.option("--to", "destination", required=True, help="Environment to write it to.")
@command
def promote(rt: Runtime, service: str, source: str, destination: str) -> dict[str, Any]:
    """Copy SERVICE's exact tag from one environment to another (same image digest where in ECR)."""
    return tag_changes.promote(rt, service, source, destination)


@click.command(epilog=EXIT_CODES)
@click.argument("env")
@click.argument("service")
@click.option(
    "--to", "to", default=None, help="A version number or a tag from the history (default: previous tag)."
)
@command
def rollback(rt: Runtime, env: str, service: str, to: str | None) -> dict[str, Any]:
    """Write an earlier tag from the parameter's history back (default: the previous distinct tag)."""
    return tag_changes.rollback(rt, env, service, to)


@click.command("history", epilog=EXIT_CODES)
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
