"""Terraform's CPU and the AWS provider's memory at Go's default GOGC (the floor) and at the
GOGC ecs-release runs Terraform with, interleaved on one deployed stack.

A plan with nothing changed is mostly the provider starting (three times per plan) and
loading its schema, which is where the garbage collector's share shows."""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from devkit.emulator import Emulator
from devkit.strategy_lab import StrategyLab
from ecs_cd.toolchain.cdktf_cli import CACHE_DIR, GOGC
from ecs_cd.toolchain.terraform_offline import terraform_setup

PROVIDER = b"terraform-provider-aws"


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _provider_rss_mb(stop: threading.Event, peaks: list[int]) -> None:
    """The largest resident size any AWS provider process reached until ``stop``."""
    peak = 0
    while not stop.is_set():
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                if PROVIDER not in Path(f"/proc/{pid}/cmdline").read_bytes():
                    continue
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        peak = max(peak, int(line.split()[1]) // 1024)
            except OSError:
                continue  # the process ended between the listing and the read
        time.sleep(0.05)
    peaks.append(peak)


def _plan(stack_dir: Path, env: dict[str, str], binary: str) -> tuple[float, float, int]:
    stop = threading.Event()
    peaks: list[int] = []
    watcher = threading.Thread(target=_provider_rss_mb, args=(stop, peaks))
    watcher.start()
    cpu, started = _children_cpu(), time.monotonic()
    subprocess.run(
        [binary, "plan", "-input=false", "-no-color", "-detailed-exitcode"],
        cwd=stack_dir,
        env=env,
        capture_output=True,
        check=False,
    )
    wall, used = time.monotonic() - started, _children_cpu() - cpu
    stop.set()
    watcher.join()
    return wall, used, peaks[0]


def run(rounds: int = 5) -> list[dict[str, Any]]:
    CACHE_DIR.mkdir(exist_ok=True)
    setup = terraform_setup(CACHE_DIR)
    measured: dict[str, list[tuple[float, float, int]]] = {"100": [], GOGC: []}
    with tempfile.TemporaryDirectory(dir=CACHE_DIR) as tmp, Emulator() as emulator:
        lab = StrategyLab(emulator, setup, Path(tmp), strategies={"tag": "ssm-tag"})
        lab.deploy_all("0.0.0")
        tf = lab.terraform["tag"]
        for _ in range(rounds):
            for gogc in measured:
                measured[gogc].append(_plan(tf.stack_dir, {**tf.env, "GOGC": gogc}, tf.binary))
    floor_cpu = statistics.median(m[1] for m in measured["100"])
    floor_rss = statistics.median(m[2] for m in measured["100"])
    return [
        {
            "gogc": gogc if gogc != "100" else "100 (Go's default, the floor)",
            "wall_s": round(statistics.median(m[0] for m in runs), 2),
            "cpu_s": round(statistics.median(m[1] for m in runs), 2),
            "cpu_ratio": round(statistics.median(m[1] for m in runs) / floor_cpu, 2),
            "rss_mb": int(statistics.median(m[2] for m in runs)),
            "rss_ratio": round(statistics.median(m[2] for m in runs) / floor_rss, 2),
        }
        for gogc, runs in measured.items()
    ]


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| GOGC | plan, no change: wall (median) | CPU of Terraform and providers (median) | CPU / floor "
        "| AWS provider's peak memory (median) | memory / floor |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        lines.append(
            f"| {r['gogc']} | {r['wall_s']} s | {r['cpu_s']} s | {r['cpu_ratio']} "
            f"| {r['rss_mb']} MB | {r['rss_ratio']} |"
        )
    return "\n".join(lines)
