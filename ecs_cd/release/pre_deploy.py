"""The pre-deploy gate of `ecs-release deploy`: a one-off task (a database migration) runs on a
service's new revision, and the service rolls to that revision only if the task exits 0.

Per gated service, after synthesis and before `cdktf deploy`:

1. ``terraform apply -target=…`` of what the service resource refers to (its task definition,
   cluster, security group, target group…), never the service itself: the new revision is
   registered and everything its task needs exists, and no running task is touched.
2. ``terraform plan -target=<service>``: the cluster, network and capacity this deploy gives the
   service, and (from the state) the revision it will run.
3. If the service does not run that revision yet: RunTask of the revision with the configured
   command, in that network and capacity, followed until it stops. Exit 0 lets the deploy go on;
   anything else stops it, and the service stays on the revision it runs.

Nothing here reads files or the environment: the command line hands in the synthesized stack,
Terraform, the tool environment and the AWS session.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ecs_cd.release import signals
from ecs_cd.release.aws import Aws
from ecs_cd.release.errors import DeployFailed, Interrupted
from ecs_cd.release.one_off import OneOff, start, wait
from ecs_cd.release.terraform_cli import OWN_SESSION, Result, SignalPolicy, Terraform

PLAN_FILE = "ecs-release-pre-deploy.tfplan"
# RunTask's startedBy: how a pre-deploy task is told from a service's and `ecs-release run`'s.
STARTED_BY = "ecs-release pre-deploy"

# A reference to another resource in a Terraform expression ("${aws_x.name.attr}"); data
# sources are read by every plan and need no apply.
_REFERENCE = re.compile(r"(?<![\w.])((?:aws|null)_[a-z0-9_]+\.[A-Za-z0-9_-]+)")


@dataclass(frozen=True)
class Addresses:
    """The Terraform addresses of a service's ECS service and task definition in its stack."""

    service: str
    task_definition: str
    # What the service resource refers to, itself excluded: the targets of step 1.
    prerequisites: tuple[str, ...]


def addresses(stack_json: Mapping[str, Any], service: str, services: Sequence[str]) -> Addresses:
    """Find ``service``'s resources in a synthesized stack by the construct id the stacks give
    them (the service's name first); ``services``: every service of the stack, so that a
    service "api-v2" is not taken for "api"."""
    owners = sorted(services, key=len, reverse=True)
    resources = stack_json.get("resource", {})

    def owned(kind: str) -> list[str]:
        return [
            f"{kind}.{name}"
            for name in resources.get(kind, {})
            if next((s for s in owners if name.startswith(f"{s}_")), None) == service
        ]

    found_service, found_definition = owned("aws_ecs_service"), owned("aws_ecs_task_definition")
    if len(found_service) != 1 or len(found_definition) != 1:
        raise DeployFailed(
            f"{service}: the synthesized stack has {len(found_service)} ECS service(s) and "
            f"{len(found_definition)} task definition(s) of it, not one each: nothing was applied"
        )
    kind, name = found_service[0].split(".", 1)
    block = resources[kind][name]
    referred = set(_REFERENCE.findall(json.dumps({k: v for k, v in block.items() if k != "depends_on"})))
    referred |= {str(d) for d in block.get("depends_on", []) if not str(d).startswith("data.")}
    referred.discard(found_service[0])
    if found_definition[0] not in referred:
        raise DeployFailed(
            f"{service}: its ECS service does not refer to its task definition: nothing was applied"
        )
    return Addresses(found_service[0], found_definition[0], tuple(sorted(referred)))


def run_request_service(plan: Mapping[str, Any], where: Addresses) -> dict[str, Any]:
    """The service as RunTask needs it (DescribeServices' shape: ``clusterArn``,
    ``taskDefinition``, ``launchType`` or ``capacityProviderStrategy``, ``networkConfiguration``),
    from the plan's values of the service and the state's revision of its task definition."""
    after: dict[str, Any] | None = None
    for change in plan.get("resource_changes", []):
        if change.get("address") == where.service:
            after = change.get("change", {}).get("after")
    if not after:
        raise DeployFailed(f"the plan has no values for {where.service}: nothing was rolled out")
    arn = None
    state = plan.get("prior_state", {}).get("values", {}).get("root_module", {})
    for resource in state.get("resources", []):
        if resource.get("address") == where.task_definition:
            arn = resource.get("values", {}).get("arn")
    if not arn or not after.get("cluster"):
        raise DeployFailed(
            f"{where.task_definition} or the cluster of {where.service} is not in the state after "
            "the pre-deploy apply: nothing was rolled out"
        )
    service: dict[str, Any] = {"clusterArn": after["cluster"], "taskDefinition": arn}
    strategy = after.get("capacity_provider_strategy") or []
    if strategy:
        service["capacityProviderStrategy"] = [
            {
                "capacityProvider": s["capacity_provider"],
                "weight": s.get("weight", 0),
                "base": s.get("base", 0),
            }
            for s in strategy
        ]
    elif after.get("launch_type"):
        service["launchType"] = after["launch_type"]
    network = after.get("network_configuration") or []
    if network:
        awsvpc: dict[str, Any] = {
            "subnets": sorted(network[0].get("subnets") or []),
            "securityGroups": sorted(network[0].get("security_groups") or []),
            "assignPublicIp": "ENABLED" if network[0].get("assign_public_ip") else "DISABLED",
        }
        service["networkConfiguration"] = {"awsvpcConfiguration": awsvpc}
    return service


@dataclass
class TerraformRun:
    returncode: int
    output: str
    applied: bool  # an apply printed "Apply complete!"


# The gate's Terraform runs in a session of its own: a SIGINT or SIGTERM to ecs-release is passed
# to it as SIGINT, its graceful stop (it writes its state and releases its lock).
GATE_SIGNALS = SignalPolicy(new_session=True, forwarding=signals.forwarding)


def terraform(
    terraform_binary: str,
    args: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    show: Callable[[str], None] | None,
    what: str,
) -> TerraformRun:
    """Run one Terraform command as the gate does (GATE_SIGNALS); ``show`` gets each output line
    (with its line break). Once a forwarded signal's Terraform has ended, ``Interrupted`` says so."""
    ran = Terraform(terraform_binary, env, signals=GATE_SIGNALS).run(cwd, args, show)
    return _outcome(ran, what)


def _outcome(ran: Result, what: str) -> TerraformRun:
    output = ran.text
    applied = "Apply complete!" in output
    if ran.signal_number is not None:
        name = signals.name(ran.signal_number)
        outcome = (
            "its apply finished and its state was written"
            if applied
            else "Terraform stopped gracefully (what it had applied is in its state)"
        )
        raise Interrupted(
            f"interrupted by {name} during the pre-deploy step ({what}): {outcome}; the service was "
            "not rolled out",
            signal_number=ran.signal_number,
            details={"signal": name, "nothing_applied": not applied and ran.command != "apply"},
        )
    return TerraformRun(ran.exit_code, output, applied)


def summary_of_apply(output: str) -> str:
    """Terraform's "Resources: N added, M changed, K destroyed." of an apply, or ""."""
    found = re.search(r"Resources: [0-9]+ added, [0-9]+ changed, [0-9]+ destroyed", output)
    return found.group(0) if found else ""


_APPLYING = re.compile(r": (Creating|Modifying|Destroying)\.\.\.")


def _failed(
    stack: str, what: str, ran: TerraformRun, show: Callable[[str], None], applied: str | None
) -> DeployFailed:
    """``applied``: what this gate's targeted apply did, if it ran before the failing command."""
    show(ran.output[-4000:])
    if what == "apply":
        outcome = (
            "Terraform may have applied part of these targets"
            if _APPLYING.search(ran.output)
            else "this step applied nothing"
        )
    elif applied is not None:
        outcome = f"its targeted apply had registered the new revision ({applied or 'no change'})"
    else:
        outcome = "this step applied nothing"
    return DeployFailed(
        f"the pre-deploy step's terraform {what} of stack {stack} failed (its output above): {outcome}; "
        "the service was not rolled out"
    )


@dataclass
class GateOutcome:
    service: str
    revision: str
    # False when the service already runs the revision: nothing to gate.
    ran: bool
    applied: str = ""  # Terraform's summary of the targeted apply
    one_off: OneOff | None = None

    @property
    def passed(self) -> bool:
        return not self.ran or (
            self.one_off is not None and self.one_off.exit_code == 0 and not self.one_off.timed_out
        )

    def outcome(self) -> str:
        task = self.one_off
        if task is None:
            return f"{self.revision} already runs: no pre-deploy task"
        if task.timed_out:
            return f"still {task.last_status} after the timeout: it goes on in ECS ({task.task_arn})"
        if task.exit_code is None:
            return f"stopped without an exit code: {task.stopped_reason} {task.container_reason}".rstrip()
        return f"exited with {task.exit_code}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "revision": self.revision,
            "ran": self.ran,
            "passed": self.passed,
            "applied": self.applied,
            "outcome": self.outcome(),
            **({"task": self.one_off.as_dict()} if self.one_off is not None else {}),
        }


@dataclass(frozen=True)
class Gate:
    """What the gate of one service needs; built by the command line from the settings."""

    service: str
    command: tuple[str, ...]
    container: str
    timeout_seconds: float
    stack: str
    stack_dir: Path
    # Every service of the stack (to tell "api" from "api-v2" by construct id).
    stack_services: tuple[str, ...]


def run_gate(
    gate: Gate,
    *,
    terraform_binary: str,
    env: Mapping[str, str],
    aws: Aws,
    running_revision: Callable[[], str | None],
    poll: float,
    say: Callable[[str], None],
    show: Callable[[str], None],
    log_lines: Callable[[OneOff], list[str]],
    applying: Callable[[], None] = lambda: None,
) -> GateOutcome:
    """Register the service's new revision without rolling it out, then run the pre-deploy task
    on it unless the service already runs it (see the module's docstring)."""
    stack_json = json.loads((gate.stack_dir / "cdk.tf.json").read_text())
    where = addresses(stack_json, gate.service, gate.stack_services)

    applied: list[str] = []  # Terraform's summary, once the targeted apply succeeded

    cli = Terraform(terraform_binary, env, signals=GATE_SIGNALS)

    def tf(what: str, result: Result) -> TerraformRun:
        ran = _outcome(result, f"terraform {what} of {gate.stack}")
        if ran.returncode != 0:
            raise _failed(gate.stack, what, ran, show, applied[0] if applied else None)
        return ran

    tf("init", cli.init(gate.stack_dir))
    say(
        f"{gate.service}: pre-deploy: terraform apply of what the service needs "
        f"({len(where.prerequisites)} targets, its task definition among them), not the service itself"
    )
    applying()
    applied.append(
        summary_of_apply(
            tf("apply", cli.apply(gate.stack_dir, targets=where.prerequisites, on_line=show)).output
        )
    )
    tf("plan", cli.plan(gate.stack_dir, PLAN_FILE, targets=[where.service]))
    # Reading the plan: a signal stops ecs-release at once (its Terraform is ended with it).
    shown = replace(cli, signals=OWN_SESSION).show_json(gate.stack_dir, PLAN_FILE)
    if not shown.ok:
        raise DeployFailed(
            f"terraform show of the pre-deploy plan of {gate.stack} failed: {shown.errors.strip()[-300:]}"
        )
    service = run_request_service(shown.document, where)
    outcome = GateOutcome(gate.service, str(service["taskDefinition"]), ran=False, applied=applied[0])
    if running_revision() == outcome.revision:
        say(f"{gate.service}: pre-deploy: the service already runs {outcome.revision}: no pre-deploy task")
        return outcome
    outcome.ran = True
    task = start(aws, service, gate.container, gate.command, started_by=STARTED_BY)
    outcome.one_off = task
    say(
        f"{gate.service}: pre-deploy task {task.task_arn} on {task.task_definition}: {' '.join(gate.command)}"
    )
    wait(aws, str(service["clusterArn"]), task, timeout=gate.timeout_seconds, poll=poll, progress=say)
    task.lines = log_lines(task)
    for line in task.lines:
        say(f"  {line}")
    return outcome
