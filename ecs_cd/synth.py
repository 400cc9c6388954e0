"""``python -m ecs_cd.synth --config FILE --output DIR``: synthesize a configuration's stacks
without the cdktf CLI.

It writes what ``cdktf synth --output DIR`` writes, byte for byte (``manifest.json`` and
``stacks/<name>/cdk.tf.json``; a test compares the two), and, as cdktf synth does, removes the
directories of stacks the app no longer has. It needs Node (jsii's runtime), not the cdktf CLI or a
``cdktf.json``: ``ecs-release`` runs it, with its own interpreter, for every synthesis of a direct
deploy, of ``diff`` and of the pre-deploy gate, in a checkout and in an installation alike.

Environment variables, as main.py's: ``ECS_CD_EMULATOR_ENDPOINT`` (replaces every environment's
emulator_endpoint) and ``ECS_CD_FAST_IMPORT`` ("0": the provider bindings imported the stock way).

Exit codes: 0 synthesized; 2 the configuration is invalid, or a construct refused a value (one
``ecs-cd:`` line, a problem per line under it); 1 the synthesis failed otherwise: the traceback,
then one line ``ecs-cd: synthesis into DIR failed: …`` (what ``ecs-release`` reports).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

from stacks.app import invalid, synthesize
from stacks.settings import ConfigError, load_settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ecs_cd.synth",
        description="Synthesize the stacks of a configuration file into DIR, as `cdktf synth --output DIR`.",
    )
    parser.add_argument("--config", type=Path, required=True, help="the configuration file (ecs-cd.toml)")
    parser.add_argument("--output", type=Path, required=True, metavar="DIR", help="the output directory")
    return parser


def cdktf_environment() -> None:
    """What `cdktf synth` sets for the app it runs, so that the output is the same: JSON, not HCL;
    Node's heap as the CLI sizes it (unless NODE_OPTIONS says otherwise); no Node 20 banner."""
    os.environ["SYNTH_HCL_OUTPUT"] = "false"
    os.environ.setdefault("NODE_OPTIONS", "--max-old-space-size=4096")
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")


def remove_orphans(outdir: Path) -> list[str]:
    """Remove the stack directories of stacks the manifest does not name, as `cdktf synth` does
    after each synthesis (a removed environment's local state goes with its directory there too)."""
    manifest = json.loads((outdir / "manifest.json").read_text(encoding="utf-8"))
    stacks_dir = outdir / "stacks"
    named = set(manifest.get("stacks", {}))
    removed = []
    for directory in sorted(stacks_dir.iterdir()) if stacks_dir.is_dir() else []:
        if directory.is_dir() and not directory.is_symlink() and directory.name not in named:
            shutil.rmtree(directory)
            removed.append(directory.name)
    return removed


def _first_line(exc: BaseException) -> str:
    """``RuntimeError: EISDIR: …``: the exception's type and its message's first line (jsii passes
    Node's ``Error: …`` on as a RuntimeError's message)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return f"{type(exc).__name__}: {lines[0].removeprefix('Error: ')}" if lines else type(exc).__name__


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings(
            args.config, emulator_endpoint=os.environ.get("ECS_CD_EMULATOR_ENDPOINT") or None
        )
    except ConfigError as exc:
        return invalid(exc)
    cdktf_environment()
    outdir = args.output.expanduser().absolute()
    try:
        outdir.mkdir(parents=True, exist_ok=True)
        code = synthesize(settings, str(outdir), fast_import=os.environ.get("ECS_CD_FAST_IMPORT", "1") != "0")
        if code == 0:
            remove_orphans(outdir)
    except Exception as exc:  # jsii's errors come from Node: the whole story for the log, then one line
        traceback.print_exc()
        print(f"ecs-cd: synthesis into {outdir} failed: {_first_line(exc)}", file=sys.stderr)
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main())
