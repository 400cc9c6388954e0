"""Services that find each other (ECS Service Connect): the configuration's rules, one clear line per
mistake, and the example (examples/service-connect/ecs-cd.toml) synthesized: the namespace, each
service's Service Connect, the named port, and security groups that admit the environment's
services on the server's port and nothing else. Split stacks and bridge tasks as well."""

from __future__ import annotations

import copy
import json
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from constructs_lib.container import ContainerProps
from constructs_lib.images import Fixed
from constructs_lib.service_connect_props import (
    ServiceConnectServer,
    resolve_endpoint,
    service_connect_problems,
)
from stacks.settings import ConfigError, Settings, load_settings, settings_from_dict
from tests.conftest import Synthesized, synth_all
from tests.terraform_text import parse_definitions

FILE = "conf.toml"
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "service-connect" / "ecs-cd.toml"
NAMESPACE_ARN = "arn:aws:servicediscovery:us-east-1:123456789012:namespace/ns-0c1b2c3d4e5f6071"


def base() -> dict[str, Any]:
    """Two services, orders (a server on its container_port) and web (a client), in an environment
    with a namespace created here."""
    return {
        "project": {"name": "shop"},
        "services": {
            "orders": {
                "repository": "123456789012.dkr.ecr.us-east-1.amazonaws.com/shop-orders",
                "container_port": 8080,
                "service_connect": {},
            },
            "web": {
                "repository": "123456789012.dkr.ecr.us-east-1.amazonaws.com/shop-web",
                "container_port": 3000,
            },
        },
        "environments": {
            "dev": {
                "region": "us-east-1",
                "network": {"vpc_id": "vpc-0a1b2c3d4e5f60718", "subnet_ids": ["subnet-0a1b2c3d4e5f60718"]},
                "state": {
                    "backend": "s3",
                    "bucket": "shop-state",
                    "key": "dev.tfstate",
                    "region": "us-east-1",
                },
                "service_connect": {},
            }
        },
    }


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def apply(raw: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node = raw
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value

    return apply


def _drop(path: str) -> Callable[[dict[str, Any]], None]:
    def apply(raw: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node = raw
        for part in parents:
            node = node[part]
        del node[last]

    return apply


def _both(*mutations: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    def apply(raw: dict[str, Any]) -> None:
        for mutate in mutations:
            mutate(raw)

    return apply


def problems_of(raw: dict[str, Any]) -> tuple[str, ...]:
    with pytest.raises(ConfigError) as caught:
        settings_from_dict(raw, file=FILE)
    return caught.value.problems


ORDERS = "services.orders"
SC = "services.orders.service_connect"
ENV = "environments.dev"
# Each mistake: the mutation, how its one line starts, and what it says is allowed.
INVALID: dict[str, tuple[Callable[[dict[str, Any]], None], str, str]] = {
    "namespace and namespace_arn": (
        _set(f"{ENV}.service_connect", {"namespace": "shop-dev", "namespace_arn": NAMESPACE_ARN}),
        f"{ENV}.service_connect = ",
        "set either namespace (a Cloud Map namespace created here) or namespace_arn",
    ),
    "namespace name with a space": (
        _set(f"{ENV}.service_connect.namespace", "shop dev"),
        f"{ENV}.service_connect.namespace = 'shop dev'",
        "a Cloud Map namespace name must be 1-253 letters",
    ),
    "namespace ARN of another service": (
        _set(f"{ENV}.service_connect.namespace_arn", "arn:aws:ecs:us-east-1:123456789012:cluster/x"),
        f"{ENV}.service_connect.namespace_arn = ",
        "must be a Cloud Map namespace ARN",
    ),
    "namespace ARN in another region": (
        _set(f"{ENV}.service_connect.namespace_arn", NAMESPACE_ARN.replace("us-east-1", "eu-west-1")),
        f"{ENV}.service_connect.namespace_arn = ",
        "us-east-1",
    ),
    "proxy_logs not a boolean": (
        _set(f"{ENV}.service_connect.proxy_logs", "yes"),
        f"{ENV}.service_connect.proxy_logs = 'yes'",
        "boolean",
    ),
    "unknown field of the namespace table": (
        _set(f"{ENV}.service_connect.name", "shop-dev"),
        f"{ENV}.service_connect.name",
        "not a known field",
    ),
    "a server without the environment's namespace": (
        _drop(f"{ENV}.service_connect"),
        f"{SC}: needs the environment's Service Connect namespace",
        f"add [{ENV}.service_connect]",
    ),
    "a server in an override without the environment's namespace": (
        _both(
            _drop(f"{ENV}.service_connect"),
            _drop(SC),
            _set(f"{ENV}.services.orders.service_connect", {}),
        ),
        f"{ENV}.services.orders.service_connect: needs the environment's Service Connect namespace",
        f"add [{ENV}.service_connect]",
    ),
    "a port name no mapping has": (
        _set(f"{SC}.port_name", "grpc"),
        f"{SC}.port_name = 'grpc'",
        "names no port mapping of the task (named: none)",
    ),
    "a server without a port": (
        _drop(f"{ORDERS}.container_port"),
        f"{SC}:",
        "needs the app's container_port",
    ),
    "a udp port": (
        _both(
            _set(f"{ORDERS}.port_mappings", [{"container_port": 5353, "protocol": "udp", "name": "dns"}]),
            _set(f"{SC}.port_name", "dns"),
        ),
        f"{SC}.port_name = 'dns'",
        "Service Connect carries TCP only",
    ),
    "host networking": (
        _both(
            _set(f"{ORDERS}.compute", {"launch_type": "EC2"}),
            _set(f"{ORDERS}.network_mode", "host"),
            _set(f"{ORDERS}.memory_reservation", 128),
        ),
        f"{SC}:",
        "Service Connect runs in awsvpc and bridge networking, not host",
    ),
    "a discovery name in capitals": (
        _set(f"{SC}.discovery_name", "Orders"),
        f"{SC}.discovery_name = 'Orders'",
        "a discovery name must be 1-64 lower-case letters",
    ),
    "a DNS name starting with a hyphen": (
        _set(f"{SC}.client_alias", {"dns_name": "-orders"}),
        f"{SC}.client_alias.dns_name = '-orders'",
        "a Service Connect DNS name must be 1-127",
    ),
    "an alias port 0": (
        _set(f"{SC}.client_alias", {"port": 0}),
        f"{SC}.client_alias.port = 0",
        "greater than or equal to 1",
    ),
    "a list of client aliases": (
        _set(f"{SC}.client_aliases", [{"port": 80}]),
        f"{SC}.client_aliases",
        "not a known field",
    ),
    "an ingress port override out of range": (
        _set(f"{SC}.ingress_port_override", 70000),
        f"{SC}.ingress_port_override = 70000",
        "less than or equal to 65535",
    ),
    "a negative timeout": (
        _set(f"{SC}.timeout", {"idle_timeout_seconds": -1}),
        f"{SC}.timeout.idle_timeout_seconds = -1",
        "greater than or equal to 0",
    ),
    "a port mapping name in capitals": (
        _set(f"{ORDERS}.container_port_name", "HTTP"),
        f"{ORDERS}.container_port_name = 'HTTP'",
        "a port mapping name must be 1-64 lower-case letters",
    ),
    "an app protocol ECS lacks": (
        _set(f"{ORDERS}.app_protocol", "https"),
        f"{ORDERS}.app_protocol = 'https'",
        "'http', 'http2' or 'grpc'",
    ),
    "an app protocol of an unnamed port": (
        _set("services.web.app_protocol", "http"),
        "services.web.app_protocol = 'http'",
        "needs container_port_name",
    ),
    "a port name without container_port": (
        _both(_drop("services.web.container_port"), _set("services.web.container_port_name", "http")),
        "services.web.container_port_name = 'http'",
        "names the mapping of container_port, which is not set",
    ),
    "an app protocol on an unnamed port mapping": (
        _set(f"{ORDERS}.port_mappings", [{"container_port": 9090, "app_protocol": "grpc"}]),
        f"{ORDERS}.port_mappings = 9090",
        "sets app_protocol = 'grpc' without a name",
    ),
    "one port name twice in a task": (
        _set(
            f"{ORDERS}.containers",
            {
                "agent": {
                    "image": "public.ecr.aws/x/agent:1",
                    "port_mappings": [{"container_port": 9000, "name": "orders"}],
                }
            },
        ),
        f"{ORDERS}.containers.agent.port_mappings = 'orders'",
        "also names a port of orders: a port name is unique within the task",
    ),
    "one discovery name for two servers": (
        _both(_set("services.web.service_connect", {"discovery_name": "orders"})),
        f"{ENV}: services orders and web both use the Service Connect discovery name 'orders'",
        "unique in the namespace",
    ),
    "one client alias for two servers": (
        _both(
            _set(f"{SC}.client_alias", {"dns_name": "api", "port": 80}),
            _set("services.web.service_connect", {"client_alias": {"dns_name": "api", "port": 80}}),
        ),
        f"{ENV}: services orders and web both use the Service Connect client alias 'api:80'",
        "unique in the namespace",
    ),
    "four extra security groups": (
        _set(f"{ENV}.network.security_group_ids", [f"sg-0a1b2c3d4e5f6071{i}" for i in range(4)]),
        f"{ENV}.network.security_group_ids: lists 4 groups",
        "at most 3",
    ),
}


@pytest.mark.parametrize("case", sorted(INVALID))
def test_each_service_connect_mistake_is_one_clear_line(case: str) -> None:
    mutate, start, allowed = INVALID[case]
    # GIVEN a valid configuration with one Service Connect mistake
    raw = copy.deepcopy(base())
    mutate(raw)
    # WHEN it is loaded THEN it is refused with exactly one line, naming the field and what is allowed
    problems = problems_of(raw)
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{FILE}: {start}"), problems
    assert allowed in problems[0], problems[0]


def test_the_defaults_name_the_port_after_the_service() -> None:
    # GIVEN the base (service_connect = {} on orders) WHEN loaded
    env = settings_from_dict(base(), file=FILE).environments["dev"]
    orders, web = env.service("orders"), env.service("web")
    # THEN the namespace is created, named after the project and the environment
    assert env.service_connect is not None
    assert (env.service_connect.name, env.service_connect.arn) == ("shop-dev", None)
    # AND orders' container_port mapping is named after it; web's, a client only, is not named
    assert (orders.app.container_port_name, web.app.container_port_name) == ("orders", None)
    endpoint = resolve_endpoint(orders.task_containers, orders.service_connect)  # type: ignore[arg-type]
    assert endpoint is not None
    assert (endpoint.port_name, endpoint.discovery_name, endpoint.address) == (
        "orders",
        "orders",
        "orders:8080",
    )


def test_a_named_sidecar_port_can_be_served() -> None:
    # GIVEN Service Connect on a sidecar's named port (an envoy in front of the app, say)
    raw = base()
    raw["services"]["orders"]["containers"] = {
        "proxy": {
            "image": "public.ecr.aws/x/envoy:1",
            "port_mappings": [{"container_port": 9901, "name": "edge"}],
        }
    }
    raw["services"]["orders"]["service_connect"] = {"port_name": "edge", "client_alias": {"port": 80}}
    # WHEN loaded THEN it serves that port, called as orders... by its port name
    orders = settings_from_dict(raw, file=FILE).environments["dev"].service("orders")
    endpoint = resolve_endpoint(orders.task_containers, orders.service_connect)  # type: ignore[arg-type]
    assert endpoint is not None
    assert (endpoint.port_name, endpoint.container_port, endpoint.address) == ("edge", 9901, "edge:80")
    # AND the app's container_port mapping keeps no name (nothing serves it)
    assert orders.app.container_port_name is None


def test_the_props_refuse_an_unnamed_container_port_built_in_python() -> None:
    # GIVEN constructs built in Python, where no loader names the port
    app = ContainerProps(name="orders", image=Fixed(reference="busybox:1"), container_port=8080)
    # THEN the rule says what to set
    (problem,) = service_connect_problems((app,), ServiceConnectServer(), "awsvpc")
    assert "whose mapping has no name: set container_port_name" in problem.message


# --- the example, synthesized -------------------------------------------------------------------


@pytest.fixture(scope="module")
def out(examples: dict[str, dict[str, Synthesized]]) -> dict[str, Synthesized]:
    return examples["service-connect"]


def _service(synthesized: Synthesized, name: str) -> dict[str, Any]:
    return synthesized.one("aws_ecs_service", f"{name}/fargate/service")


def _group(synthesized: Synthesized, name: str) -> str:
    return synthesized.ref("aws_security_group", f"{name}/fargate/security-group", "id")


def test_the_example_loads_and_has_a_namespace_per_environment(out: dict[str, Synthesized]) -> None:
    settings: Settings = load_settings(EXAMPLE)
    assert sorted(settings.environments) == ["local", "prod"]
    # THEN local creates its namespace, prod uses an existing one by ARN and creates none
    (created,) = out["local"].resources("aws_service_discovery_http_namespace").values()
    assert created["name"] == "shop-local"
    assert out["prod"].resources("aws_service_discovery_http_namespace") == {}
    for env, namespace in (
        ("local", "${aws_service_discovery_http_namespace.service-connect-namespace.arn}"),
        ("prod", NAMESPACE_ARN),
    ):
        for name in ("orders", "web"):
            assert _service(out[env], name)["service_connect_configuration"]["namespace"] == namespace


@pytest.mark.parametrize("env", ["local", "prod"])
def test_orders_serves_its_named_port_and_web_is_a_client(out: dict[str, Synthesized], env: str) -> None:
    orders, web = _service(out[env], "orders"), _service(out[env], "web")
    # THEN orders serves its container_port by name: the others call http://orders:8080
    assert orders["service_connect_configuration"]["service"] == [
        {
            "port_name": "orders",
            "discovery_name": "orders",
            "client_alias": {"port": 8080, "dns_name": "orders"},
        }
    ]
    # AND web is a client only; both log their proxy into their own log group
    assert "service" not in web["service_connect_configuration"]
    for name, service in (("orders", orders), ("web", web)):
        connect = service["service_connect_configuration"]
        assert connect["enabled"] is True
        assert connect["log_configuration"]["options"]["awslogs-group"] == f"/ecs/shop/{env}/{name}"
    # AND orders' task definition names the port and its protocol; web's port stays unnamed
    task = out[env].one("aws_ecs_task_definition", "orders/fargate/task")
    (mapping,) = parse_definitions(task["container_definitions"])[0]["portMappings"]
    assert (mapping["name"], mapping["appProtocol"], mapping["containerPort"]) == ("orders", "http", 8080)
    web_task = out[env].one("aws_ecs_task_definition", "web/fargate/task")
    (web_mapping,) = parse_definitions(web_task["container_definitions"])[0]["portMappings"]
    assert "name" not in web_mapping and "appProtocol" not in web_mapping


def _rules(synthesized: Synthesized, kind: str) -> list[dict[str, Any]]:
    return list(synthesized.resources(f"aws_vpc_security_group_{kind}_rule").values())


@pytest.mark.parametrize("env", ["local", "prod"])
def test_the_groups_admit_the_environments_services_on_the_port_and_nothing_else(
    out: dict[str, Synthesized], env: str
) -> None:
    synthesized = out[env]
    callers = "${aws_security_group.service-connect-group.id}"
    orders, web = _group(synthesized, "orders"), _group(synthesized, "web")
    # THEN every service joins the environment's Service Connect group beside its own
    for name, own in (("orders", orders), ("web", web)):
        groups = _service(synthesized, name)["network_configuration"]["security_groups"]
        assert groups == [own, callers]
    # AND the one way in is into orders, from that group, on 8080 only
    ingress = [
        (r["security_group_id"], r["referenced_security_group_id"], r["from_port"], r["to_port"])
        for r in _rules(synthesized, "ingress")
    ]
    assert ingress == [(orders, callers, 8080, 8080)]
    # AND that group may call orders there, and nothing else (its only egress)
    out_of_group = [r for r in _rules(synthesized, "egress") if r["security_group_id"] == callers]
    assert [(r["referenced_security_group_id"], r["from_port"], r["to_port"]) for r in out_of_group] == [
        (orders, 8080, 8080)
    ]
    (group,) = [
        g for k, g in synthesized.resources("aws_security_group").items() if k == "service-connect-group"
    ]
    assert group["name"] == f"shop-{env}-service-connect" and "ingress" not in group


def _split(raw: dict[str, Any]) -> dict[str, Synthesized]:
    raw["environments"]["dev"]["stack_per_service"] = True
    return synth_all(settings_from_dict(raw, file=FILE))


def test_split_stacks_share_the_environments_namespace_and_group() -> None:
    # GIVEN the base, split into a stack per service
    stacks = _split(base())
    # THEN the environment's stack creates the namespace and the callers' group
    environment = stacks["dev"]
    assert [n["name"] for n in environment.resources("aws_service_discovery_http_namespace").values()] == [
        "shop-dev"
    ]
    assert "service-connect-group" in environment.resources("aws_security_group")
    # AND each service's stack looks both up by name and uses them
    for name in ("orders", "web"):
        stack = stacks[f"dev-{name}"]
        (namespace,) = stack.data("aws_service_discovery_http_namespace").values()
        (group,) = stack.data("aws_security_group").values()
        assert namespace["name"] == "shop-dev"
        assert (group["name"], group["vpc_id"]) == ("shop-dev-service-connect", "vpc-0a1b2c3d4e5f60718")
        service = _service(stack, name)
        connect = service["service_connect_configuration"]
        assert (
            connect["namespace"]
            == "${data.aws_service_discovery_http_namespace.service-connect-namespace.arn}"
        )
        assert (
            "${data.aws_security_group.service-connect-group.id}"
            in service["network_configuration"]["security_groups"]
        )
    # AND orders' stack admits the group on its port
    (rule,) = _rules(stacks["dev-orders"], "ingress")
    assert (rule["referenced_security_group_id"], rule["from_port"]) == (
        "${data.aws_security_group.service-connect-group.id}",
        8080,
    )


def test_bridge_servers_are_admitted_on_the_instances_ephemeral_ports() -> None:
    # GIVEN orders in bridge networking on the environment's own EC2 capacity, web on Fargate
    raw = base()
    raw["environments"]["dev"]["ec2_capacity"] = {"instance_type": "t3.small"}
    raw["services"]["orders"] |= {
        "compute": {"launch_type": "EC2"},
        "network_mode": "bridge",
        "memory_reservation": 128,
    }
    stacks = synth_all(settings_from_dict(raw, file=FILE))
    dev = stacks["dev"]
    instances = dev.ref("aws_security_group", "ec2-capacity/security-group", "id")
    callers = "${aws_security_group.service-connect-group.id}"
    # THEN the instances' group admits the callers' group and itself on the ephemeral range
    ingress = {
        (r["referenced_security_group_id"], r["from_port"], r["to_port"])
        for r in _rules(dev, "ingress")
        if r["security_group_id"] == instances
    }
    assert ingress == {(callers, 32768, 65535), (instances, 32768, 65535)}
    # AND orders has no group of its own: no awsvpc configuration, no rules of its own
    orders = _service(dev, "orders")
    assert "network_configuration" not in orders
    assert orders["service_connect_configuration"]["service"][0]["port_name"] == "orders"
    # AND web (awsvpc) joins the callers' group
    assert callers in _service(dev, "web")["network_configuration"]["security_groups"]


def test_a_host_network_client_is_left_out_of_service_connect() -> None:
    # GIVEN web in host networking (Service Connect has no host mode), orders a server
    raw = base()
    raw["services"]["web"] |= {
        "compute": {"launch_type": "EC2"},
        "network_mode": "host",
        "memory_reservation": 64,
    }
    dev = synth_all(settings_from_dict(raw, file=FILE))["dev"]
    # THEN web has no Service Connect, orders has
    assert "service_connect_configuration" not in _service(dev, "web")
    assert "service_connect_configuration" in _service(dev, "orders")


def test_without_a_namespace_nothing_changes() -> None:
    # GIVEN the base without Service Connect at all
    raw = base()
    del raw["environments"]["dev"]["service_connect"]
    del raw["services"]["orders"]["service_connect"]
    dev = synth_all(settings_from_dict(raw, file=FILE))["dev"]
    # THEN no namespace, no shared group, no Service Connect, unnamed ports
    assert dev.resources("aws_service_discovery_http_namespace") == {}
    assert "service-connect-group" not in dev.resources("aws_security_group")
    assert all("service_connect_configuration" not in s for s in dev.resources("aws_ecs_service").values())
    task = dev.one("aws_ecs_task_definition", "orders/fargate/task")
    assert json.dumps(parse_definitions(task["container_definitions"])[0]["portMappings"]) == json.dumps(
        [{"containerPort": 8080, "hostPort": 8080, "protocol": "tcp"}]
    )


def test_the_example_file_is_valid_toml_with_two_services() -> None:
    raw = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    assert sorted(raw["services"]) == ["orders", "web"]
