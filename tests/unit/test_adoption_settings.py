"""Adoption in the configuration (issue 27): a service's AWS names overridden per environment, the
ids of live resources it takes over (Terraform import blocks), and the environment's cluster
created, adopted or used as it is. Every contradiction is one line at load, before any AWS call."""

from __future__ import annotations

import tomllib
from typing import Any

import pytest

from ecs_cd.core import names
from stacks.settings import ConfigError, Settings, settings_from_dict
from tests.conftest import Synthesized, synth_all

FILE = "conf.toml"
SG = "sg-0123456789abcdef0"
TG = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/legacy-api/0123456789abcdef"
RULE = (
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/shared/0123456789abcdef/"
    "0123456789abcdef/0123456789abcdef"
)
LISTENER = (
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/shared/0123456789abcdef/"
    "0123456789abcdef"
)
CONFIG = f"""
[project]
name = "shop"

[services.api]
repository = "123456789012.dkr.ecr.us-east-1.amazonaws.com/shop-api"
container_port = 8080
load_balancer = {{ path_patterns = ["/api/*"], priority = 10 }}
autoscaling = {{ min_capacity = 1, max_capacity = 3, cpu_target_percent = 60 }}

[services.worker]
repository = "123456789012.dkr.ecr.us-east-1.amazonaws.com/shop-worker"

[environments.prod]
region = "us-east-1"
network = {{ vpc_id = "vpc-0c1b2c3d4e5f60718", subnet_ids = ["subnet-0c1b2c3d4e5f60718"] }}
state = {{ backend = "s3", bucket = "shop-state", key = "prod.tfstate", region = "us-east-1" }}
load_balancer = {{ listener_arn = "{LISTENER}", security_group_id = "sg-0aaa2c3d4e5f60718" }}
cluster = {{ name = "legacy", origin = "adopted" }}

[environments.prod.services.api.names]
service = "legacy-api"
log_group = "/legacy/api"
execution_role = "legacy-api-exec"
target_group = "legacy-api"

[environments.prod.services.api.adopt]
service = "legacy/legacy-api"
log_group = "/legacy/api"
execution_role = "legacy-api-exec"
security_group = "{SG}"
target_group = "{TG}"
listener_rule = "{RULE}"
scalable_target = "ecs/service/legacy/legacy-api/ecs:service:DesiredCount"

[environments.dev]
region = "us-east-1"
network = {{ vpc_id = "vpc-0c1b2c3d4e5f60718", subnet_ids = ["subnet-0c1b2c3d4e5f60718"] }}
state = {{ backend = "s3", bucket = "shop-state", key = "dev.tfstate", region = "us-east-1" }}
load_balancer = {{ listener_arn = "{LISTENER}", security_group_id = "sg-0aaa2c3d4e5f60718" }}
"""


def load(text: str = CONFIG) -> Settings:
    return settings_from_dict(tomllib.loads(text), file=FILE)


def problems(text: str) -> tuple[str, ...]:
    with pytest.raises(ConfigError) as caught:
        load(text)
    return caught.value.problems


@pytest.fixture(scope="module")
def synthesized() -> dict[str, Synthesized]:
    return synth_all(load())


def resources(doc: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return dict(doc["resource"].get(kind, {}))


def imports(doc: dict[str, Any]) -> dict[str, str]:
    """The stack's import blocks: resource address -> id."""
    return {block["to"]: block["id"] for block in doc.get("import", [])}


def test_names_are_derived_unless_overridden_in_the_environment() -> None:
    # GIVEN api overrides four names in prod only
    settings = load()
    prod, dev = settings.environments["prod"].service("api"), settings.environments["dev"].service("api")
    # THEN prod has the given ones and the derived rest; dev has every derived one
    assert prod.names.service == "legacy-api"
    assert prod.names.log_group == "/legacy/api"
    assert prod.names.task_role == names.task_role_name("shop", "prod", "api")
    assert prod.names.task_family == names.task_family("shop", "prod", "api")
    assert dev.names == names.ServiceNames.derived("shop", "dev", "api")
    assert settings.environments["prod"].cluster_name == "legacy"
    assert settings.environments["dev"].cluster_name == "shop-dev"


def test_the_stack_uses_the_overridden_names(synthesized: dict[str, Synthesized]) -> None:
    # GIVEN prod's stack WHEN its resources are read
    doc = synthesized["prod"].json
    (service,) = [s for k, s in resources(doc, "aws_ecs_service").items() if k.startswith("api_")]
    (group,) = [g for k, g in resources(doc, "aws_cloudwatch_log_group").items() if k.startswith("api_")]
    (target_group,) = resources(doc, "aws_lb_target_group").values()
    (cluster,) = resources(doc, "aws_ecs_cluster").values()
    roles = {r["name"] for k, r in resources(doc, "aws_iam_role").items() if k.startswith("api_")}
    # THEN they carry the live names
    assert service["name"] == "legacy-api"
    assert group["name"] == "/legacy/api"
    assert target_group["name"] == "legacy-api"
    assert cluster["name"] == "legacy"
    assert roles == {"legacy-api-exec", names.task_role_name("shop", "prod", "api")}


def test_adopted_ids_become_import_blocks_on_their_resources(synthesized: dict[str, Synthesized]) -> None:
    # GIVEN prod adopts the cluster and seven of api's resources
    doc = synthesized["prod"].json
    found = imports(doc)
    # THEN each id is imported at the address of the resource that takes it over, nothing else
    by_kind = {address.split(".")[0]: ident for address, ident in found.items()}
    assert by_kind == {
        "aws_ecs_cluster": "legacy",
        "aws_ecs_service": "legacy/legacy-api",
        "aws_cloudwatch_log_group": "/legacy/api",
        "aws_iam_role": "legacy-api-exec",
        "aws_security_group": SG,
        "aws_lb_target_group": TG,
        "aws_lb_listener_rule": RULE,
        "aws_appautoscaling_target": "ecs/service/legacy/legacy-api/ecs:service:DesiredCount",
    }
    for address in found:
        kind, name = address.split(".")
        assert name in doc["resource"][kind]
    # AND the task definition is never imported: a deploy registers a new revision
    assert not any(a.startswith("aws_ecs_task_definition.") for a in found)


def test_an_environment_without_adoption_has_no_import_blocks(synthesized: dict[str, Synthesized]) -> None:
    assert imports(synthesized["dev"].json) == {}


def test_an_existing_cluster_is_looked_up_not_managed() -> None:
    # GIVEN dev's cluster is an existing one
    text = CONFIG.replace(
        "[environments.dev]\n", '[environments.dev]\ncluster = { name = "shared", origin = "existing" }\n'
    )
    doc = synth_all(load(text))["dev"].json
    # THEN no cluster resource: a data source finds it by name, and the service runs on it
    assert "aws_ecs_cluster" not in doc["resource"]
    (lookup,) = doc["data"]["aws_ecs_cluster"].values()
    assert lookup["cluster_name"] == "shared"
    (service,) = [s for s in resources(doc, "aws_ecs_service").values() if s["name"] == "api"]
    assert "data.aws_ecs_cluster." in service["cluster"]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        pytest.param(
            (
                'log_group = "/legacy/api"\nexecution_role = "legacy-api-exec"\nsecurity_group',
                'log_group = "/other"\nexecution_role = "legacy-api-exec"\nsecurity_group',
            ),
            "environments.prod.services.api.adopt.log_group = '/other': the service's log group is named "
            "'/legacy/api': importing another would replace it (set names.log_group = '/other'",
            id="a log group under another name",
        ),
        pytest.param(
            ('service = "legacy/legacy-api"', 'service = "legacy/api"'),
            "environments.prod.services.api.adopt.service = 'legacy/api': the service is named 'legacy-api' "
            "here: importing 'api' would replace it (set names.service = 'api')",
            id="a service under another name",
        ),
        pytest.param(
            ('service = "legacy/legacy-api"', 'service = "other/legacy-api"'),
            "environments.prod.services.api.adopt.service = 'other/legacy-api': the service runs on cluster "
            "'legacy' here, not 'other'",
            id="a service on another cluster",
        ),
        pytest.param(
            ('security_group = "sg-0123456789abcdef0"', 'security_group = "sg-1"'),
            "environments.prod.services.api.adopt.security_group = 'sg-1'",
            id="a malformed id",
        ),
        pytest.param(
            (
                "[environments.prod.services.api.adopt]\n",
                '[environments.prod.services.api.adopt]\negress_https = "sgr-0123456789abcdef0"\nbogus = 1\n',
            ),
            "environments.prod.services.api.adopt.bogus",
            id="an unknown field",
        ),
    ],
)
def test_a_contradicting_adoption_is_one_line(change: tuple[str, str], expected: str) -> None:
    # GIVEN the configuration with one adopted id made wrong
    old, new = change
    assert old in CONFIG
    found = problems(CONFIG.replace(old, new, 1))
    # THEN one line names the file, the field, the value and what is allowed
    assert any(line.startswith(f"{FILE}: {expected}") for line in found), found


def test_an_id_of_a_resource_the_service_lacks_is_refused() -> None:
    # GIVEN worker (no load balancer) adopting a target group
    text = CONFIG + f'\n[environments.dev.services.worker.adopt]\ntarget_group = "{TG}"\n'
    # THEN the line says it has none
    assert (
        f"{FILE}: environments.dev.services.worker.adopt.target_group = '{TG}': is only for a service with a "
        "load_balancer: this service has none"
    ) in problems(text)


def test_ids_in_the_base_table_are_refused() -> None:
    # GIVEN adopt written in [services.worker], for every environment at once
    text = CONFIG.replace(
        "[services.worker]\n", '[services.worker.adopt]\nlog_group = "/x"\n\n[services.worker]\n'
    )
    found = problems(text)
    # THEN one line says ids belong to one environment
    assert any(
        line.startswith(f"{FILE}: services.worker.adopt: the ids of live resources belong to one environment")
        for line in found
    ), found


def test_ec2_capacity_needs_a_cluster_this_project_may_change() -> None:
    text = CONFIG.replace(
        'cluster = { name = "legacy", origin = "adopted" }',
        'cluster = { name = "legacy", origin = "existing" }\n'
        'ec2_capacity = { instance_type = "t3.medium", min_size = 1, max_size = 2 }',
    )
    found = problems(text)
    assert any("ec2_capacity attaches its capacity provider to the cluster" in line for line in found), found
