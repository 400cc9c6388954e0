"""`make bench`: run the benchmarks and print their tables.

`python -m bench [synth|strategies|gogc|split|release|ci|tests]…` runs only those."""

from __future__ import annotations

import json
import os
import platform
import sys
from pathlib import Path

from bench import ci, gogc, image_strategies, release, split, synth


def main(argv: list[str]) -> int:
    known = {"synth", "strategies", "gogc", "split", "release", "ci", "tests"}
    chosen = set(argv) or known
    unknown = chosen - known
    if unknown:
        print(
            f"unknown benchmark(s): {', '.join(sorted(unknown))} (known: {', '.join(sorted(known))})",
            file=sys.stderr,
        )
        return 2
    cpu = platform.processor() or platform.machine()
    print(f"machine: {cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}")
    if "synth" in chosen:
        print("\n## Synthesis and deploy time\n", flush=True)
        print(synth.table(synth.run()), flush=True)
    if "strategies" in chosen:
        print("\n## Image strategies (emulator, plain Terraform)\n", flush=True)
        print(image_strategies.table(image_strategies.run()), flush=True)
    if "gogc" in chosen:
        print("\n## Go's garbage collector in Terraform runs (emulator, interleaved)\n", flush=True)
        print(gogc.table(gogc.run()), flush=True)
    if "release" in chosen:
        print("\n## A release against plain Terraform (emulator, interleaved)\n", flush=True)
        print(release.table(release.run()), flush=True)
    if "ci" in chosen:
        print("\n## A new checkout's deploy against init + apply (emulator, interleaved)\n", flush=True)
        print(ci.table(ci.run()), flush=True)
    if "split" in chosen:
        print("\n## First deploy of 20 services: one stack, or split with a bound (emulator)\n", flush=True)
        print(split.table(split.run()), flush=True)
    if "tests" in chosen:
        print("\n## The test suite\n", flush=True)
        print(tests_wall_time(), flush=True)
    return 0


def tests_wall_time() -> str:
    """The last pytest run's wall time, as tests/conftest.py recorded it (`make test` runs all)."""
    record = Path(__file__).resolve().parent.parent / ".cache" / "test-wall-time.json"
    try:
        last = json.loads(record.read_text())
    except (OSError, ValueError):
        return "no pytest run recorded on this machine yet: run `make test`, then `python -m bench tests`"
    selected = " ".join(last["args"]) or "everything (as `make test`)"
    slowest = "".join(
        f"\n  {seconds:7.1f} s  {module}" for module, seconds in last.get("slowest_modules", {}).items()
    )
    return (
        f"last pytest run: {last['tests']} tests ({last['failed']} failed), selection: {selected}, "
        f"{last['seconds'] / 60:.1f} min wall time on {last['cores']} cores "
        f"({last.get('workers', 1)} pytest worker(s)), finished {last['finished']}"
        + (f"\nslowest modules (their tests' setup, call and teardown):{slowest}" if slowest else "")
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
