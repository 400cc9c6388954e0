"""Redeploys and plan time per image strategy, on the emulator with plain Terraform.

For each strategy: N applies with no image change, then N applies each preceded by a
change (timestamp and ssm-tag: a new tag in SSM; digest: the same tag re-pushed with new
content), counting the applies after which ECS was asked for a new deployment (a new
task definition or a forced deployment) and the deployments each apply started (its
UpdateService calls: timestamp's aim is one per apply), and timing `terraform plan` with
nothing changed.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from devkit.emulator import Emulator
from devkit.strategy_lab import STRATEGIES, StrategyLab
from ecs_cd.toolchain.cdktf_cli import CACHE_DIR
from ecs_cd.toolchain.terraform_offline import terraform_setup


def run(applies: int = 10, plans: int = 5) -> list[dict[str, Any]]:
    CACHE_DIR.mkdir(exist_ok=True)
    setup = terraform_setup(CACHE_DIR)
    rows = []
    with tempfile.TemporaryDirectory(dir=CACHE_DIR) as tmp, Emulator() as emulator:
        lab = StrategyLab(emulator, setup, Path(tmp))
        lab.deploy_all("0.0.0")
        for env, strategy in STRATEGIES.items():
            tf = lab.terraform[env]
            plan_seconds = []
            for _ in range(plans):
                started = time.monotonic()
                tf.plan_exit_code()
                plan_seconds.append(time.monotonic() - started)
            unchanged = 0
            for _ in range(applies):
                before = lab.observe(env)
                tf.apply()
                unchanged += lab.redeployed(before, lab.observe(env))
            changed = 0
            update_calls = 0
            for i in range(applies):
                if strategy == "digest":
                    lab.release(env, "0.0.0", content=f"rebuild {i}")
                else:
                    lab.release(env, f"1.0.{i}")
                before = lab.observe(env)
                applied = tf.apply()
                changed += lab.redeployed(before, lab.observe(env))
                update_calls += lab.update_service_calls(applied.output)
            rows.append(
                {
                    "strategy": strategy,
                    "redeploys_without_change": f"{unchanged}/{applies}",
                    "redeploys_with_change": f"{changed}/{applies}",
                    "deployments_with_change": f"{update_calls}/{applies}",
                    "plan_s_median": round(statistics.median(plan_seconds), 2),
                    "plan_s_min": round(min(plan_seconds), 2),
                    "plan_s_max": round(max(plan_seconds), 2),
                }
            )
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| strategy | redeploys, 10 applies without change | redeploys, 10 applies each with a change "
        "| deployments started (UpdateService calls), 10 applies each with a change "
        "| plan, no change (median, min-max) |",
        "| --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        lines.append(
            f"| {r['strategy']} | {r['redeploys_without_change']} | {r['redeploys_with_change']} "
            f"| {r['deployments_with_change']} "
            f"| {r['plan_s_median']} s ({r['plan_s_min']}-{r['plan_s_max']} s) |"
        )
    return "\n".join(lines)
