"""The base of every construct's props: one model per concept, validated once.

Props are frozen pydantic models. Built in Python, a bad value raises ``ValueError``
(pydantic's ``ValidationError`` is one) in the constructor; the settings loader parses
the configuration file into the very same models and turns each error's location into
"file: field = value: what is allowed". No rule is written twice.

A props error's text never repeats the input (``hide_input_in_errors``): a value may be a
credential, and the messages say what is allowed without it.

String props are Terraform text, as every string attribute of cdktf's provider classes is:
``${…}`` in one is a reference or an expression (a token is one), ``%{…}`` a directive.
Literal text must arrive escaped (``terraform_text.literal``, ``literal_values``); the
stacks escape every value of the configuration once, before any construct sees it. The one
exception is ``Redeploy``'s ``command``: a literal argv the construct turns into a shell
line and escapes itself. Rules on a prop's length or format hold for the text as written:
validate props before escaping them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from pydantic import BaseModel, ConfigDict


class Props(BaseModel):
    """Frozen, unknown fields refused, validated on construction. A field's docstring (the string
    below it) is its description: the configuration's JSON Schema and reference are made of them
    (``stacks/configuration/file_schema.py``, ``make reference``)."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, hide_input_in_errors=True, use_attribute_docstrings=True
    )


class ConstructProps(BaseModel):
    """Props that also hold construct references (checked with ``isinstance``)."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        arbitrary_types_allowed=True,
        hide_input_in_errors=True,
        use_attribute_docstrings=True,
    )


REPORT_BY_FIELD = "report-by-field"
"""Validation context key: leave the rules between fields to the caller, which reports each
problem at its own field (the settings loader)."""

NO_VALUE = object()
"""In a problem, a value that must not be shown (it may be a credential)."""


class Problem(NamedTuple):
    """A rule of some props broken: at ``field`` (relative to the props), the ``value`` to show (or
    NO_VALUE), what is allowed; ``read``: the other fields the rule compared, for a rule of all
    the containers together (``containers.*.cpu``: every container's cpu), so a caller can tell
    who wrote what broke it.

    A props-level problems function is the one home of its rules: the props validate with it
    (``problem_text``), the settings loader reports each problem at its field of the file."""

    field: str
    value: Any
    message: str
    read: tuple[str, ...] = ()


def problem_text(problems: Sequence[tuple[Any, ...]]) -> str:
    """Problems (field, value, what is allowed, ...) as one message for a ``ValueError``: each
    field and what is allowed (the messages name the values that matter; a value may be a
    credential, so none is added)."""
    return "; ".join(f"{problem[0]}: {problem[2]}" for problem in problems)
