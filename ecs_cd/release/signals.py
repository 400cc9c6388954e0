"""SIGINT (Ctrl-C) and SIGTERM (a CI runner cancelling a job) for `ecs-release`.

Outside a Terraform run a signal stops the command with ``Interrupted``: one line, one JSON
document with --json, exit 128 + the signal's number. While `deploy` runs cdktf, the signal is
not fatal to ``ecs-release`` at once: it is handed to ``on_signal``, which stops Terraform
gracefully (so it writes its state and releases its lock) and lets the run end by itself.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

from ecs_cd.release.errors import Interrupted

HANDLED = (signal.SIGINT, signal.SIGTERM)


def name(signal_number: int) -> str:
    return signal.Signals(signal_number).name


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def _raise(signal_number: int, _frame: FrameType | None) -> None:
    raise Interrupted(f"interrupted by {name(signal_number)}", signal_number=signal_number)


@contextmanager
def raising() -> Iterator[None]:
    """For a whole command: a signal raises ``Interrupted`` (the command reports it)."""
    with _handled_by(_raise):
        yield


@contextmanager
def forwarding(on_signal: Callable[[int], None]) -> Iterator[None]:
    """While Terraform runs: a signal calls ``on_signal`` instead of raising."""
    with _handled_by(lambda number, _frame: on_signal(number)):
        yield


@contextmanager
def _handled_by(handler: Callable[[int, FrameType | None], None]) -> Iterator[None]:
    if not _in_main_thread():  # only the main thread may set handlers (and receives signals)
        yield
        return
    previous = {number: signal.getsignal(number) for number in HANDLED}
    for number in HANDLED:
        signal.signal(number, handler)
    try:
        yield
    finally:
        for number, old in previous.items():
            signal.signal(number, old)
