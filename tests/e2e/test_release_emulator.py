"""The release command line against the moto server: tags, history, rollback, promote,
status and redeploy, with the exit codes a pipeline relies on."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devkit.emulator import Emulator
from devkit.fake_ci import push_image
from tests.release_helpers import RELEASE_CONFIG, Run, run_cli

pytestmark = pytest.mark.e2e
API = "/api/{env}/docker-image-tag"


@pytest.fixture()
def emu(tmp_path: Path) -> Iterator[Emulator]:
    # A fresh emulator per test: every test starts from an empty account.
    with Emulator(running_count=1, log_path=tmp_path / "moto.log") as running:
        yield running


@pytest.fixture()
def config(tmp_path: Path) -> Path:
    path = tmp_path / "release.toml"
    path.write_text(RELEASE_CONFIG)
    return path


def release(config: Path, emu: Emulator, *args: str) -> Run:
    return run_cli(config, emu.endpoint, *args)


def ssm_value(emu: Emulator, name: str) -> tuple[str, int] | None:
    ssm = emu.client("ssm")
    try:
        param = ssm.get_parameter(Name=name)["Parameter"]
    except ssm.exceptions.ParameterNotFound:
        return None
    return str(param["Value"]), int(param["Version"])


def test_set_tag_writes_reports_and_is_idempotent(config: Path, emu: Emulator) -> None:
    # WHEN a first tag is set THEN the parameter is created at version 1 and old -> new is reported
    first = release(config, emu, "set-tag", "local", "api", "1.0.0")
    assert first.exit_code == 0, first.stderr
    assert {k: first.json[k] for k in ("old", "new", "version", "changed", "parameter")} == {
        "old": None,
        "new": "1.0.0",
        "version": 1,
        "changed": True,
        "parameter": API.format(env="local"),
    }
    assert "(none) -> 1.0.0 (version 1)" in first.stderr
    # WHEN the same tag is set again THEN nothing is written
    again = release(config, emu, "set-tag", "local", "api", "1.0.0")
    assert (again.exit_code, again.json["changed"], again.json["version"]) == (0, False, 1)
    # WHEN a new tag is set THEN version 2 holds it
    second = release(config, emu, "set-tag", "local", "api", "1.0.1")
    assert (second.json["old"], second.json["version"]) == ("1.0.0", 2)
    assert ssm_value(emu, API.format(env="local")) == ("1.0.1", 2)
    # and other environments are untouched
    assert ssm_value(emu, API.format(env="qa")) is None


def test_set_tag_verify_checks_ecr(config: Path, emu: Emulator) -> None:
    digest = push_image(emu.client("ecr"), "rel-api", "2.0.0")
    missing = release(config, emu, "set-tag", "local", "api", "2.0.1", "--verify")
    assert missing.exit_code == 4
    assert "rel-api:2.0.1 is not in ECR" in missing.json["error"]
    assert ssm_value(emu, API.format(env="local")) is None  # nothing written
    found = release(config, emu, "set-tag", "local", "api", "2.0.0", "--verify")
    assert (found.exit_code, found.json["digest"]) == (0, digest)
    # an image outside ECR cannot be verified: bad input, nothing written
    public = release(config, emu, "set-tag", "local", "worker", "1.36", "--verify")
    assert public.exit_code == 2 and "not an ECR repository" in public.json["error"]
    assert ssm_value(emu, "/worker/local/docker-image-tag") is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("set-tag", "nowhere", "api", "1"), "unknown environment 'nowhere'"),
        (("set-tag", "local", "billing", "1"), "unknown service 'billing'"),
        (("set-tag", "local", "api", "bad tag!"), "tag 'bad tag!': an image tag must match"),
        (("set-tag", "local", "api", "." + "a" * 5), "an image tag must match"),
        (("set-tag", "local", "api", "a" * 129), "at most 128 characters"),
        (("history", "local", "api"), "/api/local/docker-image-tag does not exist"),
        (("rollback", "local", "api"), "does not exist"),
        (("promote", "api", "--from", "local", "--to", "qa"), "local has no tag for api"),
        (("promote", "api", "--from", "qa", "--to", "qa"), "--from and --to are both 'qa'"),
        (("redeploy", "local", "api"), "cluster rel-local does not exist"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(
    config: Path, emu: Emulator, args: tuple[str, ...], message: str
) -> None:
    result = release(config, emu, *args)
    assert result.exit_code == 2, result.stdout + result.stderr
    assert message in result.json["error"]
    assert "Traceback" not in result.stderr
    assert [line for line in result.stderr.splitlines() if line.startswith("error:")] == [
        f"error: {result.json['error']}"
    ]
    assert emu.client("ssm").describe_parameters()["Parameters"] == []


def test_history_and_rollback(config: Path, emu: Emulator) -> None:
    for tag in ("1.0.0", "1.0.1", "1.0.1", "1.0.2"):
        assert release(config, emu, "set-tag", "local", "api", tag).exit_code == 0
    # history lists every version with its tag and date
    history = release(config, emu, "history", "local", "api")
    assert [(v["version"], v["tag"]) for v in history.json["versions"]] == [
        (1, "1.0.0"),
        (2, "1.0.1"),
        (3, "1.0.2"),
    ]
    assert all(v["date"] for v in history.json["versions"])
    plain = run_cli(config, emu.endpoint, "history", "local", "api", json_mode=False)
    assert plain.stdout.splitlines()[1].split() == ["version", "tag", "date", "who"]
    # rollback goes to the previous distinct tag by default, as a new version
    back = release(config, emu, "rollback", "local", "api")
    assert (back.json["old"], back.json["new"], back.json["version"]) == ("1.0.2", "1.0.1", 4)
    assert back.json["rolled_back_to_version"] == 2
    # --to VERSION and --to TAG
    to_version = release(config, emu, "rollback", "local", "api", "--to", "1")
    assert (to_version.json["new"], to_version.json["version"]) == ("1.0.0", 5)
    to_tag = release(config, emu, "rollback", "local", "api", "--to", "1.0.2")
    assert (to_tag.json["new"], to_tag.json["version"]) == ("1.0.2", 6)
    # unknown targets and the current tag are bad input, and write nothing
    for bad, message in (
        ("9", "version 9 is not in the history"),
        ("7.7.7", "never written"),
        ("3", "already"),
    ):
        failed = release(config, emu, "rollback", "local", "api", "--to", bad)
        assert failed.exit_code == 2 and message in failed.json["error"], failed.json
    assert ssm_value(emu, API.format(env="local")) == ("1.0.2", 6)


def test_promote_copies_the_exact_tag_and_checks_digests(config: Path, emu: Emulator) -> None:
    ecr = emu.client("ecr")
    digest = push_image(ecr, "rel-api", "3.1.0")
    release(config, emu, "set-tag", "local", "api", "3.1.0")
    # local and qa share a repository: same image, promoted
    promoted = release(config, emu, "promote", "api", "--from", "local", "--to", "qa")
    assert promoted.exit_code == 0, promoted.stdout
    assert (promoted.json["new"], promoted.json["digest"]) == ("3.1.0", digest)
    assert ssm_value(emu, API.format(env="qa")) == ("3.1.0", 1)
    # prod pulls from its own repository: the tag must be there ...
    missing = release(config, emu, "promote", "api", "--from", "qa", "--to", "prod")
    assert missing.exit_code == 4 and "not in prod's repository" in missing.json["error"]
    # ... and be the same image, not a rebuild under the same tag
    push_image(ecr, "rel-api-prod", "3.1.0", content="rebuilt elsewhere")
    different = release(config, emu, "promote", "api", "--from", "qa", "--to", "prod")
    assert different.exit_code == 4 and "not the same image" in different.json["error"]
    assert ssm_value(emu, API.format(env="prod")) is None
    # once the same manifest is replicated, promotion goes through
    ecr.batch_delete_image(repositoryName="rel-api-prod", imageIds=[{"imageTag": "3.1.0"}])
    push_image(ecr, "rel-api-prod", "3.1.0", content="rel-api:3.1.0")
    same = release(config, emu, "promote", "api", "--from", "qa", "--to", "prod")
    assert (same.exit_code, same.json["digest"]) == (0, digest)


def _create_service(emu: Emulator, cluster: str, service: str, image: str) -> None:
    """What `cdktf deploy` would have made, created directly to keep this test fast."""
    ecs, ec2 = emu.client("ecs"), emu.client("ec2")
    subnets = [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]][:1]
    ecs.create_cluster(clusterName=cluster)
    task = ecs.register_task_definition(
        family=f"{cluster}-{service}",
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        containerDefinitions=[{"name": service, "image": image, "essential": True}],
    )["taskDefinition"]["taskDefinitionArn"]
    ecs.create_service(
        cluster=cluster,
        serviceName=service,
        taskDefinition=task,
        desiredCount=1,
        launchType="FARGATE",
        networkConfiguration={"awsvpcConfiguration": {"subnets": subnets, "securityGroups": []}},
    )


def test_status_and_redeploy_wait(config: Path, emu: Emulator) -> None:
    release(config, emu, "set-tag", "local", "api", "4.0.0")
    image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/rel-api:4.0.0"
    _create_service(emu, "rel-local", "api", image)
    status = release(config, emu, "status", "local")
    by_name: dict[str, Any] = {s["service"]: s for s in status.json["services"]}
    assert by_name["api"]["tag"] == "4.0.0" and by_name["api"]["images"] == [image]
    assert by_name["api"]["running"] == 1 and by_name["api"]["desired"] == 1
    (deployment,) = by_name["api"]["deployments"]
    assert deployment["status"] == "PRIMARY"
    assert by_name["worker"]["deployed"] is False and by_name["worker"]["tag"] is None
    # redeploy --wait follows the new deployment's id until COMPLETED
    redeployed = release(config, emu, "redeploy", "local", "api", "--wait", "--poll", "0.1")
    assert redeployed.exit_code == 0, redeployed.stdout + redeployed.stderr
    assert redeployed.json["deployment_id"] != deployment["id"]
    assert redeployed.json["rollout"]["outcome"] == "COMPLETED"
    assert redeployed.json["rollout"]["deployment_id"] == redeployed.json["deployment_id"]
    # AND status then shows only that deployment, PRIMARY and COMPLETED, on the same revision
    after = release(config, emu, "status", "local", "api")
    (api,) = after.json["services"]
    shown = [(d["id"], d["status"], d["rollout_state"], d["task_definition"]) for d in api["deployments"]]
    new_id = redeployed.json["deployment_id"]
    assert shown == [(new_id, "PRIMARY", "COMPLETED", deployment["task_definition"])]


def test_unreachable_aws_is_exit_3(config: Path, tmp_path: Path) -> None:
    # GIVEN an endpoint where nothing listens (the emulator's port after it stopped)
    with Emulator(running_count=0, log_path=tmp_path / "gone.log") as gone:
        endpoint = gone.endpoint
    result = run_cli(
        config, endpoint, "set-tag", "local", "api", "1.0.0", env={"ECS_RELEASE_MAX_ATTEMPTS": "2"}
    )
    assert result.exit_code == 3
    assert result.json["error"].startswith("cannot reach AWS ssm at http://127.0.0.1:")
    assert "Traceback" not in result.stderr
