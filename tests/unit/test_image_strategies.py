"""Image strategies in the synthesized JSON: timestamp, ssm-tag and digest (SSM or fixed tag).

The strategy is a setting (the loader refuses a contradictory one: tests/unit/test_settings.py);
the constructs take an image source (``SsmTag``, ``EcrDigest``, ``Fixed``) and, for the
timestamp strategy, a ``Redeploy``. Their own rules are tested at the end.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from cdktf import TerraformStack, Testing

from constructs_lib.container import ContainerProps
from constructs_lib.image_lookup import EcrDigestImage
from constructs_lib.images import EcrDigest, Fixed, ImageSource, ResolvedImage, SsmTag
from constructs_lib.patterns import AppService, AppServiceProps, Redeploy
from constructs_lib.service import ServiceOptions
from constructs_lib.task_definition_props import TaskDefinitionProps
from ecs_cd.core.aws_formats import IMAGE_TAG_PATTERN
from stacks.settings import load_settings
from tests.conftest import TESTS_DIR, Synthesized, synth_all
from tests.terraform_text import parse_definitions

REPO = "123456789012.dkr.ecr.us-east-1.amazonaws.com/strat-api"


@pytest.fixture(scope="module")
def out() -> dict[str, Synthesized]:
    return synth_all(load_settings(TESTS_DIR / "fixtures" / "strategies.toml"))


def _image(out: Synthesized, service: str) -> str:
    task = out.one("aws_ecs_task_definition", f"{service}/fargate/task")
    image: str = parse_definitions(task["container_definitions"])[0]["image"]
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


def test_the_ssm_tag_is_checked_by_a_postcondition(out: dict[str, Synthesized]) -> None:
    # GIVEN the tag data source of a service reading its tag from SSM
    dev = out["dev"]
    tag = dev.data("aws_ssm_parameter")[dev.key("data", "aws_ssm_parameter", "tagged/image/tag")]
    # THEN a value that is no image tag fails the plan, naming the parameter
    (condition,) = tag["lifecycle"]["postcondition"]
    assert condition["condition"] == f'${{can(regex("^{IMAGE_TAG_PATTERN}$", self.insecure_value))}}'
    assert "/tagged/dev/docker-image-tag must hold an image tag" in condition["error_message"]


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


def _app_service(*, cluster_name: str | None = "c", redeploy: Redeploy | None = None) -> AppService:
    stack = TerraformStack(Testing.app(), "s")
    task = TaskDefinitionProps(
        family="f",
        containers=(
            ContainerProps(
                name="api", image=SsmTag(repository=REPO, parameter_name="/api/dev/docker-image-tag")
            ),
        ),
        region="us-east-1",
        log_group_name="/g",
        execution_role_name="r",
        task_role_name="t",
    )
    options = ServiceOptions(
        cluster_arn="arn:aws:ecs:us-east-1:123456789012:cluster/c",
        cluster_name=cluster_name,
        service_name="api",
        subnets=("subnet-0a1b2c3d",),
        vpc_id="vpc-0a1b2c3d",
        security_group_name="sg",
    )
    return AppService(stack, "svc", props=AppServiceProps(task=task, service=options, redeploy=redeploy))


@pytest.mark.parametrize(
    ("build", "message"),
    [
        # an image is one of the sources, not a strategy name
        (
            lambda: ContainerProps.model_validate({"name": "api", "image": "newest"}),
            r"image\.SsmTag\n  Input should be a valid dictionary or instance of SsmTag",
        ),
        # a fixed tag only with the digest strategy: SsmTag has no tag
        (
            lambda: SsmTag.model_validate({"repository": REPO, "parameter_name": "/x/tag", "tag": "latest"}),
            r"tag\n  Extra inputs are not permitted",
        ),
        # digest: exactly one of tag_parameter and tag
        (
            lambda: EcrDigest(repository=REPO, tag_parameter="/x/tag", tag="latest"),
            re.escape(
                "tag_parameter: set either tag (a fixed tag) or tag_parameter (the tag from SSM), not both"
            ),
        ),
        (
            lambda: EcrDigest(repository=REPO),
            re.escape("tag: set tag (a fixed tag) or tag_parameter (the tag from SSM)"),
        ),
        # the SSM tag needs its parameter
        (
            lambda: SsmTag.model_validate({"repository": REPO}),
            r"parameter_name\n  Field required",
        ),
        # the timestamp redeploy names the cluster
        (
            lambda: _app_service(cluster_name=None, redeploy=Redeploy()),
            re.escape("redeploy needs service.cluster_name"),
        ),
        # digest resolves through ECR
        (
            lambda: EcrDigest(repository="nginx", tag="latest"),
            "repository: 'digest' resolves the tag through ECR, so repository must be an ECR repository",
        ),
        (lambda: EcrDigest(repository=REPO, tag="not a tag"), "an image tag must match"),
    ],
)
def test_contradictory_image_props_are_rejected(build: Callable[[], object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build()


def test_digest_image_validates_a_literal_tag() -> None:
    stack = TerraformStack(Testing.app(), "s")
    with pytest.raises(ValueError, match="an image tag must match"):
        EcrDigestImage(stack, "d", repository=REPO, tag="not a tag")


def test_each_image_source_says_what_it_looks_up_and_whether_a_release_moves_it() -> None:
    ecr = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/api"
    # GIVEN one source of each kind
    sources: dict[str, ImageSource] = {
        "ssm": SsmTag(repository=ecr, parameter_name="/api/dev/tag"),
        "digest-of-ssm": EcrDigest(repository=ecr, tag_parameter="/api/dev/tag"),
        "digest-of-fixed": EcrDigest(repository=ecr, tag="1.2.3"),
        "fixed": Fixed(reference="public.ecr.aws/datadog/agent:7"),
        "token": ResolvedImage(reference="${data.aws_ecr_image.x.image_uri}"),
    }
    # THEN only a digest lookup queries ECR, in its repository's region
    assert {k: s.ecr_region for k, s in sources.items()} == {
        "ssm": None,
        "digest-of-ssm": "eu-west-1",
        "digest-of-fixed": "eu-west-1",
        "fixed": None,
        "token": None,
    }
    # AND only what reads its tag from SSM moves with a release
    assert [k for k, s in sources.items() if s.follows_releases] == ["ssm", "digest-of-ssm"]
    # AND each counts its longest form: a tag at 128, a digest at 64 hex, a token at 512
    assert [s.longest for s in sources.values()] == [len(ecr) + 129, len(ecr) + 72, len(ecr) + 72, 30, 512]
