"""Scheduled jobs: a service table with ``schedule`` is a task definition run by an EventBridge
Scheduler schedule, with no ECS service (issue: scheduled jobs). The configuration's rules, one
line per mistake; what the stack synthesizes for a job; ecs-release's view of a schedule (the
parts that need no AWS: RunTask's request from a schedule, status and overview lines)."""

from __future__ import annotations

import json
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ecs_cd.release import jobs
from ecs_cd.release.overview import Cell
from stacks.settings import ConfigError, settings_from_dict
from tests.conftest import synth_all

FILE = "conf.toml"
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "scheduled-job" / "ecs-cd.toml"
BASE = """
[project]
name = "nj"

[services.api]
repository = "123456789012.dkr.ecr.us-east-1.amazonaws.com/nj-api"
container_port = 8080
load_balancer = { path_patterns = ["/api/*"], priority = 10 }

[services.report]
repository = "123456789012.dkr.ecr.us-east-1.amazonaws.com/nj-report"
schedule = { expression = "cron(0 3 * * ? *)", timezone = "Europe/Paris" }

[environments.dev]
region = "us-east-1"
network.vpc_id = "vpc-0a1b2c3d4e5f60718"
network.subnet_ids = ["subnet-0a1b2c3d4e5f60718"]
network.security_group_ids = ["sg-0a1b2c3d4e5f60718"]
state = { backend = "s3", bucket = "nj-tf-state", key = "nj/dev.tfstate", region = "us-east-1" }
load_balancer.listener_arn = "LISTENER"
load_balancer.security_group_id = "sg-0aaa2c3d4e5f60718"
"""


LISTENER = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/nj/" + "0123456789abcdef/" * 2


def _raw(report: dict[str, Any] | None = None, dev: dict[str, Any] | None = None) -> dict[str, Any]:
    raw = tomllib.loads(BASE.replace("LISTENER", LISTENER.rstrip("/")))
    raw["services"]["report"].update(report or {})
    if dev is not None:
        raw["environments"]["dev"]["services"] = {"report": dev}
    return raw


def _problems(report: dict[str, Any] | None = None, dev: dict[str, Any] | None = None) -> tuple[str, ...]:
    with pytest.raises(ConfigError) as caught:
        settings_from_dict(_raw(report, dev), file=FILE)
    return caught.value.problems


def test_a_nightly_job_is_a_few_lines_with_the_schedules_defaults() -> None:
    # GIVEN the base configuration: report has a schedule and nothing else a service would need
    report = settings_from_dict(_raw(), file=FILE).environments["dev"].service("report")
    # THEN it is a job, with Scheduler's defaults, its derived names, and no service's settings used
    assert report.is_job
    assert report.schedule is not None
    assert (report.schedule.expression, report.schedule.timezone, report.schedule.enabled) == (
        "cron(0 3 * * ? *)",
        "Europe/Paris",
        True,
    )
    assert (report.schedule.flexible_window_minutes, report.schedule.retries) == (None, None)
    assert (report.names.schedule, report.names.scheduler_role) == ("nj-dev-report", "nj-dev-report-sched")
    assert report.names.task_family == "nj-dev-report"


def test_an_environment_overrides_the_schedule_key_by_key() -> None:
    # GIVEN dev overriding only the window and the state
    report = (
        settings_from_dict(
            _raw(dev={"schedule": {"flexible_window_minutes": 30, "enabled": False}}), file=FILE
        )
        .environments["dev"]
        .service("report")
    )
    # THEN the expression and the time zone are the base table's
    assert report.schedule is not None
    assert report.schedule.model_dump() == {
        "expression": "cron(0 3 * * ? *)",
        "timezone": "Europe/Paris",
        "enabled": False,
        "flexible_window_minutes": 30,
        "retries": None,
    }


@pytest.mark.parametrize(
    ("schedule", "line"),
    [
        (
            {"expression": "cron(0 3 * * *)"},
            "conf.toml: services.report.schedule.expression = 'cron(0 3 * * *)': a cron expression has 6",
        ),
        (
            {"expression": "rate(1 hours)"},
            "conf.toml: services.report.schedule.expression = 'rate(1 hours)': a rate counts 1 or more units",
        ),
        (
            {"expression": "daily"},
            "conf.toml: services.report.schedule.expression = 'daily': a schedule expression is cron(...)",
        ),
        (
            {"expression": "cron(0 3 * * ? *)", "timezone": "Europe/Pariss"},
            "conf.toml: services.report.schedule.timezone = 'Europe/Pariss': is not an IANA time zone name",
        ),
        (
            {"expression": "cron(0 3 * * ? *)", "flexible_window_minutes": 0},
            "conf.toml: services.report.schedule.flexible_window_minutes = 0: input should be greater than",
        ),
        (
            {"expression": "cron(0 3 * * ? *)", "flexible_window_minutes": 1441},
            "conf.toml: services.report.schedule.flexible_window_minutes = 1441: input should be less than",
        ),
        (
            {"expression": "cron(0 3 * * ? *)", "retries": 186},
            "conf.toml: services.report.schedule.retries = 186: input should be less than or equal to 185",
        ),
        (
            {"expression": "cron(0 3 * * ? *)", "enabled": "yes"},
            "conf.toml: services.report.schedule.enabled = 'yes': input should be a valid boolean",
        ),
        (
            {"expression": "cron(0 3 * * ? *)", "when": "nightly"},
            "conf.toml: services.report.schedule.when = 'nightly': is not a known field",
        ),
        ({"timezone": "UTC"}, "conf.toml: services.report.schedule.expression: is required but missing"),
    ],
)
def test_each_mistake_in_a_schedule_is_one_line(schedule: dict[str, Any], line: str) -> None:
    problems = _problems({"schedule": schedule})
    assert len(problems) == 1, problems
    assert problems[0].startswith(line), problems


def test_a_mistake_in_an_override_is_blamed_on_the_override() -> None:
    problems = _problems(dev={"schedule": {"timezone": "Mars/Olympus"}})
    assert problems == (
        "conf.toml: environments.dev.services.report.schedule.timezone = 'Mars/Olympus': is not an IANA time "
        "zone name: use one such as 'Europe/Paris', 'America/New_York' or 'UTC'",
    )


@pytest.mark.parametrize(
    ("fields", "field", "said"),
    [
        (
            {"container_port": 8080, "load_balancer": {"path_patterns": ["/r"], "priority": 20}},
            "load_balancer",
            "a scheduled job has no ECS service and no load balancer",
        ),
        (
            {"autoscaling": {"min_capacity": 1, "max_capacity": 2, "cpu_target_percent": 50}},
            "autoscaling",
            "no service to scale",
        ),
        ({"desired_count": 2}, "desired_count", "no service to keep a count"),
        ({"deployment": {"minimum_healthy_percent": 50}}, "deployment", "a scheduled job has no rollout"),
        ({"pre_deploy": {"command": ["./migrate"]}}, "pre_deploy", "no rollout to gate"),
        ({"queue": {"create": True, "max_count": 2}}, "queue", "no service to scale on a queue"),
        ({"container_port": 8080, "service_connect": {}}, "service_connect", "a scheduled job has none"),
    ],
)
def test_each_service_field_a_job_cannot_have_is_one_line(
    fields: dict[str, Any], field: str, said: str
) -> None:
    problems = _problems(fields)
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"conf.toml: services.report.{field}: "), problems
    assert said in problems[0] and f"remove {field}" in problems[0]


def test_a_service_field_written_in_an_override_is_blamed_there() -> None:
    problems = _problems(dev={"desired_count": 3})
    assert problems == (
        "conf.toml: environments.dev.services.report.desired_count: a scheduled job runs one task per run, "
        "with no service to keep a count: remove desired_count",
    )


def test_every_conflict_of_one_job_is_reported_in_one_run() -> None:
    problems = _problems(
        {"desired_count": 2, "deployment": {"maximum_percent": 150}, "pre_deploy": {"command": ["x"]}}
    )
    assert [p.split(":")[1].strip() for p in problems] == [
        "services.report.desired_count",
        "services.report.deployment",
        "services.report.pre_deploy",
    ]


@pytest.fixture(scope="module")
def dev() -> Any:
    return synth_all(settings_from_dict(_raw(), file=FILE))["dev"]


def test_a_job_is_a_task_definition_and_a_schedule_not_a_service(dev: Any) -> None:
    # GIVEN the synthesized dev stack (a service api, a job report; report uses the timestamp strategy)
    # THEN the job's family is there, with no ECS service, target group, scaling or redeploy of its own
    families = sorted(t["family"] for t in dev.resources("aws_ecs_task_definition").values())
    assert families == ["nj-dev-api", "nj-dev-report"]
    assert [s["name"] for s in dev.resources("aws_ecs_service").values()] == ["api"]
    assert len(dev.resources("aws_lb_target_group")) == 1
    redeploys = dev.resources("null_resource")
    assert len(redeploys) == 1 and all("report" not in k for k in redeploys)
    # AND the schedule runs the revision this apply registers, on the cluster, in the job's network
    schedule = dev.one("aws_scheduler_schedule", "report/scheduled/schedule")
    assert schedule["name"] == "nj-dev-report"
    assert schedule["schedule_expression"] == "cron(0 3 * * ? *)"
    assert schedule["schedule_expression_timezone"] == "Europe/Paris"
    assert schedule["state"] == "ENABLED"
    assert schedule["flexible_time_window"] == {"mode": "OFF"}
    target = schedule["target"]
    assert target["arn"] == dev.ref("aws_ecs_cluster", "cluster", "arn")
    assert target["role_arn"] == dev.ref("aws_iam_role", "report/scheduled/scheduler-role", "arn")
    assert "retry_policy" not in target
    ecs = target["ecs_parameters"]
    assert ecs["task_definition_arn"] == dev.ref("aws_ecs_task_definition", "report/task/task", "arn")
    assert (ecs["launch_type"], ecs["task_count"], ecs["group"]) == ("FARGATE", 1, "job:nj-dev-report")
    assert ecs["network_configuration"] == {
        "subnets": ["subnet-0a1b2c3d4e5f60718"],
        "security_groups": [
            dev.ref("aws_security_group", "report/security-group", "id"),
            "sg-0a1b2c3d4e5f60718",
        ],
        "assign_public_ip": False,
    }
    # AND its tasks' group admits nothing
    rules = dev.resources("aws_vpc_security_group_ingress_rule")
    assert all("report" not in key for key in rules)


def test_the_schedules_role_may_only_run_the_family_and_pass_its_two_roles(dev: Any) -> None:
    role = dev.one("aws_iam_role", "report/scheduled/scheduler-role")
    assert role["name"] == "nj-dev-report-sched"
    (trust,) = json.loads(role["assume_role_policy"])["Statement"]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    account = "${data.aws_caller_identity.account.account_id}"
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": account}}
    policy = json.loads(dev.one("aws_iam_role_policy", "report/scheduled/scheduler-policy")["policy"])
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert set(by_sid) == {"RunTheJobsTask", "PassItsRoles", "TagTheTaskItStarts"}
    run = by_sid["RunTheJobsTask"]
    assert run["Action"] == ["ecs:RunTask"]
    assert run["Resource"] == f"arn:aws:ecs:us-east-1:{account}:task-definition/nj-dev-report:*"
    assert run["Condition"] == {"ArnEquals": {"ecs:cluster": dev.ref("aws_ecs_cluster", "cluster", "arn")}}
    passing = by_sid["PassItsRoles"]
    assert passing["Resource"] == [
        dev.ref("aws_iam_role", "report/task/execution-role", "arn"),
        dev.ref("aws_iam_role", "report/task/task-role", "arn"),
    ]
    assert passing["Condition"] == {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}
    tagging = by_sid["TagTheTaskItStarts"]
    assert tagging["Action"] == ["ecs:TagResource"]
    assert tagging["Condition"] == {"StringEquals": {"ecs:CreateAction": "RunTask"}}
    assert all("*" not in s["Action"] for s in policy["Statement"])


def test_the_window_retries_and_state_reach_the_schedule() -> None:
    # GIVEN the example's prod: a 30-minute window and 3 retries
    prod = synth_all(settings_from_dict(tomllib.loads(EXAMPLE.read_text()), file=FILE))["prod"]
    schedule = prod.one("aws_scheduler_schedule", "report/scheduled/schedule")
    assert schedule["flexible_time_window"] == {"mode": "FLEXIBLE", "maximum_window_in_minutes": 30}
    assert schedule["target"]["retry_policy"] == {"maximum_retry_attempts": 3}
    # AND a disabled schedule is kept, DISABLED
    raw = _raw(dev={"schedule": {"enabled": False}})
    dev = synth_all(settings_from_dict(raw, file=FILE))["dev"]
    assert dev.one("aws_scheduler_schedule", "report/scheduled/schedule")["state"] == "DISABLED"


def test_a_job_of_a_split_environment_has_its_own_stack() -> None:
    raw = _raw()
    raw["environments"]["dev"]["stack_per_service"] = True
    stacks = synth_all(settings_from_dict(raw, file=FILE))
    assert sorted(stacks) == ["dev", "dev-api", "dev-report"]
    report = stacks["dev-report"]
    assert list(report.resources("aws_scheduler_schedule"))
    assert not report.resources("aws_ecs_service")


# --- ecs-release's view of a schedule ------------------------------------------------------------

SCHEDULE: dict[str, Any] = {
    "Name": "nj-dev-report",
    "ScheduleExpression": "cron(0 3 * * ? *)",
    "ScheduleExpressionTimezone": "Europe/Paris",
    "State": "ENABLED",
    "CreationDate": datetime(2026, 12, 1, tzinfo=UTC),
    "Target": {
        "Arn": "arn:aws:ecs:us-east-1:123456789012:cluster/nj-dev",
        "RoleArn": "arn:aws:iam::123456789012:role/nj-dev-report-sched",
        "EcsParameters": {
            "TaskDefinitionArn": "arn:aws:ecs:us-east-1:123456789012:task-definition/nj-dev-report:7",
            "TaskCount": 1,
            "LaunchType": "FARGATE",
            "Group": "job:nj-dev-report",
            "PropagateTags": "TASK_DEFINITION",
            "EnableECSManagedTags": True,
            "NetworkConfiguration": {
                "awsvpcConfiguration": {
                    "Subnets": ["subnet-1"],
                    "SecurityGroups": ["sg-1"],
                    "AssignPublicIp": "DISABLED",
                }
            },
        },
    },
}


def test_run_asks_ecs_for_what_the_schedule_runs() -> None:
    # WHEN the job is run now with its own command
    request = jobs.run_request(SCHEDULE, "report", None)
    # THEN RunTask gets the schedule's revision, cluster, group and network, in ECS's names
    assert request == {
        "cluster": "arn:aws:ecs:us-east-1:123456789012:cluster/nj-dev",
        "taskDefinition": "arn:aws:ecs:us-east-1:123456789012:task-definition/nj-dev-report:7",
        "count": 1,
        "startedBy": "ecs-release run",
        "group": "job:nj-dev-report",
        "propagateTags": "TASK_DEFINITION",
        "enableECSManagedTags": True,
        "launchType": "FARGATE",
        "networkConfiguration": {
            "awsvpcConfiguration": {
                "subnets": ["subnet-1"],
                "securityGroups": ["sg-1"],
                "assignPublicIp": "DISABLED",
            }
        },
    }
    # AND with a command, it overrides the app container's
    with_command = jobs.run_request(SCHEDULE, "report", ["python", "-m", "report", "--dry-run"])
    assert with_command["overrides"] == {
        "containerOverrides": [{"name": "report", "command": ["python", "-m", "report", "--dry-run"]}]
    }


def test_a_capacity_provider_strategy_and_placement_reach_runtask() -> None:
    ecs = {
        **SCHEDULE["Target"]["EcsParameters"],
        "LaunchType": None,
        "NetworkConfiguration": {},
        "CapacityProviderStrategy": [{"capacityProvider": "nj-dev-ec2", "weight": 1, "base": 0}],
        "PlacementStrategy": [{"type": "spread", "field": "attribute:ecs.availability-zone"}],
        "PlacementConstraints": [{"type": "distinctInstance"}],
    }
    request = jobs.run_request(
        {**SCHEDULE, "Target": {**SCHEDULE["Target"], "EcsParameters": ecs}}, "report", None
    )
    assert request["capacityProviderStrategy"] == [{"capacityProvider": "nj-dev-ec2", "weight": 1, "base": 0}]
    assert "launchType" not in request and "networkConfiguration" not in request
    assert request["placementStrategy"] == [{"type": "spread", "field": "attribute:ecs.availability-zone"}]
    assert request["placementConstraints"] == [{"type": "distinctInstance"}]


def test_the_next_run_of_a_schedule() -> None:
    now = datetime(2026, 12, 6, 18, 0, tzinfo=UTC)
    assert jobs.next_run_of(SCHEDULE, now) == datetime(2026, 12, 7, 2, 0, tzinfo=UTC)
    assert jobs.next_run_of({**SCHEDULE, "State": "DISABLED"}, now) is None
    rate = {**SCHEDULE, "ScheduleExpression": "rate(6 hours)", "ScheduleExpressionTimezone": "UTC"}
    assert jobs.next_run_of(rate, now) == datetime(2026, 12, 7, 0, 0, tzinfo=UTC)


def _status(last_run: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "service": "report",
        "kind": "job",
        "parameter": "/report/dev/docker-image-tag",
        "tag": "1.1.0",
        "tag_version": 2,
        "deployed": True,
        "task_definition": SCHEDULE["Target"]["EcsParameters"]["TaskDefinitionArn"],
        "images": ["123456789012.dkr.ecr.us-east-1.amazonaws.com/nj-report:1.1.0"],
        "schedule": {
            "name": "nj-dev-report",
            "expression": "cron(0 3 * * ? *)",
            "timezone": "Europe/Paris",
            "state": "ENABLED",
            "next_run": "2026-12-07T02:00:00+00:00",
        },
        "last_run": last_run,
    }


def test_status_lines_of_a_job() -> None:
    run = {
        "started_by": "chronos-schedule",
        "last_status": "STOPPED",
        "created_at": "2026-12-06T02:00:12+00:00",
        "stopped_at": "2026-12-06T02:03:40+00:00",
        "exit_code": 3,
        "stopped_reason": "Essential container in task exited",
    }
    lines = [line for line, _ in jobs.status_lines(_status(run))]
    assert lines == [
        "report (scheduled job): SSM tag 1.1.0 (version 2)",
        "  schedule nj-dev-report: cron(0 3 * * ? *) in Europe/Paris, ENABLED",
        "  task definition arn:aws:ecs:us-east-1:123456789012:task-definition/nj-dev-report:7",
        "  image 123456789012.dkr.ecr.us-east-1.amazonaws.com/nj-report:1.1.0",
        "  next run 2026-12-07T02:00:00+00:00",
        "  last run exit 3 (started 2026-12-06T02:00:12+00:00 by the schedule, "
        "stopped 2026-12-06T02:03:40+00:00)",
    ]
    assert jobs.status_lines(_status(None))[-1][0] == (
        "  last run none that ECS still lists (it keeps stopped tasks for about an hour)"
    )


def test_an_overview_cell_of_a_job() -> None:
    cell = Cell("dev", "report", tag="1.2.0", deployed=True, image="r.example/nj-report:1.1.0")
    cell.schedule = {
        "expression": "cron(0 3 * * ? *)",
        "timezone": "Europe/Paris",
        "state": "ENABLED",
        "next_run": "2026-12-07T02:00:00+00:00",
        "last_run": {"last_status": "STOPPED", "exit_code": 0},
    }
    cell.drift.append("SSM says 1.2.0, the schedule runs 1.1.0 (not deployed yet)")
    assert cell.short() == (
        "1.1.0 job next 2026-12-07 02:00Z last exit 0  "
        "! SSM says 1.2.0, the schedule runs 1.1.0 (not deployed yet)"
    )
    assert cell.as_dict()["kind"] == "job"
    cell.schedule = {**cell.schedule, "state": "DISABLED", "next_run": None, "last_run": None}
    cell.drift.clear()
    assert cell.short() == "1.1.0 job next - (DISABLED) last -"


def test_diff_says_a_jobs_new_revision_moves_its_schedule_and_restarts_nothing() -> None:
    from ecs_cd.release.diff import summarize

    definitions = [{"name": "report", "image": f"r.example/nj-report:{tag}"} for tag in ("1.0.0", "1.1.0")]
    plan = {
        "resource_changes": [
            {
                "address": "aws_ecs_task_definition.report_task_6EFEA9CD",
                "type": "aws_ecs_task_definition",
                "name": "report_task_6EFEA9CD",
                "change": {
                    "actions": ["delete", "create"],
                    "before": {"container_definitions": json.dumps(definitions[:1])},
                    "after": {"container_definitions": json.dumps(definitions[1:])},
                },
            },
            {
                "address": "aws_scheduler_schedule.report_scheduled_schedule_DBEE1047",
                "type": "aws_scheduler_schedule",
                "name": "report_scheduled_schedule_DBEE1047",
                "change": {"actions": ["update"], "before": {"target": [1]}, "after": {"target": [2]}},
            },
        ]
    }
    (report,) = summarize(plan, ["report"], jobs={"report"})[0]
    assert report.lines() == [
        "report:",
        "  image of report: r.example/nj-report:1.0.0 -> r.example/nj-report:1.1.0",
        "  new task definition revision",
        "  restart: none: the schedule moves to the new revision, its next run starts it",
    ]
    assert report.as_dict()["kind"] == "job"


def test_move_layout_imports_a_jobs_schedule_by_group_and_name() -> None:
    from ecs_cd.release.layout_move import import_id

    assert import_id("aws_scheduler_schedule", {"id": "default/nj-dev-report", "name": "nj-dev-report"}) == (
        "default/nj-dev-report"
    )
