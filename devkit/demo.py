"""`make demo`: the whole delivery loop on the local AWS emulator.

Plays CI (push an image to ECR, write its tag to SSM), runs `cdktf deploy local`, shows
what the service runs, then does it again with a new tag and shows the new task
definition revision. Every step is checked; the exit code is 0 only if all held.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from devkit.emulator import Emulator
from devkit.fake_ci import push_image, write_tag
from ecs_cd.core import names
from ecs_cd.toolchain.cdktf_cli import CACHE_DIR, PROJECT_DIR, deploy, tool_environment
from ecs_cd.toolchain.errors import ToolError
from ecs_cd.toolchain.terminal import wants_color
from ecs_cd.toolchain.terraform_offline import terraform_setup
from stacks.settings import ConfigError, ServiceSettings, load_settings

ENVIRONMENT = "local"


class DemoFailed(Exception):
    """A step did not do what it said."""


def _say(text: str) -> None:
    print(f"\n==> {text}", flush=True)


def _repository_name(service: ServiceSettings) -> str:
    return service.repository.split("/", 1)[1] if "/" in service.repository else service.repository


def _service_state(ecs: Any, cluster: str, service: str) -> dict[str, Any]:
    described = ecs.describe_services(cluster=cluster, services=[service])
    if not described["services"]:
        raise DemoFailed(f"service {service} is not in cluster {cluster}")
    svc = described["services"][0]
    task = ecs.describe_task_definition(taskDefinition=svc["taskDefinition"])["taskDefinition"]
    primary = next(d for d in svc["deployments"] if d["status"] == "PRIMARY")
    return {
        "arn": svc["serviceArn"],
        "task_definition": svc["taskDefinition"],
        "revision": task["revision"],
        "image": task["containerDefinitions"][0]["image"],
        "deployment": primary["id"],
        "running": svc["runningCount"],
        "desired": svc["desiredCount"],
    }


def _deploy(setup: Any, env: dict[str, str], outdir: Path) -> float:
    started = time.monotonic()
    result = deploy(
        ENVIRONMENT, setup=setup, env=env, outdir=outdir, capture=False, color=wants_color(sys.stdout)
    )
    if result.returncode != 0:
        raise DemoFailed(f"cdktf deploy {ENVIRONMENT} exited with {result.returncode} (output above)")
    return time.monotonic() - started


def run() -> None:
    CACHE_DIR.mkdir(exist_ok=True)
    config_path = Path(os.environ.get("ECS_CD_CONFIG") or PROJECT_DIR / "config" / "ecs-cd.toml")
    settings = load_settings(config_path)
    if ENVIRONMENT not in settings.environments:
        raise DemoFailed(f"{config_path} has no [environments.{ENVIRONMENT}]")
    setup = terraform_setup(CACHE_DIR)
    _say(
        "Terraform providers: "
        + (f"offline mirrors via {setup.cli_config}" if setup.offline else "the Terraform registry")
    )
    workdir = Path(tempfile.mkdtemp(prefix="demo-", dir=CACHE_DIR))
    with Emulator(running_count=1, log_path=workdir / "moto.log") as emulator:
        _say(f"AWS emulator (moto) listening on {emulator.endpoint}")
        settings = load_settings(config_path, emulator_endpoint=emulator.endpoint)
        env_settings = settings.environments[ENVIRONMENT]
        ecr, ssm, ecs = (emulator.client(s, env_settings.region) for s in ("ecr", "ssm", "ecs"))
        env = tool_environment(setup, emulator_endpoint=emulator.endpoint, extra=emulator.aws_environment())
        cluster = names.cluster_name(settings.project, ENVIRONMENT)

        for round_, tag in enumerate(("1.0.0", "1.0.1"), start=1):
            _say(f"Round {round_}: CI builds {tag}")
            for service in env_settings.services:
                assert service.image_tag_parameter is not None
                digest = push_image(ecr, _repository_name(service), tag)
                version = write_tag(ssm, service.image_tag_parameter, tag)
                print(f"    pushed {service.repository}:{tag} ({digest[:19]}…)")
                print(f"    wrote {service.image_tag_parameter} = {tag} (parameter version {version})")
            before = (
                {
                    s.name: _service_state(ecs, cluster, names.service_name(s.name))
                    for s in env_settings.services
                }
                if round_ > 1
                else {}
            )

            _say(f"Round {round_}: cdktf deploy {ENVIRONMENT}")
            seconds = _deploy(setup, env, workdir / "cdktf.out")
            print(f"    deployed in {seconds:.0f} s")

            _say(f"Round {round_}: what the services run now")
            for service in env_settings.services:
                state = _service_state(ecs, cluster, names.service_name(service.name))
                expected = f"{service.repository}:{tag}"
                print(f"    service    {state['arn']}")
                print(f"    task def   {state['task_definition']} (revision {state['revision']})")
                print(f"    image      {state['image']}")
                print(f"    deployment {state['deployment']}  running {state['running']}/{state['desired']}")
                if state["image"] != expected:
                    raise DemoFailed(f"{service.name} runs {state['image']}, expected {expected}")
                if round_ > 1:
                    old = before[service.name]
                    if state["revision"] <= old["revision"]:
                        raise DemoFailed(
                            f"{service.name}: task definition revision {state['revision']} is not newer "
                            f"than {old['revision']}"
                        )
                    if state["deployment"] == old["deployment"]:
                        raise DemoFailed(f"{service.name}: no new deployment was started")
                    print(
                        f"    new revision {old['revision']} -> {state['revision']}, "
                        f"new deployment {old['deployment']} -> {state['deployment']}"
                    )
        _say("Stopping the emulator")
    shutil.rmtree(workdir, ignore_errors=True)
    _say("Demo passed: every step did what it printed.")


def main() -> int:
    try:
        run()
    except ConfigError as exc:
        print("demo: the configuration is invalid:\n  " + "\n  ".join(exc.problems), file=sys.stderr)
        return 2
    except (ToolError, DemoFailed) as exc:
        print(f"demo FAILED: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
