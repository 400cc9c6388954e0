"""Literal text in Terraform JSON: what must be escaped so a value stays a value.

Every string attribute of Terraform's JSON syntax is a template: ``${…}`` is evaluated and
``%{…}`` is a directive. A value from the configuration that reaches Terraform unescaped
can read files (``${file("…")}``), break out of a shell command or fail the plan.
"""

from __future__ import annotations


def literal(text: str) -> str:
    """``text`` as a Terraform template that renders exactly ``text``."""
    return text.replace("${", "$${").replace("%{", "%%{")
