"""The pre-deploy gate (issue 15) end to end: `ecs-release deploy` registers the new revision
through Terraform, runs `pre_deploy.command` on it with RunTask and rolls the service out only
if that task exits 0.

The emulator is real for everything but one thing: moto runs no container, and walks every
task to STOPPED with exit code 0. So a failing migration (exit 3) is scripted with botocore's
Stubber for exactly RunTask and DescribeTasks of the gate; every other call (Terraform's, the
rollout's, the log lines') goes to the emulator."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from devkit.emulator import Emulator
from devkit.fake_ci import push_image
from ecs_cd.release.aws import Aws
from ecs_cd.release.pre_deploy import STARTED_BY
from tests.release_helpers import Run, readme_sample, run_cli

pytestmark = pytest.mark.e2e

REPOSITORY = "123456789012.dkr.ecr.us-east-1.amazonaws.com/pd-api"
CONFIG = f"""
[project]
name = "pd"

[services.api]
repository = "{REPOSITORY}"
pre_deploy = {{ command = ["./manage.py", "migrate"], timeout_seconds = 120 }}

[environments.local]
region = "us-east-1"
emulator_endpoint = "http://127.0.0.1:1"
network = {{ use_default_vpc = true }}
state = {{ backend = "local" }}
"""
CLUSTER = "pd-local"


class Lab:
    def __init__(self, emulator: Emulator, root: Path) -> None:
        self.emulator = emulator
        self.config = root / "ecs-cd.toml"
        self.config.write_text(CONFIG)
        self.outdir = root / "cdktf.out"

    def release(self, tag: str) -> Run:
        """CI pushed ``tag`` and wrote it; the pipeline deploys and waits."""
        push_image(self.emulator.client("ecr"), "pd-api", tag)
        written = run_cli(self.config, self.emulator.endpoint, "set-tag", "local", "api", tag, "--verify")
        assert written.exit_code == 0, written.stdout + written.stderr
        return self.deploy()

    def deploy(self) -> Run:
        return run_cli(
            self.config,
            self.emulator.endpoint,
            "deploy",
            "local",
            "--wait",
            "--poll",
            "0.2",
            "--output",
            str(self.outdir),
        )

    def service(self) -> dict[str, Any]:
        (found,) = self.emulator.client("ecs").describe_services(cluster=CLUSTER, services=["api"])[
            "services"
        ]
        return dict(found)

    def gate_tasks(self) -> list[dict[str, Any]]:
        ecs = self.emulator.client("ecs")
        arns = ecs.list_tasks(cluster=CLUSTER, startedBy=STARTED_BY, desiredStatus="STOPPED")["taskArns"]
        arns += ecs.list_tasks(cluster=CLUSTER, startedBy=STARTED_BY)["taskArns"]
        return ecs.describe_tasks(cluster=CLUSTER, tasks=arns)["tasks"] if arns else []

    def state_resources(self) -> dict[str, Any]:
        state = json.loads((self.outdir / "stacks" / "local" / "terraform.tfstate").read_text())
        return {
            f"{r['type']}.{r['name']}": r["instances"] for r in state["resources"] if r["mode"] == "managed"
        }


@pytest.fixture(scope="module")
def lab(emulator: Emulator, tmp_path_factory: pytest.TempPathFactory) -> Lab:
    return Lab(emulator, tmp_path_factory.mktemp("pre-deploy"))


@pytest.fixture(scope="module")
def first(lab: Lab) -> Run:
    return lab.release("1.0.0")


def test_the_first_deploy_runs_the_migration_before_the_service_exists(lab: Lab, first: Run) -> None:
    # GIVEN a service with pre_deploy, never deployed; WHEN the pipeline deploys 1.0.0
    # THEN the deploy succeeded and says the pre-deploy task ran and passed
    assert first.exit_code == 0, first.stdout + first.stderr[-4000:]
    (gate,) = first.json["pre_deploy"]
    assert (gate["service"], gate["ran"], gate["passed"]) == ("api", True, True)
    # AND ECS ran the migration once, with the command, on the revision the service now runs
    service = lab.service()
    (task,) = lab.gate_tasks()
    assert task["taskDefinitionArn"] == service["taskDefinition"] == gate["revision"]
    assert task["overrides"]["containerOverrides"] == [{"name": "api", "command": ["./manage.py", "migrate"]}]
    # AND in the service's network and launch type
    assert task["launchType"] == "FARGATE"
    # AND it passed (moto's task stops with 0: it runs nothing) before the service's apply started
    passed, apply_started = (
        first.stderr.index("api: pre-deploy task exited with 0"),
        first.stderr.index("running: terraform apply in local"),
    )
    assert passed < apply_started
    assert first.json["rollouts"][0]["outcome"] == "COMPLETED"


class _Scripted:
    """The ECS client, with the gate's RunTask and DescribeTasks answered by a Stubber."""

    SCRIPTED = ("run_task", "describe_tasks")

    def __init__(self, real: Any, stubbed: Any, calls: list[tuple[str, dict[str, Any]]]) -> None:
        self._real, self._stubbed, self._calls = real, stubbed, calls

    def __getattr__(self, name: str) -> Any:
        if name not in self.SCRIPTED:
            return getattr(self._real, name)
        method = getattr(self._stubbed, name)

        def call(**kwargs: Any) -> Any:
            self._calls.append((name, kwargs))
            return method(**kwargs)

        return call


@pytest.fixture()
def failing_migration(
    lab: Lab, monkeypatch: pytest.MonkeyPatch
) -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """RunTask starts a task whose container exits 3 (scripted: moto cannot), which wrote two
    log lines to its awslogs stream (real, in the emulator's CloudWatch)."""
    task_id = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
    task_arn = f"arn:aws:ecs:us-east-1:123456789012:task/{CLUSTER}/{task_id}"
    logs = lab.emulator.client("logs")
    stream = f"api/api/{task_id}"
    logs.create_log_stream(logGroupName="/ecs/pd/local/api", logStreamName=stream)
    now = int(time.time() * 1000)
    logs.put_log_events(
        logGroupName="/ecs/pd/local/api",
        logStreamName=stream,
        logEvents=[
            {"timestamp": now, "message": "Applying accounts.0042_email_unique..."},
            {
                "timestamp": now + 1,
                "message": "IntegrityError: duplicate key value violates unique constraint",
            },
        ],
    )
    stubbed = boto3.client("ecs", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    stubber = Stubber(stubbed)
    stubber.add_response("run_task", {"tasks": [{"taskArn": task_arn, "lastStatus": "PROVISIONING"}]})
    stubber.add_response(
        "describe_tasks",
        {
            "tasks": [
                {
                    "taskArn": task_arn,
                    "lastStatus": "STOPPED",
                    "stoppedReason": "Essential container in task exited",
                    "containers": [{"name": "api", "exitCode": 3}],
                }
            ]
        },
    )
    stubber.activate()
    calls: list[tuple[str, dict[str, Any]]] = []
    real_client = Aws.client
    monkeypatch.setattr(
        Aws,
        "client",
        lambda self, service: (
            _Scripted(real_client(self, service), stubbed, calls)
            if service == "ecs"
            else real_client(self, service)
        ),
    )
    yield calls
    stubber.assert_no_pending_responses()
    stubber.deactivate()


def _timeless(line: str) -> str:
    return re.sub(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z", "<time>", line.strip())


def test_a_failing_migration_leaves_the_service_on_its_old_revision(
    lab: Lab, first: Run, failing_migration: list[tuple[str, dict[str, Any]]]
) -> None:
    # GIVEN the service runs 1.0.0
    assert first.exit_code == 0
    before = lab.service()
    service_state = lab.state_resources()
    service_address = next(a for a in service_state if a.startswith("aws_ecs_service."))
    trigger = next(a for a in service_state if a.startswith("null_resource."))
    # WHEN CI releases 1.1.0 and its migration exits 3
    failed = lab.release("1.1.0")
    # THEN the deploy failed with exit 1, saying why, with the task's last log lines
    assert failed.exit_code == 1, failed.stdout + failed.stderr[-4000:]
    error = failed.json["error"]
    assert "pre-deploy task of api (./manage.py migrate) exited with 3" in error
    assert f"the service stays on {before['taskDefinition']}" in error
    assert "IntegrityError: duplicate key value violates unique constraint" in failed.stderr
    # AND the docs' sample is this run's own output (Terraform's lines and the times aside)
    ours = re.compile(r"^(api: pre-deploy|task |  [0-9]{4}-|error: )")
    said = [_timeless(line) for line in failed.stderr.splitlines() if ours.match(line)]
    assert said == [_timeless(line) for line in readme_sample("pre-deploy-sample")]
    # AND the task ran the new revision, which Terraform registered, with the command
    (run_task,) = [kwargs for name, kwargs in failing_migration if name == "run_task"]
    new_revision = run_task["taskDefinition"]
    assert new_revision != before["taskDefinition"] and new_revision in error
    described = lab.emulator.client("ecs").describe_task_definition(taskDefinition=new_revision)
    assert described["taskDefinition"]["containerDefinitions"][0]["image"] == f"{REPOSITORY}:1.1.0"
    assert run_task["overrides"]["containerOverrides"] == [
        {"name": "api", "command": ["./manage.py", "migrate"]}
    ]
    assert run_task["startedBy"] == STARTED_BY
    # AND the service still runs 1.0.0, with the same PRIMARY deployment: nothing rolled
    after = lab.service()
    assert after["taskDefinition"] == before["taskDefinition"]
    assert [d["id"] for d in after["deployments"]] == [d["id"] for d in before["deployments"]]
    # AND Terraform's state of the service and of the redeploy trigger is unchanged
    state = lab.state_resources()
    assert state[service_address] == service_state[service_address]
    assert state[trigger] == service_state[trigger]


def test_once_the_migration_passes_the_rollout_goes_on(lab: Lab, first: Run) -> None:
    # GIVEN an earlier migration of 1.1.0 failed (the test above) or never ran
    assert first.exit_code == 0
    # WHEN the pipeline deploys again and the migration exits 0
    again = lab.deploy()
    # THEN the gate ran on the 1.1.0 revision and the service rolled to it
    assert again.exit_code == 0, again.stdout + again.stderr[-4000:]
    (gate,) = again.json["pre_deploy"]
    assert (gate["ran"], gate["passed"]) == (True, True)
    service = lab.service()
    assert service["taskDefinition"] == gate["revision"]
    image = lab.emulator.client("ecs").describe_task_definition(taskDefinition=gate["revision"])
    assert image["taskDefinition"]["containerDefinitions"][0]["image"] == f"{REPOSITORY}:1.1.0"
    assert again.json["rollouts"][0]["outcome"] == "COMPLETED"
    # AND a deploy with nothing new runs no migration: the service already runs that revision
    same = lab.deploy()
    assert same.exit_code == 0, same.stdout + same.stderr[-4000:]
    (gate,) = same.json["pre_deploy"]
    assert (gate["ran"], gate["revision"]) == (False, service["taskDefinition"])
