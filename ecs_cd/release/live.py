"""The live view of a rollout on a terminal: the service's deployments and latest events,
redrawn at each poll. CI logs and pipes get plain progress lines instead.

A person reads the view for two things: which deployment is being followed (its full id) and
which revision each deployment runs. Neither is ever cut: where the table does not fit the
terminal (an ordinary 80 columns holds neither a 27-character id nor a long family beside five
other columns), each deployment takes two or three lines instead of a row.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

COLUMNS = ("deployment", "status", "rollout", "running", "pending", "failed", "revision")


def _row(d: dict[str, Any], following: str) -> tuple[str, ...]:
    return (
        ("> " if d.get("id") == following else "  ") + str(d.get("id", "")),
        str(d.get("status", "")),
        str(d.get("rolloutState", "")),
        f"{d.get('runningCount', 0)}/{d.get('desiredCount', 0)}",
        str(d.get("pendingCount", 0)),
        str(d.get("failedTasks", 0)),
        str(d.get("taskDefinition", "")).rsplit("/", 1)[-1],
    )


class DeploymentsView:
    """A rich renderable of ``svc`` (as DescribeServices gives it), ``following`` marked: a table
    where the terminal is wide enough for every cell whole, two lines a deployment otherwise."""

    def __init__(self, svc: dict[str, Any], *, following: str, elapsed: float) -> None:
        self.title = f"{svc.get('serviceName', '?')}: {elapsed:.0f} s"
        self.rows = [_row(d, following) for d in svc.get("deployments", [])]
        self.events: list[str] = []
        for event in svc.get("events", [])[:3]:
            when = event.get("createdAt")
            stamp = when.strftime("%H:%M:%S") + " " if isinstance(when, datetime) else ""
            self.events.append(f"  {stamp}{event.get('message', '')}")

    def table(self) -> Any:
        from rich.table import Table

        table = Table(title=self.title, title_justify="left")
        for column in COLUMNS:
            # no_wrap: a cell is shown whole or the stacked layout is used, never an ellipsis.
            table.add_column(column, no_wrap=True)
        for row in self.rows:
            table.add_row(*row)
        return table

    def stacked(self, width: int) -> Iterator[Any]:
        from rich.text import Text

        yield Text(self.title, style="italic")
        for deployment, status, rollout, running, pending, failed, revision in self.rows:
            yield Text(f"{deployment}  {status}  {rollout}".rstrip(), style="bold")
            where = f"    revision {revision}"
            counts = f"running {running}  pending {pending}  failed {failed}"
            if len(where) + 2 + len(counts) <= width:
                yield Text(f"{where}  {counts}")
            else:
                yield Text(where)
                yield Text(f"    {counts}")

    def __rich_console__(self, console: Any, options: Any) -> Iterator[Any]:
        from rich.measure import Measurement
        from rich.text import Text

        table = self.table()
        # Measured without the terminal's limit: within it a table always "fits", by cutting cells.
        natural = Measurement.get(console, options.update_width(10_000), table).maximum
        if natural <= options.max_width:
            yield table
        else:
            yield from self.stacked(options.max_width)
        for event in self.events:
            yield Text(event, style="dim")


def deployments_view(svc: dict[str, Any], *, following: str, elapsed: float) -> DeploymentsView:
    return DeploymentsView(svc, following=following, elapsed=elapsed)
