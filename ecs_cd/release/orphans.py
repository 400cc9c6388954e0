"""Resources AWS has and a stack's Terraform state lacks, found from what the synthesized stack
would create (issue 26), each with an import command that works as printed.

A killed apply leaves such resources behind: AWS created them, the state never heard of them,
and the next apply fails on the first one that collides ("already exists", or
``InvalidPermission.Duplicate`` for a security group rule). Naming only the resources whose
create errors said so does not converge: the next apply meets the next one. So every resource
of ``cdktf.out/stacks/<stack>/cdk.tf.json`` that is not in the stack's state is looked up in
AWS by what identifies it there, as written in the JSON:

- names are literal (log group, role, cluster, target group, load balancer…);
- references are resolved through the state, else through the same lookup of the resource
  they name (a rule's security group is found by the group's name and VPC, then the rule by
  group id, direction, protocol, ports and cidr, prefix list or referenced group);
- what the import needs that the name is not (``sg-…``, ``sgr-…``, an ARN) is read from AWS.

Only what is known is claimed: a resource whose identity cannot be resolved, or whose type has
no lookup here, is reported as not checked, never as absent. Types whose create cannot collide
(a task definition registers a new revision; a null_resource is not in AWS) are not looked up.
"""

from __future__ import annotations

import json
import shlex
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ecs_cd.release.aws import Aws
from ecs_cd.release.cdktf_output import AlreadyExists
from ecs_cd.release.errors import DeployFailed, ReleaseError
from ecs_cd.release.orphan_lookups import revoke_command, stray_default_egress
from ecs_cd.release.orphan_stack import Absent, Found, ScanFailed, Stack, Unresolved
from ecs_cd.release.run_result import RunResult
from ecs_cd.release.terraform_cli import OWN_SESSION, Terraform

STATE_PULL_SECONDS = 120.0

# Created again without colliding with what a killed apply left, or not in AWS at all.
NEVER_COLLIDES = frozenset(
    {
        "null_resource",
        "aws_ecs_task_definition",  # each apply registers a new revision
        "aws_ecs_cluster_capacity_providers",  # a setting of the cluster, put again as a whole
        "aws_wafv2_web_acl_association",  # associating again replaces the association
    }
)

LABELS = {
    "aws_cloudwatch_log_group": "CloudWatch Logs Log Group",
    "aws_ecs_cluster": "ECS Cluster",
    "aws_ecs_service": "ECS Service",
    "aws_ecs_capacity_provider": "ECS Capacity Provider",
    "aws_iam_role": "IAM Role",
    "aws_iam_role_policy": "IAM Role Policy",
    "aws_iam_instance_profile": "IAM Instance Profile",
    "aws_security_group": "Security Group",
    "aws_vpc_security_group_egress_rule": "VPC Security Group Egress Rule",
    "aws_vpc_security_group_ingress_rule": "VPC Security Group Ingress Rule",
    "aws_lb": "ELBv2 Load Balancer",
    "aws_lb_target_group": "ELBv2 Target Group",
    "aws_lb_listener": "ELBv2 Listener",
    "aws_lb_listener_rule": "ELBv2 Listener Rule",
    "aws_appautoscaling_target": "Application Auto Scaling Target",
    "aws_appautoscaling_policy": "Application Auto Scaling Policy",
    "aws_autoscaling_group": "Auto Scaling Group",
    "aws_launch_template": "EC2 Launch Template",
    "aws_service_discovery_http_namespace": "Service Discovery HTTP Namespace",
}


@dataclass(frozen=True)
class Orphan:
    stack: str
    address: str
    name: str
    import_id: str
    # A security group's: AWS's allow-all egress rules (sgr ids) the stack does not declare, and
    # the command that revokes them (the provider revokes them only right after it creates the group).
    default_egress: tuple[str, ...] = ()
    revoke: str = ""

    @property
    def what(self) -> str:
        return LABELS.get(self.address.partition(".")[0], self.address.partition(".")[0])

    def import_command(self, stacks_dir: Path) -> str:
        where = shlex.quote(str(stacks_dir / self.stack))
        return f"terraform -chdir={where} import {shlex.quote(self.address)} {shlex.quote(self.import_id)}"

    def as_dict(self, stacks_dir: Path) -> dict[str, Any]:
        revoke = {"default_egress": list(self.default_egress), "revoke": self.revoke} if self.revoke else {}
        return {
            "stack": self.stack,
            "address": self.address,
            "what": self.what,
            "name": self.name,
            "id": self.import_id,
            "import": self.import_command(stacks_dir),
            **revoke,
        }


@dataclass
class Scan:
    """What one stack's scan found: orphans, and what it could not check (address: why)."""

    orphans: list[Orphan] = field(default_factory=list)
    unchecked: dict[str, str] = field(default_factory=dict)


def scan(
    stack_name: str, document: Mapping[str, Any], state: Mapping[str, Mapping[str, Any]], aws: Aws
) -> Scan:
    """Every resource of the stack's JSON absent from its state that AWS has (AwsFailure when AWS
    cannot be asked)."""
    stack = Stack(document, state, aws)
    found = Scan()
    for address in stack.resources:
        kind = address.partition(".")[0]
        if address in state or kind in NEVER_COLLIDES:
            continue
        try:
            hit = stack.lookup(address)
        except Absent:
            continue
        except Unresolved as exc:
            found.unchecked[address] = str(exc)
            continue
        if hit is not None:
            found.orphans.append(_orphan(stack, stack_name, address, hit))
    return found


def _orphan(stack: Stack, stack_name: str, address: str, hit: Found) -> Orphan:
    """The orphan; for a security group, with AWS's default egress rules left in it to revoke."""
    if address.partition(".")[0] != "aws_security_group":
        return Orphan(stack_name, address, hit.name, hit.import_id)
    stray = stray_default_egress(stack, address, hit.import_id)
    revoke = revoke_command(stack.aws, hit.import_id, stray) if stray else ""
    return Orphan(stack_name, address, hit.name, hit.import_id, stray, revoke)


def read_stack(
    stack_dir: Path, terraform: str, env: Mapping[str, str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the synthesized JSON, {address: attributes} of the managed resources and data sources in
    the state) of one stack; ScanFailed when either cannot be read."""
    try:
        document = json.loads((stack_dir / "cdk.tf.json").read_text())
    except (OSError, ValueError) as exc:
        raise ScanFailed(f"cannot read {stack_dir / 'cdk.tf.json'}: {exc}") from None
    try:
        pulled = Terraform(terraform, env, signals=OWN_SESSION).state_pull(
            stack_dir, timeout=STATE_PULL_SECONDS
        )
    except OSError as exc:
        raise ScanFailed(f"terraform state pull in {stack_dir}: {exc}") from None
    if pulled.timed_out:
        expired = subprocess.TimeoutExpired([terraform, "state", "pull"], STATE_PULL_SECONDS)
        raise ScanFailed(f"terraform state pull in {stack_dir}: {expired}")
    if pulled.exit_code != 0:
        last = (pulled.errors.strip().splitlines() or ["no output"])[-1]
        raise ScanFailed(f"terraform state pull in {stack_dir} exited with {pulled.exit_code}: {last}")
    return document, state_attributes(pulled.text)


def state_attributes(text: str) -> dict[str, Any]:
    """{address: attributes} of a raw state (`terraform state pull`); {} for no state yet."""
    if not text.strip():
        return {}
    try:
        raw = json.loads(text)
    except ValueError as exc:
        raise ScanFailed(f"terraform state pull printed no JSON state: {exc}") from None
    held: dict[str, Any] = {}
    for resource in raw.get("resources", []):
        instances = resource.get("instances")
        # Terraform persists the state while it applies, listing a resource it is still creating
        # with no instance: that resource is not in the state (a kill then leaves it in AWS only).
        if resource.get("module") or not instances:
            continue
        prefix = "data." if resource.get("mode") == "data" else ""
        held[f"{prefix}{resource['type']}.{resource['name']}"] = instances[0].get("attributes") or {}
    return held


# --- after a failed deploy: the complete list, in the failure's message -----------------------

_SCAN_ERRORS = (ScanFailed, ReleaseError, ClientError, BotoCoreError, KeyError, TypeError, ValueError)


def scan_stacks(
    stacks: Sequence[str], stacks_dir: Path, aws: Callable[[], Aws], terraform: str, env: Mapping[str, str]
) -> Scan:
    """Every stack's orphans and unchecked resources, in one Scan (raises _SCAN_ERRORS)."""
    whole = Scan()
    for stack in stacks:
        document, state = read_stack(stacks_dir / stack, terraform, env)
        found = scan(stack, document, state, aws())
        whole.orphans += found.orphans
        whole.unchecked.update({f"{stack}: {a}": why for a, why in found.unchecked.items()})
    return whole


def _merged(collided: Sequence[AlreadyExists], found: Sequence[Orphan]) -> list[Orphan]:
    """The scan's orphans, and any resource whose create said "already exists" that the scan
    did not find (a type it cannot look up): the provider's error is evidence too."""
    merged = list(found)
    known = {(o.stack, o.address) for o in found}
    for e in collided:
        if (e.stack, e.address) not in known:
            merged.append(Orphan(e.stack, e.address, e.name, e.import_id()))
            known.add((e.stack, e.address))
    return merged


def _listing(orphans: Sequence[Orphan], stacks_dir: Path) -> tuple[str, str]:
    found = "; ".join(f"{o.what} {o.name} ({o.address})" for o in orphans)
    return found, "; ".join(o.import_command(stacks_dir) for o in orphans) + _revoking(orphans)


def _revoking(orphans: Sequence[Orphan]) -> str:
    """What follows the import commands when an orphaned group kept AWS's default egress."""
    return "".join(
        f". {o.what} {o.name} still has the allow-all egress AWS gives a new group "
        f"({', '.join(o.default_egress)}), which the stack does not declare and Terraform removes only "
        f"when it creates the group: revoke {'it' if len(o.default_egress) == 1 else 'them'} too: {o.revoke}"
        for o in orphans
        if o.revoke
    )


def named_completely(
    failed: ReleaseError,
    result: RunResult,
    *,
    head: str,
    aws: Callable[[], Aws],
    terraform: str,
    env: Mapping[str, str],
) -> ReleaseError:
    """``failed`` with every resource AWS has and the state lacks named, with its import command,
    when the apply met "already exists" or was killed mid-way; ``failed`` as it is otherwise.
    ``head`` is what ran, as the failure names it ("deploy ENV")."""
    collided = [e for e in result.output.already_exists if e.address]
    unfinished = bool(failed.details.get("unfinished"))
    if not isinstance(failed, DeployFailed) or not (collided or result.output.collided or unfinished):
        return failed
    try:
        whole = scan_stacks(result.stacks_with(frozenset({"apply"})), result.stacks_dir, aws, terraform, env)
    except _SCAN_ERRORS as exc:
        why = str(exc) or type(exc).__name__
        failed.details["orphan_scan"] = f"not done: {why}"
        if collided:  # the message names what the errors named: say that it may not be all
            return DeployFailed(
                f"{failed} (more may be missing from the state: looking them up failed: {why})",
                details=failed.details,
            )
        return failed
    orphans = _merged(collided, whole.orphans)
    details = {**failed.details, "already_exists": [o.as_dict(result.stacks_dir) for o in orphans]}
    if whole.unchecked:
        details["not_checked"] = whole.unchecked
    unchecked = (
        f" ({len(whole.unchecked)} resources could not be checked: see not_checked)"
        if whole.unchecked
        else ""
    )
    if orphans and (collided or result.output.collided) and not unfinished:
        return DeployFailed(_collided_message(head, result, orphans) + unchecked, details=details)
    if not orphans and not unfinished:  # what collided is not this stack's to import
        return DeployFailed(f"{failed}{unchecked}", details=details)
    if not orphans:
        checked = " of what could be checked" if whole.unchecked else ""
        return DeployFailed(
            f"{failed}; AWS has nothing of the stack that the state lacks{checked}{unchecked}",
            details=details,
        )
    found, commands = _listing(orphans, result.stacks_dir)
    return DeployFailed(
        f"{failed}; in AWS but not in the Terraform state: {found}; import them before deploying again"
        f"{unchecked}: {commands}",
        details=details,
    )


def _collided_message(head: str, result: RunResult, orphans: Sequence[Orphan]) -> str:
    applied = result.stacks_with(frozenset({"apply", "destroy", "import"}))
    ran = f" (apply started for {', '.join(applied)})" if applied else ""
    found, commands = _listing(orphans, result.stacks_dir)
    it, they = ("it", "it is") if len(orphans) == 1 else ("them", "they are")
    return (
        f"{head}: already in AWS but not in the Terraform state: {found}. An earlier apply that was killed, "
        f"or another stack, created {it}; Terraform may have applied part of the plan before failing{ran}. "
        f"If {they} this stack's, import {it} into the state, then deploy again: {commands}"
    )
