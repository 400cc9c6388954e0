"""Moving an environment's services between its two layouts (one stack, or a stack per service),
as documents: no Terraform runs here (ecs_cd/release/layout_move_run.py runs it).

A service's resources have the same addresses in both layouts (the same construct paths), so a
move is: every managed resource of a ``terraform state pull`` document of the stack that gives
them up (the *source*) whose address the stack that takes them (the *destination*) has, is

- imported into the destination, with an ``import { to = ADDRESS  id = ID }`` block whose id is
  built from the state's attributes (``import_id``: provider 5.x's formats), or created there
  anew when its type cannot be imported (``null_resource``: the redeploy trigger);
- forgotten by the source, with a ``removed { from = ADDRESS  lifecycle { destroy = false } }``
  block (Terraform >= 1.7): it stays in AWS, the source's state no longer has it.

``with_blocks`` writes both into a synthesized stack's cdk.tf.json; ``deletions`` and
``summary`` read the plan of it (``terraform show -json``). Standard library only.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

IdOf = Callable[[Mapping[str, Any]], str]


def _attribute(name: str) -> IdOf:
    def read(attributes: Mapping[str, Any]) -> str:
        return _text(attributes, name)

    return read


def _text(attributes: Mapping[str, Any], name: str) -> str:
    value = attributes.get(name)
    if not isinstance(value, str) or not value:
        raise ValueError(f"the state has no {name}")
    return value


def _service_id(attributes: Mapping[str, Any]) -> str:
    """``CLUSTER_NAME/SERVICE_NAME``: the state's ``cluster`` is the cluster's ARN (or its name)."""
    cluster = _text(attributes, "cluster").rsplit("/", 1)[-1]
    return f"{cluster}/{_text(attributes, 'name')}"


def _scalable_target_id(attributes: Mapping[str, Any]) -> str:
    """``ecs/service/CLUSTER/SERVICE/ecs:service:DesiredCount``."""
    parts = (_text(attributes, k) for k in ("service_namespace", "resource_id", "scalable_dimension"))
    return "/".join(parts)


def _scaling_policy_id(attributes: Mapping[str, Any]) -> str:
    """``ecs/service/CLUSTER/SERVICE/ecs:service:DesiredCount/POLICY_NAME``."""
    return f"{_scalable_target_id(attributes)}/{_text(attributes, 'name')}"


def _role_policy_id(attributes: Mapping[str, Any]) -> str:
    """``ROLE_NAME:POLICY_NAME``."""
    return f"{_text(attributes, 'role')}:{_text(attributes, 'name')}"


# Resource type -> its import id from its state attributes (Terraform AWS provider 5.x).
IMPORT_IDS: Mapping[str, IdOf] = {
    "aws_ecs_service": _service_id,
    "aws_ecs_task_definition": _attribute("arn"),
    "aws_appautoscaling_target": _scalable_target_id,
    "aws_appautoscaling_policy": _scaling_policy_id,
    "aws_iam_role": _attribute("name"),
    "aws_iam_role_policy": _role_policy_id,
    "aws_iam_instance_profile": _attribute("name"),
    "aws_cloudwatch_log_group": _attribute("name"),
    "aws_security_group": _attribute("id"),
    "aws_vpc_security_group_egress_rule": _attribute("id"),
    "aws_vpc_security_group_ingress_rule": _attribute("id"),
    "aws_lb_target_group": _attribute("arn"),
    "aws_lb_listener_rule": _attribute("arn"),
    "aws_lb_listener": _attribute("arn"),
    "aws_lb": _attribute("arn"),
    "aws_ecs_cluster": _attribute("name"),
    "aws_launch_template": _attribute("id"),
    "aws_autoscaling_group": _attribute("name"),
    "aws_ecs_capacity_provider": _attribute("name"),
    "aws_ecs_cluster_capacity_providers": _attribute("cluster_name"),
    "aws_wafv2_web_acl_association": _attribute("id"),
    "aws_sqs_queue": _attribute("id"),  # the queue's URL
    "aws_cloudwatch_metric_alarm": _attribute("alarm_name"),
    "aws_scheduler_schedule": _attribute("id"),  # <group>/<name>
}
# Types Terraform cannot import: the destination creates them anew (a null_resource holds no
# infrastructure, only its triggers: the redeploy command runs once more when it is created).
RECREATED = frozenset({"null_resource"})


def import_id(kind: str, attributes: Mapping[str, Any]) -> str | None:
    """The id of ``terraform import`` for a resource of type ``kind`` with these state
    attributes; None for a type that cannot be imported (created anew). ValueError: a type this
    module does not know, or attributes without what its id needs."""
    if kind in RECREATED:
        return None
    build = IMPORT_IDS.get(kind)
    if build is None:
        raise ValueError(f"no import id is known for {kind} resources")
    try:
        return build(attributes)
    except ValueError as exc:
        raise ValueError(f"cannot build the import id of a {kind}: {exc}") from None


@dataclass(frozen=True)
class Instance:
    """A managed resource instance of a state: its address (``aws_x.name``, ``aws_x.name[0]``),
    its resource's address (what a ``removed`` block names), its type and its attributes."""

    address: str
    resource: str
    kind: str
    attributes: Mapping[str, Any] = field(compare=False)


def _index(key: object) -> str:
    if key is None:
        return ""
    return f"[{json.dumps(key)}]"


def state_instances(state: Mapping[str, Any]) -> list[Instance]:
    """The managed resource instances of a state document (as ``terraform state pull`` prints
    it, version 4), in its order; data sources are left out (they are read, not moved), and so
    are resources in modules (the stacks have none)."""
    found: list[Instance] = []
    for resource in state.get("resources") or []:
        if not isinstance(resource, Mapping) or resource.get("mode") != "managed" or resource.get("module"):
            continue
        kind, name = str(resource.get("type")), str(resource.get("name"))
        for instance in resource.get("instances") or []:
            if not isinstance(instance, Mapping):
                continue
            attributes = instance.get("attributes")
            found.append(
                Instance(
                    f"{kind}.{name}{_index(instance.get('index_key'))}",
                    f"{kind}.{name}",
                    kind,
                    attributes if isinstance(attributes, Mapping) else {},
                )
            )
    return found


def read_state(text: str) -> dict[str, Any]:
    """A ``terraform state pull`` document; an empty state for no text (nothing stored yet).
    ValueError when it is not one."""
    if not text.strip():
        return {}
    document = json.loads(text)
    if not isinstance(document, dict) or not isinstance(document.get("resources", []), list):
        raise ValueError("not a Terraform state document")
    return document


def stack_resources(stack_document: Mapping[str, Any]) -> set[str]:
    """The resource addresses (``TYPE.NAME``) a synthesized stack's cdk.tf.json declares."""
    resources = stack_document.get("resource") or {}
    return {
        f"{kind}.{name}" for kind, named in resources.items() if isinstance(named, Mapping) for name in named
    }


@dataclass(frozen=True)
class Move:
    """What one destination stack takes from one source stack: the imports (address -> id), the
    addresses created anew there, and the resources the source forgets."""

    source: str
    destination: str
    imports: dict[str, str]
    recreated: tuple[str, ...]
    forgotten: tuple[str, ...]

    @property
    def count(self) -> int:
        """How many resource instances move."""
        return len(self.imports) + len(self.recreated)


def move(source: str, state: Mapping[str, Any], destination: str, stack_document: Mapping[str, Any]) -> Move:
    """What of ``state`` (the source's) the destination's synthesized stack declares, and how it
    moves. ValueError: an instance whose import id cannot be built (nothing is moved then)."""
    wanted = stack_resources(stack_document)
    imports: dict[str, str] = {}
    recreated: list[str] = []
    forgotten: list[str] = []
    for instance in state_instances(state):
        if instance.resource not in wanted:
            continue
        try:
            identity = import_id(instance.kind, instance.attributes)
        except ValueError as exc:
            raise ValueError(f"{source}: {instance.address}: {exc}") from None
        if identity is None:
            recreated.append(instance.address)
        else:
            imports[instance.address] = identity
        forgotten.append(instance.resource)
    return Move(source, destination, imports, tuple(recreated), tuple(dict.fromkeys(forgotten)))


def with_blocks(
    stack_document: Mapping[str, Any],
    *,
    imports: Mapping[str, str] | None = None,
    removed: Iterable[str] = (),
) -> dict[str, Any]:
    """The stack's document with these ``import`` and ``removed`` blocks added to its top-level
    lists (as cdktf writes import blocks). An import block the stack has already (its own
    adoption) is kept as it is; a removed block is written once per resource. ValueError: a
    removed resource the stack still declares (Terraform would refuse it)."""
    document = dict(stack_document)
    declared = stack_resources(document)
    blocks = _blocks(document.get("import"))
    targets = {b.get("to") for b in blocks}
    blocks += [{"to": to, "id": identity} for to, identity in (imports or {}).items() if to not in targets]
    if blocks:
        document["import"] = blocks
    gone = _blocks(document.get("removed"))
    named = {b.get("from") for b in gone}
    for resource in dict.fromkeys(removed):
        if resource in declared:
            raise ValueError(f"{resource} is still in the stack: it cannot be removed from its state")
        if resource not in named:
            gone.append({"from": resource, "lifecycle": {"destroy": False}})
    if gone:
        document["removed"] = gone
    return document


def _blocks(value: object) -> list[dict[str, Any]]:
    if value is None:
        return []
    listed = [value] if isinstance(value, Mapping) else value
    if not isinstance(listed, list):
        raise ValueError(f"the stack's blocks are not a list: {value!r}")
    return [dict(b) for b in listed if isinstance(b, Mapping)]


def forgetting_stack(stack_document: Mapping[str, Any], backend: Mapping[str, Any]) -> dict[str, Any]:
    """A stack that declares nothing, with ``stack_document``'s providers and ``backend`` (the
    ``terraform.backend`` block of the stack whose state it reads): what an old service stack of
    a split environment becomes, so that removed blocks can forget all it held."""
    terraform = dict(stack_document.get("terraform") or {})
    terraform["backend"] = dict(backend)
    document: dict[str, Any] = {"terraform": terraform}
    if "provider" in stack_document:
        document["provider"] = stack_document["provider"]
    return document


def _actions(plan: Mapping[str, Any]) -> Iterable[tuple[str, list[str], bool]]:
    for rc in plan.get("resource_changes") or []:
        if isinstance(rc, Mapping) and rc.get("mode", "managed") == "managed":
            change = rc.get("change") or {}
            yield str(rc.get("address")), list(change.get("actions") or []), bool(change.get("importing"))


def deletions(plan: Mapping[str, Any]) -> list[str]:
    """The addresses a plan (``terraform show -json``) destroys or replaces."""
    return [address for address, actions, _ in _actions(plan) if "delete" in actions]


@dataclass(frozen=True)
class Summary:
    """A plan's resource changes, counted."""

    imported: int = 0
    created: int = 0
    updated: int = 0
    replaced: int = 0
    destroyed: int = 0
    forgotten: int = 0

    def text(self) -> str:
        parts = [f"{n} {what}" for what, n in self.counts() if n]
        return ", ".join(parts) if parts else "no changes"

    def counts(self) -> Sequence[tuple[str, int]]:
        return (
            ("to import", self.imported),
            ("to create", self.created),
            ("to update", self.updated),
            ("to replace", self.replaced),
            ("to destroy", self.destroyed),
            ("to forget", self.forgotten),
        )


def summary(plan: Mapping[str, Any]) -> Summary:
    """How many resources a plan imports, creates, updates, replaces, destroys and forgets."""
    counts = dict.fromkeys(("imported", "created", "updated", "replaced", "destroyed", "forgotten"), 0)
    for _, actions, importing in _actions(plan):
        if importing:
            counts["imported"] += 1
        if "delete" in actions:
            counts["replaced" if "create" in actions else "destroyed"] += 1
        elif "create" in actions:
            counts["created"] += 1
        elif "update" in actions:
            counts["updated"] += 1
        elif "forget" in actions:
            counts["forgotten"] += 1
    return Summary(**counts)
