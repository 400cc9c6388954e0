"""The child process that applies the stacks (ecs_cd/release/terraform_run.py, or `cdktf
deploy`): ``run_cdktf`` starts it, passes its output on once Terraform has started (read by
cdktf_output.py, which also tells the lock watch when Terraform waits for a lock), and stops it
on SIGINT or SIGTERM without losing track of resources (``_Run``).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ecs_cd.release import process_tree, signals
from ecs_cd.release.cdktf_output import CdktfOutput, write_log
from ecs_cd.release.errors import DeployNotStarted
from ecs_cd.release.run_result import RunResult, Stopping

if TYPE_CHECKING:
    from ecs_cd.release.lock_watch import LockWatch
    from ecs_cd.release.terraform_commands import TerraformRecorder

# After a signal, how long the running Terraform command may go on (an apply interrupted in
# the middle can leave resources it was creating in AWS but not in its state), then how long
# Terraform's own graceful stop may take before the group is killed.
FINISH_SECONDS = 60.0
INTERRUPT_SECONDS = 60.0


def run_cdktf(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    stacks: Sequence[str],
    outdir: Path,
    recorder: TerraformRecorder,
    raw: Callable[[str], None],
    watch: LockWatch | None,
    say: Callable[[str], None] | None = None,
    finish_seconds: float = FINISH_SECONDS,
    interrupt_seconds: float = INTERRUPT_SECONDS,
    label: str = "",
    direct: bool = False,
) -> RunResult:
    """Run cdktf; its output is passed to ``raw`` once Terraform has started, held back before.

    SIGINT or SIGTERM meanwhile stops the run without losing track of resources: no further
    Terraform command starts, and the running one may finish for ``finish_seconds`` (so an apply
    records what it created). A second signal, or the end of that bound, sends Terraform one
    SIGINT: its own graceful stop (state written, lock released; resources it was creating may
    be left out of the state). After ``interrupt_seconds`` more the group is killed. cdktf runs
    in its own session, so a Ctrl-C to the terminal's process group reaches it only this way."""
    output = CdktfOutput(stacks)
    run = _Run(recorder, outdir / "stacks", say, finish_seconds, interrupt_seconds)
    handlers = contextlib.ExitStack()
    # From before cdktf starts: a signal must not leave it running unseen.
    handlers.enter_context(signals.forwarding(run.on_signal))
    try:
        run.process = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=dict(env),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            start_new_session=True,
        )
    except OSError as exc:
        handlers.close()
        raise DeployNotStarted(f"cannot run {argv[0]} ({exc.strerror or exc}); nothing was applied") from None
    process = run.process
    try:
        held = run.stream(output, raw, watch)
    finally:
        handlers.close()
        run.cancel_timers()
        # A Terraform that was killed (or crashed) leaves its provider plugins running, and
        # nothing else would ever stop them.
        process_tree.end(process.pid)
        if watch is not None:
            watch.stop()
    result = RunResult(
        process.returncode,
        recorder.commands(),
        run.stacks_dir,
        output,
        stopping=run.stopping,
        label=label,
        direct=direct,
    )
    failed_early = process.returncode != 0 and result.stopped_before_terraform
    if held and failed_early and run.stopping.signal_number is None:
        result.log = write_log(outdir, held)  # one line says why; the whole output is kept here
    else:
        for line in held:
            raw(line)
    return result


class _Run:
    """One cdktf (or direct runner) process, and how a signal stops it (see run_cdktf)."""

    def __init__(
        self,
        recorder: TerraformRecorder,
        stacks_dir: Path,
        say: Callable[[str], None] | None,
        finish_seconds: float,
        interrupt_seconds: float,
    ) -> None:
        self.recorder = recorder
        self.stacks_dir = stacks_dir
        self.say = say
        self.finish_seconds = finish_seconds
        self.interrupt_seconds = interrupt_seconds
        self.stopping = Stopping()
        # Set before the handler is installed: a signal may come at any moment from then on,
        # even while cdktf is being started (a Ctrl-C to the process group did, in the tests).
        self.process: subprocess.Popen[str] | None = None
        self.timers: list[threading.Timer] = []
        self.interrupting = threading.Lock()  # the finish timer and a second signal may race

    def terraform_started(self) -> bool:
        return any(c.directory.parent == self.stacks_dir for c in self.recorder.commands())

    def running(self) -> list[int]:
        return [c.pid for c in self.recorder.commands() if c.pid is not None and _alive(c.pid)]

    def later(self, seconds: float, action: Callable[..., None], *args: object) -> None:
        self.timers.append(threading.Timer(seconds, action, args=args))
        self.timers[-1].daemon = True
        self.timers[-1].start()

    def cancel_timers(self) -> None:
        for timer in self.timers:
            timer.cancel()

    def kill_group(self) -> None:
        process = self.process
        if process is not None and process.poll() is None:
            self.stopping.killed = True
            self.stopping.notes.append(f"Terraform did not stop within {self.interrupt_seconds:g} s: killed")
            # The direct runner starts each Terraform in a group of its own, in cdktf's session.
            process_tree.signal_all(process.pid, signal.SIGKILL)

    def interrupt(self, why: str) -> None:
        with self.interrupting:
            if self.stopping.interrupted or self.process is None or self.process.poll() is not None:
                return
            self.stopping.interrupted = True
        pids = self.running()
        for pid in pids:
            _signal_pid(pid, signal.SIGINT)
        if pids:
            self.stopping.notes.append(
                f"{why}: interrupting Terraform (it writes its state and releases its lock)"
            )
        self.later(self.interrupt_seconds, self.kill_group)

    def on_signal(self, number: int) -> None:
        # Runs in the main thread between two lines of output: no printing here (the printing
        # lock may be held); the loop says what happened.
        stopping = self.stopping
        if stopping.signal_number is not None:
            self.interrupt(f"received {signals.name(number)} again")
            return
        stopping.signal_number = number
        self.recorder.stop()
        if self.process is None:  # cdktf is being started: stopped right after (stream)
            return
        if not self.running():  # before Terraform, or between two of its commands: stop cdktf now
            _signal_group(self.process.pid, signal.SIGTERM)
            stopping.interrupted = True
            return
        finish = self.finish_seconds
        stopping.notes.append(
            f"received {signals.name(number)}: no further Terraform command starts; the running one "
            f"may finish for {finish:g} s, then it is interrupted (signal again to interrupt now)"
        )
        self.later(finish, self.interrupt, f"after {finish:g} s")

    def note(self) -> None:
        while self.stopping.notes and self.say is not None:
            self.say(self.stopping.notes.pop(0))

    def stream(self, output: CdktfOutput, raw: Callable[[str], None], watch: LockWatch | None) -> list[str]:
        """Pass the output on until the process ends; what came before Terraform started is held
        back and returned."""
        process = self.process
        assert process is not None
        held: list[str] = []
        streaming = False
        if self.stopping.signal_number is not None:  # came while cdktf was being started
            self.stopping.interrupted = True
            _signal_group(process.pid, signal.SIGTERM)
        if watch is not None:
            watch.start()
        with process:
            assert process.stdout is not None
            for line in process.stdout:
                self.note()
                stack = output.feed(line)
                if not streaming and self.terraform_started():
                    streaming = True
                    for earlier in held:
                        raw(earlier)
                    held.clear()
                if streaming:
                    raw(line)
                else:
                    held.append(line)
                if stack is not None and watch is not None:
                    watch.acquiring(stack)
            self.note()
        return held


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def _signal_pid(pid: int, number: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, number)


def _signal_group(pgid: int, number: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, number)
