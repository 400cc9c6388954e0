"""Read the ``container_definitions`` template the way Terraform renders it, for unit tests.

The constructs write the definitions as a Terraform template: JSON whose literals escape
``${`` and ``%{`` (as ``$${`` and ``%%{``) and whose plan-time values are
``${jsonencode("…")}``. This renders the literals and turns each ``jsonencode`` of a string
back into that string (its interpolations, e.g. the SSM lookup, kept as text), so tests can
assert on parsed values. End-to-end tests check the same against real Terraform.
"""

from __future__ import annotations

import json
import re
from typing import Any

_JSONENCODE = re.compile(r'(?<!\$)\$\{jsonencode\("((?:[^"\\]|\\.)*)"\)\}')


def render_template(text: str) -> str:
    """The JSON text Terraform would produce from ``text``, plan-time values kept as ``${…}``."""
    parts: list[str] = []
    last = 0
    for match in _JSONENCODE.finditer(text):
        parts.append(_unescape(text[last : match.start()]))
        # An HCL string's escapes (\" \\ \n …) are JSON's; its ${…} stays as the reference.
        parts.append(json.dumps(json.loads(f'"{match.group(1)}"')))
        last = match.end()
    parts.append(_unescape(text[last:]))
    return "".join(parts)


def _unescape(literal: str) -> str:
    return literal.replace("$${", "${").replace("%%{", "%{")


def parse_definitions(text: str) -> list[dict[str, Any]]:
    """The container definitions of a task, parsed."""
    parsed: list[dict[str, Any]] = json.loads(render_template(text))
    return parsed
