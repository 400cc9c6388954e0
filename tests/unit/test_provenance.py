"""Blame by provenance (issue 25): a problem's line names the table where the offending value
was written, the service's base table or an environment's override of it, as the merge recorded."""

from __future__ import annotations

import tomllib

import pytest

from stacks.configuration.merge import merge_service
from stacks.settings import ConfigError, settings_from_dict

FILE = "conf.toml"
BASE = """
[project]
name = "shop"

[services.api]
repository = "123456789012.dkr.ecr.us-east-1.amazonaws.com/shop-api"
image_tag_parameter = "/shop/api/tag"
cpu = 512
memory = 1024

[services.api.containers.agent]
image = "public.ecr.aws/org/agent:7"
memory = 256

[environments.dev]
region = "us-east-1"
network = { vpc_id = "vpc-0c1b2c3d4e5f60718", subnet_ids = ["subnet-0c1b2c3d4e5f60718"] }
state = { backend = "s3", bucket = "shop-state", key = "dev.tfstate", region = "us-east-1" }
"""


def problems(override: str) -> tuple[str, ...]:
    with pytest.raises(ConfigError) as caught:
        settings_from_dict(tomllib.loads(BASE + override), file=FILE)
    return caught.value.problems


def test_the_merge_records_which_table_wrote_each_value() -> None:
    # GIVEN a base with variables and a sidecar, and an override of one variable and a new sidecar
    base = {"cpu": 256, "environment": {"A": "1"}, "containers": {"agent": {"memory": 64}}}
    override = {"environment": {"B": "2"}, "containers": {"agent": {"cpu": 8}, "extra": {"image": "x"}}}

    # WHEN they are merged
    merged, written = merge_service(base, override)

    # THEN each value's origin is the table that wrote it, and below a value taken whole its writer's
    assert merged["containers"]["agent"] == {"memory": 64, "cpu": 8}
    assert written.origin(["cpu"]) == "base"
    assert written.origin(["environment", "A"]) == "base"
    assert written.origin(["environment", "B"]) == "override"
    assert written.origin(["containers", "agent", "memory"]) == "base"
    assert written.origin(["containers", "agent", "cpu"]) == "override"
    assert written.origin(["containers", "extra", "image", "anything"]) == "override"
    # a value nobody wrote belongs in the base table
    assert written.origin(["desired_count"]) == "base"


def test_a_field_missing_from_a_container_the_override_added_is_the_overrides() -> None:
    # GIVEN an override that adds a sidecar without an image
    lines = problems("[environments.dev.services.api.containers.extra]\nmemory = 64\n")

    # THEN the line names the override's table, where the container was written
    assert lines == (
        f"{FILE}: environments.dev.services.api.containers.extra: set image (a fixed reference such as "
        "'public.ecr.aws/org/agent:7') or repository and image_tag_parameter (the tag from SSM), not both, "
        "not neither",
    )


def test_the_apps_container_memory_in_an_override_is_blamed_for_the_memory_sum() -> None:
    # GIVEN an override that raises the app container's own memory past the task's
    lines = problems("[environments.dev.services.api]\ncontainer_memory = 900\n")

    # THEN the sum's line names the override (the base's values fit)
    assert lines == (
        f"{FILE}: environments.dev.services.api.containers = 1156: their memory (MiB) adds up to 1156, "
        "over the task's memory (1024)",
    )


def test_an_override_of_a_sidecars_variables_is_not_blamed_for_too_many_containers() -> None:
    # GIVEN a base of 11 containers and an override that only sets a sidecar's variable
    sidecars = "".join(
        f'[services.api.containers.s{i}]\nimage = "public.ecr.aws/org/s:1"\nmemory = 6\n' for i in range(9)
    )
    with pytest.raises(ConfigError) as caught:
        settings_from_dict(
            tomllib.loads(
                BASE + sidecars + "[environments.dev.services.api.containers.s0.environment]\nX = '1'\n"
            ),
            file=FILE,
        )

    # THEN the line names the base, which holds the containers
    assert [line for line in caught.value.problems if "per task definition" in line] == [
        f"{FILE}: services.api.containers: the task would have 11 containers (every one counts, the app's "
        "too): ECS allows at most 10 per task definition"
    ]
