"""The adoption guard: a resource a stack adopted must never be replaced or destroyed.

A stack adopts a resource that already runs (made by hand, or by another Terraform
configuration) with a Terraform ``import`` block, which cdktf writes at the top level of the
stack's cdk.tf.json: ``"import": [{"to": "aws_ecs_service.api_…", "id": "demo-dev/api"}]``. The
blocks stay after the import (Terraform does not import a resource the state already has), so
every deploy of that stack is guarded:

- ``adopted(stack_document)``: the addresses the stack's import blocks target, with their ids;
- ``refusals(plan_document, adopted)``: from ``terraform show -json PLAN``, each adopted address
  whose change deletes it (destroy, or replace: delete then create, or create then delete), with
  the attributes that force it (``replace_paths``), Terraform's ``action_reason``, and a hint per
  known trap (a cluster named by its name, the other launch type, a name the live resource does
  not have, …);
- ``refusal_message(env, refusals)``: one line per refusal, then one saying nothing was applied.

`ecs-release deploy` plans such a stack to a file, checks it here, and applies that very plan
only when nothing is refused; `ecs-release diff` shows the refusals. Standard library only: the
direct runner (ecs_cd/release/terraform_run.py) imports it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

Action = Literal["replace", "destroy"]

GUARD_PLAN = "ecs-release-guard.tfplan"  # the plan checked, in the stack's directory while it is

NAMES = "set the name in [environments.<env>.services.<service>.names] to the live one"

# (resource type, top-level attribute) -> what to do about it
HINTS: Mapping[tuple[str, str], str] = {
    ("aws_ecs_service", "cluster"): "give the cluster's ARN, not its name: a name forces replacement",
    ("aws_ecs_service", "launch_type"): (
        "the live service uses the other of launch type and capacity provider strategy: "
        "set the service's compute to match it"
    ),
    ("aws_ecs_service", "capacity_provider_strategy"): (
        "the live service uses the other of launch type and capacity provider strategy (or other "
        "providers): set the service's compute to match it"
    ),
    ("aws_ecs_service", "deployment_controller"): (
        "the live service has another deployment controller, which cannot change in place: keep the live one"
    ),
    ("aws_ecs_service", "name"): NAMES,
    ("aws_ecs_cluster", "name"): NAMES,
    ("aws_lb_target_group", "name"): NAMES,
    ("aws_lb_target_group", "port"): "the live target group has another port: set the service's to match",
    ("aws_lb_target_group", "protocol"): "the live target group has another protocol: set it to match",
    ("aws_lb_target_group", "vpc_id"): "the live target group is in another VPC: use its network",
    ("aws_lb_target_group", "target_type"): (
        "the live target group has another target type (ip for awsvpc tasks, instance for bridge): match it"
    ),
    ("aws_iam_role", "name"): NAMES,
    ("aws_iam_role", "path"): "the live role has another path: keep the live one",
    ("aws_cloudwatch_log_group", "name"): NAMES,
    ("aws_security_group", "name"): NAMES,
    ("aws_security_group", "vpc_id"): "the live security group is in another VPC: use its network",
    ("aws_security_group", "description"): (
        "a security group's description cannot change in place: give the live one"
    ),
}

# Terraform's action_reason values, in words (others are shown as Terraform writes them).
REASONS: Mapping[str, str] = {
    "replace_because_cannot_update": "an attribute cannot change in place",
    "replace_because_tainted": "it is tainted in the state",
    "replace_by_request": "it was asked for (-replace)",
    "replace_by_triggers": "replace_triggered_by asks for it",
    "delete_because_no_resource_config": "the configuration no longer has it",
    "delete_because_no_module": "the configuration no longer has its module",
    "delete_because_wrong_repetition": "its count or for_each changed",
    "delete_because_count_index": "its count index is gone",
    "delete_because_each_key": "its for_each key is gone",
    "delete_because_no_move_target": "its moved block has no target",
}


@dataclass(frozen=True)
class Refusal:
    """An adopted resource the plan would replace or destroy, and why."""

    address: str
    import_id: str
    action: Action
    attributes: tuple[str, ...] = ()  # the paths that force the replacement, rendered
    reason: str | None = None  # Terraform's action_reason, as it writes it
    hints: tuple[str, ...] = ()  # what to do, one per attribute with a known trap

    def text(self) -> str:
        """``the plan would replace ADDRESS (adopted from ID) because of ATTR: HINT``."""
        head = f"the plan would {self.action} {self.address} (adopted from {self.import_id})"
        why = [_attribute_text(self.address, a) for a in self.attributes]
        if why:
            return f"{head} because of {'; '.join(why)}"
        if self.reason:
            return f"{head}: {REASONS.get(self.reason, self.reason)}"
        return head

    def to_json(self) -> dict[str, Any]:
        record: dict[str, Any] = {
            "address": self.address,
            "import_id": self.import_id,
            "action": self.action,
            "attributes": list(self.attributes),
            "hints": list(self.hints),
        }
        if self.reason is not None:
            record["reason"] = self.reason
        return record

    @classmethod
    def from_json(cls, record: object) -> Refusal:
        """A record ``to_json`` wrote; ValueError for anything else."""
        if not isinstance(record, dict):
            raise ValueError(f"not a refusal: {record!r}")
        strings = all(isinstance(record.get(k), str) for k in ("address", "import_id", "action"))
        lists = all(_strings(record.get(k, [])) for k in ("attributes", "hints"))
        reason = record.get("reason")
        if not strings or not lists or record["action"] not in ("replace", "destroy"):
            raise ValueError(f"not a refusal: {record!r}")
        if reason is not None and not isinstance(reason, str):
            raise ValueError(f"not a refusal: {record!r}")
        action: Action = "replace" if record["action"] == "replace" else "destroy"
        return cls(
            record["address"],
            record["import_id"],
            action,
            tuple(record.get("attributes", [])),
            reason,
            tuple(record.get("hints", [])),
        )


def _strings(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _attribute_text(address: str, attribute: str) -> str:
    hint = hint_for(resource_type(address), attribute)
    return f"{attribute}: {hint}" if hint else attribute


def resource_type(address: str) -> str:
    """``aws_ecs_service`` of ``aws_ecs_service.api_…`` (a module's resource included)."""
    parts = address.split(".")
    while parts and parts[0] in ("module", "data"):
        parts = parts[2:] if parts[0] == "module" else parts[1:]
    return parts[0] if parts else address


def hint_for(kind: str, attribute: str) -> str | None:
    """The hint for a path rendered by ``render_path`` (its top-level attribute decides)."""
    top = attribute.split("[", 1)[0].split(".", 1)[0]
    return HINTS.get((kind, top))


def adopted(stack_document: Mapping[str, Any]) -> dict[str, str]:
    """Address -> import id, from the top-level ``import`` list of a stack's cdk.tf.json. An
    import block without a literal id still adopts its address (its id is shown as "?")."""
    blocks = stack_document.get("import", [])
    if isinstance(blocks, Mapping):  # one block, not in a list
        blocks = [blocks]
    if not isinstance(blocks, list):
        raise ValueError(f"the stack's import blocks are not a list: {blocks!r}")
    found: dict[str, str] = {}
    for block in blocks:
        if isinstance(block, Mapping) and isinstance(block.get("to"), str):
            identity = block.get("id")
            found[block["to"]] = identity if isinstance(identity, str) else "?"
    return found


def render_path(path: Sequence[object]) -> str:
    """A path of ``replace_paths`` as it is written: ``network_configuration[0].subnets``."""
    text = ""
    for step in path:
        if isinstance(step, int) and not isinstance(step, bool):
            text += f"[{step}]"
        elif isinstance(step, str) and step.isidentifier():
            text += f".{step}" if text else step
        else:
            text += f"[{step!r}]" if text else str(step)
    return text


def refusals(plan_document: Mapping[str, Any], adopted: Mapping[str, str]) -> list[Refusal]:
    """Each adopted address whose planned change deletes it, in the plan's order."""
    found: list[Refusal] = []
    for rc in plan_document.get("resource_changes", []) or []:
        if not isinstance(rc, Mapping) or rc.get("address") not in adopted:
            continue
        change = rc.get("change") or {}
        actions = list(change.get("actions") or [])
        if "delete" not in actions:
            continue
        address = str(rc["address"])
        paths = change.get("replace_paths") or []
        attributes = tuple(dict.fromkeys(render_path(p) for p in paths if isinstance(p, list)))
        hints = tuple(
            dict.fromkeys(h for a in attributes if (h := hint_for(resource_type(address), a)) is not None)
        )
        reason = rc.get("action_reason")
        found.append(
            Refusal(
                address=address,
                import_id=adopted[address],
                action="replace" if "create" in actions else "destroy",
                attributes=attributes,
                reason=reason if isinstance(reason, str) else None,
                hints=hints,
            )
        )
    return found


def refusal_message(env: str, refusals: Sequence[Refusal], *, outcome: str = "nothing was applied") -> str:
    """One line per refusal, then what became of the deploy (``outcome``)."""
    lines = [f"{env}: refusing to apply: {r.text()}" for r in refusals]
    lines.append(
        f"{env}: {outcome}: an adopted resource is changed in place or not at all; make the "
        f"configuration match the live resource, then `ecs-release diff {env}` shows the plan"
    )
    return "\n".join(lines)


# Terraform's summary of a plan: "Plan: 2 to import, 0 to add, 1 to change, 0 to destroy." (a
# replacement counts once to add and once to destroy), or "No changes." when there is nothing to do.
_SUMMARY = re.compile(r"^Plan: .*?\b(\d+) to destroy\b", re.MULTILINE)
_NO_CHANGES = re.compile(r"^No changes\.", re.MULTILINE)
_COLOR = re.compile(r"\x1b\[[0-9;]*m")  # a terminal's plan is in colour


def deletes_nothing(plan_output: str) -> bool:
    """The plan's own summary counts no resource to destroy, so it neither destroys nor replaces
    anything, adopted or not. False when the summary is not found: the caller reads the plan."""
    text = _COLOR.sub("", plan_output)
    if _NO_CHANGES.search(text):
        return True
    found = _SUMMARY.search(text)
    return found is not None and found.group(1) == "0"
