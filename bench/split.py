"""First deploy of N services on the emulator: one stack, or split per service with a bound on
how many stacks cdktf deploys at once (`ecs-release deploy --parallel`), with the peak memory
of the whole process tree (cdktf, Terraform, the providers), sampled from /proc.

Measured, never asserted: `python -m bench split` prints the table for the README."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from devkit.emulator import Emulator
from devkit.fake_ci import push_image, write_tag

PROJECT_DIR = Path(__file__).resolve().parent.parent
PAGE = os.sysconf("SC_PAGE_SIZE")


def config(services: int, split: bool) -> str:
    text = '[project]\nname = "bs"\n'
    for i in range(services):
        text += f"""
[services.s{i:02d}]
repository = "123456789012.dkr.ecr.us-east-1.amazonaws.com/bs-s{i:02d}"
image_strategy = "ssm-tag"
"""
    text += f"""
[environments.local]
region = "us-east-1"
emulator_endpoint = "http://127.0.0.1:1"
stack_per_service = {"true" if split else "false"}
log_retention_days = 1
network = {{ use_default_vpc = true }}
state = {{ backend = "local" }}
"""
    return text


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                parent = int(stat.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        tree.setdefault(parent, []).append(int(entry))
    return tree


def _tree_rss(root: int) -> int:
    """Resident bytes of ``root`` and all its descendants."""
    tree, total, todo = _children(), 0, [root]
    while todo:
        pid = todo.pop()
        todo += tree.get(pid, [])
        try:
            with open(f"/proc/{pid}/statm") as statm:
                total += int(statm.read().split()[1]) * PAGE
        except (OSError, ValueError, IndexError):
            pass
    return total


def first_deploy(services: int, *, split: bool, parallel: int | None) -> dict[str, Any]:
    """A fresh emulator, CI's tags written, then one `ecs-release deploy local`."""
    with tempfile.TemporaryDirectory() as work_dir, Emulator(running_count=1) as emu:
        work = Path(work_dir)
        (work / "ecs-cd.toml").write_text(config(services, split))
        ecr, ssm = emu.client("ecr"), emu.client("ssm")
        for i in range(services):
            push_image(ecr, f"bs-s{i:02d}", "1.0.0")
            write_tag(ssm, f"/s{i:02d}/local/docker-image-tag", "1.0.0")
        argv = [sys.executable, "-m", "release", "--json", "deploy", "local", "--no-verify"]
        argv += ["--output", str(work / "out")]
        if parallel is not None:
            argv += ["--parallel", str(parallel)]
        env = {
            **os.environ,
            "CI": "true",
            "ECS_CD_CONFIG": str(work / "ecs-cd.toml"),
            "ECS_CD_EMULATOR_ENDPOINT": emu.endpoint,
        }
        started = time.monotonic()
        process = subprocess.Popen(
            argv, cwd=PROJECT_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        peak = [0]

        def sample() -> None:
            while process.poll() is None:
                peak[0] = max(peak[0], _tree_rss(process.pid))
                time.sleep(0.5)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        out, err = process.communicate()
        seconds = time.monotonic() - started
        sampler.join()
        if process.returncode != 0:
            raise RuntimeError(f"deploy failed ({process.returncode}): {out[-2000:]} {err[-3000:]}")
        return {"seconds": seconds, "peak_gb": peak[0] / 1e9}


def run(
    services: int = 20, bounds: tuple[int | None, ...] = (2, 4, None)
) -> list[tuple[str, dict[str, Any]]]:
    rows = [(f"{services} services, one stack", first_deploy(services, split=False, parallel=None))]
    for bound in bounds:
        label = f"{services} services, split, --parallel {bound or 'unbounded (64)'}"
        rows.append((label, first_deploy(services, split=True, parallel=bound or 64)))
    return rows


def table(rows: list[tuple[str, dict[str, Any]]]) -> str:
    single = rows[0][1]["seconds"]
    lines = [
        "| first deploy on the emulator | seconds | / one stack | peak memory |",
        "| --- | --- | --- | --- |",
    ]
    for label, row in rows:
        lines.append(
            f"| {label} | {row['seconds']:.1f} | {row['seconds'] / single:.2f} | {row['peak_gb']:.2f} GB |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    print(table(run(int(sys.argv[1]) if len(sys.argv) > 1 else 20)))
