"""TaskDefinition with several containers: definitions, execution policy, escaping, volumes, addresses.

One stack holds every task definition (and one ``AppService``) below, synthesized once.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from cdktf import TerraformLocal, TerraformStack, Testing
from constructs import Construct

from constructs_lib.container import ContainerProps, Firelens, HealthCheck, PortMapping
from constructs_lib.images import Fixed, ImageSource, SsmTag
from constructs_lib.load_balancer import ListenerAttachment
from constructs_lib.patterns import AppService, AppServiceProps
from constructs_lib.service import ServiceOptions, ServiceProps
from constructs_lib.service_props import ListenerRule
from constructs_lib.task_definition import TaskDefinition
from constructs_lib.task_definition_props import TaskDefinitionProps
from constructs_lib.terraform_text import literal_values
from tests.conftest import Synthesized
from tests.terraform_text import parse_definitions

REPO = "123456789012.dkr.ecr.us-east-1.amazonaws.com/api"
REPO_ARN = "arn:aws:ecr:us-east-1:123456789012:repository/api"
AGENT_REPO = "123456789012.dkr.ecr.us-east-1.amazonaws.com/agent"
AGENT_REPO_ARN = "arn:aws:ecr:us-east-1:123456789012:repository/agent"
APP_IMAGE = SsmTag(repository=REPO, parameter_name="/api/dev/docker-image-tag")
DATADOG = Fixed(reference="public.ecr.aws/datadog/agent:7.60.0")
FLUENT_BIT = Fixed(reference="public.ecr.aws/aws-observability/aws-for-fluent-bit:2.32.4")
SSM_DB = "arn:aws:ssm:us-east-1:123456789012:parameter/shop/db"
SSM_DD = "arn:aws:ssm:us-east-1:123456789012:parameter/shop/datadog/api-key"
SECRET_LOGS = "arn:aws:secretsmanager:us-east-1:123456789012:secret:shop/logs-AbCdEf"
LISTENER = (
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/x/0123456789abcdef/0123456789abcdef"
)
# Terraform would evaluate ${…} and %{…}; JSON must keep quotes, backslashes and the newline.
NASTY = '${path.cwd} %{ if true }x%{ endif } "quoted" back\\slash\nsecond line'


def _task(id_: str, *containers: ContainerProps, **overrides: Any) -> TaskDefinitionProps:
    props: dict[str, Any] = {
        "family": f"p-e-{id_}",
        "containers": containers,
        "region": "us-east-1",
        "log_group_name": f"/ecs/p/e/{id_}",
        "execution_role_name": f"p-e-{id_}-exec",
        "task_role_name": f"p-e-{id_}-task",
        "cpu": 512,
        "memory": 1024,
    }
    props.update(overrides)
    return TaskDefinitionProps(**props)


def _app(image: ImageSource = APP_IMAGE, **overrides: Any) -> ContainerProps:
    return ContainerProps(name="app", image=image, **overrides)


def _sidecar(image: ImageSource = DATADOG, **overrides: Any) -> ContainerProps:
    return ContainerProps(name="sidecar", image=image, **overrides)


def _router(name: str = "log-router") -> ContainerProps:
    return ContainerProps(
        name=name, image=FLUENT_BIT, firelens=Firelens(options={"enable-ecs-log-metadata": "true"})
    )


def _service_options(**overrides: Any) -> ServiceOptions:
    props: dict[str, Any] = {
        "cluster_arn": "arn:aws:ecs:us-east-1:123456789012:cluster/c",
        "cluster_name": "c",
        "service_name": "web",
        "subnets": ("subnet-0a1b2c3d",),
        "vpc_id": "vpc-0a1b2c3d",
        "security_group_name": "p-e-web-tasks",
    }
    props.update(overrides)
    return ServiceOptions(**props)


def _listener(priority: int = 10) -> ListenerAttachment:
    return ListenerAttachment(
        listener_arn=LISTENER,
        source_security_group_id="sg-0a1b2c3d",
        target_group_name="p-e-web",
        rule=ListenerRule(priority=priority, path_patterns=["/*"]),
    )


FULL = _task(
    "full",
    _app(
        container_port=8080,
        secrets={"DB": SSM_DB},
        log_driver="awsfirelens",
        log_options={"Name": "datadog", "dd_service": "api"},
        log_secret_options={"apikey": SECRET_LOGS},
        depends_on={"log-router": "START", "sidecar": "HEALTHY"},
    ),
    _sidecar(
        essential=False,
        cpu=128,
        memory=256,
        secrets={"DD_API_KEY": SSM_DD, "DB": SSM_DB},
        port_mappings=(PortMapping(container_port=8126), PortMapping(container_port=8125, protocol="udp")),
        health_check=HealthCheck(command=("CMD-SHELL", "agent health"), interval=10),
        writable_paths=("/tmp",),
    ),
    _router(),
)


@dataclass(frozen=True)
class Built:
    """The synthesized stack, its task definitions by id and the AppService ``web``."""

    out: Synthesized
    tasks: dict[str, TaskDefinition]
    web: AppService
    # the logical ids the resources of an AppService "web" had before the constructs were split
    legacy_ids: dict[str, str]

    def definitions(self, task: str) -> list[dict[str, Any]]:
        return parse_definitions(
            self.out.one("aws_ecs_task_definition", f"{task}/task")["container_definitions"]
        )

    def statements(self, task: str) -> dict[str, dict[str, Any]]:
        policy = json.loads(self.out.one("aws_iam_role_policy", f"{task}/execution-policy")["policy"])
        return {s["Sid"]: s for s in policy["Statement"]}


def _legacy_ids() -> dict[str, str]:
    """The logical ids of elements at ``web/fargate/<part>`` and ``web/image/tag`` (any element type
    gets the same id at the same path)."""
    reference = TerraformStack(Testing.app(), "reference")
    web = Construct(reference, "web")
    fargate = Construct(web, "fargate")
    parts = ("task", "logs", "execution-role", "task-role", "execution-policy", "service", "security-group")
    ids = {part: reference.get_logical_id(TerraformLocal(fargate, part, "x")) for part in parts}
    ids["image/tag"] = reference.get_logical_id(TerraformLocal(Construct(web, "image"), "tag", "x"))
    return ids


@pytest.fixture(scope="module")
def built() -> Built:
    stack = TerraformStack(Testing.app(), "test")
    props = {
        "full": FULL,
        "two-repos": _task("two-repos", _app(), _sidecar(Fixed(reference=f"{AGENT_REPO}:1.0"))),
        "same-repo": _task("same-repo", _app(), _sidecar(Fixed(reference=f"{REPO}:tools"))),
        "public": _task("public", _app(DATADOG), _sidecar(FLUENT_BIT)),
        # Literal text, escaped the way the stacks escape every value of the configuration.
        "escaping": _task(
            "escaping",
            literal_values(
                _app(
                    environment={"NASTY": NASTY},
                    command=("sh", "-c", NASTY),
                    health_check=HealthCheck(command=("CMD-SHELL", NASTY)),
                )
            ),
        ),
        # Props are Terraform text, as cdktf's own attributes: a reference stays a reference.
        "reference": _task("reference", _app(environment={"CWD": "${path.cwd}"})),
        "shared-tmp": _task(
            "shared-tmp", _app(writable_paths=("/tmp", "/var/cache")), _sidecar(writable_paths=("/tmp",))
        ),
    }
    tasks = {name: TaskDefinition(stack, name, props=p) for name, p in props.items()}
    web = AppService(
        stack,
        "web",
        props=AppServiceProps(
            task=_task("web", _app(container_port=8080), _sidecar()),
            service=_service_options(load_balancer=_listener()),
        ),
    )
    text = Testing.synth(stack)
    out = Synthesized(text=text, json=json.loads(text), terraform=dict(stack.to_terraform()))
    return Built(out, tasks, web, _legacy_ids())


# --- the definitions of a task with an app, a sidecar and a FireLens router


def test_definitions_keep_the_containers_order_and_flags(built: Built) -> None:
    # GIVEN an app, a non-essential sidecar and a FireLens router WHEN the definitions are parsed
    app, sidecar, router = built.definitions("full")
    # THEN they come in the given order with their own essential flags
    assert [c["name"] for c in (app, sidecar, router)] == ["app", "sidecar", "log-router"]
    assert [c["essential"] for c in (app, sidecar, router)] == [True, False, True]
    # AND the app waits for the router to start and the sidecar to be healthy
    assert app["dependsOn"] == [
        {"containerName": "log-router", "condition": "START"},
        {"containerName": "sidecar", "condition": "HEALTHY"},
    ]
    assert "dependsOn" not in sidecar and "dependsOn" not in router
    # AND the sidecar keeps its own sizes and ports
    assert (sidecar["cpu"], sidecar["memory"]) == (128, 256)
    assert sidecar["portMappings"] == [
        {"containerPort": 8126, "hostPort": 8126, "protocol": "tcp"},
        {"containerPort": 8125, "hostPort": 8125, "protocol": "udp"},
    ]


def test_only_the_router_has_a_firelens_configuration(built: Built) -> None:
    app, sidecar, router = built.definitions("full")
    assert router["firelensConfiguration"] == {
        "type": "fluentbit",
        "options": {"enable-ecs-log-metadata": "true"},
    }
    assert "firelensConfiguration" not in app and "firelensConfiguration" not in sidecar
    # the router itself logs to the task's log group
    assert router["logConfiguration"]["logDriver"] == "awslogs"
    assert router["logConfiguration"]["options"]["awslogs-stream-prefix"] == "log-router"


def test_the_app_logs_through_firelens_with_secret_options(built: Built) -> None:
    app, sidecar, _ = built.definitions("full")
    assert app["logConfiguration"] == {
        "logDriver": "awsfirelens",
        "options": {"Name": "datadog", "dd_service": "api"},
        "secretOptions": [{"name": "apikey", "valueFrom": SECRET_LOGS}],
    }
    assert sidecar["logConfiguration"] == {
        "logDriver": "awslogs",
        "options": {
            "awslogs-group": "/ecs/p/e/full",
            "awslogs-region": "us-east-1",
            "awslogs-stream-prefix": "sidecar",
        },
    }


def test_only_the_apps_image_reads_the_ssm_tag(built: Built) -> None:
    out = built.out
    app, sidecar, router = built.definitions("full")
    # THEN the app's image is <repository>:<the tag read from SSM>
    tag = out.key("data", "aws_ssm_parameter", "full/app-image/tag")
    assert out.data("aws_ssm_parameter")[tag]["name"] == "/api/dev/docker-image-tag"
    assert app["image"] == f"{REPO}:${{data.aws_ssm_parameter.{tag}.insecure_value}}"
    # AND the sidecars' images are the literal references, with no lookup of their own
    assert sidecar["image"] == "public.ecr.aws/datadog/agent:7.60.0"
    assert router["image"] == "public.ecr.aws/aws-observability/aws-for-fluent-bit:2.32.4"
    assert [k for k in out.data("aws_ssm_parameter") if k.startswith("full_")] == [tag]
    assert not [k for k in out.data("aws_ecr_image") if k.startswith("full_")]
    text = out.one("aws_ecs_task_definition", "full/task")["container_definitions"]
    assert text.count("jsonencode(") == 1 and text.count("${data.") == 1
    images = built.tasks["full"].images
    assert [name for name, image in images.items() if image.from_ssm] == ["app"]
    assert images["app"].repository_arn == REPO_ARN and images["sidecar"].repository_arn is None


# --- the execution policy: the union of the containers' secrets, the ECR repositories used


def test_execution_policy_reads_the_union_of_all_secrets(built: Built) -> None:
    # GIVEN app secrets, app log secret options and sidecar secrets (one shared with the app)
    statements = built.statements("full")
    # THEN the role reads exactly each of them, once
    assert statements["SsmSecrets"]["Resource"] == sorted([SSM_DB, SSM_DD])
    assert statements["SecretsManagerSecrets"]["Resource"] == [SECRET_LOGS]
    # AND pulls from the app's repository only (the sidecars' images are public)
    assert statements["EcrPull"]["Resource"] == REPO_ARN
    assert list(statements) == ["EcrAuth", "EcrPull", "SsmSecrets", "SecretsManagerSecrets", "Logs"]
    log_group = built.out.ref("aws_cloudwatch_log_group", "full/logs", "arn")
    assert statements["Logs"]["Resource"] == f"{log_group}:*"


@pytest.mark.parametrize(
    ("task", "resource"),
    [
        ("two-repos", [AGENT_REPO_ARN, REPO_ARN]),
        ("same-repo", REPO_ARN),
        ("escaping", REPO_ARN),
    ],
)
def test_execution_policy_pulls_exactly_from_the_repositories_used(
    built: Built, task: str, resource: str | list[str]
) -> None:
    # GIVEN images from one or two ECR repositories WHEN the execution policy is parsed
    statements = built.statements(task)
    # THEN one repository is a string (the deployed text of one-image tasks), two are a list
    assert statements["EcrPull"]["Resource"] == resource
    assert statements["EcrPull"]["Action"] == [
        "ecr:BatchCheckLayerAvailability",
        "ecr:BatchGetImage",
        "ecr:GetDownloadUrlForLayer",
    ]
    assert statements["EcrAuth"] == {
        "Sid": "EcrAuth",
        "Effect": "Allow",
        "Action": ["ecr:GetAuthorizationToken"],
        "Resource": "*",
    }


def test_public_images_need_no_ecr_permission(built: Built) -> None:
    # GIVEN only public images (no ECR repository, no secret) THEN the role may only write logs
    assert list(built.statements("public")) == ["Logs"]


# --- invalid tasks


def _invalid_task(*containers: ContainerProps, **overrides: Any) -> Callable[[], object]:
    return lambda: _task("bad", *containers, **overrides)


def _service_props(**options: Any) -> ServiceProps:
    stack = TerraformStack(Testing.app(), "test")
    definition = TaskDefinition(
        stack, "task", props=_task("svc", _app(container_port=8080), _sidecar(port_mappings=()))
    )
    return ServiceProps.of(_service_options(**options), definition)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (
            _invalid_task(_app(), _app()),
            "containers.app: two containers have this name: names must be unique",
        ),
        (
            _invalid_task(_app(depends_on={"db": "START"}), _sidecar()),
            "containers.app.depends_on.db: names no container of this task (containers: app, sidecar)",
        ),
        (
            _invalid_task(_app(depends_on={"sidecar": "START"}), _sidecar(depends_on={"app": "START"})),
            "containers.app.depends_on: the containers depend on each other in a cycle: none could start",
        ),
        (
            _invalid_task(_app(essential=False), _sidecar(essential=False)),
            "containers: at least one container must be essential",
        ),
        (
            _invalid_task(
                _app(container_port=8080), _sidecar(port_mappings=(PortMapping(container_port=8080),))
            ),
            "containers.sidecar.port_mappings: tcp port 8080 is also app's",
        ),
        (
            _invalid_task(_app(cpu=384), _sidecar(cpu=256)),
            "containers: their cpu units add up to 640, over the task's cpu (512)",
        ),
        (
            _invalid_task(_app(memory=768), _sidecar(memory_reservation=512)),
            "containers: their memory (MiB) adds up to 1280, over the task's memory (1024)",
        ),
        (
            _invalid_task(_app(), _router("router-a"), _router("router-b")),
            "containers.router-b.firelens: a task has one FireLens log router (router-a already)",
        ),
        (
            _invalid_task(_app(log_driver="awsfirelens"), _sidecar()),
            "containers.app.log_driver: needs a FireLens log router in the task",
        ),
        (
            lambda: _service_props(load_balancer=_listener(), target_container="sidecar"),
            "target_container: needs containers.sidecar.container_port (the port the target group sends to)",
        ),
        (
            lambda: _service_props(load_balancer=_listener(), target_container="db"),
            "target_container: names no container of the service (containers: app, sidecar)",
        ),
    ],
)
def test_invalid_tasks_are_rejected_with_a_clear_message(build: Callable[[], object], message: str) -> None:
    # GIVEN containers that contradict each other WHEN the props are built THEN a ValueError says
    # where and why
    with pytest.raises(ValueError, match=re.escape(message)):
        build()


def test_one_port_on_two_protocols_is_allowed() -> None:
    props = _task(
        "ok",
        _app(container_port=8125),
        _sidecar(port_mappings=(PortMapping(container_port=8125, protocol="udp"),)),
    )
    assert [p.protocol for c in props.containers for p in c.ports] == ["tcp", "udp"]


def test_the_load_balancer_targets_the_first_container_with_a_port() -> None:
    # GIVEN no target_container THEN the target is the app's port; naming the app is the same
    assert _service_props(load_balancer=_listener()).target() == ("app", 8080)
    assert _service_props(load_balancer=_listener(), target_container="app").target() == ("app", 8080)


# --- escaping: values stay values


def test_values_render_to_exactly_the_literal_text(built: Built) -> None:
    # GIVEN an environment value, a command and a health check command with ${…}, %{…}, quotes,
    # backslashes and a newline WHEN Terraform renders the definitions
    (app,) = built.definitions("escaping")
    # THEN each is exactly the configured text
    assert app["environment"] == [{"name": "NASTY", "value": NASTY}]
    assert app["command"] == ["sh", "-c", NASTY]
    assert app["healthCheck"]["command"] == ["CMD-SHELL", NASTY]


def test_a_reference_in_a_prop_reaches_terraform_as_a_reference(built: Built) -> None:
    # GIVEN an environment value passed as Terraform text, not made literal
    template = built.out.one("aws_ecs_task_definition", "reference/task")["container_definitions"]
    # THEN Terraform evaluates it: the construct adds no escaping of its own
    assert '{"name": "CWD", "value": "${path.cwd}"}' in template


def test_templates_are_escaped_in_the_synthesized_text(built: Built) -> None:
    text = built.out.text
    # THEN the raw text escapes every interpolation and directive of the values
    assert "$${path.cwd}" in text
    assert "%%{ if true }x%%{ endif }" in text
    escaping = built.out.one("aws_ecs_task_definition", "escaping/task")["container_definitions"]
    assert re.search(r"(?<!\$)\$\{path\.cwd\}", escaping) is None
    assert re.search(r"(?<!%)%\{", escaping) is None
    # AND the image token is a jsonencode of the reference (a value, whatever the tag holds)
    tag = built.out.key("data", "aws_ssm_parameter", "escaping/app-image/tag")
    template = built.out.one("aws_ecs_task_definition", "escaping/task")["container_definitions"]
    image = f'"image": ${{jsonencode("{REPO}:${{data.aws_ssm_parameter.{tag}.insecure_value}}")}}'
    assert image in template
    assert json.dumps(template)[1:-1] in text


# --- writable paths


def test_two_writers_of_one_path_get_a_volume_each(built: Built) -> None:
    # GIVEN app and sidecar both writing /tmp (and the app /var/cache)
    task = built.out.one("aws_ecs_task_definition", "shared-tmp/task")
    app, sidecar = built.definitions("shared-tmp")
    # THEN each container's /tmp is its own volume, named after it; /var/cache keeps its name
    assert task["volume"] == [{"name": "app_tmp"}, {"name": "var-cache"}, {"name": "sidecar_tmp"}]
    assert [(m["sourceVolume"], m["containerPath"]) for m in app["mountPoints"]] == [
        ("app_tmp", "/tmp"),
        ("var-cache", "/var/cache"),
    ]
    assert [(m["sourceVolume"], m["containerPath"]) for m in sidecar["mountPoints"]] == [
        ("sidecar_tmp", "/tmp")
    ]


def test_a_single_writer_keeps_the_paths_name(built: Built) -> None:
    task = built.out.one("aws_ecs_task_definition", "full/task")
    _, sidecar, _ = built.definitions("full")
    assert task["volume"] == [{"name": "tmp"}]
    assert sidecar["mountPoints"] == [{"sourceVolume": "tmp", "containerPath": "/tmp", "readOnly": False}]


def test_no_two_writable_paths_share_a_volume() -> None:
    # GIVEN app and sidecar both writing /tmp, and the app also writing /app-tmp: the name of
    # that path's volume is the one the app's /tmp gets
    stack = TerraformStack(Testing.app(), "test")
    containers = (_app(writable_paths=("/tmp", "/app-tmp")), _sidecar(writable_paths=("/tmp",)))
    try:
        TaskDefinition(stack, "collide", props=_task("collide", *containers))
    except ValueError:
        return  # refusing the task would be a fix too
    # WHEN the task is accepted and synthesized
    (task,) = json.loads(Testing.synth(stack))["resource"]["aws_ecs_task_definition"].values()
    mounts = {
        (c["name"], m["containerPath"]): m["sourceVolume"]
        for c in parse_definitions(task["container_definitions"])
        for m in c["mountPoints"]
    }
    # THEN each (container, path) still has a volume of its own: no container writes into
    # another path's (or another container's) files
    assert len(set(mounts.values())) == len(mounts) == 3, mounts
    assert len(task["volume"]) == 3


# --- AppService keeps the addresses of the resources it had before the split


@pytest.mark.parametrize(
    ("resource_type", "part"),
    [
        ("aws_ecs_task_definition", "task"),
        ("aws_cloudwatch_log_group", "logs"),
        ("aws_iam_role", "execution-role"),
        ("aws_iam_role", "task-role"),
        ("aws_iam_role_policy", "execution-policy"),
        ("aws_ecs_service", "service"),
        ("aws_security_group", "security-group"),
    ],
)
def test_app_service_keeps_the_addresses(built: Built, resource_type: str, part: str) -> None:
    # GIVEN an AppService "web" WHEN synthesized THEN its resource at web/fargate/<part> has the
    # logical id a resource at that path always had
    key = built.out.key("resource", resource_type, f"web/fargate/{part}")
    assert re.fullmatch(rf"web_fargate_{re.escape(part)}_[0-9A-F]{{8}}", key)
    assert key == built.legacy_ids[part]


def test_app_service_keeps_the_tag_lookups_address(built: Built) -> None:
    key = built.out.key("data", "aws_ssm_parameter", "web/image/tag")
    assert re.fullmatch(r"web_image_tag_[0-9A-F]{8}", key)
    assert key == built.legacy_ids["image/tag"]
    # AND the app container (first) reads it; the sidecar keeps its literal image
    app, sidecar = built.definitions("web/fargate")
    assert app["image"] == f"{REPO}:${{data.aws_ssm_parameter.{key}.insecure_value}}"
    assert sidecar["image"] == "public.ecr.aws/datadog/agent:7.60.0"
    assert built.web.app_image.from_ssm and built.web.task_definition.images["sidecar"].from_ssm is False
