"""A service's base table with an environment's override of it: one table per (environment,
service), and where each of its values was written."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

OVERRIDABLE = frozenset(
    {
        "enabled",
        "tags",
        "container_port",
        "repository",
        "cpu",
        "memory",
        "compute",
        "network_mode",
        "volumes",
        "desired_count",
        "environment",
        "image_tag_parameter",
        "image_strategy",
        "image_tag",
        "secrets",
        "secrets_kms_key_arn",
        "deployment",
        "load_balancer",
        "autoscaling",
        "queue",
        "pre_deploy",
        "service_connect",
        "schedule",
        "names",
        "adopt",
        # the app container's fields and the other containers (merged container by container)
        "command",
        "entry_point",
        "health_check",
        "user",
        "readonly_root_filesystem",
        "writable_paths",
        "port_mappings",
        "container_port_name",
        "app_protocol",
        "depends_on",
        "log_driver",
        "log_options",
        "log_secret_options",
        "container_cpu",
        "container_memory",
        "memory_reservation",
        "mount_points",
        "volumes_from",
        "links",
        "containers",
    }
)

# Tables merged key by key with an environment's override (the rest is replaced whole).
MERGED_TABLES = ("environment", "secrets", "log_options", "log_secret_options", "tags", "schedule")

# Keys of a [services.<name>.containers.<container>] table that say where its image comes from.
IMAGE_KEYS = ("image", "repository", "image_tag_parameter")


_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
PLACEHOLDERS = ("project", "service", "env")


def fill_placeholders(template: str, values: Mapping[str, str]) -> str:
    """``template`` with ``{project}``, ``{service}`` and ``{env}`` replaced; ValueError names
    any other placeholder (the result is validated as the field's format afterwards)."""

    def value(found: re.Match[str]) -> str:
        key = found.group(1)
        if key not in values:
            allowed = ", ".join(f"{{{name}}}" for name in PLACEHOLDERS)
            raise ValueError(f"unknown placeholder {{{key}}}: the placeholders are {allowed}")
        return values[key]

    return _PLACEHOLDER.sub(value, template)


def parameter_placeholders(
    merged: dict[str, Any], values: Mapping[str, str]
) -> list[tuple[list[str | int], Any, str]]:
    """Fill the placeholders of the service's and its containers' image_tag_parameter in place;
    the problems as (path below the service, value, message)."""
    problems: list[tuple[list[str | int], Any, str]] = []
    tables: list[tuple[list[str | int], Any]] = [([], merged)]
    containers = merged.get("containers")
    if isinstance(containers, Mapping):
        merged["containers"] = containers = dict(containers)
        for name, body in containers.items():
            if isinstance(body, Mapping):
                containers[name] = dict(body)
                tables.append((["containers", name], containers[name]))
    for path, table in tables:
        template = table.get("image_tag_parameter")
        if not isinstance(template, str) or "{" not in template:
            continue
        try:
            table["image_tag_parameter"] = fill_placeholders(template, values)
        except ValueError as exc:
            problems.append(([*path, "image_tag_parameter"], template, str(exc)))
    return problems


Origin = Literal["base", "override"]
Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Provenance:
    """Which table of the file wrote each value of a merged service: its base table
    ([services.<name>]) or the environment's override ([environments.<env>.services.<name>]).

    ``origins`` maps a path to the table that wrote the value there. A value the merge took
    whole is recorded at its key: everything below it was written in the same table. A table
    merged key by key (variables, containers) is the base's, each of its keys its writer's. A
    path nobody wrote (a default) is the base's: that is where a missing value belongs."""

    origins: Mapping[Path, Origin]

    def origin(self, path: Sequence[str | int]) -> Origin:
        parts = tuple(path)
        for end in range(len(parts), 0, -1):
            found = self.origins.get(parts[:end])
            if found is not None:
                return found
        return "base"

    def overridden(self, path: Sequence[str | int]) -> bool:
        return self.origin(path) == "override"

    def overridden_below(self, prefix: Sequence[str | int]) -> bool:
        """Whether the override wrote any value at or below ``prefix``."""
        head = tuple(prefix)
        return self.overridden(head) or any(
            origin == "override" and path[: len(head)] == head for path, origin in self.origins.items()
        )


def merge_service(base: Mapping[str, Any], override: Mapping[str, Any]) -> tuple[dict[str, Any], Provenance]:
    """A service's table with an environment's override: variables key by key, containers
    container by container (and their variables key by key), everything else replaced; and
    where each value was written."""
    origins: dict[Path, Origin] = {}
    return _merge(base, override, (), origins), Provenance(origins)


def _merge(
    base: Mapping[str, Any], override: Mapping[str, Any], at: Path, origins: dict[Path, Origin]
) -> dict[str, Any]:
    merged = {**base, **override}
    _record(base, at, "base", origins)
    _record(override, at, "override", origins)
    for table in MERGED_TABLES:
        if isinstance(base.get(table), Mapping) and isinstance(override.get(table), Mapping):
            merged[table] = {**base[table], **override[table]}
            origins[(*at, table)] = "base"
            _record(base[table], (*at, table), "base", origins)
            _record(override[table], (*at, table), "override", origins)
    if isinstance(base.get("containers"), Mapping) and isinstance(override.get("containers"), Mapping):
        containers = dict(base["containers"])
        origins[(*at, "containers")] = "base"
        _record(base["containers"], (*at, "containers"), "base", origins)
        for name, body in override["containers"].items():
            old = containers.get(name)
            if isinstance(old, Mapping) and isinstance(body, Mapping):
                containers[name] = _merge(old, body, (*at, "containers", name), origins)
            else:
                containers[name] = body
                origins[(*at, "containers", name)] = "override"
        merged["containers"] = containers
    return merged


def _record(table: Mapping[str, Any], at: Path, origin: Origin, origins: dict[Path, Origin]) -> None:
    for key in table:
        origins[(*at, key)] = origin
