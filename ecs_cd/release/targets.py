"""Resolving ENV and SERVICE arguments against the configuration, with the stacks' names."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ecs_cd.release.errors import BadInput
from stacks.settings import ConfigError, EnvironmentSettings, ServiceSettings, Settings, load_settings


def load(config: Path, emulator_endpoint: str | None) -> Settings:
    try:
        return load_settings(config, emulator_endpoint=emulator_endpoint)
    except ConfigError as exc:
        raise BadInput("the configuration is invalid: " + "; ".join(exc.problems)) from None


def environment(settings: Settings, name: str) -> EnvironmentSettings:
    if name not in settings.environments:
        raise BadInput(
            f"unknown environment {name!r} in {settings.source} "
            f"(known: {', '.join(sorted(settings.environments))})"
        )
    return settings.environments[name]


@dataclass(frozen=True)
class Target:
    """One service in one environment, with every name the stacks gave it."""

    project: str
    environment: EnvironmentSettings
    service: ServiceSettings

    @property
    def cluster(self) -> str:
        return self.environment.cluster_name

    @property
    def service_name(self) -> str:
        return self.service.names.service

    @property
    def parameter(self) -> str:
        if self.service.image_tag_parameter is None:
            raise BadInput(
                f"{self.service.name} in {self.environment.name} runs the fixed tag "
                f"{self.service.image_tag!r} (image_tag in the configuration): it has no SSM tag parameter"
            )
        return self.service.image_tag_parameter

    @property
    def repository(self) -> str:
        return self.service.repository


def target(settings: Settings, env_name: str, service_name: str) -> Target:
    env = environment(settings, env_name)
    for service in env.services:
        if service.name == service_name:
            return Target(settings.project, env, service)
    if service_name in env.disabled_services:
        raise BadInput(
            f"service {service_name!r} is not deployed to environment {env_name!r} "
            f"(enabled = false in {settings.source})"
        )
    raise BadInput(
        f"unknown service {service_name!r} in environment {env_name!r} "
        f"(known: {', '.join(s.name for s in env.services)})"
    )


def targets(settings: Settings, env_name: str, service_name: str | None) -> list[Target]:
    if service_name is not None:
        return [target(settings, env_name, service_name)]
    env = environment(settings, env_name)
    return [Target(settings.project, env, s) for s in env.services]
