"""The synthesis of a direct deploy, of `diff` and of the pre-deploy gate: ``python -m
ecs_cd.synth`` as a child process of this interpreter (no cdktf CLI: jsii's Node runtime only;
ecs-release itself never loads jsii), and what a failed one says, in one line.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from ecs_cd.release.errors import DeployNotStarted
from ecs_cd.toolchain.errors import ToolError

if TYPE_CHECKING:
    from ecs_cd.release.project import Project

ENTRY = "python -m ecs_cd.synth"
TIMEOUT = 900
_EXCEPTION = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt)\b")
# How ecs_cd.synth ends a failure it did not foresee: the deploy's line says the rest itself.
_FAILED = re.compile(r"^ecs-cd: synthesis into .*? failed: ")


def synth_command(config: Path, outdir: Path) -> list[str]:
    """The argv of the synthesis of ``config`` into ``outdir``, with this interpreter."""
    return [sys.executable, "-m", "ecs_cd.synth", "--config", str(config.resolve()), "--output", str(outdir)]


def find_node(env: Mapping[str, str]) -> str:
    """The Node jsii runs the constructs in (``JSII_NODE`` or ``node`` on PATH)."""
    name = env.get("JSII_NODE") or "node"
    found = shutil.which(name, path=env.get("PATH"))
    if found is None:
        raise ToolError(f"{name} was not found on PATH: install Node.js >= 20 (the constructs run in it)")
    return found


def run(project: Project, outdir: Path, env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    """Synthesize ``project``'s configuration into ``outdir``, in the project directory; never
    raises for a non-zero exit (``ToolError``: Node is missing, or the synthesis took too long)."""
    find_node(env)
    argv = synth_command(project.config, outdir)
    try:
        return subprocess.run(
            argv,
            cwd=project.directory,
            env=project.child_environment(env),
            text=True,
            capture_output=True,
            timeout=TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise ToolError(f"{ENTRY} did not finish within {TIMEOUT} s") from None


def reason(text: str) -> str:
    """The line that says why the synthesis failed: its last ``ecs-cd:`` line with the problems
    listed under it (``; `` between them), else the last exception line, else the last line."""
    lines = [line.rstrip() for line in text.splitlines() if line.strip()]
    own = [i for i, line in enumerate(lines) if line.startswith("ecs-cd:")]
    if own:
        problems = [line.strip() for line in lines[own[-1] + 1 :] if line[:1].isspace()]
        return _one_line(" ".join([_FAILED.sub("", lines[own[-1]]), "; ".join(problems)]))
    raised = [line for line in lines if _EXCEPTION.match(line)]
    if raised:
        return _one_line(raised[-1])
    return _one_line(lines[-1]) if lines else "no output"


def _one_line(text: str, limit: int = 400) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def synthesize(
    project: Project, outdir: Path, env: Mapping[str, str], *, head: str, log: str, diff: bool = False
) -> None:
    """Synthesize, or stop before Terraform runs: ``DeployNotStarted`` saying that ``head``'s
    synthesis failed and why in one line, the whole output kept in ``outdir/log`` (named in it).
    ``diff``: nothing was planned (a deploy: nothing was applied)."""
    from ecs_cd.release.cdktf_output import write_log

    nothing = "nothing was planned" if diff else "nothing was applied"
    try:
        done = run(project, outdir, env)
    except ToolError as exc:
        raise DeployNotStarted(f"{exc}; {nothing}") from None
    if done.returncode == 0:
        return
    output = done.stdout + done.stderr
    written = write_log(outdir, output.splitlines(), name=log)
    kept = f" (its output: {written})" if written else ""
    details: dict[str, object] = {"log": str(written) if written else None}
    if not diff:
        details.update({"terraform_ran": False, "nothing_applied": True, "lock_waits": []})
    raise DeployNotStarted(
        f"{head} stopped before Terraform ran, synthesis failed ({ENTRY} exited with {done.returncode}): "
        f"{reason(output)}; {nothing}{kept}",
        details=details,
    )
