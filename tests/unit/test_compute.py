"""EC2 capacity, bridge networking and capacity providers (issue 12): the two examples as they
synthesize, and every contradiction as one line naming file, field, value and what is allowed."""

from __future__ import annotations

import copy
import json
import re
import tomllib
from collections.abc import Callable
from typing import Any

import pytest

from constructs_lib.service_props import Compute
from ecs_cd.toolchain.cdktf_cli import PROJECT_DIR
from stacks.settings import ConfigError, settings_from_dict
from tests.conftest import Synthesized
from tests.terraform_text import parse_definitions

EC2_BRIDGE = PROJECT_DIR / "examples" / "ec2-bridge" / "ecs-cd.toml"
FARGATE_SPOT = PROJECT_DIR / "examples" / "fargate-spot" / "ecs-cd.toml"
FILE = "ecs-cd.toml"


def one(out: Synthesized, kind: str) -> dict[str, Any]:
    (found,) = out.json["resource"][kind].values()
    return dict(found)


@pytest.fixture(scope="module")
def bridge(examples: dict[str, dict[str, Synthesized]]) -> dict[str, Synthesized]:
    return examples["ec2-bridge"]


@pytest.fixture(scope="module")
def spot(examples: dict[str, dict[str, Synthesized]]) -> dict[str, Synthesized]:
    return examples["fargate-spot"]


# --- the ec2-bridge example: the first article's task definition --------------------------------


def test_the_article_task_definition_is_bridge_on_ec2(bridge: dict[str, Synthesized]) -> None:
    # GIVEN the example WHEN synthesized THEN the task is EC2's, bridge-networked, sized by its containers
    task = one(bridge["local"], "aws_ecs_task_definition")
    assert task["network_mode"] == "bridge"
    assert task["requires_compatibilities"] == ["EC2"]
    assert "cpu" not in task and "memory" not in task
    definitions = {d["name"]: d for d in parse_definitions(task["container_definitions"])}
    api, cache, tail = definitions["api"], definitions["cache"], definitions["log-tail"]
    # AND the app's port is dynamic on the host, with the article's 10 cpu units and a reservation
    assert api["portMappings"] == [{"containerPort": 8080, "hostPort": 0, "protocol": "tcp"}]
    assert (api["cpu"], api["memoryReservation"]) == (10, 128)
    assert "memory" not in api
    # AND links, mount points and volumesFrom reach ECS as written
    assert api["links"] == ["cache"]
    assert {"sourceVolume": "app-logs", "containerPath": "/var/log/api", "readOnly": False} in api[
        "mountPoints"
    ]
    assert cache["mountPoints"] == [
        {"sourceVolume": "cache-data", "containerPath": "/data", "readOnly": False}
    ]
    assert tail["volumesFrom"] == [{"sourceContainer": "api", "readOnly": True}]
    # AND the task's Docker volumes are declared beside the writable path's
    volumes = {v["name"]: v for v in task["volume"]}
    assert volumes["app-logs"]["docker_volume_configuration"] == {"driver": "local", "scope": "task"}
    assert volumes["cache-data"]["docker_volume_configuration"] == {
        "autoprovision": True,
        "driver": "local",
        "scope": "shared",
    }
    assert volumes["tmp"] == {"name": "tmp"}
    # AND the hardening holds in every container
    assert all(d["readonlyRootFilesystem"] and d["privileged"] is False for d in definitions.values())


def test_the_bridge_service_targets_instances_with_no_network_of_its_own(
    bridge: dict[str, Synthesized],
) -> None:
    local = bridge["local"]
    service = one(local, "aws_ecs_service")
    # THEN the service runs on EC2 without an awsvpc configuration or a tasks' security group
    assert service["launch_type"] == "EC2"
    assert "network_configuration" not in service
    groups = local.json["resource"]["aws_security_group"]
    assert [g["name"] for g in groups.values()] == ["article-local-alb"]
    # AND the target group registers instances (ECS adds each task's host port)
    assert one(local, "aws_lb_target_group")["target_type"] == "instance"
    # AND the load balancer's own group may reach the VPC's instances on the dynamic host ports only
    egress = one(local, "aws_vpc_security_group_egress_rule")
    assert (egress["from_port"], egress["to_port"], egress["ip_protocol"]) == (32768, 65535, "tcp")
    assert egress["cidr_ipv4"].startswith("${data.aws_vpc.") and egress["cidr_ipv4"].endswith(".cidr_block}")
    # AND the timestamp trigger redeploys on every apply
    redeploy = one(local, "null_resource")
    assert redeploy["triggers"]["always_run"] == "${timestamp()}"


def test_prod_uses_an_ec2_capacity_provider_with_placement(bridge: dict[str, Synthesized]) -> None:
    prod = bridge["prod"]
    service = one(prod, "aws_ecs_service")
    # THEN the strategy names the cluster's EC2 provider, and placement spreads then packs
    assert "launch_type" not in service
    assert service["capacity_provider_strategy"] == [
        {"base": 0, "capacity_provider": "article-ec2", "weight": 1}
    ]
    assert service["ordered_placement_strategy"] == [
        {"field": "attribute:ecs.availability-zone", "type": "spread"},
        {"field": "memory", "type": "binpack"},
    ]
    assert service["placement_constraints"] == [{"type": "distinctInstance"}]
    # AND the cluster has that provider (its own, built in prod), before the service asks for it
    attached = one(prod, "aws_ecs_cluster_capacity_providers")
    (provider,) = prod.json["resource"]["aws_ecs_capacity_provider"]
    assert attached["capacity_providers"] == [f"${{aws_ecs_capacity_provider.{provider}.name}}"]
    (address,) = prod.json["resource"]["aws_ecs_cluster_capacity_providers"]
    assert f"aws_ecs_cluster_capacity_providers.{address}" in service["depends_on"]


# --- the fargate-spot example -----------------------------------------------------------------


def test_spot_with_a_fargate_base(spot: dict[str, Synthesized]) -> None:
    for env in ("local", "prod"):
        out = spot[env]
        service = one(out, "aws_ecs_service")
        # THEN the first task is on FARGATE, every further one on FARGATE_SPOT
        assert "launch_type" not in service
        assert service["capacity_provider_strategy"] == [
            {"base": 1, "capacity_provider": "FARGATE", "weight": 0},
            {"base": 0, "capacity_provider": "FARGATE_SPOT", "weight": 1},
        ]
        assert one(out, "aws_ecs_cluster_capacity_providers")["capacity_providers"] == [
            "FARGATE",
            "FARGATE_SPOT",
        ]
        # AND the task stays Fargate's, awsvpc, sized by the table
        task = one(out, "aws_ecs_task_definition")
        assert (task["requires_compatibilities"], task["network_mode"], task["cpu"]) == (
            ["FARGATE"],
            "awsvpc",
            "256",
        )
        assert "network_configuration" in service


def test_a_fargate_service_without_a_strategy_keeps_its_shape(shipped: dict[str, Synthesized]) -> None:
    # GIVEN the shipped configuration (no compute settings) THEN nothing of EC2 appears
    for out in shipped.values():
        resources = out.json["resource"]
        assert "aws_ecs_cluster_capacity_providers" not in resources
        for service in resources.get("aws_ecs_service", {}).values():
            assert service["launch_type"] == "FARGATE" and "capacity_provider_strategy" not in service


# --- contradictions: one line each -------------------------------------------------------------


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def apply(raw: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node = raw
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value

    return apply


def _both(*changes: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    def apply(raw: dict[str, Any]) -> None:
        for change in changes:
            change(raw)

    return apply


# (example, change, field, value shown, what is allowed)
INVALID: dict[str, tuple[str, Callable[[dict[str, Any]], None], str, str, str]] = {
    "bridge on Fargate": (
        "spot",
        _set("services.worker.network_mode", "bridge"),
        "services.worker.network_mode",
        "'bridge'",
        "Fargate runs awsvpc only",
    ),
    "host port other than the container port in awsvpc": (
        "spot",
        _set("services.worker.port_mappings", [{"container_port": 8080, "host_port": 80}]),
        "services.worker.port_mappings.0.host_port",
        "80",
        "must equal container_port (8080) in awsvpc networking",
    ),
    "links in awsvpc": (
        "spot",
        _both(
            _set("services.worker.links", ["helper"]),
            _set("services.worker.containers.helper", {"image": "busybox:1.36.1", "essential": False}),
        ),
        "services.worker.links",
        "['helper']",
        "only in bridge networking (not awsvpc)",
    ),
    "the app linking a container twice": (
        "bridge",
        _set("services.api.links", ["cache", "cache"]),
        "services.api.links",
        "['cache', 'cache']",
        "must not list the same item twice",
    ),
    "two containers on one fixed host port in bridge": (
        "bridge",
        _both(
            _set("services.api.port_mappings", [{"container_port": 9090, "host_port": 9090}]),
            _set(
                "services.api.containers.cache.port_mappings", [{"container_port": 6379, "host_port": 9090}]
            ),
        ),
        "services.api.containers.cache.port_mappings.0.host_port",
        "9090",
        "tcp host port 9090 is also bound by api: an instance's host port takes one mapping",
    ),
    "one fixed host port twice in a bridge container": (
        "bridge",
        _set(
            "services.api.port_mappings",
            [{"container_port": 9090, "host_port": 9090}, {"container_port": 9091, "host_port": 9090}],
        ),
        "services.api.port_mappings.1.host_port",
        "9090",
        "is also bound by another of its port mappings",
    ),
    "two containers on one container port in host networking": (
        "bridge",
        _both(
            _set("services.api.network_mode", "host"),
            _set("services.api.links", []),
            _set("services.api.containers.cache.port_mappings", [{"container_port": 8080}]),
        ),
        "services.api.containers.cache.port_mappings",
        "8080",
        "tcp port 8080 is also api's: the containers of a host-network task share the instance's network",
    ),
    "FARGATE_SPOT with an EC2 launch type": (
        "spot",
        _set(
            "services.worker.compute",
            {"launch_type": "EC2", "capacity_provider_strategy": [{"capacity_provider": "FARGATE_SPOT"}]},
        ),
        "services.worker.compute",
        "",
        "launch_type = 'EC2' or capacity_provider_strategy, not both",
    ),
    "all weights 0": (
        "spot",
        _set(
            "services.worker.compute",
            {"capacity_provider_strategy": [{"capacity_provider": "FARGATE_SPOT", "weight": 0}]},
        ),
        "services.worker.compute",
        "",
        "every weight is 0",
    ),
    "Fargate and EC2 providers mixed": (
        "spot",
        _set(
            "services.worker.compute",
            {
                "capacity_provider_strategy": [
                    {"capacity_provider": "FARGATE"},
                    {"capacity_provider": "my-asg"},
                ]
            },
        ),
        "services.worker.compute",
        "",
        "mixes Fargate's providers (FARGATE) with EC2 ones",
    ),
    "memory below the reservation": (
        "bridge",
        _set("services.api.containers.cache.memory", 32),
        "services.api.containers.cache.memory_reservation",
        "64",
        "must not exceed memory (32)",
    ),
    "a Fargate-only field on EC2 (a public IP per task)": (
        "bridge",
        _both(
            _set("services.api.network_mode", "awsvpc"),
            _set("services.api.links", []),
            _set("environments.local.network.assign_public_ip", True),
        ),
        "services.api.compute",
        "",
        "where ECS refuses a public IP per task, but environments.local.network.assign_public_ip",
    ),
    "placement on Fargate": (
        "spot",
        _set("services.worker.compute", {"placement_strategy": [{"type": "binpack", "field": "memory"}]}),
        "services.worker.compute",
        "",
        "placement_strategy and placement_constraints are for EC2",
    ),
    "binpack on a zone": (
        "bridge",
        _set(
            "services.api.compute",
            {"launch_type": "EC2", "placement_strategy": [{"type": "binpack", "field": "instanceId"}]},
        ),
        "services.api.compute",
        "",
        "field 'instanceId' is not allowed (cpu or memory)",
    ),
    "a host path on Fargate": (
        "spot",
        _set("services.worker.volumes", [{"name": "data", "host_path": "/var/data"}]),
        "services.worker.volumes.data",
        "'/var/data'",
        "host_path and docker_scope need EC2",
    ),
    "a mount of no volume": (
        "bridge",
        _set("services.api.mount_points", [{"source_volume": "nope", "container_path": "/x"}]),
        "services.api.mount_points",
        "'nope'",
        "names no volume of the task (volumes: app-logs, cache-data)",
    ),
    "an EC2 container without memory": (
        "bridge",
        _set("services.api.containers.log-tail.memory_reservation", None),
        "services.api.containers.log-tail.memory_reservation",
        "",
        "is needed (or memory): the task has no memory of its own",
    ),
    "an EC2 task cpu below ECS's floor": (
        "bridge",
        _set("services.api.cpu", 64),
        "services.api.cpu",
        "64",
        "task cpu on EC2 must be between 128 and 196608 units",
    ),
}


@pytest.mark.parametrize("case", sorted(INVALID))
def test_each_contradiction_is_one_clear_line(case: str) -> None:
    example, change, field, value, allowed = INVALID[case]
    raw = tomllib.loads((EC2_BRIDGE if example == "bridge" else FARGATE_SPOT).read_text())
    raw = copy.deepcopy(raw)
    change(raw)
    _drop_none(raw)
    # WHEN the changed example is loaded THEN one line names the file, the field, the value, the rule
    with pytest.raises(ConfigError) as caught:
        settings_from_dict(raw, file=FILE)
    matching = [p for p in caught.value.problems if p.startswith(f"{FILE}: {field}")]
    assert len(matching) == 1, caught.value.problems
    (line,) = matching
    assert value in line and allowed in line, line


def _drop_none(node: Any) -> None:
    """TOML has no null: a None set by a case means the key is left out."""
    if isinstance(node, dict):
        for key in [k for k, v in node.items() if v is None]:
            del node[key]
        for value in node.values():
            _drop_none(value)


def test_two_bridge_containers_may_listen_on_one_container_port() -> None:
    # GIVEN the ec2-bridge example with the cache also listening on the app's port 8080, both
    # on dynamic host ports (each bridge container has its own network namespace)
    raw = tomllib.loads(EC2_BRIDGE.read_text())
    raw["services"]["api"]["containers"]["cache"]["port_mappings"] = [{"container_port": 8080}]
    # WHEN loaded THEN it is accepted, each port mapped to a dynamic host port
    api = settings_from_dict(raw, file=FILE).environments["local"].service("api")
    (cache,) = [c for c in api.sidecars if c.name == "cache"]
    assert [(m.container_port, m.host_port_in("bridge")) for m in cache.ports] == [(8080, 0)]


def test_compute_says_which_tasks_it_runs() -> None:
    assert Compute().compatibility == "FARGATE"
    assert Compute(launch_type="EC2").compatibility == "EC2"
    spot = Compute.model_validate({"capacity_provider_strategy": [{"capacity_provider": "FARGATE_SPOT"}]})
    assert (spot.compatibility, spot.fargate_providers) == ("FARGATE", ("FARGATE_SPOT",))
    asg = Compute.model_validate({"capacity_provider_strategy": [{"capacity_provider": "my-asg"}]})
    assert (asg.compatibility, asg.fargate_providers) == ("EC2", ())


# --- the constructs used programmatically -------------------------------------------------------


def _bridge_task(scope: Any, id_: str) -> Any:
    from constructs_lib.container import ContainerProps
    from constructs_lib.images import Fixed
    from constructs_lib.task_definition import TaskDefinition
    from constructs_lib.task_definition_props import TaskDefinitionProps

    props = TaskDefinitionProps(
        family="p-e-api",
        containers=(
            ContainerProps(
                name="api", image=Fixed(reference="nginx:1.27"), container_port=80, memory_reservation=64
            ),
        ),
        region="us-east-1",
        log_group_name="/ecs/p/e/api",
        execution_role_name="p-e-api-exec",
        task_role_name="p-e-api-task",
        compatibility="EC2",
        network_mode="bridge",
        cpu=None,
        memory=None,
    )
    return TaskDefinition(scope, id_, props=props)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, "compute runs tasks on FARGATE but the task definition is for EC2"),
        (
            {"compute": Compute(launch_type="EC2"), "subnets": ("subnet-0a1b2c3d",)},
            "subnets, security_groups and assign_public_ip are for awsvpc tasks; bridge tasks use their "
            "instance's network",
        ),
        (
            {"compute": Compute(launch_type="EC2"), "assign_public_ip": True},
            "assign_public_ip is for Fargate: this service runs on EC2, where ECS refuses a public IP",
        ),
    ],
)
def test_service_props_reject_a_task_they_cannot_run(options: dict[str, Any], message: str) -> None:
    from cdktf import TerraformStack, Testing

    from constructs_lib.service import ServiceOptions, ServiceProps

    # GIVEN an EC2 bridge task definition
    task = _bridge_task(TerraformStack(Testing.app(), "t"), "task")
    base = ServiceOptions(
        cluster_arn="arn:aws:ecs:us-east-1:123456789012:cluster/c",
        service_name="api",
        vpc_id="vpc-0a1b2c3d",
        **options,
    )
    # WHEN a service is given options that contradict it THEN a ValueError says which
    with pytest.raises(ValueError, match=re.escape(message)):
        ServiceProps.of(base, task)


def test_awsvpc_needs_its_network() -> None:
    from constructs_lib.container import ContainerProps
    from constructs_lib.images import Fixed
    from constructs_lib.task_definition_props import TaskDefinitionProps

    # GIVEN the Fargate defaults WHEN bridge networking is asked for THEN the props refuse it
    with pytest.raises(ValueError, match="Fargate runs awsvpc only"):
        TaskDefinitionProps(
            family="p-e-api",
            containers=(ContainerProps(name="api", image=Fixed(reference="nginx:1.27")),),
            region="us-east-1",
            log_group_name="/ecs/p/e/api",
            execution_role_name="p-e-api-exec",
            task_role_name="p-e-api-task",
            network_mode="bridge",
        )


# --- the cluster's own EC2 capacity -------------------------------------------------------------


def test_prod_builds_its_container_instances(bridge: dict[str, Synthesized]) -> None:
    import base64

    prod = bridge["prod"].json["resource"]
    # THEN a capacity provider scales an Auto Scaling group, with termination protection
    provider = one(bridge["prod"], "aws_ecs_capacity_provider")
    assert provider["name"] == "article-ec2"
    group_provider = provider["auto_scaling_group_provider"]
    assert group_provider["managed_scaling"] == {"status": "ENABLED", "target_capacity": 90}
    assert group_provider["managed_termination_protection"] == "ENABLED"
    group = one(bridge["prod"], "aws_autoscaling_group")
    assert (group["min_size"], group["max_size"], group["protect_from_scale_in"]) == (2, 6, True)
    assert group["lifecycle"]["ignore_changes"] == ["desired_capacity"]
    # AND the cluster attaches it through the resource, so it exists first
    attached = one(bridge["prod"], "aws_ecs_cluster_capacity_providers")
    (address,) = prod["aws_ecs_capacity_provider"]
    assert attached["capacity_providers"] == [f"${{aws_ecs_capacity_provider.{address}.name}}"]
    # AND the instances: the ECS-optimized AMI, IMDSv2 on one hop, an encrypted root, the cluster joined
    template = one(bridge["prod"], "aws_launch_template")
    assert template["image_id"].startswith("${data.aws_ssm_parameter.")
    ami = [
        d for d in bridge["prod"].json["data"]["aws_ssm_parameter"].values() if "optimized-ami" in d["name"]
    ]
    assert [d["name"] for d in ami] == [
        "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id"
    ]
    assert template["metadata_options"] == {
        "http_endpoint": "enabled",
        "http_put_response_hop_limit": 1,
        "http_tokens": "required",
    }
    assert template["block_device_mappings"][0]["ebs"]["encrypted"] == "true"
    assert "ECS_CLUSTER=article-prod" in base64.b64decode(template["user_data"]).decode()
    # AND the instance role may do only what the ECS agent does, on this cluster
    (policy,) = [
        json.loads(p["policy"]) for p in prod["aws_iam_role_policy"].values() if p["name"] == "ecs-agent"
    ]
    resources = {s["Sid"]: s["Resource"] for s in policy["Statement"]}
    assert resources["AgentEndpoint"] == "*"
    assert resources["AgentCluster"].endswith(":cluster/article-prod")
    assert resources["AgentInstances"].endswith(":container-instance/article-prod/*")
    actions = [a for s in policy["Statement"] for a in s["Action"]]
    assert all(a.startswith("ecs:") for a in actions)


def test_prod_admits_its_existing_load_balancer_on_the_dynamic_host_ports(
    bridge: dict[str, Synthesized],
) -> None:
    # GIVEN prod: its own container instances behind a load balancer made elsewhere
    prod = bridge["prod"]
    instances = prod.ref("aws_security_group", "ec2-capacity/security-group", "id")
    # WHEN synthesized THEN the instances' group admits that load balancer's group (from the
    # example's security_group_id) on the dynamic host ports, and nothing else
    ingress = [
        r
        for r in prod.resources("aws_vpc_security_group_ingress_rule").values()
        if r["security_group_id"] == instances
    ]
    assert [
        (r["referenced_security_group_id"], r["ip_protocol"], r["from_port"], r["to_port"]) for r in ingress
    ] == [("sg-0caa2c3d4e5f60718", "tcp", 32768, 65535)]
    assert all("cidr_ipv4" not in r for r in ingress)


def _host_network_variant() -> dict[str, Any]:
    """The ec2-bridge example with the app on host networking and a host path mounted, its own
    instances in every environment, and a split copy of prod (its service in its own stack)."""
    raw = tomllib.loads(EC2_BRIDGE.read_text())
    api = raw["services"]["api"]
    api["network_mode"] = "host"
    del api["links"]  # bridge only
    api["volumes"].append({"name": "host-data", "host_path": "/var/lib/article"})
    api["mount_points"].append(
        {"source_volume": "host-data", "container_path": "/srv/data", "read_only": True}
    )
    environments = raw["environments"]
    environments["local"]["ec2_capacity"] = {"instance_type": "t3.small"}
    split = copy.deepcopy(environments["prod"])
    split.update(stack_per_service=True, ec2_capacity={"instance_type": "t3.medium"})
    split["state"]["key"] = "ecs-cd/split.tfstate"
    split["services"]["api"]["compute"]["capacity_provider_strategy"] = [
        {"capacity_provider": "article-split-ec2"}
    ]
    environments["split"] = split
    return raw


@pytest.fixture(scope="module")
def host_network() -> dict[str, Synthesized]:
    from tests.conftest import synth_all

    return synth_all(settings_from_dict(_host_network_variant(), file=FILE))


def test_instances_admit_the_load_balancer_on_a_host_network_services_port(
    host_network: dict[str, Synthesized],
) -> None:
    # GIVEN a host-network service on port 8080 behind a load balancer created here (local),
    # one made elsewhere (prod) and one made elsewhere with the service in its own stack (split)
    expected = {
        "local": host_network["local"].ref("aws_security_group", "alb/security-group", "id"),
        "prod": "sg-0caa2c3d4e5f60718",
        "split": "sg-0caa2c3d4e5f60718",
    }
    for env, load_balancer_group in expected.items():
        out = host_network[env]
        instances = out.ref("aws_security_group", "ec2-capacity/security-group", "id")
        # WHEN synthesized THEN the environment's instances admit that group on port 8080 only
        ingress = [
            r
            for r in out.resources("aws_vpc_security_group_ingress_rule").values()
            if r["security_group_id"] == instances
        ]
        assert [
            (r["referenced_security_group_id"], r["ip_protocol"], r["from_port"], r["to_port"])
            for r in ingress
        ] == [(load_balancer_group, "tcp", 8080, 8080)], env
    # AND the split environment's service stack adds no rule of its own to the instances
    assert "aws_vpc_security_group_ingress_rule" not in host_network["split-api"].json["resource"]


def test_a_host_network_service_binds_its_container_port_on_the_instance(
    host_network: dict[str, Synthesized],
) -> None:
    # GIVEN the app on host networking, behind the load balancer
    for env in ("local", "prod", "split-api"):
        out = host_network[env]
        # WHEN synthesized THEN the task is host-networked and the app's host port is its container port
        task = one(out, "aws_ecs_task_definition")
        assert (task["network_mode"], task["requires_compatibilities"]) == ("host", ["EC2"]), env
        definitions = {d["name"]: d for d in parse_definitions(task["container_definitions"])}
        assert definitions["api"]["portMappings"] == [
            {"containerPort": 8080, "hostPort": 8080, "protocol": "tcp"}
        ], env
        # AND the service has no network configuration of its own (it uses the instance's)
        service = one(out, "aws_ecs_service")
        assert "network_configuration" not in service, env
        assert service["load_balancer"][0]["container_port"] == 8080, env
        # AND the target group registers instances on that port
        target_group = one(out, "aws_lb_target_group")
        assert (target_group["target_type"], target_group["port"]) == ("instance", 8080), env
    # AND no tasks' security group exists: only the load balancer's (local) and the instances'
    groups = host_network["local"].resources("aws_security_group").values()
    assert sorted(g["name"] for g in groups) == ["article-local-alb", "article-local-ec2-instances"]


def test_a_host_path_volume_is_bind_mounted(host_network: dict[str, Synthesized]) -> None:
    # GIVEN a volume with host_path, mounted read-only by the app
    task = one(host_network["prod"], "aws_ecs_task_definition")
    # WHEN synthesized THEN the task declares it as a bind mount of the instance's path, not a Docker volume
    volumes = {v["name"]: v for v in task["volume"]}
    assert volumes["host-data"] == {"name": "host-data", "host_path": "/var/lib/article"}
    # AND the app mounts it where it asked
    (api,) = [d for d in parse_definitions(task["container_definitions"]) if d["name"] == "api"]
    assert {"sourceVolume": "host-data", "containerPath": "/srv/data", "readOnly": True} in api["mountPoints"]


def test_ec2_capacity_settings_are_checked() -> None:
    raw = tomllib.loads(EC2_BRIDGE.read_text())
    raw["environments"]["prod"]["ec2_capacity"] = {"instance_type": "t3.medium", "min_size": 5, "max_size": 2}
    with pytest.raises(ConfigError) as caught:
        settings_from_dict(raw, file=FILE)
    (line,) = [p for p in caught.value.problems if "ec2_capacity" in p]
    assert (
        line.startswith(f"{FILE}: environments.prod.ec2_capacity")
        and "min_size (5) must not exceed max_size (2)" in line
    )
    # AND the default name is the environment's, refused where ECS reserves the prefix
    raw["project"]["name"] = "ecsdemo"
    raw["environments"]["prod"]["ec2_capacity"] = {"instance_type": "t3.medium"}
    with pytest.raises(ConfigError) as caught:
        settings_from_dict(raw, file=FILE)
    (line,) = [p for p in caught.value.problems if "ec2_capacity" in p]
    assert "derived 'ecsdemo-prod-ec2'" in line and "must not start with 'aws', 'ecs' or 'fargate'" in line


def test_an_existing_provider_is_attached_by_name() -> None:
    from cdktf import Testing

    from stacks.app import add_stacks

    # GIVEN local's service on a provider made elsewhere (no ec2_capacity in local)
    raw = tomllib.loads(EC2_BRIDGE.read_text())
    raw["environments"]["local"]["services"] = {
        "api": {"compute": {"capacity_provider_strategy": [{"capacity_provider": "shared-asg", "weight": 2}]}}
    }
    settings = settings_from_dict(raw, file=FILE)
    # WHEN synthesized THEN the cluster attaches it by its name, and the service uses it
    stack = add_stacks(Testing.app(), settings)["local"]
    out = json.loads(Testing.synth(stack))
    (attached,) = out["resource"]["aws_ecs_cluster_capacity_providers"].values()
    assert attached["capacity_providers"] == ["shared-asg"]
    (service,) = out["resource"]["aws_ecs_service"].values()
    assert service["capacity_provider_strategy"] == [
        {"base": 0, "capacity_provider": "shared-asg", "weight": 2}
    ]
