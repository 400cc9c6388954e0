"""Loading services of several containers: every mistake is one clear line naming the file,
the field, the value (unless it may be a credential) and what is allowed.

Each test starts from a small valid base (an app behind the load balancer and a pinned agent
sidecar, two environments) and changes one thing, or a few for the tests of mistakes
reported together.
"""

from __future__ import annotations

import copy
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from constructs_lib.images import EcrDigest, Fixed, SsmTag
from stacks.settings import ConfigError, Settings, load_settings, settings_from_dict

FILE = "ecs-cd.toml"
ECR = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
API_KEY = "arn:aws:ssm:us-east-1:123456789012:parameter/shop/datadog/api-key"
OTHER_KEY = "arn:aws:secretsmanager:us-east-1:123456789012:secret:shop/other-AbCdEf"

BASE_TOML = f"""
[project]
name = "shop"

[services.api]
repository = "{ECR}/shop-api"
image_strategy = "ssm-tag"
cpu = 512
memory = 1024
container_port = 8080
load_balancer = {{ path_patterns = ["/*"], priority = 10 }}

[services.api.containers.agent]
image = "public.ecr.aws/datadog/agent:7.60.0"
cpu = 128
memory = 256
environment = {{ DD_SITE = "datadoghq.com", DD_APM_ENABLED = "true" }}
secrets = {{ DD_API_KEY = "{API_KEY}" }}
port_mappings = [{{ container_port = 8126 }}]

[environments.dev]
region = "us-east-1"
network = {{ use_default_vpc = true }}
state = {{ backend = "local" }}
load_balancer = {{ create = true }}

[environments.prod]
region = "us-east-1"
network = {{ use_default_vpc = true }}
state = {{ backend = "local", path = "prod.tfstate" }}
load_balancer = {{ create = true }}
"""

FIRELENS_ROUTER = {
    "image": "public.ecr.aws/aws-observability/aws-for-fluent-bit:2.32.4",
    "firelens": {"type": "fluentbit"},
}


def base() -> dict[str, Any]:
    return tomllib.loads(BASE_TOML)


def service(config: dict[str, Any]) -> dict[str, Any]:
    table: dict[str, Any] = config["services"]["api"]
    return table


def containers(config: dict[str, Any]) -> dict[str, Any]:
    table: dict[str, Any] = service(config)["containers"]
    return table


def agent(config: dict[str, Any]) -> dict[str, Any]:
    table: dict[str, Any] = containers(config)["agent"]
    return table


def override(config: dict[str, Any], env: str = "prod") -> dict[str, Any]:
    """The ``[environments.<env>.services.api]`` table (created empty)."""
    services = config["environments"][env].setdefault("services", {})
    table: dict[str, Any] = services.setdefault("api", {})
    return table


def load(config: Mapping[str, Any]) -> Settings:
    return settings_from_dict(config, file=FILE)


def problems(config: Mapping[str, Any]) -> tuple[str, ...]:
    """The problems of an invalid configuration, each checked to be one line naming the file."""
    with pytest.raises(ConfigError) as raised:
        load(copy.deepcopy(dict(config)))
    found = raised.value.problems
    assert found, "ConfigError without problems"
    for line in found:
        assert line.startswith(f"{FILE}: "), line
        assert len(line.splitlines()) == 1, f"not one line: {line!r}"
    assert len(set(found)) == len(found), f"a line repeated: {found}"
    return found


def one_problem(config: Mapping[str, Any]) -> str:
    """The one problem of a configuration with one mistake."""
    found = problems(config)
    assert len(found) == 1, f"one mistake, {len(found)} lines: {found}"
    return found[0]


# --- the base ------------------------------------------------------------------------------------


def test_the_base_loads_with_the_app_first_and_the_sidecar_pinned() -> None:
    # GIVEN the base WHEN loaded
    settings = load(base())
    for env in ("dev", "prod"):
        api = settings.environments[env].service("api")
        # THEN the app container is named after the service and the sidecar after its table
        assert [c.name for c in api.sidecars] == ["agent"]
        (sidecar,) = api.sidecars
        assert sidecar.image == Fixed(reference="public.ecr.aws/datadog/agent:7.60.0")
        assert (sidecar.cpu, sidecar.memory, sidecar.essential) == (128, 256, True)
        assert dict(sidecar.secrets) == {"DD_API_KEY": API_KEY}
        # and the load balancer targets the app on its container_port
        assert (api.target_container, api.container("api").container_port) == ("api", 8080)
        assert (api.app.name, api.app.essential, api.app.container_port) == ("api", True, 8080)


def test_the_base_loads_from_a_toml_file(tmp_path: Path) -> None:
    # GIVEN the base written as a file WHEN loaded from the file THEN it is valid
    path = tmp_path / "ecs-cd.toml"
    path.write_text(BASE_TOML, encoding="utf-8")
    assert load_settings(path).environments["prod"].service("api").sidecars[0].name == "agent"


@pytest.mark.parametrize(
    ("strategy", "expected"),
    [
        ("ssm-tag", SsmTag(repository=f"{ECR}/shop-proxy", parameter_name="/shop/proxy/tag")),
        ("timestamp", SsmTag(repository=f"{ECR}/shop-proxy", parameter_name="/shop/proxy/tag")),
        ("digest", EcrDigest(repository=f"{ECR}/shop-proxy", tag_parameter="/shop/proxy/tag")),
    ],
)
def test_a_sidecar_from_ssm_follows_the_services_image_strategy(strategy: str, expected: Any) -> None:
    # GIVEN a sidecar with repository + image_tag_parameter under each image strategy
    config = base()
    service(config)["image_strategy"] = strategy
    containers(config)["proxy"] = {
        "repository": f"{ECR}/shop-proxy",
        "image_tag_parameter": "/shop/proxy/tag",
    }
    # WHEN loaded THEN its image reads the tag from SSM (resolved through ECR with 'digest')
    proxy = load(config).environments["dev"].service("api").containers["proxy"]
    assert proxy.image == expected


# --- the image of a sidecar ------------------------------------------------------------------------

IMAGE_CHOICE = (
    "set image (a fixed reference such as 'public.ecr.aws/org/agent:7') or repository and "
    "image_tag_parameter (the tag from SSM), not both, not neither"
)


def test_a_sidecar_named_like_the_service_is_reported() -> None:
    # GIVEN a sidecar table named 'api', the app container's name
    config = base()
    containers(config)["api"] = {"image": "busybox:1.36"}
    # WHEN loaded THEN one line names the table and says the name is taken
    line = one_problem(config)
    assert line.startswith(f"{FILE}: services.api.containers.api: "), line
    assert "is the app container's name" in line and "choose another" in line


@pytest.mark.parametrize(
    "image_keys",
    [
        {"repository": f"{ECR}/agent"},
        {"repository": f"{ECR}/agent", "image_tag_parameter": "/shop/agent/tag"},
        {"image_tag_parameter": "/shop/agent/tag"},
    ],
    ids=["image+repository", "image+repository+parameter", "image+parameter"],
)
def test_a_sidecar_with_both_a_fixed_image_and_an_ssm_image_is_reported(image_keys: dict[str, str]) -> None:
    # GIVEN a sidecar with image and (part of) repository + image_tag_parameter
    config = base()
    agent(config).update(image_keys)
    # WHEN loaded THEN one line at the container says to choose one source
    assert one_problem(config) == f"{FILE}: services.api.containers.agent: {IMAGE_CHOICE}"


@pytest.mark.parametrize(
    "image_keys",
    [{}, {"repository": f"{ECR}/agent"}, {"image_tag_parameter": "/shop/agent/tag"}],
    ids=["nothing", "repository-only", "parameter-only"],
)
def test_a_sidecar_without_an_image_is_reported(image_keys: dict[str, str]) -> None:
    # GIVEN a sidecar with no image, or half of repository + image_tag_parameter
    config = base()
    del agent(config)["image"]
    agent(config).update(image_keys)
    # WHEN loaded THEN one line at the container says what to set
    assert one_problem(config) == f"{FILE}: services.api.containers.agent: {IMAGE_CHOICE}"


@pytest.mark.parametrize(
    "reference",
    [
        "public.ecr.aws/Datadog/agent:7",
        "public.ecr.aws/datadog/agent:",
        "public.ecr.aws/datadog/agent:7 ",
        "public.ecr.aws/datadog/agent@sha256:abc",
        "",
    ],
)
def test_a_bad_fixed_image_reference_is_reported(reference: str) -> None:
    # GIVEN a pinned sidecar whose reference is not 'repository[:tag][@sha256:…]'
    config = base()
    agent(config)["image"] = reference
    # WHEN loaded THEN one line names the field, the value and the allowed form
    line = one_problem(config)
    assert line.startswith(f"{FILE}: services.api.containers.agent.image = {reference!r}: "), line
    assert "an image reference must be 'repository[:tag][@sha256:<64 lower-case hex>]'" in line


def test_a_bad_repository_or_tag_parameter_of_a_sidecar_is_reported() -> None:
    # GIVEN a sidecar from SSM with a bad repository, and one with a bad parameter name
    config = base()
    containers(config)["one"] = {"repository": "Shop Proxy", "image_tag_parameter": "/shop/one/tag"}
    containers(config)["two"] = {"repository": f"{ECR}/two", "image_tag_parameter": "shop/two/tag"}
    # WHEN loaded THEN each is one line at its field
    found = problems(config)
    assert len(found) == 2, found
    assert found[0].startswith(
        f"{FILE}: services.api.containers.one.repository = 'Shop Proxy': a repository must be"
    )
    assert found[1].startswith(
        f"{FILE}: services.api.containers.two.image_tag_parameter = 'shop/two/tag': "
        "an SSM parameter name must"
    )


@pytest.mark.parametrize(
    "name", ["Agent!", "a b", "a" * 256, "dd.agent"], ids=["bang", "space", "too-long", "dot"]
)
def test_an_invalid_container_name_is_one_line(name: str) -> None:
    # GIVEN a sidecar table whose key is not a container name (the name comes from the key)
    config = base()
    containers(config)[name] = containers(config).pop("agent")
    # WHEN loaded THEN one line names the table key and what a name may be (not also a `name`
    # field the user never wrote)
    line = one_problem(config)
    assert line.startswith(f"{FILE}: services.api.containers.{name}"), line
    assert "a container name must be 1-255 letters, digits, hyphens or underscores" in line


def test_a_name_key_in_a_container_table_is_reported() -> None:
    # GIVEN a container table with `name` (its name is its table key)
    config = base()
    agent(config)["name"] = "datadog"
    # WHEN loaded THEN one line calls it unknown and says where the name comes from
    assert one_problem(config) == (
        f"{FILE}: services.api.containers.agent.name: is not a known field (the container's name is its "
        "table key, 'agent')"
    )


def test_an_unknown_key_in_a_container_table_is_reported() -> None:
    config = base()
    agent(config)["colour"] = "purple"
    line = one_problem(config)
    assert line.startswith(
        f"{FILE}: services.api.containers.agent.colour = 'purple': is not a known field"
    ), line


# --- dependencies and essential containers -----------------------------------------------------------


@pytest.mark.parametrize(
    ("where", "prefix"),
    [("app", "services.api.depends_on.ghost"), ("agent", "services.api.containers.agent.depends_on.ghost")],
)
def test_depends_on_an_unknown_container_is_reported(where: str, prefix: str) -> None:
    # GIVEN the app or the sidecar waiting for a container the task does not have
    config = base()
    (service(config) if where == "app" else agent(config))["depends_on"] = {"ghost": "START"}
    # WHEN loaded THEN one line names the dependency, its condition and the task's containers
    assert one_problem(config) == (
        f"{FILE}: {prefix} = 'START': names no container of this task (containers: api, agent)"
    )


def test_a_dependency_cycle_is_reported_once() -> None:
    # GIVEN the app waiting for the agent, and the agent for the app
    config = base()
    service(config)["depends_on"] = {"agent": "START"}
    agent(config)["depends_on"] = {"api": "START"}
    # WHEN loaded THEN one line shows the cycle
    assert one_problem(config) == (
        f"{FILE}: services.api.depends_on = 'api -> agent -> api': the containers depend on each other "
        "in a cycle: none could start"
    )


def test_a_cycle_among_sidecars_is_reported_at_a_sidecar() -> None:
    config = base()
    containers(config)["one"] = {"image": "busybox:1", "depends_on": {"two": "START"}}
    containers(config)["two"] = {"image": "busybox:1", "depends_on": {"one": "START"}}
    assert one_problem(config) == (
        f"{FILE}: services.api.containers.one.depends_on = 'one -> two -> one': the containers depend on "
        "each other in a cycle: none could start"
    )


def test_a_container_depending_on_itself_is_reported() -> None:
    config = base()
    agent(config)["depends_on"] = {"agent": "START"}
    assert one_problem(config) == (
        f"{FILE}: services.api.containers.agent.depends_on.agent = 'START': "
        "a container cannot depend on itself"
    )


def test_the_app_is_always_essential_and_cannot_be_set_otherwise() -> None:
    # GIVEN `essential = false` in the flat form (the app container's fields)
    config = base()
    service(config)["essential"] = False
    # WHEN loaded THEN it is an unknown field: the app is always essential, so a task always
    # has an essential container
    line = one_problem(config)
    assert line.startswith(f"{FILE}: services.api.essential = False: is not a known field"), line


def test_sidecars_that_are_not_essential_are_accepted() -> None:
    # GIVEN every sidecar with essential = false
    config = base()
    agent(config)["essential"] = False
    containers(config)["warmup"] = {"image": "busybox:1.36", "essential": False, "command": ["true"]}
    service(config)["depends_on"] = {"warmup": "SUCCESS"}
    # WHEN loaded THEN they are accepted, and the app stays essential
    api = load(config).environments["dev"].service("api")
    assert [(c.name, c.essential) for c in api.sidecars] == [("agent", False), ("warmup", False)]
    assert api.app.essential is True


# --- ports, sizes, the load balancer --------------------------------------------------------------------


def test_two_containers_on_one_port_via_port_mappings_are_reported() -> None:
    # GIVEN the agent mapping the app's port 8080
    config = base()
    agent(config)["port_mappings"] = [{"container_port": 8126}, {"container_port": 8080}]
    # WHEN loaded THEN one line at the agent's ports names the port and its owner
    line = one_problem(config)
    assert line.startswith(f"{FILE}: services.api.containers.agent.port_mappings"), line
    assert "8080" in line and "also api's" in line and "share one network namespace" in line


def test_two_containers_on_one_container_port_are_reported_at_container_port() -> None:
    # GIVEN the agent with container_port = 8080, the app's port (and no port_mappings of its own)
    config = base()
    del agent(config)["port_mappings"]
    agent(config)["container_port"] = 8080
    # WHEN loaded THEN the one line names the field the user wrote: container_port
    line = one_problem(config)
    assert line.startswith(f"{FILE}: services.api.containers.agent.container_port = 8080: "), line
    assert "also api's" in line


def test_the_same_port_on_tcp_and_udp_is_accepted() -> None:
    config = base()
    agent(config)["port_mappings"] = [{"container_port": 8080, "protocol": "udp"}]
    assert load(config).environments["dev"].service("api").containers["agent"].ports[0].protocol == "udp"


def test_container_cpu_over_the_task_cpu_is_reported() -> None:
    # GIVEN sidecars whose cpu adds up to 640 in a task of 512
    config = base()
    containers(config)["proxy"] = {"image": "envoyproxy/envoy:v1.31.0", "cpu": 512}
    # WHEN loaded THEN one line gives the sum and the task's cpu
    assert one_problem(config) == (
        f"{FILE}: services.api.containers = 640: their cpu units add up to 640, over the task's cpu (512)"
    )


def test_container_memory_over_the_task_memory_is_reported() -> None:
    # GIVEN sidecars whose memory (hard or soft limit) adds up to 1280 MiB in a task of 1024
    config = base()
    containers(config)["proxy"] = {"image": "envoyproxy/envoy:v1.31.0", "memory_reservation": 1024}
    # WHEN loaded THEN one line gives the sum and the task's memory
    assert one_problem(config) == (
        f"{FILE}: services.api.containers = 1280: their memory (MiB) adds up to 1280, over the task's "
        "memory (1024)"
    )


def test_container_sizes_exactly_at_the_task_size_are_accepted() -> None:
    config = base()
    containers(config)["proxy"] = {"image": "envoyproxy/envoy:v1.31.0", "cpu": 384, "memory": 768}
    api = load(config).environments["dev"].service("api")
    assert sum(c.cpu or 0 for c in api.sidecars) == api.task.cpu
    assert sum(c.memory or 0 for c in api.sidecars) == api.task.memory


def test_a_digest_sidecar_outside_ecr_is_reported_at_its_repository() -> None:
    # GIVEN a 'digest' service whose sidecar's image comes from a repository outside ECR
    config = base()
    service(config)["image_strategy"] = "digest"
    containers(config)["proxy"] = {"repository": "nginx", "image_tag_parameter": "/shop/proxy/tag"}
    # WHEN loaded THEN one line, EcrDigest's rule in the configuration's words, at the sidecar's field
    assert one_problem(config) == (
        f"{FILE}: services.api.containers.proxy.repository = 'nginx': 'digest' resolves the tag through "
        "ECR, so repository must be an ECR repository (<account>.dkr.ecr.<region>.amazonaws.com/<name>), "
        "not 'nginx'"
    )


def test_a_load_balancer_naming_an_unknown_container_is_reported() -> None:
    config = base()
    service(config)["load_balancer"]["container"] = "ghost"
    assert one_problem(config) == (
        f"{FILE}: services.api.load_balancer.container = 'ghost': names no container of the service "
        "(containers: api, agent)"
    )


def test_a_load_balancer_targeting_a_container_without_container_port_is_reported() -> None:
    # GIVEN the load balancer sent to the agent, which only has port_mappings
    config = base()
    service(config)["load_balancer"]["container"] = "agent"
    # WHEN loaded THEN one line says the agent needs container_port
    assert one_problem(config) == (
        f"{FILE}: services.api.load_balancer.container = 'agent': needs containers.agent.container_port "
        "(the port the target group sends to)"
    )


def test_a_load_balancer_on_an_app_without_container_port_is_reported() -> None:
    config = base()
    del service(config)["container_port"]
    assert one_problem(config) == (
        f"{FILE}: services.api.load_balancer: needs container_port (the port the target group sends to)"
    )


def test_a_load_balancer_may_target_a_sidecar_with_container_port() -> None:
    # GIVEN a proxy sidecar with container_port as the load balancer's target
    config = base()
    containers(config)["proxy"] = {"image": "envoyproxy/envoy:v1.31.0", "container_port": 9000}
    service(config)["load_balancer"]["container"] = "proxy"
    # WHEN loaded THEN the target is the proxy on 9000
    api = load(config).environments["dev"].service("api")
    assert (api.target_container, api.container(api.target_container).container_port) == ("proxy", 9000)


# --- logging -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("where", "prefix"),
    [("app", "services.api.log_driver"), ("agent", "services.api.containers.agent.log_driver")],
)
def test_awsfirelens_without_a_router_is_reported(where: str, prefix: str) -> None:
    # GIVEN the app or a sidecar logging through FireLens, and no router in the task
    config = base()
    (service(config) if where == "app" else agent(config)).update(
        log_driver="awsfirelens", log_options={"Name": "datadog"}
    )
    # WHEN loaded THEN one line says a router is needed
    assert one_problem(config) == (
        f"{FILE}: {prefix} = 'awsfirelens': needs a FireLens log router in the task (a container with "
        "firelens = {…})"
    )


def test_awsfirelens_with_a_router_is_accepted() -> None:
    config = base()
    containers(config)["log-router"] = copy.deepcopy(FIRELENS_ROUTER)
    service(config).update(
        log_driver="awsfirelens",
        log_options={"Name": "datadog", "TLS": "on"},
        log_secret_options={"apikey": API_KEY},
        depends_on={"log-router": "START"},
    )
    api = load(config).environments["prod"].service("api")
    assert (api.app.log_driver, dict(api.app.log_secret_options)) == ("awsfirelens", {"apikey": API_KEY})
    assert api.containers["log-router"].firelens is not None


def test_two_routers_are_reported_at_the_second() -> None:
    # GIVEN two containers with a firelens table
    config = base()
    containers(config)["router-one"] = copy.deepcopy(FIRELENS_ROUTER)
    containers(config)["router-two"] = {**copy.deepcopy(FIRELENS_ROUTER), "firelens": {"type": "fluentd"}}
    # WHEN loaded THEN one line at the second router's firelens names the first
    line = one_problem(config)
    assert line.startswith(f"{FILE}: services.api.containers.router-two.firelens"), line
    assert "a task has one FireLens log router (router-one already)" in line
    # and shows no value the user did not write (their firelens is a table, not None)
    assert " = None" not in line, line


def test_log_options_with_awslogs_are_reported() -> None:
    config = base()
    agent(config)["log_options"] = {"Name": "datadog"}
    assert one_problem(config) == (
        f"{FILE}: services.api.containers.agent.log_options: only with log_driver = 'awsfirelens' "
        "(awslogs writes to the task's log group)"
    )


def test_a_router_logging_through_itself_is_reported() -> None:
    config = base()
    containers(config)["log-router"] = {**copy.deepcopy(FIRELENS_ROUTER), "log_driver": "awsfirelens"}
    assert one_problem(config) == (
        f"{FILE}: services.api.containers.log-router.log_driver = 'awsfirelens': the FireLens router cannot "
        "log through itself: use awslogs"
    )


# --- credentials -----------------------------------------------------------------------------------------

SECRET_TEXT = "hunter2-s3cr3t-Value"


@pytest.mark.parametrize(
    "value",
    [SECRET_TEXT, 48151623, [SECRET_TEXT], {"value": SECRET_TEXT}, f"{SECRET_TEXT}\n"],
    ids=["string", "int", "list", "table", "string-with-newline"],
)
@pytest.mark.parametrize("in_override", [False, True], ids=["service", "environment-override"])
def test_a_credential_looking_variable_of_a_sidecar_is_reported_without_its_value(
    value: Any, in_override: bool
) -> None:
    # GIVEN a sidecar with a credential-looking plain variable (of any type), in the service or
    # in prod's override of the sidecar
    config = base()
    target = (
        override(config).setdefault("containers", {}).setdefault("agent", {})
        if in_override
        else agent(config)
    )
    target.setdefault("environment", {})["INTAKE_API_KEY"] = value
    # WHEN loaded
    line = one_problem(config)
    # THEN one line names the variable where it was written
    where = "environments.prod.services.api" if in_override else "services.api"
    assert line.startswith(f"{FILE}: {where}.containers.agent.environment.INTAKE_API_KEY"), line
    # and never shows its value
    for shown in (SECRET_TEXT, "48151623", repr(value)):
        assert shown not in line, line


def test_a_credential_looking_variable_is_named_once_even_when_also_a_secret() -> None:
    # GIVEN the agent's API key both as a plain variable and as a secret
    config = base()
    agent(config)["environment"]["DD_API_KEY"] = SECRET_TEXT
    found = problems(config)
    # THEN the value appears nowhere and both fields are named
    assert all(SECRET_TEXT not in line for line in found), found
    assert any(
        line.startswith(f"{FILE}: services.api.containers.agent.environment.DD_API_KEY:") for line in found
    )
    assert any(
        line.startswith(f"{FILE}: services.api.containers.agent.secrets.DD_API_KEY:") for line in found
    )


# --- per-environment overrides -------------------------------------------------------------------------


def test_an_override_of_one_sidecar_field_changes_only_that_field() -> None:
    # GIVEN prod overriding the agent's cpu, one variable, one secret and adding log options
    config = base()
    override(config)["containers"] = {
        "agent": {
            "cpu": 256,
            "environment": {"DD_ENV": "prod"},
            "secrets": {"DD_OTHER": OTHER_KEY},
        }
    }
    settings = load(config)
    dev = settings.environments["dev"].service("api").containers["agent"]
    prod = settings.environments["prod"].service("api").containers["agent"]
    # THEN prod's agent has the new cpu and the variables and secrets merged key by key
    assert prod.cpu == 256
    assert dict(prod.environment) == {"DD_SITE": "datadoghq.com", "DD_APM_ENABLED": "true", "DD_ENV": "prod"}
    assert dict(prod.secrets) == {"DD_API_KEY": API_KEY, "DD_OTHER": OTHER_KEY}
    # and everything else as in the service
    unchanged = ("name", "image", "memory", "port_mappings", "essential", "log_driver", "user")
    assert {k: getattr(prod, k) for k in unchanged} == {k: getattr(dev, k) for k in unchanged}
    # and dev's agent is the service's as written
    assert (dev.cpu, dict(dev.environment)) == (128, {"DD_SITE": "datadoghq.com", "DD_APM_ENABLED": "true"})
    # and the app is untouched
    assert settings.environments["prod"].service("api").app.environment == {}


def test_an_override_may_add_a_sidecar_to_one_environment() -> None:
    config = base()
    override(config)["containers"] = {"profiler": {"image": "busybox:1.36", "essential": False}}
    settings = load(config)
    assert [c.name for c in settings.environments["prod"].service("api").sidecars] == ["agent", "profiler"]
    assert [c.name for c in settings.environments["dev"].service("api").sidecars] == ["agent"]


def test_log_options_of_a_sidecar_merge_key_by_key() -> None:
    config = base()
    containers(config)["log-router"] = copy.deepcopy(FIRELENS_ROUTER)
    agent(config).update(log_driver="awsfirelens", log_options={"Name": "datadog", "TLS": "on"})
    override(config)["containers"] = {"agent": {"log_options": {"TLS": "off", "Host": "intake.example.com"}}}
    prod = load(config).environments["prod"].service("api").containers["agent"]
    assert dict(prod.log_options) == {"Name": "datadog", "TLS": "off", "Host": "intake.example.com"}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("cpu", "lots", "input should be a valid integer"),
        ("essential", "no", "input should be a valid boolean"),
        ("image", "public.ecr.aws/Datadog/agent", "an image reference must be"),
        ("user", "root", "must not be root"),
        ("depends_on", {"ghost": "START"}, "names no container of this task"),
    ],
)
def test_a_bad_override_of_a_sidecar_field_is_reported_at_the_override(
    field: str, value: Any, message: str
) -> None:
    # GIVEN prod overriding one field of the agent with a bad value
    config = base()
    override(config)["containers"] = {"agent": {field: value}}
    # WHEN loaded THEN one line names the override's path (dev, without the override, is fine)
    line = one_problem(config)
    where = f"{FILE}: environments.prod.services.api.containers.agent.{field}"
    assert line.startswith(where), line
    assert message in line, line
    if not isinstance(value, dict):
        assert line.startswith(f"{where} = {value!r}: "), line


def test_an_override_pushing_memory_over_the_task_is_reported_at_the_override() -> None:
    config = base()
    override(config)["containers"] = {"agent": {"memory": 2048}}
    assert one_problem(config) == (
        f"{FILE}: environments.prod.services.api.containers = 2048: their memory (MiB) adds up to 2048, "
        "over the task's memory (1024)"
    )


def test_a_task_mistake_of_the_service_is_reported_once_at_the_service_despite_an_override() -> None:
    # GIVEN sidecars over the task's memory in the service, and prod overriding an unrelated
    # field of the agent
    config = base()
    agent(config)["memory"] = 2048
    override(config)["containers"] = {"agent": {"environment": {"DD_ENV": "prod"}}}
    # WHEN loaded THEN the mistake is one line at the service (where it was written), not a
    # second line at prod's override
    assert one_problem(config) == (
        f"{FILE}: services.api.containers = 2048: their memory (MiB) adds up to 2048, over the task's "
        "memory (1024)"
    )


def test_a_missing_image_of_the_service_is_reported_once_at_the_service_despite_an_override() -> None:
    # GIVEN a sidecar without an image, and prod overriding its cpu only
    config = base()
    del agent(config)["image"]
    override(config)["containers"] = {"agent": {"cpu": 64}}
    # WHEN loaded THEN one line at the service's container table
    assert one_problem(config) == f"{FILE}: services.api.containers.agent: {IMAGE_CHOICE}"


# --- several mistakes together ------------------------------------------------------------------------------


def test_several_field_mistakes_are_reported_together() -> None:
    # GIVEN a wrong app field, a wrong sidecar field, an unknown sidecar key and a wrong override
    config = base()
    service(config)["desired_count"] = -1
    agent(config)["cpu"] = "lots"
    containers(config)["proxy"] = {"image": "envoyproxy/envoy:v1.31.0", "colour": "red"}
    override(config, "dev")["containers"] = {"agent": {"essential": "no"}}
    # WHEN loaded THEN each is one line (dev and prod both see the service's own mistakes once)
    found = problems(config)
    expected_prefixes = [
        f"{FILE}: services.api.desired_count = -1: ",
        f"{FILE}: services.api.containers.agent.cpu = 'lots': ",
        f"{FILE}: services.api.containers.proxy.colour = 'red': is not a known field",
        f"{FILE}: environments.dev.services.api.containers.agent.essential = 'no': ",
    ]
    for prefix in expected_prefixes:
        assert sum(line.startswith(prefix) for line in found) == 1, (prefix, found)
    assert len(found) == len(expected_prefixes), found


def test_several_task_mistakes_are_reported_together() -> None:
    # GIVEN an unknown load balancer target, cpu over the task's, a credential-looking variable
    # and an unknown dependency
    config = base()
    service(config)["load_balancer"]["container"] = "ghost"
    containers(config)["proxy"] = {
        "image": "envoyproxy/envoy:v1.31.0",
        "cpu": 512,
        "depends_on": {"db": "START"},
    }
    agent(config)["environment"]["INTAKE_API_KEY"] = SECRET_TEXT
    # WHEN loaded THEN four lines, in any order, the value of the credential in none
    found = problems(config)
    expected_prefixes = [
        f"{FILE}: services.api.load_balancer.container = 'ghost': ",
        f"{FILE}: services.api.containers = 640: ",
        f"{FILE}: services.api.containers.agent.environment.INTAKE_API_KEY: looks like a credential",
        f"{FILE}: services.api.containers.proxy.depends_on.db = 'START': ",
    ]
    for prefix in expected_prefixes:
        assert sum(line.startswith(prefix) for line in found) == 1, (prefix, found)
    assert len(found) == len(expected_prefixes), found
    assert all(SECRET_TEXT not in line for line in found)


def test_an_image_mistake_does_not_hide_other_mistakes() -> None:
    # GIVEN a bad image in one sidecar, an unknown key in another and a wrong app field
    config = base()
    agent(config)["image"] = "public.ecr.aws/Datadog/agent"
    containers(config)["proxy"] = {"image": "envoyproxy/envoy:v1.31.0", "colour": "red"}
    service(config)["desired_count"] = -1
    # WHEN loaded THEN all three are reported together, each once
    found = problems(config)
    expected_prefixes = [
        f"{FILE}: services.api.containers.agent.image = 'public.ecr.aws/Datadog/agent': ",
        f"{FILE}: services.api.containers.proxy.colour = 'red': ",
        f"{FILE}: services.api.desired_count = -1: ",
    ]
    for prefix in expected_prefixes:
        assert sum(line.startswith(prefix) for line in found) == 1, (prefix, found)
    assert len(found) == len(expected_prefixes), found


def test_several_mistakes_in_a_toml_file_are_reported_together(tmp_path: Path) -> None:
    # GIVEN a file with a sidecar named like the service and a bad image in another
    path = tmp_path / "ecs-cd.toml"
    path.write_text(
        BASE_TOML
        + """
[services.api.containers.api]
image = "busybox:1.36"

[services.api.containers.proxy]
image = "Envoy:latest"
""",
        encoding="utf-8",
    )
    # WHEN loaded THEN both lines name the file as given
    with pytest.raises(ConfigError) as raised:
        load_settings(path)
    found = raised.value.problems
    assert len(found) == 2, found
    assert found[0].startswith(f"{path}: services.api.containers.api: is the app container's name")
    assert found[1].startswith(
        f"{path}: services.api.containers.proxy.image = 'Envoy:latest': an image reference"
    )
