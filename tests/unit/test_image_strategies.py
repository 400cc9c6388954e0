"""Image strategies in the synthesized JSON: timestamp, ssm-tag and digest (SSM or fixed tag)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cdktf import TerraformStack, Testing

from constructs_lib.cluster import EcsCluster
from constructs_lib.container import ContainerSettings
from constructs_lib.deployed_service import SsmTaggedService
from constructs_lib.image import EcrDigestImage
from stacks.settings import load_settings
from tests.conftest import TESTS_DIR, Synthesized, synth_all

REPO = "123456789012.dkr.ecr.us-east-1.amazonaws.com/strat-api"


@pytest.fixture(scope="module")
def out() -> dict[str, Synthesized]:
    return synth_all(load_settings(TESTS_DIR / "fixtures" / "strategies.toml"))


def _image(out: Synthesized, service: str) -> str:
    task = out.one("aws_ecs_task_definition", f"{service}/fargate/task")
    image: str = json.loads(task["container_definitions"])[0]["image"]
    return image


def _null_resources(out: Synthesized, service: str) -> list[str]:
    return [k for k in out.resources("null_resource") if k.startswith(f"{service}_")]


def test_timestamp_keeps_the_seed_pattern(out: dict[str, Synthesized]) -> None:
    dev = out["dev"]
    tag = dev.key("data", "aws_ssm_parameter", "stamped/image/tag")
    assert _image(dev, "stamped") == f"{REPO}:${{data.aws_ssm_parameter.{tag}.insecure_value}}"
    assert len(_null_resources(dev, "stamped")) == 1


def test_ssm_tag_reads_the_tag_and_has_no_null_resource(out: dict[str, Synthesized]) -> None:
    dev = out["dev"]
    tag = dev.key("data", "aws_ssm_parameter", "tagged/image/tag")
    assert dev.data("aws_ssm_parameter")[tag]["name"] == "/tagged/dev/docker-image-tag"
    assert _image(dev, "tagged") == f"{REPO}:${{data.aws_ssm_parameter.{tag}.insecure_value}}"
    assert _null_resources(dev, "tagged") == []


def test_digest_resolves_the_ssm_tag_through_ecr(out: dict[str, Synthesized]) -> None:
    dev = out["dev"]
    tag = dev.key("data", "aws_ssm_parameter", "pinned/image/tag")
    lookup_key = dev.key("data", "aws_ecr_image", "pinned/digest/lookup")
    assert dev.data("aws_ecr_image")[lookup_key] == {
        "repository_name": "strat-api",
        "registry_id": "123456789012",
        "image_tag": f"${{data.aws_ssm_parameter.{tag}.insecure_value}}",
    }
    assert _image(dev, "pinned") == f"{REPO}@${{data.aws_ecr_image.{lookup_key}.image_digest}}"
    assert _null_resources(dev, "pinned") == []


def test_digest_of_a_fixed_tag_needs_no_ssm(out: dict[str, Synthesized]) -> None:
    dev = out["dev"]
    lookup_key = dev.key("data", "aws_ecr_image", "latest/digest/lookup")
    assert dev.data("aws_ecr_image")[lookup_key]["image_tag"] == "latest"
    assert not [k for k in dev.data("aws_ssm_parameter") if k.startswith("latest_")]
    assert _image(dev, "latest") == f"{REPO}@${{data.aws_ecr_image.{lookup_key}.image_digest}}"
    assert _null_resources(dev, "latest") == []


def test_strategy_is_chosen_per_environment(out: dict[str, Synthesized]) -> None:
    # qa overrides stamped to digest: no null_resource there, one in dev
    assert len(_null_resources(out["dev"], "stamped")) == 1
    assert _null_resources(out["qa"], "stamped") == []
    assert "@${data.aws_ecr_image." in _image(out["qa"], "stamped")


def _service(**overrides: Any) -> None:
    stack = TerraformStack(Testing.app(), "s")
    cluster = EcsCluster(stack, "c", name="c")
    props: dict[str, Any] = {
        "cluster": cluster,
        "service_name": "api",
        "family": "f",
        "repository": REPO,
        "tag_parameter": "/api/dev/docker-image-tag",
        "container": ContainerSettings(name="api"),
        "region": "us-east-1",
        "subnets": ["subnet-0a1b2c3d"],
        "log_group_name": "/g",
        "execution_role_name": "r",
        "task_role_name": "t",
        "vpc_id": "vpc-0a1b2c3d",
        "security_group_name": "sg",
    }
    props.update(overrides)
    SsmTaggedService(stack, "svc", **props)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"image_strategy": "newest"}, "image_strategy must be one of"),
        ({"image_strategy": "ssm-tag", "fixed_tag": "latest"}, "fixed_tag needs image_strategy='digest'"),
        ({"image_strategy": "digest", "fixed_tag": "latest"}, "exactly one of tag_parameter and fixed_tag"),
        ({"image_strategy": "digest", "tag_parameter": None}, "exactly one of tag_parameter and fixed_tag"),
        ({"image_strategy": "ssm-tag", "tag_parameter": None}, "needs tag_parameter"),
        (
            {"image_strategy": "ssm-tag", "redeploy_command": ["x"]},
            "only apply to image_strategy='timestamp'",
        ),
        ({"image_strategy": "digest", "repository": "nginx"}, "needs an ECR repository"),
    ],
)
def test_contradictory_strategy_props_are_rejected(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _service(**overrides)


def test_digest_image_validates_a_literal_tag() -> None:
    stack = TerraformStack(Testing.app(), "s")
    with pytest.raises(ValueError, match="an image tag must match"):
        EcrDigestImage(stack, "d", repository=REPO, tag="not a tag")
