"""The command line's own parameter types and the options several commands share."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click


class Seconds(click.FloatRange):
    """A number of seconds within bounds: nan passes a FloatRange (every comparison with it is false)."""

    name = "seconds"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        seconds = super().convert(value, param, ctx)
        if not math.isfinite(seconds):
            self.fail(f"{value!r} is not a number of seconds from {self.min:g} to {self.max:g}", param, ctx)
        return seconds


class Duration(click.ParamType[float, Any]):
    """A duration back from now: ``90``, ``90s``, ``10m``, ``2h``, ``1d``."""

    name = "duration"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from ecs_cd.release.logs import parse_duration

        if isinstance(value, float):
            return value
        try:
            return parse_duration(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


_wait_options = [
    click.option("--wait", is_flag=True, help="Follow the deployment until it completes or fails."),
    click.option(
        "--timeout", type=Seconds(min=1, max=86_400), default=900, show_default=True, help="Seconds."
    ),
    click.option("--poll", type=Seconds(min=0.05, max=3_600), default=5, show_default=True, help="Seconds."),
]


def wait_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """--wait, --timeout and --poll, as redeploy and deploy both take them."""
    for option in reversed(_wait_options):
        fn = option(fn)
    return fn


# The output directory deploy, diff and move-layout share (their local state lives there).
SHARED_OUTPUT = "cdktf output directory (the one deploy uses: local state lives there; env ECS_CD_OUTPUT)."


def output_option(help_text: str = SHARED_OUTPUT) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``--output DIR`` (env ECS_CD_OUTPUT; default: cdktf.out in the project directory) as ``outdir``."""
    return click.option(
        "--output",
        "outdir",
        type=click.Path(path_type=Path),
        envvar="ECS_CD_OUTPUT",
        default=None,
        show_default="cdktf.out in the project directory",
        help=help_text,
    )
