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

Terraform is ``$TERRAFORM_BINARY_NAME`` (else ``terraform``), like cdktf, run by
ecs_cd/release/terraform_cli.py (init when needed, apply): each Terraform runs in a process group
of its own in this process's session, ended once Terraform exits (ecs_cd/release/process_tree.py):
a Terraform that is killed leaves no provider plugin behind. Only the standard library is imported
(with release.terraform_cli and release.process_tree, which import only that too): this process
starts in a few tens of milliseconds.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Literal, get_args

from ecs_cd.release.plan_guard import GUARD_PLAN, Refusal, adopted, deletes_nothing, refusals
from ecs_cd.release.terraform_cli import Result, Terraform

Init = Literal["skipped", "ran", "failed"]
# refused: the plan would replace or destroy a resource the stack adopted (ecs_cd/release/plan_guard.py)
Apply = Literal["not started", "failed", "applied", "refused"]


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
    refusals: tuple[Refusal, ...] = ()  # apply "refused": what the plan would have replaced or destroyed

    @property
    def killed_by(self) -> int | None:
        """The signal that killed its Terraform apply, if one did."""
        if self.apply == "failed" and self.exit_code is not None and self.exit_code < 0:
            return -self.exit_code
        return None

    def to_json(self) -> dict[str, Any]:
        """The record in the report and in `ecs-release --json deploy`: what a stack never reached
        (an exit code before Terraform ran, a reason once applied) is left out, not null."""
        record = {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if getattr(self, f.name) is not None and f.name != "refusals"
        }
        if self.refusals:
            record["refusals"] = [r.to_json() for r in self.refusals]
        return record

    @classmethod
    def from_json(cls, record: object) -> StackOutcome:
        """A record ``to_json`` wrote; ValueError for anything else."""
        if not isinstance(record, dict):
            raise ValueError(f"not a stack outcome: {record!r}")
        record = dict(record)
        refused = record.pop("refusals", [])
        if not _is_record(record) or not isinstance(refused, list):
            raise ValueError(f"not a stack outcome: {record!r}")
        return cls(**record, refusals=tuple(Refusal.from_json(r) for r in refused))


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
        # Each Terraform in a group of its own in this session: ecs-release deploy's signals to
        # the session reach it, and its plugins are ended as soon as it exits.
        self.terraform = Terraform(terraform, self.env, color=color)
        self._write = write
        self._printing = threading.Lock()
        self.stopping = threading.Event()

    def say(self, stack: str, line: str) -> None:
        with self._printing:
            self._write(f"{stack}  {line.rstrip()}\n")

    def deploy(self, stack: str) -> StackOutcome:
        started = time.monotonic()
        init: Init = "skipped"

        def done(
            apply: Apply = "not started",
            *,
            exit_code: int | None = None,
            summary: str | None = None,
            reason: str | None = None,
            refused: Sequence[Refusal] = (),
        ) -> StackOutcome:
            seconds = round(time.monotonic() - started, 1)
            return StackOutcome(stack, init, apply, exit_code, summary, reason, seconds, tuple(refused))

        directory = self.stacks_dir / stack
        if not (directory / "cdk.tf.json").is_file():
            self.say(
                stack, f"ecs-release: {directory / 'cdk.tf.json'} is missing: the stack was not synthesized"
            )
            return done(reason="not synthesized")
        if self.stopping.is_set():
            return done(reason="stopped by a signal before it started")

        def show(line: str) -> None:
            self.say(stack, line)

        try:
            adopting = self.adopts(directory)
            initialised = self.terraform.init(directory, on_line=show)
        except (OSError, ValueError) as exc:  # a damaged cdk.tf.json: Terraform would refuse it too
            self.say(stack, f"ecs-release: cannot read {directory / 'cdk.tf.json'}: {exc}")
            return done(reason="its cdk.tf.json cannot be read")
        if initialised.ran:
            if not initialised.ok:
                init = "failed"
                code = initialised.exit_code
                return done(exit_code=code, reason=f"terraform init exited with {code}")
            init = "ran"
        applied = self.apply(stack, directory, adopting=adopting)
        if isinstance(applied, StackOutcome):  # not applied: stopped, or the guard refused its plan
            return done(
                applied.apply, exit_code=applied.exit_code, reason=applied.reason, refused=applied.refusals
            )
        code, summary = applied.exit_code, applied.summary
        if code != 0:
            return done(
                "failed", exit_code=code, summary=summary, reason=f"terraform apply exited with {code}"
            )
        return done("applied", exit_code=0, summary=summary)

    def apply(self, stack: str, directory: Path, *, adopting: bool) -> Result | StackOutcome:
        """``terraform apply -auto-approve``, or for a stack with import blocks the guarded apply;
        a StackOutcome (not applied) when a signal came first, or the guard refused the plan."""
        if self.stopping.is_set():
            return StackOutcome(stack, reason="stopped by a signal before its apply")
        if adopting:
            return self.guarded_apply(stack, directory)
        return self.terraform.apply(directory, on_line=lambda line: self.say(stack, line))

    @staticmethod
    def adopts(directory: Path) -> bool:
        """The stack has import blocks: it is applied through the guard. OSError or ValueError when
        its cdk.tf.json cannot be read."""
        return bool(adopted(json.loads((directory / "cdk.tf.json").read_text())))

    def guarded_apply(self, stack: str, directory: Path) -> Result | StackOutcome:
        """A stack that adopts resources: ``plan -out``, ``show -json``, the guard, then the apply of
        that saved plan; a StackOutcome (not applied) for a refusal or a plan that failed."""

        def show(line: str) -> None:
            self.say(stack, line)

        try:
            planned = self.terraform.plan(directory, GUARD_PLAN, on_line=show)
            if not planned.ok:
                code = planned.exit_code
                return StackOutcome(stack, exit_code=code, reason=f"terraform plan exited with {code}")
            if deletes_nothing("".join(planned.output)):
                # Only a delete (a destroy, or a replacement's delete) is refused: a plan whose own
                # summary counts none needs no `show -json`, a whole Terraform run with its providers.
                return self._apply_checked(stack, directory, show)
            shown = self.terraform.show_json(directory, GUARD_PLAN)
            if not shown.ok:
                show(shown.errors)
                code = shown.exit_code
                return StackOutcome(stack, exit_code=code, reason=f"terraform show exited with {code}")
            found = refusals(shown.document, adopted(json.loads((directory / "cdk.tf.json").read_text())))
            if found:
                for refusal in found:
                    show(f"ecs-release: refusing to apply: {refusal.text()}")
                why = "; ".join(r.text() for r in found)
                return StackOutcome(stack, apply="refused", reason=f"refused: {why}", refusals=tuple(found))
            return self._apply_checked(stack, directory, show)
        finally:
            (directory / GUARD_PLAN).unlink(missing_ok=True)

    def _apply_checked(
        self, stack: str, directory: Path, show: Callable[[str], None]
    ) -> Result | StackOutcome:
        """The apply of the plan the guard passed, unless a signal came first."""
        if self.stopping.is_set():
            return StackOutcome(stack, reason="stopped by a signal before its apply")
        return self.terraform.apply(directory, plan_file=GUARD_PLAN, on_line=show)

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
