"""The scheduled-job example (examples/scheduled-job/) end to end on the emulator: deployed with the
real `ecs-release deploy`, released with a new tag through the same commands as a service
(`set-tag`, then `deploy`, as the docs' walk-through says), shown by `status` and `overview`,
and run now by `ecs-release run`.

moto runs no schedule: after the release the test runs the schedule's target by hand (RunTask
with the schedule's own parameters, as Scheduler would at 03:00) and checks that the task runs
the new revision. One emulator for the module; the fixture releases once and records it all.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from devkit.emulator import Emulator
from devkit.fake_ci import push_image
from devkit.terraform import Terraform
from ecs_cd.core import names
from ecs_cd.core.schedules import next_run
from ecs_cd.release import jobs
from ecs_cd.toolchain.cdktf_cli import PROJECT_DIR, tool_environment
from ecs_cd.toolchain.terraform_offline import TerraformSetup
from tests.release_helpers import ProcessRun, run_release_process

pytestmark = pytest.mark.e2e

EXAMPLE = PROJECT_DIR / "examples" / "scheduled-job" / "ecs-cd.toml"
SCHEDULE = names.schedule_name("nightly", "local", "report")
CLUSTER = names.cluster_name("nightly", "local")


@dataclass(frozen=True)
class Released:
    first: ProcessRun  # deploy of 1.0.0
    schedule_before: dict[str, Any]
    overview_before: ProcessRun  # after set-tag 1.1.0, before the deploy
    deployed: ProcessRun  # deploy of 1.1.0
    schedule_after: dict[str, Any]
    by_schedule: dict[str, Any]  # the schedule's target run by hand, to its end
    status: ProcessRun
    overview: ProcessRun
    run: ProcessRun  # ecs-release run local report
    plan_changes: dict[str, list[str]]


def _release(env: dict[str, str], *args: str) -> ProcessRun:
    ran = run_release_process(env, *args)
    assert ran.returncode == 0, f"ecs-release {' '.join(args)}: " + ran.stdout + ran.stderr[-6000:]
    return ran


def _schedule(emulator: Emulator) -> dict[str, Any]:
    return dict(emulator.client("scheduler").get_schedule(Name=SCHEDULE, GroupName="default"))


@pytest.fixture(scope="module")
def released(
    emulator: Emulator, tf_setup: TerraformSetup, tmp_path_factory: pytest.TempPathFactory
) -> Released:
    outdir = tmp_path_factory.mktemp("scheduled-job")
    env = {"ECS_CD_CONFIG": str(EXAMPLE), "ECS_CD_EMULATOR_ENDPOINT": emulator.endpoint}
    ecr = emulator.client("ecr")
    # GIVEN CI built 1.0.0 of both and wrote the tags; the environment is deployed
    for service in ("web", "report"):
        push_image(ecr, f"nightly-{service}", "1.0.0")
        _release(env, "set-tag", "local", service, "1.0.0", "--verify")
    first = _release(env, "deploy", "local", "--wait", "--poll", "0.2", "--output", str(outdir))
    before = _schedule(emulator)
    # WHEN CI builds 1.1.0 of the job and releases it as a service's: set-tag, then deploy
    push_image(ecr, "nightly-report", "1.1.0")
    _release(env, "set-tag", "local", "report", "1.1.0", "--verify")
    overview_before = _release(env, "overview", "--env", "local")
    deployed = _release(env, "deploy", "local", "--wait", "--poll", "0.2", "--output", str(outdir))
    after = _schedule(emulator)
    # AND Scheduler's time comes: its target is run as Scheduler runs it
    ecs = emulator.client("ecs")
    request = jobs.run_request(after, "report", None, started_by="eventbridge-scheduler")
    task_arn = ecs.run_task(**request)["tasks"][0]["taskArn"]
    for _ in range(10):
        (task,) = ecs.describe_tasks(cluster=CLUSTER, tasks=[task_arn])["tasks"]
        if task["lastStatus"] == "STOPPED":
            break
    status = _release(env, "status", "local", "report")
    overview = _release(env, "overview", "--env", "local")
    # AND someone runs it now
    run = _release(env, "run", "local", "report", "--poll", "0.2")
    terraform = Terraform(
        outdir / "stacks" / "local", tool_environment(tf_setup, emulator_endpoint=emulator.endpoint)
    )
    return Released(
        first,
        before,
        overview_before,
        deployed,
        after,
        dict(task),
        status,
        overview,
        run,
        terraform.planned_changes(),
    )


def test_the_job_is_a_schedule_and_a_task_definition_no_service(
    released: Released, emulator: Emulator
) -> None:
    # THEN the schedule runs revision 1 of the job's family on the cluster, in the job's network
    target = released.schedule_before["Target"]
    ecs_parameters = target["EcsParameters"]
    assert ecs_parameters["TaskDefinitionArn"].endswith(":task-definition/nightly-local-report:1")
    assert target["Arn"].endswith(f":cluster/{CLUSTER}")
    assert target["RoleArn"].endswith(":role/nightly-local-report-sched")
    assert ecs_parameters["Group"] == "job:nightly-local-report"
    assert ecs_parameters["LaunchType"] == "FARGATE"
    assert ecs_parameters["NetworkConfiguration"]["awsvpcConfiguration"]["AssignPublicIp"] == "ENABLED"
    assert released.schedule_before["ScheduleExpression"] == "cron(0 3 * * ? *)"
    assert released.schedule_before["ScheduleExpressionTimezone"] == "Europe/Paris"
    assert released.schedule_before["State"] == "ENABLED"
    # AND the cluster has the web service only: no service and no load balancer for the job
    ecs = emulator.client("ecs")
    assert [arn.rsplit("/", 1)[-1] for arn in ecs.list_services(cluster=CLUSTER)["serviceArns"]] == ["web"]
    (schedule_report,) = released.first.json["schedules"]
    assert schedule_report["moved"] is True and schedule_report["previous"] is None
    assert [r["service"] for r in released.first.json["rollouts"]] == ["web"]
    # AND its role may run only the family, and pass only the task's two roles
    iam = emulator.client("iam")
    policy = iam.get_role_policy(RoleName="nightly-local-report-sched", PolicyName="run-task")[
        "PolicyDocument"
    ]
    resources = {s["Sid"]: s["Resource"] for s in policy["Statement"]}
    assert (
        resources["RunTheJobsTask"]
        == "arn:aws:ecs:us-east-1:123456789012:task-definition/nightly-local-report:*"
    )
    assert sorted(resources["PassItsRoles"]) == [
        "arn:aws:iam::123456789012:role/nightly-local-report-exec",
        "arn:aws:iam::123456789012:role/nightly-local-report-task",
    ]


def test_a_release_moves_the_schedule_to_the_new_revision(released: Released, emulator: Emulator) -> None:
    # THEN before the deploy, overview says the tag is not deployed yet
    (before,) = [c for c in released.overview_before.json["services"] if c["service"] == "report"]
    assert before["drift"] == ["SSM says 1.1.0, the schedule runs 1.0.0 (not deployed yet)"]
    # AND the deploy moved the schedule to revision 2, which runs 1.1.0, and rolled nothing
    (moved,) = released.deployed.json["schedules"]
    assert moved["moved"] is True
    assert moved["previous"].endswith(":task-definition/nightly-local-report:1")
    assert moved["task_definition"].endswith(":task-definition/nightly-local-report:2")
    assert released.deployed.json["rollouts"] == []
    new = released.schedule_after["Target"]["EcsParameters"]["TaskDefinitionArn"]
    assert new == moved["task_definition"]
    task = emulator.client("ecs").describe_task_definition(taskDefinition=new)["taskDefinition"]
    assert task["containerDefinitions"][0]["image"].endswith("/nightly-report:1.1.0")
    # AND the apply changed the job's revision and schedule, nothing else
    (outcome,) = released.deployed.json["stack_outcomes"]
    assert "1 added, 1 changed, 1 destroyed" in outcome["summary"], outcome
    # AND the schedule's next run starts the new revision
    assert released.by_schedule["taskDefinitionArn"] == new
    assert released.by_schedule["group"] == "job:nightly-local-report"


def test_status_shows_the_schedule_its_next_run_and_the_last_runs_exit(released: Released) -> None:
    (status,) = released.status.json["services"]
    assert status["kind"] == "job"
    assert (status["tag"], status["deployed"]) == ("1.1.0", True)
    assert status["task_definition"].endswith(":task-definition/nightly-local-report:2")
    assert status["images"][0].endswith("/nightly-report:1.1.0")
    expected = next_run("cron(0 3 * * ? *)", "Europe/Paris", after=datetime.now(UTC))
    assert expected is not None  # 03:00 in Paris: 02:00 UTC in winter, 01:00 in summer
    assert status["schedule"] == {
        "name": SCHEDULE,
        "expression": "cron(0 3 * * ? *)",
        "timezone": "Europe/Paris",
        "state": "ENABLED",
        "next_run": expected.isoformat(timespec="seconds"),
    }
    last = status["last_run"]
    assert last["task"] == released.by_schedule["taskArn"]
    assert (last["exit_code"], last["last_status"], last["started_by"]) == (
        0,
        "STOPPED",
        "eventbridge-scheduler",
    )
    assert last["stopped_at"] is not None
    # AND the lines people read say so
    lines = released.status.stderr.splitlines()
    assert "report (scheduled job): SSM tag 1.1.0 (version 2)" in lines
    assert f"  schedule {SCHEDULE}: cron(0 3 * * ? *) in Europe/Paris, ENABLED" in lines
    assert f"  next run {expected.isoformat(timespec='seconds')}" in lines
    assert any(line.startswith("  last run exit 0 (started ") and "by the schedule" in line for line in lines)


def test_overview_shows_the_job_beside_the_service(released: Released) -> None:
    cells = {c["service"]: c for c in released.overview.json["services"]}
    assert cells["web"]["rollout_state"] == "COMPLETED" and "kind" not in cells["web"]
    job = cells["report"]
    assert (job["kind"], job["running_tag"], job["drift"]) == ("job", "1.1.0", [])
    assert job["schedule"]["last_run"]["exit_code"] == 0
    (row,) = [line for line in released.overview.stderr.splitlines() if line.startswith("report ")]
    assert " 1.1.0 job next " in row and row.endswith("last exit 0")


def test_run_runs_what_the_schedule_runs_now(released: Released) -> None:
    result = released.run.json
    assert result["task_definition"].endswith(":task-definition/nightly-local-report:2")
    assert (result["container"], result["command"], result["container_exit_code"]) == ("report", [], 0)
    assert released.run.returncode == 0
    assert result["outcome"] == "exited with 0"


def test_a_plan_after_the_release_changes_nothing(released: Released) -> None:
    # THEN what Scheduler, ECS and IAM read back is what was configured: no change planned
    assert released.plan_changes == {}, json.dumps(released.plan_changes)


def test_redeploy_of_a_job_says_what_to_do_instead(emulator: Emulator) -> None:
    env = {"ECS_CD_CONFIG": str(EXAMPLE), "ECS_CD_EMULATOR_ENDPOINT": emulator.endpoint}
    ran = run_release_process(env, "redeploy", "local", "report")
    assert ran.returncode == 2
    assert json.loads(ran.stdout)["error"] == (
        "report is a scheduled job: it has no ECS service to redeploy (its next run starts its current "
        "revision); `ecs-release run local report` runs it now"
    )
