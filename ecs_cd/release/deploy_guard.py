"""The adoption guard's plan, for the paths where Terraform does not apply a plan ecs-release saved.

`ecs-release deploy` run directly checks each adopting stack's own saved plan before applying
it (ecs_cd/release/terraform_run.py). With ``--via cdktf``, cdktf plans and applies by itself, so
``check_stacks`` plans every stack that has import blocks first (``plan -lock=false``, then
``show -json``), and ``refuse`` stops the deploy before cdktf starts if the guard refuses any.
`ecs-release diff` reads its own plans with ``stack_refusals``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ecs_cd.release.errors import DeployFailed, PlanRefused
from ecs_cd.release.plan_guard import GUARD_PLAN, Refusal, adopted, refusal_message, refusals
from ecs_cd.release.terraform_cli import OWN_SESSION, Terraform


def stack_adopted(directory: Path) -> dict[str, str]:
    """The import blocks of the stack synthesized in ``directory`` (address -> id); none when its
    cdk.tf.json cannot be read (Terraform then says why)."""
    try:
        document = json.loads((directory / "cdk.tf.json").read_text())
        return adopted(document) if isinstance(document, dict) else {}
    except (OSError, ValueError):
        return {}


def stack_refusals(directory: Path, plan: Mapping[str, Any]) -> list[Refusal]:
    """What the guard refuses of ``plan`` (``terraform show -json``) of the stack in ``directory``."""
    found = stack_adopted(directory)
    return refusals(plan, found) if found else []


def check_stacks(
    head: str,
    stacks_dir: Path,
    stacks: Sequence[str],
    *,
    terraform: str,
    env: Mapping[str, str],
    raw: Callable[[str], None],
) -> dict[str, list[Refusal]]:
    """Plan each stack that has import blocks (without its lock: nothing is applied here) and
    return what the guard refuses, per stack. ``DeployFailed`` (nothing applied) when Terraform
    cannot plan one; its output goes to ``raw``."""
    cli = Terraform(terraform, env, signals=OWN_SESSION)
    found: dict[str, list[Refusal]] = {}
    for stack in stacks:
        directory = stacks_dir / stack
        if not stack_adopted(directory):
            continue
        try:
            for step in (cli.init, lambda d: cli.plan(d, GUARD_PLAN, lock=False)):
                done = step(directory)
                if not done.ok:
                    raw(done.text[-4000:])
                    raise _not_planned(head, stack, done.command)
            shown = cli.show_json(directory, GUARD_PLAN)
        finally:
            (directory / GUARD_PLAN).unlink(missing_ok=True)
        if not shown.ok:
            raw(shown.errors[-4000:])
            raise _not_planned(head, stack, "show")
        refused = stack_refusals(directory, shown.document)
        if refused:
            found[stack] = refused
    return found


def _not_planned(head: str, stack: str, command: str) -> DeployFailed:
    return DeployFailed(
        f"{head}: terraform {command} of stack {stack} failed while checking its adopted resources "
        "(its output above); nothing was applied",
        details={"terraform_ran": True, "nothing_applied": True},
    )


def refuse(env: str, found: Mapping[str, Sequence[Refusal]]) -> None:
    """``PlanRefused`` (nothing applied) when the guard refused any stack's plan."""
    if not found:
        return
    every = [r for refused in found.values() for r in refused]
    details: dict[str, object] = {
        "terraform_ran": True,
        "nothing_applied": True,
        "refused": [{"stack": stack, **r.to_json()} for stack, refused in found.items() for r in refused],
    }
    raise PlanRefused(refusal_message(env, every), details=details)
