"""Production settings in the configuration file: each mistake is one line naming file, field, value, rule."""

from __future__ import annotations

import copy
import tomllib
from collections.abc import Callable
from typing import Any

import pytest

from stacks.settings import ConfigError, settings_from_dict
from tests.conftest import FIXTURE_CONFIG

FILE = "conf.toml"
SSM_ARN = "arn:aws:ssm:eu-west-1:222222222222:parameter/shop/dev/x"


def base() -> dict[str, Any]:
    return tomllib.loads(FIXTURE_CONFIG.read_text())


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def apply(raw: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node = raw
        for part in parents:
            node = node.setdefault(part, {})
        if value is _DELETE:
            node.pop(last, None)
        else:
            node[last] = value

    return apply


_DELETE = object()

CASES: dict[str, tuple[Callable[[dict[str, Any]], None], str, str]] = {
    # name: (mutation, start of the problem line, a phrase of what is allowed)
    "credential in environment": (
        _set("services.worker.environment", {"DB_PASSWORD": "hunter2"}),
        "conf.toml: services.worker.environment.DB_PASSWORD: looks like a credential",
        "move it to secrets",
    ),
    # whatever is written in secrets is never shown: it may be the secret itself
    "secret not an ARN": (
        _set("services.worker.secrets", {"DB": "hunter2"}),
        "conf.toml: services.worker.secrets.DB: a secret must be",
        "full ARN of an SSM parameter",
    ),
    "secret ARN of another service": (
        _set("services.worker.secrets", {"DB": "arn:aws:s3:::bucket/key"}),
        "conf.toml: services.worker.secrets.DB: a secret must be",
        "Secrets Manager secret",
    ),
    "same name in environment and secrets": (
        _set("services.api.secrets", {"LOG_LEVEL": SSM_ARN}),
        "conf.toml: services.api.secrets.LOG_LEVEL: ",
        "also set in environment",
    ),
    "kms key without secrets": (
        _set(
            "environments.dev.services.worker.secrets_kms_key_arn",
            "arn:aws:kms:eu-west-1:222222222222:key/0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9",
        ),
        "conf.toml: environments.dev.services.worker.secrets_kms_key_arn = 'arn:aws:kms:",
        "no secrets to decrypt",
    ),
    "kms key not a key ARN": (
        _set("environments.prod.log_kms_key_arn", "alias/logs"),
        "conf.toml: environments.prod.log_kms_key_arn = 'alias/logs'",
        "key ARN",
    ),
    "root user": (
        _set("services.worker.user", "0:0"),
        "conf.toml: services.worker.user = '0:0'",
        "must not be root",
    ),
    "relative writable path": (
        _set("services.worker.writable_paths", ["tmp"]),
        "conf.toml: services.worker.writable_paths[0] = 'tmp'",
        "must be absolute",
    ),
    "escaping writable path": (
        _set("services.worker.writable_paths", ["/tmp/../etc"]),
        "conf.toml: services.worker.writable_paths[0] = '/tmp/../etc'",
        "no '.' or '..' parts",
    ),
    "deployment that cannot progress": (
        _set("services.worker.deployment", {"minimum_healthy_percent": 100, "maximum_percent": 100}),
        "conf.toml: services.worker.deployment = ",
        "must be greater than",
    ),
    "rollback with nothing to trigger it": (
        _set("services.worker.deployment", {"circuit_breaker": False}),
        "conf.toml: services.worker.deployment = ",
        "nothing else can trigger a rollback",
    ),
    "maximum percent too high": (
        _set("services.worker.deployment", {"maximum_percent": 300}),
        "conf.toml: services.worker.deployment.maximum_percent = 300",
        "less than or equal to 200",
    ),
    "load balancer without a port": (
        _set("services.worker.load_balancer", {"path_patterns": ["/w/*"], "priority": 20}),
        "conf.toml: services.worker.load_balancer: ",
        "needs container_port",
    ),
    "load balancer rule that matches nothing": (
        _set("services.api.load_balancer", {"priority": 20}),
        "conf.toml: services.api.load_balancer = ",
        "needs path_patterns or host_headers",
    ),
    "path pattern without slash": (
        _set("services.api.load_balancer", {"path_patterns": ["api/*"], "priority": 20}),
        "conf.toml: services.api.load_balancer.path_patterns[0] = 'api/*'",
        "must start with '/'",
    ),
    "service load balancer without the environment's": (
        _set("environments.dev.load_balancer", _DELETE),
        "conf.toml: environments.dev.load_balancer: is required because services.api.load_balancer",
        "create = true",
    ),
    "load balancer without a port, set per environment": (
        _set(
            "environments.dev.services.worker",
            {"load_balancer": {"path_patterns": ["/w/*"], "priority": 20}},
        ),
        "conf.toml: environments.dev.services.worker.load_balancer: ",
        "needs container_port",
    ),
    "listener without its security group": (
        _set(
            "environments.dev.load_balancer",
            {
                "listener_arn": "arn:aws:elasticloadbalancing:eu-west-1:222222222222:listener/app/shop-dev/"
                "0123456789abcdef/0123456789abcdef"
            },
        ),
        "conf.toml: environments.dev.load_balancer = ",
        "needs both listener_arn and security_group_id",
    ),
    "listener ARN of a network load balancer": (
        _set(
            "environments.dev.load_balancer.listener_arn",
            "arn:aws:elasticloadbalancing:eu-west-1:222222222222:listener/net/x/0123456789abcdef/0123456789abcdef",
        ),
        "conf.toml: environments.dev.load_balancer.listener_arn = ",
        "ALB listener ARN",
    ),
    "internet-facing HTTP": (
        _set("environments.local.load_balancer", {"create": True, "internal": False}),
        "conf.toml: environments.local.load_balancer = ",
        "needs certificate_arn",
    ),
    "created and existing at once": (
        _set("environments.local.load_balancer.security_group_id", "sg-0aaa2c3d4e5f60718"),
        "conf.toml: environments.local.load_balancer = ",
        "not both",
    ),
    "created load balancer with split stacks": (
        _set("environments.local.stack_per_service", True),
        "conf.toml: environments.local.load_balancer.create = true",
        "listener_arn and security_group_id",
    ),
    "autoscaling bounds reversed": (
        _set("services.api.autoscaling", {"min_capacity": 3, "max_capacity": 2, "cpu_target_percent": 50}),
        "conf.toml: services.api.autoscaling = ",
        "must not exceed",
    ),
    "autoscaling without a target": (
        _set("services.api.autoscaling", {"min_capacity": 1, "max_capacity": 2}),
        "conf.toml: services.api.autoscaling = ",
        "cpu_target_percent or memory_target_percent",
    ),
    "desired count outside the autoscaling bounds": (
        _set("services.api.desired_count", 7),
        "conf.toml: services.api.desired_count = 7: ",
        "must lie within autoscaling.min_capacity",
    ),
    "subnets without their VPC": (
        _set("environments.dev.network.vpc_id", _DELETE),
        "conf.toml: environments.dev.network = ",
        "subnet_ids need vpc_id",
    ),
    "alarm name with a newline": (
        _set("services.worker.deployment", {"alarm_names": ["bad\nname"]}),
        "conf.toml: services.worker.deployment.alarm_names[0] = 'bad\\nname'",
        "no ASCII control characters",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_production_mistakes_are_one_clear_line(case: str) -> None:
    # GIVEN the fixture configuration with one production setting wrong
    mutate, start, allowed = CASES[case]
    raw = copy.deepcopy(base())
    mutate(raw)
    # WHEN it is loaded
    with pytest.raises(ConfigError) as caught:
        settings_from_dict(raw, file=FILE)
    # THEN exactly one line starts with the file and field, and says what is allowed
    problems = caught.value.problems
    matching = [p for p in problems if p.startswith(start)]
    assert len(matching) == 1, problems
    assert allowed in matching[0], matching[0]
    assert all("\n" not in p for p in problems)


def test_duplicate_listener_rule_priorities_are_reported() -> None:
    # GIVEN worker gets a port and a rule with api's priority in dev
    raw = copy.deepcopy(base())
    raw["environments"]["dev"]["services"]["worker"] = {
        "load_balancer": {"path_patterns": ["/w/*"], "priority": 10}
    }
    raw["services"]["worker"]["container_port"] = 9000
    # WHEN loaded THEN the clash is one line naming both services and the priority
    with pytest.raises(ConfigError) as caught:
        settings_from_dict(raw, file=FILE)
    assert caught.value.problems == (
        "conf.toml: environments.dev: services api and worker both use load_balancer.priority = 10: "
        "listener rule priorities must be unique",
    )


def test_secrets_merge_key_by_key_and_blame_the_table_they_came_from() -> None:
    # GIVEN the fixture: api's secret in [services.api], replaced and extended in dev
    settings = settings_from_dict(base(), file=FILE)
    dev_api = settings.environments["dev"].service("api")
    assert sorted(dev_api.app.secrets) == ["API_TOKEN", "DB_PASSWORD"]
    assert ":secretsmanager:" in dev_api.app.secrets["DB_PASSWORD"]
    # WHEN a bad secret is added only in the dev override
    raw = copy.deepcopy(base())
    raw["environments"]["dev"]["services"]["api"]["secrets"]["BAD"] = "nope"
    with pytest.raises(ConfigError) as caught:
        settings_from_dict(raw, file=FILE)
    # THEN the line points at the override, not at the base service (and does not show the value)
    assert [p for p in caught.value.problems if "BAD" in p] == [
        "conf.toml: environments.dev.services.api.secrets.BAD: a secret must be the full ARN of "
        "an SSM parameter (arn:aws:ssm:<region>:<account>:parameter/<name>) or of a Secrets Manager secret "
        "(arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 characters>)"
    ]


def test_production_defaults_are_the_safe_ones() -> None:
    # GIVEN the worker, which sets none of the production fields outside prod
    settings = settings_from_dict(base(), file=FILE)
    worker = settings.environments["dev"].service("worker")
    # THEN it is hardened and guarded by default
    assert worker.app.readonly_root_filesystem is True
    assert worker.deployment.circuit_breaker is True and worker.deployment.rollback is True
    assert (worker.deployment.minimum_healthy_percent, worker.deployment.maximum_percent) == (100, 200)
    assert worker.load_balancer is None and worker.autoscaling is None
    assert settings.environments["dev"].wait_for_steady_state is False
    assert settings.environments["prod"].wait_for_steady_state is True
