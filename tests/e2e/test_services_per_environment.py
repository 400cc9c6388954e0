"""Services per environment (issue 13), end to end on the emulator: a service turned on in one
environment only is deployed there and absent from the other, and tag parameters named once with
`{project}/{service}/{env}` placeholders resolve per environment, from `set-tag` to the image
the task definition runs. Both environments deploy in parallel, through `ecs-release deploy`."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest

from devkit.emulator import Emulator
from devkit.fake_ci import push_image
from ecs_cd.release import errors
from tests.release_helpers import ProcessRun, run_release_process

pytestmark = pytest.mark.e2e

REGISTRY = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
CONFIG = f"""
[project]
name = "pe"

[services.api]
repository = "{REGISTRY}/pe-api"
image_tag_parameter = "/{{project}}/{{service}}/{{env}}/image-tag"

[services.reports]
repository = "{REGISTRY}/pe-reports"
image_tag_parameter = "/{{project}}/{{service}}/{{env}}/image-tag"
enabled = false
"""
for _env in ("a", "b"):
    CONFIG += f"""
[environments.{_env}]
region = "us-east-1"
emulator_endpoint = "http://127.0.0.1:1"
log_retention_days = 1
network = {{ use_default_vpc = true }}
state = {{ backend = "local", path = "terraform.{_env}.tfstate" }}
"""
CONFIG += """
[environments.b.services.reports]
enabled = true
"""
TAGS = {("a", "api"): "1.0.0", ("b", "api"): "2.0.0", ("b", "reports"): "3.0.0"}


@dataclass(frozen=True)
class Lab:
    emulator: Emulator
    env: dict[str, str]
    deploys: dict[str, ProcessRun]

    def release(self, *args: str) -> ProcessRun:
        return run_release_process(self.env, *args)

    def running(self, env: str) -> dict[str, str]:
        """Service name -> image its task definition runs, in environment ``env``'s cluster."""
        ecs = self.emulator.client("ecs")
        arns = ecs.list_services(cluster=f"pe-{env}")["serviceArns"]
        found = {}
        for service in ecs.describe_services(cluster=f"pe-{env}", services=arns)["services"] if arns else []:
            task = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]
            found[service["serviceName"]] = task["containerDefinitions"][0]["image"]
        return found


@pytest.fixture(scope="module")
def lab(emulator: Emulator, tmp_path_factory: pytest.TempPathFactory) -> Lab:
    work = tmp_path_factory.mktemp("per-env")
    config = work / "ecs-cd.toml"
    config.write_text(CONFIG)
    env = {"ECS_CD_CONFIG": str(config), "ECS_CD_EMULATOR_ENDPOINT": emulator.endpoint}
    # GIVEN CI pushed each image and wrote each tag through `set-tag` (the placeholders' names)
    for (env_name, service), tag in TAGS.items():
        push_image(emulator.client("ecr"), f"pe-{service}", tag)
        written = run_release_process(env, "set-tag", env_name, service, tag, "--verify")
        assert written.returncode == 0, written.stdout + written.stderr
    # WHEN both environments deploy, in parallel
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = {
            name: pool.submit(
                run_release_process,
                env,
                "deploy",
                name,
                "--wait",
                "--poll",
                "0.2",
                "--output",
                str(work / name),
            )
            for name in ("a", "b")
        }
        deploys = {name: run.result() for name, run in runs.items()}
    for name, run in deploys.items():
        assert run.returncode == 0, f"deploy {name}: " + run.stdout + run.stderr[-6000:]
    return Lab(emulator, env, deploys)


def test_a_service_on_in_one_environment_runs_only_there(lab: Lab) -> None:
    # THEN b runs both services, a only api
    assert lab.running("b") == {"api": f"{REGISTRY}/pe-api:2.0.0", "reports": f"{REGISTRY}/pe-reports:3.0.0"}
    assert lab.running("a") == {"api": f"{REGISTRY}/pe-api:1.0.0"}
    # AND each deploy followed the rollouts of its own services only
    assert sorted(r["service"] for r in lab.deploys["b"].json["rollouts"]) == ["api", "reports"]
    assert [r["service"] for r in lab.deploys["a"].json["rollouts"]] == ["api"]


def test_placeholder_parameter_names_resolve_per_environment(lab: Lab) -> None:
    # THEN each tag went to its own parameter, named by the placeholders
    ssm = lab.emulator.client("ssm")
    for (env_name, service), tag in TAGS.items():
        value = ssm.get_parameter(Name=f"/pe/{service}/{env_name}/image-tag")["Parameter"]["Value"]
        assert value == tag
    # AND `status` reads the same names
    status = lab.release("status", "b")
    assert status.returncode == 0, status.stderr
    assert {s["service"]: s["tag"] for s in status.json["services"]} == {"api": "2.0.0", "reports": "3.0.0"}


def test_the_release_command_refuses_the_service_where_it_is_off(lab: Lab) -> None:
    # WHEN CI writes a tag for reports in a, where it is off
    refused = lab.release("set-tag", "a", "reports", "1.0.0")
    # THEN it is bad input, saying why, and no parameter was written
    assert refused.returncode == errors.BAD_INPUT, refused.stdout + refused.stderr
    assert refused.json["error"].startswith(
        "service 'reports' is not deployed to environment 'a' (enabled = false"
    )
    ssm = lab.emulator.client("ssm")
    assert (
        ssm.describe_parameters(
            ParameterFilters=[{"Key": "Name", "Option": "Equals", "Values": ["/pe/reports/a/image-tag"]}]
        )["Parameters"]
        == []
    )
