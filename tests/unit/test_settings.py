"""Loading the configuration: every mistake is one clear line naming file, field, value, what is allowed."""

from __future__ import annotations

import copy
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from stacks.settings import ConfigError, load_settings, settings_from_dict
from tests.conftest import FIXTURE_CONFIG

PROJECT_DIR = Path(__file__).resolve().parents[2]
FILE = "conf.toml"


def base() -> dict[str, Any]:
    return tomllib.loads(FIXTURE_CONFIG.read_text())


def test_fixture_and_shipped_configurations_load() -> None:
    # GIVEN the fixture and the shipped default WHEN loaded THEN both are valid
    shipped = load_settings(PROJECT_DIR / "config" / "ecs-cd.toml")
    assert sorted(shipped.environments) == ["dev", "local", "prod", "staging"]
    assert shipped.environments["local"].emulator_endpoint is not None
    assert all(shipped.environments[e].emulator_endpoint is None for e in ("dev", "staging", "prod"))
    fixture = load_settings(FIXTURE_CONFIG)
    assert [s.name for s in fixture.environments["dev"].services] == ["api", "worker"]


def test_overrides_are_merged_per_environment() -> None:
    settings = load_settings(FIXTURE_CONFIG)
    prod_api = settings.environments["prod"].service("api")
    dev_api = settings.environments["dev"].service("api")
    local_api = settings.environments["local"].service("api")
    assert (prod_api.task.cpu, prod_api.task.memory, prod_api.desired_count) == (1024, 2048, 4)
    assert (local_api.task.cpu, local_api.task.memory, local_api.desired_count) == (256, 512, 1)
    assert prod_api.image_tag_parameter == "/shop/prod/api/image-tag"
    assert dev_api.image_tag_parameter == "/api/dev/docker-image-tag"
    # environment variables merge key by key
    assert dev_api.app.environment == {"LOG_LEVEL": "info", "FEATURE_X": "on"}
    assert local_api.app.environment == {"LOG_LEVEL": "info", "FEATURE_X": "off"}


def test_emulator_endpoint_override_applies_only_to_emulator_environments() -> None:
    settings = settings_from_dict(base(), file=FILE, emulator_endpoint="http://127.0.0.1:40001/")
    assert settings.environments["local"].emulator_endpoint == "http://127.0.0.1:40001"
    assert settings.environments["dev"].emulator_endpoint is None


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def apply(raw: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node = raw
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value

    return apply


def _delete(path: str) -> Callable[[dict[str, Any]], None]:
    def apply(raw: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node = raw
        for part in parents:
            node = node[part]
        del node[last]

    return apply


def _rename_env(old: str, new: str) -> Callable[[dict[str, Any]], None]:
    def apply(raw: dict[str, Any]) -> None:
        raw["environments"][new] = raw["environments"].pop(old)

    return apply


# (mutation, field as reported, value as reported, fragment of what is allowed)
INVALID = {
    "fargate cpu": (_set("services.api.cpu", 300), "services.api.cpu", "300", "must be one of [256, 512"),
    "fargate memory for cpu": (
        _set("services.worker.memory", 512),
        "services.worker.memory",
        "512",
        "memory for cpu 512 must be one of [1024, 2048, 3072, 4096]",
    ),
    "fargate pair from an override": (
        _set("environments.prod.services.api.memory", 1024),
        "environments.prod.services.api.memory",
        "1024",
        "memory for cpu 1024 must be one of [2048",
    ),
    "negative desired count": (
        _set("services.api.desired_count", -1),
        "services.api.desired_count",
        "-1",
        "greater than or equal to 0",
    ),
    "unknown service field": (
        _set("services.api.cpus", 256),
        "services.api.cpus",
        "256",
        "is not a known field",
    ),
    "environment name": (_rename_env("dev", "Dev!"), "environments.Dev!", "'Dev!'", "lower-case letters"),
    "service name": (
        lambda raw: raw["services"].__setitem__("API", raw["services"].pop("worker")),
        "services.API",
        "'API'",
        "lower-case letters",
    ),
    "region": (_set("environments.dev.region", "mars-1"), "environments.dev.region", "'mars-1'", "us-east-1"),
    "repository with a tag": (
        _set("services.worker.repository", "busybox:latest"),
        "services.worker.repository",
        "'busybox:latest'",
        "no tag or digest",
    ),
    "port": (_set("services.api.container_port", 70000), "services.api.container_port", "70000", "65535"),
    "port as string": (
        _set("services.api.container_port", "8080"),
        "services.api.container_port",
        "'8080'",
        "integer",
    ),
    "environment variable name": (
        _set("services.api.environment", {"1BAD": "x"}),
        "services.api.environment.1BAD =",
        "'1BAD'",
        "letters, digits and underscores",
    ),
    "default vpc and subnets": (
        _set("environments.dev.network.use_default_vpc", True),
        "environments.dev.network",
        "use_default_vpc",
        "not both",
    ),
    "no subnets": (
        _set("environments.dev.network.subnet_ids", []),
        "environments.dev.network",
        "subnet_ids",
        "at least one subnet",
    ),
    "subnet id": (
        _set("environments.dev.network.subnet_ids", ["subnet-xyz"]),
        "environments.dev.network.subnet_ids[0]",
        "'subnet-xyz'",
        "subnet-[0-9a-f]",
    ),
    "state backend": (
        _set("environments.dev.state", {"backend": "gcs", "bucket": "b"}),
        "environments.dev.state",
        "'gcs'",
        "'local', 's3'",
    ),
    "s3 bucket name": (
        _set("environments.dev.state.bucket", "Bad_Bucket"),
        "environments.dev.state.bucket",
        "'Bad_Bucket'",
        "lower-case letters",
    ),
    "missing region": (_delete("environments.staging.region"), "environments.staging.region", "", "required"),
    "override of an undefined service": (
        _set("environments.dev.services.billing", {"desired_count": 1}),
        "environments.dev.services.billing",
        "",
        "defined: api, worker",
    ),
    "override of a field that is no service field": (
        _set("environments.dev.services.api.name", "web"),
        "environments.dev.services.api.name",
        "",
        "allowed: adopt, app_protocol, autoscaling, command, compute, container_cpu, container_memory, "
        "container_port",
    ),
    "redeploy placeholder": (
        _set("environments.prod.redeploy_command", ["aws", "{account}"]),
        "environments.prod.redeploy_command",
        "'{account}'",
        "{cluster}, {region}, {service}",
    ),
    "reserved parameter prefix": (
        _set("environments.dev.services.api.image_tag_parameter", "/aws/api/tag"),
        "environments.dev.services.api.image_tag_parameter",
        "'/aws/api/tag'",
        "must not start with 'aws' or 'ssm'",
    ),
    "parameter without leading slash": (
        _set("services.worker.image_tag_parameter", "worker-tag"),
        "services.worker.image_tag_parameter",
        "'worker-tag'",
        "must start with '/'",
    ),
    "health check command kind": (
        _set("services.api.health_check", {"command": ["curl", "x"]}),
        "services.api.health_check.command",
        "['curl', 'x']",
        "'CMD', 'CMD-SHELL' or 'NONE'",
    ),
    "health check timeout": (
        _set("services.api.health_check", {"command": ["CMD", "true"], "interval": 5, "timeout": 5}),
        "services.api.health_check",
        "'interval': 5",
        "shorter than",
    ),
    "log retention": (
        _set("environments.dev.log_retention_days", 8),
        "environments.dev.log_retention_days",
        "8",
        "7, 14",
    ),
    "missing project name": (_set("project", {}), "project.name", "", "required"),
    "project name": (_set("project.name", "My Shop"), "project.name", "'My Shop'", "lower-case letters"),
    "unknown section": (_set("servics", {}), "servics", "", "allowed: environments, project"),
    "null provider constraint": (
        _set("terraform.null_provider_version", '3"'),
        "terraform.null_provider_version",
        "'3\"'",
        "version constraint",
    ),
    "no services": (_set("services", {}), "services", "", "at least one"),
    "unknown image strategy": (
        _set("services.api.image_strategy", "newest"),
        "services.api.image_strategy",
        "'newest'",
        "'timestamp', 'ssm-tag' or 'digest'",
    ),
    "fixed tag without digest": (
        _set("environments.dev.services.api.image_tag", "latest"),
        "environments.dev.services.api.image_tag",
        "'latest'",
        "needs image_strategy = 'digest'",
    ),
    "digest outside ECR": (
        _set("services.worker.image_strategy", "digest"),
        "services.worker.image_strategy",
        "'digest'",
        "must be an ECR repository",
    ),
    "fixed tag and parameter": (
        lambda raw: raw["services"]["api"].update(
            image_strategy="digest", image_tag="latest", image_tag_parameter="/api/tag"
        ),
        "services.api.image_tag_parameter",
        "'/api/tag'",
        "not both",
    ),
    "malformed fixed tag": (
        lambda raw: raw["services"]["api"].update(image_strategy="digest", image_tag="la test"),
        "services.api.image_tag",
        "'la test'",
        "an image tag must match",
    ),
}


@pytest.mark.parametrize("case", sorted(INVALID))
def test_invalid_configuration_is_one_clear_line(case: str) -> None:
    mutate, field, value, allowed = INVALID[case]
    # GIVEN a valid configuration with one mistake
    raw = copy.deepcopy(base())
    mutate(raw)
    # WHEN it is loaded THEN one ConfigError line names the file, field, value and what is allowed
    with pytest.raises(ConfigError) as caught:
        settings_from_dict(raw, file=FILE)
    problems = caught.value.problems
    matching = [p for p in problems if p.startswith(f"{FILE}: {field}")]
    assert len(matching) == 1, problems
    (line,) = matching
    assert value in line, line
    assert allowed in line, line
    assert "\n" not in line


def test_every_mistake_is_reported_at_once() -> None:
    raw = base()
    raw["services"]["api"]["cpu"] = 300
    raw["environments"]["dev"]["region"] = "nowhere"
    with pytest.raises(ConfigError) as caught:
        settings_from_dict(raw, file=FILE)
    fields = sorted(p.split(":")[1].split(" =")[0].strip() for p in caught.value.problems)
    # api's cpu is reported once, though four environments merge it
    assert fields == ["environments.dev.region", "services.api.cpu"]


def test_endpoint_override_is_validated() -> None:
    # GIVEN an invalid endpoint from outside the file WHEN loaded THEN it is named as the
    # environment variable it comes from, not as a line of the file
    with pytest.raises(
        ConfigError, match=r"^environment variable ECS_CD_EMULATOR_ENDPOINT = 'ftp://x': an endpoint must be"
    ):
        settings_from_dict(base(), file=FILE, emulator_endpoint="ftp://x")


def test_missing_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"missing\.toml: file not found"):
        load_settings(tmp_path / "missing.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[project\nname = 1\n")
    with pytest.raises(ConfigError, match=r"broken\.toml: is not valid TOML: .*line 1"):
        load_settings(broken)
