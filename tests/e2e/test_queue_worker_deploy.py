"""The queue-worker example (examples/queue-worker/ecs-cd.toml) deployed on the emulator through the
real `ecs-release deploy local --wait`, released with a new tag through the same commands as any
service (`set-tag`, `deploy`), and shown by `status` and `overview`. moto runs no containers and
evaluates no alarm: what is checked is what SQS, Application Auto Scaling, CloudWatch, IAM and ECS
were asked for and report back, and that Terraform reads it back without changes it did not ask for.

One emulator and one chain of steps for the module; the fixture records what each step said,
the tests only read the record:

  first     CI released 1.0.0 of both workers; the example deploys; then `terraform plan`
  shown     7 messages wait on the worker's queue; `status local` and `overview --env local`
  released  CI pushed 1.1.0 of the worker; `set-tag local worker 1.1.0 --verify`; `deploy`
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from devkit.emulator import Emulator
from devkit.fake_ci import push_image
from devkit.terraform import Terraform
from ecs_cd.core import names
from ecs_cd.toolchain.cdktf_cli import PROJECT_DIR, tool_environment
from ecs_cd.toolchain.terraform_offline import TerraformSetup
from tests.release_helpers import ProcessRun, run_release_process

pytestmark = pytest.mark.e2e

EXAMPLE = PROJECT_DIR / "examples" / "queue-worker" / "ecs-cd.toml"
CLUSTER = names.cluster_name("jobs", "local")
QUEUE = names.queue_name("jobs", "local", "worker")
MAIL_QUEUE = "outgoing-mail"  # another team's queue, which the example names by ARN
CONSUME = ["sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"]


@dataclass(frozen=True)
class Record:
    first: ProcessRun
    plan_exit_code: int
    queue_url: str
    queue: dict[str, str]  # the worker's queue's attributes
    dead_letter: dict[str, str]
    targets: dict[str, dict[str, Any]]  # scalable targets by service
    policies: dict[str, dict[str, Any]]  # scaling policies by name
    alarms: dict[str, dict[str, Any]]  # metric alarms by name
    consume_policy: dict[str, Any]  # the worker's task role's inline policy, parsed
    containers: dict[str, dict[str, Any]]  # the first deploy's app containers by service
    status: ProcessRun
    overview: ProcessRun
    set_tag: ProcessRun
    released: ProcessRun
    released_container: dict[str, Any]


def _release(emulator: Emulator, env: dict[str, str], *args: str) -> ProcessRun:
    run = run_release_process(env, *args)
    assert run.returncode == 0, f"{args}: {run.stdout}{run.stderr[-6000:]}"
    return run


def _app_containers(emulator: Emulator) -> dict[str, dict[str, Any]]:
    ecs = emulator.client("ecs")
    found = {}
    for svc in ecs.describe_services(cluster=CLUSTER, services=["worker", "mailer"])["services"]:
        task = ecs.describe_task_definition(taskDefinition=svc["taskDefinition"])["taskDefinition"]
        found[svc["serviceName"]] = next(
            c for c in task["containerDefinitions"] if c["name"] == svc["serviceName"]
        )
    return found


@pytest.fixture(scope="module")
def record(emulator: Emulator, tf_setup: TerraformSetup, tmp_path_factory: pytest.TempPathFactory) -> Record:
    outdir = tmp_path_factory.mktemp("queue-worker") / "cdktf.out"
    env = {"ECS_CD_CONFIG": str(EXAMPLE), "ECS_CD_EMULATOR_ENDPOINT": emulator.endpoint}
    ecr, ssm, sqs = (emulator.client(name) for name in ("ecr", "ssm", "sqs"))
    for service in ("worker", "mailer"):
        push_image(ecr, f"jobs-{service}", "1.0.0")
        ssm.put_parameter(
            Name=names.image_tag_parameter(service, "local"), Value="1.0.0", Type="String", Overwrite=True
        )
    sqs.create_queue(QueueName=MAIL_QUEUE)
    deploy = ("deploy", "local", "--wait", "--poll", "0.2", "--output", str(outdir))
    first = _release(emulator, env, *deploy)
    terraform = Terraform(
        Path(outdir) / "stacks" / "local", tool_environment(tf_setup, emulator_endpoint=emulator.endpoint)
    )
    plan = terraform.plan_exit_code()

    url = sqs.get_queue_url(QueueName=QUEUE)["QueueUrl"]
    dead_url = sqs.get_queue_url(QueueName=names.dead_letter_queue_name(QUEUE))["QueueUrl"]
    attributes = {
        u: sqs.get_queue_attributes(QueueUrl=u, AttributeNames=["All"])["Attributes"] for u in (url, dead_url)
    }
    scaling = emulator.client("application-autoscaling")
    targets = {
        t["ResourceId"].rsplit("/", 1)[-1]: t
        for t in scaling.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"]
    }
    policies = {
        p["PolicyName"]: p
        for p in scaling.describe_scaling_policies(ServiceNamespace="ecs")["ScalingPolicies"]
    }
    alarms = {a["AlarmName"]: a for a in emulator.client("cloudwatch").describe_alarms()["MetricAlarms"]}
    consume = emulator.client("iam").get_role_policy(
        RoleName=names.task_role_name("jobs", "local", "worker"), PolicyName="consume-queue"
    )["PolicyDocument"]
    containers = _app_containers(emulator)

    for number in range(7):
        sqs.send_message(QueueUrl=url, MessageBody=f"job {number}")
    status = _release(emulator, env, "status", "local")
    overview = _release(emulator, env, "overview", "--env", "local")

    push_image(ecr, "jobs-worker", "1.1.0")
    set_tag = _release(emulator, env, "set-tag", "local", "worker", "1.1.0", "--verify")
    released = _release(emulator, env, *deploy)
    return Record(
        first=first,
        plan_exit_code=plan.returncode,
        queue_url=url,
        queue=attributes[url],
        dead_letter=attributes[dead_url],
        targets=targets,
        policies=policies,
        alarms=alarms,
        consume_policy=consume,
        containers=containers,
        status=status,
        overview=overview,
        set_tag=set_tag,
        released=released,
        released_container=_app_containers(emulator)["worker"],
    )


def test_the_queue_is_created_encrypted_with_its_dead_letter_queue(record: Record) -> None:
    # THEN SQS holds the worker's queue, encrypted, with the visibility timeout asked for
    assert record.queue["SqsManagedSseEnabled"] == "true"
    assert record.queue["VisibilityTimeout"] == "300"
    # AND a message received 5 times goes to the dead-letter queue, itself encrypted
    assert record.queue["RedrivePolicy"] == (
        f'{{"deadLetterTargetArn":"{record.dead_letter["QueueArn"]}","maxReceiveCount":5}}'
    )
    assert record.dead_letter["SqsManagedSseEnabled"] == "true"
    assert record.dead_letter["MessageRetentionPeriod"] == "1209600"


def test_the_app_reads_its_queue_with_its_task_role(record: Record) -> None:
    # THEN the worker's container holds its queue's URL, the mailer's the existing queue's
    worker = {e["name"]: e["value"] for e in record.containers["worker"]["environment"]}
    mailer = {e["name"]: e["value"] for e in record.containers["mailer"]["environment"]}
    assert worker == {"QUEUE_URL": record.queue_url}
    assert mailer == {"MAIL_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/outgoing-mail"}
    # AND the task role may consume that queue and nothing else
    assert record.consume_policy["Statement"] == [
        {"Sid": "ConsumeQueue", "Effect": "Allow", "Action": CONSUME, "Resource": record.queue["QueueArn"]}
    ]


def test_the_scaler_tracks_the_backlog_per_task_and_starts_from_zero(record: Record) -> None:
    # THEN the worker may go down to zero tasks, the mailer to one
    ranges = {name: (t["MinCapacity"], t["MaxCapacity"]) for name, t in record.targets.items()}
    assert ranges == {"worker": (0, 10), "mailer": (1, 4)}
    # AND Application Auto Scaling holds the metric math as sent
    backlog = record.policies["jobs-local-worker-queue"]["TargetTrackingScalingPolicyConfiguration"]
    assert backlog["TargetValue"] == 20
    queries = {m["Id"]: m for m in backlog["CustomizedMetricSpecification"]["Metrics"]}
    assert queries["backlog"]["Expression"] == "IF(running > 0, visible / running, visible)"
    assert queries["visible"]["MetricStat"]["Metric"]["Dimensions"] == [{"Name": "QueueName", "Value": QUEUE}]
    # AND the first task comes from a step policy its alarm triggers (the worker's only)
    start = record.policies["jobs-local-worker-queue-start"]
    assert start["PolicyType"] == "StepScaling"
    alarm = record.alarms["jobs-local-worker-queue-waiting"]
    assert alarm["AlarmActions"] == [start["PolicyARN"]]
    assert "jobs-local-mailer-queue-start" not in record.policies


def test_a_second_plan_has_no_changes(record: Record) -> None:
    # THEN what SQS, the scaler, CloudWatch and IAM answer is what was configured (ssm-tag:
    # nothing changes until a tag does)
    assert record.plan_exit_code == 0


def test_status_and_overview_show_the_queue(record: Record) -> None:
    # GIVEN 7 messages on the worker's queue WHEN `status local` runs
    services = {s["service"]: s for s in record.status.json["services"]}
    # THEN it reports the depth and the scaling range of each queue worker
    assert services["worker"]["queue"] == {
        "queue": QUEUE,
        "visible": 7,
        "in_flight": 0,
        "min_count": 0,
        "max_count": 10,
        "messages_per_task": 20,
    }
    assert services["mailer"]["queue"]["visible"] == 0
    # AND overview shows it in the worker's cell
    cells = {c["service"]: c for c in record.overview.json["services"]}
    assert cells["worker"]["queue"]["visible"] == 7


def test_a_new_tag_is_released_as_for_any_service(record: Record) -> None:
    # WHEN CI's 1.1.0 is set and deployed THEN the worker runs it, still reading its queue
    assert (record.set_tag.json["old"], record.set_tag.json["new"]) == ("1.0.0", "1.1.0")
    assert record.released_container["image"].endswith("/jobs-worker:1.1.0")
    assert {e["name"]: e["value"] for e in record.released_container["environment"]} == {
        "QUEUE_URL": record.queue_url
    }
    (rollout,) = record.released.json["rollouts"]
    assert (rollout["service"], rollout["outcome"]) == ("worker", "COMPLETED")
