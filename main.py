"""cdktf app entry of a checkout: load the configuration, then synthesize it (stacks/app.py).

This file and the command-line tools (ecs-release, ``python -m ecs_cd.synth``) are the only
places that read environment variables or files; everything below receives typed settings.

Environment variables:
  ECS_CD_CONFIG              configuration file (default: config/ecs-cd.toml next to this file)
  ECS_CD_EMULATOR_ENDPOINT   endpoint of a running emulator, replacing emulator_endpoint
                             of every environment that has one (set by make demo and the tests)
  ECS_CD_FAST_IMPORT         "0" imports the AWS provider bindings the stock way (all ~2,100
                             submodules, ~13 s); default: only the submodules used (docs/speed.md)
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from stacks.app import invalid, synthesize
from stacks.settings import ConfigError, Settings, load_settings

DEFAULT_CONFIG = Path(__file__).resolve().parent / "config" / "ecs-cd.toml"


def load_from_environment() -> Settings:
    path = Path(os.environ.get("ECS_CD_CONFIG") or DEFAULT_CONFIG)
    return load_settings(path, emulator_endpoint=os.environ.get("ECS_CD_EMULATOR_ENDPOINT") or None)


def configure_imports() -> bool:
    """Use the fast import path for the provider bindings unless ECS_CD_FAST_IMPORT=0."""
    if os.environ.get("ECS_CD_FAST_IMPORT", "1") == "0":
        return False
    from stacks.fast_import import enable

    return enable()


def main() -> int:
    try:
        settings = load_from_environment()
    except ConfigError as exc:
        return invalid(exc)
    # jsii prints a banner on every run under Node 20; it says nothing about this app.
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    # The output directory is cdktf's: `cdktf synth --output` sets CDKTF_OUTDIR, which App reads.
    return synthesize(settings, fast_import=os.environ.get("ECS_CD_FAST_IMPORT", "1") != "0")


if __name__ == "__main__":
    sys.exit(main())
