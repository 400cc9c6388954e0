"""Apply synthesized stacks with Terraform directly: what `ecs-release deploy` runs by default.

``python -m ecs_cd.release.terraform_run --stacks-dir DIR [--first STACK] [--parallel N] [--report F] STACK…``

It gives the state `cdktf deploy STACK… --auto-approve --skip-synth` gives (the same
``terraform apply -auto-approve`` in the same stack directories, with the same environment)
and leaves out what nobody here uses:

- ``terraform init`` runs only when the stack's ``terraform`` block (providers, backend) or the
  Terraform CLI configuration changed since the last successful init in that directory, or the
  directory was never initialised; cdktf runs it on every deploy.
- no ``terraform version`` checks and no ``terraform output -json`` after the apply (nothing
  reads the outputs), and no node process.

``--first`` (the environment's stack of a split environment) is applied alone first; the other
stacks need its cluster, so they start only if it succeeded. Then at most ``--parallel`` stacks
run at once, and a failed stack does not stop the others. Each line of Terraform's output is
prefixed with its stack's name, as cdktf prints it. ``--report`` gets one JSON record per stack
(``StackOutcome``): whether init ran, the apply's outcome and exit code, Terraform's summary line
and the time. ``write_report`` and ``read_report`` are the only writer and reader of that file.

Terraform is ``$TERRAFORM_BINARY_NAME`` (else ``terraform``), like cdktf. Each Terraform runs in
a process group of its own, ended once Terraform exits (ecs_cd/release/process_tree.py): a Terraform
that is killed leaves no provider plugin behind. Only the standard library is imported (with
release.process_tree, which imports only that too): this process starts in a few tens of
milliseconds.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Literal, get_args

from ecs_cd.release import process_tree

INIT_RECORD = "ecs-release-init.json"  # inside the stack's .terraform directory
_SUMMARY = re.compile(r"^(Apply complete!.*|No changes\..*)$")

Init = Literal["skipped", "ran", "failed"]
Apply = Literal["not started", "failed", "applied"]


@dataclass(frozen=True)
class StackOutcome:
    """What happened to one stack: whether init ran, the apply's outcome, Terraform's exit code
    and summary line, why the stack was not applied, and how long it took."""

    stack: str
    init: Init = "skipped"
    apply: Apply = "not started"
    exit_code: int | None = None  # negative: the signal that killed Terraform (as Popen reports it)
    summary: str | None = None  # "" when Terraform's apply ran and printed no summary line
    reason: str | None = None
    seconds: float | None = None  # None: never tried (the cluster stack it needs failed first)

    @property
    def killed_by(self) -> int | None:
        """The signal that killed its Terraform apply, if one did."""
        if self.apply == "failed" and self.exit_code is not None and self.exit_code < 0:
            return -self.exit_code
        return None

    def to_json(self) -> dict[str, Any]:
        """The record in the report and in `ecs-release --json deploy`: what a stack never reached
        (an exit code before Terraform ran, a reason once applied) is left out, not null."""
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None}

    @classmethod
    def from_json(cls, record: object) -> StackOutcome:
        """A record ``to_json`` wrote; ValueError for anything else."""
        if not isinstance(record, dict) or not _is_record(record):
            raise ValueError(f"not a stack outcome: {record!r}")
        return cls(**record)


_RECORD_TYPES: dict[str, type | tuple[type, ...]] = {
    "stack": str,
    "init": str,
    "apply": str,
    "exit_code": int,
    "summary": str,
    "reason": str,
    "seconds": (int, float),
}


def _is_record(record: dict[Any, Any]) -> bool:
    typed = all(
        # bool is an int to isinstance, and no field of the record is one
        key in _RECORD_TYPES and not isinstance(value, bool) and isinstance(value, _RECORD_TYPES[key])
        for key, value in record.items()
    )
    return (
        typed
        and "stack" in record
        and record.get("init", "skipped") in get_args(Init)
        and record.get("apply", "not started") in get_args(Apply)
    )


def write_report(path: Path, outcomes: Sequence[StackOutcome]) -> None:
    path.write_text(json.dumps([o.to_json() for o in outcomes], indent=1))


def read_report(path: Path) -> list[StackOutcome]:
    """What ``write_report`` wrote; nothing when the file is missing or is not such a report (the
    runner was killed before it wrote it)."""
    try:
        records = json.loads(path.read_text())
        if not isinstance(records, list):
            raise ValueError(f"{path}: not a list of stack outcomes")
        return [StackOutcome.from_json(r) for r in records]
    except (OSError, ValueError):
        return []


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


class Runner:
    def __init__(
        self,
        stacks_dir: Path,
        *,
        env: Mapping[str, str],
        terraform: str,
        color: bool,
        write: Callable[[str], None],
    ) -> None:
        self.stacks_dir = stacks_dir
        self.env = dict(env)
        self.terraform = terraform
        self.color = color
        self._write = write
        self._printing = threading.Lock()
        self.stopping = threading.Event()

    def say(self, stack: str, line: str) -> None:
        with self._printing:
            self._write(f"{stack}  {line.rstrip()}\n")

    def _terraform(self, stack: str, args: list[str]) -> tuple[int, str]:
        """Run one Terraform command in the stack's directory, its output prefixed; (exit code, summary)."""
        argv = [self.terraform, *args, "-input=false", *(() if self.color else ("-no-color",))]
        summary = ""
        with subprocess.Popen(
            argv,
            cwd=self.stacks_dir / stack,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            # A group per Terraform: its plugins are ended as soon as it exits, while the other
            # stacks' Terraform runs go on (still in the session ecs-release deploy made).
            process_group=0,
        ) as process:
            assert process.stdout is not None
            for line in process.stdout:
                self.say(stack, line)
                found = _SUMMARY.match(re.sub(r"\x1b\[[0-9;]*m", "", line).strip())
                if found and not summary.startswith("No changes."):  # the line that says more
                    summary = found[1]
        # A killed Terraform leaves its provider plugins running: nothing else stops them.
        process_tree.end(process.pid)
        return process.returncode, summary

    def deploy(self, stack: str) -> StackOutcome:
        started = time.monotonic()
        init: Init = "skipped"

        def done(
            apply: Apply = "not started",
            *,
            exit_code: int | None = None,
            summary: str | None = None,
            reason: str | None = None,
        ) -> StackOutcome:
            seconds = round(time.monotonic() - started, 1)
            return StackOutcome(stack, init, apply, exit_code, summary, reason, seconds)

        directory = self.stacks_dir / stack
        if not (directory / "cdk.tf.json").is_file():
            self.say(
                stack, f"ecs-release: {directory / 'cdk.tf.json'} is missing: the stack was not synthesized"
            )
            return done(reason="not synthesized")
        if self.stopping.is_set():
            return done(reason="stopped by a signal before it started")
        try:
            needed, upgrade = init_needed(directory, self.env)
        except (OSError, ValueError) as exc:  # a damaged cdk.tf.json: Terraform would refuse it too
            self.say(stack, f"ecs-release: cannot read {directory / 'cdk.tf.json'}: {exc}")
            return done(reason="its cdk.tf.json cannot be read")
        if needed:
            code, _ = self._terraform(stack, ["init", *(["-upgrade"] if upgrade else [])])
            if code != 0:
                init = "failed"
                return done(exit_code=code, reason=f"terraform init exited with {code}")
            record_init(directory, self.env)
            init = "ran"
        if self.stopping.is_set():
            return done(reason="stopped by a signal before its apply")
        code, summary = self._terraform(stack, ["apply", "-auto-approve"])
        if code != 0:
            return done(
                "failed", exit_code=code, summary=summary, reason=f"terraform apply exited with {code}"
            )
        return done("applied", exit_code=0, summary=summary)

    def run(self, stacks: Sequence[str], first: str | None, parallel: int) -> list[StackOutcome]:
        outcomes: dict[str, StackOutcome] = {}
        rest = [s for s in stacks if s != first]
        if first is not None:
            outcomes[first] = self.deploy(first)
            if outcomes[first].apply != "applied":
                for stack in rest:
                    outcomes[stack] = StackOutcome(
                        stack, reason=f"{first} (the cluster these services run on) was not applied"
                    )
                rest = []
        with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
            for outcome in pool.map(self.deploy, rest):
                outcomes[outcome.stack] = outcome
        return [outcomes[s] for s in stacks]


def _write(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ecs_cd.release.terraform_run")
    parser.add_argument("--stacks-dir", type=Path, required=True)
    parser.add_argument("--first", default=None)
    parser.add_argument("--parallel", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--report", type=Path, default=None)
    parser.add_argument("--color", action="store_true")
    parser.add_argument("stacks", nargs="+")
    args = parser.parse_args(argv)
    env = dict(os.environ)
    runner = Runner(
        args.stacks_dir,
        env=env,
        terraform=env.get("TERRAFORM_BINARY_NAME") or "terraform",
        color=args.color,
        write=_write,
    )
    # A SIGTERM to the group comes between two Terraform commands (ecs-release deploy sends it
    # only then): start nothing more, and still write the report.
    signal.signal(signal.SIGTERM, lambda *_: runner.stopping.set())
    outcomes = runner.run(args.stacks, args.first, args.parallel)
    if args.report is not None:
        write_report(args.report, outcomes)
    return 0 if all(o.apply == "applied" for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
