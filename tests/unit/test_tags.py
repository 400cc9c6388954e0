"""Tags (issue 13): the provider's default_tags carry the tool's, the project's and the
environment's; every taggable resource of a service also carries Service and the service's
own; keys and values are checked against AWS's rules, and never echo a credential."""

from __future__ import annotations

import json
import tomllib
from typing import Any

import pytest
from cdktf import Testing

from stacks.app import add_stacks
from stacks.settings import ConfigError, settings_from_dict

FILE = "conf.toml"
PASSWORD = "hunter2-Secret"
CONFIG = """
[project]
name = "shop"
tags = { CostCenter = "4711", Owner = "platform" }

[services.api]
repository = "123456789012.dkr.ecr.us-east-1.amazonaws.com/shop-api"
container_port = 8080
load_balancer = { path_patterns = ["/*"], priority = 10 }
tags = { Team = "payments" }

[environments.dev]
region = "us-east-1"
network = { vpc_id = "vpc-0c1b2c3d4e5f60718", subnet_ids = ["subnet-0c1b2c3d4e5f60718"] }
state = { backend = "s3", bucket = "shop-state", key = "dev.tfstate", region = "us-east-1" }
tags = { Owner = "dev-team" }

[environments.dev.load_balancer]
listener_arn = "LISTENER"
security_group_id = "sg-0caa2c3d4e5f60718"

[environments.dev.services.api]
tags = { Tier = "web" }
""".replace(
    "LISTENER",
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/s/0c1b2c3d4e5f6071/0c1b2c3d4e5f6071",
)


@pytest.fixture(scope="module")
def dev() -> dict[str, Any]:
    settings = settings_from_dict(tomllib.loads(CONFIG), file=FILE)
    parsed: dict[str, Any] = json.loads(Testing.synth(add_stacks(Testing.app(), settings)["dev"]))
    return parsed


def test_the_provider_tags_everything_with_the_project_and_the_environment(dev: dict[str, Any]) -> None:
    (provider,) = dev["provider"]["aws"]
    # the environment's Owner wins over the project's
    assert provider["default_tags"] == [
        {
            "tags": {
                "Project": "shop",
                "Environment": "dev",
                "ManagedBy": "ecs-cd",
                "CostCenter": "4711",
                "Owner": "dev-team",
            }
        }
    ]


def test_every_taggable_resource_of_the_service_says_which_and_carries_its_tags(dev: dict[str, Any]) -> None:
    service_tags = {"Service": "api", "Team": "payments", "Tier": "web"}
    tagged = {
        kind: [body.get("tags") for body in bodies.values()]
        for kind, bodies in dev["resource"].items()
        if kind != "aws_ecs_cluster"
    }
    for kind in (
        "aws_ecs_service",
        "aws_ecs_task_definition",
        "aws_cloudwatch_log_group",
        "aws_iam_role",
        "aws_security_group",
        "aws_lb_target_group",
        "aws_lb_listener_rule",
    ):
        assert tagged[kind] and all(t == service_tags for t in tagged[kind]), (kind, tagged[kind])
    # resources without tags in their schema are left alone
    assert tagged["null_resource"] == [None]
    (cluster,) = dev["resource"]["aws_ecs_cluster"].values()
    assert "tags" not in cluster  # shared by every service: the default tags only
    (service,) = dev["resource"]["aws_ecs_service"].values()
    assert service["propagate_tags"] == "SERVICE"


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            'Team = "payments"',
            'Project = "x"',
            "services.api.tags.Project = 'Project': the keys Project, Environment, Service, ManagedBy",
        ),
        ('Team = "payments"', '"aws:team" = "x"', "must not start with 'aws:'"),
        ('Team = "payments"', 'Team = "a{b}"', "a tag value must be at most 256 letters"),
        ('Owner = "dev-team"', f'DB_PASSWORD = "{PASSWORD}"', "a tag's key names a credential"),
        (
            'Owner = "dev-team"',
            f'Repo = "https://ci:{PASSWORD}@git.example.com/x"',
            "a tag value holds a password",
        ),
    ],
)
def test_tag_mistakes_are_one_line_without_the_value(old: str, new: str, expected: str) -> None:
    assert CONFIG.count(old) == 1
    with pytest.raises(ConfigError) as caught:
        settings_from_dict(tomllib.loads(CONFIG.replace(old, new)), file=FILE)
    lines = [line for line in caught.value.problems if expected in line]
    assert len(lines) == 1, caught.value.problems
    assert PASSWORD not in lines[0]


def test_more_tags_than_aws_allows_on_a_resource_are_refused() -> None:
    many = ", ".join(f'T{i} = "v"' for i in range(45))
    text = CONFIG.replace('tags = { Team = "payments" }', f"tags = {{ {many} }}")
    with pytest.raises(ConfigError) as caught:
        settings_from_dict(tomllib.loads(text), file=FILE)
    assert any(
        "service api's resources would carry 52 tags" in line and "AWS allows 50 per resource" in line
        for line in caught.value.problems
    ), caught.value.problems


# Credential shapes, built from parts (AWS's documented example keys; tokens that are no one's).
AWS_KEY_ID = "AKIA" + "IOSFODNN7EXAMPLE"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG" + "/bPxRfiCYEXAMPLEKEY"
GITHUB_TOKEN = "ghp_" + "x1Y2z3W4" * 5
SLACK_TOKEN = "xoxb-" + "1234567890-abcdEFGHijkl"
PEM = "-----BEGIN RSA " + "PRIVATE KEY-----"


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        (AWS_KEY_ID, "an AWS access key id"),
        ("ASIA" + "Y34FZKBOKMUTVV7A", "an AWS access key id"),
        (f"key {AWS_KEY_ID} of ci", "an AWS access key id"),
        (AWS_SECRET, "an AWS secret access key"),
        (GITHUB_TOKEN, "a GitHub token"),
        ("gho_" + "A1b2C3d4" * 5, "a GitHub token"),
        (SLACK_TOKEN, "a Slack token"),
        (PEM, "a private key"),
        # a whole key, line breaks included, is named as a key (not as bad characters)
        (f"{PEM}\\nMIIEowIBAAKCAQEA\\n-----END RSA PRIVATE KEY-----", "a private key"),
    ],
)
def test_a_credential_shaped_tag_value_is_refused_without_echoing_it(value: str, kind: str) -> None:
    # GIVEN a tag whose key says nothing, but whose value has a credential's shape
    text = CONFIG.replace('Owner = "dev-team"', f'Note = "{value}"')
    # WHEN the configuration is loaded
    with pytest.raises(ConfigError) as caught:
        settings_from_dict(tomllib.loads(text), file=FILE)
    # THEN one line says what it looks like, and neither the value nor its secret part is in it
    lines = [line for line in caught.value.problems if f"a tag value looks like {kind}" in line]
    assert len(lines) == 1, caught.value.problems
    assert "environments.dev.tags.Note" in lines[0]
    secret = value.replace("\\n", "\n")
    for part in (secret, secret[4:24], secret[-12:]):
        assert all(part not in line for line in caught.value.problems), (part, caught.value.problems)


@pytest.mark.parametrize(
    "value",
    [
        "4f2a9c1e8b7d6a5f4e3d2c1b0a9f8e7d6c5b4a39",  # a git commit id (40 hex digits)
        "arn:aws:iam::123456789012:role/deployer",
        "platform/payments/checkout-api/v1.2.3",
        "AKIAPOLITAN",  # the prefix in a word
        "ghp_short",
        "BEGIN PRIVATE KEY",
        "a" * 40,
    ],
)
def test_tag_values_that_only_resemble_a_credential_pass(value: str) -> None:
    text = CONFIG.replace('Owner = "dev-team"', f'Note = "{value}"')
    settings = settings_from_dict(tomllib.loads(text), file=FILE)
    assert settings.environments["dev"].tags["Note"] == value
