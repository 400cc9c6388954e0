"""ecs_cd/release/plan_guard.py: an adopted resource (the address of a stack's import block) is
never replaced or destroyed. The plans are shaped as `terraform show -json PLAN` writes them
(Terraform 1.11: format_version 1.2, resource_changes with change.actions, replace_paths,
importing, and action_reason beside change)."""

from __future__ import annotations

from typing import Any

import pytest

from ecs_cd.release.plan_guard import Refusal, adopted, refusal_message, refusals, render_path
from ecs_cd.release.terraform_run import StackOutcome

SERVICE = "aws_ecs_service.api_fargate_service_74117091"
ROLE = "aws_iam_role.api_execution_role_1a2b3c4d"

STACK = {
    "terraform": {"backend": {"local": {"path": "dev.tfstate"}}},
    "resource": {"aws_ecs_service": {"api_fargate_service_74117091": {"name": "api"}}},
    "import": [
        {"to": SERVICE, "id": "demo-dev/api", "provider": "aws"},
        {"to": ROLE, "id": "demo-dev-api-execution"},
    ],
}


def change(
    address: str,
    actions: list[str],
    *,
    replace_paths: list[list[Any]] | None = None,
    reason: str | None = None,
    importing: str | None = None,
) -> dict[str, Any]:
    kind, name = address.split(".", 1)
    body: dict[str, Any] = {
        "actions": actions,
        "before": None if actions == ["create"] else {"name": "api"},
        "after": None if actions == ["delete"] else {"name": "api"},
        "after_unknown": {},
        "before_sensitive": {},
        "after_sensitive": {},
    }
    if replace_paths is not None:
        body["replace_paths"] = replace_paths
    if importing is not None:
        body["importing"] = {"id": importing}
    record: dict[str, Any] = {
        "address": address,
        "mode": "managed",
        "type": kind,
        "name": name,
        "provider_name": "registry.terraform.io/hashicorp/aws",
        "change": body,
    }
    if reason is not None:
        record["action_reason"] = reason
    return record


def plan(*changes: dict[str, Any]) -> dict[str, Any]:
    return {
        "format_version": "1.2",
        "terraform_version": "1.11.4",
        "planned_values": {"root_module": {}},
        "resource_changes": list(changes),
        "configuration": {"root_module": {}},
        "timestamp": "2026-12-03T10:00:00Z",
        "applyable": True,
        "complete": True,
        "errored": False,
    }


def test_adopted_reads_the_import_blocks_cdktf_writes() -> None:
    # GIVEN a stack with two import blocks (one with a provider, one without)
    # WHEN its adopted addresses are read
    # THEN each address maps to its import id
    assert adopted(STACK) == {SERVICE: "demo-dev/api", ROLE: "demo-dev-api-execution"}
    # AND a stack without import blocks adopts nothing
    assert adopted({"resource": {}}) == {}
    # AND a malformed import list is an error, not an unguarded stack
    with pytest.raises(ValueError, match="not a list"):
        adopted({"import": "aws_ecs_service.x"})


def test_a_replacement_forced_by_the_cluster_is_refused_with_the_hint() -> None:
    # GIVEN a plan that imports the service and replaces it because the cluster is named by its name
    document = plan(
        change(
            SERVICE,
            ["delete", "create"],
            replace_paths=[["cluster"]],
            reason="replace_because_cannot_update",
            importing="demo-dev/api",
        )
    )
    # WHEN the guard reads it
    (refusal,) = refusals(document, adopted(STACK))
    # THEN it refuses the replacement, naming the attribute, Terraform's reason and what to do
    assert refusal == Refusal(
        address=SERVICE,
        import_id="demo-dev/api",
        action="replace",
        attributes=("cluster",),
        reason="replace_because_cannot_update",
        hints=("give the cluster's ARN, not its name: a name forces replacement",),
    )
    # AND the message is one line per refusal, then one saying nothing was applied
    lines = refusal_message("dev", [refusal]).splitlines()
    assert lines[0] == (
        f"dev: refusing to apply: the plan would replace {SERVICE} (adopted from demo-dev/api) "
        "because of cluster: give the cluster's ARN, not its name: a name forces replacement"
    )
    assert len(lines) == 2 and lines[1].startswith("dev: nothing was applied: ")


def test_create_before_destroy_and_destroy_are_refused_too() -> None:
    # GIVEN a plan that replaces the service create-before-destroy, on a launch type the live
    # service does not use, and destroys the adopted role (gone from the configuration)
    document = plan(
        change(
            SERVICE,
            ["create", "delete"],
            replace_paths=[["launch_type"], ["capacity_provider_strategy"]],
            reason="replace_because_cannot_update",
        ),
        change(ROLE, ["delete"], reason="delete_because_no_resource_config"),
    )
    # WHEN the guard reads it
    service, role = refusals(document, adopted(STACK))
    # THEN both are refused: the replacement with both attributes, the destroy with its reason
    assert (service.action, service.attributes) == ("replace", ("launch_type", "capacity_provider_strategy"))
    assert "launch_type: the live service uses the other of launch type" in service.text()
    assert (role.action, role.attributes, role.hints) == ("destroy", (), ())
    assert role.text() == (
        f"the plan would destroy {ROLE} (adopted from demo-dev-api-execution): "
        "the configuration no longer has it"
    )


def test_what_does_not_delete_an_adopted_resource_passes() -> None:
    # GIVEN a plan that imports the service and updates it in place, reads a data source, creates
    # a new resource, and replaces a resource that no import block targets
    document = plan(
        change(SERVICE, ["update"], importing="demo-dev/api"),
        change(ROLE, ["no-op"]),
        change("aws_ecs_task_definition.api_task_0f0f0f0f", ["delete", "create"], replace_paths=[["family"]]),
        change("aws_cloudwatch_log_group.api_logs_12345678", ["create"]),
    )
    # WHEN the guard reads it
    # THEN nothing is refused
    assert refusals(document, adopted(STACK)) == []
    # AND a plan with no changes at all (no resource_changes key) passes
    assert refusals({"format_version": "1.2"}, adopted(STACK)) == []


def test_nested_paths_are_written_as_in_the_configuration() -> None:
    # GIVEN replace paths into a block list and a map
    # WHEN they are rendered
    # THEN they read as Terraform writes them
    assert render_path(["network_configuration", 0, "subnets"]) == "network_configuration[0].subnets"
    assert render_path(["tags", "team-name"]) == "tags['team-name']"
    # AND the hint of a nested path is its top-level attribute's
    document = plan(
        change(
            "aws_lb_target_group.api_tg_99999999",
            ["delete", "create"],
            replace_paths=[["port"], ["health_check", 0, "path"]],
        )
    )
    (refusal,) = refusals(document, {"aws_lb_target_group.api_tg_99999999": "arn:aws:tg/api"})
    assert refusal.attributes == ("port", "health_check[0].path")
    assert refusal.hints == ("the live target group has another port: set the service's to match",)


def test_names_point_at_the_services_names_table() -> None:
    # GIVEN an adopted log group whose name the configuration derives differently
    document = plan(
        change("aws_cloudwatch_log_group.api_logs_1", ["delete", "create"], replace_paths=[["name"]])
    )
    # WHEN the guard reads it
    (refusal,) = refusals(document, {"aws_cloudwatch_log_group.api_logs_1": "/ecs/api"})
    # THEN the hint says where a name is overridden
    assert "[environments.<env>.services.<service>.names]" in refusal.text()


def test_a_refused_stack_outcome_keeps_its_refusals_in_the_report() -> None:
    # GIVEN the outcome of a stack the guard refused
    refusal = Refusal(SERVICE, "demo-dev/api", "replace", ("cluster",), "replace_because_cannot_update")
    outcome = StackOutcome("dev", apply="refused", reason=f"refused: {refusal.text()}", refusals=(refusal,))
    # WHEN it is written to the report and read back
    record = outcome.to_json()
    # THEN the refusals travel as JSON records and come back whole
    assert record["refusals"] == [refusal.to_json()] and record["apply"] == "refused"
    assert StackOutcome.from_json(record) == outcome
    # AND a record without refusals is read as before
    assert StackOutcome.from_json({"stack": "dev", "apply": "applied"}).refusals == ()
    # AND a damaged refusal is not a stack outcome
    with pytest.raises(ValueError, match="not a refusal"):
        StackOutcome.from_json({"stack": "dev", "apply": "refused", "refusals": [{"address": 1}]})
