"""Moving an environment between its layouts, as documents (ecs_cd/release/layout_move.py): what
moves, the import ids built from a state as `terraform state pull` prints it, and the import and
removed blocks written into a synthesized stack."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import pytest
from cdktf import Testing

from ecs_cd.release.errors import DeployFailed, PlanRefused
from ecs_cd.release.layout_move import (
    deletions,
    forgetting_stack,
    import_id,
    move,
    read_state,
    stack_resources,
    summary,
    with_blocks,
)
from ecs_cd.release.layout_move_run import PLAN_FILE, Moving, Step, outcome, run_steps
from ecs_cd.release.terraform_cli import Result, Terraform
from stacks.environment_stack import EnvironmentStack, ServiceStack
from stacks.settings import Settings, settings_from_dict

AWS = 'provider["registry.terraform.io/hashicorp/aws"]'
CLUSTER_ARN = "arn:aws:ecs:us-east-1:123456789012:cluster/mv-dev"
TG = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/mv-dev-api-eaea1dec/240f132bf80d1dc4"
RULE = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/team-alb/2be2/957f/8dcb"
TASK = "arn:aws:ecs:us-east-1:123456789012:task-definition/mv-dev-api:1"
LISTENER = (
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/team-alb/" + "0123456789abcdef/" * 2
)
LISTENER = LISTENER.rstrip("/")

CONFIG = f"""
[project]
name = "mv"
[services.api]
repository = "123456789012.dkr.ecr.us-east-1.amazonaws.com/mv-api"
container_port = 8080
load_balancer = {{ path_patterns = ["/api/*"], priority = 10 }}
autoscaling = {{ min_capacity = 1, max_capacity = 2, cpu_target_percent = 60 }}
[services.worker]
repository = "123456789012.dkr.ecr.us-east-1.amazonaws.com/mv-worker"
image_strategy = "ssm-tag"
[environments.dev]
region = "us-east-1"
network = {{ vpc_id = "vpc-0a1b2c3d4e5f60718", subnet_ids = ["subnet-0a1b2c3d4e5f60718"] }}
state = {{ backend = "s3", bucket = "mv-state", key = "ecs-cd/dev.tfstate", region = "us-east-1" }}
load_balancer = {{ listener_arn = "{LISTENER}", security_group_id = "sg-0aaa2c3d4e5f60718" }}
"""


def settings(*, split: bool) -> Settings:
    raw = tomllib.loads(CONFIG)
    raw["environments"]["dev"]["stack_per_service"] = split
    return settings_from_dict(raw, file="c")


def synthesized(stack: Any) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(Testing.synth(stack))
    return document


@pytest.fixture(scope="module")
def one_stack() -> dict[str, Any]:
    env = settings(split=False).environments["dev"]
    return synthesized(
        EnvironmentStack(Testing.app(), "dev", project="mv", environment=env, null_provider_version="3.2.4")
    )


@pytest.fixture(scope="module")
def service_stacks() -> dict[str, dict[str, Any]]:
    env = settings(split=True).environments["dev"]
    return {
        name: synthesized(
            ServiceStack(
                Testing.app(),
                f"dev-{name}",
                project="mv",
                environment=env,
                service=env.service(name),
                null_provider_version="3.2.4",
            )
        )
        for name in ("api", "worker")
    }


def resource(kind: str, name: str, attributes: dict[str, Any], *, mode: str = "managed") -> dict[str, Any]:
    """A resource of a state document as `terraform state pull` prints it (version 4)."""
    return {
        "mode": mode,
        "type": kind,
        "name": name,
        "provider": AWS,
        "instances": [{"schema_version": 0, "attributes": attributes, "sensitive_attributes": []}],
    }


def one_stack_state(document: dict[str, Any]) -> dict[str, Any]:
    """The one-stack state of ``document``: the attributes each type's import id needs, as the
    AWS provider 5.100 wrote them on the emulator."""

    def name_of(kind: str, prefix: str) -> str:
        (found,) = [str(n) for n in document["resource"][kind] if n.startswith(prefix)]
        return found

    api = {
        "aws_ecs_service": {"id": f"{CLUSTER_ARN}/api", "name": "api", "cluster": CLUSTER_ARN},
        "aws_ecs_task_definition": {"id": "mv-dev-api", "arn": TASK},
        "aws_appautoscaling_target": {
            "id": "service/mv-dev/api",
            "resource_id": "service/mv-dev/api",
            "service_namespace": "ecs",
            "scalable_dimension": "ecs:service:DesiredCount",
        },
        "aws_appautoscaling_policy": {
            "id": "mv-dev-api-cpu",
            "name": "mv-dev-api-cpu",
            "resource_id": "service/mv-dev/api",
            "service_namespace": "ecs",
            "scalable_dimension": "ecs:service:DesiredCount",
        },
        "aws_cloudwatch_log_group": {"id": "/ecs/mv/dev/api", "name": "/ecs/mv/dev/api"},
        "aws_iam_role_policy": {
            "id": "mv-dev-api-exec:pull-image-and-write-logs",
            "name": "pull-image-and-write-logs",
            "role": "mv-dev-api-exec",
        },
        "aws_lb_target_group": {"id": TG, "arn": TG, "name": "mv-dev-api-eaea1dec"},
        "aws_lb_listener_rule": {"id": RULE, "arn": RULE},
        "aws_security_group": {"id": "sg-adbdf300b90036635", "name": "mv-dev-api-tasks"},
        "aws_vpc_security_group_egress_rule": {"id": "sgr-481ddf155a6f124e5"},
        "aws_vpc_security_group_ingress_rule": {"id": "sgr-c4075d3f5aa7a3fbc"},
    }
    resources = [resource(kind, name_of(kind, "api_"), attrs) for kind, attrs in api.items()]
    for role in ("execution-role", "task-role"):
        named = name_of("aws_iam_role", f"api_fargate_{role}")
        resources.append(
            resource("aws_iam_role", named, {"id": f"mv-dev-api-{role[:4]}", "name": f"r-{role}"})
        )
    resources.append(resource("null_resource", name_of("null_resource", "api_"), {"id": "1234"}))
    resources.append(resource("aws_ecs_cluster", name_of("aws_ecs_cluster", ""), {"name": "mv-dev"}))
    resources.append(
        resource("aws_ssm_parameter", "worker_image_tag", {"name": "/worker/dev/tag"}, mode="data")
    )
    return {"version": 4, "terraform_version": "1.11.4", "serial": 7, "resources": resources}


def test_a_service_has_the_same_resource_addresses_in_both_layouts(
    one_stack: dict[str, Any], service_stacks: dict[str, dict[str, Any]]
) -> None:
    # GIVEN one configuration synthesized as one stack and as a stack per service
    # WHEN each service stack's resource addresses are compared with the one stack's
    every = stack_resources(one_stack)
    split = {name: stack_resources(document) for name, document in service_stacks.items()}
    # THEN each service's are among the one stack's, the services' do not overlap, and together
    # with the cluster they are all of them
    assert split["api"] and split["worker"] and not split["api"] & split["worker"]
    assert split["api"] | split["worker"] == {a for a in every if not a.startswith("aws_ecs_cluster.")}
    assert "null_resource" in one_stack["resource"]  # api's timestamp trigger is in both layouts too
    assert any(a.startswith("null_resource.") for a in split["api"])


def test_a_move_imports_each_resource_by_its_providers_id_and_forgets_it_in_the_source(
    one_stack: dict[str, Any], service_stacks: dict[str, dict[str, Any]]
) -> None:
    # GIVEN the one stack's state (api's resources, the cluster, a data source)
    state = read_state(json.dumps(one_stack_state(one_stack)))
    # WHEN api's own stack takes what it declares of it
    moved = move("dev", state, "dev-api", service_stacks["api"])
    # THEN each import id is the AWS provider's for its type
    by_kind = {address.split(".")[0]: identity for address, identity in moved.imports.items()}
    assert by_kind["aws_ecs_service"] == "mv-dev/api"
    assert by_kind["aws_ecs_task_definition"] == TASK
    assert by_kind["aws_appautoscaling_target"] == "ecs/service/mv-dev/api/ecs:service:DesiredCount"
    assert (
        by_kind["aws_appautoscaling_policy"]
        == "ecs/service/mv-dev/api/ecs:service:DesiredCount/mv-dev-api-cpu"
    )
    assert by_kind["aws_cloudwatch_log_group"] == "/ecs/mv/dev/api"
    assert by_kind["aws_iam_role_policy"] == "mv-dev-api-exec:pull-image-and-write-logs"
    assert by_kind["aws_lb_target_group"] == TG and by_kind["aws_lb_listener_rule"] == RULE
    assert by_kind["aws_security_group"] == "sg-adbdf300b90036635"
    assert by_kind["aws_vpc_security_group_egress_rule"] == "sgr-481ddf155a6f124e5"
    assert by_kind["aws_vpc_security_group_ingress_rule"] == "sgr-c4075d3f5aa7a3fbc"
    roles = sorted(i for a, i in moved.imports.items() if a.startswith("aws_iam_role."))
    assert roles == ["r-execution-role", "r-task-role"]
    # AND the null_resource is created anew there; the cluster and the data source do not move
    (recreated,) = moved.recreated
    assert recreated.startswith("null_resource.api_")
    assert len(moved.imports) == 13 and moved.count == 14
    assert not any(a.startswith(("aws_ecs_cluster.", "data.")) for a in moved.forgotten)
    assert set(moved.forgotten) == set(moved.imports) | {recreated}
    # AND the worker's stack takes nothing of api's
    assert move("dev", state, "dev-worker", service_stacks["worker"]).count == 0


def test_an_import_id_that_cannot_be_built_names_the_resource() -> None:
    # GIVEN a state with a service whose cluster attribute is missing, and a type nobody knows
    broken = {"resources": [resource("aws_ecs_service", "svc", {"name": "api"})]}
    document: dict[str, Any] = {"resource": {"aws_ecs_service": {"svc": {}}}}
    # WHEN the move is worked out, THEN it fails naming the source, the address and what is missing
    with pytest.raises(
        ValueError, match=r"^dev: aws_ecs_service\.svc: .*aws_ecs_service: the state has no cluster"
    ):
        move("dev", broken, "dev-api", document)
    with pytest.raises(ValueError, match="no import id is known for aws_made_up resources"):
        import_id("aws_made_up", {"id": "x"})
    assert import_id("null_resource", {"id": "1"}) is None


def test_blocks_are_added_once_and_an_adopted_resources_own_import_is_kept() -> None:
    # GIVEN a stack that adopts its log group already (its own import block), and declares a service
    document = {
        "resource": {"aws_ecs_service": {"svc": {}}, "aws_cloudwatch_log_group": {"logs": {}}},
        "import": [{"to": "aws_cloudwatch_log_group.logs", "id": "/adopted/logs"}],
    }
    # WHEN the move's imports are written into it, twice (a second run)
    imports = {"aws_ecs_service.svc": "c/api", "aws_cloudwatch_log_group.logs": "/ecs/c/api"}
    once = with_blocks(document, imports=imports)
    twice = with_blocks(once, imports=imports)
    # THEN each address has one import block, the adoption's id kept
    assert twice["import"] == [
        {"to": "aws_cloudwatch_log_group.logs", "id": "/adopted/logs"},
        {"to": "aws_ecs_service.svc", "id": "c/api"},
    ]
    assert document["import"] == [{"to": "aws_cloudwatch_log_group.logs", "id": "/adopted/logs"}]
    # AND removed blocks keep what they forget in AWS, once per resource
    gone = with_blocks({"resource": {}}, removed=["aws_ecs_service.svc", "aws_ecs_service.svc", "a.b"])
    assert gone["removed"] == [
        {"from": "aws_ecs_service.svc", "lifecycle": {"destroy": False}},
        {"from": "a.b", "lifecycle": {"destroy": False}},
    ]
    # AND a resource the stack still declares cannot be removed from its state
    with pytest.raises(ValueError, match=r"aws_ecs_service\.svc is still in the stack"):
        with_blocks(document, removed=["aws_ecs_service.svc"])


def test_an_old_service_stack_becomes_one_that_declares_nothing_with_its_own_backend(
    one_stack: dict[str, Any],
) -> None:
    # GIVEN the one stack's document and the backend of api's old stack
    backend = {"s3": {**one_stack["terraform"]["backend"]["s3"], "key": "ecs-cd/dev/api.tfstate"}}
    # WHEN it is made the stack that forgets api's resources
    forgetting = forgetting_stack(one_stack, backend)
    # THEN it has the providers, that backend, and no resource or data source
    assert forgetting["terraform"]["backend"]["s3"]["key"] == "ecs-cd/dev/api.tfstate"
    assert forgetting["terraform"]["required_providers"] == one_stack["terraform"]["required_providers"]
    assert forgetting["provider"] == one_stack["provider"]
    assert "resource" not in forgetting and "data" not in forgetting
    assert one_stack["terraform"]["backend"]["s3"]["key"] == "ecs-cd/dev.tfstate"  # untouched


def test_a_plan_is_counted_and_its_deletions_named() -> None:
    # GIVEN a plan (`terraform show -json`) with an import, a creation, a forget, a replacement
    def change(address: str, actions: list[str], importing: bool = False) -> dict[str, Any]:
        extra = {"importing": {"id": "x"}} if importing else {}
        return {"address": address, "mode": "managed", "change": {"actions": actions, **extra}}

    plan = {
        "resource_changes": [
            change("aws_ecs_service.a", ["no-op"], importing=True),
            change("aws_iam_role.r", ["update"], importing=True),
            change("null_resource.n", ["create"]),
            change("aws_ecs_service.b", ["forget"]),
            change("aws_lb_target_group.t", ["delete", "create"]),
            change("aws_iam_role.gone", ["delete"]),
            {"address": "data.aws_vpc.v", "mode": "data", "change": {"actions": ["read"]}},
        ]
    }
    # WHEN it is summarized, THEN each kind of change is counted, and the deletions are named
    counted = summary(plan)
    assert (counted.imported, counted.created, counted.updated) == (2, 1, 1)
    assert (counted.forgotten, counted.replaced, counted.destroyed) == (1, 1, 1)
    assert counted.text() == "2 to import, 1 to create, 1 to update, 1 to replace, 1 to destroy, 1 to forget"
    assert deletions(plan) == ["aws_lb_target_group.t", "aws_iam_role.gone"]
    assert summary({}).text() == "no changes"


def test_an_empty_or_foreign_state_text() -> None:
    assert read_state("") == {}
    with pytest.raises(ValueError, match="not a Terraform state document"):
        read_state('{"resources": 3}')


def test_a_partial_move_says_what_was_applied_and_to_run_it_again(
    one_stack: dict[str, Any], service_stacks: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    # GIVEN a move whose destination was applied and whose source was not
    moved = move("dev", one_stack_state(one_stack), "dev-api", service_stacks["api"])
    moving = Moving("dev", True, tmp_path, Terraform("terraform", {}), print)
    moving.steps = [
        Step("dev-api", "destination", {}, [moved], applied="Apply complete!"),
        Step("dev", "source", {}, [moved]),
    ]
    # WHEN the failure is worded, THEN it names each, and says a new run converges
    assert outcome(moving) == (
        "applied: dev-api: imported 13 resources from dev, created anew: "
        f"{moved.recreated[0]}; not applied: dev; dev still manages the resources moved too: "
        "run `ecs-release move-layout dev` again"
    )
    moving.steps[0].applied = None
    assert outcome(moving) == "nothing was applied"


class FakeTerraform:
    """Terraform's commands as the move runs them, each stack's plan given, nothing run."""

    def __init__(self, plans: dict[str, dict[str, Any]], failing: str | None = None) -> None:
        self.plans, self.failing = plans, failing
        self.calls: list[tuple[str, ...]] = []

    def init(self, directory: Path) -> Result:
        return Result("init", 0, ran=False)

    def plan(self, directory: Path, out: str, *, lock: bool, refresh: bool) -> Result:
        self.calls.append(("plan", directory.name, f"lock={lock}", f"refresh={refresh}"))
        directory.mkdir(parents=True, exist_ok=True)
        (directory / out).write_text("plan")
        return Result("plan", 0)

    def show_json(self, directory: Path, plan_file: str) -> Result:
        return Result("show", 0, document=self.plans[directory.name])

    def apply(self, directory: Path, *, plan_file: str, on_line: Any) -> Result:
        self.calls.append(("apply", directory.name))
        failed = directory.name == self.failing
        return Result("apply", 1 if failed else 0, summary="" if failed else "Apply complete!")


def imports_then_forgets(
    one_stack: dict[str, Any], service_stacks: dict[str, dict[str, Any]], tmp_path: Path, cli: FakeTerraform
) -> Moving:
    moved = move("dev", one_stack_state(one_stack), "dev-api", service_stacks["api"])
    moving = Moving("dev", True, tmp_path, cli, print)  # type: ignore[arg-type]
    imports = with_blocks(service_stacks["api"], imports=moved.imports)
    moving.steps = [Step("dev-api", "destination", imports, [moved]), Step("dev", "source", {}, [moved])]
    return moving


FORGETS = {"resource_changes": [{"address": "a.b", "change": {"actions": ["forget"]}}]}
IMPORTS = {
    "resource_changes": [{"address": "a.c", "change": {"actions": ["no-op"], "importing": {"id": "x"}}}]
}


def test_a_dry_run_plans_every_stack_without_its_lock_and_applies_nothing(
    one_stack: dict[str, Any], service_stacks: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    # GIVEN a move into dev-api out of dev
    cli = FakeTerraform({"dev-api": IMPORTS, "dev": FORGETS})
    moving = imports_then_forgets(one_stack, service_stacks, tmp_path, cli)
    said: list[str] = []
    # WHEN it runs as a dry run
    run_steps(moving, True, said.append)
    # THEN each stack was planned (the source without reading its resources again), none applied
    assert sorted(cli.calls) == [
        ("plan", "dev", "lock=False", "refresh=False"),
        ("plan", "dev-api", "lock=False", "refresh=True"),
    ]
    assert sorted(said) == ["dev-api: plan: 1 to import", "dev: plan: 1 to forget"]
    assert not list(tmp_path.rglob(PLAN_FILE)) and all(s.applied is None for s in moving.steps)


def test_a_source_whose_plan_destroys_is_refused_and_nothing_is_applied(
    one_stack: dict[str, Any], service_stacks: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    # GIVEN a move whose source would destroy a resource
    destroys = {"resource_changes": [{"address": "aws_iam_role.r", "change": {"actions": ["delete"]}}]}
    cli = FakeTerraform({"dev-api": IMPORTS, "dev": destroys})
    moving = imports_then_forgets(one_stack, service_stacks, tmp_path, cli)
    # WHEN it runs, THEN it is refused (exit 8) before any apply, naming the stack and the address
    with pytest.raises(PlanRefused) as refused:
        run_steps(moving, False, lambda _: None)
    assert refused.value.exit_code == 8
    assert str(refused.value) == (
        "move-layout dev: refusing to apply: dev: the plan would destroy aws_iam_role.r, which the new "
        "layout does not have; nothing was applied"
    )
    assert [c for c in cli.calls if c[0] == "apply"] == []
    assert not list(tmp_path.rglob(PLAN_FILE))


def test_a_source_that_fails_to_apply_leaves_the_destination_applied_and_says_so(
    one_stack: dict[str, Any], service_stacks: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    # GIVEN a move whose source's apply fails
    cli = FakeTerraform({"dev-api": IMPORTS, "dev": FORGETS}, failing="dev")
    moving = imports_then_forgets(one_stack, service_stacks, tmp_path, cli)
    # WHEN it runs
    with pytest.raises(DeployFailed) as failed:
        run_steps(moving, False, lambda _: None)
    # THEN the destination was applied first, and the error says so and to run the move again
    assert [c for c in cli.calls if c[0] == "apply"] == [("apply", "dev-api"), ("apply", "dev")]
    assert str(failed.value).startswith(
        "move-layout dev: terraform apply of dev failed (its output above); applied: dev-api: imported 13"
    )
    assert str(failed.value).endswith(
        "not applied: dev; dev still manages the resources moved too: run `ecs-release move-layout dev` again"
    )
