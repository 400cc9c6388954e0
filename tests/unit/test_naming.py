"""Validators and derived names shared by the stacks and the tooling."""

from __future__ import annotations

import pytest

from ecs_cd.core import aws_formats, names, task_sizes


@pytest.mark.parametrize(
    ("repository", "arn"),
    [
        (
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/api",
            "arn:aws:ecr:us-east-1:123456789012:repository/team/api",
        ),
        (
            "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/api",
            "arn:aws-cn:ecr:cn-north-1:123456789012:repository/api",
        ),
        ("public.ecr.aws/docker/library/nginx", None),
        ("nginx", None),
        ("ghcr.io/org/app", None),
    ],
)
def test_ecr_repository_arn(repository: str, arn: str | None) -> None:
    assert aws_formats.ecr_repository_arn(repository) == arn


@pytest.mark.parametrize(
    "good", ["nginx", "localhost:5000/a/b", "a.b-c/d__e", "123456789012.dkr.ecr.us-east-1.amazonaws.com/x"]
)
def test_repository_accepts(good: str) -> None:
    assert aws_formats.validate_repository(good) == good


@pytest.mark.parametrize(
    "bad", ["", "Nginx", "nginx:latest", "nginx@sha256:abc", "a//b", "-a", "a b", "/a", "a/", "x" * 256]
)
def test_repository_rejects(bad: str) -> None:
    with pytest.raises(ValueError, match="a repository must be"):
        aws_formats.validate_repository(bad)


@pytest.mark.parametrize("good", ["1.0.0", "latest", "_x", "a" * 128, "v1_2-3.4"])
def test_tag_accepts(good: str) -> None:
    assert aws_formats.validate_image_tag(good) == good


@pytest.mark.parametrize("bad", ["", ".x", "-x", "a" * 129, "a b", "a:b", "ä"])
def test_tag_rejects(bad: str) -> None:
    with pytest.raises(ValueError, match="an image tag must match"):
        aws_formats.validate_image_tag(bad)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("x", "must start with '/'"),
        ("/a b", "must start with '/'"),
        ("/a/", "must start with '/'"),
        ("/AWS/x", "must not start with 'aws'"),
        ("/ssm-x", "must not start with 'aws' or 'ssm'"),
        ("/a" * 16, "at most 15 levels"),
        ("/" + "a" * 1011, "at most 1011"),
    ],
)
def test_ssm_parameter_name_rejects(bad: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        aws_formats.validate_ssm_parameter_name(bad)


def test_every_fargate_pair_in_the_table_is_accepted() -> None:
    for cpu, memories in task_sizes.FARGATE_CPU_MEMORY.items():
        for memory in memories:
            task_sizes.validate_fargate_size(cpu, memory)
    assert task_sizes.FARGATE_CPU_MEMORY[256] == (512, 1024, 2048)
    assert task_sizes.FARGATE_CPU_MEMORY[4096][-1] == 30720


def test_longest_names_fit_aws_limits() -> None:
    # IAM role names are at most 64 characters: the longest allowed parts must fit.
    project = "p" * aws_formats.PROJECT_NAME_MAX
    env = "e" * aws_formats.ENVIRONMENT_NAME_MAX
    service = "s" * aws_formats.SERVICE_NAME_MAX
    assert len(names.execution_role_name(project, env, service)) <= 64
    assert aws_formats.validate_ssm_parameter_name(names.image_tag_parameter(service, env))
    assert aws_formats.validate_ecs_name(names.task_family(project, env, service))


def test_names_are_distinct_per_environment() -> None:
    assert names.cluster_name("p", "dev") != names.cluster_name("p", "prod")
    assert names.image_tag_parameter("api", "dev") == "/api/dev/docker-image-tag"
    assert names.log_group_name("p", "dev", "api") == "/ecs/p/dev/api"
