"""`ecs-release adopt` on the emulator (issue 27), without Terraform: what it reads and writes, and
each way it refuses in one line (exit 2) with the configuration file left as it was. The full
cycle (adopt, deploy, release, rollback) is tests/e2e/test_adopt.py."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devkit.emulator import Emulator
from devkit.hand_made import HandMade, make_service
from devkit.load_balancer import ExistingLoadBalancer, existing_load_balancer
from ecs_cd.release import errors
from ecs_cd.release.adopt import read_state
from ecs_cd.release.errors import BadInput
from tests.release_helpers import run_cli

CONFIG = """
[project]
name = "shop"

[environments.brownfield]
region = "us-east-1"
emulator_endpoint = "http://127.0.0.1:1"
network = {{ use_default_vpc = true, assign_public_ip = true }}
state = {{ backend = "local" }}
load_balancer = {setting}

[environments.other]
region = "us-east-1"
emulator_endpoint = "http://127.0.0.1:1"
network = {{ use_default_vpc = true }}
state = {{ backend = "local", path = "other.tfstate" }}
"""


@pytest.fixture(scope="module")
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    with Emulator(running_count=1, log_path=tmp_path_factory.mktemp("moto") / "moto.log") as running:
        yield running


@pytest.fixture(scope="module")
def balancer(emu: Emulator) -> ExistingLoadBalancer:
    return existing_load_balancer(emu.client("ec2"), emu.client("elbv2"), "team-alb")


@pytest.fixture(scope="module")
def made(emu: Emulator, balancer: ExistingLoadBalancer) -> HandMade:
    return make_service(emu.client, listener_arn=balancer.listener_arn, lb_group=balancer.security_group_id)


def config_file(tmp_path: Path, balancer: ExistingLoadBalancer) -> Path:
    config = tmp_path / "ecs-cd.toml"
    config.write_text(CONFIG.format(setting=balancer.setting))
    return config


def test_adopt_prints_tables_that_load_and_writes_nothing(
    emu: Emulator, balancer: ExistingLoadBalancer, made: HandMade, tmp_path: Path
) -> None:
    # GIVEN the team's configuration without the service
    config = config_file(tmp_path, balancer)
    before = config.read_text()
    # WHEN adopt runs without --append
    run = run_cli(config, emu.endpoint, "adopt", "brownfield", "--cluster", "legacy", "--service", "web")
    # THEN the file is untouched and the printed tables, appended, make a valid configuration
    assert run.exit_code == 0, run.stdout + run.stderr
    assert config.read_text() == before
    document = tomllib.loads(before + "\n" + run.json["toml"])
    web = document["services"]["web"]
    assert web["repository"] == made.repository and web["container_port"] == 8080
    assert web["load_balancer"] == {
        "priority": 10,
        "path_patterns": ["/web/*"],
        "health_check_path": "/health",
        "health_check_grace_period_seconds": 60,
    }
    assert web["autoscaling"] == {"min_capacity": 1, "max_capacity": 3, "cpu_target_percent": 70}
    assert web["tags"] == {"Team": "payments"} and web["environment"] == {"GREETING": "hello"}
    # AND the service is off in the other environment, whose account does not run it
    assert document["environments"]["other"]["services"]["web"] == {"enabled": False}
    ids = document["environments"]["brownfield"]["services"]["web"]["adopt"]
    assert ids["service"] == "legacy/web" and ids["target_group"] == made.target_group
    assert ids["listener_rule"] == made.listener_rule and ids["security_group"] == made.security_group
    # AND the JSON says the tag it runs, for set-tag
    (service,) = run.json["services"]
    assert service["tag"] == "v1"


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--cluster", "legacy", "--service", "nope"], "adopt: no active service 'nope' in cluster 'legacy'"),
        (["--cluster", "legacy"], "adopt: give --cluster and --service (or --from-state"),
        (
            ["--cluster", "legacy", "--service", "web", "--as", "Web_1"],
            "adopt: 'Web_1' cannot name the service",
        ),
    ],
)
def test_bad_requests_are_one_line_and_exit_2(
    emu: Emulator, balancer: ExistingLoadBalancer, made: HandMade, tmp_path: Path, args: list[str], said: str
) -> None:
    config = config_file(tmp_path, balancer)
    run = run_cli(config, emu.endpoint, "adopt", "brownfield", *args, "--append")
    assert run.exit_code == errors.BAD_INPUT
    assert json.loads(run.stdout)["error"].startswith(said), run.stdout
    assert config.read_text() == CONFIG.format(setting=balancer.setting)


def test_a_service_the_configuration_has_already_is_refused(
    emu: Emulator, balancer: ExistingLoadBalancer, made: HandMade, tmp_path: Path
) -> None:
    # GIVEN web adopted once
    config = config_file(tmp_path, balancer)
    first = run_cli(
        config, emu.endpoint, "adopt", "brownfield", "--cluster", "legacy", "--service", "web", "--append"
    )
    assert first.exit_code == 0, first.stdout
    appended = config.read_text()
    # WHEN adopted again
    again = run_cli(
        config, emu.endpoint, "adopt", "brownfield", "--cluster", "legacy", "--service", "web", "--append"
    )
    # THEN one line says so, and the file is as the first left it
    assert again.exit_code == errors.BAD_INPUT
    assert "already has a service 'web': give another name with --as" in json.loads(again.stdout)["error"]
    assert config.read_text() == appended


def state_of(resources: list[dict[str, Any]]) -> str:
    return json.dumps({"version": 4, "terraform_version": "1.11.4", "resources": resources})


def test_a_state_is_read_for_its_services_and_ids() -> None:
    text = state_of(
        [
            {
                "mode": "managed",
                "type": "aws_ecs_service",
                "name": "api",
                "instances": [
                    {"attributes": {"name": "api", "cluster": "arn:aws:ecs:us-east-1:1:cluster/prod"}}
                ],
            },
            {
                "mode": "managed",
                "type": "aws_security_group",
                "name": "api",
                "instances": [{"attributes": {"id": "sg-1"}}],
            },
            {
                "mode": "data",
                "type": "aws_vpc",
                "name": "default",
                "instances": [{"attributes": {"id": "vpc-1"}}],
            },
        ]
    )
    record = read_state(text, "their.tfstate")
    assert record.services == (("prod", "api"),)
    assert record.ids == {"security_group": frozenset({"sg-1"})}
    assert record.addresses == {"sg-1": "aws_security_group.api"}


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("not json", "adopt: their.tfstate is not a Terraform state"),
        (json.dumps({"version": 3, "resources": []}), "adopt: their.tfstate is not a Terraform state"),
        (state_of([]), "adopt: their.tfstate manages no aws_ecs_service: nothing to adopt from it"),
    ],
)
def test_a_state_that_is_no_state_is_one_line(text: str, said: str) -> None:
    with pytest.raises(BadInput) as caught:
        read_state(text, "their.tfstate")
    assert str(caught.value).startswith(said)
