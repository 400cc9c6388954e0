"""`make bench`: run the benchmarks and print their tables (`python -m bench [synth|strategies|split]…`)."""

from __future__ import annotations

import os
import platform
import sys

from bench import image_strategies, split, synth


def main(argv: list[str]) -> int:
    known = {"synth", "strategies", "split"}
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
    if "split" in chosen:
        print("\n## First deploy of 20 services: one stack, or split with a bound (emulator)\n", flush=True)
        print(split.table(split.run()), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
