"""examples/three-accounts/ecs-cd.toml (issue 13): three environments in three accounts, one CI
identity assuming a role in each; docs/tutorials/three-accounts.md walks through it."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Synthesized

ACCOUNTS = {"dev": "222222222222", "staging": "333333333333", "prod": "444444444444"}


@pytest.fixture(scope="module")
def synthesized(examples: dict[str, dict[str, Synthesized]]) -> dict[str, dict[str, Any]]:
    """The example's stacks, from the session's synthesis of every example."""
    return {name: out.json for name, out in examples["three-accounts"].items()}


@pytest.mark.parametrize("env", sorted(ACCOUNTS))
def test_each_environment_assumes_its_role_and_allows_only_its_account(
    synthesized: dict[str, dict[str, Any]], env: str
) -> None:
    stack = synthesized[env]
    default = next(p for p in stack["provider"]["aws"] if "alias" not in p)
    account = ACCOUNTS[env]
    assert default["allowed_account_ids"] == [account]
    (role,) = default["assume_role"]
    assert role["role_arn"] == f"arn:aws:iam::{account}:role/shop-deployer"
    assert stack["terraform"]["backend"]["s3"]["assume_role"]["role_arn"] == role["role_arn"]
    assert default["default_tags"][0]["tags"]["Stage"] == env
    # the api runs by digest (no timestamp trigger); dev's reports service is redeployed on
    # every apply, by a command that first assumes the environment's role
    redeploys = list(stack["resource"].get("null_resource", {}).values())
    assert len(redeploys) == (1 if env == "dev" else 0)
    for redeploy in redeploys:
        command = redeploy["provisioner"][0]["local-exec"]["command"]
        assert command.startswith(
            f"creds=$(aws sts assume-role --region eu-west-1 --role-arn {role['role_arn']} "
        )


def test_prod_reads_the_tooling_accounts_ecr_in_its_region(synthesized: dict[str, dict[str, Any]]) -> None:
    prod = synthesized["prod"]
    aliases = {p.get("alias"): p for p in prod["provider"]["aws"]}
    assert aliases["aws_eu_west_1"]["region"] == "eu-west-1"
    assert aliases["aws_eu_west_1"]["assume_role"] == aliases[None]["assume_role"]
    (lookup,) = prod["data"]["aws_ecr_image"].values()
    assert (lookup["provider"], lookup["registry_id"]) == ("aws.aws_eu_west_1", "111111111111")


def test_the_new_service_runs_in_dev_only(synthesized: dict[str, dict[str, Any]]) -> None:
    def families(env: str) -> list[str]:
        return sorted(t["family"] for t in synthesized[env]["resource"]["aws_ecs_task_definition"].values())

    assert families("dev") == ["shop-dev-api", "shop-dev-reports"]
    assert families("staging") == ["shop-staging-api"]
    assert families("prod") == ["shop-prod-api"]
