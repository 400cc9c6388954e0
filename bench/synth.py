"""Where synthesis time goes: floors, `python main.py` by size with the fast path on and off,
the cdktf CLI, the unit-test suite, and deploys against plain Terraform.

Every figure is a median over several runs of a fresh process, with min and max.
"""

from __future__ import annotations

import functools
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from devkit.emulator import Emulator
from devkit.fake_ci import push_image, write_tag
from devkit.terraform import Terraform
from ecs_cd.toolchain.cdktf_cli import CACHE_DIR, PROJECT_DIR, cdktf, deploy, tool_environment
from ecs_cd.toolchain.terraform_offline import terraform_setup

# The provider submodules the stacks import (kept in step by test_bench_inputs.py).
USED_SUBMODULES = (
    "appautoscaling_policy",
    "appautoscaling_target",
    "autoscaling_group",
    "cloudwatch_log_group",
    "cloudwatch_metric_alarm",
    "data_aws_caller_identity",
    "data_aws_ecr_image",
    "data_aws_ecs_cluster",
    "data_aws_security_group",
    "data_aws_service_discovery_http_namespace",
    "data_aws_ssm_parameter",
    "data_aws_subnets",
    "data_aws_vpc",
    "ecs_cluster",
    "ecs_capacity_provider",
    "ecs_cluster_capacity_providers",
    "ecs_service",
    "ecs_task_definition",
    "iam_instance_profile",
    "iam_role",
    "iam_role_policy",
    "launch_template",
    "lb",
    "lb_listener",
    "lb_listener_rule",
    "lb_target_group",
    "provider",
    "scheduler_schedule",
    "security_group",
    "sqs_queue",
    "service_discovery_http_namespace",
    "vpc_security_group_egress_rule",
    "vpc_security_group_ingress_rule",
    "wafv2_web_acl_association",
)
ENVIRONMENTS = ("local", "dev", "staging", "prod")


def generated_config(services: int) -> str:
    """The shipped environments with ``services`` services."""
    text = '[project]\nname = "bench"\n'
    for i in range(services):
        text += f"""
[services.svc{i:02d}]
repository = "123456789012.dkr.ecr.us-east-1.amazonaws.com/svc{i:02d}"
container_port = 8080
environment = {{ LOG_LEVEL = "info" }}
"""
    text += """
[environments.local]
region = "us-east-1"
emulator_endpoint = "http://127.0.0.1:4566"
network = { use_default_vpc = true, assign_public_ip = true }
state = { backend = "local" }
"""
    for env in ENVIRONMENTS[1:]:
        text += f"""
[environments.{env}]
region = "eu-west-1"
network = {{ vpc_id = "vpc-0a1b2c3d4e5f60718", subnet_ids = ["subnet-0a1b2c3d4e5f60718"] }}
state = {{ backend = "s3", bucket = "bench-state", key = "{env}.tfstate", region = "eu-west-1" }}
"""
    return text


def timed(fn: Callable[[], None], runs: int) -> dict[str, float]:
    seconds = []
    for _ in range(runs):
        started = time.monotonic()
        fn()
        seconds.append(time.monotonic() - started)
    return {"median": statistics.median(seconds), "min": min(seconds), "max": max(seconds), "runs": runs}


def _run(argv: list[str], env: Mapping[str, str], cwd: Path = PROJECT_DIR) -> None:
    result = subprocess.run(argv, cwd=cwd, env=dict(env), capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed:\n{(result.stdout + result.stderr)[-3000:]}")


def run(runs: int = 3) -> list[tuple[str, dict[str, float]]]:
    base = {**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20", "CHECKPOINT_DISABLE": "1"}
    rows: list[tuple[str, dict[str, float]]] = []
    imports = "; ".join(f"import {'cdktf_cdktf_provider_aws'}.{m}" for m in USED_SUBMODULES)
    rows.append(
        (
            "stock floor: import the used submodules",
            timed(lambda: _run([sys.executable, "-c", imports], base), runs),
        )
    )
    fast = f"from stacks.fast_import import enable; enable(); {imports}"
    rows.append(
        (
            "fast floor: the same with the fast path",
            timed(lambda: _run([sys.executable, "-c", fast], base), runs),
        )
    )

    with tempfile.TemporaryDirectory(dir=CACHE_DIR) as tmp:
        work = Path(tmp)
        for services in (1, 5, 20):
            config = work / f"services-{services}.toml"
            config.write_text(generated_config(services))
            for switch, label in (("1", "fast"), ("0", "stock")):
                env = {
                    **base,
                    "ECS_CD_CONFIG": str(config),
                    "ECS_CD_FAST_IMPORT": switch,
                    "CDKTF_OUTDIR": str(work / f"out-{services}-{switch}"),
                }
                rows.append(
                    (
                        f"python main.py, 4 envs x {services} services, {label}",
                        timed(functools.partial(_run, [sys.executable, "main.py"], env), runs),
                    )
                )
        config5 = work / "services-5.toml"
        setup = terraform_setup(CACHE_DIR)
        cli_env = tool_environment(setup, extra={"ECS_CD_CONFIG": str(config5)})
        rows.append(
            (
                "cdktf synth (CLI), 4 envs x 5 services, fast",
                timed(lambda: _check(cdktf(["synth", "--output", str(work / "cli-out")], env=cli_env)), runs),
            )
        )
        rows.append(
            (
                "unit-test suite (pytest tests/unit)",
                timed(
                    lambda: _run(
                        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/unit"], base
                    ),
                    1,
                ),
            )
        )
        rows += _deploys(setup, work)
    return rows


def _check(result: subprocess.CompletedProcess[str]) -> None:
    if result.returncode != 0:
        raise RuntimeError((result.stdout + result.stderr)[-3000:])


def _deploys(setup: Any, work: Path) -> list[tuple[str, dict[str, float]]]:
    rows = []
    with Emulator(log_path=work / "moto.log") as emulator:
        push_image(emulator.client("ecr"), "demo-api", "1.0.0")
        write_tag(emulator.client("ssm"), "/api/local/docker-image-tag", "1.0.0")
        env = tool_environment(setup, emulator_endpoint=emulator.endpoint, extra=emulator.aws_environment())
        out = work / "deploy-out"
        rows.append(
            (
                "cdktf deploy local, first run (emulator)",
                timed(lambda: _check(deploy("local", setup=setup, env=env, outdir=out)), 1),
            )
        )
        rows.append(
            (
                "cdktf deploy local, re-run (timestamp trigger only)",
                timed(lambda: _check(deploy("local", setup=setup, env=env, outdir=out)), 3),
            )
        )
        tf = Terraform(out / "stacks" / "local", env)

        def apply() -> None:
            tf.apply()

        rows.append(("terraform apply of the same JSON, re-run", timed(apply, 3)))
    return rows


def targets(rows: list[tuple[str, dict[str, float]]]) -> list[str]:
    t = {label: figures["median"] for label, figures in rows}
    stock_floor = t["stock floor: import the used submodules"]
    fast_floor = t["fast floor: the same with the fast path"]
    fast5 = t["python main.py, 4 envs x 5 services, fast"]
    marginal = (
        t["python main.py, 4 envs x 20 services, fast"] - t["python main.py, 4 envs x 1 services, fast"]
    ) / (4 * 19)
    cli = t["cdktf synth (CLI), 4 envs x 5 services, fast"]
    suite = t["unit-test suite (pytest tests/unit)"]
    checks = [
        ("synth 4x5 fast / stock floor", fast5 / stock_floor, 0.35),
        ("synth 4x5 fast / fast floor", fast5 / fast_floor, 1.3),
        ("marginal s per service-environment", marginal, 0.25),
        ("cdktf synth / python main.py", cli / fast5, 1.5),
        ("unit-test suite / one synth", suite / fast5, 2.0),
    ]
    return [
        f"| {name} | {value:.2f} | <= {limit} | {'met' if value <= limit else 'MISSED'} |"
        for name, value, limit in checks
    ]


def timing_table(rows: list[tuple[str, dict[str, float]]], target_lines: list[str]) -> str:
    """Medians with min and max, then the targets (also bench/release.py's layout)."""
    lines = ["| what | median | min | max | runs |", "| --- | --- | --- | --- | --- |"]
    for label, f in rows:
        lines.append(
            f"| {label} | {f['median']:.2f} s | {f['min']:.2f} s | {f['max']:.2f} s | {int(f['runs'])} |"
        )
    lines += ["", "| target | measured | limit | |", "| --- | --- | --- | --- |", *target_lines]
    return "\n".join(lines)


def table(rows: list[tuple[str, dict[str, float]]]) -> str:
    return timing_table(rows, targets(rows))
