"""A release of the shipped `local` environment, against plain Terraform, on the emulator.

Interleaved in one run, each round in the same order, so a slower moment of the machine
touches every row alike; each row is a median over the rounds, with min and max:

- `terraform apply` of the synthesized JSON with nothing new (the floor), against
  `ecs-release deploy local --wait` (Terraform run directly) and `--via cdktf`;
- `terraform apply` after CI wrote a new tag, against `set-tag` + `ecs-release deploy --wait`;
- the direct-API floor: register a task definition and update the service with boto3.

Each command runs as a new process, as a CI job runs it. The shipped `local` environment uses
the `timestamp` strategy, so even "nothing new" replaces the trigger and starts a deployment
(the same for every row). The first deploy of the environment is timed once.

Measured, never asserted: `python -m bench release` prints the table for docs/speed.md.
"""

from __future__ import annotations

import functools
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.synth import timing_table
from devkit.emulator import Emulator
from devkit.fake_ci import create_secrets, push_image, write_tag
from ecs_cd.toolchain.cdktf_cli import CACHE_DIR, PROJECT_DIR, tool_environment
from ecs_cd.toolchain.terraform_offline import terraform_setup

CONFIG = PROJECT_DIR / "config" / "ecs-cd.toml"
SECRET = "arn:aws:ssm:us-east-1:123456789012:parameter/demo/local/api/db-password"
TAG_PARAMETER = "/api/local/docker-image-tag"


def _check(done: subprocess.CompletedProcess[str], what: str) -> None:
    if done.returncode != 0:
        raise RuntimeError(f"{what} failed ({done.returncode}):\n{(done.stdout + done.stderr)[-3000:]}")


def _write(ssm: Any, tag: str) -> None:
    write_tag(ssm, TAG_PARAMETER, tag)


def _set_tag_and_deploy(release: Callable[..., None], tag: str, out: Path) -> None:
    release("set-tag", "local", "api", tag)
    release("deploy", "local", "--wait", "--poll", "0.2", "--output", str(out))


def _stats(seconds: list[float]) -> dict[str, float]:
    return {
        "median": statistics.median(seconds),
        "min": min(seconds),
        "max": max(seconds),
        "runs": len(seconds),
    }


def run(rounds: int = 5) -> list[tuple[str, dict[str, float]]]:
    setup = terraform_setup(CACHE_DIR)
    with tempfile.TemporaryDirectory(dir=CACHE_DIR) as work_dir, Emulator(running_count=1) as emu:
        out = Path(work_dir) / "out"
        ecr, ssm, ecs = emu.client("ecr"), emu.client("ssm"), emu.client("ecs")
        create_secrets(lambda region: emu.client("ssm", region), [SECRET])
        release_env = {
            **os.environ,
            "CI": "true",
            "ECS_CD_CONFIG": str(CONFIG),
            "ECS_CD_EMULATOR_ENDPOINT": emu.endpoint,
        }
        terraform_env = tool_environment(setup, emulator_endpoint=emu.endpoint, extra=emu.aws_environment())

        def release(*args: str) -> None:
            done = subprocess.run(
                [sys.executable, "-m", "ecs_cd.release", "--json", *args],
                cwd=PROJECT_DIR,
                env=release_env,
                capture_output=True,
                text=True,
                check=False,
            )
            _check(done, "ecs-release " + " ".join(args))

        def apply() -> None:
            done = subprocess.run(
                ["terraform", "apply", "-auto-approve", "-input=false", "-no-color"],
                cwd=out / "stacks" / "local",
                env=terraform_env,
                capture_output=True,
                text=True,
                check=False,
            )
            _check(done, "terraform apply")

        tags = iter(f"2.0.{n}" for n in range(1000))

        def new_tag() -> str:
            tag = next(tags)
            push_image(ecr, "demo-api", tag)
            return tag

        def direct_api() -> None:
            (service,) = ecs.describe_services(cluster="demo-local", services=["api"])["services"]
            task = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]
            keep = ("family", "containerDefinitions", "cpu", "memory", "networkMode", "executionRoleArn")
            registered = ecs.register_task_definition(
                **{k: task[k] for k in keep if k in task}, requiresCompatibilities=["FARGATE"]
            )["taskDefinition"]["taskDefinitionArn"]
            ecs.update_service(
                cluster="demo-local", service="api", taskDefinition=registered, forceNewDeployment=True
            )

        push_image(ecr, "demo-api", "2.0.first")
        write_tag(ssm, TAG_PARAMETER, "2.0.first")
        started = time.monotonic()
        release("deploy", "local", "--wait", "--poll", "0.2", "--output", str(out))
        first = time.monotonic() - started

        rows: dict[str, list[float]] = {}

        def timed(label: str, fn: Callable[[], None], before: Callable[[], None] | None = None) -> None:
            if before is not None:
                before()  # not timed: what CI did before the measured step
            began = time.monotonic()
            fn()
            rows.setdefault(label, []).append(time.monotonic() - began)

        for _ in range(rounds):
            timed("terraform apply of the same JSON, nothing new", apply)
            timed(
                "ecs-release deploy local --wait, nothing new",
                lambda: release("deploy", "local", "--wait", "--poll", "0.2", "--output", str(out)),
            )
            timed(
                "ecs-release deploy local --wait --via cdktf, nothing new",
                lambda: release(
                    "deploy", "local", "--wait", "--poll", "0.2", "--via", "cdktf", "--output", str(out)
                ),
            )
            timed(
                "terraform apply after a new tag",
                apply,
                before=lambda: _write(ssm, new_tag()),
            )
            tag = new_tag()  # CI pushed the image; the measured step is what CD does then
            timed(
                "set-tag + ecs-release deploy local --wait",
                functools.partial(_set_tag_and_deploy, release, tag, out),
            )
            timed("direct-API floor: boto3 register + update-service", direct_api)
        result = [(label, _stats(seconds)) for label, seconds in rows.items()]
        result.append(("first deploy of the shipped local environment", _stats([first])))
        return result


def targets(rows: list[tuple[str, dict[str, float]]]) -> list[str]:
    t: dict[str, Any] = {label: figures["median"] for label, figures in rows}
    checks = [
        (
            "no-change deploy / terraform apply",
            t["ecs-release deploy local --wait, nothing new"]
            / t["terraform apply of the same JSON, nothing new"],
            1.15,
        ),
        (
            "no-change deploy --via cdktf / terraform apply",
            t["ecs-release deploy local --wait --via cdktf, nothing new"]
            / t["terraform apply of the same JSON, nothing new"],
            None,
        ),
        (
            "set-tag + deploy --wait / terraform apply after a new tag",
            t["set-tag + ecs-release deploy local --wait"] / t["terraform apply after a new tag"],
            1.2,
        ),
    ]
    lines = []
    for name, value, limit in checks:
        verdict = "" if limit is None else ("met" if value <= limit else "MISSED")
        lines.append(f"| {name} | {value:.2f} | {'' if limit is None else f'<= {limit}'} | {verdict} |")
    first = t["first deploy of the shipped local environment"]
    lines.append(
        f"| first deploy of local, seconds | {first:.1f} | <= 30 | {'met' if first <= 30 else 'MISSED'} |"
    )
    return lines


def table(rows: list[tuple[str, dict[str, float]]]) -> str:
    return timing_table(rows, targets(rows))


if __name__ == "__main__":
    print(table(run(int(sys.argv[1]) if len(sys.argv) > 1 else 5)))
