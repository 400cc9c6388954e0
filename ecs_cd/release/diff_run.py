"""`ecs-release diff ENV`'s work: synthesize, `terraform plan` each stack of the layout, and read
the plans into per-service changes (ecs_cd/release/diff.py) and what the adoption guard would
refuse to apply (ecs_cd/release/plan_guard.py). The command line prints the result."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ecs_cd.release.aws import Aws, caller_account
from ecs_cd.release.errors import DeployFailed, DeployNotStarted
from ecs_cd.release.targets import environment, targets
from stacks.layout import StackLayout

if TYPE_CHECKING:
    from ecs_cd.release.diff import ServiceDiff
    from ecs_cd.release.plan_guard import Refusal
    from ecs_cd.release.runtime import Runtime
    from stacks.settings import EnvironmentSettings

PLAN_FILE = "ecs-release-diff.tfplan"
LOG_NAME = "ecs-release-diff.log"


@dataclass(frozen=True)
class DiffResult:
    """The plan in words: each service's changes, then every other change; and what `deploy` would
    refuse to apply (an adopted resource replaced or destroyed)."""

    services: list[ServiceDiff]
    others: list[str]
    refusals: list[Refusal] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(s.changed for s in self.services) or bool(self.others)


def diff(rt: Runtime, env: str, outdir: Path, only: str | None) -> DiffResult:
    """What `deploy ENV` would change (``only``: that service's changes, and no service's)."""
    from ecs_cd.release.deploy_run import prepare_output
    from ecs_cd.release.diff import name_images, summarize
    from ecs_cd.release.tags import ecr_image

    env_settings = environment(rt.settings, env)
    session = rt.aws(env_settings)  # the account guard, before Terraform reads anything
    if env_settings.aws.account_id is None:
        # Before synthesis and the plan, whose AWS provider retries a refused connection for half
        # a minute before it fails: AWS out of reach is said at once, with every command's exit 3.
        caller_account(session)
    every = [t.service.name for t in targets(rt.settings, env, None)]
    chosen = tuple(t.service.name for t in targets(rt.settings, env, only))
    stacks = StackLayout.of(env_settings).to_deploy(chosen, only=only)
    outdir = prepare_output(outdir)
    tool_env, terraform = _tools(rt, env_settings)
    synthesize(rt, env, outdir, tool_env)
    resource_changes: list[Any] = []
    refused: list[Refusal] = []
    for stack in stacks:
        changes, refusals = plan_stack(rt, env, stack, outdir / "stacks" / stack, terraform, tool_env)
        resource_changes += changes
        refused += refusals
    # Every service's resources are told apart, so that --service leaves out the others' changes.
    jobs = {t.service.name for t in targets(rt.settings, env, None) if t.service.is_job}
    services, others = summarize({"resource_changes": resource_changes}, every, jobs=jobs)
    services = [s for s in services if s.service in chosen]
    sessions: dict[str, Aws] = {}

    def ecr(region: str) -> Aws:
        # The repository's own region (it may be elsewhere), with the environment's role.
        if region not in sessions:
            sessions[region] = rt.aws(env_settings, region)
        return sessions[region]

    name_images(services, lambda repository, image_id: ecr_image(ecr, repository, image_id))
    return DiffResult(services, others, refused)


def _tools(rt: Runtime, env_settings: EnvironmentSettings) -> tuple[dict[str, str], str]:
    from ecs_cd.release.deploy_run import find_terraform
    from ecs_cd.toolchain.cdktf_cli import tool_environment
    from ecs_cd.toolchain.errors import ToolError
    from ecs_cd.toolchain.terraform_offline import terraform_setup

    try:
        setup = terraform_setup(rt.project.cache)
        tool_env = tool_environment(
            setup,
            emulator_endpoint=env_settings.emulator_endpoint,
            extra={"ECS_CD_CONFIG": str(rt.config.resolve())},
        )
        return rt.project.child_environment(tool_env), find_terraform(tool_env)
    except ToolError as exc:
        raise DeployNotStarted(f"{exc}; nothing was planned") from None


def synthesize(rt: Runtime, env: str, outdir: Path, tool_env: dict[str, str]) -> None:
    """`python -m ecs_cd.synth` into ``outdir``; a failure stops the diff before Terraform plans."""
    from ecs_cd.release.synthesis import synthesize as run

    run(rt.project, outdir, tool_env, head=f"diff {env}", log=LOG_NAME, diff=True)


def plan_stack(
    rt: Runtime, env: str, stack: str, directory: Path, terraform: str, tool_env: dict[str, str]
) -> tuple[list[Any], list[Refusal]]:
    """`terraform init` (when needed) and `plan` of one stack, without its lock: the plan's
    resource changes, and what the adoption guard refuses of it. Terraform runs in a session of
    its own: a signal stops ecs-release, and Terraform is ended with it."""
    from ecs_cd.release.deploy_guard import stack_refusals
    from ecs_cd.release.terraform_cli import OWN_SESSION, Terraform

    cli = Terraform(terraform, tool_env, signals=OWN_SESSION)
    for ran in (cli.init, lambda d: cli.plan(d, PLAN_FILE, lock=False)):
        done = ran(directory)
        if not done.ok:
            rt.out.raw(done.text[-4000:])
            raise DeployFailed(
                f"diff {env}: terraform {done.command} of stack {stack} failed (its output above)"
            )
    shown = cli.show_json(directory, PLAN_FILE)
    if not shown.ok:
        rt.out.raw(shown.errors[-4000:])
        raise DeployFailed(f"diff {env}: terraform show of stack {stack} failed (its output above)")
    found = shown.document.get("resource_changes", [])
    return list(found), stack_refusals(directory, shown.document)
