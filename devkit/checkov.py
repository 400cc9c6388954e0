"""checkov, the static security checker, on synthesized stacks: offline, every check's result
per environment, and the skips the stacks declare applied with their reasons.

checkov 3.3.30 pins boto3==1.35.49 (and packaging<24, networkx<2.7), which the Pipfile's
boto3 rules out, so it lives in a virtualenv of its own (.cache/checkov, installed by
scripts/bootstrap.sh) and runs as a subprocess.

A resource skips a check with a reason in cdktf's comment key, which Terraform ignores:

    resource.add_override("//.checkov.skip", [{"id": "CKV_AWS_158", "comment": "why"}])

which synthesizes to ``"//": {"checkov": {"skip": [{"id": ..., "comment": ...}]}}`` beside
cdktf's own ``"//": {"metadata": ...}``. checkov's terraform_json framework reads no inline
skip in any form (checkov issue 4634), so ``scan`` applies these itself: a failed check that
its resource skips is reported as skipped, with the comment as its ``suppress_comment``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ecs_cd.toolchain.errors import ToolError

PROJECT_DIR = Path(__file__).resolve().parent.parent
ISOLATED_CHECKOV = PROJECT_DIR / ".cache" / "checkov" / "bin" / "checkov"
FRAMEWORK = "terraform_json"

# JSON with every result: --quiet would drop the passed checks from it. --compact leaves the
# code blocks out; --skip-download, like BC_SKIP_MAPPING below, downloads nothing.
CHECKOV_ARGS = ("--framework", FRAMEWORK, "-o", "json", "--compact", "--skip-download")

# Offline: BC_SKIP_MAPPING skips the download of check metadata and guidelines, and
# CKV_SKIP_PACKAGE_UPDATE_CHECK the check for a newer checkov; with both, a scan opens no
# connection. Every other BC_/CKV_/CHECKOV_/PRISMA_ variable is dropped, since checkov
# reads its options (checks to skip, API keys that upload results) from them too.
OFFLINE_ENVIRONMENT = {"BC_SKIP_MAPPING": "TRUE", "CKV_SKIP_PACKAGE_UPDATE_CHECK": "TRUE"}
_CHECKOV_VARIABLE_PREFIXES = ("BC_", "CKV_", "CHECKOV_", "PRISMA_")

# A line of json.dumps(indent=2) that opens an object: its indent and its (JSON-quoted) key.
_OBJECT_KEY_LINE = re.compile(r'^( *)("(?:[^"\\]|\\.)*"): \{$')


@dataclass(frozen=True)
class Check:
    """One check on one resource, e.g. CKV_AWS_158 on aws_cloudwatch_log_group.api_logs_1A2B3C4D."""

    check_id: str
    name: str
    resource: str  # the address in the stack: "aws_ecs_service.x", "data.aws_iam_policy_document.x"
    suppress_comment: str = ""  # the reason, for a skipped check

    @property
    def resource_type(self) -> str:
        parts = self.resource.split(".")
        return parts[1] if parts[0] == "data" and len(parts) > 2 else parts[0]

    def __str__(self) -> str:
        return f"{self.check_id} on {self.resource}: {self.name}"


@dataclass(frozen=True)
class Report:
    """checkov's results for one environment's stack."""

    passed: tuple[Check, ...]
    failed: tuple[Check, ...]
    skipped: tuple[Check, ...]
    unused_skips: tuple[Check, ...]  # skips declared in the stack that matched no failed check
    parsing_errors: tuple[str, ...]
    checkov_version: str

    @property
    def resource_types(self) -> frozenset[str]:
        """The resource types checkov evaluated at least one check on."""
        return frozenset(check.resource_type for check in (*self.passed, *self.failed, *self.skipped))


def find_checkov() -> Path:
    """The isolated checkov that make test installs, else one in this Python's virtualenv."""
    for candidate in (ISOLATED_CHECKOV, Path(sys.executable).parent / "checkov"):
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise ToolError(f"checkov was not found at {ISOLATED_CHECKOV}: run `make test`, which installs it")


def scan(stacks: Mapping[str, Mapping[str, Any]], *, timeout: float = 600) -> dict[str, Report]:
    """checkov on every stack of ``stacks`` (environment name -> synthesized stack JSON), in one run.

    Pass the stacks with cdktf's ``"//"`` keys (``stack.to_terraform()``, not ``Testing.synth``,
    which drops them with the skips they hold).
    """
    checkov = find_checkov()
    with tempfile.TemporaryDirectory(prefix="ecs-cd-checkov-") as tmp:
        root = Path(tmp)
        scan_dir = root / "stacks"
        files: dict[str, Path] = {}
        addresses: dict[str, dict[int, str]] = {}
        for index, (name, stack) in enumerate(stacks.items()):
            # Directories by index: any environment name is safe, and the files cannot collide.
            path = scan_dir / f"{index:03d}" / "cdk.tf.json"
            path.parent.mkdir(parents=True)
            text = json.dumps(_without_required_version(stack), indent=2)
            path.write_text(text, encoding="utf-8")
            files[name] = path
            addresses[name] = _addresses_by_line(text)
        env = {k: v for k, v in os.environ.items() if not k.startswith(_CHECKOV_VARIABLE_PREFIXES)}
        # HOME and the working directory in the empty temp dir: no ~/.checkov.yaml or
        # ./.checkov.yaml of a developer changes which checks run.
        env.update(OFFLINE_ENVIRONMENT, HOME=str(root))
        try:
            result = subprocess.run(
                [str(checkov), "-d", str(scan_dir), *CHECKOV_ARGS],
                cwd=root,
                env=env,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise ToolError(f"checkov did not finish within {timeout:.0f} s") from exc
        # checkov exits 1 when a check failed: that is a result, not an error.
        if result.returncode not in (0, 1):
            raise ToolError(f"checkov failed (exit {result.returncode}):\n{result.stderr[-4000:]}")
        try:
            output = json.loads(result.stdout)
        except json.JSONDecodeError as exc:
            printed = (result.stdout + result.stderr)[-4000:]
            raise ToolError(f"checkov printed no JSON report:\n{printed}") from exc
        return _reports(output, files, addresses, stacks)


def _without_required_version(stack: Mapping[str, Any]) -> dict[str, Any]:
    """The stack without ``terraform.required_version``: checkov 3.3.30 fails to parse a file
    that has it and then silently checks nothing in it (checkov issue 7454)."""
    out = dict(stack)
    if isinstance(out.get("terraform"), Mapping):
        out["terraform"] = {k: v for k, v in out["terraform"].items() if k != "required_version"}
    return out


def _addresses_by_line(text: str) -> dict[int, str]:
    """Line number -> address of each resource and data source that opens on that line.

    checkov names a resource "resource.<name>" in its terraform_json results (graph checks say
    "<type>.<name>"), but every result carries the line its block opens on."""
    path: list[str] = []
    found: dict[int, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        match = _OBJECT_KEY_LINE.match(line)
        if not match:
            continue
        depth = len(match.group(1)) // 2  # 1 for the top-level blocks
        del path[depth - 1 :]
        path.append(str(json.loads(match.group(2))))
        if depth == 3 and path[0] == "resource":
            found[number] = f"{path[1]}.{path[2]}"
        elif depth == 3 and path[0] == "data":
            found[number] = f"data.{path[1]}.{path[2]}"
    return found


def _declared_skips(stack: Mapping[str, Any]) -> dict[tuple[str, str], str]:
    """(address, check id) -> reason, for every ``"//": {"checkov": {"skip": [...]}}`` in the stack."""
    skips: dict[tuple[str, str], str] = {}
    for block, prefix in (("resource", ""), ("data", "data.")):
        for resource_type, items in (stack.get(block) or {}).items():
            for name, config in (items or {}).items():
                comment = config.get("//") if isinstance(config, Mapping) else None
                checkov = comment.get("checkov") if isinstance(comment, Mapping) else None
                entries = checkov.get("skip") if isinstance(checkov, Mapping) else None
                if entries is None:
                    continue
                address = f"{prefix}{resource_type}.{name}"
                if not isinstance(entries, list):
                    raise ToolError(f'{address}: "//".checkov.skip must be a list of {{"id", "comment"}}')
                for entry in entries:
                    if not isinstance(entry, Mapping) or not isinstance(entry.get("id"), str):
                        raise ToolError(f'{address}: a "//".checkov.skip entry has no check "id": {entry!r}')
                    skips[(address, entry["id"])] = str(entry.get("comment") or "").strip()
    return skips


def _reports(
    output: Any,
    files: Mapping[str, Path],
    addresses: Mapping[str, Mapping[int, str]],
    stacks: Mapping[str, Mapping[str, Any]],
) -> dict[str, Report]:
    # One framework gives one report object; several would give a list of them.
    reports = output if isinstance(output, list) else [output]
    report: dict[str, Any] = next((r for r in reports if r.get("check_type") == FRAMEWORK), {})
    results = report.get("results", {})  # absent when checkov found no file to check
    version = str(report.get("summary", {}).get("checkov_version", ""))
    by_dir = {path.parent.name: name for name, path in files.items()}

    def environment(record: Mapping[str, Any]) -> str:
        return by_dir[Path(str(record["file_path"])).parent.name]

    def check(record: Mapping[str, Any], name: str) -> Check:
        address = addresses[name].get(int(record["file_line_range"][0]), str(record["resource"]))
        return Check(str(record["check_id"]), str(record["check_name"]), address)

    grouped: dict[str, dict[str, list[Check]]] = {
        name: {"passed": [], "failed": [], "skipped": []} for name in files
    }
    for kind in ("passed", "failed", "skipped"):
        for record in results.get(f"{kind}_checks", []):
            name = environment(record)
            found = check(record, name)
            if kind == "skipped":  # by checkov itself: none for terraform_json in 3.3.30
                reason = str(record.get("check_result", {}).get("suppress_comment") or "").strip()
                found = Check(found.check_id, found.name, found.resource, reason)
            grouped[name][kind].append(found)
    errors = [str(p) for p in results.get("parsing_errors", [])]

    out: dict[str, Report] = {}
    for name, path in files.items():
        skips = _declared_skips(stacks[name])
        failed, skipped = _split_skipped(grouped[name]["failed"], skips)
        skipped = grouped[name]["skipped"] + skipped
        used = {(c.resource, c.check_id) for c in skipped}
        unused = tuple(
            Check(check_id, "", address, reason)
            for (address, check_id), reason in skips.items()
            if (address, check_id) not in used
        )
        out[name] = Report(
            passed=tuple(grouped[name]["passed"]),
            failed=tuple(failed),
            skipped=tuple(skipped),
            unused_skips=unused,
            parsing_errors=tuple(e for e in errors if Path(e).parent.name == path.parent.name),
            checkov_version=version,
        )
    return out


def _split_skipped(
    failed: Iterable[Check], skips: Mapping[tuple[str, str], str]
) -> tuple[list[Check], list[Check]]:
    still_failed: list[Check] = []
    skipped: list[Check] = []
    for check in failed:
        key = (check.resource, check.check_id)
        if key in skips:
            skipped.append(Check(check.check_id, check.name, check.resource, skips[key]))
        else:
            still_failed.append(check)
    return still_failed, skipped
