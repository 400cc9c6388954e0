"""Running the release command line in-process, as a pipeline would (with --json)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from release.cli import cli


@dataclass
class Run:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def json(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.stdout)
        return parsed


def run_cli(
    config: Path,
    endpoint: str | None,
    *args: str,
    json_mode: bool = True,
    env: dict[str, str] | None = None,
) -> Run:
    environment = {"ECS_CD_CONFIG": str(config), "CI": "true", **(env or {})}
    if endpoint is not None:
        environment["ECS_CD_EMULATOR_ENDPOINT"] = endpoint
    result = CliRunner().invoke(cli, [*(["--json"] if json_mode else []), *args], env=environment)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Run(result.exit_code, result.stdout, result.stderr)


RELEASE_CONFIG = """
[project]
name = "rel"

[services.api]
repository = "123456789012.dkr.ecr.us-east-1.amazonaws.com/rel-api"
container_port = 8080

[services.worker]
repository = "public.ecr.aws/docker/library/busybox"

[environments.local]
region = "us-east-1"
emulator_endpoint = "http://127.0.0.1:1"
network = { use_default_vpc = true }
state = { backend = "local" }

[environments.qa]
region = "us-east-1"
emulator_endpoint = "http://127.0.0.1:1"
network = { use_default_vpc = true }
state = { backend = "local" }

[environments.prod]
region = "us-east-1"
emulator_endpoint = "http://127.0.0.1:1"
network = { use_default_vpc = true }
state = { backend = "local" }

[environments.prod.services.api]
repository = "123456789012.dkr.ecr.us-east-1.amazonaws.com/rel-api-prod"
"""
