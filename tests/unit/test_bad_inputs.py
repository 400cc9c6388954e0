"""Bad inputs AWS or Terraform would refuse (issue 16): each is rejected when the configuration
loads, before synth, as one line naming the file, the field, the value (never a credential)
and what is allowed; the constructs refuse the same values with the same rule."""

from __future__ import annotations

import copy
import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from constructs_lib.container import ContainerProps, HealthCheck
from constructs_lib.ec2_capacity_props import Ec2CapacityProps
from constructs_lib.images import Fixed
from constructs_lib.service import ServiceOptions
from constructs_lib.service_props import Compute, ListenerRule
from constructs_lib.task_definition_props import TaskDefinitionProps
from stacks.settings import ConfigError, load_settings, settings_from_dict
from tests.conftest import FIXTURE_CONFIG

FILE = "conf.toml"
# in the fixture, dev and staging run in eu-west-1 and prod in eu-central-1
US_KMS_KEY = "arn:aws:kms:us-east-1:222222222222:key/0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9"
US_LISTENER = (
    "arn:aws:elasticloadbalancing:us-east-1:222222222222:listener/app/shop-dev/"
    "0123456789abcdef/0123456789abcdef"
)
US_CERTIFICATE = "arn:aws:acm:us-east-1:222222222222:certificate/0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9"
US_WEB_ACL = (
    "arn:aws:wafv2:us-east-1:222222222222:regional/webacl/shop-staging/0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9"
)
CN_KMS_KEY = "arn:aws-cn:kms:eu-west-1:222222222222:key/0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9"


def base() -> dict[str, Any]:
    return tomllib.loads(FIXTURE_CONFIG.read_text())


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def apply(raw: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node = raw
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value

    return apply


def _both(*mutations: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    def apply(raw: dict[str, Any]) -> None:
        for mutate in mutations:
            mutate(raw)

    return apply


def _copy_environment(name: str, new: str, *, state_key: str) -> Callable[[dict[str, Any]], None]:
    """Another environment like ``name`` (not split), on its own state."""

    def apply(raw: dict[str, Any]) -> None:
        source = raw["environments"][name]
        state = source["state"] | {"key": state_key}
        raw["environments"][new] = source | {"stack_per_service": False, "state": state}

    return apply


def problems_of(raw: dict[str, Any], **kwargs: Any) -> tuple[str, ...]:
    with pytest.raises(ConfigError) as caught:
        settings_from_dict(raw, file=FILE, **kwargs)
    return caught.value.problems


# --- 1. credentials are never echoed ---------------------------------------------------------

PASSWORD = "s3cr3t-Pa55"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DATABASE_URL", "postgres://db.internal:5432/shop"),
        ("SENTRY_DSN", "https://abc@o1.ingest.sentry.io/1"),
        ("APP_KEY", "base64:abcdef"),
        ("STRIPE_APIKEY", "sk_live_abc"),
        ("CONNECTION_STRING", "Server=db;Database=shop"),
        ("REDIS_URL", f"redis://cache:{PASSWORD}@redis.internal:6379"),
        # a URL with a password is a credential whatever the variable's name
        ("UPSTREAM", f"https://deploy:{PASSWORD}@git.example.com/repo.git"),
        ("BROKER", f"amqp://:{PASSWORD}@mq.internal"),
        ("CACHE_URL", f"cache:{PASSWORD}@redis.internal:6379"),
    ],
)
def test_credentials_in_environment_are_refused_without_their_value(name: str, value: str) -> None:
    # GIVEN a plain environment variable that holds a credential: by its common name, or a URL
    # (any variable) or a *_URL value with a password
    raw = base()
    raw["services"]["worker"]["environment"] = {name: value}
    # WHEN loaded
    problems = problems_of(raw)
    # THEN one line names the variable and sends it to secrets, and no line holds the value
    lines = [p for p in problems if p.startswith(f"{FILE}: services.worker.environment.{name}: ")]
    assert len(lines) == 1, problems
    assert "secrets" in lines[0]
    assert all(value not in p and PASSWORD not in p for p in problems), problems
    # and the construct refuses it with the same rule, without the value either
    with pytest.raises(ValueError, match=f"environment.{name}: ") as caught:
        ContainerProps(name="a", image=Fixed(reference="nginx:1.27"), environment={name: value})
    assert value not in str(caught.value) and PASSWORD not in str(caught.value)


@pytest.mark.parametrize(
    "table",
    [
        "services.worker.secrets",
        "services.worker.log_secret_options",
        "environments.dev.services.api.secrets",
    ],
)
def test_a_secret_value_written_where_its_arn_belongs_is_not_echoed(table: str) -> None:
    # GIVEN a secret's value where its ARN belongs
    raw = base()
    _set(table, {"X": PASSWORD})(raw)
    # WHEN loaded
    problems = problems_of(raw)
    # THEN the field is named with what is allowed, and the value appears nowhere
    assert any(p.startswith(f"{FILE}: {table}.X: ") and "full ARN" in p for p in problems), problems
    assert all(PASSWORD not in p for p in problems), problems


def test_no_problem_line_shows_a_password_of_a_url() -> None:
    # GIVEN a URL with a password in fields that are refused for another reason
    raw = base()
    raw["services"]["worker"]["repository"] = f"https://ci:{PASSWORD}@registry.example.com/worker"
    # WHEN loaded THEN the field is reported but the password is masked
    problems = problems_of(raw)
    assert any(p.startswith(f"{FILE}: services.worker.repository = ") for p in problems), problems
    assert all(PASSWORD not in p for p in problems), problems


# Credentials by their shape, built from parts (AWS's documented example key id; a key body of no one).
AWS_KEY_ID = "AKIA" + "IOSFODNN7EXAMPLE"
SESSION_KEY_ID = "ASIA" + "Y34FZKBOKMUTVV7A"
KEY_BODY = "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun"
PRIVATE_KEY = "-----BEGIN RSA " + f"PRIVATE KEY-----\n{KEY_BODY}\n-----END RSA PRIVATE KEY-----\n"
# (kind as the error names it, the value, its secret part: no 8 characters of it may be shown)
CREDENTIALS = [
    ("an AWS access key id", AWS_KEY_ID, AWS_KEY_ID[4:]),
    ("an AWS access key id", SESSION_KEY_ID, SESSION_KEY_ID[4:]),
    ("a private key", PRIVATE_KEY, KEY_BODY),
]


def assert_never_shown(secret: str, problems: tuple[str, ...]) -> None:
    for start in range(len(secret) - 7):
        part = secret[start : start + 8]
        assert all(part not in p for p in problems), (part, problems)


@pytest.mark.parametrize(
    "table",
    ["project.tags", "environments.dev.tags", "services.api.tags", "environments.dev.services.api.tags"],
)
@pytest.mark.parametrize(("kind", "value", "secret"), CREDENTIALS)
def test_a_credential_in_a_tag_value_is_named_by_its_kind_and_never_shown(
    table: str, kind: str, value: str, secret: str
) -> None:
    # GIVEN a tag whose value is a credential, in any table of tags
    raw = base()
    _set(table, {"Note": value})(raw)
    # WHEN loaded
    problems = problems_of(raw)
    # THEN one line names the tag and the kind of credential, and no part of it is shown anywhere
    assert [p for p in problems if p.startswith(f"{FILE}: {table}.Note")] == [
        f"{FILE}: {table}.Note: a tag value looks like {kind}: tags are readable by anyone who may list "
        "the resource"
    ], problems
    assert_never_shown(secret, problems)


@pytest.mark.parametrize(("kind", "value", "secret"), CREDENTIALS)
@pytest.mark.parametrize("tag_value", ["x", "same"])
def test_a_credential_as_a_tag_key_is_named_by_its_kind_and_never_shown(
    kind: str, value: str, secret: str, tag_value: str
) -> None:
    # GIVEN a tag whose key is a credential (its value a word, or the credential again)
    raw = base()
    raw["services"]["api"]["tags"] = {value: value if tag_value == "same" else tag_value}
    # WHEN loaded
    problems = problems_of(raw)
    # THEN the key is refused by its kind, named by its kind in the path, and never shown
    assert f"{FILE}: services.api.tags.<{kind}, not shown>: a tag key looks like {kind}" in "\n".join(
        problems
    ), problems
    assert_never_shown(secret, problems)


@pytest.mark.parametrize(("kind", "value", "secret"), CREDENTIALS)
@pytest.mark.parametrize(
    ("field", "written"),
    [
        # refused for their format, by pydantic
        ("services.worker.repository", lambda v: v),
        ("environments.dev.aws.profile", lambda v: f"{v} x"),
        (
            "environments.dev.aws",
            lambda v: {"role_arn": "arn:aws:iam::222222222222:role/d", "external_id": v + "!"},
        ),
        ("services.worker.environment.NOTE", lambda v: [v]),
        ("services.worker.health_check.command", lambda v: ["CMD", v, 1]),
        # refused by the loader's own check, whose line shows the value
        ("environments.prod.redeploy_command", lambda v: ["{unknown}", v]),
    ],
)
def test_a_credential_in_any_refused_field_is_never_shown(
    kind: str, value: str, secret: str, field: str, written: Callable[[str], Any]
) -> None:
    # GIVEN a credential in a field that refuses it for another reason
    raw = base()
    _set(field, written(value))(raw)
    # WHEN loaded THEN the field is reported, and no part of the credential is shown
    problems = problems_of(raw)
    assert any(p.startswith(f"{FILE}: {field}") for p in problems), problems
    assert_never_shown(secret, problems)


# --- 2. bad inputs AWS or Terraform refuses -----------------------------------------------------

# (mutation, start of the problem line, a phrase of what is allowed)
INVALID: dict[str, tuple[Callable[[dict[str, Any]], None], str, str]] = {
    "empty local state path": (
        _set("environments.local.state.path", ""),
        "environments.local.state.path = ''",
        "a local state path must be",
    ),
    "blank local state path": (
        _set("environments.local.state.path", "  "),
        "environments.local.state.path = '  '",
        "a local state path must be",
    ),
    "CMD-SHELL without a command": (
        _set("services.api.health_check", {"command": ["CMD-SHELL"]}),
        "services.api.health_check.command = ['CMD-SHELL']",
        "'CMD-SHELL' needs the command",
    ),
    "CMD-SHELL with a blank command": (
        _set("services.api.health_check", {"command": ["CMD-SHELL", " "]}),
        "services.api.health_check.command = ['CMD-SHELL', ' ']",
        "'CMD-SHELL' needs the command",
    ),
    "CMD without an executable": (
        _set("services.api.health_check", {"command": ["CMD"]}),
        "services.api.health_check.command = ['CMD']",
        "'CMD' needs the executable",
    ),
    "CMD with an empty executable": (
        _set("services.api.health_check", {"command": ["CMD", "", "-f"]}),
        "services.api.health_check.command = ['CMD', '', '-f']",
        "'CMD' needs the executable",
    ),
    "created load balancer named internal-": (
        _set("project.name", "internal"),
        "project.name = 'internal'",
        "must not start with 'internal-'",
    ),
    "security group named sg-": (
        _set("project.name", "sg-shop"),
        "project.name = 'sg-shop'",
        "must not start with 'sg-'",
    ),
    "secrets KMS key in another region": (
        _set("environments.dev.services.api.secrets_kms_key_arn", US_KMS_KEY),
        f"environments.dev.services.api.secrets_kms_key_arn = '{US_KMS_KEY}'",
        "environment's region (eu-west-1)",
    ),
    "secrets KMS key in another partition": (
        _set("environments.dev.services.api.secrets_kms_key_arn", CN_KMS_KEY),
        f"environments.dev.services.api.secrets_kms_key_arn = '{CN_KMS_KEY}'",
        "partition (aws)",
    ),
    "log KMS key in another region": (
        _set("environments.prod.log_kms_key_arn", US_KMS_KEY),
        f"environments.prod.log_kms_key_arn = '{US_KMS_KEY}'",
        "environment's region (eu-central-1)",
    ),
    "listener in another region": (
        _set("environments.dev.load_balancer.listener_arn", US_LISTENER),
        f"environments.dev.load_balancer.listener_arn = '{US_LISTENER}'",
        "environment's region (eu-west-1)",
    ),
    "certificate in another region": (
        _set("environments.staging.load_balancer.certificate_arn", US_CERTIFICATE),
        f"environments.staging.load_balancer.certificate_arn = '{US_CERTIFICATE}'",
        "environment's region (eu-west-1)",
    ),
    "web ACL in another region": (
        _set("environments.staging.load_balancer.web_acl_arn", US_WEB_ACL),
        f"environments.staging.load_balancer.web_acl_arn = '{US_WEB_ACL}'",
        "environment's region (eu-west-1)",
    ),
    "two environments on one state": (
        _set("environments.staging.state.key", "shop/dev.tfstate"),
        "environments.staging.state.key = 'shop/dev.tfstate'",
        "also the state of environments.dev",
    ),
    "an environment on the state of a split environment's service": (
        _both(
            _set("environments.dev.stack_per_service", True),
            _set("environments.staging.state.key", "shop/dev/api.tfstate"),
        ),
        "environments.staging.state.key = 'shop/dev/api.tfstate'",
        "also the state of environments.dev's service api",
    ),
    "two environments on one local state file": (
        _both(
            _set("environments.local.state.path", "/var/lib/shop.tfstate"),
            _set("environments.dev.state", {"backend": "local", "path": "/var/lib/shop.tfstate"}),
        ),
        "environments.dev.state.path = '/var/lib/shop.tfstate'",
        "also the state of environments.local",
    ),
    "a split environment's service stack named like another environment": (
        _both(
            _set("environments.dev.stack_per_service", True),
            _copy_environment("dev", "dev-api", state_key="shop/dev-api.tfstate"),
        ),
        "environments.dev.stack_per_service = true: the stack of its service api would be named 'dev-api'",
        "each stack needs its own name",
    ),
    "nonexistent region": (
        _set("environments.dev.region", "us-east-7"),
        "environments.dev.region = 'us-east-7'",
        "one of AWS's regions",
    ),
    "nonexistent state bucket region": (
        _set("environments.dev.state.region", "eu-west-9"),
        "environments.dev.state.region = 'eu-west-9'",
        "one of AWS's regions",
    ),
    "state bucket with adjacent dots": (
        _set("environments.dev.state.bucket", "demo..state"),
        "environments.dev.state.bucket = 'demo..state'",
        "two adjacent periods",
    ),
    "state bucket like an IP address": (
        _set("environments.dev.state.bucket", "192.168.1.1"),
        "environments.dev.state.bucket = '192.168.1.1'",
        "an IP address",
    ),
    "state bucket with xn-- prefix": (
        _set("environments.dev.state.bucket", "xn--demo-state"),
        "environments.dev.state.bucket = 'xn--demo-state'",
        "'xn--'",
    ),
    "state bucket with -s3alias suffix": (
        _set("environments.dev.state.bucket", "demo-state-s3alias"),
        "environments.dev.state.bucket = 'demo-state-s3alias'",
        "'-s3alias'",
    ),
    "state bucket in upper case": (
        _set("environments.dev.state.bucket", "Demo-State"),
        "environments.dev.state.bucket = 'Demo-State'",
        "lower-case letters",
    ),
    "access logs bucket with adjacent dots": (
        _set("environments.staging.load_balancer.access_logs_bucket", "shop..logs"),
        "environments.staging.load_balancer.access_logs_bucket = 'shop..logs'",
        "two adjacent periods",
    ),
    "access logs bucket like an IP address": (
        _set("environments.staging.load_balancer.access_logs_bucket", "10.0.0.1"),
        "environments.staging.load_balancer.access_logs_bucket = '10.0.0.1'",
        "an IP address",
    ),
    "five more security groups": (
        _set("environments.dev.network.security_group_ids", [f"sg-0a1b2c3d4e5f6071{i}" for i in range(5)]),
        "environments.dev.network.security_group_ids = [",
        "at most 4 security groups",
    ),
    "seventeen subnets": (
        _set("environments.dev.network.subnet_ids", [f"subnet-0a1b2c3d4e5f607{i:02d}" for i in range(17)]),
        "environments.dev.network.subnet_ids = [",
        "at most 16 subnets",
    ),
    "six condition values": (
        _set(
            "services.api.load_balancer",
            {"path_patterns": ["/a", "/b", "/c", "/d"], "host_headers": ["a.example.com", "b.example.com"]}
            | {"priority": 10},
        ),
        "services.api.load_balancer = ",
        "at most 5 condition values",
    ),
    "six wildcards": (
        _set("services.api.load_balancer", {"path_patterns": ["/a*/b*/c*", "/d?/e*/f*"], "priority": 10}),
        "services.api.load_balancer = ",
        "at most 5 wildcards",
    ),
    "null provider constraint latest": (
        _set("terraform.null_provider_version", "latest"),
        "terraform.null_provider_version = 'latest'",
        "version constraint",
    ),
    "null provider constraint with a wildcard": (
        _set("terraform.null_provider_version", "3.x"),
        "terraform.null_provider_version = '3.x'",
        "version constraint",
    ),
    "null provider constraint without a version": (
        _set("terraform.null_provider_version", ">= 2.1.2, <"),
        "terraform.null_provider_version = '>= 2.1.2, <'",
        "version constraint",
    ),
    # ECS refuses these at apply (issue 26): each is refused at load, at its field
    "HEALTHY on a container without a health check": (
        _both(
            _set("services.worker.containers", {"init": {"image": "busybox:1.36", "essential": False}}),
            _set("services.worker.depends_on", {"init": "HEALTHY"}),
        ),
        "services.worker.depends_on.init = 'HEALTHY'",
        "init has no health_check, so it never reports HEALTHY",
    ),
    "HEALTHY on a container whose health check is NONE": (
        _both(
            _set(
                "services.worker.containers",
                {
                    "init": {
                        "image": "busybox:1.36",
                        "essential": False,
                        "health_check": {"command": ["NONE"]},
                    }
                },
            ),
            _set("services.worker.depends_on", {"init": "HEALTHY"}),
        ),
        "services.worker.depends_on.init = 'HEALTHY'",
        "init has no health_check",
    ),
    "SUCCESS on an essential container": (
        _both(
            _set("services.worker.containers", {"init": {"image": "busybox:1.36"}}),
            _set("services.worker.depends_on", {"init": "SUCCESS"}),
        ),
        "services.worker.depends_on.init = 'SUCCESS'",
        "init is essential, and ECS waits for SUCCESS only on a container with essential = false",
    ),
    "COMPLETE on the app, which is always essential": (
        _set(
            "services.worker.containers",
            {"init": {"image": "busybox:1.36", "essential": False, "depends_on": {"worker": "COMPLETE"}}},
        ),
        "services.worker.containers.init.depends_on.worker = 'COMPLETE'",
        "worker is essential, and ECS waits for COMPLETE only on a container with essential = false",
    ),
    "a bridge task on EC2 where tasks get a public IP": (
        _both(
            _set("services.worker.network_mode", "bridge"),
            _set("services.worker.compute", {"launch_type": "EC2"}),
        ),
        "services.worker.compute: runs on EC2, where ECS refuses a public IP per task",
        "environments.local.network.assign_public_ip = true",
    ),
    "a host-network task on EC2 where tasks get a public IP": (
        _both(
            _set("services.worker.network_mode", "host"),
            _set("services.worker.compute", {"launch_type": "EC2"}),
        ),
        "services.worker.compute: runs on EC2, where ECS refuses a public IP per task",
        "environments.local.network.assign_public_ip = true",
    ),
    **{
        f"capacity provider {name}": (
            _set("services.worker.compute", {"capacity_provider_strategy": [{"capacity_provider": name}]}),
            f"services.worker.compute.capacity_provider_strategy[0].capacity_provider = '{name}'",
            "written exactly FARGATE or FARGATE_SPOT, or an EC2 provider, whose name ECS refuses to start "
            "with 'aws', 'ecs' or 'fargate' in any case",
        )
        for name in ("FARGATE-SPOT", "fargate_spot", "Fargate", "FARGATE_SPOT_2", "ecs-pool", "AWS_pool")
    },
    "EC2 capacity named with a reserved prefix": (
        _set("environments.dev.ec2_capacity", {"instance_type": "t3.small", "name": "Fargate-pool"}),
        "environments.dev.ec2_capacity.name = 'Fargate-pool'",
        "must not start with 'aws', 'ecs' or 'fargate' in any case",
    ),
    "a China role for an eu-west-1 environment": (
        _set("environments.dev.aws", {"role_arn": "arn:aws-cn:iam::222222222222:role/deployer"}),
        "environments.dev.aws.role_arn = 'arn:aws-cn:iam::222222222222:role/deployer'",
        "partition of the environment's region (eu-west-1: aws), not aws-cn",
    ),
    "a commercial role for a China environment": (
        _both(
            _set("environments.prod.region", "cn-north-1"),
            _set("environments.prod.aws", {"role_arn": "arn:aws:iam::333333333333:role/deployer"}),
        ),
        "environments.prod.aws.role_arn = 'arn:aws:iam::333333333333:role/deployer'",
        "partition of the environment's region (cn-north-1: aws-cn), not aws",
    ),
    "a commercial role for a GovCloud environment": (
        _both(
            _set("environments.prod.region", "us-gov-west-1"),
            _set("environments.prod.aws", {"role_arn": "arn:aws:iam::333333333333:role/deployer"}),
        ),
        "environments.prod.aws.role_arn = 'arn:aws:iam::333333333333:role/deployer'",
        "partition of the environment's region (us-gov-west-1: aws-us-gov), not aws",
    ),
    "eleven containers in a task": (
        _set(
            "services.worker.containers",
            {f"s{i}": {"image": "busybox:1.36", "essential": False} for i in range(10)},
        ),
        "services.worker.containers: the task would have 11 containers",
        "ECS allows at most 10 per task definition",
    ),
    "eleven containers in a task by an environment's override": (
        _set(
            "environments.dev.services.worker",
            {"containers": {f"s{i}": {"image": "busybox:1.36", "essential": False} for i in range(10)}},
        ),
        "environments.dev.services.worker.containers: the task would have 11 containers",
        "ECS allows at most 10 per task definition",
    ),
}


@pytest.mark.parametrize("case", sorted(INVALID))
def test_inputs_aws_or_terraform_refuses_are_one_clear_line(case: str) -> None:
    mutate, start, allowed = INVALID[case]
    # GIVEN a valid configuration with one input AWS or Terraform would refuse
    raw = copy.deepcopy(base())
    mutate(raw)
    # WHEN it is loaded THEN exactly one line names the file, the field, the value and what is allowed
    problems = problems_of(raw)
    matching = [p for p in problems if p.startswith(f"{FILE}: {start}")]
    assert len(matching) == 1, problems
    assert allowed in matching[0], matching[0]


def test_all_these_mistakes_are_reported_together() -> None:
    # GIVEN several of these mistakes in one file
    raw = base()
    cases = (
        "empty local state path",
        "nonexistent region",
        "six wildcards",
        "state bucket like an IP address",
    )
    for case in cases:
        INVALID[case][0](raw)
    # WHEN loaded THEN each is one line of the one error
    problems = problems_of(raw)
    for case in cases:
        assert any(p.startswith(f"{FILE}: {INVALID[case][1]}") for p in problems), (case, problems)


def test_valid_neighbours_of_these_limits_load() -> None:
    # GIVEN values right at AWS's limits: 4 more security groups, 16 subnets, 5 condition values
    # with 5 wildcards, a bucket name with dots, constraints as Terraform writes them
    raw = base()
    network = raw["environments"]["dev"]["network"]
    network["security_group_ids"] = [f"sg-0a1b2c3d4e5f6071{i}" for i in range(4)]
    network["subnet_ids"] = [f"subnet-0a1b2c3d4e5f607{i:02d}" for i in range(16)]
    raw["services"]["api"]["load_balancer"] = {
        "path_patterns": ["/a*", "/b?", "/c*"],
        "host_headers": ["*.example.com", "a?.example.com"],
        "priority": 10,
    }
    raw["environments"]["dev"]["state"]["bucket"] = "shop.tf-state.eu"
    raw["terraform"] = {"null_provider_version": "~> 3.2.4, != 3.2.3-beta1"}
    # WHEN loaded THEN it is accepted
    settings = settings_from_dict(raw, file=FILE)
    assert len(settings.environments["dev"].network.subnet_ids) == 16


def test_valid_neighbours_of_the_ecs_rules_load() -> None:
    # GIVEN the nearest valid forms of the rules above: HEALTHY on a container with a health
    # check, SUCCESS and COMPLETE on non-essential ones, 10 containers, Fargate's providers as
    # written, an EC2 provider of another name, an EC2 task where tasks get no public IP, a role
    # of the environment's partition
    raw = base()
    sidecars: dict[str, Any] = {f"s{i}": {"image": "busybox:1.36", "essential": False} for i in range(7)}
    sidecars["checked"] = {"image": "busybox:1.36", "health_check": {"command": ["CMD", "/bin/true"]}}
    sidecars["migrate"] = {"image": "busybox:1.36", "essential": False, "depends_on": {"checked": "HEALTHY"}}
    raw["services"]["worker"]["containers"] = sidecars
    raw["services"]["worker"]["depends_on"] = {"checked": "HEALTHY", "migrate": "SUCCESS", "s0": "COMPLETE"}
    raw["services"]["api"]["compute"] = {
        "capacity_provider_strategy": [
            {"capacity_provider": "FARGATE"},
            {"capacity_provider": "FARGATE_SPOT"},
        ]
    }
    raw["environments"]["dev"]["services"]["worker"] = {
        "network_mode": "bridge",
        "compute": {"capacity_provider_strategy": [{"capacity_provider": "shop-dev-Fargate"}]},
    }
    raw["environments"]["dev"]["aws"] = {"role_arn": "arn:aws:iam::222222222222:role/deployer"}
    # WHEN loaded THEN it is accepted
    settings = settings_from_dict(raw, file=FILE)
    worker = settings.environments["dev"].service("worker")
    assert len(worker.containers) == 9 and worker.compute.compatibility == "EC2"


def test_huge_integers_and_deep_nesting_are_one_line_not_a_traceback(tmp_path: Path) -> None:
    # GIVEN a file with a 5,000-digit integer, and one with an array nested 600 deep
    text = FIXTURE_CONFIG.read_text()
    huge = tmp_path / "huge.toml"
    huge.write_text(text.replace("desired_count = 2", "desired_count = " + "9" * 5000))
    deep = tmp_path / "deep.toml"
    deep.write_text(text.replace("desired_count = 2", "desired_count = " + "[" * 600 + "]" * 600))
    # WHEN loaded THEN each is one ConfigError line naming the file and the cause
    for path, phrase in ((huge, "more than 4300 digits"), (deep, "nested too deeply")):
        with pytest.raises(ConfigError) as caught:
            load_settings(path)
        (line,) = caught.value.problems
        assert line.startswith(f"{path}: ") and phrase in line, line
        assert len(line) < 300


def test_container_definitions_over_64_kib_name_the_service() -> None:
    # GIVEN a service whose environment makes its container definitions larger than ECS accepts
    raw = base()
    raw["services"]["worker"]["environment"] = {f"SETTING_{i}": "x" * 1000 for i in range(70)}
    # WHEN loaded
    problems = problems_of(raw)
    # THEN one short line names the service and the limit (the values are not repeated)
    lines = [p for p in problems if p.startswith(f"{FILE}: services.worker: ")]
    assert len(lines) == 1, problems
    assert "64 KiB" in lines[0] and len(lines[0]) < 400, lines[0]


def test_container_definitions_near_the_limit_count_the_ssm_tag_at_its_maximum() -> None:
    # GIVEN definitions of about 65,500 bytes: within 64 KiB with a digest (71 characters), over
    # it with a tag read from SSM at plan time, which may be 128 characters
    raw = base()
    raw["services"]["worker"]["repository"] = "123456789012.dkr.ecr.us-east-1.amazonaws.com/worker"
    raw["services"]["worker"]["environment"] = {"BIG": "x" * 65_000}
    pinned = copy.deepcopy(raw)
    pinned["services"]["worker"].update(image_strategy="digest", image_tag="1.0.0")
    # WHEN loaded THEN the digest's definitions load and the SSM tag's are refused
    settings_from_dict(pinned, file=FILE)
    problems = problems_of(raw)
    assert any(p.startswith(f"{FILE}: services.worker: ") and "64 KiB" in p for p in problems), problems


# --- the constructs refuse the same inputs -------------------------------------------------------


def _task(**overrides: Any) -> TaskDefinitionProps:
    props: dict[str, Any] = {
        "family": "p-e-api",
        "containers": (ContainerProps(name="api", image=Fixed(reference="nginx:1.27")),),
        "region": "eu-west-1",
        "log_group_name": "/ecs/p/e/api",
        "execution_role_name": "p-e-api-exec",
        "task_role_name": "p-e-api-task",
    }
    props.update(overrides)
    return TaskDefinitionProps(**props)


def _container(name: str, **fields: Any) -> ContainerProps:
    return ContainerProps(name=name, image=Fixed(reference="busybox:1.36"), **fields)


def _options(**overrides: Any) -> ServiceOptions:
    props: dict[str, Any] = {
        "cluster_arn": "arn:aws:ecs:eu-west-1:123456789012:cluster/c",
        "service_name": "api",
        "vpc_id": "vpc-0a1b2c3d",
        "subnets": ("subnet-0a1b2c3d",),
        "security_group_name": "p-e-api-tasks",
    }
    props.update(overrides)
    return ServiceOptions(**props)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: HealthCheck(command=("CMD-SHELL",)), "'CMD-SHELL' needs the command"),
        (lambda: HealthCheck(command=("CMD", "")), "'CMD' needs the executable"),
        (
            lambda: ListenerRule(priority=1, path_patterns=["/a", "/b", "/c"], host_headers=["a", "b", "c"]),
            "at most 5 condition values",
        ),
        (lambda: ListenerRule(priority=1, path_patterns=["/******"]), "at most 5 wildcards"),
        (lambda: _options(security_group_name="sg-api"), "must not start with 'sg-'"),
        (
            lambda: _options(security_groups=tuple(f"sg-0a1b2c3{i}" for i in range(5))),
            "at most 4 security groups",
        ),
        (lambda: _options(subnets=tuple(f"subnet-0a1b2c{i:02d}" for i in range(17))), "at most 16 subnets"),
        (lambda: _task(region="eu-west-7"), "one of AWS's regions"),
        (
            lambda: _task(
                log_kms_key_arn="arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9"
            ),
            re.escape("log_kms_key_arn must be in the task's region (eu-west-1)"),
        ),
        (
            lambda: _task(
                containers=(
                    ContainerProps(
                        name="api", image=Fixed(reference="nginx:1.27"), environment={"BIG": "x" * 66_000}
                    ),
                )
            ),
            "64 KiB",
        ),
        (
            lambda: _task(
                containers=(_container("api"), *(_container(f"s{i}", essential=False) for i in range(10)))
            ),
            re.escape(
                "containers: the task would have 11 containers (every one counts, the app's too): ECS "
            ),
        ),
        (
            lambda: _task(
                containers=(
                    _container("api", depends_on={"init": "HEALTHY"}),
                    _container("init", essential=False),
                )
            ),
            "containers.api.depends_on.init: init has no health_check",
        ),
        (
            lambda: _task(containers=(_container("api", depends_on={"init": "SUCCESS"}), _container("init"))),
            "containers.api.depends_on.init: init is essential, and ECS waits for SUCCESS only",
        ),
        (
            lambda: Compute.model_validate(
                {"capacity_provider_strategy": [{"capacity_provider": "FARGATE-SPOT"}]}
            ),
            "written exactly FARGATE or FARGATE_SPOT",
        ),
        (
            lambda: Ec2CapacityProps(instance_type="t3.small", name="FARGATE_SPOT"),
            "must not start with 'aws', 'ecs' or 'fargate'",
        ),
    ],
)
def test_the_constructs_refuse_the_same_inputs(build: Callable[[], object], message: str) -> None:
    # GIVEN props AWS would refuse WHEN built THEN a ValueError says what is allowed
    with pytest.raises(ValueError, match=message):
        build()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "internal-api"}, "must not start with 'internal-'"),
        ({"security_group_name": "sg-alb"}, "must not start with 'sg-'"),
        ({"access_logs_bucket": "logs..bucket"}, "two adjacent periods"),
        ({"subnets": ()}, "subnets must name at least one subnet"),
        ({"ingress_cidr_blocks": ()}, "ingress_cidr_blocks must name at least one CIDR block"),
    ],
)
def test_the_load_balancer_props_refuse_names_aws_refuses(kwargs: dict[str, Any], message: str) -> None:
    from constructs_lib.load_balancer_props import ApplicationLoadBalancerProps

    # GIVEN a load balancer with a name AWS refuses WHEN its props are built THEN a ValueError says why
    props: dict[str, Any] = {
        "name": "p-e",
        "security_group_name": "p-e-alb",
        "vpc_id": "vpc-0a1b2c3d",
        "subnets": ("subnet-0a1b2c3d",),
        "ingress_cidr_blocks": ("10.0.0.0/8",),
    }
    props.update(kwargs)
    with pytest.raises(ValueError, match=message):
        ApplicationLoadBalancerProps(**props)


# --- 3. the emulator endpoint variable is named as such -------------------------------------------


def test_an_invalid_emulator_endpoint_is_named_as_the_environment_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import main

    # GIVEN a valid configuration file and an invalid ECS_CD_EMULATOR_ENDPOINT
    monkeypatch.setenv("ECS_CD_CONFIG", str(FIXTURE_CONFIG))
    monkeypatch.setenv("ECS_CD_EMULATOR_ENDPOINT", "ftp://127.0.0.1:4566")
    # WHEN the app runs
    code = main.main()
    # THEN it refuses, naming the environment variable, not a line of the file
    err = capsys.readouterr().err
    assert code == 2
    expected = "environment variable ECS_CD_EMULATOR_ENDPOINT = 'ftp://127.0.0.1:4566': an endpoint must be"
    assert expected in err
    assert f"{FIXTURE_CONFIG}: emulator" not in err
