"""Running the pinned cdktf CLI (through npx) and Terraform for this project."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from devkit.errors import ToolError
from devkit.terraform_offline import TerraformSetup

PROJECT_DIR = Path(__file__).resolve().parent.parent
CACHE_DIR = PROJECT_DIR / ".cache"


def tool_environment(
    setup: TerraformSetup,
    *,
    emulator_endpoint: str | None = None,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment for cdktf/Terraform runs: offline provider config, emulator endpoint."""
    env = dict(os.environ)
    env.update(
        {
            "CHECKPOINT_DISABLE": "1",  # no version check calls home
            "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
            "CI": env.get("CI", "true"),  # no interactive prompts from cdktf
        }
    )
    env.update(setup.environment)
    if emulator_endpoint is not None:
        env["ECS_CD_EMULATOR_ENDPOINT"] = emulator_endpoint
    if extra:
        env.update(extra)
    return env


def lock_timeout_environment(seconds: int) -> dict[str, str]:
    """Make every Terraform command cdktf runs wait ``seconds`` for the state lock."""
    flag = f"-lock-timeout={seconds}s"
    return {f"TF_CLI_ARGS_{command}": flag for command in ("plan", "apply", "destroy", "refresh")}


def _npx() -> str:
    npx = shutil.which("npx")
    if npx is None:
        raise ToolError("npx was not found: install Node.js >= 20 (it includes npm and npx)")
    if not (PROJECT_DIR / "node_modules" / ".bin" / "cdktf").exists():
        raise ToolError("the cdktf CLI is not installed: run `npm ci` (make demo and make test do)")
    return npx


def cdktf(
    args: Sequence[str],
    *,
    env: Mapping[str, str],
    capture: bool = True,
    timeout: float = 900,
) -> subprocess.CompletedProcess[str]:
    """Run ``npx cdktf ARGS`` in the project directory; never raises for a non-zero exit."""
    command = [_npx(), "--no-install", "cdktf", *args]
    return subprocess.run(
        command,
        cwd=PROJECT_DIR,
        env=dict(env),
        text=True,
        capture_output=capture,
        timeout=timeout,
        check=False,
    )


def deploy_command(
    stacks: str | Sequence[str], *, setup: TerraformSetup, outdir: Path, extra: Sequence[str] = ()
) -> list[str]:
    """The argv of ``npx cdktf deploy STACK… --auto-approve`` into ``outdir`` (plus the offline flags)."""
    names = [stacks] if isinstance(stacks, str) else list(stacks)
    return [
        _npx(),
        "--no-install",
        "cdktf",
        "deploy",
        *names,
        "--auto-approve",
        "--output",
        str(outdir),
        *setup.cdktf_deploy_flags,
        *extra,
    ]


def deploy(
    stack: str,
    *,
    setup: TerraformSetup,
    env: Mapping[str, str],
    outdir: Path,
    capture: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run ``cdktf deploy`` (see ``deploy_command``); never raises for a non-zero exit."""
    return subprocess.run(
        deploy_command(stack, setup=setup, outdir=outdir),
        cwd=PROJECT_DIR,
        env=dict(env),
        text=True,
        capture_output=capture,
        timeout=900,
        check=False,
    )
