"""The live view of a rollout on a terminal: the service's deployments and latest events,
redrawn at each poll. CI logs and pipes get plain progress lines instead."""

from __future__ import annotations

from datetime import datetime
from typing import Any


def deployments_view(svc: dict[str, Any], *, following: str, elapsed: float) -> Any:
    """A rich renderable of ``svc`` (as DescribeServices gives it), ``following`` marked."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    table = Table(title=f"{svc.get('serviceName', '?')}: {elapsed:.0f} s", title_justify="left")
    for column in ("deployment", "status", "rollout", "running", "pending", "failed", "revision"):
        table.add_column(column)
    for d in svc.get("deployments", []):
        marker = "> " if d.get("id") == following else "  "
        table.add_row(
            marker + str(d.get("id", "")),
            str(d.get("status", "")),
            str(d.get("rolloutState", "")),
            f"{d.get('runningCount', 0)}/{d.get('desiredCount', 0)}",
            str(d.get("pendingCount", 0)),
            str(d.get("failedTasks", 0)),
            str(d.get("taskDefinition", "")).rsplit("/", 1)[-1],
        )
    events = []
    for event in svc.get("events", [])[:3]:
        when = event.get("createdAt")
        stamp = when.strftime("%H:%M:%S") + " " if isinstance(when, datetime) else ""
        events.append(Text(f"  {stamp}{event.get('message', '')}", style="dim"))
    return Group(table, *events)
