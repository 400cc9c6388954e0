"""How `ecs-release diff` words a plan (issue 15): the plan's JSON as Terraform writes it,
summarized per service; other changes flagged when they replace or destroy."""

from __future__ import annotations

import json
from typing import Any

from ecs_cd.release.diff import summarize


def _change(
    kind: str, name: str, actions: list[str], before: Any = None, after: Any = None
) -> dict[str, Any]:
    return {
        "address": f"{kind}.{name}",
        "type": kind,
        "name": name,
        "change": {"actions": actions, "before": before, "after": after, "after_unknown": {}},
    }


def _definitions(image: str) -> dict[str, str]:
    return {
        "container_definitions": json.dumps(
            [{"name": "api", "image": image}, {"name": "agent", "image": "dd:7"}]
        )
    }


def test_a_timestamp_release_and_other_changes() -> None:
    # GIVEN a plan: api's new revision and its timestamp trigger, api-v2's scaling, and a replaced group
    plan = {
        "resource_changes": [
            _change(
                "aws_ecs_task_definition",
                "api_fargate_task_1",
                ["delete", "create"],
                _definitions("r/api:1"),
                _definitions("r/api:2"),
            ),
            _change(
                "aws_ecs_service",
                "api_fargate_service_1",
                ["update"],
                {"task_definition": "a:1"},
                {"task_definition": "a:2"},
            ),
            _change("null_resource", "api_redeploy_1", ["delete", "create"]),
            _change("aws_appautoscaling_policy", "api-v2_fargate_autoscaling_cpu_1", ["update"]),
            _change("aws_security_group", "alb_security-group_1", ["create", "delete"]),
            _change("aws_lb", "alb_1", ["delete"]),
            _change("aws_iam_role", "api_fargate_task-role_1", ["no-op"]),
        ]
    }
    # WHEN summarized
    services, others = summarize(plan, ["api", "api-v2"])
    api, v2 = services
    # THEN api: one image changed (the agent did not), a new revision, and both reasons to restart
    assert api.images == [{"container": "api", "before": "r/api:1", "after": "r/api:2"}]
    assert api.new_revision and api.changes == []
    assert api.restart == [
        "a new revision rolls the tasks",
        "the timestamp trigger forces a new deployment (every apply)",
    ]
    # AND api-v2 (not taken for api) changes its scaling only
    assert v2.scaling == ["policy: update"] and not v2.images
    # AND the rest is listed, replacements and destroys in capitals
    assert others == ["aws_security_group.alb_security-group_1: REPLACE", "aws_lb.alb_1: DESTROY"]


def test_a_service_setting_change_is_named() -> None:
    plan = {
        "resource_changes": [
            _change(
                "aws_ecs_service",
                "api_fargate_service_1",
                ["update"],
                {"desired_count": 1, "task_definition": "a:1"},
                {"desired_count": 3, "task_definition": "a:1"},
            )
        ]
    }
    (api,), others = summarize(plan, ["api"])
    assert api.changes == ["the ECS service: desired_count"] and not api.restart and others == []
    assert api.lines() == ["api:", "  the ECS service: desired_count"]


def test_images_are_named_by_tag_and_digest_as_ecr_has_them() -> None:
    from ecs_cd.release.diff import ServiceDiff, name_images

    repo = "123456789012.dkr.ecr.us-east-1.amazonaws.com/api"
    old, new = "sha256:" + "a" * 64, "sha256:" + "b" * 64
    ecr = {("imageTag", "1.0.0"): old, ("imageTag", "1.1.0"): new}
    tags = {old: ["1.0.0"], new: ["1.1.0", "latest"]}

    def lookup(repository: str, image_id: dict[str, str]) -> dict[str, object] | None:
        assert repository == repo
        ((kind, value),) = image_id.items()
        if kind == "imageDigest":
            return {"imageDigest": value, "imageTags": tags[value]} if value in tags else None
        digest = ecr.get((kind, value))
        return {"imageDigest": digest} if digest else None

    # GIVEN one change by tag, one pinned by digest, one whose new tag ECR does not have
    by_tag = ServiceDiff(
        "a", images=[{"container": "a", "before": f"{repo}:1.0.0", "after": f"{repo}:1.1.0"}]
    )
    pinned = ServiceDiff(
        "b", images=[{"container": "b", "before": f"{repo}@{old}", "after": f"{repo}@{new}"}]
    )
    missing = ServiceDiff("c", images=[{"container": "c", "before": None, "after": f"{repo}:9.9.9"}])
    # WHEN they are named
    name_images([by_tag, pinned, missing], lookup)
    # THEN a tag's digest and a digest's tags are shown, and nothing is made up where ECR has nothing
    assert (
        by_tag.lines()[1]
        == f"  image of a: {repo}:1.0.0 -> {repo}:1.1.0 (sha256:aaaaaaaaaaaa -> sha256:bbbbbbbbbbbb)"
    )
    assert pinned.lines()[1] == f"  image of b: {repo}@{old} -> {repo}@{new} (tags 1.0.0 -> 1.1.0, latest)"
    assert missing.lines()[1] == f"  image of c: (new) -> {repo}:9.9.9"
    assert missing.images[0]["after_digest"] is None


def test_imports_of_adopted_resources_are_said() -> None:
    # GIVEN a plan adopting api's service (imported and updated) and the cluster (imported as is)
    service = _change(
        "aws_ecs_service", "api_fargate_service_1", ["update"], {"tags": {}}, {"tags": {"A": "b"}}
    )
    service["change"]["importing"] = {"id": "legacy/api"}
    cluster = _change("aws_ecs_cluster", "cluster_1", ["no-op"])
    cluster["change"]["importing"] = {"id": "legacy"}
    # WHEN summarized
    (api,), others = summarize({"resource_changes": [service, cluster]}, ["api"])
    # THEN each import is said with its id, and what the plan then changes
    assert api.changes == ["the ECS service: import legacy/api, then update tags"]
    assert others == ["aws_ecs_cluster.cluster_1: import legacy"]
