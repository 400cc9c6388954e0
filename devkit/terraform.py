"""Plain Terraform on a synthesized stack directory: init once, then plan and apply as often
as a test or benchmark needs, without re-synthesizing."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ecs_cd.toolchain.errors import ToolError

# The machine-readable output's actions as ``show -json`` words them.
_ACTIONS = {"replace": ["create", "delete"], "remove": ["forget"]}


@dataclass(frozen=True)
class Run:
    returncode: int
    output: str
    seconds: float


class Terraform:
    """``terraform`` in ``stack_dir`` (e.g. ``cdktf.out/stacks/local``) with ``env``."""

    def __init__(self, stack_dir: Path, env: Mapping[str, str]) -> None:
        terraform = shutil.which("terraform")
        if terraform is None:
            raise ToolError("terraform was not found on PATH: install Terraform >= 1.10")
        self.binary = terraform
        self.stack_dir = stack_dir
        self.env = dict(env)

    def run(self, *args: str, check: bool = True, timeout: float = 600) -> Run:
        started = time.monotonic()
        result = subprocess.run(
            [self.binary, *args],
            cwd=self.stack_dir,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        run = Run(result.returncode, result.stdout + result.stderr, time.monotonic() - started)
        if check and result.returncode != 0:
            raise ToolError(f"terraform {' '.join(args)} failed in {self.stack_dir}:\n{run.output[-4000:]}")
        return run

    def init(self) -> Run:
        return self.run("init", "-input=false", "-no-color")

    def apply(self) -> Run:
        return self.run("apply", "-input=false", "-no-color", "-auto-approve")

    def plan_exit_code(self) -> Run:
        """``plan -detailed-exitcode``: returncode 0 no changes, 2 changes (1 error raises)."""
        run = self.run("plan", "-input=false", "-no-color", "-detailed-exitcode", check=False)
        if run.returncode not in (0, 2):
            raise ToolError(f"terraform plan failed in {self.stack_dir}:\n{run.output[-4000:]}")
        return run

    def planned_changes(self) -> dict[str, list[str]]:
        """Resource address -> actions, for every resource the plan would change.

        One ``plan -json``: Terraform's machine-readable output has a ``planned_change`` message per
        change, where ``plan()``'s ``show -json`` of a saved plan starts every provider once more
        (about 2 CPU-seconds for the AWS provider). That stream does not tell the order of a
        replacement's two steps, so a replacement is ``["create", "delete"]`` whichever comes first."""
        run = self.run("plan", "-input=false", "-no-color", "-json", check=False)
        if run.returncode != 0:
            raise ToolError(f"terraform plan failed in {self.stack_dir}:\n{run.output[-4000:]}")
        changes: dict[str, list[str]] = {}
        for line in run.output.splitlines():
            message = json.loads(line) if line.startswith("{") else {}
            if message.get("type") != "planned_change":
                continue
            change = message["change"]
            if change["action"] not in ("noop", "read"):
                changes[change["resource"]["addr"]] = _ACTIONS.get(change["action"], [change["action"]])
        return changes

    def plan(self) -> tuple[Run, dict[str, list[str]]]:
        """One plan, read two ways: its run (``-detailed-exitcode``: returncode 0 no changes, 2
        changes; the text people read) and, as ``planned_changes``, its changes."""
        run = self.run(
            "plan", "-input=false", "-no-color", "-detailed-exitcode", "-out=ecs-cd.tfplan", check=False
        )
        if run.returncode not in (0, 2):
            raise ToolError(f"terraform plan failed in {self.stack_dir}:\n{run.output[-4000:]}")
        shown = self.run("show", "-json", "ecs-cd.tfplan")
        plan: dict[str, Any] = json.loads(shown.output[shown.output.index("{") :])
        return run, {
            change["address"]: list(change["change"]["actions"])
            for change in plan.get("resource_changes", [])
            if change["change"]["actions"] not in (["no-op"], ["read"])
        }


def synthesize(config: Path, outdir: Path, env: Mapping[str, str]) -> None:
    """The stacks of ``config`` into ``outdir`` as ``ecs-release`` synthesizes them
    (``python -m ecs_cd.synth``: the same JSON as ``cdktf synth``, without the CLI's Node start;
    tests/integration/test_synth_entry.py compares the two)."""
    import sys

    ran = subprocess.run(
        [sys.executable, "-m", "ecs_cd.synth", "--config", str(config), "--output", str(outdir)],
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if ran.returncode != 0:
        raise ToolError(f"synthesis failed:\n{(ran.stdout + ran.stderr)[-4000:]}")
