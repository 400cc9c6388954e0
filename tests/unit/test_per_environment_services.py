"""Services per environment (issue 13): `enabled = false` leaves a service out of an
environment, and image_tag_parameter takes {project}, {service} and {env} placeholders."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import pytest
from cdktf import Testing

from constructs_lib.images import SsmTag
from ecs_cd.release.cli import main as release_main
from stacks.app import add_stacks
from stacks.settings import ConfigError, Settings, settings_from_dict

FILE = "conf.toml"
CONFIG = """
[project]
name = "shop"

[services.api]
repository = "123456789012.dkr.ecr.us-east-1.amazonaws.com/shop-api"
container_port = 8080
image_tag_parameter = "/{project}/{service}/{env}/docker-image-tag"

[services.api.containers.agent]
repository = "123456789012.dkr.ecr.us-east-1.amazonaws.com/agent"
image_tag_parameter = "/{project}/{env}/agent-tag"

[services.worker]
repository = "123456789012.dkr.ecr.us-east-1.amazonaws.com/shop-worker"
# a new service: only where an environment turns it on
enabled = false

[environments.dev]
region = "us-east-1"
network = { vpc_id = "vpc-0c1b2c3d4e5f60718", subnet_ids = ["subnet-0c1b2c3d4e5f60718"] }
state = { backend = "s3", bucket = "shop-state", key = "dev.tfstate", region = "us-east-1" }

[environments.dev.services.worker]
enabled = true

[environments.prod]
region = "us-east-1"
network = { vpc_id = "vpc-0c1b2c3d4e5f60718", subnet_ids = ["subnet-0c1b2c3d4e5f60718"] }
state = { backend = "s3", bucket = "shop-state", key = "prod.tfstate", region = "us-east-1" }
"""


def load(text: str = CONFIG) -> Settings:
    return settings_from_dict(tomllib.loads(text), file=FILE)


def problems(text: str) -> tuple[str, ...]:
    with pytest.raises(ConfigError) as caught:
        load(text)
    return caught.value.problems


@pytest.fixture(scope="module")
def settings() -> Settings:
    return load()


def test_placeholders_resolve_per_environment(settings: Settings) -> None:
    # THEN each environment reads its own parameters, for the app and for the sidecar
    for env in ("dev", "prod"):
        api = settings.environments[env].service("api")
        assert api.image_tag_parameter == f"/shop/api/{env}/docker-image-tag"
        agent = api.containers["agent"]
        assert isinstance(agent.image, SsmTag) and agent.image.parameter_name == f"/shop/{env}/agent-tag"


def test_a_disabled_service_is_only_where_an_environment_enables_it(settings: Settings) -> None:
    assert [s.name for s in settings.environments["dev"].services] == ["api", "worker"]
    assert [s.name for s in settings.environments["prod"].services] == ["api"]
    assert settings.environments["prod"].disabled_services == ("worker",)


def test_the_disabled_service_is_not_synthesized_there(settings: Settings) -> None:
    # WHEN both environments are synthesized
    stacks = add_stacks(Testing.app(), settings)

    def families(env: str) -> list[str]:
        stack: dict[str, Any] = json.loads(Testing.synth(stacks[env]))
        return sorted(t["family"] for t in stack["resource"]["aws_ecs_task_definition"].values())

    # THEN prod has no worker task, dev has both
    assert families("dev") == ["shop-dev-api", "shop-dev-worker"]
    assert families("prod") == ["shop-prod-api"]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ("/{project}/{service}/{env}/docker-image-tag", "/{project}/{region}/tag"),
            f"{FILE}: services.api.image_tag_parameter = '/{{project}}/{{region}}/tag': unknown placeholder "
            "{region}: the placeholders are {project}, {service}, {env}",
        ),
        (
            ('image_tag_parameter = "/{project}/{env}/agent-tag"', 'image_tag_parameter = "{project}-{env}"'),
            f"{FILE}: services.api.containers.agent.image_tag_parameter = 'shop-dev':",
        ),
        (
            (
                "[environments.dev.services.worker]\nenabled = true",
                '[environments.dev.services.worker]\nenabled = "no"',
            ),
            f"{FILE}: environments.dev.services.worker.enabled = 'no': must be true or false",
        ),
    ],
)
def test_mistakes_are_one_line_at_their_field(change: tuple[str, str], expected: str) -> None:
    old, new = change
    assert CONFIG.count(old) == 1
    found = problems(CONFIG.replace(old, new))
    assert any(line.startswith(expected) for line in found), found


def test_the_release_command_line_says_the_service_is_not_in_that_environment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "ecs-cd.toml"
    config.write_text(CONFIG)
    # WHEN a pipeline releases the worker to prod, where it is disabled
    code = release_main(["--json", "--config", str(config), "set-tag", "prod", "worker", "1.0.0"])
    # THEN it is bad input, before any AWS call, with the reason
    assert code == 2
    assert json.loads(capsys.readouterr().out)["error"] == (
        f"service 'worker' is not deployed to environment 'prod' (enabled = false in {config})"
    )


def test_the_container_port_may_differ_per_environment() -> None:
    text = CONFIG + "\n[environments.prod.services.api]\ncontainer_port = 9090\n"
    settings = load(text)
    assert settings.environments["dev"].service("api").app.container_port == 8080
    assert settings.environments["prod"].service("api").app.container_port == 9090


def test_a_digest_lookup_in_another_region_gets_a_provider_for_it() -> None:
    # GIVEN a digest service whose repository is in us-west-2 (another account), in a us-east-1
    # environment, with a sidecar whose repository is in us-east-1
    old_repository = 'repository = "123456789012.dkr.ecr.us-east-1.amazonaws.com/shop-api"'
    text = CONFIG.replace(
        old_repository,
        'repository = "210987654321.dkr.ecr.us-west-2.amazonaws.com/shop-api"\nimage_strategy = "digest"',
    )
    stacks = add_stacks(Testing.app(), load(text))
    dev: dict[str, Any] = json.loads(Testing.synth(stacks["dev"]))
    # THEN the stack has a provider for us-west-2 with the environment's settings
    providers = {p.get("alias", "default"): p for p in dev["provider"]["aws"]}
    assert sorted(providers) == ["aws_us_west_2", "default"]
    assert providers["aws_us_west_2"]["region"] == "us-west-2"
    assert providers["aws_us_west_2"]["default_tags"] == providers["default"]["default_tags"]
    # AND the app's lookup asks ECR there, in the repository's account; the sidecar's at home
    lookups = {body["repository_name"]: body for body in dev["data"]["aws_ecr_image"].values()}
    assert lookups["shop-api"]["provider"] == "aws.aws_us_west_2"
    assert lookups["shop-api"]["registry_id"] == "210987654321"
    assert "provider" not in lookups["agent"]
