"""Running the pinned cdktf CLI (through npx) and Terraform for this project.

``python -m ecs_cd.toolchain.cdktf_cli synth|diff|deploy [STACK…] [cdktf options]`` is what
``make synth``, ``make diff ENV=…`` and ``make deploy ENV=…`` run (see ``main``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from ecs_cd.toolchain.errors import ToolError
from ecs_cd.toolchain.terminal import wants_color
from ecs_cd.toolchain.terraform_offline import TerraformSetup, terraform_setup

# The checkout these files are in (make synth/diff/deploy, the demo, the benchmarks). ecs-release
# names its project itself (ecs_cd/release/project.py) and passes it as ``project``.
PROJECT_DIR = Path(__file__).resolve().parents[2]
CACHE_DIR = PROJECT_DIR / ".cache"
CDKTF_CLI = "cdktf-cli@0.21.0"  # package.json's pin


GOGC = "400"


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
    # Terraform and the AWS provider are Go programs; the provider (started three or four times
    # per Terraform command) spends about a third of its CPU collecting garbage at Go's default
    # GOGC=100. 400 cuts a plan's CPU by about 30% for about 140 MB more at the provider's peak
    # (`python -m bench gogc` measures both). A GOGC the user set is kept.
    env.setdefault("GOGC", GOGC)
    if emulator_endpoint is not None:
        env["ECS_CD_EMULATOR_ENDPOINT"] = emulator_endpoint
    if extra:
        env.update(extra)
    return env


def lock_timeout_environment(seconds: int) -> dict[str, str]:
    """Make every Terraform command cdktf runs wait ``seconds`` for the state lock."""
    flag = f"-lock-timeout={seconds}s"
    return {f"TF_CLI_ARGS_{command}": flag for command in ("plan", "apply", "destroy", "refresh")}


def _npx(project: Path = PROJECT_DIR) -> str:
    npx = shutil.which("npx")
    if npx is None:
        raise ToolError("npx was not found: install Node.js >= 20 (it includes npm and npx)")
    if not (project / "node_modules" / ".bin" / "cdktf").exists():
        if project == PROJECT_DIR:
            raise ToolError("the cdktf CLI is not installed: run `npm ci` (make demo and make test do)")
        raise ToolError(f"the cdktf CLI is not installed in {project}: run `npm install {CDKTF_CLI}` there")
    return npx


def cdktf_command(args: Sequence[str], project: Path = PROJECT_DIR) -> list[str]:
    """The argv of ``npx cdktf ARGS`` with ``project``'s pinned CLI (run it in ``project``)."""
    return [_npx(project), "--no-install", "cdktf", *args]


def cdktf(
    args: Sequence[str],
    *,
    env: Mapping[str, str],
    capture: bool = True,
    timeout: float = 900,
    project: Path = PROJECT_DIR,
) -> subprocess.CompletedProcess[str]:
    """Run ``npx cdktf ARGS`` in ``project``; never raises for a non-zero exit."""
    return subprocess.run(
        cdktf_command(args, project),
        cwd=project,
        env=dict(env),
        text=True,
        capture_output=capture,
        timeout=timeout,
        check=False,
    )


def deploy_command(
    stacks: str | Sequence[str],
    *,
    setup: TerraformSetup,
    outdir: Path,
    extra: Sequence[str] = (),
    color: bool = False,
    project: Path = PROJECT_DIR,
) -> list[str]:
    """The argv of ``npx cdktf deploy STACK… --auto-approve`` into ``outdir`` (plus the offline flags),
    with ``project``'s CLI (run it in ``project``).

    ``color`` (default off: the output is captured or logged) lets Terraform colour its output;
    without it cdktf passes ``-no-color`` to every Terraform command it runs."""
    names = [stacks] if isinstance(stacks, str) else list(stacks)
    return cdktf_command(
        [
            "deploy",
            *names,
            "--auto-approve",
            "--output",
            str(outdir),
            *setup.cdktf_deploy_flags,
            *(() if color else ("--no-color",)),
            *extra,
        ],
        project,
    )


def deploy(
    stack: str,
    *,
    setup: TerraformSetup,
    env: Mapping[str, str],
    outdir: Path,
    capture: bool = True,
    color: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run ``cdktf deploy`` (see ``deploy_command``); never raises for a non-zero exit."""
    return subprocess.run(
        deploy_command(stack, setup=setup, outdir=outdir, color=color),
        cwd=PROJECT_DIR,
        env=dict(env),
        text=True,
        capture_output=capture,
        timeout=900,
        check=False,
    )


COMMANDS = ("synth", "diff", "deploy")


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m ecs_cd.toolchain.cdktf_cli synth|diff|deploy [STACK…] [cdktf options]``.

    The cdktf CLI for a person at a terminal, with what this machine needs and nothing set
    by hand: on an offline machine (an AWS provider mirror, see terraform_offline) our
    Terraform CLI configuration, no plugin-cache copy and ``--skip-provider-lock`` for
    diff and deploy; with the registry, cdktf's defaults. Everything after the command goes
    to cdktf unchanged (``deploy dev --auto-approve``). ``deploy`` asks before it applies
    unless told otherwise. Exits with cdktf's exit code.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] not in COMMANDS:
        print(
            f"usage: python -m ecs_cd.toolchain.cdktf_cli {{{'|'.join(COMMANDS)}}}"
            " [STACK...] [cdktf options]",
            file=sys.stderr,
        )
        return 2
    command, rest = args[0], args[1:]
    if command == "deploy" and "--auto-approve" not in rest and not sys.stdin.isatty():
        # cdktf's approval prompt needs a terminal; without one it fails with a stack trace.
        print(
            "error: deploy asks before it applies and needs a terminal; add --auto-approve to skip asking",
            file=sys.stderr,
        )
        return 2
    try:
        setup = TerraformSetup(offline=False) if command == "synth" else terraform_setup(CACHE_DIR)
        env = tool_environment(setup)
        if "CI" not in os.environ:
            del env["CI"]  # a person, not a pipeline: cdktf may ask before it applies
        flags = () if command == "synth" else setup.cdktf_deploy_flags
        # Terraform colours its output unless told not to: not for a pipe, a log or TERM=dumb.
        if command != "synth" and "--no-color" not in rest and not wants_color(sys.stdout):
            flags = (*flags, "--no-color")
        argv_ = cdktf_command([command, *rest, *flags])
    except ToolError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    with subprocess.Popen(argv_, cwd=PROJECT_DIR, env=env) as process:
        while True:
            try:
                return process.wait()
            except KeyboardInterrupt:
                continue  # the CLI got the same Ctrl-C: let it stop Terraform cleanly


if __name__ == "__main__":
    sys.exit(main())
