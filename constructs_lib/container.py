"""Typed container settings rendered to an ECS container definition."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from constructs_lib.naming import (
    secret_looking,
    validate_container_path,
    validate_container_user,
    validate_env_var_name,
    validate_secret_arn,
)


@dataclass(frozen=True)
class HealthCheck:
    """A container health check; timings in seconds, ECS's defaults."""

    command: tuple[str, ...]
    interval: int = 30
    timeout: int = 5
    retries: int = 3
    start_period: int = 0

    def __post_init__(self) -> None:
        if not self.command or self.command[0] not in ("CMD", "CMD-SHELL", "NONE"):
            raise ValueError("HealthCheck.command must start with 'CMD', 'CMD-SHELL' or 'NONE'")
        if not 5 <= self.interval <= 300:
            raise ValueError(f"HealthCheck.interval must be 5-300 seconds, got {self.interval}")
        if not 2 <= self.timeout <= 60 or self.timeout >= self.interval:
            raise ValueError(
                f"HealthCheck.timeout must be 2-60 seconds and shorter than the interval, got {self.timeout}"
            )
        if not 1 <= self.retries <= 10:
            raise ValueError(f"HealthCheck.retries must be 1-10, got {self.retries}")
        if not 0 <= self.start_period <= 300:
            raise ValueError(f"HealthCheck.start_period must be 0-300 seconds, got {self.start_period}")


@dataclass(frozen=True)
class ContainerSettings:
    """What runs in the task's one container (the image is given separately).

    Hardened by default: read-only root filesystem (``writable_paths`` become task-scoped
    volumes), never privileged; ``user`` (default: the image's) may not be root."""

    name: str
    port: int | None = None
    environment: Mapping[str, str] = field(default_factory=dict)
    secrets: Mapping[str, str] = field(default_factory=dict)
    command: tuple[str, ...] | None = None
    entry_point: tuple[str, ...] | None = None
    health_check: HealthCheck | None = None
    readonly_root_filesystem: bool = True
    writable_paths: tuple[str, ...] = ()
    user: str | None = None

    def __post_init__(self) -> None:
        if self.port is not None and not 1 <= self.port <= 65535:
            raise ValueError(f"ContainerSettings.port must be 1-65535, got {self.port}")
        for key in self.environment:
            validate_env_var_name(key)
            if secret_looking(key):
                raise ValueError(
                    f"ContainerSettings.environment[{key!r}] looks like a credential: use secrets"
                )
        for key, arn in self.secrets.items():
            validate_env_var_name(key)
            validate_secret_arn(arn)
        both = set(self.environment) & set(self.secrets)
        if both:
            raise ValueError(f"ContainerSettings: {sorted(both)} set in both environment and secrets")
        for path in self.writable_paths:
            validate_container_path(path)
        if len({volume_name(p) for p in self.writable_paths}) != len(self.writable_paths):
            raise ValueError(
                "ContainerSettings.writable_paths: two paths map to one volume (they differ only in '/._')"
            )
        if self.user is not None:
            validate_container_user(self.user)
        if not self.name:
            raise ValueError("ContainerSettings.name must not be empty")


def volume_name(path: str) -> str:
    """The task volume backing a writable path: '/var/cache/app' -> 'var-cache-app'."""
    return path.strip("/").replace("/", "-").replace(".", "-").replace("_", "-")


def container_definition(
    settings: ContainerSettings, *, image: str, log_group: str, region: str, stream_prefix: str
) -> dict[str, Any]:
    """The container definition (ECS's JSON shape) for ``settings``, logging to CloudWatch.

    ``image`` may be a Terraform token (e.g. built from an SSM parameter)."""
    definition: dict[str, Any] = {
        "name": settings.name,
        "image": image,
        "essential": True,
        # Sorted so the rendered JSON (and so the plan) does not change with dict order.
        "environment": [
            {"name": key, "value": settings.environment[key]} for key in sorted(settings.environment)
        ],
        "readonlyRootFilesystem": settings.readonly_root_filesystem,
        "privileged": False,
        "logConfiguration": {
            "logDriver": "awslogs",
            "options": {
                "awslogs-group": log_group,
                "awslogs-region": region,
                "awslogs-stream-prefix": stream_prefix,
            },
        },
    }
    if settings.port is not None:
        definition["portMappings"] = [
            {"containerPort": settings.port, "hostPort": settings.port, "protocol": "tcp"}
        ]
    if settings.secrets:
        definition["secrets"] = [
            {"name": key, "valueFrom": settings.secrets[key]} for key in sorted(settings.secrets)
        ]
    if settings.writable_paths:
        definition["mountPoints"] = [
            {"sourceVolume": volume_name(path), "containerPath": path, "readOnly": False}
            for path in settings.writable_paths
        ]
    if settings.user is not None:
        definition["user"] = settings.user
    if settings.command is not None:
        definition["command"] = list(settings.command)
    if settings.entry_point is not None:
        definition["entryPoint"] = list(settings.entry_point)
    if settings.health_check is not None:
        check = settings.health_check
        definition["healthCheck"] = {
            "command": list(check.command),
            "interval": check.interval,
            "timeout": check.timeout,
            "retries": check.retries,
            "startPeriod": check.start_period,
        }
    return definition
