"""Literal text in Terraform JSON: what must be escaped so a value stays a value.

Every string attribute of Terraform's JSON syntax is a template: ``${…}`` is evaluated and
``%{…}`` is a directive. A value from the configuration that reaches Terraform unescaped
can read files (``${file("…")}``), break out of a shell command or fail the plan.

The constructs' string props are Terraform text, as the attributes of cdktf's provider
classes are: a reference (``${aws_iam_role.x.arn}``, a token) is a reference. Literal text
is escaped once, by whoever turns it into construct input: the stacks pass every value of
the configuration through :func:`literal_values` before any construct sees it.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

from pydantic import BaseModel

T = TypeVar("T")


def literal(text: str) -> str:
    """``text`` as a Terraform template that renders exactly ``text``."""
    return text.replace("${", "$${").replace("%{", "%%{")


def literal_values(value: T) -> T:
    """``value`` with every string in it (model and dataclass fields, items, mapping keys and
    values, at any depth) made :func:`literal`. Models are copied without validating again: their rules hold
    for the text as written, not for its escaped form."""
    return _literal(value)  # type: ignore[no-any-return]


def _literal(value: Any) -> Any:
    if isinstance(value, str):
        return literal(value)
    if isinstance(value, BaseModel):
        fields = type(value).model_fields
        return value.model_copy(update={name: _literal(getattr(value, name)) for name in fields})
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: _literal(getattr(value, f.name)) for f in dataclasses.fields(value) if f.init}
        return dataclasses.replace(value, **changes)
    if isinstance(value, tuple):
        return tuple(_literal(item) for item in value)
    if isinstance(value, list):
        return [_literal(item) for item in value]
    if isinstance(value, frozenset):
        return frozenset(_literal(item) for item in value)
    if isinstance(value, dict) or (hasattr(value, "items") and hasattr(value, "keys")):
        return {_literal(key): _literal(item) for key, item in value.items()}
    return value
