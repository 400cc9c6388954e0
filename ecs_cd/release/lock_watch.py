"""The state locks while a deploy runs: where each stack's S3 lock object is (from StackLayout),
and the watch that says when Terraform waits for a lock another run holds (who, since when, how
long) and when it was released."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ecs_cd.release.errors import ReleaseError
from ecs_cd.release.state import Lock, lock_key
from stacks.layout import StackLayout
from stacks.settings import EnvironmentSettings, S3State

LOCK_POLL_SECONDS = 1.0


@dataclass(frozen=True)
class LockSpot:
    """Where one stack's S3 lock object is."""

    stack: str
    state: S3State
    key: str

    @property
    def url(self) -> str:
        return f"s3://{self.state.bucket}/{lock_key(self.state, self.key)}"


def lock_spots(env: EnvironmentSettings, stacks: Sequence[str]) -> list[LockSpot]:
    """The S3 lock objects of ``stacks`` (the environment's and its services'), if it locks in S3."""
    state = env.state
    if not isinstance(state, S3State) or not state.use_lockfile:
        return []
    places = [StackLayout.of(env).place(stack) for stack in stacks]
    return [LockSpot(p.name, state, p.state_key) for p in places if p.state_key is not None]


def _age(created: datetime | None, now: float) -> str:
    if created is None:
        return ""
    seconds = max(0, round(now - created.timestamp()))
    if seconds < 120:
        return f" ({seconds} s ago)"
    return f" ({seconds // 60} min ago)" if seconds < 7200 else f" ({seconds // 3600} h ago)"


def holder_text(lock: Lock | None, now: float, *, unknown: str = "") -> str:
    if lock is None:
        return f"held by another run ({unknown or 'released before it could be read'})"
    operation = lock.operation.removeprefix("OperationType").lower() or "?"
    return (
        f"held by {lock.who} ({operation}, lock id {lock.id}) "
        f"since {lock.created}{_age(lock.created_at, now)}"
    )


@dataclass
class _StackWatch:
    spot: LockSpot | None
    foreign: set[str] = field(default_factory=set)  # ids of locks known to be another run's
    not_started_at: float | None = None  # the last moment this run's Terraform had not started on it
    last: tuple[float, Lock] | None = None  # the last lock read, and when
    acquiring_at: float | None = None  # Terraform said "Acquiring state lock" (not handled yet)
    waiting: dict[str, Any] | None = None  # the wait being reported
    reported: set[str] = field(default_factory=set)
    broken: bool = False


class LockWatch:
    """Reads each stack's lock object while the deploy runs and reports this run's waits.

    ``check`` is the whole logic, with an injected clock, lock reader and "has this run's
    Terraform started a locking command on the stack"; ``start`` runs it every ``poll`` s."""

    def __init__(
        self,
        stacks: Sequence[str],
        spots: Sequence[LockSpot],
        *,
        read: Callable[[LockSpot], Lock | None],
        started: Callable[[str], bool],
        say: Callable[[str], None],
        timeout_seconds: int,
        clock: Callable[[], float] = time.time,
        poll: float = LOCK_POLL_SECONDS,
    ) -> None:
        by_stack = {s.stack: s for s in spots}
        self._stacks = {name: _StackWatch(by_stack.get(name)) for name in stacks}
        self._read, self._started, self._say = read, started, say
        self.timeout_seconds = timeout_seconds
        self._clock, self._poll = clock, poll
        self.waits: list[dict[str, Any]] = []
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._mutex = threading.Lock()
        self._thread: threading.Thread | None = None

    def acquiring(self, stack: str) -> None:
        """This run's Terraform said it waits for the lock of ``stack`` (from the output reader)."""
        watch = self._stacks.get(stack)
        if watch is None:
            return
        with self._mutex:
            watch.acquiring_at = self._clock()
        self._wake.set()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="lock-watch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop watching; a wait still going on ends unreleased (Terraform gave up, or was stopped)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        for name, watch in self._stacks.items():
            # One last read: a lock released since the last poll was a wait that ended so,
            # not one Terraform gave up on (Terraform may exit within a poll of getting it).
            if watch.waiting is not None and watch.spot is not None and not watch.broken:
                self.check(name)
            self._end_wait(name, released=False)

    def _loop(self) -> None:
        while not self._stop.is_set():
            for name in self._stacks:
                if self._stop.is_set():
                    return
                self.check(name)
            self._wake.wait(self._poll)
            self._wake.clear()

    def check(self, name: str) -> None:
        """Read the lock of ``name`` once; report a wait that starts or ends."""
        watch = self._stacks[name]
        read_at = self._clock()
        lock, readable = self._read_once(name, watch)
        # Asked after the read: not started now means not started when the lock was read.
        started = self._started(name)
        with self._mutex:
            acquiring_at, watch.acquiring_at = watch.acquiring_at, None
            if not started:
                watch.not_started_at = self._clock()
            _note_foreign(watch, lock, started=started, acquiring_at=acquiring_at)
            holder = (watch.waiting or {}).get("holder")
            if readable and holder is not None and (lock is None or lock.id != holder["id"]):
                self._end_wait(name, released=True)
            if started and lock is not None and lock.id in watch.foreign and lock.id not in watch.reported:
                self._begin_wait(name, lock)
            elif started and acquiring_at is not None and lock is None and watch.waiting is None:
                self._gone_before_read(name, watch, readable)
            if lock is not None:
                watch.last = (read_at, lock)

    def _read_once(self, name: str, watch: _StackWatch) -> tuple[Lock | None, bool]:
        """The lock of ``name`` (None: none, or not readable), and whether it could be read."""
        if watch.spot is None or watch.broken:
            return None, False
        try:
            return self._read(watch.spot), True
        except ReleaseError as exc:
            watch.broken = True
            self._say(f"{name}: cannot read the state lock ({exc}); a wait for it is not reported")
            return None, False

    def _gone_before_read(self, name: str, watch: _StackWatch, readable: bool) -> None:
        """Terraform waits, but the lock is gone already, or cannot be read here."""
        seen = watch.last[1] if watch.last and watch.last[1].id in watch.foreign else None
        if seen is not None and seen.id in watch.reported:
            return
        if watch.spot is None:
            unknown = "a local state lock: the holder is not shown"
        elif not readable:
            unknown = "the lock object could not be read"
        else:
            unknown = "released before it could be read"
        self._begin_wait(name, seen, ongoing=False, unknown=unknown)

    def _begin_wait(self, name: str, lock: Lock | None, *, ongoing: bool = True, unknown: str = "") -> None:
        watch = self._stacks[name]
        now = self._clock()
        where = f" ({watch.spot.url})" if watch.spot else ""
        released = "" if ongoing or lock is None else "; it was just released"
        holder = holder_text(lock, now, unknown=unknown)
        self._say(
            f"{name}: waiting for the state lock{where}, {holder}{released}; "
            f"Terraform waits up to {self.timeout_seconds} s for it (lock_timeout_seconds), then gives up"
        )
        record: dict[str, Any] = {
            "stack": name,
            "lock": watch.spot.url if watch.spot else None,
            "holder": None
            if lock is None
            else {"id": lock.id, "who": lock.who, "operation": lock.operation, "created": lock.created},
            "timeout_seconds": self.timeout_seconds,
            "waited_seconds": None,
            "released": None if ongoing else True,
        }
        self.waits.append(record)
        if lock is not None:
            watch.reported.add(lock.id)
        if ongoing:
            watch.waiting = {"record": record, "holder": record["holder"], "since": now}

    def _end_wait(self, name: str, *, released: bool) -> None:
        watch = self._stacks[name]
        if watch.waiting is None:
            return
        record = watch.waiting["record"]
        waited = round(self._clock() - watch.waiting["since"], 1)
        record["released"] = released
        record["waited_seconds"] = waited
        if released:
            holder = watch.waiting["holder"]["who"] if watch.waiting["holder"] else "another run"
            self._say(f"{name}: the state lock held by {holder} was released after {waited} s of waiting")
        watch.waiting = None


# A lock's "Created" may be written to the second only: a lock is older than a moment only
# when it is older by more than that, or this run's own fresh lock would count as another's.
_CREATED_RESOLUTION_SECONDS = 1.0


def _older(lock: Lock, moment: float | None) -> bool:
    created = lock.created_at
    return (
        created is not None
        and moment is not None
        and created.timestamp() < moment - _CREATED_RESOLUTION_SECONDS
    )


def _note_foreign(
    watch: _StackWatch, lock: Lock | None, *, started: bool, acquiring_at: float | None
) -> None:
    """Evidence that a lock is another run's: this run's Terraform had not started on the stack,
    or still waited for the lock, when it was there; or it is older than that."""
    if acquiring_at is not None and started and watch.last and watch.last[0] <= acquiring_at:
        watch.foreign.add(watch.last[1].id)
    if lock is not None and (not started or acquiring_at is not None or _older(lock, watch.not_started_at)):
        watch.foreign.add(lock.id)
