"""Problems as the user reads them: one line each, "file: field = value: what is allowed".

Every line names the place in the file where the offending value was written: for a
service, its base table or the environment's override of it, as the merge recorded
(``merge.Provenance``). Nothing here guesses where a value came from.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from constructs_lib.props import NO_VALUE
from ecs_cd.core import aws_regions, credentials


class ConfigError(Exception):
    """A configuration mistake, already phrased for the user (one line per problem)."""

    def __init__(self, problems: Sequence[str]) -> None:
        # One problem, one line: names and keys typed by the user may hold control characters.
        # A URL's password, and any credential by its shape, is masked in any line, whatever
        # field (or table key) it was written in: the lines end up in CI logs.
        self.problems = tuple(
            printable(credentials.redact_credentials(credentials.redact_passwords(p))) for p in problems
        )
        super().__init__("\n".join(self.problems))


def printable(text: str) -> str:
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def show(value: Any) -> str:
    """``repr(value)`` for a problem line; an int too long to print does not crash the loader."""
    try:
        return repr(value)
    except ValueError:
        return "<a value too large to show>"


def shown(value: Any) -> str:
    """`` = value`` for a line, or nothing for ``NO_VALUE`` (a value that must not be shown)."""
    return "" if value is NO_VALUE else f" = {show(value)}"


def where(loc: Sequence[int | str]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def message(error: Mapping[str, Any]) -> str:
    kind = error["type"]
    if kind == "missing":
        return "is required but missing"
    if kind == "extra_forbidden":
        return "is not a known field (check the spelling against docs/reference/configuration.md)"
    msg = str(error["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        msg = msg.removeprefix(prefix)
    return msg[:1].lower() + msg[1:]


_SECRET_FIELDS = ("secrets", "log_secret_options")


def _secret_field(own: Sequence[str | int]) -> bool:
    """Whether ``own`` (a path in a service) is in a table of secrets, the service's or a container's."""
    return (len(own) >= 1 and own[0] in _SECRET_FIELDS) or (
        len(own) >= 3 and own[0] == "containers" and own[2] in _SECRET_FIELDS
    )


def _user_path(error: Mapping[str, Any]) -> list[str | int]:
    """The error's location as the user wrote it: pydantic adds the discriminated union's tag
    after "state" and "[key]" after a dict key that failed; the user wrote neither (but may
    have named a table "state" or "[key]")."""
    own = list(error["loc"])
    if len(own) >= 2 and own[0] == "state" and own[1] in ("local", "s3"):
        del own[1]
    if len(own) >= 2 and own[-1] == "[key]" and error["type"] != "extra_forbidden":
        del own[-1]
    return own


def _hidden(own: Sequence[str | int], path: Sequence[str | int], error: Mapping[str, Any]) -> bool:
    """Whether the error's value must not be shown: anything written in secrets (a secret's value
    where its ARN belongs), a credential-looking variable's value whatever its type, a tag's
    value (not its key: it may be a password), or a value of a credential's shape in any field."""
    key_failed = list(error["loc"])[-1:] == ["[key]"]
    return (
        _secret_field(own)
        or any(
            part == "environment" and isinstance(key, str) and credentials.secret_looking(key)
            for part, key in itertools.pairwise(own)
        )
        or (len(path) >= 2 and path[-2] == "tags" and not key_failed)
        or credentials.holds_credential(error["input"])
    )


def problems(file: str, base: Sequence[str | int], errors: Sequence[Mapping[str, Any]]) -> list[str]:
    """One line per pydantic error, its location below ``base`` (where in the file the model is)."""
    lines = []
    for error in errors:
        own = _user_path(error)
        key_failed = list(error["loc"])[-1:] == ["[key]"]
        path = [*base, *own]
        for index, part in enumerate(path):
            # A table key refused as a credential (any tag key of that shape is) is named by its
            # kind: the path would show it, also in the line of its value's problem.
            refused_key = index == len(path) - 1 and key_failed
            if isinstance(part, str) and (refused_key or path[index - 1 : index] == ["tags"]):
                kind = credentials.credential_shape(part)
                path[index] = part if kind is None else f"<{kind}, not shown>"
        if error["type"] == "missing" or _hidden(own, path, error):
            lines.append(f"{file}: {where(path)}: {message(error)}")
        else:
            lines.append(f"{file}: {where(path)} = {show(error['input'])}: {message(error)}")
    return lines


def validate_name(file: str, at: str, value: str, check: Callable[[str], Any]) -> list[str]:
    try:
        check(value)
    except ValueError as exc:
        return [f"{file}: {at} = {show(value)}: {exc}"]
    return []


def in_region(file: str, at: str, arn: str, region: str, **why: str) -> list[str]:
    """The line that says ``arn`` (at ``at``) is not in ``region``, if it is not; ``why``:
    ``validate_arn_in_region``'s."""
    try:
        aws_regions.validate_arn_in_region(arn, region, **why)
    except ValueError as exc:
        return [f"{file}: {at} = {show(arn)}: {exc}"]
    return []
