"""An environment's stack layout, computed once: stack names, order and where each keeps its state."""

from __future__ import annotations

import tomllib

import pytest

from stacks.app import add_stacks
from stacks.layout import StackLayout, StackPlace
from stacks.settings import Settings, settings_from_dict

CONFIG = """
[project]
name = "sp"
[services.api]
repository = "123456789012.dkr.ecr.us-east-1.amazonaws.com/sp-api"
[services.worker]
repository = "123456789012.dkr.ecr.us-east-1.amazonaws.com/sp-worker"
[environments.split]
region = "eu-west-1"
stack_per_service = true
network = { vpc_id = "vpc-0a1b2c3d4e5f60718", subnet_ids = ["subnet-0a1b2c3d4e5f60718"] }
state = { backend = "s3", bucket = "sp-state", key = "ecs-cd/split.tfstate", region = "eu-west-1" }
[environments.whole]
region = "eu-west-1"
network = { vpc_id = "vpc-0a1b2c3d4e5f60718", subnet_ids = ["subnet-0a1b2c3d4e5f60718"] }
state = { backend = "local", path = "../whole.tfstate" }
"""


@pytest.fixture(scope="module")
def settings() -> Settings:
    return settings_from_dict(tomllib.loads(CONFIG), file="c")


def test_a_split_environment_has_its_stack_first_then_one_per_service(settings: Settings) -> None:
    # WHEN the layout of a split environment on S3 state is computed
    layout = StackLayout.of(settings.environments["split"])
    # THEN the environment's stack comes first, each service's own after it, each with its key
    assert layout.places == (
        StackPlace("split", None, "ecs-cd/split.tfstate", None),
        StackPlace("split-api", "api", "ecs-cd/split/api.tfstate", None),
        StackPlace("split-worker", "worker", "ecs-cd/split/worker.tfstate", None),
    )
    # AND a deploy of every service runs them all in that order; of one service, its stack alone
    assert layout.to_deploy(("api", "worker")) == ("split", "split-api", "split-worker")
    assert layout.to_deploy(("api", "worker"), only="worker") == ("split-worker",)
    assert layout.stack_of("api") == "split-api"


def test_a_whole_environment_is_one_stack_whose_local_state_is_below_the_output(settings: Settings) -> None:
    layout = StackLayout.of(settings.environments["whole"])
    # THEN one stack holds every service; a relative state path is relative to the stack's directory
    assert layout.places == (StackPlace("whole", None, None, "stacks/whole.tfstate"),)
    assert layout.to_deploy(("api", "worker")) == ("whole",)
    assert layout.stack_of("worker") == "whole"


def test_the_app_builds_exactly_the_layouts_stacks(settings: Settings) -> None:
    from cdktf import Testing

    # WHEN the app builds the stacks of the configuration
    built = add_stacks(Testing.app(), settings)
    # THEN they are the layouts' stacks, in the layouts' order
    assert tuple(built) == tuple(
        name for env in settings.environments.values() for name in StackLayout.of(env).names
    )
