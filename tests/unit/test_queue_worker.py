"""Queue workers: a service that scales on an SQS queue's backlog per task (examples/queue-worker),
synthesized and read back as parsed values (the redrive policy, the task role's policy, the
container definitions, the scaling policies' metrics); every mistake in a ``queue`` table is one
line at its field; the props refuse the same contradictions with the same rules."""

from __future__ import annotations

import copy
import json
import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from constructs_lib.props import Problem
from constructs_lib.queue_props import DeadLetter, ServiceQueue, queue_problems
from constructs_lib.service import ServiceOptions
from constructs_lib.service_props import Autoscaling, scaling_problems
from ecs_cd.core.aws_formats import sqs_queue_url, validate_sqs_queue_arn
from stacks.settings import ConfigError, load_settings, settings_from_dict
from tests.conftest import FIXTURE_CONFIG, Synthesized
from tests.terraform_text import parse_definitions

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "queue-worker" / "ecs-cd.toml"
MAIL_QUEUE = "arn:aws:sqs:us-east-1:123456789012:outgoing-mail"
CONSUME = ["sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"]
FILE = "conf.toml"


@pytest.fixture(scope="module")
def out(examples: dict[str, dict[str, Synthesized]]) -> dict[str, Synthesized]:
    return examples["queue-worker"]


def _by_path(synthesized: Synthesized, resource_type: str, service: str) -> dict[str, dict[str, Any]]:
    """The resources of ``resource_type`` of one service, by logical id."""
    return {k: v for k, v in synthesized.resources(resource_type).items() if k.startswith(f"{service}_")}


def _definitions(synthesized: Synthesized, service: str) -> dict[str, dict[str, Any]]:
    task = synthesized.one("aws_ecs_task_definition", f"{service}/fargate/task")
    return {d["name"]: d for d in parse_definitions(task["container_definitions"])}


def _environment(definition: dict[str, Any]) -> dict[str, str]:
    return {item["name"]: item["value"] for item in definition.get("environment", [])}


# --- the example, synthesized ----------------------------------------------------------------


@pytest.mark.parametrize("env", ["local", "prod"])
def test_a_created_queue_is_encrypted_with_a_dead_letter_queue(out: dict[str, Synthesized], env: str) -> None:
    synthesized = out[env]
    queue = synthesized.one("aws_sqs_queue", "worker/queue/queue")
    dead = synthesized.one("aws_sqs_queue", "worker/queue/dead-letter")
    # THEN both are named after project, environment and service, and encrypted with SQS's key
    assert (queue["name"], dead["name"]) == (f"jobs-{env}-worker", f"jobs-{env}-worker-dlq")
    assert queue["sqs_managed_sse_enabled"] is True and dead["sqs_managed_sse_enabled"] is True
    assert queue["visibility_timeout_seconds"] == 300
    assert dead["message_retention_seconds"] == 1_209_600
    # AND the queue sends a message received 5 times to the dead-letter queue
    assert json.loads(queue["redrive_policy"]) == {
        "deadLetterTargetArn": synthesized.ref("aws_sqs_queue", "worker/queue/dead-letter", "arn"),
        "maxReceiveCount": 5,
    }
    # AND an existing queue (mailer's) is not created here
    assert _by_path(synthesized, "aws_sqs_queue", "mailer") == {}


@pytest.mark.parametrize(
    ("service", "resource"),
    [("worker", "created"), ("mailer", MAIL_QUEUE)],
)
def test_the_task_role_may_consume_its_queue_only(
    out: dict[str, Synthesized], service: str, resource: str
) -> None:
    synthesized = out["local"]
    if resource == "created":
        resource = synthesized.ref("aws_sqs_queue", "worker/queue/queue", "arn")
    policy = synthesized.one("aws_iam_role_policy", f"{service}/queue/consume-policy")
    # THEN the policy is the task role's (the app's), not the execution role's
    assert policy["role"] == synthesized.ref("aws_iam_role", f"{service}/fargate/task-role", "id")
    # AND it allows receiving, deleting and changing visibility on that one queue, nothing else
    document = json.loads(policy["policy"])
    assert document["Statement"] == [
        {"Sid": "ConsumeQueue", "Effect": "Allow", "Action": CONSUME, "Resource": resource}
    ]
    # AND no other policy of the service names SQS
    others = [
        p for k, p in _by_path(synthesized, "aws_iam_role_policy", service).items() if "consume" not in k
    ]
    assert others and all("sqs:" not in p["policy"] for p in others)


def test_the_app_knows_where_to_read(out: dict[str, Synthesized]) -> None:
    synthesized = out["local"]
    # THEN the created queue's URL reaches the worker as QUEUE_URL (a reference to the queue)
    worker = _definitions(synthesized, "worker")["worker"]
    url = synthesized.ref("aws_sqs_queue", "worker/queue/queue", "url")
    assert _environment(worker) == {"QUEUE_URL": url}
    # AND the existing queue's URL, derived from its ARN, reaches the mailer under its own name
    mailer = _definitions(synthesized, "mailer")["mailer"]
    assert _environment(mailer) == {
        "MAIL_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/outgoing-mail"
    }


@pytest.mark.parametrize(("env", "maximum"), [("local", 10), ("prod", 40)])
def test_the_worker_scales_on_its_backlog_per_task(
    out: dict[str, Synthesized], env: str, maximum: int
) -> None:
    synthesized = out[env]
    target = synthesized.one("aws_appautoscaling_target", "worker/fargate/queue-scaling/target")
    # THEN it may scale between zero tasks and the environment's maximum
    assert (target["min_capacity"], target["max_capacity"]) == (0, maximum)
    assert target["resource_id"] == f"service/jobs-{env}/worker"
    # AND target tracking keeps 20 visible messages per running task
    policy = synthesized.one("aws_appautoscaling_policy", "worker/fargate/queue-scaling/backlog")
    assert (policy["name"], policy["policy_type"]) == (f"jobs-{env}-worker-queue", "TargetTrackingScaling")
    tracking = policy["target_tracking_scaling_policy_configuration"]
    assert (tracking["target_value"], tracking["scale_in_cooldown"], tracking["scale_out_cooldown"]) == (
        20,
        300,
        60,
    )
    metrics = {m["id"]: m for m in tracking["customized_metric_specification"]["metrics"]}
    visible, running, backlog = metrics["visible"], metrics["running"], metrics["backlog"]
    assert visible["metric_stat"] == {
        "metric": {
            "namespace": "AWS/SQS",
            "metric_name": "ApproximateNumberOfMessagesVisible",
            "dimensions": [{"name": "QueueName", "value": f"jobs-{env}-worker"}],
        },
        "stat": "Sum",
    }
    assert running["metric_stat"]["metric"] == {
        "namespace": "ECS/ContainerInsights",
        "metric_name": "RunningTaskCount",
        "dimensions": [
            {"name": "ClusterName", "value": f"jobs-{env}"},
            {"name": "ServiceName", "value": "worker"},
        ],
    }
    # only the expression is the policy's metric: per task, and the backlog itself at zero tasks
    assert [m["id"] for m in metrics.values() if m["return_data"]] == ["backlog"]
    assert backlog["expression"] == "IF(running > 0, visible / running, visible)"
    # AND the service leaves its count to the scaler, and has no load balancer
    service = synthesized.one("aws_ecs_service", "worker/fargate/service")
    assert "desired_count" in service["lifecycle"]["ignore_changes"]
    assert "load_balancer" not in service


def test_an_alarm_starts_the_first_task_from_zero(out: dict[str, Synthesized]) -> None:
    synthesized = out["local"]
    start = synthesized.one("aws_appautoscaling_policy", "worker/fargate/queue-scaling/start")
    # THEN a step policy adds one task
    assert start["policy_type"] == "StepScaling"
    step = start["step_scaling_policy_configuration"]
    assert step["adjustment_type"] == "ChangeInCapacity"
    assert step["step_adjustment"] == [{"metric_interval_lower_bound": "0", "scaling_adjustment": 1}]
    # AND its alarm fires when messages wait while the service wants no task
    alarm = synthesized.one("aws_cloudwatch_metric_alarm", "worker/fargate/queue-scaling/waiting")
    assert alarm["alarm_actions"] == [
        synthesized.ref("aws_appautoscaling_policy", "worker/fargate/queue-scaling/start", "arn")
    ]
    assert (alarm["comparison_operator"], alarm["threshold"]) == ("GreaterThanOrEqualToThreshold", 1)
    assert alarm["treat_missing_data"] == "notBreaching"
    queries = {q["id"]: q for q in alarm["metric_query"]}
    assert queries["waiting"]["expression"] == "IF(FILL(desired, 0) < 1, visible, 0)"
    assert queries["desired"]["metric"]["metric_name"] == "DesiredTaskCount"
    assert queries["visible"]["metric"]["dimensions"] == {"QueueName": "jobs-local-worker"}
    # AND a worker that never goes below one task (mailer: min_count = 1) has neither
    assert _by_path(synthesized, "aws_cloudwatch_metric_alarm", "mailer") == {}
    mailer_policies = _by_path(synthesized, "aws_appautoscaling_policy", "mailer")
    assert [p["policy_type"] for p in mailer_policies.values()] == ["TargetTrackingScaling"]


def test_the_emulator_answers_sqs(out: dict[str, Synthesized]) -> None:
    # THEN the local environment's provider sends SQS to the emulator too
    (provider,) = out["local"].json["provider"]["aws"]
    (endpoints,) = provider["endpoints"]
    assert endpoints["sqs"] == "http://127.0.0.1:5000"


# --- mistakes: one line each ------------------------------------------------------------------


def base() -> dict[str, Any]:
    return tomllib.loads(FIXTURE_CONFIG.read_text())


def _worker_queue(**queue: Any) -> Callable[[dict[str, Any]], None]:
    """The fixture's worker (desired_count 2) as a queue worker with ``queue``."""

    def apply(raw: dict[str, Any]) -> None:
        raw["services"]["worker"]["queue"] = queue

    return apply


def _in_dev(**queue: Any) -> Callable[[dict[str, Any]], None]:
    def apply(raw: dict[str, Any]) -> None:
        raw["services"]["worker"]["queue"] = {"create": True, "max_count": 4}
        raw["environments"]["dev"].setdefault("services", {})["worker"] = {"queue": queue}

    return apply


def _also(mutate: Callable[[dict[str, Any]], None], **fields: Any) -> Callable[[dict[str, Any]], None]:
    """``mutate``, then the worker's ``fields`` set."""

    def apply(raw: dict[str, Any]) -> None:
        mutate(raw)
        raw["services"]["worker"].update(fields)

    return apply


US_QUEUE = "arn:aws:sqs:us-east-1:222222222222:orders"
EU_QUEUE = "arn:aws:sqs:eu-west-1:222222222222:orders"
US_KEY = "arn:aws:kms:us-east-1:222222222222:key/0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9"

CASES: dict[str, tuple[Callable[[dict[str, Any]], None], str, str]] = {
    "created and existing": (
        _worker_queue(create=True, arn=US_QUEUE, max_count=4),
        "conf.toml: services.worker.queue = ",
        "set create = true or arn, not both",
    ),
    "neither created nor existing": (
        _worker_queue(max_count=4),
        "conf.toml: services.worker.queue = ",
        "needs create = true (a queue made here) or arn",
    ),
    "no maximum": (
        _worker_queue(create=True),
        "conf.toml: services.worker.queue.max_count: ",
        "required",
    ),
    "bounds reversed": (
        _worker_queue(create=True, min_count=5, max_count=4),
        "conf.toml: services.worker.queue = ",
        "queue.min_count (5) must not exceed queue.max_count (4)",
    ),
    "no message per task": (
        _worker_queue(create=True, max_count=4, messages_per_task=0),
        "conf.toml: services.worker.queue.messages_per_task = 0: ",
        "greater than or equal to 1",
    ),
    "a fraction of a message": (
        _worker_queue(create=True, max_count=4, messages_per_task=2.5),
        "conf.toml: services.worker.queue.messages_per_task = 2.5: ",
        "integer",
    ),
    "a created queue's setting on an existing queue": (
        _worker_queue(arn=US_QUEUE, max_count=4, visibility_timeout_seconds=60),
        "conf.toml: services.worker.queue = ",
        "queue.visibility_timeout_seconds only applies with create = true",
    ),
    "a dead-letter queue for an existing queue": (
        _worker_queue(arn=US_QUEUE, max_count=4, dead_letter={}),
        "conf.toml: services.worker.queue = ",
        "queue.dead_letter only applies with create = true",
    ),
    "not a queue ARN": (
        _worker_queue(arn="arn:aws:sns:us-east-1:222222222222:orders", max_count=4),
        "conf.toml: services.worker.queue.arn = ",
        "an SQS queue must be a queue ARN",
    ),
    "a queue in another region": (
        _in_dev(arn=US_QUEUE, max_count=4),
        "conf.toml: environments.dev.services.worker.queue.arn = ",
        "the scaling policy reads the queue's CloudWatch metrics",
    ),
    "a key in another region": (
        _in_dev(arn=EU_QUEUE, max_count=4, kms_key_arn=US_KEY),
        "conf.toml: environments.dev.services.worker.queue.kms_key_arn = ",
        "must be in the environment's region (eu-west-1)",
    ),
    "a queue and autoscaling": (
        _also(
            _worker_queue(create=True, max_count=4),
            autoscaling={"min_capacity": 1, "max_capacity": 4, "cpu_target_percent": 50},
        ),
        "conf.toml: services.worker.queue: ",
        "keep one",
    ),
    "a desired count outside the queue's bounds": (
        _worker_queue(create=True, max_count=1),
        "conf.toml: services.worker.desired_count = 2: ",
        "must lie within queue.min_count (0) and max_count (1)",
    ),
    "the URL's variable set in environment": (
        _also(_worker_queue(create=True, max_count=4), environment={"QUEUE_URL": "x"}),
        "conf.toml: services.worker.environment.QUEUE_URL: ",
        "is the queue's URL",
    ),
    "no receive on the dead-letter queue": (
        _worker_queue(create=True, max_count=4, dead_letter={"max_receive_count": 0}),
        "conf.toml: services.worker.queue.dead_letter.max_receive_count = 0: ",
        "greater than or equal to 1",
    ),
    "a created FIFO queue": (
        _worker_queue(create=True, max_count=4, name="orders.fifo"),
        "conf.toml: services.worker.queue = ",
        "must not end in '.fifo'",
    ),
    "a queue name with a dot": (
        _worker_queue(create=True, max_count=4, name="orders.v2"),
        "conf.toml: services.worker.queue.name = 'orders.v2': ",
        "an SQS queue name must be 1-80",
    ),
    "a visibility timeout over 12 hours": (
        _worker_queue(create=True, max_count=4, visibility_timeout_seconds=43_201),
        "conf.toml: services.worker.queue.visibility_timeout_seconds = 43201: ",
        "less than or equal to 43200",
    ),
    "a variable name with a hyphen": (
        _worker_queue(create=True, max_count=4, environment_variable="QUEUE-URL"),
        "conf.toml: services.worker.queue.environment_variable = 'QUEUE-URL': ",
        "environment variable",
    ),
    "an unknown field": (
        _worker_queue(create=True, max_count=4, depth=3),
        "conf.toml: services.worker.queue.depth = 3: ",
        "not a known field",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_queue_mistakes_are_one_clear_line(case: str) -> None:
    # GIVEN the fixture configuration with the worker's queue wrong in one way
    mutate, start, allowed = CASES[case]
    raw = copy.deepcopy(base())
    mutate(raw)
    # WHEN it is loaded
    with pytest.raises(ConfigError) as caught:
        settings_from_dict(raw, file=FILE)
    # THEN exactly one line starts with the file and field, and says what is allowed
    problems = caught.value.problems
    matching = [p for p in problems if p.startswith(start)]
    assert len(matching) == 1, problems
    assert allowed in matching[0], matching[0]
    assert len(problems) == 1, problems
    assert all("\n" not in p for p in problems)


def test_a_queue_is_overridden_per_environment_and_named_by_the_loader() -> None:
    # GIVEN the example, whose prod replaces the worker's queue table
    settings = load_settings(EXAMPLE)
    local, prod = (settings.environments[e].service("worker").queue for e in ("local", "prod"))
    assert local is not None and prod is not None
    # THEN each environment has its maximum and a name of its own; the existing queue keeps its ARN
    assert (local.max_count, prod.max_count) == (10, 40)
    assert (local.name, prod.name) == ("jobs-local-worker", "jobs-prod-worker")
    mailer = settings.environments["local"].service("mailer").queue
    assert mailer is not None and (mailer.name, mailer.queue_name) == (None, "outgoing-mail")


# --- the props, in Python ---------------------------------------------------------------------


def _options(**fields: Any) -> ServiceOptions:
    defaults: dict[str, Any] = {
        "cluster_arn": "arn:aws:ecs:us-east-1:123456789012:cluster/c",
        "cluster_name": "c",
        "service_name": "worker",
        "vpc_id": "vpc-0a1b2c3d4e5f60718",
    }
    return ServiceOptions(**(defaults | fields))


QUEUE = ServiceQueue(arn=MAIL_QUEUE, max_count=3)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (
            lambda: _options(
                queue=QUEUE, autoscaling=Autoscaling(min_capacity=1, max_capacity=2, cpu_target_percent=50)
            ),
            "queue: scales the service on its messages, and autoscaling on CPU and memory: keep one",
        ),
        (
            lambda: _options(queue=QUEUE, desired_count=4),
            re.escape("must lie within queue.min_count (0) and max_count (3)"),
        ),
        (lambda: _options(queue=ServiceQueue(create=True, max_count=3)), "queue.create needs queue.name"),
        (lambda: _options(queue=QUEUE, cluster_name=None), "queue needs cluster_name"),
        (
            lambda: ServiceQueue(create=True, max_count=3, name="x" * 77, dead_letter=DeadLetter()),
            "an SQS queue name must be 1-80",
        ),
    ],
)
def test_contradictory_queue_props_are_rejected(build: Callable[[], object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build()


def test_the_rules_are_one_function_each() -> None:
    # GIVEN a queue whose variable the app also sets, on a service that also scales on CPU
    problems = queue_problems(QUEUE, autoscaling=True, variables=["QUEUE_URL"], secrets=[])
    # THEN each rule is one problem at its field, naming what it compared
    assert [(p.field, p.read) for p in problems] == [
        ("queue", ("queue", "autoscaling")),
        ("environment.QUEUE_URL", ("environment.QUEUE_URL", "queue")),
    ]
    assert scaling_problems(5, None, QUEUE) == [
        Problem("desired_count", 5, "must lie within queue.min_count (0) and max_count (3)")
    ]
    assert scaling_problems(2, None, QUEUE) == []


@pytest.mark.parametrize(
    ("arn", "url"),
    [
        (MAIL_QUEUE, "https://sqs.us-east-1.amazonaws.com/123456789012/outgoing-mail"),
        (
            "arn:aws-cn:sqs:cn-north-1:123456789012:q.fifo",
            "https://sqs.cn-north-1.amazonaws.com.cn/123456789012/q.fifo",
        ),
        (
            "arn:aws-us-gov:sqs:us-gov-west-1:123456789012:q",
            "https://sqs.us-gov-west-1.amazonaws.com/123456789012/q",
        ),
    ],
)
def test_a_queue_url_follows_from_its_arn(arn: str, url: str) -> None:
    assert sqs_queue_url(validate_sqs_queue_arn(arn)) == url


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:sqs:us-east-1:123456789012:",
        "arn:aws:sqs:us-east-1:123456789012:a.b",
        "arn:aws:sqs:us-east-1:12345678901:q",
        "arn:aws:sqs:us-east-1:123456789012:" + "q" * 81,
        "arn:aws:sqs:us-east-1:123456789012:q\n",
    ],
)
def test_malformed_queue_arns_are_refused(arn: str) -> None:
    with pytest.raises(ValueError, match="an SQS queue must be a queue ARN"):
        validate_sqs_queue_arn(arn)


# --- what status and overview print ------------------------------------------------------------


def test_status_and_overview_lines_show_depth_and_range() -> None:
    from ecs_cd.release.overview import Cell
    from ecs_cd.release.queue_depth import depth_line, depth_short
    from ecs_cd.release.service_status import status_lines

    depth = {"queue": "jobs-prod-worker", "visible": 12, "in_flight": 3, "min_count": 0, "max_count": 40}
    depth["messages_per_task"] = 20
    # THEN status prints one line per queue worker: what waits, what is worked on, the range
    assert depth_line(depth) == (
        "  queue jobs-prod-worker: 12 waiting, 3 in flight; scales 0-40 tasks at 20 messages per task"
    )
    status = {
        "service": "worker",
        "parameter": "/worker/prod/docker-image-tag",
        "tag": "1.1.0",
        "tag_version": 2,
        "deployed": True,
        "task_definition": "arn:td:3",
        "images": ["repo:1.1.0"],
        "running": 2,
        "desired": 2,
        "deployments": [],
        "queue": depth,
    }
    assert (depth_line(depth), None) in status_lines(status)
    # AND a queue SQS would not describe says so, without guessing a depth
    unknown = {**depth, "visible": None, "in_flight": None, "reason": "AWS sqs GetQueueUrl failed: x"}
    assert "depth unknown (AWS sqs GetQueueUrl failed: x)" in depth_line(unknown)
    # AND overview's cell ends with the waiting messages and the range
    cell = Cell("prod", "worker", tag="1.1.0", deployed=True, image="repo:1.1.0", rollout_state="COMPLETED")
    cell.running = cell.desired = 2
    cell.queue = depth
    assert cell.short() == "1.1.0 COMPLETED 2/2 q=12 [0-40]"
    assert depth_short(unknown) == "q=? [0-40]"
