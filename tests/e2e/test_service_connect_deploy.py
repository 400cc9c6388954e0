"""The Service Connect example (examples/service-connect/ecs-cd.toml) deployed on the emulator through
the real `ecs-release deploy local --wait`: a namespace created with the environment, orders (a
backend the others call by name) and web (a client). Then a new tag of orders released through
the same commands as any service, and `status` and `overview` showing how orders is called.
The same services, split into a stack per service with orders on EC2 in bridge networking,
deploy too: their stacks find the environment's namespace and group by name.

moto runs no containers: what is checked is what ECS and Cloud Map were asked for and report
back (the emulator keeps a service's Service Connect configuration: devkit/moto_server.py), the
security group rules, and that Terraform reads it all back without changes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from devkit.emulator import Emulator
from devkit.fake_ci import push_image, write_tag
from devkit.terraform import Terraform
from ecs_cd.core import names
from ecs_cd.toolchain.cdktf_cli import PROJECT_DIR, tool_environment
from ecs_cd.toolchain.terraform_offline import TerraformSetup
from tests.release_helpers import ProcessRun, run_release_process

pytestmark = pytest.mark.e2e

EXAMPLE = PROJECT_DIR / "examples" / "service-connect" / "ecs-cd.toml"
SERVICES = ("orders", "web")


@dataclass(frozen=True)
class Seen:
    """What ECS reported for each service right after a deploy, and the command's run."""

    services: dict[str, dict[str, Any]]
    run: ProcessRun

    def primary(self, name: str) -> dict[str, Any]:
        (found,) = [d for d in self.services[name]["deployments"] if d["status"] == "PRIMARY"]
        return dict(found)


@dataclass
class Lab:
    emulator: Emulator
    setup: TerraformSetup
    work: Path

    def env(self, config: Path) -> dict[str, str]:
        return {"ECS_CD_CONFIG": str(config), "ECS_CD_EMULATOR_ENDPOINT": self.emulator.endpoint}

    def release(self, config: Path, *args: str) -> ProcessRun:
        run = run_release_process(self.env(config), *args)
        assert run.returncode == 0, f"{args}: " + run.stdout + run.stderr[-6000:]
        return run

    def deploy(self, config: Path, project: str) -> Seen:
        out = self.work / config.parent.name
        run = self.release(config, "deploy", "local", "--wait", "--poll", "0.2", "--output", str(out))
        described = self.emulator.client("ecs").describe_services(
            cluster=names.cluster_name(project, "local"), services=list(SERVICES)
        )["services"]
        return Seen({s["serviceName"]: dict(s) for s in described}, run)

    def plan_changes(self, config: Path, stack: str) -> dict[str, list[str]]:
        stack_dir = self.work / config.parent.name / "stacks" / stack
        tf = Terraform(stack_dir, tool_environment(self.setup, emulator_endpoint=self.emulator.endpoint))
        return tf.planned_changes()


@pytest.fixture(scope="module")
def lab(emulator: Emulator, tf_setup: TerraformSetup, tmp_path_factory: pytest.TempPathFactory) -> Lab:
    return Lab(emulator, tf_setup, tmp_path_factory.mktemp("service-connect"))


def _ci(emulator: Emulator, project: str, tag: str, *services: str) -> None:
    """CI built ``tag`` of each service and wrote it to SSM."""
    for service in services:
        push_image(emulator.client("ecr"), f"{project}-{service}", tag)
        write_tag(emulator.client("ssm"), names.image_tag_parameter(service, "local"), tag)


@dataclass(frozen=True)
class Runs:
    first: Seen
    plan_changes: dict[str, list[str]]
    released: Seen
    status: dict[str, Any]
    overview: dict[str, Any]


@pytest.fixture(scope="module")
def runs(lab: Lab) -> Runs:
    _ci(lab.emulator, "shop", "1.0.0", *SERVICES)
    first = lab.deploy(EXAMPLE, "shop")
    plan_changes = lab.plan_changes(EXAMPLE, "local")
    # A release of orders, as of any service: CI pushes, set-tag, deploy.
    push_image(lab.emulator.client("ecr"), "shop-orders", "1.0.1")
    lab.release(EXAMPLE, "set-tag", "local", "orders", "1.0.1")
    released = lab.deploy(EXAMPLE, "shop")
    status = lab.release(EXAMPLE, "status", "local", "orders").json
    overview = lab.release(EXAMPLE, "overview", "--env", "local").json
    return Runs(first, plan_changes, released, status, overview)


def _namespace(emulator: Emulator, name: str) -> dict[str, Any]:
    found = [
        n for n in emulator.client("servicediscovery").list_namespaces()["Namespaces"] if n["Name"] == name
    ]
    assert len(found) == 1, found
    return dict(found[0])


def test_the_namespace_is_created_and_every_service_joins_it(runs: Runs, emulator: Emulator) -> None:
    # THEN Cloud Map has the environment's HTTP namespace
    namespace = _namespace(emulator, "shop-local")
    assert namespace["Type"] == "HTTP"
    # AND both services' deployments are in it, each proxy logging to its own log group
    for name in SERVICES:
        connect = runs.first.primary(name)["serviceConnectConfiguration"]
        assert (connect["enabled"], connect["namespace"]) == (True, namespace["Arn"])
        assert connect["logConfiguration"]["options"]["awslogs-group"] == f"/ecs/shop/local/{name}"
    # AND orders serves its named port as orders:8080; web is a client only
    assert runs.first.primary("orders")["serviceConnectConfiguration"]["services"] == [
        {
            "portName": "orders",
            "discoveryName": "orders",
            "clientAliases": [{"port": 8080, "dnsName": "orders"}],
        }
    ]
    assert "services" not in runs.first.primary("web")["serviceConnectConfiguration"]


def test_the_task_definition_names_the_served_port(runs: Runs, emulator: Emulator) -> None:
    task = emulator.client("ecs").describe_task_definition(
        taskDefinition=runs.first.services["orders"]["taskDefinition"]
    )["taskDefinition"]
    (mapping,) = task["containerDefinitions"][0]["portMappings"]
    assert (mapping["name"], mapping["appProtocol"], mapping["containerPort"]) == ("orders", "http", 8080)


def _group(emulator: Emulator, name: str) -> dict[str, Any]:
    (group,) = emulator.client("ec2").describe_security_groups(
        Filters=[{"Name": "group-name", "Values": [name]}]
    )["SecurityGroups"]
    return dict(group)


def test_orders_admits_the_environments_services_on_its_port_only(runs: Runs, emulator: Emulator) -> None:
    callers = _group(emulator, "shop-local-service-connect")["GroupId"]
    orders = _group(emulator, names.security_group_name("shop", "local", "orders"))
    web = _group(emulator, names.security_group_name("shop", "local", "web"))
    # THEN both services' tasks are in the callers' group beside their own
    for name, own in (("orders", orders), ("web", web)):
        groups = runs.first.services[name]["networkConfiguration"]["awsvpcConfiguration"]["securityGroups"]
        assert sorted(groups) == sorted([own["GroupId"], callers])
    # AND orders admits that group on 8080 and nothing else; web admits nothing
    rules = emulator.client("ec2").describe_security_group_rules(
        Filters=[{"Name": "group-id", "Values": [orders["GroupId"], web["GroupId"], callers]}]
    )["SecurityGroupRules"]
    ingress = [
        (r["GroupId"], r.get("ReferencedGroupInfo", {}).get("GroupId"), r["FromPort"], r["ToPort"])
        for r in rules
        if not r["IsEgress"]
    ]
    assert ingress == [(orders["GroupId"], callers, 8080, 8080)]
    # AND the callers' group may reach orders there, and nowhere else
    egress = [
        (r.get("ReferencedGroupInfo", {}).get("GroupId"), r["FromPort"], r["ToPort"])
        for r in rules
        if r["IsEgress"] and r["GroupId"] == callers
    ]
    assert egress == [(orders["GroupId"], 8080, 8080)]


def test_terraform_reads_it_all_back_without_changes(runs: Runs) -> None:
    assert runs.plan_changes == {}, json.dumps(runs.plan_changes)


def test_a_new_tag_of_orders_is_released_as_for_any_service(runs: Runs) -> None:
    # THEN the new revision runs, still serving orders:8080 in the namespace
    primary = runs.released.primary("orders")
    assert primary["taskDefinition"].endswith(":2")
    assert primary["serviceConnectConfiguration"]["services"][0]["clientAliases"] == [
        {"port": 8080, "dnsName": "orders"}
    ]
    (rollout,) = [r for r in runs.released.run.json["rollouts"] if r["service"] == "orders"]
    assert rollout["outcome"] == "COMPLETED"
    # AND web was not redeployed
    assert runs.released.primary("web")["id"] == runs.first.primary("web")["id"]


def test_status_and_overview_show_how_orders_is_called(runs: Runs, emulator: Emulator) -> None:
    arn = _namespace(emulator, "shop-local")["Arn"]
    (status,) = runs.status["services"]
    assert status["tag"] == "1.0.1"
    assert status["service_connect"] == {
        "namespace": arn,
        "discovery_names": ["orders"],
        "endpoints": ["orders:8080"],
    }
    cells = {c["service"]: c for c in runs.overview["services"]}
    assert cells["orders"]["service_connect"]["endpoints"] == ["orders:8080"]
    assert cells["web"]["service_connect"] == {"namespace": arn, "discovery_names": [], "endpoints": []}


@dataclass(frozen=True)
class SplitRuns:
    seen: Seen
    orders_task: dict[str, Any]
    plan_changes: dict[str, dict[str, list[str]]]


@pytest.fixture(scope="module")
def split(lab: Lab) -> SplitRuns:
    """The example as another project, split into a stack per service, with orders on EC2 in bridge
    networking (web stays on Fargate): one deploy for both shapes."""
    text = EXAMPLE.read_text(encoding="utf-8")
    for old, new in (
        ('name = "shop"', 'name = "split"'),
        ('namespace = "shop-local"', 'namespace = "split-local"'),
        ("shop-orders", "split-orders"),
        ("shop-web", "split-web"),
        ('path = "terraform.service-connect.tfstate"', 'path = "terraform.split.tfstate"'),
        ("log_retention_days = 1\n", "log_retention_days = 1\nstack_per_service = true\n"),
        (
            "container_port = 8080\n",
            'container_port = 8080\ncompute = { launch_type = "EC2" }\nnetwork_mode = "bridge"\n'
            "memory_reservation = 128\n",
        ),
        (
            "network = { use_default_vpc = true, assign_public_ip = true }",
            "network = { use_default_vpc = true }",
        ),
    ):
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    config = lab.work / "configs" / "service-connect-split" / "ecs-cd.toml"
    config.parent.mkdir(parents=True)
    config.write_text(text, encoding="utf-8")
    _ci(lab.emulator, "split", "1.0.0", *SERVICES)
    seen = lab.deploy(config, "split")
    task = lab.emulator.client("ecs").describe_task_definition(
        taskDefinition=seen.services["orders"]["taskDefinition"]
    )["taskDefinition"]
    changes = {stack: lab.plan_changes(config, stack) for stack in ("local", "local-orders", "local-web")}
    return SplitRuns(seen, dict(task), changes)


def test_split_stacks_find_the_environments_namespace_and_group(split: SplitRuns, emulator: Emulator) -> None:
    arn = _namespace(emulator, "split-local")["Arn"]
    callers = _group(emulator, "split-local-service-connect")["GroupId"]
    # THEN each service's stack put its service in the environment's namespace
    for name in SERVICES:
        assert split.seen.primary(name)["serviceConnectConfiguration"]["namespace"] == arn
    # AND web's tasks (awsvpc) in the environment's callers' group
    groups = split.seen.services["web"]["networkConfiguration"]["awsvpcConfiguration"]["securityGroups"]
    assert callers in groups
    # AND a second plan of every stack is clean
    assert split.plan_changes == {"local": {}, "local-orders": {}, "local-web": {}}, json.dumps(
        split.plan_changes
    )


def test_a_bridge_server_on_ec2_serves_its_named_port(split: SplitRuns) -> None:
    # THEN orders runs on EC2 in bridge networking, its port named on a dynamic host port
    task, orders = split.orders_task, split.seen.services["orders"]
    assert (task["networkMode"], orders["launchType"]) == ("bridge", "EC2")
    (mapping,) = task["containerDefinitions"][0]["portMappings"]
    assert (mapping["name"], mapping["hostPort"]) == ("orders", 0)
    # AND it serves orders:8080 in the namespace, with no awsvpc configuration of its own
    assert split.seen.primary("orders")["serviceConnectConfiguration"]["services"][0]["clientAliases"] == [
        {"port": 8080, "dnsName": "orders"}
    ]
    assert not orders.get("networkConfiguration")
