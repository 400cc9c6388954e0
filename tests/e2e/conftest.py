"""End-to-end fixtures: the real cdktf CLI, real Terraform and providers, the moto server.

Nothing here is skipped: if a tool is missing, the fixture fails with what to install.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator

import pytest

from devkit.emulator import Emulator
from devkit.load_balancer import ExistingLoadBalancer, existing_load_balancer
from ecs_cd.toolchain.cdktf_cli import CACHE_DIR
from ecs_cd.toolchain.errors import ToolError
from ecs_cd.toolchain.terraform_offline import TerraformSetup, terraform_setup
from tests.reader_shell import Shell, copy_repository, reader_environment


@pytest.fixture(scope="session")
def tf_setup() -> TerraformSetup:
    for tool, hint in (("terraform", "Terraform >= 1.10"), ("npx", "Node.js >= 20")):
        if shutil.which(tool) is None:
            raise ToolError(f"{tool} was not found on PATH: install {hint}")
    CACHE_DIR.mkdir(exist_ok=True)
    return terraform_setup(CACHE_DIR)


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    with Emulator(running_count=1, log_path=log) as running:
        yield running


@pytest.fixture(scope="module")
def existing_lb(emulator: Emulator) -> ExistingLoadBalancer:
    """A load balancer already in the module's emulator, for environments whose tests are not about
    creating one: attached to it (``devkit.load_balancer.attach``), a first deploy skips the AWS
    provider's two fixed 30-second waits for a new one. test_plain_shell (the docs' walk-through)
    and test_production_service keep ``create = true`` and check what it creates."""
    return existing_load_balancer(emulator.client("ec2"), emulator.client("elbv2"), "team-alb")


@pytest.fixture(scope="module")
def shell(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, tf_setup: TerraformSetup
) -> Iterator[Shell]:
    # tf_setup: on an offline machine the null-provider mirror exists before it is linked.
    reader = Shell(cwd=copy_repository(tmp_path_factory.mktemp("reader") / "ecs-cd"))
    yield reader
    # Shown on every run, not only on failure: these durations are the suite's cost.
    capture = request.config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
        print("\nDocumented commands in a new login shell (durations):")
        for command, seconds in reader.durations:
            print(f"  {seconds:6.1f} s  {command.splitlines()[-1][:100]}")


@pytest.fixture(scope="module")
def emulator_export(shell: Shell) -> Iterator[str]:
    """The emulator started as the README says, and the export line it prints."""
    process = subprocess.Popen(
        ["bash", "-lc", "pipenv run python -m devkit.emulator"],
        cwd=shell.cwd,
        env=reader_environment(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group: stopped below by that group's id
    )
    assert process.stdout is not None
    try:
        started = time.monotonic()
        printed: list[str] = []
        while time.monotonic() - started < 120:
            line = process.stdout.readline()
            if not line:
                break
            printed.append(line)
            if line.startswith("export ECS_CD_EMULATOR_ENDPOINT="):
                break
        assert printed and printed[-1].startswith("export "), "".join(printed)
        shell.durations.append(
            ("pipenv run python -m devkit.emulator (until ready)", time.monotonic() - started)
        )
        yield printed[-1].strip()
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)  # Ctrl-C's equivalent: the emulator stops moto
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        process.stdout.close()
