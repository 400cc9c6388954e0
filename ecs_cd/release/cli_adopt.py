"""`ecs-release adopt`: its options and output; the reading is in adopt.py."""

from __future__ import annotations

import tomllib
from typing import Any

import click

from ecs_cd.release.cli_command import EXIT_CODES, command
from ecs_cd.release.errors import BadInput
from ecs_cd.release.runtime import Runtime
from ecs_cd.release.targets import environment


@click.command("adopt", epilog=EXIT_CODES)
@click.argument("env")
@click.option("--cluster", required=True, help="The cluster the services run on (its name).")
@click.option(
    "--service", "services", multiple=True, required=True, help="A service to adopt (repeat for several)."
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
    rt: Runtime, env: str, cluster: str, services: tuple[str, ...], key: str | None, append: bool
) -> dict[str, Any]:
    """Read services that already run on CLUSTER in ENV (made by hand, by Copilot, CloudFormation
    or another Terraform configuration) and write the configuration that takes them over with no
    replacement: each service's table, its names where they differ from the derived ones, and
    the ids its resources import. Reads AWS only; the first `deploy` imports them and rolls the
    service onto a new revision of its task definition family. Next: `ecs-release set-tag ENV
    SERVICE TAG` (the tag it runs now), `ecs-release diff ENV`, `ecs-release deploy ENV`."""
    from ecs_cd.release.adopt import read_service, toml_text
    from stacks.settings import ConfigError, load_settings, settings_from_dict

    try:
        # A file with environments and no service yet is where adoption starts.
        settings = load_settings(rt.config, emulator_endpoint=rt.emulator_endpoint, services_required=False)
    except ConfigError as exc:
        raise BadInput("the configuration is invalid: " + "; ".join(exc.problems)) from None
    target_env = environment(settings, env)
    if key is not None and len(services) > 1:
        raise BadInput("adopt: --as names one service: give one --service with it")
    known = {s.name for e in settings.environments.values() for s in e.services}
    known |= {n for e in settings.environments.values() for n in e.disabled_services}
    aws = rt.aws(target_env)
    adopted = []
    for service in services:
        one = read_service(aws, target_env, settings.project, cluster, service, key)
        if one.key in known:
            raise BadInput(
                f"adopt: {settings.source} already has a service {one.key!r}: give another name with --as"
            )
        adopted.append(one)
    own_cluster = target_env.cluster.origin != "created" and target_env.cluster_name == cluster
    cluster_table = None if own_cluster else {"name": cluster, "origin": "adopted"}
    others = [name for name in settings.environments if name != env]
    text = toml_text(adopted, env, others, cluster_table)
    current = rt.config.read_text(encoding="utf-8")
    combined = current + ("" if current.endswith("\n") else "\n") + "\n" + text
    try:
        settings_from_dict(tomllib.loads(combined), file=settings.source)
    except (ConfigError, tomllib.TOMLDecodeError) as exc:
        shown = "; ".join(exc.problems) if isinstance(exc, ConfigError) else str(exc)
        raise BadInput(
            f"adopt: the configuration with the adopted tables would not load ({shown}): nothing was written"
        ) from None
    if append:
        rt.config.write_text(combined, encoding="utf-8")
        rt.out.say(f"adopt: appended {len(text.splitlines())} lines to {rt.config}:")
    for line in text.splitlines():
        rt.out.say(line)
    for one in adopted:
        tag = one.tag or "<tag>"
        rt.out.say(f"# next: ecs-release set-tag {env} {one.key} {tag}   (the tag it runs now)")
    rt.out.say(f"# then: ecs-release diff {env}   (imports and updates only), ecs-release deploy {env}")
    return {
        "environment": env,
        "appended": append,
        "toml": text,
        "services": [
            {"name": a.key, "tag": a.tag, "names": a.names, "ids": a.ids, "notes": a.notes} for a in adopted
        ],
    }
