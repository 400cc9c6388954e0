"""End-to-end fixtures: the real cdktf CLI, real Terraform and providers, the moto server.

Nothing here is skipped: if a tool is missing, the fixture fails with what to install.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from devkit.emulator import Emulator
from devkit.load_balancer import ExistingLoadBalancer, existing_load_balancer
from ecs_cd.toolchain.cdktf_cli import CACHE_DIR
from ecs_cd.toolchain.errors import ToolError
from ecs_cd.toolchain.terraform_offline import TerraformSetup, terraform_setup


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
    provider's two fixed 30-second waits for a new one. test_plain_shell (the README's walk-through)
    and test_production_service keep ``create = true`` and check what it creates."""
    return existing_load_balancer(emulator.client("ec2"), emulator.client("elbv2"), "team-alb")
