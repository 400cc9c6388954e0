"""An environment's stack layout: which stacks it has, in which order, where each keeps its state.

Computed once from the settings and read by everything that needs it: the app (which stacks
to build), the loader (two environments must not share a state), and the release command
line (what deploy, diff and the gate run, which lock objects the lock watch reads).
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ecs_cd.core import names

if TYPE_CHECKING:  # the loader uses the layout for its state check: no import back at run time
    from stacks.settings import EnvironmentSettings


@dataclass(frozen=True)
class StackPlace:
    """One stack: its ``name`` (``cdktf deploy <name>``), the ``service`` it holds alone (None:
    the environment's stack), and its state: the S3 ``key`` or the local ``path`` (relative to
    the synthesized output directory, ``stacks/<name>/<state.path>``)."""

    name: str
    service: str | None
    state_key: str | None
    state_path: str | None


@dataclass(frozen=True)
class StackLayout:
    """The stacks of one environment, the environment's own first (a split environment's
    service stacks deploy after it: they attach to its cluster)."""

    environment: str
    split: bool
    places: tuple[StackPlace, ...]

    @classmethod
    def of(cls, env: EnvironmentSettings) -> StackLayout:
        services = [None, *(s.name for s in env.services)] if env.stack_per_service else [None]
        return cls(env.name, env.stack_per_service, tuple(_place(env, service) for service in services))

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(place.name for place in self.places)

    def place(self, stack: str) -> StackPlace:
        for place in self.places:
            if place.name == stack:
                return place
        raise KeyError(stack)

    def stack_of(self, service: str) -> str:
        """The stack that holds ``service``: its own when split, else the environment's."""
        return names.service_stack_name(self.environment, service) if self.split else self.environment

    def to_deploy(self, services: tuple[str, ...], *, only: str | None = None) -> tuple[str, ...]:
        """The stacks a deploy of ``services`` runs, in order: the environment's stack and then
        the services' own when split; ``only`` (a split environment's one service): its stack alone."""
        if not self.split:
            return (self.environment,)
        if only is not None:
            return (self.stack_of(only),)
        return (self.environment, *(self.stack_of(s) for s in services))


def _place(env: EnvironmentSettings, service: str | None) -> StackPlace:
    name = env.name if service is None else names.service_stack_name(env.name, service)
    state = env.state
    if state.backend == "local":
        # Terraform runs in <outdir>/stacks/<stack>: a relative path is in that directory.
        return StackPlace(name, service, None, posixpath.normpath(posixpath.join("stacks", name, state.path)))
    assert state.backend == "s3"
    key = state.key if service is None else names.service_state_key(state.key, service)
    return StackPlace(name, service, key, None)
