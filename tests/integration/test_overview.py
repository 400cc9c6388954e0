"""`ecs-release overview` on the emulator (issue 15): services x environments, with both kinds of
drift seeded through boto3 as they happen: CI wrote a tag not deployed yet, and someone
registered a revision outside Terraform and pointed the service at it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from devkit.emulator import Emulator
from devkit.fake_ci import push_image, write_tag
from tests.release_helpers import Run, run_cli

REPOSITORY = "123456789012.dkr.ecr.us-east-1.amazonaws.com/ov-api"
CONFIG = f"""
[project]
name = "ov"

[services.api]
repository = "{REPOSITORY}"

[services.worker]
repository = "123456789012.dkr.ecr.us-east-1.amazonaws.com/ov-worker"

[environments.a]
region = "us-east-1"
emulator_endpoint = "http://127.0.0.1:1"
network = {{ use_default_vpc = true }}
state = {{ backend = "local", path = "a.tfstate" }}

[environments.b]
region = "us-east-1"
emulator_endpoint = "http://127.0.0.1:1"
network = {{ use_default_vpc = true }}
state = {{ backend = "local", path = "b.tfstate" }}

[environments.b.services.worker]
enabled = false
"""
TERRAFORMS_TAGS = [{"key": "ManagedBy", "value": "ecs-cd"}, {"key": "Project", "value": "ov"}]


def _register(ecs: Any, env: str, tag: str, tags: list[dict[str, str]] | None) -> str:
    extra = {"tags": tags} if tags else {}
    return str(
        ecs.register_task_definition(
            family=f"ov-{env}-api",
            networkMode="awsvpc",
            requiresCompatibilities=["FARGATE"],
            cpu="256",
            memory="512",
            containerDefinitions=[{"name": "api", "image": f"{REPOSITORY}:{tag}", "essential": True}],
            **extra,
        )["taskDefinition"]["taskDefinitionArn"]
    )


@pytest.fixture(scope="module")
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    with Emulator(running_count=1, log_path=tmp_path_factory.mktemp("moto") / "moto.log") as running:
        ecs, ec2, ssm = (running.client(name) for name in ("ecs", "ec2", "ssm"))
        subnets = [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]][:1]
        # GIVEN api deployed by Terraform in a and b, on 1.0.0
        for env in ("a", "b"):
            ecs.create_cluster(clusterName=f"ov-{env}")
            ecs.create_service(
                cluster=f"ov-{env}",
                serviceName="api",
                taskDefinition=_register(ecs, env, "1.0.0", TERRAFORMS_TAGS),
                desiredCount=1,
                launchType="FARGATE",
                networkConfiguration={"awsvpcConfiguration": {"subnets": subnets, "securityGroups": []}},
            )
            write_tag(ssm, f"/api/{env}/docker-image-tag", "1.0.0")
        # AND CI wrote 1.1.0 for b, not deployed yet
        write_tag(ssm, "/api/b/docker-image-tag", "1.1.0")
        # AND in a someone registered a revision by hand and switched the service to it
        outside = _register(ecs, "a", "1.0.0", None)
        ecs.update_service(cluster="ov-a", service="api", taskDefinition=outside)
        yield running


@pytest.fixture(scope="module")
def shown(emu: Emulator, tmp_path_factory: pytest.TempPathFactory) -> tuple[Run, Run]:
    config = tmp_path_factory.mktemp("ov") / "ecs-cd.toml"
    config.write_text(CONFIG)
    return (
        run_cli(config, emu.endpoint, "overview"),
        run_cli(config, emu.endpoint, "overview", json_mode=False),
    )


def test_each_service_in_each_environment_with_its_drift(shown: tuple[Run, Run]) -> None:
    document, _ = shown
    assert document.exit_code == 0, document.stderr
    cells = {(c["environment"], c["service"]): c for c in document.json["services"]}
    # THEN a runs the tag SSM holds, but on a revision Terraform did not register
    a = cells[("a", "api")]
    assert (a["tag"], a["running_tag"], a["task_definition"].rsplit(":", 1)[1]) == ("1.0.0", "1.0.0", "2")
    assert a["drift"] == ["runs revision 2, which Terraform did not register (changed outside)"]
    # AND b is behind what CI released
    b = cells[("b", "api")]
    assert (b["tag"], b["running_tag"]) == ("1.1.0", "1.0.0")
    assert b["drift"] == ["SSM says 1.1.0, 1.0.0 runs (not deployed yet)"]
    # AND the worker was never deployed to a, and is off in b (no cell)
    assert cells[("a", "worker")]["deployed"] is False and ("b", "worker") not in cells
    assert document.json["environments"] == ["a", "b"]


def test_the_table_shows_it_at_a_glance(shown: tuple[Run, Run]) -> None:
    _, plain = shown
    assert plain.exit_code == 0, plain.stderr
    header, api, worker = plain.stdout.splitlines()
    assert header.split() == ["service", "a", "b"]
    assert api.startswith("api") and api.count("!") == 2
    assert "changed outside" in api and "not deployed yet" in api
    assert worker.split()[0] == "worker" and "(not deployed)" in worker and worker.endswith("(off)")


DIGEST_REPOSITORY = "123456789012.dkr.ecr.us-east-1.amazonaws.com/ovd-api"
WEB_REPOSITORY = "123456789012.dkr.ecr.us-east-1.amazonaws.com/ovd-web"
DIGEST_CONFIG = f"""
[project]
name = "ovd"

[services.api]
repository = "{DIGEST_REPOSITORY}"
image_strategy = "digest"

[services.web]
repository = "{WEB_REPOSITORY}"
image_strategy = "ssm-tag"

[environments.c]
region = "us-east-1"
emulator_endpoint = "http://127.0.0.1:1"
network = {{ use_default_vpc = true }}
state = {{ backend = "local", path = "c.tfstate" }}
"""


def test_tags_and_digests_of_what_runs_and_drift_under_the_digest_strategy(
    emu: Emulator, tmp_path_factory: pytest.TempPathFactory
) -> None:
    ecs, ecr, ssm, ec2 = (emu.client(name) for name in ("ecs", "ecr", "ssm", "ec2"))
    subnets = [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]][:1]
    # GIVEN api (digest strategy) runs 1.0.0 pinned by its digest, and CI has since released 1.1.0
    old, new = push_image(ecr, "ovd-api", "1.0.0"), push_image(ecr, "ovd-api", "1.1.0")
    # AND web (ssm-tag) runs 2.0.0 by tag, as SSM says
    web_digest = push_image(ecr, "ovd-web", "2.0.0")
    ecs.create_cluster(clusterName="ovd-c")
    for service, image in (("api", f"{DIGEST_REPOSITORY}@{old}"), ("web", f"{WEB_REPOSITORY}:2.0.0")):
        revision = ecs.register_task_definition(
            family=f"ovd-c-{service}",
            networkMode="awsvpc",
            requiresCompatibilities=["FARGATE"],
            cpu="256",
            memory="512",
            containerDefinitions=[{"name": service, "image": image, "essential": True}],
            tags=[{"key": "ManagedBy", "value": "ecs-cd"}],
        )["taskDefinition"]["taskDefinitionArn"]
        ecs.create_service(
            cluster="ovd-c",
            serviceName=service,
            taskDefinition=revision,
            desiredCount=1,
            launchType="FARGATE",
            networkConfiguration={"awsvpcConfiguration": {"subnets": subnets, "securityGroups": []}},
        )
    write_tag(ssm, "/api/c/docker-image-tag", "1.1.0")
    write_tag(ssm, "/web/c/docker-image-tag", "2.0.0")
    config = tmp_path_factory.mktemp("ovd") / "ecs-cd.toml"
    config.write_text(DIGEST_CONFIG)
    # WHEN the overview is asked for
    run = run_cli(config, emu.endpoint, "overview")
    assert run.exit_code == 0, run.stderr
    cells = {c["service"]: c for c in run.json["services"]}
    # THEN api shows the digest it runs and, from ECR, that digest's tag
    api = cells["api"]
    assert (api["digest"], api["running_tag"]) == (old, "1.0.0")
    # AND that SSM names another image (by its digest): not deployed yet
    short = new.removeprefix("sha256:")[:12]
    assert api["drift"] == [f"SSM says 1.1.0 ({short}), 1.0.0 runs (not deployed yet)"]
    # AND web, pinned by tag, shows ECR's digest of that tag, with no drift
    web = cells["web"]
    assert (web["running_tag"], web["digest"], web["drift"]) == ("2.0.0", web_digest, [])
    # WHEN CI's tag is the running one again THEN api has no drift
    write_tag(ssm, "/api/c/docker-image-tag", "1.0.0")
    again = {c["service"]: c for c in run_cli(config, emu.endpoint, "overview").json["services"]}
    assert (again["api"]["running_tag"], again["api"]["drift"]) == ("1.0.0", [])
