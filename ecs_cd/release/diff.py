"""`ecs-release diff`: what a deploy would change, per service in words, from Terraform's plan.

The plan's JSON (``terraform show -json``) lists each resource change with its before and
after values. A service's resources are found by the construct id the stacks give them (the
service's name first), so an image change reads as the images of the task definition's
container definitions, old and new.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class ServiceDiff:
    service: str
    images: list[dict[str, Any]] = field(default_factory=list)
    new_revision: bool = False
    restart: list[str] = field(default_factory=list)
    scaling: list[str] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)
    # A scheduled job: a new revision moves its schedule, no tasks roll.
    job: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.images or self.new_revision or self.restart or self.scaling or self.changes)

    def lines(self) -> list[str]:
        if not self.changed:
            return [f"{self.service}: no changes"]
        out = [f"{self.service}:"]
        out += [
            f"  image of {i['container']}: {i['before'] or '(new)'} -> {i['after'] or '(removed)'}"
            + _other_names(i)
            for i in self.images
        ]
        if self.new_revision:
            out.append("  new task definition revision")
        out += [f"  restart: {why}" for why in self.restart]
        out += [f"  scaling: {what}" for what in self.scaling]
        out += [f"  {what}" for what in self.changes]
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "changed": self.changed,
            "images": self.images,
            "new_revision": self.new_revision,
            "restart": self.restart,
            "scaling": self.scaling,
            "changes": self.changes,
            **({"kind": "job"} if self.job else {}),
        }


def _short(digest: str | None) -> str:
    return f"sha256:{digest.removeprefix('sha256:')[:12]}" if digest else "?"


def _other_names(image: dict[str, Any]) -> str:
    """The side of an image change its references do not show: the digests of images named by
    tag, the tags of images pinned by digest (as ECR has them)."""
    if image.get("before_digest") or image.get("after_digest"):
        return f" ({_short(image.get('before_digest'))} -> {_short(image.get('after_digest'))})"
    if image.get("before_tags") or image.get("after_tags"):
        before, after = (", ".join(image.get(f"{side}_tags") or ["?"]) for side in ("before", "after"))
        return f" (tags {before} -> {after})"
    return ""


def name_images(
    services: list[ServiceDiff], lookup: Callable[[str, dict[str, str]], dict[str, Any] | None]
) -> None:
    """Add to each image change the digests (images named by tag) or the tags (pinned by digest)
    that ECR has for them; ``lookup(repository, image id)``: ECR's image details, or None."""
    for service in services:
        for image in service.images:
            for side in ("before", "after"):
                reference = image.get(side)
                if not isinstance(reference, str) or reference.startswith("("):
                    continue
                repository, _, digest = reference.partition("@")
                tail = repository.rsplit("/", 1)[-1]
                if digest:
                    repository = repository.rsplit(":", 1)[0] if ":" in tail else repository
                    details = lookup(repository, {"imageDigest": digest})
                    image[f"{side}_tags"] = [str(t) for t in (details or {}).get("imageTags", [])]
                elif ":" in tail:
                    repository, tag = repository.rsplit(":", 1)
                    details = lookup(repository, {"imageTag": tag})
                    image[f"{side}_digest"] = str(details["imageDigest"]) if details else None


def action(actions: list[str]) -> str:
    if actions == ["create"]:
        return "create"
    if actions == ["delete"]:
        return "DESTROY"
    if sorted(actions) == ["create", "delete"]:
        return "REPLACE"
    return "update"


def _definitions(values: dict[str, Any] | None) -> dict[str, str | None]:
    """Container name -> image, from a task definition's values in the plan."""
    if not values or not isinstance(values.get("container_definitions"), str):
        return {}
    try:
        parsed = json.loads(values["container_definitions"])
    except ValueError:
        return {}
    return {str(c.get("name")): c.get("image") for c in parsed if isinstance(c, dict)}


def _changed_attributes(change: dict[str, Any]) -> list[str]:
    before, after = change.get("before") or {}, change.get("after") or {}
    unknown = change.get("after_unknown") or {}
    keys = sorted(set(before) | set(after))
    return [k for k in keys if before.get(k) != after.get(k) or unknown.get(k) is True]


def _what(change: dict[str, Any]) -> str | None:
    """The plan's action on a resource in words, None when nothing happens to it."""
    actions = list(change.get("actions", []))
    importing = change.get("importing")
    if actions in (["no-op"], ["read"]) and not isinstance(importing, dict):
        return None
    what = action(actions)
    if isinstance(importing, dict):
        # An adopted resource: imported by this plan, then changed in place (if at all).
        imported = f"import {importing.get('id', '')}".rstrip()
        what = imported if actions == ["no-op"] else f"{imported}, then {what}"
    return what


def summarize(
    plan: dict[str, Any], services: list[str], *, jobs: frozenset[str] | set[str] = frozenset()
) -> tuple[list[ServiceDiff], list[str]]:
    """Per service (``jobs``: those of them that are scheduled jobs) what changes, and every other
    change (``address: action``)."""
    diffs = {name: ServiceDiff(name, job=name in jobs) for name in services}
    others: list[str] = []
    # longest names first: a service "api-v2" must not be taken for "api"
    prefixes = sorted(services, key=len, reverse=True)
    for rc in plan.get("resource_changes", []):
        change = rc.get("change", {})
        what = _what(change)
        if what is None:
            continue
        name = str(rc.get("name"))
        owner = next((s for s in prefixes if name.startswith(f"{s}_")), None)
        if owner is None:
            others.append(f"{rc.get('address')}: {what}")
        else:
            _service_change(diffs[owner], rc, what)
    return list(diffs.values()), others


def _service_change(diff: ServiceDiff, rc: dict[str, Any], what: str) -> None:
    """What a change of one of the service's resources means for it."""
    change, kind = rc.get("change", {}), str(rc.get("type"))
    if kind == "aws_ecs_task_definition":
        _task_definition_change(diff, change)
    elif kind == "null_resource":
        diff.restart.append("the timestamp trigger forces a new deployment (every apply)")
    elif kind == "aws_ecs_service":
        _ecs_service_change(diff, change, what)
    elif kind == "aws_scheduler_schedule":
        # Its target's new revision was said with the task definition's.
        changed = [a for a in _changed_attributes(change) if a != "target" or not diff.new_revision]
        if what != "update" or changed:
            diff.changes.append(f"the schedule: {what if what != 'update' else ', '.join(changed)}")
    elif kind in ("aws_appautoscaling_target", "aws_appautoscaling_policy"):
        diff.scaling.append(f"{kind.removeprefix('aws_appautoscaling_')}: {what}")
    else:
        diff.changes.append(f"{rc.get('address')}: {what}")


def _task_definition_change(diff: ServiceDiff, change: dict[str, Any]) -> None:
    """A new revision: its images old and new, and what it restarts (a job's: nothing)."""
    before, after = _definitions(change.get("before")), _definitions(change.get("after"))
    unknown = (change.get("after_unknown") or {}).get("container_definitions") is True
    for container in sorted(set(before) | set(after)):
        if before.get(container) != after.get(container):
            diff.images.append(
                {
                    "container": container,
                    "before": before.get(container),
                    "after": "(known after apply)" if unknown else after.get(container),
                }
            )
    diff.new_revision = True
    diff.restart.append(
        "none: the schedule moves to the new revision, its next run starts it"
        if diff.job
        else "a new revision rolls the tasks"
    )


def _ecs_service_change(diff: ServiceDiff, change: dict[str, Any], what: str) -> None:
    changed = [a for a in _changed_attributes(change) if a != "task_definition"]
    if what.startswith("import"):
        diff.changes.append(f"the ECS service: {what}" + (f" {', '.join(changed)}" if changed else ""))
    elif what != "update":
        diff.changes.append(f"the ECS service: {what}")
    elif changed:  # the new revision alone was said above
        diff.changes.append(f"the ECS service: {', '.join(changed)}")
