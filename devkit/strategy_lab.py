"""One emulator environment per image strategy, synthesized once and driven with plain
Terraform: shared by the end-to-end tests and `make bench`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from devkit.emulator import Emulator
from devkit.fake_ci import push_image, write_tag
from devkit.terraform import Terraform, synthesize
from ecs_cd.toolchain.cdktf_cli import tool_environment
from ecs_cd.toolchain.terraform_offline import TerraformSetup

REPO = "123456789012.dkr.ecr.us-east-1.amazonaws.com/strat-api"
REPO_NAME = "strat-api"
STRATEGIES = {"ts": "timestamp", "tag": "ssm-tag", "dig": "digest"}


def config_text(strategies: dict[str, str] = STRATEGIES) -> str:
    text = f"""
[project]
name = "strat"

[services.api]
repository = "{REPO}"
container_port = 8080
environment = {{ LOG_LEVEL = "info" }}
"""
    for env, strategy in strategies.items():
        text += f"""
[environments.{env}]
region = "us-east-1"
emulator_endpoint = "http://127.0.0.1:1"
network = {{ use_default_vpc = true, assign_public_ip = true }}
state = {{ backend = "local" }}

[environments.{env}.services.api]
image_strategy = "{strategy}"
"""
    return text


@dataclass(frozen=True)
class Observed:
    task_definition: str
    image: str
    deployment_id: str


@dataclass
class StrategyLab:
    emulator: Emulator
    setup: TerraformSetup
    workdir: Path
    strategies: dict[str, str] = field(default_factory=lambda: dict(STRATEGIES))
    terraform: dict[str, Terraform] = field(default_factory=dict)

    def parameter(self, env: str) -> str:
        return f"/api/{env}/docker-image-tag"

    def release(self, env: str, tag: str, *, content: str | None = None) -> str:
        """Push ``tag`` (with ``content``) and write it to ``env``'s parameter; returns the digest."""
        digest = push_image(self.emulator.client("ecr"), REPO_NAME, tag, content=content)
        write_tag(self.emulator.client("ssm"), self.parameter(env), tag)
        return digest

    def deploy_all(self, first_tag: str = "1.0.0") -> None:
        """Release ``first_tag`` everywhere, synthesize once, init and apply every stack."""
        config = self.workdir / "strategies.toml"
        config.write_text(config_text(self.strategies))
        for env in self.strategies:
            self.release(env, first_tag)
        env_vars = tool_environment(
            self.setup, emulator_endpoint=self.emulator.endpoint, extra={"ECS_CD_CONFIG": str(config)}
        )
        synthesize(config, self.workdir / "out", env_vars)
        for env in self.strategies:
            tf = Terraform(self.workdir / "out" / "stacks" / env, env_vars)
            tf.init()
            tf.apply()
            self.terraform[env] = tf

    def observe(self, env: str) -> Observed:
        ecs = self.emulator.client("ecs")
        (service,) = ecs.describe_services(cluster=f"strat-{env}", services=["api"])["services"]
        task = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]
        (primary,) = [d for d in service["deployments"] if d["status"] == "PRIMARY"]
        return Observed(service["taskDefinition"], task["containerDefinitions"][0]["image"], primary["id"])

    @staticmethod
    def update_service_calls(apply_output: str) -> int:
        """UpdateService calls an apply made: the service resource's updates and the redeploy
        command's runs (the only two callers); each starts one deployment."""
        updates = re.findall(r"^aws_ecs_service\.\S+: Modifications complete", apply_output, re.M)
        return len(updates) + apply_output.count("(local-exec): Executing:")

    @staticmethod
    def redeployed(before: Observed, after: Observed) -> bool:
        """ECS started a new deployment (a new task definition or a forced one): the PRIMARY
        deployment's id changed."""
        return before.deployment_id != after.deployment_id
