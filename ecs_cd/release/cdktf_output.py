"""What cdktf (or ecs_cd/release/terraform_run.py) printed during a deploy, read line by line:
which stack speaks, Terraform waiting for a state lock or failing to take it, "already exists"
errors, applies that completed, and the one line that says why a run stopped before Terraform.
That output is held back until Terraform starts; when one line replaces it, ``write_log`` keeps
the whole of it in the file the line names, so nothing before Terraform shows as a traceback.
"""

from __future__ import annotations

import re
import shlex
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

LOG_NAME = "ecs-release-deploy.log"

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_BOX = "│╷╵"


def plain(line: str) -> str:
    """A line of cdktf/Terraform output without colours, box drawing or trailing space."""
    return _ANSI.sub("", line).rstrip()


_LOCK_FIELD = re.compile(r"^(ID|Path|Operation|Who|Version|Created|Info):\s*(.*)$")
# The AWS provider's "creating <what> (<name>): … ResourceAlreadyExistsException: …".
_CREATING = re.compile(r"^Error: creating (?P<what>.+?) \((?P<name>[^()]+)\): (?P<why>.*)$")
# ECS says it of a service whose name the cluster has ACTIVE: "InvalidParameterException: Creation of
# service was not idempotent." (only a repeat of the same request, same clientToken, is accepted).
_ALREADY = re.compile(
    r"already exists|AlreadyExists|\.Duplicate\b|DuplicateName|not idempotent", re.IGNORECASE
)
_WITH = re.compile(r"^with (?P<address>[A-Za-z0-9_]+\.[A-Za-z0-9_-]+)\b")
# Resource types whose import ID is the name in the provider's error; the others need an ID
# the error does not show (an ARN, a generated id), which the hint names instead.
_IMPORT_ID_IS_NAME = frozenset(
    {
        "aws_cloudwatch_log_group",
        "aws_iam_role",
        "aws_ecs_cluster",
        "aws_ssm_parameter",
        "aws_ecr_repository",
        "aws_cloudwatch_metric_alarm",
    }
)
_IMPORT_ID_OF = {
    "aws_ecs_service": "<cluster name>/{name}",
    "aws_security_group": "<security group id, sg-…, of {name}>",
    "aws_lb_target_group": "<ARN of target group {name}>",
    "aws_lb": "<ARN of load balancer {name}>",
    "aws_iam_policy": "<ARN of policy {name}>",
}


@dataclass(frozen=True)
class AlreadyExists:
    """A resource Terraform tried to create that AWS already has (absent from the state)."""

    stack: str
    what: str  # as the provider names it: "CloudWatch Logs Log Group"
    name: str
    address: str = ""

    def import_id(self) -> str:
        kind = self.address.partition(".")[0]
        if kind in _IMPORT_ID_IS_NAME:
            return self.name
        return _IMPORT_ID_OF.get(kind, "<its import ID: see the provider's docs for {kind}>").format(
            name=self.name, kind=kind
        )

    def import_command(self, stacks_dir: Path) -> str:
        where = shlex.quote(str(stacks_dir / self.stack))
        return f"terraform -chdir={where} import {shlex.quote(self.address)} {shlex.quote(self.import_id())}"


class CdktfOutput:
    """cdktf's output, line by line: which stack speaks, lock waits and lock errors."""

    def __init__(self, stacks: Sequence[str]) -> None:
        self.stacks = list(stacks)
        self.lines: list[str] = []
        self.current: str | None = None
        self.acquiring: list[str] = []
        self.lock_errors: dict[str, dict[str, str]] = {}
        self.synth_error = False
        self.already_exists: list[AlreadyExists] = []
        # An error said something already exists, named or not ("InvalidPermission.Duplicate" of a
        # security group rule names no resource): ecs_cd/release/orphans.py then looks for all of them.
        self.collided = False
        self._error_seen = False
        self.apply_completed: set[str] = set()  # stacks whose Terraform said "Apply complete!"
        self._lock_info_of: str | None = None

    def _text(self, line: str) -> str:
        """The line without its stack prefix (cdktf starts each stack's chunk with its name)."""
        text = plain(line)
        first, _, rest = text.partition(" ")
        if first in self.stacks and (rest.startswith(" ") or not rest):
            self.current = first
            text = rest
        return text.strip().strip(_BOX).strip()

    def feed(self, line: str) -> str | None:
        """Take one line; returns the stack whose Terraform just said it waits for the lock."""
        self.lines.append(line)
        text = self._text(line)
        if "encountered an error while synthesizing" in text:
            self.synth_error = True
        if text.startswith("Apply complete!"):
            self.apply_completed.add(self.current or "?")
        self._collision(text)
        self._lock_error(text)
        if text.startswith("Acquiring state lock"):
            stack = self.current or "?"
            self.acquiring.append(stack)
            return stack
        return None

    def _collision(self, text: str) -> None:
        """An "already exists" error: the resource from its "creating" line, its address from the
        "with" line after it."""
        # Terraform wraps an error's text over several lines: the code comes after "Error:".
        self._error_seen = self._error_seen or text.startswith("Error:")
        if self._error_seen and _ALREADY.search(text):
            self.collided = True
        creating = _CREATING.match(text)
        if creating and _ALREADY.search(creating["why"]):
            self.already_exists.append(AlreadyExists(self.current or "?", creating["what"], creating["name"]))
        elif self.already_exists and not self.already_exists[-1].address:
            with_ = _WITH.match(text)
            if with_:
                self.already_exists[-1] = replace(self.already_exists[-1], address=with_["address"])

    def _lock_error(self, text: str) -> None:
        """A failure to take the state lock, and the holder's fields from the "Lock Info:" block after it."""
        if "Error acquiring the state lock" in text:
            self.lock_errors.setdefault(self.current or "?", {})
        elif text.startswith("Lock Info:") and self.lock_errors:
            self._lock_info_of = self.current or "?"
        elif self._lock_info_of is not None:
            found = _LOCK_FIELD.match(text)
            if found:
                self.lock_errors.setdefault(self._lock_info_of, {})[found[1]] = found[2].strip()
                if found[1] == "Info":
                    self._lock_info_of = None

    def failure_reason(self) -> str:
        """The line that says why cdktf stopped (the app's error, else cdktf's), one line."""
        text = [plain(line).strip() for line in self.lines]
        text = [t for t in text if t and not t.startswith("npm warn") and not _spinner(t)]
        if "Command output on stderr:" in text:
            block = text[len(text) - text[::-1].index("Command output on stderr:") :]
            if "Command output on stdout:" in block:
                block = block[: block.index("Command output on stdout:")]
            own = [i for i, t in enumerate(block) if t.startswith("ecs-cd:")]
            if own:  # main.py's own message, and the problems it lists under it
                return _one_line(" ".join(block[own[0] :]))
            if block:
                return _one_line(block[-1])
        errors = [t for t in text if re.match(r"^(Error|ERROR)\b:?", t)]
        if errors:
            return _one_line(errors[-1])
        return _one_line(text[-1]) if text else "no output"


def _spinner(text: str) -> bool:
    return "\u2800" <= text[0] <= "\u28ff"


def _one_line(text: str, limit: int = 400) -> str:
    text = re.sub(r"^(Error|ERROR):\s*", "", " ".join(text.split()))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def write_log(outdir: Path, lines: Sequence[str], name: str = LOG_NAME) -> Path | None:
    """The lines, plain, in ``outdir/name``, else in a temporary file; None if neither can be
    written."""
    text = "".join(plain(line) + "\n" for line in lines)
    try:
        path = outdir / name
        path.write_text(text)
        return path
    except OSError:
        try:
            with tempfile.NamedTemporaryFile(
                "w", prefix="ecs-release-deploy-", suffix=".log", delete=False
            ) as handle:
                handle.write(text)
                return Path(handle.name)
        except OSError:
            return None
