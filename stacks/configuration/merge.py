"""A service's base table with an environment's override of it: one table per (environment,
service), and where each of its values was written."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

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
        "pre_deploy",
        # the app container's fields and the other containers (merged container by container)
        "command",
        "entry_point",
        "health_check",
        "user",
        "readonly_root_filesystem",
        "writable_paths",
        "port_mappings",
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
MERGED_TABLES = ("environment", "secrets", "log_options", "log_secret_options", "tags")

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


def merge_service(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """A service's table with an environment's override: variables key by key, containers
    container by container (and their variables key by key), everything else replaced."""
    merged = {**base, **override}
    for table in MERGED_TABLES:
        if isinstance(base.get(table), Mapping) and isinstance(override.get(table), Mapping):
            merged[table] = {**base[table], **override[table]}
    if isinstance(base.get("containers"), Mapping) and isinstance(override.get("containers"), Mapping):
        containers = dict(base["containers"])
        for name, body in override["containers"].items():
            old = containers.get(name)
            containers[name] = (
                merge_service(old, body) if isinstance(old, Mapping) and isinstance(body, Mapping) else body
            )
        merged["containers"] = containers
    return merged


def from_override(path: Sequence[str | int], override: Mapping[str, Any]) -> bool:
    """Whether the value at ``path`` of a merged service came from the environment's override."""
    node: Any = override
    for part in path:
        if not isinstance(node, Mapping):
            return True
        if part not in node:
            return False
        node = node[part]
    return True


def conflict_from_override(conflict: str, message: str, override: Mapping[str, Any]) -> bool:
    """Whether a problem at ``conflict`` (a field path) comes from the environment's override.

    A problem of all containers together (their cpu or memory sum) is the override's only
    when the override sets what is summed; any other override of a container is not to blame."""
    if conflict == "containers":
        sidecars = override.get("containers")
        if "per task definition" in message:
            # Too many containers: the override's when it names containers (it may add some).
            return isinstance(sidecars, Mapping) and bool(sidecars)
        what = ("cpu",) if "cpu units" in message else ("memory", "memory_reservation")
        return (what[0] in override) or (
            isinstance(sidecars, Mapping)
            and any(isinstance(body, Mapping) and any(k in body for k in what) for body in sidecars.values())
        )
    return from_override(conflict.split("."), override)
