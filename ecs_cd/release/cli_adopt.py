"""`ecs-release adopt`: its options and output; the reading is in adopt.py."""

from __future__ import annotations

from typing import Any

import click

from ecs_cd.release.cli_command import EXIT_CODES, command
from ecs_cd.release.runtime import Runtime


@click.command("adopt", epilog=EXIT_CODES)
@click.argument("env")
@click.option("--cluster", default=None, help="The cluster the services run on (its name).")
@click.option("--service", "services", multiple=True, help="A service to adopt (repeat for several).")
@click.option(
    "--from-state",
    "state_source",
    default=None,
    help="Another Terraform configuration's state (a file, or s3://BUCKET/KEY in ENV's account): its "
    "services are adopted (with --service: those of them), and what else it manages is named.",
)
@click.option(
    "--as",
    "key",
    default=None,
    help="The service's name in the configuration (one --service only; default: its own).",
)
@click.option(
    "--append",
    is_flag=True,
    help="Append the tables to the configuration file (after checking the whole file loads); "
    "default: print them.",
)
@command
def adopt(
    rt: Runtime,
    env: str,
    cluster: str | None,
    services: tuple[str, ...],
    state_source: str | None,
    key: str | None,
    append: bool,
) -> dict[str, Any]:
    """Read services that already run on CLUSTER in ENV (made by hand, by Copilot, CloudFormation
    or another Terraform configuration) and write the configuration that takes them over with no
    replacement: each service's table, its names where they differ from the derived ones, and
    the ids its resources import. Reads AWS only; the first `deploy` imports them and rolls the
    service onto a new revision of its task definition family. Next: `ecs-release set-tag ENV
    SERVICE TAG` (the tag it runs now), `ecs-release diff ENV`, `ecs-release deploy ENV`."""
    from ecs_cd.release.adopt_run import Request, adopt_services

    request = Request(env, cluster, services, state_source, key, append)
    done = adopt_services(rt, request)
    if append:
        rt.out.say(f"adopt: appended {len(done.text.splitlines())} lines to {rt.config}:")
    for line in done.text.splitlines():
        rt.out.say(line)
    for one in done.adopted:
        rt.out.say(
            f"# next: ecs-release set-tag {env} {one.key} {one.tag or '<tag>'}   (the tag it runs now)"
        )
    rt.out.say(f"# then: ecs-release diff {env}   (imports and updates only), ecs-release deploy {env}")
    return {
        "environment": env,
        "appended": append,
        "toml": done.text,
        "services": [
            {"name": a.key, "tag": a.tag, "names": a.names, "ids": a.ids, "notes": a.notes}
            for a in done.adopted
        ],
    }
