"""Ending every process a Terraform run left behind (issue 26).

Terraform starts its providers (terraform-provider-aws, -null) as plugin processes. When
Terraform dies without stopping them (SIGKILL, the OOM killer, a crash), nothing else does: a
700 MB AWS provider outlived `ecs-release` for half an hour. So Terraform, cdktf and the direct
runner are started as the leader of a process group (or session) of their own, and once the
leader has exited, whatever is left in that group or session is ended here: its plugins never
talk to anyone again.

A group or session id stays reserved while any process is in it (Linux reuses no pid that is a
live group's or session's id), so signalling it after its leader exited reaches only its
members. Only the standard library is imported: ecs_cd/release/terraform_run.py uses this too.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

# SIGTERM first (a plugin, or a provisioner's child, may clean up), then SIGKILL.
GRACE_SECONDS = 1.0
# How long to wait for a SIGKILLed process to be gone (a zombie counts as gone).
GONE_SECONDS = 5.0
_PROC = Path("/proc")


def _stat(pid: int) -> tuple[str, int, int] | None:
    """(state, process group, session) of ``pid`` from /proc, None if it is gone or unreadable."""
    try:
        text = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name, in parentheses, may hold spaces and parentheses itself.
    fields = text[text.rfind(")") + 2 :].split()
    try:
        return fields[0], int(fields[2]), int(fields[3])
    except (IndexError, ValueError):
        return None


def members(leader: int) -> list[int]:
    """The live processes (zombies left out) in the process group or the session ``leader`` created.

    A process in the session that made a group of its own is still found by its session."""
    if not _PROC.is_dir():
        return []
    found = []
    for entry in _PROC.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        stat = _stat(int(entry.name))
        if stat is not None and stat[0] != "Z" and leader in (stat[1], stat[2]):
            found.append(int(entry.name))
    return found


def signal_all(leader: int, number: int) -> None:
    """Send ``number`` to the group ``leader`` created and to every other process of its session."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(leader, number)
    for pid in members(leader):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, number)


def end(leader: int, *, grace: float = GRACE_SECONDS) -> list[int]:
    """End what is left of the group/session ``leader`` created, once the leader has exited:
    SIGTERM, then SIGKILL after ``grace`` seconds. Returns the pids that were still there."""
    left = members(leader)
    if not left and not _PROC.is_dir():  # no /proc (macOS): the group alone, by its id
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(leader, signal.SIGKILL)
        return []
    if not left:
        return []
    signal_all(leader, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while members(leader) and time.monotonic() < deadline:
        time.sleep(0.05)
    if members(leader):
        signal_all(leader, signal.SIGKILL)
        deadline = time.monotonic() + GONE_SECONDS
        while members(leader) and time.monotonic() < deadline:
            time.sleep(0.05)
    return left
