"""`ecs-release`: set, promote, roll back and watch image versions per environment.

Run as `ecs-release …` (installed), `pipenv run ecs-release …` or `python -m ecs_cd.release …` (a
checkout). Reads the same configuration as the stacks: --config, else ECS_CD_CONFIG, else
./ecs-cd.toml or ./config/ecs-cd.toml (ecs_cd/release/project.py); ECS_CD_EMULATOR_ENDPOINT for the
emulator.

This module is the group, its global options and `main`; each command's options and output are in
the module of its concern (cli_tags.py, cli_services.py, cli_state.py), its work in the module
named for it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ecs_cd.release import cli_adopt, cli_services, cli_state, cli_tags, errors, signals
from ecs_cd.release.aws import CONNECT_TIMEOUT, MAX_ATTEMPTS, READ_TIMEOUT, TIMEOUT_ATTEMPTS
from ecs_cd.release.cli_command import EXIT_CODES
from ecs_cd.release.cli_types import Seconds
from ecs_cd.release.output import Output
from ecs_cd.release.runtime import Runtime


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


for _command in (
    cli_tags.set_tag,
    cli_tags.promote,
    cli_tags.rollback,
    cli_tags.history_command,
    cli_services.status,
    cli_services.run_command,
    cli_services.diff_command,
    cli_services.overview,
    cli_services.logs,
    cli_services.redeploy,
    cli_services.deploy,
    cli_state.bootstrap,
    cli_state.verify_command,
    cli_state.unlock,
    cli_state.state_versions,
    cli_state.state_restore,
    cli_state.move_layout,
    cli_adopt.adopt,
):
    cli.add_command(_command)


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
        return errors.INTERRUPTED_SIGINT
    return 0
