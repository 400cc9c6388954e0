"""`ecs-release verify` on the emulator (issue 13): each seeded problem is one line, exit 4, and a
complete environment passes. Nothing is written."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from devkit.emulator import Emulator
from devkit.fake_ci import push_image, write_tag
from ecs_cd.release import errors
from tests.release_helpers import Run, readme_sample, run_cli

SECRET = "arn:aws:ssm:us-east-1:123456789012:parameter/vf/db-password"
MISSING_SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:vf/api-key-AbCdEf"
CONFIG = f"""
[project]
name = "vf"

[services.api]
repository = "123456789012.dkr.ecr.us-east-1.amazonaws.com/vf-api"
secrets = {{ DB_PASSWORD = "{SECRET}" }}

[services.worker]
repository = "123456789012.dkr.ecr.us-west-2.amazonaws.com/vf-worker"

[environments.st]
region = "us-east-1"
emulator_endpoint = "http://127.0.0.1:1"
network = {{ use_default_vpc = true }}
state = {{ backend = "s3", bucket = "vf-state", key = "vf/st.tfstate", region = "us-east-1" }}
"""


@pytest.fixture(scope="module")
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    with Emulator(running_count=1, log_path=tmp_path_factory.mktemp("moto") / "moto.log") as running:
        yield running


def verify(emu: Emulator, tmp_path: Path, text: str = CONFIG) -> Run:
    config = tmp_path / "ecs-cd.toml"
    config.write_text(text)
    return run_cli(config, emu.endpoint, "verify", "st")


def test_each_problem_is_one_line_and_the_whole_is_exit_4(emu: Emulator, tmp_path: Path) -> None:
    # GIVEN an environment nothing was prepared for, but one tag
    write_tag(emu.client("ssm"), "/worker/st/docker-image-tag", "2.0.0")
    # WHEN it is verified
    run = verify(emu, tmp_path, CONFIG.replace(f'"{SECRET}"', f'"{MISSING_SECRET}"'))
    # THEN every problem is named, with what to do, and nothing passes silently
    assert run.exit_code == errors.VERIFICATION_FAILED, run.stdout + run.stderr
    assert run.json["problems"] == [
        "state bucket vf-state does not exist: run `ecs-release bootstrap st`",
        "api: SSM parameter /api/st/docker-image-tag does not exist: CI writes it "
        "(`ecs-release set-tag st api TAG`)",
        f"api: secret {MISSING_SECRET} does not exist",
        "worker: image 123456789012.dkr.ecr.us-west-2.amazonaws.com/vf-worker:2.0.0 is not in ECR "
        "(us-west-2): push it first",
    ]
    assert run.json["error"].startswith("st: 4 problems: state bucket vf-state does not exist")
    assert run.stderr.count("problem: ") == 4


def test_a_prepared_environment_passes(emu: Emulator, tmp_path: Path) -> None:
    # GIVEN the bucket bootstrapped, the images pushed (the worker's in us-west-2), tags and secret
    bootstrap = run_cli(_config(tmp_path), emu.endpoint, "bootstrap", "st")
    assert bootstrap.exit_code == 0, bootstrap.stderr
    push_image(emu.client("ecr"), "vf-api", "1.0.0")
    push_image(emu.client("ecr", region="us-west-2"), "vf-worker", "2.0.0")
    write_tag(emu.client("ssm"), "/api/st/docker-image-tag", "1.0.0")
    write_tag(emu.client("ssm"), "/worker/st/docker-image-tag", "2.0.0")
    emu.client("ssm").put_parameter(Name="/vf/db-password", Value="x", Type="SecureString", Overwrite=True)
    # WHEN it is verified THEN everything passes, exit 0
    run = verify(emu, tmp_path)
    assert run.exit_code == 0, run.stdout + run.stderr
    assert run.json["problems"] == []
    assert (
        "worker: 123456789012.dkr.ecr.us-west-2.amazonaws.com/vf-worker:2.0.0 is in ECR (us-west-2)"
        in (run.json["passed"])
    )
    assert f"api: secret {SECRET} exists" in run.json["passed"]


def test_the_wrong_account_is_a_problem_and_stops_the_checks(emu: Emulator, tmp_path: Path) -> None:
    text = CONFIG.replace(
        'emulator_endpoint = "http://127.0.0.1:1"',
        'emulator_endpoint = "http://127.0.0.1:1"\naws = { account_id = "999999999999" }',
    )
    run = verify(emu, tmp_path, text)
    assert run.exit_code == errors.VERIFICATION_FAILED
    (problem,) = run.json["problems"]
    assert problem.startswith("the credentials are for account 123456789012") and "999999999999" in problem


def _config(tmp_path: Path) -> Path:
    path = tmp_path / "bootstrap.toml"
    path.write_text(CONFIG)
    return path


def test_fake_ci_creates_the_secrets_the_configuration_names(
    emu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from devkit import fake_ci

    # GIVEN an environment whose api names an SSM secret that does not exist yet
    secret = "arn:aws:ssm:us-east-1:123456789012:parameter/vf/seeded-password"
    config = tmp_path / "ecs-cd.toml"
    config.write_text(CONFIG.replace(SECRET, secret))
    monkeypatch.setenv("ECS_CD_EMULATOR_ENDPOINT", emu.endpoint)
    monkeypatch.setenv("ECS_CD_CONFIG", str(config))
    assert (
        f"api: secret {secret} does not exist" in verify(emu, tmp_path, config.read_text()).json["problems"]
    )
    # WHEN the walk-through's `python -m devkit.fake_ci secrets st` runs, twice
    assert fake_ci.main(["secrets", "st"]) == 0
    assert fake_ci.main(["secrets", "st"]) == 0
    # THEN it was created once, as a SecureString, and verify finds it
    assert capsys.readouterr().out.splitlines() == [f"created {secret}", f"exists  {secret}"]
    parameter = emu.client("ssm").get_parameter(Name="/vf/seeded-password")["Parameter"]
    assert parameter["Type"] == "SecureString"
    assert f"api: secret {secret} exists" in verify(emu, tmp_path, config.read_text()).json["passed"]
    # AND a Secrets Manager ARN, which the emulator cannot create under that exact ARN, is refused
    config.write_text(CONFIG.replace(f'"{SECRET}"', f'"{MISSING_SECRET}"'))
    assert fake_ci.main(["secrets", "st"]) == 2
    assert capsys.readouterr().err.startswith(f"error: {MISSING_SECRET} is a Secrets Manager secret")


# --- the state bucket's settings and the listener --------------------------------------------

MISSING_LISTENER = (
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/vf/0c1b2c3d4e5f6071/0c1b2c3d4e5f6071"
)


def with_bucket_and_listener(bucket: str, listener_arn: str) -> str:
    """CONFIG with st's state in ``bucket`` and an existing load balancer's ``listener_arn``."""
    return CONFIG.replace('bucket = "vf-state"', f'bucket = "{bucket}"').replace(
        'state = { backend = "s3"',
        f'load_balancer = {{ listener_arn = "{listener_arn}", security_group_id = "sg-0caa2c3d4e5f60718" }}\n'
        'state = { backend = "s3"',
    )


def prepare_services(emu: Emulator) -> None:
    """The images pushed, the tags written and the secret created: only the checks under test fail."""
    push_image(emu.client("ecr"), "vf-api", "1.0.0")
    push_image(emu.client("ecr", region="us-west-2"), "vf-worker", "2.0.0")
    write_tag(emu.client("ssm"), "/api/st/docker-image-tag", "1.0.0")
    write_tag(emu.client("ssm"), "/worker/st/docker-image-tag", "2.0.0")
    emu.client("ssm").put_parameter(Name="/vf/db-password", Value="x", Type="SecureString", Overwrite=True)


def test_an_unversioned_unencrypted_bucket_and_a_missing_listener_are_one_line_each(
    emu: Emulator, tmp_path: Path
) -> None:
    # GIVEN a state bucket created by hand (no versioning, no default encryption), a listener
    # ARN that names nothing, and everything else in place
    emu.client("s3").create_bucket(Bucket="vf-plain-state")
    prepare_services(emu)
    # WHEN it is verified
    run = verify(emu, tmp_path, with_bucket_and_listener("vf-plain-state", MISSING_LISTENER))
    # THEN each is one problem line saying what to do, exit 4
    assert run.exit_code == errors.VERIFICATION_FAILED, run.stdout + run.stderr
    assert run.json["problems"] == [
        "state bucket vf-plain-state does not keep versions (state-restore needs them): "
        "run `ecs-release bootstrap st`",
        "state bucket vf-plain-state has no default encryption: run `ecs-release bootstrap st`",
        f"listener {MISSING_LISTENER} does not exist (load_balancer.listener_arn)",
    ]
    assert run.stderr.count("problem: ") == 3
    # AND docs/tutorials/three-accounts.md shows this run's output as its sample of problems
    assert run.stderr.splitlines() == readme_sample("verify-problems-sample"), run.stderr


def test_a_bootstrapped_bucket_and_a_listener_that_exists_pass(emu: Emulator, tmp_path: Path) -> None:
    # GIVEN the bucket bootstrapped by ecs-release and an application load balancer's listener
    text = with_bucket_and_listener("vf-good-state", MISSING_LISTENER)
    (tmp_path / "boot.toml").write_text(text)
    assert run_cli(tmp_path / "boot.toml", emu.endpoint, "bootstrap", "st").exit_code == 0
    listener = create_listener(emu)
    prepare_services(emu)
    # WHEN it is verified
    run = verify(emu, tmp_path, text.replace(MISSING_LISTENER, listener))
    # THEN the bucket's and the listener's checks pass, exit 0
    assert run.exit_code == 0, run.stdout + run.stderr
    assert run.json["problems"] == []
    assert {
        "state bucket vf-good-state keeps versions",
        "state bucket vf-good-state encrypts by default",
        "the listener exists",
    } <= set(run.json["passed"])
    assert "ok: the listener exists" in run.stderr


def create_listener(emu: Emulator) -> str:
    ec2, elbv2 = emu.client("ec2"), emu.client("elbv2")
    vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]
    balancer = elbv2.create_load_balancer(Name="vf-alb", Subnets=[s["SubnetId"] for s in subnets[:2]])
    arn = balancer["LoadBalancers"][0]["LoadBalancerArn"]
    listener = elbv2.create_listener(
        LoadBalancerArn=arn,
        Protocol="HTTP",
        Port=80,
        DefaultActions=[{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}}],
    )
    return str(listener["Listeners"][0]["ListenerArn"])
