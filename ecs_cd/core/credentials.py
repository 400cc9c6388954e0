"""What looks like a credential (by a variable's name, a URL's password, a token's shape), and
text with credentials redacted: no message, tag or plain environment value may show one."""

from __future__ import annotations

import re
from collections.abc import Mapping

# Parts of environment variable names that mean the value is a credential: such
# values belong in `secrets` (resolved by ECS at start), never in plain `environment`.
SECRET_NAME_PARTS = (
    "PASSWORD",
    "PASSWD",
    "SECRET",
    "TOKEN",
    "PRIVATE_KEY",
    "API_KEY",
    "APIKEY",
    "APP_KEY",
    "ACCESS_KEY",
    "CREDENTIAL",
    "DATABASE_URL",
    "DSN",
    "CONNECTION_STRING",
)

# A URL with a password in its user information: scheme://user:password@host (user may be empty).
# The scheme starts a word and is short, so a search stays linear in the length of the text.
_URL_WITH_PASSWORD = re.compile(
    r"(?P<before>(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]{0,31}://[^\s/?#@:]*:)(?P<password>[^\s/?#@]+)@",
    re.ASCII,
)
# user:password@ without a scheme (a *_URL variable's value, e.g. 'app:pw@db:5432').
_USER_PASSWORD = re.compile(r"(?:^|[\s,;=/])(?P<user>[^\s/?#@:,;=]+):[^\s/?#@]+@", re.ASCII)

# Credentials by their shape, whatever the key says: (kind, pattern). Each is anchored on a
# fixed prefix or a bounded run, so a search stays linear in the length of the text.
_CREDENTIAL_SHAPES = (
    ("an AWS access key id", re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])", re.ASCII)),
    (
        "a GitHub token",
        re.compile(r"(?<![A-Za-z0-9])(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_\w{30,})", re.ASCII),
    ),
    ("a Slack token", re.compile(r"(?<![A-Za-z0-9])xox[abprs]-[A-Za-z0-9-]{10,}", re.ASCII)),
    ("a private key", re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----", re.ASCII)),
)
# An AWS secret access key: 40 base64 characters on their own, mixing upper case, lower case and
# digits (a 40-digit hex git commit id, a common tag value, has no upper case letters).
_AWS_SECRET_KEY = re.compile(r"(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])", re.ASCII)

# A private key with its body: the PEM header, then base64 and line breaks, real or escaped as
# repr() writes them (a problem line shows values as repr), up to the footer if there is one.
_PRIVATE_KEY_BLOCK = re.compile(
    r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----(?:[A-Za-z0-9+/=\s]|\\[nrt])*"
    r"(?:-----END [A-Z0-9 ]*PRIVATE KEY-----)?",
    re.ASCII,
)


def credential_shape(value: str) -> str | None:
    """What kind of credential ``value`` holds by its shape (never the credential), or None."""
    for kind, pattern in _CREDENTIAL_SHAPES:
        if pattern.search(value):
            return kind
    for match in _AWS_SECRET_KEY.finditer(value):
        text = match.group()
        if (
            any(c.isupper() for c in text)
            and any(c.islower() for c in text)
            and any(c.isdigit() for c in text)
        ):
            return "an AWS secret access key"
    return None


def secret_looking(name: str) -> bool:
    """Whether an environment variable's name says its value is a credential."""
    upper = name.upper()
    return any(part in upper for part in SECRET_NAME_PARTS)


def holds_url_password(text: str) -> bool:
    """Whether ``text`` has a URL with a password in it (``scheme://user:password@host``)."""
    return _URL_WITH_PASSWORD.search(text) is not None


def holds_password(name: str, value: str) -> bool:
    """Whether an environment variable's value holds a password: a URL with one (any variable), or
    ``user:password@`` in the value of a variable named like a URL (``*_URL``, ``*_URI``)."""
    if holds_url_password(value):
        return True
    if not name.upper().endswith(("URL", "URI")):
        return False
    return any(not m.group("user").lower().endswith("mailto") for m in _USER_PASSWORD.finditer(value))


def redact_passwords(text: str) -> str:
    """``text`` with the password of every URL in it replaced by ``***``."""
    return _URL_WITH_PASSWORD.sub(r"\g<before>***@", text)


def redact_credentials(text: str) -> str:
    """``text`` with every credential of a fixed prefix (an access key id, a token, a private key
    and its body) replaced by what kind it is. An AWS secret access key has no prefix: its shape
    also fits valid names, so it is hidden where a field refuses it, not wherever it appears."""
    text = _PRIVATE_KEY_BLOCK.sub("<a private key, not shown>", text)
    for kind, pattern in _CREDENTIAL_SHAPES:
        text = pattern.sub(f"<{kind}, not shown>", text)
    return text


def holds_credential(value: object) -> bool:
    """Whether ``value`` (a string, or any string in lists and tables of them) has a credential's
    shape (``credential_shape``), so that no message may show it."""
    if isinstance(value, str):
        return credential_shape(value) is not None
    if isinstance(value, Mapping):
        return any(holds_credential(k) or holds_credential(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(holds_credential(v) for v in value)
    return False
