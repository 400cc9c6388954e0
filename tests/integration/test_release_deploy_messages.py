"""What `ecs-release deploy` says when things go wrong before, or while, Terraform runs, and
while it waits for a state lock: in plain and --json modes, with the documented exit codes.

The synthesis (`python -m ecs_cd.synth`), the cdktf CLI and Terraform are replaced by small
scripts that print what the real ones print in each situation, and the deploy runs against the
emulator (moto) for its AWS calls and the S3 lock object. The real tools run the same paths in
tests/e2e/test_remote_state.py.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devkit.emulator import Emulator
from devkit.fake_ci import push_image, write_tag
from ecs_cd.release import errors
from ecs_cd.toolchain.errors import ToolError
from tests.release_helpers import Run, run_cli

BUCKET = "msg-state"
LOCK_KEY = "msg/st.tfstate.tflock"
CONFIG = f"""
[project]
name = "msg"

[services.api]
repository = "123456789012.dkr.ecr.us-east-1.amazonaws.com/msg-api"

[environments.local]
region = "us-east-1"
emulator_endpoint = "http://127.0.0.1:1"
network = {{ use_default_vpc = true }}
state = {{ backend = "local" }}

[environments.st]
region = "us-east-1"
emulator_endpoint = "http://127.0.0.1:1"
network = {{ use_default_vpc = true }}
state = {{ backend = "s3", bucket = "{BUCKET}", key = "msg/st.tfstate", region = "us-east-1", \
lock_timeout_seconds = 30 }}
"""

# `cdktf deploy STACK… --auto-approve --output DIR`: asks Terraform for its version (as cdktf
# does at start), then either fails synthesizing or runs init and apply in each stack directory.
# `synth --output DIR` is `python -m ecs_cd.synth` (what `ecs-release deploy` runs before it runs
# Terraform itself): the traceback, then its one line.
FAKE_CDKTF = """
import json, os, subprocess, sys
args = sys.argv[1:]
out = args[args.index("--output") + 1]
open(os.path.join(out, "cdktf-ran"), "w").close()
def synthesize():  # the first thing `cdktf deploy` does
    if os.environ.get("FAKE_SCENARIO") == "synth-traceback":
        print("ERROR: cdktf encountered an error while synthesizing", flush=True)
        print("", flush=True)
        print("Command output on stderr:", flush=True)
        print("    Traceback (most recent call last):", flush=True)
        print('      File "/home/dev/ecs-cd/main.py", line 82, in build_app', flush=True)
        print("    RuntimeError: ENOENT: no such file or directory, mkdir '/x/y'", flush=True)
        sys.exit(1)
if args[0] == "synth":  # python -m ecs_cd.synth
    if os.environ.get("FAKE_SCENARIO") == "synth-traceback":
        print("Traceback (most recent call last):", file=sys.stderr)
        print('  File "/home/dev/ecs-cd/stacks/app.py", line 93, in synthesize', file=sys.stderr)
        print("RuntimeError: Error: ENOENT: no such file or directory, mkdir '/x/y'", file=sys.stderr)
        print("ecs-cd: synthesis into /x/y failed: RuntimeError: ENOENT: no such file or directory, "
              "mkdir '/x/y'", file=sys.stderr)
        sys.exit(1)
    for stack in ("local", "st"):
        os.makedirs(os.path.join(out, "stacks", stack), exist_ok=True)
        with open(os.path.join(out, "stacks", stack, "cdk.tf.json"), "w") as f:
            json.dump({"terraform": {"backend": {"local": {"path": stack}}}}, f)
    sys.exit(0)
stacks = [a for a in args[1:args.index("--auto-approve")]]
terraform = os.environ["TERRAFORM_BINARY_NAME"]
subprocess.run([terraform, "version", "-json"], capture_output=True, check=True)
synthesize()
for stack in stacks:
    directory = os.path.join(out, "stacks", stack)
    os.makedirs(directory, exist_ok=True)
    for command in (["init"], ["apply", "-auto-approve"]):
        done = subprocess.run([terraform, *command], cwd=directory, stdout=subprocess.PIPE, text=True)
        for i, line in enumerate(done.stdout.splitlines()):
            print((stack + "  " if i == 0 else " " * (len(stack) + 2)) + line, flush=True)
        if done.returncode:
            print(f"Error: terraform {command[0]} failed with exit code {done.returncode}", flush=True)
            sys.exit(1)
"""

# Terraform's part of each scenario.
FAKE_TERRAFORM = """
import json, os, sys, time
import boto3
command, scenario = sys.argv[1], os.environ.get("FAKE_SCENARIO", "")
def s3():
    return boto3.client("s3", endpoint_url=os.environ["ECS_CD_EMULATOR_ENDPOINT"], region_name="us-east-1",
                        aws_access_key_id="emulator", aws_secret_access_key="emulator")
def locked():
    return s3().list_objects_v2(Bucket=BUCKET, Prefix=LOCK_KEY).get("KeyCount", 0) > 0
if command == "version":
    print(json.dumps({"terraform_version": "1.11.4"}))
elif command == "init":
    print("Initializing the backend...")
    sys.exit(1 if scenario == "init-fails" else 0)
elif command == "apply":
    if scenario == "apply-fails":
        print("aws_ecs_service.api: Modifying...")
        print("Error: updating ECS Service: boom")
        sys.exit(1)
    if scenario == "waits":
        print("Acquiring state lock. This may take a few moments...", flush=True)
        deadline = time.time() + 25
        while locked() and time.time() < deadline:
            time.sleep(0.2)
    if scenario == "own-lock":
        s3().put_object(Bucket=BUCKET, Key=LOCK_KEY, Body=json.dumps(
            {"ID": "mine", "Who": "me@here", "Operation": "OperationTypeApply",
             "Created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}))
        time.sleep(2.5)
        s3().delete_object(Bucket=BUCKET, Key=LOCK_KEY)
    print("Apply complete! Resources: 0 added, 0 changed, 0 destroyed.")
"""


@pytest.fixture(scope="module")
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    with Emulator(running_count=1, log_path=tmp_path_factory.mktemp("moto") / "moto.log") as running:
        ecs, ec2 = running.client("ecs"), running.client("ec2")
        subnets = [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]][:1]
        for env in ("local", "st"):  # what a first deploy made: the api service runs
            ecs.create_cluster(clusterName=f"msg-{env}")
            task = ecs.register_task_definition(
                family=f"msg-{env}-api",
                networkMode="awsvpc",
                requiresCompatibilities=["FARGATE"],
                cpu="256",
                memory="512",
                containerDefinitions=[{"name": "api", "image": "busybox", "essential": True}],
            )["taskDefinition"]["taskDefinitionArn"]
            ecs.create_service(
                cluster=f"msg-{env}",
                serviceName="api",
                taskDefinition=task,
                desiredCount=1,
                launchType="FARGATE",
                networkConfiguration={"awsvpcConfiguration": {"subnets": subnets, "securityGroups": []}},
            )
        # what `deploy` verifies first: the image in ECR, its tag, a versioned and encrypted bucket
        push_image(running.client("ecr"), "msg-api", "1.0.0")
        for env in ("local", "st"):
            write_tag(running.client("ssm"), f"/api/{env}/docker-image-tag", "1.0.0")
        s3 = running.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        s3.put_bucket_encryption(
            Bucket=BUCKET,
            ServerSideEncryptionConfiguration={
                "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
            },
        )
        yield running


@pytest.fixture(scope="module")
def tools(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory with the scripted cdktf (cdktf.py) and Terraform (terraform)."""
    directory = tmp_path_factory.mktemp("tools")
    (directory / "cdktf.py").write_text(FAKE_CDKTF)
    terraform = directory / "terraform"
    terraform.write_text(
        f"#!{sys.executable}\nBUCKET = {BUCKET!r}\nLOCK_KEY = {LOCK_KEY!r}\n" + FAKE_TERRAFORM
    )
    terraform.chmod(0o755)
    return directory


@pytest.fixture()
def deploy(emu: Emulator, tools: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """``deploy(scenario, *args, json_mode=…)``: `ecs-release deploy` with the scripted tools."""
    import ecs_cd.release.synthesis
    import ecs_cd.toolchain.cdktf_cli

    config = tmp_path / "config.toml"
    config.write_text(CONFIG)

    def deploy_command(stacks: list[str], *, setup: object, outdir: Path, **_: object) -> list[str]:
        return [
            sys.executable,
            str(tools / "cdktf.py"),
            "deploy",
            *stacks,
            "--auto-approve",
            "--output",
            str(outdir),
        ]

    def synth_command(config: Path, outdir: Path) -> list[str]:
        return [sys.executable, str(tools / "cdktf.py"), "synth", "--output", str(outdir)]

    monkeypatch.setattr(ecs_cd.toolchain.cdktf_cli, "deploy_command", deploy_command)
    monkeypatch.setattr(ecs_cd.release.synthesis, "synth_command", synth_command)
    # Terraform is the scripted one, found on PATH as the real one would be
    path = f"{tools}{os.pathsep}{os.environ['PATH']}"

    def run(
        scenario: str,
        *args: str,
        json_mode: bool = True,
        env: dict[str, str] | None = None,
        via: str = "terraform",
    ) -> Run:
        extra = {"FAKE_SCENARIO": scenario, "PATH": path, "TERRAFORM_BINARY_NAME": "", **(env or {})}
        started = time.monotonic()
        done = run_cli(config, emu.endpoint, "deploy", *args, "--via", via, json_mode=json_mode, env=extra)
        print(f"deploy {scenario} {' '.join(args)} via {via}: {time.monotonic() - started:.1f} s")
        return done

    yield run


def no_traceback(run: Run) -> None:
    assert "Traceback" not in run.stdout + run.stderr and "jsii" not in run.stdout + run.stderr


def error_lines(run: Run) -> list[str]:
    return [line for line in run.stderr.splitlines() if line.startswith("error:")]


# --- before Terraform: nothing applied, exit 6 --------------------------------------------------


# With --via cdktf too, ecs-release synthesizes first (the adoption guard reads the stacks before
# cdktf starts) and cdktf deploys that synthesis (--skip-synth).
SYNTH_FAILED = {
    via: f"{head}deploy local stopped before Terraform ran, synthesis failed (python -m ecs_cd.synth "
    "exited with 1)"
    for via, head in (("terraform", ""), ("cdktf", "cdktf "))
}
OUTPUT_KEPT = {"terraform": "its output", "cdktf": "its output"}


@pytest.mark.parametrize("via", ["terraform", "cdktf"])
def test_synthesis_failure_is_one_line_saying_nothing_was_applied(
    deploy: Any, tmp_path: Path, via: str
) -> None:
    outdir = tmp_path / "out"
    # plain: one error line, no traceback, exit 6
    plain = deploy("synth-traceback", "local", "--output", str(outdir), json_mode=False, via=via)
    assert plain.exit_code == errors.DEPLOY_NOT_STARTED == 6
    no_traceback(plain)
    (line,) = error_lines(plain)
    assert line.startswith(
        f"error: {SYNTH_FAILED[via]}: RuntimeError: ENOENT: "
        f"no such file or directory, mkdir '/x/y'; nothing was applied ({OUTPUT_KEPT[via]}: "
    )
    assert "may have applied" not in plain.stdout + plain.stderr
    # the whole output is kept, traceback included
    log = outdir.resolve() / "ecs-release-deploy.log"
    assert "Traceback (most recent call last)" in log.read_text()
    # --json: one document on stdout with the same message
    js = deploy("synth-traceback", "local", "--output", str(outdir), via=via)
    assert js.exit_code == 6
    no_traceback(js)
    assert js.json == {
        "ok": False,
        "exit_code": 6,
        "error": line.removeprefix("error: "),
        "terraform_ran": False,
        "nothing_applied": True,
        "log": str(log),
        "lock_waits": [],
        "retries": [],
    }


@pytest.mark.parametrize("json_mode", [False, True])
def test_a_problem_verify_finds_stops_the_deploy_before_cdktf(
    deploy: Any, emu: Emulator, tmp_path: Path, json_mode: bool
) -> None:
    # GIVEN CI wrote a tag whose image was never pushed
    ssm = emu.client("ssm")
    write_tag(ssm, "/api/local/docker-image-tag", "9.9.9")
    try:
        # WHEN the environment is deployed
        outdir = tmp_path / "o"
        done = deploy("", "local", "--output", str(outdir), json_mode=json_mode)
    finally:
        write_tag(ssm, "/api/local/docker-image-tag", "1.0.0")
    # THEN it stops with verify's exit code, naming the problem, before cdktf or the output directory
    assert done.exit_code == errors.VERIFICATION_FAILED == 4, done.stdout + done.stderr
    no_traceback(done)
    problem = (
        "api: image 123456789012.dkr.ecr.us-east-1.amazonaws.com/msg-api:9.9.9 is not in ECR (us-east-1): "
        "push it first"
    )
    message = (
        f"deploy local not started: 1 problem: {problem}; nothing was applied (`--no-verify` deploys anyway)"
    )
    if json_mode:
        assert (done.json["error"], done.json["deployed"]) == (message, False)
        assert done.json["verify"]["problems"] == [problem]
        assert "api: /api/local/docker-image-tag holds 9.9.9" in done.json["verify"]["passed"]
    else:
        assert error_lines(done) == [f"error: {message}"]
        assert f"problem: {problem}" in done.stdout
    assert not outdir.exists()


def test_no_verify_deploys_without_the_checks(deploy: Any, emu: Emulator, tmp_path: Path) -> None:
    # GIVEN the tag parameter is missing, which verify reports
    ssm = emu.client("ssm")
    ssm.delete_parameter(Name="/api/local/docker-image-tag")
    try:
        # WHEN the environment is deployed with --no-verify
        outdir = tmp_path / "o"
        done = deploy("", "local", "--no-verify", "--output", str(outdir))
    finally:
        write_tag(ssm, "/api/local/docker-image-tag", "1.0.0")
    # THEN cdktf ran, and the document says the checks were skipped
    assert done.exit_code == 0, done.stdout + done.stderr
    assert (outdir / "cdktf-ran").exists()
    assert done.json["verify"] == {"skipped": True}


def test_output_directory_and_its_parents_are_created(deploy: Any, tmp_path: Path) -> None:
    outdir = tmp_path / "not" / "there" / "yet"
    done = deploy("", "local", "--output", str(outdir))
    assert done.exit_code == 0, done.stdout + done.stderr
    assert (outdir / "cdktf-ran").exists() and (outdir / "stacks" / "local").is_dir()
    assert done.json["lock_waits"] == [] and done.json["deployed"] is True
    # what verify checked first is in the document
    assert done.json["verify"] == {
        "passed": [
            "api: /api/local/docker-image-tag holds 1.0.0",
            "api: 123456789012.dkr.ecr.us-east-1.amazonaws.com/msg-api:1.0.0 is in ECR (us-east-1)",
        ],
        "problems": [],
    }


@pytest.mark.parametrize("json_mode", [False, True])
def test_an_unusable_output_directory_stops_before_cdktf(
    deploy: Any, tmp_path: Path, json_mode: bool
) -> None:
    (tmp_path / "a-file").write_text("")
    outdir = tmp_path / "a-file" / "out"
    done = deploy("", "local", "--output", str(outdir), json_mode=json_mode)
    assert done.exit_code == 6
    no_traceback(done)
    message = f"--output {outdir}: cannot create {outdir} (Not a directory); nothing was applied"
    if json_mode:
        assert (done.json["error"], done.json["exit_code"]) == (message, 6)
    else:
        assert error_lines(done) == [f"error: {message}"]
    assert not list(tmp_path.glob("**/cdktf-ran"))


def test_a_missing_cdktf_cli_node_or_terraform_says_nothing_was_applied(
    deploy: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Terraform: not on PATH
    no_terraform = deploy("", "local", "--output", str(tmp_path / "o"), env={"PATH": "/nonexistent"})
    assert no_terraform.exit_code == 6
    assert no_terraform.json["error"] == (
        "terraform was not found on PATH: install Terraform >= 1.10; nothing was applied"
    )
    # Node, which the synthesis runs the constructs in: not on PATH (jsii finds it as JSII_NODE)
    no_node = deploy("", "local", "--output", str(tmp_path / "o"), env={"JSII_NODE": "no-such-node"})
    assert no_node.exit_code == 6
    assert no_node.json["error"] == (
        "no-such-node was not found on PATH: install Node.js >= 20 (the constructs run in it); "
        "nothing was applied"
    )
    assert not (tmp_path / "o" / "cdktf-ran").exists()
    # the cdktf CLI: what ecs_cd.toolchain.cdktf_cli says when node_modules has no cdktf
    import ecs_cd.toolchain.cdktf_cli

    def missing(*args: object, **kwargs: object) -> list[str]:
        raise ToolError("the cdktf CLI is not installed: run `npm ci` (make demo and make test do)")

    monkeypatch.setattr(ecs_cd.toolchain.cdktf_cli, "deploy_command", missing)
    # --via cdktf deploys with it: it stops there
    no_cli = deploy("", "local", "--output", str(tmp_path / "o"), json_mode=False, via="cdktf")
    assert no_cli.exit_code == 6
    assert error_lines(no_cli) == [
        "error: the cdktf CLI is not installed: run `npm ci` (make demo and make test do); "
        "nothing was applied"
    ]
    # a direct deploy synthesizes and applies without it
    direct = deploy("", "local", "--output", str(tmp_path / "o"), via="terraform")
    assert direct.exit_code == 0, direct.stdout + direct.stderr
    assert direct.json["synthesis"] == "ran"


# --- once Terraform ran: exit 5, and the message says what may have happened -----------------


HEAD = {"terraform": "deploy local", "cdktf": "cdktf deploy local"}


@pytest.mark.parametrize("via", ["terraform", "cdktf"])
def test_terraform_failing_in_init_applied_nothing(deploy: Any, tmp_path: Path, via: str) -> None:
    done = deploy("init-fails", "local", "--output", str(tmp_path / "o"), via=via)
    assert (done.exit_code, done.json["nothing_applied"], done.json["terraform_ran"]) == (5, True, True)
    assert done.json["error"] == (
        f"{HEAD[via]} failed before Terraform applied anything (terraform init of stack local "
        "failed, see its output above); nothing was applied"
    )
    assert "Initializing the backend..." in done.stderr  # Terraform's output is shown as it came


@pytest.mark.parametrize(("json_mode", "via"), [(False, "terraform"), (True, "terraform"), (True, "cdktf")])
def test_terraform_failing_in_apply_may_have_applied_part_of_the_plan(
    deploy: Any, tmp_path: Path, json_mode: bool, via: str
) -> None:
    done = deploy("apply-fails", "local", "--output", str(tmp_path / "o"), json_mode=json_mode, via=via)
    assert done.exit_code == errors.DEPLOY_FAILED == 5
    how = "failed" if via == "terraform" else "exited with 1"
    message = (
        f"{HEAD[via]} {how} after Terraform started (apply started for local); Terraform "
        "may have applied part of the plan before failing: check `ecs-release status local` and deploy again"
    )
    if json_mode:
        assert (done.json["error"], done.json["nothing_applied"]) == (message, False)
    else:
        assert error_lines(done) == [f"error: {message}"]
        assert "local  aws_ecs_service.api: Modifying..." in done.stdout


# --- waiting for the state lock ---------------------------------------------------------------


def plant_lock(emu: Emulator, who: str = "ci-runner-7@build-42") -> dict[str, str]:
    info = {
        "ID": "0f1e2d3c-held-by-another-run",
        "Operation": "OperationTypeApply",
        "Info": "",
        "Who": who,
        "Version": "1.11.4",
        "Created": time.strftime("%Y-%m-%dT%H:%M:%S.000000000Z", time.gmtime(time.time() - 30)),
        "Path": f"{BUCKET}/msg/st.tfstate",
    }
    emu.client("s3").put_object(Bucket=BUCKET, Key=LOCK_KEY, Body=json.dumps(info))
    return info


def release_once_seen(emu: Emulator, monkeypatch: pytest.MonkeyPatch) -> threading.Thread:
    """The other run releases its lock once this run's lock watch has read who holds it (and a
    moment more): an event, not a fixed delay, so a slow machine cannot release it unseen.
    ``read_lock`` is only observed here; what it reads and returns is unchanged."""
    import ecs_cd.release.state

    seen = threading.Event()
    read_lock = ecs_cd.release.state.read_lock

    def observed(*args: Any, **kwargs: Any) -> Any:
        found = read_lock(*args, **kwargs)
        if found is not None:
            seen.set()
        return found

    monkeypatch.setattr(ecs_cd.release.state, "read_lock", observed)

    def other_run() -> None:
        if seen.wait(timeout=25):
            time.sleep(1)
        emu.client("s3").delete_object(Bucket=BUCKET, Key=LOCK_KEY)

    thread = threading.Thread(target=other_run)
    thread.start()
    return thread


@pytest.mark.parametrize("json_mode", [False, True])
def test_waiting_for_a_lock_says_who_holds_it_since_when_and_for_how_long(
    deploy: Any, emu: Emulator, tmp_path: Path, json_mode: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN another run holds the state lock, and releases it once this run has seen it waiting
    info = plant_lock(emu)
    timer = release_once_seen(emu, monkeypatch)
    # WHEN this run deploys
    done = deploy("waits", "st", "--output", str(tmp_path / "o"), json_mode=json_mode)
    timer.join()
    # THEN it succeeds, having said once that it waits, for whom, since when and how long
    assert done.exit_code == 0, done.stdout + done.stderr
    human = done.stderr if json_mode else done.stdout
    waiting = [line for line in human.splitlines() if "waiting for the state lock" in line]
    assert len(waiting) == 1, human
    assert waiting[0].startswith(
        f"st: waiting for the state lock (s3://{BUCKET}/{LOCK_KEY}), held by ci-runner-7@build-42 "
        f"(apply, lock id 0f1e2d3c-held-by-another-run) since {info['Created']} ("
    )
    assert waiting[0].endswith("Terraform waits up to 30 s for it (lock_timeout_seconds), then gives up")
    released = [line for line in human.splitlines() if "was released after" in line]
    assert len(released) == 1 and released[0].startswith("st: the state lock held by ci-runner-7@build-42")
    if json_mode:
        (wait,) = done.json["lock_waits"]
        assert wait == {
            "stack": "st",
            "lock": f"s3://{BUCKET}/{LOCK_KEY}",
            "holder": {
                "id": info["ID"],
                "who": "ci-runner-7@build-42",
                "operation": "OperationTypeApply",
                "created": info["Created"],
            },
            "timeout_seconds": 30,
            "waited_seconds": wait["waited_seconds"],
            "released": True,
        }
        assert 0 < wait["waited_seconds"] < 25  # within the scripted Terraform's own bound


def test_this_runs_own_lock_is_not_a_wait(deploy: Any, emu: Emulator, tmp_path: Path) -> None:
    # GIVEN nobody else holds the lock WHEN this run's Terraform takes it for 2.5 s
    done = deploy("own-lock", "st", "--output", str(tmp_path / "o"))
    # THEN nothing is said about waiting
    assert done.exit_code == 0, done.stdout + done.stderr
    assert done.json["lock_waits"] == []
    assert "waiting for the state lock" not in done.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("unlock", "st"),
        ("unlock", "st", "--force"),
        ("state-versions", "st"),
        ("state-restore", "st"),
        ("state-restore", "st", "--version-id", "v1"),
    ],
)
def test_state_commands_before_the_bucket_exists_are_bad_input(
    emu: Emulator, tmp_path: Path, args: tuple[str, ...]
) -> None:
    # GIVEN an environment whose state bucket was never bootstrapped
    config = tmp_path / "config.toml"
    config.write_text(CONFIG.replace(f'bucket = "{BUCKET}"', 'bucket = "msg-never-bootstrapped"'))
    # WHEN a state command runs THEN it is bad input (exit 2, as the docs' exit codes say), naming the fix
    run = run_cli(config, emu.endpoint, *args)
    assert run.exit_code == errors.BAD_INPUT, run.stdout + run.stderr
    assert run.json["error"] == "bucket msg-never-bootstrapped does not exist: run `ecs-release bootstrap`"
    no_traceback(run)
