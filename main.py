"""cdktf app entry: load the configuration, build one stack per environment, synthesize.

This file and the command-line tools are the only places that read environment
variables or files; everything below receives typed settings.

Environment variables:
  ECS_CD_CONFIG              configuration file (default: config/ecs-cd.toml next to this file)
  ECS_CD_EMULATOR_ENDPOINT   endpoint of a running emulator, replacing emulator_endpoint
                             of every environment that has one (set by make demo and the tests)
  ECS_CD_FAST_IMPORT         "0" imports the AWS provider bindings the stock way (all ~2,100
                             submodules, ~13 s); default: only the submodules used (README, "Speed")
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

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


def add_stacks(app: Any, settings: Settings) -> dict[str, Any]:
    """One stack per environment (and per service where split) on ``app``, by stack name, as the
    environment's ``StackLayout`` says.

    The tests build their stacks with this too, on ``Testing.app()``."""
    from stacks.emulator_profile import emulator_profile
    from stacks.environment_stack import EnvironmentStack, ServiceStack
    from stacks.layout import StackLayout

    stacks: dict[str, Any] = {}
    for environment in settings.environments.values():
        emulator = emulator_profile(environment.emulator_endpoint)
        own, *services = StackLayout.of(environment).places
        env_stack = EnvironmentStack(
            app,
            own.name,
            project=settings.project,
            environment=environment,
            null_provider_version=settings.null_provider_version,
            emulator=emulator,
        )
        stacks[own.name] = env_stack
        for place in services:
            assert place.service is not None  # a split environment's service stacks
            service_stack = ServiceStack(
                app,
                place.name,
                project=settings.project,
                environment=environment,
                service=environment.service(place.service),
                null_provider_version=settings.null_provider_version,
                emulator=emulator,
            )
            # `cdktf deploy '*'` then creates the cluster before the services.
            service_stack.add_dependency(env_stack)
            stacks[place.name] = service_stack
    return stacks


def build_app(settings: Settings, outdir: str | None = None) -> object:
    # Imported here so configuration errors are reported before the provider import.
    from cdktf import App

    app = App(outdir=outdir) if outdir else App()
    add_stacks(app, settings)
    return app


def main() -> int:
    try:
        settings = load_from_environment()
    except ConfigError as exc:
        print("ecs-cd: the configuration is invalid, nothing was synthesized:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 2
    # jsii prints a banner on every run under Node 20; it says nothing about this app.
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    configure_imports()
    try:
        app = build_app(settings)
    except ValueError as exc:
        # A construct rejected a value the loader let through: still one line, no traceback.
        print(f"ecs-cd: cannot build the stacks from {settings.source}: {exc}", file=sys.stderr)
        return 2
    app.synth()  # type: ignore[attr-defined]
    return 0


if __name__ == "__main__":
    sys.exit(main())
