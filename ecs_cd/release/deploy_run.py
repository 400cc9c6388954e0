"""One `cdktf deploy` run of `ecs-release deploy`: did Terraform run, did an apply start, and
who held the state lock while it waited.

- **Which Terraform commands ran.** cdktf runs Terraform as ``$TERRAFORM_BINARY_NAME``. The
  deploy points that at a small shell wrapper which notes each command and its directory, then
  ``exec``s the real Terraform. So a failure is reported from what ran, not guessed from an
  exit code: "nothing was applied" only when no apply started, "may have applied part of the
  plan" only when one did.
- **Nothing before Terraform is shown as a traceback.** cdktf's output is held back until
  Terraform starts. A failure before that (synthesis, cdktf itself) becomes one line; the whole
  output goes to a log file named in that line.
- **Waiting for a state lock is said.** The S3 lock objects of the stacks are read while the
  deploy runs. When this run's Terraform waits for a lock another run holds, one line names the
  holder, since when it holds it and how long Terraform will wait; another when it is released.
  A lock counts as another run's only with evidence: it was there before this run's Terraform
  started on the stack, it was created before that, or it was there when Terraform said it was
  waiting ("Acquiring state lock"). This run's own lock is never reported.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import shutil
import signal
import subprocess
import tempfile
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ecs_cd.release import process_tree, signals
from ecs_cd.release.errors import DeployFailed, DeployNotStarted, Interrupted, ReleaseError
from ecs_cd.release.lock_watch import LockWatch
from ecs_cd.toolchain.errors import ToolError
from stacks.settings import LocalState, S3State

# Terraform commands that take the state lock (cdktf deploy runs init, apply, output).
LOCKING_COMMANDS = frozenset({"apply", "destroy", "plan", "refresh", "import"})
APPLYING_COMMANDS = frozenset({"apply", "destroy", "import"})
LOG_NAME = "ecs-release-deploy.log"

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_BOX = "│╷╵"


def plain(line: str) -> str:
    """A line of cdktf/Terraform output without colours, box drawing or trailing space."""
    return _ANSI.sub("", line).rstrip()


# --- the output directory and the tools -------------------------------------------------


def prepare_output(outdir: Path) -> Path:
    """The absolute output directory, created with its parents (cdktf runs in the project directory)."""
    resolved = outdir.expanduser().resolve()
    try:
        resolved.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise DeployNotStarted(
            f"--output {outdir}: {resolved} exists and is not a directory; nothing was applied"
        ) from None
    except OSError as exc:
        raise DeployNotStarted(
            f"--output {outdir}: cannot create {resolved} ({exc.strerror or exc}); nothing was applied"
        ) from None
    if not _writable(resolved):
        raise DeployNotStarted(f"--output {outdir}: {resolved} is not writable; nothing was applied")
    return resolved


def _writable(directory: Path) -> bool:
    try:
        with tempfile.TemporaryFile(dir=directory):
            return True
    except OSError:
        return False


def find_terraform(env: Mapping[str, str]) -> str:
    """The Terraform binary cdktf would run (``TERRAFORM_BINARY_NAME`` or ``terraform`` on PATH)."""
    name = env.get("TERRAFORM_BINARY_NAME") or "terraform"
    found = shutil.which(name, path=env.get("PATH"))
    if found is None:
        raise ToolError(f"{name} was not found on PATH: install Terraform >= 1.10")
    return found


@dataclass(frozen=True)
class TerraformCommand:
    """One Terraform command cdktf started: the directory it ran in and its arguments."""

    directory: Path
    args: tuple[str, ...]
    pid: int | None = None  # the wrapper execs Terraform, so its pid is Terraform's

    @property
    def subcommand(self) -> str:
        return next((a for a in self.args if not a.startswith("-")), "")


class TerraformRecorder:
    """The wrapper cdktf runs as Terraform, and the commands it noted."""

    def __init__(self, workdir: Path, terraform: str) -> None:
        self.log = workdir / "terraform-commands.log"
        self.wrapper = workdir / "terraform"
        # Once it exists (a signal came), no further Terraform command starts.
        self.stop_file = workdir / "stop"
        self.log.write_text("")
        self.wrapper.write_text(
            "#!/bin/sh\n"
            "# Written by ecs-release deploy: note the command, then run Terraform itself.\n"
            f'printf \'%s\\t%s\\t%s\\n\' "$$" "$(pwd -P)" "$*" >> {shlex.quote(str(self.log))}\n'
            f"if [ -e {shlex.quote(str(self.stop_file))} ]; then\n"
            '  echo "ecs-release: stopping (signal received): terraform $1 not started" >&2\n'
            "  exit 1\n"
            "fi\n"
            f'exec {shlex.quote(terraform)} "$@"\n'
        )
        self.wrapper.chmod(0o755)

    @property
    def environment(self) -> dict[str, str]:
        return {"TERRAFORM_BINARY_NAME": str(self.wrapper)}

    def stop(self) -> None:
        self.stop_file.touch()

    def commands(self) -> list[TerraformCommand]:
        found = []
        for line in self.log.read_text(errors="replace").splitlines():
            pid, _, rest = line.partition("\t")
            directory, _, args = rest.partition("\t")
            found.append(
                TerraformCommand(Path(directory), tuple(args.split()), int(pid) if pid.isdigit() else None)
            )
        return found


# --- what cdktf printed ----------------------------------------------------------------------

_LOCK_FIELD = re.compile(r"^(ID|Path|Operation|Who|Version|Created|Info):\s*(.*)$")
# The AWS provider's "creating <what> (<name>): … ResourceAlreadyExistsException: …".
_CREATING = re.compile(r"^Error: creating (?P<what>.+?) \((?P<name>[^()]+)\): (?P<why>.*)$")
_ALREADY = re.compile(r"already exists|AlreadyExists|\.Duplicate\b|DuplicateName", re.IGNORECASE)
_WITH = re.compile(r"^with (?P<address>[A-Za-z0-9_]+\.[A-Za-z0-9_-]+)\b")
# Resource types whose import ID is the name in the provider's error; the others need an ID
# the error does not show (an ARN, a generated id), which the hint names instead.
_IMPORT_ID_IS_NAME = frozenset(
    {
        "aws_cloudwatch_log_group",
        "aws_iam_role",
        "aws_ecs_cluster",
        "aws_ssm_parameter",
        "aws_ecr_repository",
        "aws_cloudwatch_metric_alarm",
    }
)
_IMPORT_ID_OF = {
    "aws_ecs_service": "<cluster name>/{name}",
    "aws_security_group": "<security group id, sg-…, of {name}>",
    "aws_lb_target_group": "<ARN of target group {name}>",
    "aws_lb": "<ARN of load balancer {name}>",
    "aws_iam_policy": "<ARN of policy {name}>",
}


@dataclass(frozen=True)
class AlreadyExists:
    """A resource Terraform tried to create that AWS already has (absent from the state)."""

    stack: str
    what: str  # as the provider names it: "CloudWatch Logs Log Group"
    name: str
    address: str = ""

    def import_id(self) -> str:
        kind = self.address.partition(".")[0]
        if kind in _IMPORT_ID_IS_NAME:
            return self.name
        return _IMPORT_ID_OF.get(kind, "<its import ID: see the provider's docs for {kind}>").format(
            name=self.name, kind=kind
        )

    def import_command(self, stacks_dir: Path) -> str:
        where = shlex.quote(str(stacks_dir / self.stack))
        return f"terraform -chdir={where} import {shlex.quote(self.address)} {shlex.quote(self.import_id())}"


class CdktfOutput:
    """cdktf's output, line by line: which stack speaks, lock waits and lock errors."""

    def __init__(self, stacks: Sequence[str]) -> None:
        self.stacks = list(stacks)
        self.lines: list[str] = []
        self.current: str | None = None
        self.acquiring: list[str] = []
        self.lock_errors: dict[str, dict[str, str]] = {}
        self.synth_error = False
        self.already_exists: list[AlreadyExists] = []
        # An error said something already exists, named or not ("InvalidPermission.Duplicate" of a
        # security group rule names no resource): ecs_cd/release/orphans.py then looks for all of them.
        self.collided = False
        self._error_seen = False
        self.apply_completed: set[str] = set()  # stacks whose Terraform said "Apply complete!"
        self._lock_info_of: str | None = None

    def _text(self, line: str) -> str:
        """The line without its stack prefix (cdktf starts each stack's chunk with its name)."""
        text = plain(line)
        first, _, rest = text.partition(" ")
        if first in self.stacks and (rest.startswith(" ") or not rest):
            self.current = first
            text = rest
        return text.strip().strip(_BOX).strip()

    def feed(self, line: str) -> str | None:
        """Take one line; returns the stack whose Terraform just said it waits for the lock."""
        self.lines.append(line)
        text = self._text(line)
        if "encountered an error while synthesizing" in text:
            self.synth_error = True
        if text.startswith("Apply complete!"):
            self.apply_completed.add(self.current or "?")
        # Terraform wraps an error's text over several lines: the code comes after "Error:".
        self._error_seen = self._error_seen or text.startswith("Error:")
        if self._error_seen and _ALREADY.search(text):
            self.collided = True
        creating = _CREATING.match(text)
        if creating and _ALREADY.search(creating["why"]):
            self.already_exists.append(AlreadyExists(self.current or "?", creating["what"], creating["name"]))
        elif self.already_exists and not self.already_exists[-1].address:
            with_ = _WITH.match(text)
            if with_:
                self.already_exists[-1] = replace(self.already_exists[-1], address=with_["address"])
        if "Error acquiring the state lock" in text:
            self.lock_errors.setdefault(self.current or "?", {})
        elif text.startswith("Lock Info:") and self.lock_errors:
            self._lock_info_of = self.current or "?"
        elif self._lock_info_of is not None:
            found = _LOCK_FIELD.match(text)
            if found:
                self.lock_errors.setdefault(self._lock_info_of, {})[found[1]] = found[2].strip()
                if found[1] == "Info":
                    self._lock_info_of = None
        if text.startswith("Acquiring state lock"):
            stack = self.current or "?"
            self.acquiring.append(stack)
            return stack
        return None

    def failure_reason(self) -> str:
        """The line that says why cdktf stopped (the app's error, else cdktf's), one line."""
        text = [plain(line).strip() for line in self.lines]
        text = [t for t in text if t and not t.startswith("npm warn") and not _spinner(t)]
        if "Command output on stderr:" in text:
            block = text[len(text) - text[::-1].index("Command output on stderr:") :]
            if "Command output on stdout:" in block:
                block = block[: block.index("Command output on stdout:")]
            own = [i for i, t in enumerate(block) if t.startswith("ecs-cd:")]
            if own:  # main.py's own message, and the problems it lists under it
                return _one_line(" ".join(block[own[0] :]))
            if block:
                return _one_line(block[-1])
        errors = [t for t in text if re.match(r"^(Error|ERROR)\b:?", t)]
        if errors:
            return _one_line(errors[-1])
        return _one_line(text[-1]) if text else "no output"


def _spinner(text: str) -> bool:
    return "\u2800" <= text[0] <= "\u28ff"


def _one_line(text: str, limit: int = 400) -> str:
    text = re.sub(r"^(Error|ERROR):\s*", "", " ".join(text.split()))
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- one run -------------------------------------------------------------------------------


@dataclass
class RunResult:
    returncode: int
    commands: list[TerraformCommand]
    stacks_dir: Path
    output: CdktfOutput
    log: Path | None = None
    stopping: Stopping = field(default_factory=lambda: Stopping())
    # What ran, as messages name it: "cdktf deploy ENV", or "deploy ENV" (Terraform run directly).
    label: str = ""
    # Terraform run directly (ecs_cd/release/terraform_run.py): no `terraform version` before the stacks,
    # and one record per stack of what happened to it.
    direct: bool = False
    outcomes: list[dict[str, Any]] = field(default_factory=list)

    def _stack_of(self, command: TerraformCommand) -> str | None:
        return command.directory.name if command.directory.parent == self.stacks_dir else None

    @property
    def terraform_ran(self) -> bool:
        """Terraform ran in a stack directory (``terraform version`` at cdktf's start does not count)."""
        return any(self._stack_of(c) for c in self.commands)

    def stacks_with(self, subcommands: frozenset[str]) -> list[str]:
        found: list[str] = []
        for command in self.commands:
            stack = self._stack_of(command)
            if stack and command.subcommand in subcommands and stack not in found:
                found.append(stack)
        return found

    @property
    def recorded(self) -> bool:
        """The wrapper was used (cdktf asks Terraform for its version first)."""
        return bool(self.commands)

    @property
    def stopped_before_terraform(self) -> bool:
        """Known for sure: Terraform never ran in a stack directory."""
        if self.direct:  # the wrapper notes every command the runner starts
            return not self.terraform_ran
        return not self.terraform_ran and (self.recorded or self.output.synth_error)

    def outcome_text(self) -> str:
        """Each stack's outcome, when several were deployed: "; a: applied; b: failed (…)"."""
        if len(self.outcomes) < 2:
            return ""
        parts = []
        for o in self.outcomes:
            why = f" ({o['reason']})" if o.get("reason") and o["apply"] != "applied" else ""
            parts.append(f"{o['stack']}: {o['apply']}{why}")
        return "; stacks: " + ", ".join(parts)


def started_on(recorder: TerraformRecorder, stacks_dir: Path) -> Callable[[str], bool]:
    """Has this run's Terraform started a command that takes the lock of a stack?"""

    def started(stack: str) -> bool:
        return any(
            c.directory == stacks_dir / stack and c.subcommand in LOCKING_COMMANDS
            for c in recorder.commands()
        )

    return started


# After a signal, how long the running Terraform command may go on (an apply interrupted in
# the middle can leave resources it was creating in AWS but not in its state), then how long
# Terraform's own graceful stop may take before the group is killed.
FINISH_SECONDS = 60.0
INTERRUPT_SECONDS = 60.0


@dataclass
class Stopping:
    """A signal came while cdktf ran: which, and how far the stop had to go."""

    signal_number: int | None = None
    interrupted: bool = False  # Terraform was sent SIGINT (a second signal, or the finish bound)
    killed: bool = False  # the group was SIGKILLed (Terraform's stop took too long)
    notes: list[str] = field(default_factory=list)


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
            self.interrupt(f"received {_signal_name(number)} again")
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
            f"received {_signal_name(number)}: no further Terraform command starts; the running one "
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


def _signal_name(number: int) -> str:
    return signal.Signals(number).name


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


def write_log(outdir: Path, lines: Sequence[str], name: str = LOG_NAME) -> Path | None:
    """``lines`` (without colours) in ``outdir/name``, else in a temporary file; None if neither
    can be written."""
    text = "".join(plain(line) + "\n" for line in lines)
    try:
        path = outdir / name
        path.write_text(text)
        return path
    except OSError:
        try:
            with tempfile.NamedTemporaryFile(
                "w", prefix="ecs-release-deploy-", suffix=".log", delete=False
            ) as handle:
                handle.write(text)
                return Path(handle.name)
        except OSError:
            return None


# --- what to say about a failed run ------------------------------------------------------


def _head(env: str, result: RunResult) -> str:
    return result.label or f"cdktf deploy {env}"


def _holder_of(info: Mapping[str, str]) -> str:
    if not info.get("Who"):
        return ""
    operation = info.get("Operation", "").removeprefix("OperationType").lower()
    return (
        f" ({info['Who']}"
        + (f", {operation}" if operation else "")
        + (f" since {info['Created']}" if info.get("Created") else "")
        + (f", lock id {info['ID']}" if info.get("ID") else "")
        + ")"
    )


def interruption(
    env: str, result: RunResult, *, locks_held: Sequence[str], state: LocalState | S3State | None = None
) -> Interrupted:
    """What a signal during the run did, claiming only what the recorded commands and
    Terraform's own output show."""
    stopping = result.stopping
    number = stopping.signal_number
    assert number is not None
    applied = result.stacks_with(frozenset({"apply"}))
    unfinished = [s for s in applied if s not in result.output.apply_completed]
    details: dict[str, object] = {
        "signal": _signal_name(number),
        "terraform_ran": result.terraform_ran,
        "nothing_applied": not applied,
        "applies_finished": [s for s in applied if s not in unfinished],
        "applies_interrupted": unfinished,
        "terraform_killed": stopping.killed,
        "locks_held": list(locks_held),
    }
    head = f"{_head(env, result)} interrupted by {_signal_name(number)}"
    if not applied:
        return Interrupted(
            f"{head} before Terraform applied anything: nothing was applied",
            signal_number=number,
            details=details,
        )
    if isinstance(state, LocalState):
        left = lock_info_files(state, result.stacks_dir, applied)
        details["lock_info_left"] = [str(p) for p in left]
        lock = "the state lock was released" + _left_behind(left)
    elif locks_held:
        lock = (
            f"the state lock of {', '.join(locks_held)} is still held: once no run is active, "
            f"`ecs-release unlock {env} --force`"
        )
    else:
        lock = "the state lock was released"
    if not unfinished:
        return Interrupted(
            f"{head} after Terraform finished the apply of {', '.join(applied)}: the plan was applied "
            f"and the state written ({lock}); the rollout was not followed: check "
            f"`ecs-release status {env}`",
            signal_number=number,
            details=details,
        )
    how = "was killed" if stopping.killed else "was interrupted"
    return Interrupted(
        f"{head}: Terraform {how} during the apply of {', '.join(unfinished)}; it may have applied "
        f"part of the plan, and resources it was creating may exist in AWS without being in the "
        f"state (the next deploy names them, with the import command) ({lock}): check "
        f"`ecs-release status {env}` and deploy again",
        signal_number=number,
        details=details,
    )


def lock_info_files(state: LocalState, stacks_dir: Path, stacks: Sequence[str]) -> list[Path]:
    """The lock-info files a killed Terraform left next to the local state of ``stacks``."""
    relative = Path(state.path)
    name = f".{relative.name}.lock.info"  # where Terraform's local backend writes it
    return [p for p in (stacks_dir / s / relative.parent / name for s in stacks) if p.is_file()]


def _left_behind(left: Sequence[Path]) -> str:
    if not left:
        return ""
    return (
        f"; Terraform left {', '.join(str(p) for p in left)} behind: it holds no lock (a local state's "
        "lock is the OS's, gone with the process) and can be removed"
    )


def _lock_after_kill(
    env: str, result: RunResult, stacks: Sequence[str], state: LocalState | S3State | None
) -> tuple[str, list[str]]:
    """What a killed Terraform left of its state lock, ending in what to check; only commands
    that work for the environment's backend (`unlock` knows S3 lock objects only). Also the
    lock-info files left next to a local state."""
    if isinstance(state, LocalState):
        left = lock_info_files(state, result.stacks_dir, stacks)
        return (
            "; its state lock was released when it died (a local state's lock is the OS's)"
            f"{_left_behind(left)}: check `ecs-release status {env}`",
            [str(p) for p in left],
        )
    if isinstance(state, S3State) and not state.use_lockfile:  # no lock was taken
        return f": check `ecs-release status {env}`", []
    return f", and left its state lock: check `ecs-release unlock {env}` and `ecs-release status {env}`", []


def _unfinished_apply(
    env: str, result: RunResult, state: LocalState | S3State | None = None
) -> DeployFailed | None:
    """cdktf exits 0 when Terraform is killed mid-apply (seen with SIGKILL): an apply that never
    said "Apply complete!" did not finish, whatever the exit code."""
    applied = result.stacks_with(frozenset({"apply"}))
    unfinished = [s for s in applied if s not in result.output.apply_completed]
    if not unfinished or "?" in result.output.apply_completed:
        return None
    lock, left = _lock_after_kill(env, result, unfinished, state)
    details: dict[str, object] = {"terraform_ran": True, "nothing_applied": False, "unfinished": unfinished}
    if isinstance(state, LocalState):
        details["lock_info_left"] = left
    return DeployFailed(
        f"{_head(env, result)} exited 0, but Terraform's apply of {', '.join(unfinished)} never said "
        f"'Apply complete!': it was killed or stopped mid-apply and may have applied part of the plan"
        f"{lock}, then deploy again",
        details=details,
    )


def _killed_applies(
    env: str, result: RunResult, state: LocalState | S3State | None = None
) -> DeployFailed | None:
    """Run directly, Terraform's exit is seen: an apply killed by a signal did not finish."""
    killed = [o for o in result.outcomes if o.get("apply") == "failed" and (o.get("exit_code") or 0) < 0]
    if not killed:
        return None
    stacks = [o["stack"] for o in killed]
    how = ", ".join(sorted({_signal_name(-int(o["exit_code"])) for o in killed}))
    lock, left = _lock_after_kill(env, result, stacks, state)
    details: dict[str, object] = {
        "terraform_ran": True,
        "nothing_applied": False,
        "unfinished": stacks,
        "stack_outcomes": result.outcomes,
    }
    if isinstance(state, LocalState):
        details["lock_info_left"] = left
    return DeployFailed(
        f"{_head(env, result)}: Terraform's apply of {', '.join(stacks)} was killed ({how}) and never said "
        f"'Apply complete!': it may have applied part of the plan{lock}, then deploy again"
        f"{result.outcome_text()}",
        details=details,
    )


def failure(
    env: str,
    result: RunResult,
    *,
    lock_timeout: int,
    lock_waits: Sequence[dict[str, Any]] = (),
    state: LocalState | S3State | None = None,
) -> ReleaseError | None:
    """The error for a failed cdktf deploy, claiming only what the recorded commands show.

    ``state``: the environment's backend, so that the advice names only commands that work for
    it (None: as for S3)."""
    if result.returncode == 0:
        return _unfinished_apply(env, result, state)
    killed = _killed_applies(env, result, state)
    if killed is not None:
        return killed
    details: dict[str, object] = {"terraform_ran": result.terraform_ran, "lock_waits": list(lock_waits)}
    if result.outcomes:
        details["stack_outcomes"] = result.outcomes
    return (
        _not_started(env, result, details)
        or _locked(env, result, details, lock_timeout=lock_timeout, state=state)
        or _failed_before_apply(env, result, details)
        or _already_exists(env, result, details)
        or _failed_after_start(env, result, details)
    )


def _not_started(env: str, result: RunResult, details: dict[str, object]) -> ReleaseError | None:
    """Terraform never ran in a stack directory: synthesis, cdktf or the runner failed first."""
    if not result.stopped_before_terraform:
        return None
    if result.output.synth_error:
        stage = "synthesis failed"
    else:
        stage = "no stack could be started" if result.direct else "cdktf failed"
    log = f" (cdktf's output: {result.log})" if result.log else ""
    details.update({"nothing_applied": True, "log": str(result.log) if result.log else None})
    return DeployNotStarted(
        f"{_head(env, result)} stopped before Terraform ran, {stage}: "
        f"{result.output.failure_reason()}; nothing was applied{log}",
        details=details,
    )


def _locked(
    env: str,
    result: RunResult,
    details: dict[str, object],
    *,
    lock_timeout: int,
    state: LocalState | S3State | None,
) -> ReleaseError | None:
    """Another run held a state lock for longer than the lock timeout."""
    if not result.output.lock_errors:
        return None
    applied = result.stacks_with(APPLYING_COMMANDS)
    locked = list(result.output.lock_errors)
    before = [s for s in applied if s not in locked]
    holder = _holder_of(next(iter(result.output.lock_errors.values())))
    if before:
        outcome = (
            f"nothing was applied to {', '.join(locked)}, but Terraform had applied "
            f"{', '.join(before)} before: check `ecs-release status {env}`"
        )
    else:
        outcome = "nothing was applied"
    details.update({"nothing_applied": not before, "lock": result.output.lock_errors})
    if isinstance(state, LocalState):
        # An OS lock: only a running Terraform holds it, and `unlock` knows S3 locks only.
        advice = (
            "Retry once that run has ended, or raise the timeout (a local state's lock goes with its process)"
        )
    else:
        advice = f"Retry, raise the timeout, or if that run died: ecs-release unlock {env} --force"
    return DeployFailed(
        f"{_head(env, result)}: the state is locked by another run{holder} and stayed locked for "
        f"lock_timeout_seconds = {lock_timeout}; {outcome}. {advice}",
        details=details,
    )


def _failed_before_apply(env: str, result: RunResult, details: dict[str, object]) -> ReleaseError | None:
    """A Terraform command failed before any apply started (init, plan, …)."""
    if not result.recorded or result.stacks_with(APPLYING_COMMANDS):
        return None
    last = result.commands[-1]
    step = f"terraform {last.subcommand or ' '.join(last.args)}"
    where = f" of stack {last.directory.name}" if result.terraform_ran else ""
    details["nothing_applied"] = True
    return DeployFailed(
        f"{_head(env, result)} failed before Terraform applied anything ({step}{where} failed, "
        f"see its output above); nothing was applied{result.outcome_text()}",
        details=details,
    )


def _applied_text(result: RunResult) -> str:
    applied = result.stacks_with(APPLYING_COMMANDS)
    return f" (apply started for {', '.join(applied)})" if applied else ""


def _already_exists(env: str, result: RunResult, details: dict[str, object]) -> ReleaseError | None:
    """The apply failed on resources AWS has and the state lacks: each with its import command."""
    existing = [e for e in result.output.already_exists if e.address]
    if not existing:
        return None
    details["nothing_applied"] = False
    details["already_exists"] = [
        {
            "stack": e.stack,
            "address": e.address,
            "name": e.name,
            "import": e.import_command(result.stacks_dir),
        }
        for e in existing
    ]
    found = "; ".join(f"{e.what} {e.name} ({e.address})" for e in existing)
    commands = "; ".join(e.import_command(result.stacks_dir) for e in existing)
    return DeployFailed(
        f"{_head(env, result)}: already in AWS but not in the Terraform state: {found}. An earlier "
        f"apply that was killed, or another stack, created it; Terraform may have applied part of "
        f"the plan before failing{_applied_text(result)}. If it is this stack's, import it into the "
        f"state, then deploy again: "
        f"{commands}",
        details=details,
    )


def _failed_after_start(env: str, result: RunResult, details: dict[str, object]) -> ReleaseError:
    """Terraform failed once an apply had started: part of the plan may be applied."""
    details["nothing_applied"] = False
    how = "failed" if result.direct else f"exited with {result.returncode}"
    return DeployFailed(
        f"{_head(env, result)} {how} after Terraform started{_applied_text(result)}; "
        f"Terraform may have applied part of the plan before failing: check `ecs-release status {env}` "
        f"and deploy again{result.outcome_text()}",
        details=details,
    )
