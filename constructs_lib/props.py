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

from pydantic import BaseModel, ConfigDict


class Props(BaseModel):
    """Frozen, unknown fields refused, validated on construction."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)


class ConstructProps(BaseModel):
    """Props that also hold construct references (checked with ``isinstance``)."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, arbitrary_types_allowed=True, hide_input_in_errors=True
    )
