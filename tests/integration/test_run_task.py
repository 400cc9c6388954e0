"""`ecs-release run` on the emulator (issue 15): RunTask gets the service's revision, network and
launch type with the command override, and the run follows the task until it stops. moto walks
a task through its states to STOPPED with exit code 0 (it runs nothing); other exit codes and
stop reasons are tested with Stubber in tests/unit/test_one_off.py."""

from __future__ import annotations

from pathlib import Path

from devkit.emulator import Emulator
from release.one_off import STARTED_BY
from tests.release_helpers import run_cli

CONFIG = """
[project]
name = "rt"

[services.api]
repository = "123456789012.dkr.ecr.us-east-1.amazonaws.com/rt-api"

[environments.local]
region = "us-east-1"
emulator_endpoint = "http://127.0.0.1:1"
network = { use_default_vpc = true }
state = { backend = "local" }
"""


def test_run_starts_the_services_revision_with_the_command(tmp_path: Path) -> None:
    with Emulator(running_count=1, log_path=tmp_path / "moto.log") as emu:
        # GIVEN the api service, deployed (here with boto3) on revision 1 in its own network
        ecs, ec2 = emu.client("ecs"), emu.client("ec2")
        subnets = [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]][:1]
        ecs.create_cluster(clusterName="rt-local")
        revision = ecs.register_task_definition(
            family="rt-local-api",
            networkMode="awsvpc",
            requiresCompatibilities=["FARGATE"],
            cpu="256",
            memory="512",
            containerDefinitions=[{"name": "api", "image": "nginx:1.27", "essential": True}],
        )["taskDefinition"]["taskDefinitionArn"]
        group = ec2.describe_security_groups()["SecurityGroups"][0]["GroupId"]
        network = {"awsvpcConfiguration": {"subnets": subnets, "securityGroups": [group]}}
        ecs.create_service(
            cluster="rt-local",
            serviceName="api",
            taskDefinition=revision,
            desiredCount=1,
            launchType="FARGATE",
            networkConfiguration=network,
        )
        config = tmp_path / "ecs-cd.toml"
        config.write_text(CONFIG)
        # WHEN a one-off command runs
        run = run_cli(
            config,
            emu.endpoint,
            "run",
            "local",
            "api",
            "--timeout",
            "60",
            "--poll",
            "0.2",
            "--",
            "echo",
            "hi",
        )
        # THEN ECS ran that revision with the command, started by ecs-release
        (task,) = ecs.describe_tasks(cluster="rt-local", tasks=[run.json["task"]])["tasks"]
        assert task["taskDefinitionArn"] == revision
        assert task["overrides"]["containerOverrides"] == [{"name": "api", "command": ["echo", "hi"]}]
        assert task["startedBy"] == STARTED_BY
        assert task["launchType"] == "FARGATE"
        # AND the run followed it to STOPPED and took the container's exit code as its own
        assert run.exit_code == 0, run.stdout + run.stderr
        assert (run.json["last_status"], run.json["outcome"]) == ("STOPPED", "exited with 0")
        assert f"task {task['taskArn'].rsplit('/', 1)[1]}: STOPPED" in run.stderr
