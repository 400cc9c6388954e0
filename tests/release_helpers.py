"""Running the release command line in-process, as a pipeline would (with --json)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from ecs_cd.release.cli import cli
from tests.reader_shell import marked_block


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


@dataclass(frozen=True)
class ProcessRun:
    """``python -m ecs_cd.release --json …`` run as a separate process (as a CI runner would)."""

    returncode: int
    stdout: str
    stderr: str
    started: float
    ended: float

    @property
    def json(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.stdout)
        return parsed


def run_release_process(env: Mapping[str, str], *args: str) -> ProcessRun:
    """Run the release CLI with ``--json`` in a new process with ``env`` added to os.environ."""
    project_dir = Path(__file__).resolve().parents[1]
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "ecs_cd.release", "--json", *args],
        cwd=project_dir,
        env={**os.environ, "CI": "true", **env},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    return ProcessRun(done.returncode, done.stdout, done.stderr, started, time.monotonic())


def readme_sample(marker: str) -> list[str]:
    """The lines of the ```text block between ``marker``'s comments (indented in a list) in the
    README or the page of docs/ that holds it."""
    return [line.strip() for line in marked_block(marker, r" *```text\n(.*?)\n *```\n *").splitlines()]


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
