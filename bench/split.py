"""First deploy of N services on the emulator: one stack, or split per service with a bound on
how many stacks cdktf deploys at once (`ecs-release deploy --parallel`), with the peak memory
of the whole process tree (cdktf, Terraform, the providers), sampled from /proc.

Measured, never asserted: `python -m bench split` prints the table for docs/speed.md."""

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


def first_deploy(services: int, *, split: bool, parallel: int | None, releases: int = 0) -> dict[str, Any]:
    """A fresh emulator, CI's tags written, then one `ecs-release deploy local`; then
    ``releases`` times one service's release: CI pushes s00's new image and sets its tag, and
    its pipeline runs `ecs-release deploy local --wait` (with `--service s00` when split)."""
    with tempfile.TemporaryDirectory() as work_dir, Emulator(running_count=1) as emu:
        work = Path(work_dir)
        (work / "ecs-cd.toml").write_text(config(services, split))
        ecr, ssm = emu.client("ecr"), emu.client("ssm")
        for i in range(services):
            push_image(ecr, f"bs-s{i:02d}", "1.0.0")
            write_tag(ssm, f"/s{i:02d}/local/docker-image-tag", "1.0.0")
        argv = [sys.executable, "-m", "ecs_cd.release", "--json", "deploy", "local", "--no-verify"]
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
        release_seconds = []
        for n in range(releases):
            tag = f"1.1.{n}"
            push_image(ecr, "bs-s00", tag)
            write_tag(ssm, "/s00/local/docker-image-tag", tag)
            deploy = [
                sys.executable,
                "-m",
                "ecs_cd.release",
                "--json",
                "deploy",
                "local",
                "--wait",
                "--poll",
                "0.2",
            ]
            deploy += ["--output", str(work / "out"), *(["--service", "s00"] if split else [])]
            began = time.monotonic()
            done = subprocess.run(
                deploy, cwd=PROJECT_DIR, env=env, capture_output=True, text=True, check=False
            )
            release_seconds.append(time.monotonic() - began)
            if done.returncode != 0:
                raise RuntimeError(f"release failed ({done.returncode}): {done.stderr[-3000:]}")
        return {"seconds": seconds, "peak_gb": peak[0] / 1e9, "release_seconds": release_seconds}


RELEASES = 3


def run(
    services: int = 20, bounds: tuple[int | None, ...] = (2, 4, None)
) -> list[tuple[str, dict[str, Any]]]:
    rows = [
        (
            f"{services} services, one stack",
            first_deploy(services, split=False, parallel=None, releases=RELEASES),
        )
    ]
    for bound in bounds:
        label = f"{services} services, split, --parallel {bound or 'unbounded (64)'}"
        releases = RELEASES if bound == 2 else 0
        rows.append((label, first_deploy(services, split=True, parallel=bound or 64, releases=releases)))
    for few in (1, 5):
        name = f"{few} service{'s' if few > 1 else ''}"
        rows.append((f"{name}, one stack", first_deploy(few, split=False, parallel=None, releases=RELEASES)))
        rows.append(
            (
                f"{name}, split, --parallel 2",
                first_deploy(few, split=True, parallel=2, releases=RELEASES),
            )
        )
    return rows


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def table(rows: list[tuple[str, dict[str, Any]]]) -> str:
    lines = [
        "| first deploy on the emulator | seconds | / one stack of the same services | peak memory |",
        "| --- | --- | --- | --- |",
    ]
    singles = {label.split(",")[0]: row["seconds"] for label, row in rows if label.endswith("one stack")}
    for label, row in rows:
        single = singles[label.split(",")[0]]
        lines.append(
            f"| {label} | {row['seconds']:.1f} | {row['seconds'] / single:.2f} | {row['peak_gb']:.2f} GB |"
        )
    released = [(label, row["release_seconds"]) for label, row in rows if row["release_seconds"]]
    one = next((_median(r) for label, r in released if label == "1 service, one stack"), None)
    lines += [
        "",
        f"| one service's release (tag, deploy --wait) | median of {RELEASES} | min | max | / 1 service |",
        "| --- | --- | --- | --- | --- |",
    ]
    for label, seconds in released:
        ratio = f"{_median(seconds) / one:.2f}" if one else "-"
        lines.append(
            f"| {label} | {_median(seconds):.1f} s | {min(seconds):.1f} s | {max(seconds):.1f} s | {ratio} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    print(table(run(int(sys.argv[1]) if len(sys.argv) > 1 else 20)))
