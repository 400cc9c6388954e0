"""Terraform run one way (issue 25): every Terraform command ecs-release starts goes through here.

``Terraform(binary, env, color, signals)`` runs ``init`` (only when needed), ``plan``,
``show -json``, ``apply`` and ``state pull`` in a stack's directory, each the same way:

- a process group of its own (or a session of its own, as ``signals`` says), stdin closed;
- its output (stdout and stderr together) streamed line by line to an optional ``on_line``
  and kept; ``show -json`` and ``state pull`` keep stdout apart from stderr instead;
- once it has exited (or the caller stopped reading: an exception, a timeout), whatever is left
  of its group or session is ended (ecs_cd/release/process_tree.py): no provider plugin outlives it;
- a typed, frozen ``Result``: the exit code, the output lines, and for an apply its summary line.

``SignalPolicy`` is the one place a caller says how a signal reaches Terraform: the direct
runner's Terraform is in a group of the runner's session and gets the signals ecs-release deploy
sends that session; the pre-deploy gate's Terraform is in a session of its own, and a SIGINT or
SIGTERM to ecs-release is forwarded to it as SIGINT (its graceful stop).

``init`` runs only when the stack's ``terraform`` block (providers, backend) or the Terraform CLI
configuration changed since the last successful init in that directory, or the directory was
never initialised (a record in ``.terraform``). Only the standard library is imported (with
release.process_tree, which imports only that too): ecs_cd/release/terraform_run.py uses this.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import signal
import subprocess
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ecs_cd.release import process_tree

INIT_RECORD = "ecs-release-init.json"  # inside the stack's .terraform directory
_SUMMARY = re.compile(r"^(Apply complete!.*|No changes\..*)$")
_COLOR = re.compile(r"\x1b\[[0-9;]*m")

OnLine = Callable[[str], None]


@dataclass(frozen=True)
class SignalPolicy:
    """How a signal to ecs-release reaches Terraform.

    ``new_session``: False, a process group of its own in the caller's session (what is sent to
    that session reaches it); True, a session of its own (a Ctrl-C at the terminal does not).
    ``forwarding``: while Terraform runs, a context in which a signal to ecs-release calls the
    given function (ecs_cd.release.signals.forwarding); Terraform then gets ``forward_as``."""

    new_session: bool = False
    forwarding: Callable[[Callable[[int], None]], AbstractContextManager[object]] | None = None
    forward_as: int = signal.SIGINT


# The direct runner: Terraform gets the group signals ecs-release deploy sends the runner's session.
IN_CALLERS_SESSION = SignalPolicy()
# diff, show, state pull: nothing reaches Terraform; the caller's exception ends its tree.
OWN_SESSION = SignalPolicy(new_session=True)


@dataclass(frozen=True)
class Result:
    """One Terraform command's outcome."""

    command: str  # "init", "plan", "show", "apply", "state pull"
    exit_code: int  # negative: the signal that killed Terraform (as Popen reports it)
    output: tuple[str, ...] = ()  # its lines, with their line breaks (stdout only when captured apart)
    errors: str = ""  # stderr, when kept apart from stdout (show -json, state pull)
    summary: str = ""  # apply: "Apply complete! …" or "No changes. …", "" when it printed none
    ran: bool = True  # init: False when it was not needed
    upgrade: bool = False  # init: ran with -upgrade
    signal_number: int | None = None  # the first signal forwarded to it (SignalPolicy.forwarding)
    timed_out: bool = False
    document: Any = field(default=None, compare=False)  # show -json: the plan

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.timed_out

    @property
    def text(self) -> str:
        return "".join(self.output)


def init_key(stack_dir: Path, env: Mapping[str, str]) -> tuple[str, Any]:
    """What a successful init depends on, hashed; and the required providers it installed."""
    document = json.loads((stack_dir / "cdk.tf.json").read_text())
    block = document.get("terraform", {})
    config = env.get("TF_CLI_CONFIG_FILE", "")
    try:
        config_text = Path(config).read_text() if config else ""
    except OSError:
        config_text = "\0unreadable"
    # The backend as written, the providers asked for, and where providers are installed from.
    material = json.dumps(
        {"terraform": block, "cli_config": [config, config_text]}, sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(material.encode()).hexdigest(), block.get("required_providers", {})


def init_needed(stack_dir: Path, env: Mapping[str, str]) -> tuple[bool, bool]:
    """(init needed, with -upgrade): needed unless the record of the last successful init in
    this directory matches and what it installed is still there."""
    key, providers = init_key(stack_dir, env)
    record_path = stack_dir / ".terraform" / INIT_RECORD
    try:
        record = json.loads(record_path.read_text())
    except (OSError, ValueError):
        return True, False
    installed = (stack_dir / ".terraform.lock.hcl").is_file() and (
        stack_dir / ".terraform" / "providers"
    ).is_dir()
    if record.get("key") == key and installed:
        return False, False
    # New provider constraints may exclude the locked versions: cdktf upgrades then, too.
    return True, record.get("providers") != providers


def record_init(stack_dir: Path, env: Mapping[str, str]) -> None:
    key, providers = init_key(stack_dir, env)
    (stack_dir / ".terraform").mkdir(exist_ok=True)
    (stack_dir / ".terraform" / INIT_RECORD).write_text(json.dumps({"key": key, "providers": providers}))


def apply_summary(lines: Sequence[str]) -> str:
    """The apply's summary line: "Apply complete! …", else "No changes. …", else ""."""
    summary = ""
    for line in lines:
        found = _SUMMARY.match(_COLOR.sub("", line).strip())
        if found and not summary.startswith("No changes."):  # the line that says more
            summary = found[1]
    return summary


@dataclass(frozen=True)
class Terraform:
    """A Terraform binary, the environment it runs with, and how signals reach it."""

    binary: str
    env: Mapping[str, str]
    color: bool = False
    signals: SignalPolicy = IN_CALLERS_SESSION

    def _flags(self) -> list[str]:
        return ["-input=false", *(() if self.color else ("-no-color",))]

    def init(self, directory: Path, *, when_needed: bool = True, on_line: OnLine | None = None) -> Result:
        """``terraform init`` (only when needed, see the module's docstring); a success is
        recorded. OSError or ValueError when the stack's cdk.tf.json cannot be read."""
        needed, upgrade = init_needed(directory, self.env)
        if when_needed and not needed:
            return Result("init", 0, ran=False)
        ran = self.run(directory, ["init", *(["-upgrade"] if upgrade else []), *self._flags()], on_line)
        if ran.ok:
            record_init(directory, self.env)
        return Result("init", ran.exit_code, ran.output, upgrade=upgrade, signal_number=ran.signal_number)

    def plan(
        self,
        directory: Path,
        out: str,
        *,
        targets: Sequence[str] = (),
        lock: bool = True,
        refresh: bool = True,
        on_line: OnLine | None = None,
    ) -> Result:
        """``terraform plan -out=OUT``; ``refresh=False``: from the state as it is, without reading
        the resources again (what a plan that only forgets resources needs)."""
        args = [
            "plan",
            *self._flags(),
            *([] if lock else ["-lock=false"]),
            *([] if refresh else ["-refresh=false"]),
        ]
        args += [*(f"-target={t}" for t in targets), f"-out={out}"]
        return self.run(directory, args, on_line)

    def apply(
        self,
        directory: Path,
        *,
        targets: Sequence[str] = (),
        plan_file: str | None = None,
        on_line: OnLine | None = None,
    ) -> Result:
        """``terraform apply -auto-approve``; with ``plan_file``, that saved plan (what was checked
        is what is applied: Terraform refuses it if the state changed since), without targets."""
        if plan_file is not None and targets:
            raise ValueError("a saved plan is applied whole: no targets")
        args = ["apply", "-auto-approve", *self._flags(), *(f"-target={t}" for t in targets)]
        args += [plan_file] if plan_file is not None else []
        ran = self.run(directory, args, on_line)
        return Result(
            "apply",
            ran.exit_code,
            ran.output,
            summary=apply_summary(ran.output),
            signal_number=ran.signal_number,
        )

    def show_json(self, directory: Path, plan_file: str) -> Result:
        """``terraform show -json PLAN``: ``document`` is the plan when it exited 0."""
        ran = self.run(directory, ["show", "-json", plan_file], capture=True)
        document = json.loads(ran.text) if ran.ok else None
        return Result("show", ran.exit_code, ran.output, ran.errors, document=document)

    def state_pull(self, directory: Path, *, timeout: float | None = None) -> Result:
        """``terraform state pull``: the raw state is ``text``."""
        return self.run(directory, ["state", "pull"], capture=True, timeout=timeout)

    def run(
        self,
        directory: Path,
        args: Sequence[str],
        on_line: OnLine | None = None,
        *,
        capture: bool = False,
        timeout: float | None = None,
    ) -> Result:
        """Run ``terraform ARGS`` in ``directory`` (see the module's docstring). ``capture``:
        stdout and stderr kept apart and read whole, ``timeout`` seconds at most."""
        command = " ".join(args[:2]) if list(args[:2]) == ["state", "pull"] else args[0]
        with subprocess.Popen(
            [self.binary, *args],
            cwd=directory,
            env=dict(self.env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE if capture else subprocess.STDOUT,
            text=True,
            errors="replace",
            start_new_session=self.signals.new_session,
            # A group per Terraform: its plugins are ended as soon as it exits, while other
            # Terraform runs of the same session go on.
            process_group=None if self.signals.new_session else 0,
        ) as process:
            received: list[int] = []

            def on_signal(number: int) -> None:
                received.append(number)
                with contextlib.suppress(ProcessLookupError):
                    process.send_signal(self.signals.forward_as)

            forwarding = self.signals.forwarding
            try:
                with forwarding(on_signal) if forwarding is not None else contextlib.nullcontext():
                    if capture:
                        return self._captured(process, command, timeout)
                    lines = _streamed(process, on_line)
            finally:
                # A killed Terraform leaves its provider plugins running: nothing else stops them.
                process_tree.end(process.pid)
        first = received[0] if received else None
        return Result(command, process.returncode, tuple(lines), signal_number=first)

    @staticmethod
    def _captured(process: subprocess.Popen[str], command: str, timeout: float | None) -> Result:
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            process_tree.signal_all(process.pid, signal.SIGKILL)
            stdout, stderr = process.communicate()
            return Result(command, process.returncode, (stdout,), stderr, timed_out=True)
        return Result(command, process.returncode, tuple(stdout.splitlines(keepends=True)), stderr)


def _streamed(process: subprocess.Popen[str], on_line: OnLine | None) -> list[str]:
    assert process.stdout is not None
    lines: list[str] = []
    for line in process.stdout:
        lines.append(line)
        if on_line is not None:
            on_line(line)
    process.wait()
    return lines
