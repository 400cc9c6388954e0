"""A synthesized stack as the orphan scan reads it (ecs_cd/release/orphans.py): its resources and data
sources as written, what its state holds, and references between them resolved through the
state or, failing that, through AWS (ecs_cd/release/orphan_lookups.py finds each type there)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ecs_cd.release.aws import Aws

_REFERENCE = re.compile(r"^\$\{((?:data\.)?[a-z0-9_]+\.[A-Za-z0-9_-]+)\.([a-z_]+)\}$")


class Unresolved(Exception):
    """What identifies the resource in AWS cannot be worked out (an expression, a lookup
    that cannot be done): whether AWS has it is not known."""


class Absent(Exception):
    """A resource this one refers to is neither in the state nor in AWS: neither is this one."""


class ScanFailed(Exception):
    """The stack's JSON or state could not be read."""


@dataclass(frozen=True)
class Found:
    """A resource in AWS: its import ID, a name for people and the attributes references read."""

    import_id: str
    name: str
    attributes: Mapping[str, Any] = field(default_factory=dict)


Lookup = Callable[["Stack", Mapping[str, Any]], "Found | None"]


class Stack:
    """A synthesized stack's resources, what its state holds and AWS, to resolve references."""

    def __init__(
        self,
        document: Mapping[str, Any],
        state: Mapping[str, Mapping[str, Any]],
        aws: Aws,
        lookups: Mapping[str, Lookup] | None = None,
    ) -> None:
        """``lookups``: how a resource (``kind``) or data source (``data.kind``) is found in AWS,
        by type (default: ``orphan_lookups.LOOKUPS``)."""
        if lookups is None:
            from ecs_cd.release.orphan_lookups import LOOKUPS

            lookups = LOOKUPS
        self.resources = {
            f"{kind}.{name}": dict(config)
            for kind, blocks in document.get("resource", {}).items()
            for name, config in blocks.items()
        }
        self.data = {
            f"data.{kind}.{name}": dict(config)
            for kind, blocks in document.get("data", {}).items()
            for name, config in blocks.items()
        }
        self.state = state
        self.aws = aws
        self._lookups = lookups
        self._found: dict[str, Found | None] = {}

    def value(self, raw: Any) -> Any:
        """A literal as written, or a whole-string reference resolved; Unresolved otherwise."""
        if not isinstance(raw, str) or "${" not in raw:
            return raw
        reference = _REFERENCE.match(raw)
        if reference is None:
            raise Unresolved(f"the expression {raw}")
        return self.attribute(reference[1], reference[2])

    def need(self, config: Mapping[str, Any], key: str) -> Any:
        if config.get(key) is None:
            raise Unresolved(f"no {key}")
        return self.value(config[key])

    def attribute(self, address: str, attribute: str) -> Any:
        """An attribute of a resource or data source: as configured, else as the state holds it,
        else as AWS has it."""
        config = self.data.get(address) if address.startswith("data.") else self.resources.get(address)
        if config is None:
            raise Unresolved(f"{address} is not in the stack")
        if attribute in config and attribute != "id":
            return self.value(config[attribute])
        held = self.state.get(address)
        if held is not None and held.get(attribute) is not None:
            return held[attribute]
        found = self.lookup(address)
        if found is None:
            raise Absent(address)
        if attribute not in found.attributes:
            raise Unresolved(f"{address}.{attribute}")
        return found.attributes[attribute]

    def lookup(self, address: str) -> Found | None:
        """The resource (or data source) in AWS, looked up once; None when AWS does not have it."""
        if address not in self._found:
            kind = (
                address.partition(".")[0]
                if not address.startswith("data.")
                else ".".join(address.split(".")[:2])
            )
            find = self._lookups.get(kind)
            if find is None:
                raise Unresolved(f"no lookup for {kind}")
            config = self.data[address] if address.startswith("data.") else self.resources[address]
            self._found[address] = find(self, config)
        return self._found[address]
