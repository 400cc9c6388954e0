"""Whether output is for a person at a terminal that shows colours.

One rule for everything this project prints or runs (its own output, Terraform's, cdktf's):
colours only on a terminal (not a pipe, a file or a CI log), never when ``TERM=dumb`` (a
terminal that shows escape codes as text) and never when ``NO_COLOR`` is set to anything
but the empty string (https://no-color.org).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TextIO


def wants_color(stream: TextIO, environ: Mapping[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    if env.get("NO_COLOR") or env.get("TERM") == "dumb":
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or stand-in stream
        return False
