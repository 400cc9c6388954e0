"""`ecs-release logs`: the CloudWatch logs of a service's tasks, interleaved by time, each line
with its container and task.

The awslogs driver writes each container of each task to its own stream,
``<prefix>/<container>/<task id>``, with the container's name as the prefix here; one
FilterLogEvents over the service's log group reads them all, and the lines are merged by time.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from ecs_cd.release import errors
from ecs_cd.release.aws import Aws, error_code
from ecs_cd.release.errors import BadInput
from ecs_cd.release.targets import target

if TYPE_CHECKING:
    from ecs_cd.release.output import Output
    from ecs_cd.release.runtime import Runtime

_DURATION = re.compile(r"^([0-9]+(?:\.[0-9]+)?)([smhd]?)$")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
# CloudWatch keeps nothing older than its longest retention (10 years).
MAX_SINCE_SECONDS = 3653 * 86400


def parse_duration(text: str) -> float:
    """``90``, ``90s``, ``10m``, ``2h``, ``1d`` -> seconds; ``ValueError`` otherwise."""
    match = _DURATION.fullmatch(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not a duration: a number with s, m, h or d (e.g. 10m)")
    seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if not 0 < seconds <= MAX_SINCE_SECONDS:
        raise ValueError(f"{text!r} is not a duration from 1s to 3653d")
    return seconds


@dataclass(frozen=True)
class LogLine:
    timestamp_ms: int
    stream: str
    message: str
    event_id: str

    @property
    def container(self) -> str:
        parts = self.stream.split("/")
        return parts[1] if len(parts) >= 3 else self.stream

    @property
    def task(self) -> str:
        return self.stream.rsplit("/", 1)[-1]

    @property
    def time(self) -> str:
        return (
            datetime.fromtimestamp(self.timestamp_ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4]
            + "Z"
        )

    def text(self) -> str:
        return f"{self.time} {self.container}/{self.task} {self.message.rstrip()}"

    def as_dict(self) -> dict[str, object]:
        return {
            "time": self.time,
            "timestamp_ms": self.timestamp_ms,
            "container": self.container,
            "task": self.task,
            "message": self.message.rstrip(),
        }


def read(aws: Aws, group: str, *, start_ms: int, containers: Iterable[str] | None = None) -> list[LogLine]:
    """Every event of ``group`` from ``start_ms`` on (of ``containers`` only, when given), by time."""
    wanted = sorted(set(containers)) if containers is not None else [None]
    lines: list[LogLine] = []
    for container in wanted:
        request: dict[str, object] = {"logGroupName": group, "startTime": start_ms}
        if container is not None:
            request["logStreamNamePrefix"] = f"{container}/{container}/"
        while True:
            try:
                page = aws.call("logs", "filter_log_events", **request)
            except ClientError as exc:
                if error_code(exc) == "ResourceNotFoundException":
                    raise BadInput(f"log group {group} does not exist: deploy the service first") from None
                raise
            lines += [
                LogLine(int(e["timestamp"]), str(e["logStreamName"]), str(e["message"]), str(e["eventId"]))
                for e in page.get("events", [])
            ]
            token = page.get("nextToken")
            if not token:
                break
            request["nextToken"] = token
    return sorted(lines, key=lambda line: (line.timestamp_ms, line.stream, line.event_id))


def last_lines(
    aws: Aws, group: str, *, task_id: str, containers: Iterable[str], limit: int = 10
) -> list[LogLine]:
    """The last ``limit`` lines the task's containers wrote (their awslogs streams), by time;
    none when the group or the streams are gone."""
    streams = [f"{c}/{c}/{task_id}" for c in containers]
    lines: list[LogLine] = []
    request: dict[str, object] = {"logGroupName": group, "logStreamNames": streams}
    for _ in range(5):  # a stopped task's last lines are in its first pages; do not read on forever
        try:
            page = aws.call("logs", "filter_log_events", **request)
        except ClientError:
            return []  # the lines are a courtesy next to the stop reasons
        lines += [
            LogLine(int(e["timestamp"]), str(e["logStreamName"]), str(e["message"]), str(e["eventId"]))
            for e in page.get("events", [])
        ]
        token = page.get("nextToken")
        if not token:
            break
        request["nextToken"] = token
    return sorted(lines, key=lambda line: (line.timestamp_ms, line.stream, line.event_id))[-limit:]


def show(
    rt: Runtime, env: str, service: str, *, container: str | None, since: float, follow: bool, poll: float
) -> dict[str, Any]:
    """`ecs-release logs`: print the lines of the last ``since`` seconds (``container``'s only, when
    given), then with ``follow`` every new one until Ctrl-C."""
    t = target(rt.settings, env, service)
    containers = [t.service.name, *(c.name for c in t.service.sidecars)]
    if container is not None and container not in containers:
        raise BadInput(
            f"--container {container}: no container of {service} (containers: {', '.join(containers)})"
        )
    shown = [container] if container is not None else None
    group = t.service.names.log_group
    aws = rt.aws(t.environment)
    start_ms = int((time.time() - since) * 1000)
    events = read(aws, group, start_ms=start_ms, containers=shown)
    for line in events:
        rt.out.say(line.text())
    followed = False
    if follow:
        try:
            _follow(aws, group, events, start_ms=start_ms, containers=shown, poll=poll, out=rt.out)
        except errors.Interrupted:
            followed = True  # Ctrl-C (or a CI runner's SIGTERM) ends a follow: that is its end
    return {
        "environment": env,
        "service": service,
        "log_group": group,
        "followed_until_interrupted": followed,
        "events": [line.as_dict() for line in events],
    }


def _follow(
    aws: Aws,
    group: str,
    events: list[LogLine],
    *,
    start_ms: int,
    containers: list[str] | None,
    poll: float,
    out: Output,
) -> None:
    """Print each new line, appending it to ``events``, until interrupted."""
    seen = {line.event_id for line in events}
    while True:
        time.sleep(poll)
        # From the last line's time on (the same millisecond may hold more): new ids only.
        since_ms = max([start_ms, *(line.timestamp_ms for line in events)])
        fresh = [
            line
            for line in read(aws, group, start_ms=since_ms, containers=containers)
            if line.event_id not in seen
        ]
        for line in fresh:
            out.say(line.text())
            seen.add(line.event_id)
        events.extend(fresh)
