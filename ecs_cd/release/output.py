"""What the command line prints: rich on a terminal, plain lines in CI, JSON with --json.

With --json, stdout carries exactly one JSON document (the result, or the error) and
everything meant for people goes to stderr, so pipelines can parse stdout as is.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from ecs_cd.toolchain.terminal import wants_color


class Output:
    def __init__(self, *, json_mode: bool) -> None:
        self.json_mode = json_mode
        self._human = sys.stderr if json_mode else sys.stdout
        self._console: Any = None
        # rich (colours, the live view) for a person at a terminal that has colours and moves its
        # cursor; plain lines in CI, in pipes and on TERM=dumb.
        if wants_color(self._human) and not os.environ.get("CI"):
            from rich.console import Console

            self._console = Console(file=self._human, highlight=False)

    def say(self, text: str, *, style: str | None = None) -> None:
        if self._console is not None:
            self._console.print(text, style=style, markup=False)
        else:
            _write(self._human, text + "\n")

    @property
    def live(self) -> bool:
        """A terminal a view can be redrawn on (not CI, not piped, not --json)."""
        return self._console is not None and not self.json_mode

    def live_view(self) -> Any:
        """A rich ``Live`` on the terminal (only when ``live``)."""
        from rich.live import Live

        return Live(console=self._console, refresh_per_second=4, transient=False)

    def raw(self, text: str) -> None:
        """Another program's output, passed through as it is (ANSI colours included)."""
        _write(self._human, text)

    def table(self, title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        if self._console is not None:
            from rich.table import Table

            table = Table(title=title, title_justify="left")
            for column in columns:
                table.add_column(column)
            for row in rows:
                table.add_row(*(str(v) for v in row))
            self._console.print(table)
            return
        self.say(title)
        widths = [max([len(c), *(len(str(r[i])) for r in rows)]) for i, c in enumerate(columns)]
        self.say("  " + "  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
        for row in rows:
            self.say("  " + "  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())

    def result(self, payload: dict[str, Any]) -> None:
        if self.json_mode:
            _write(sys.stdout, json.dumps(payload, default=str, sort_keys=True) + "\n")

    def error(self, message: str, *, exit_code: int, details: dict[str, Any] | None = None) -> None:
        if self.json_mode:
            payload = {"ok": False, "error": message, "exit_code": exit_code, **(details or {})}
            _write(sys.stdout, json.dumps(payload, default=str, sort_keys=True) + "\n")
        if self._console is not None and not self.json_mode:
            from rich.console import Console

            Console(file=sys.stderr, highlight=False).print(
                f"error: {message}", style="bold red", markup=False
            )
        else:
            _write(sys.stderr, f"error: {message}\n")


def _write(stream: TextIO, text: str) -> None:
    """Write and flush; a reader that went away (Ctrl-C to a pipeline) silences the stream
    instead of raising BrokenPipeError in the middle of a deploy."""
    try:
        stream.write(text)
        stream.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)
