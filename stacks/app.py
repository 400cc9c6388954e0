"""The cdktf app: every environment's stacks on one ``App``, synthesized into an output directory.

What a checkout's ``main.py`` (run by ``cdktf synth``) and ``python -m ecs_cd.synth`` (run by
``ecs-release``, no cdktf CLI) both do once they have read their inputs. It receives typed
settings and an output directory: it reads no file and no environment variable.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cdktf import App

    from stacks.settings import ConfigError, Settings

INVALID = "ecs-cd: the configuration is invalid, nothing was synthesized:"


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


def build_app(settings: Settings, outdir: str | None = None) -> App:
    """An ``App`` holding every stack; its output directory ``outdir``, else cdktf's default
    (``CDKTF_OUTDIR``, which `cdktf synth` sets, else ``cdktf.out``)."""
    # Imported here so configuration errors are reported before the provider import.
    from cdktf import App

    app = App(outdir=outdir) if outdir else App()
    add_stacks(app, settings)
    return app


def invalid(exc: ConfigError) -> int:
    """Say that the configuration is invalid, one line per problem, on stderr: exit code 2."""
    print(INVALID, file=sys.stderr)
    for problem in exc.problems:
        print(f"  {problem}", file=sys.stderr)
    return 2


def synthesize(settings: Settings, outdir: str | None = None, *, fast_import: bool = True) -> int:
    """Build the app and synthesize it: 0; or 2 and one line on stderr when a construct refuses a
    value the loader let through. ``fast_import`` imports only the provider submodules the stacks
    use (docs/speed.md); the output is the same either way."""
    if fast_import:
        from stacks.fast_import import enable

        enable()
    try:
        app = build_app(settings, outdir)
    except ValueError as exc:
        # A construct rejected a value the loader let through: still one line, no traceback.
        print(f"ecs-cd: cannot build the stacks from {settings.source}: {exc}", file=sys.stderr)
        return 2
    app.synth()
    return 0
