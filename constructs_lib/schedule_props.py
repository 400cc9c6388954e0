"""When a scheduled job runs: its EventBridge Scheduler schedule, as props (no cdktf here, so the
settings loader and ecs-release import it for free)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StrictBool, StrictInt

from constructs_lib.fields import ScheduleExpression, TimeZone
from constructs_lib.props import Props

# EventBridge Scheduler's schedule names: 1-64 of letters, digits and - _ .
ScheduleName = Annotated[str, Field(pattern=r"^[0-9A-Za-z_.-]{1,64}$", strict=True)]


class JobSchedule(Props):
    """``expression``: ``cron(minutes hours day-of-month month day-of-week year)``, ``rate(N unit)``
    or ``at(yyyy-mm-ddThh:mm:ss)`` (``ecs_cd.core.schedules``), in ``timezone`` (an IANA name,
    default UTC); ``enabled`` (default True: the schedule's state); ``flexible_window_minutes``
    (default None: run at the time exactly; 1-1440: any time within that window after it);
    ``retries`` (default None: Scheduler's own, 185 within 24 hours; 0-185): how often Scheduler
    retries a RunTask that fails (ECS refused or throttled the call; not the task's exit code)."""

    expression: ScheduleExpression
    """``cron(minutes hours day-of-month month day-of-week year)``, ``rate(N unit)`` or
    ``at(yyyy-mm-ddThh:mm:ss)``. Required: in the service's table or in every environment's
    override of it (the two are merged key by key)."""
    timezone: TimeZone = "UTC"
    """The IANA time zone the expression is read in, e.g. ``Europe/Berlin``."""
    enabled: StrictBool = True
    """The schedule's state (false: it never runs the task)."""
    flexible_window_minutes: Annotated[StrictInt, Field(ge=1, le=1440)] | None = None
    """Run any time within this many minutes after the time (unset: at the time exactly)."""
    retries: Annotated[StrictInt, Field(ge=0, le=185)] | None = None
    """How often Scheduler retries a RunTask that fails (ECS refused or throttled the call, not the
    task's exit code; unset: Scheduler's own, 185 within 24 hours)."""
