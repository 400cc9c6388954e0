"""Remote state on the emulator's S3: bootstrap, locking under concurrent deploys, parallel
environments, a stale lock from a killed run, restoring a state version, concurrent set-tag;
what deploy says while it waits for a lock, and when it fails before Terraform runs.

Every deploy here is `ecs-release deploy` (the real cdktf CLI and Terraform) in its own
output directory, as separate CI runners would run it. Each output directory's parent does
not exist beforehand: deploy creates it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from devkit.emulator import Emulator
from devkit.fake_ci import push_image, write_tag
from devkit.terraform import Terraform
from ecs_cd.toolchain.cdktf_cli import PROJECT_DIR, tool_environment
from ecs_cd.toolchain.terraform_offline import TerraformSetup
from tests.release_helpers import ProcessRun as Result
from tests.release_helpers import run_release_process

pytestmark = pytest.mark.e2e
BUCKET = "st-state"
WAITING = "waiting for the state lock"


def config_text(lock_timeout: int) -> str:
    text = """
[project]
name = "st"

[services.api]
repository = "123456789012.dkr.ecr.us-east-1.amazonaws.com/st-api"
"""
    for env, strategy in (("one", "timestamp"), ("two", "ssm-tag")):
        text += f"""
[environments.{env}]
region = "us-east-1"
emulator_endpoint = "http://127.0.0.1:1"
network = {{ use_default_vpc = true }}
state = {{ backend = "s3", bucket = "{BUCKET}", key = "ecs-cd/{env}.tfstate", region = "us-east-1", \
lock_timeout_seconds = {lock_timeout} }}

[environments.{env}.services.api]
image_strategy = "{strategy}"
"""
    return (
        text
        + """
[environments.tls]
region = "us-east-1"
emulator_endpoint = "http://127.0.0.1:1"
network = { use_default_vpc = true }
state = { backend = "s3", bucket = "st-tls", key = "tls.tfstate", region = "us-east-1" }
"""
    )


@dataclass
class Lab:
    emulator: Emulator
    setup: TerraformSetup
    work: Path
    runs: int = 0
    # env -> the output directory of its last deploy that succeeded
    deployed: dict[str, Path] = field(default_factory=dict)

    def config(self, lock_timeout: int) -> Path:
        path = self.work / f"config-{lock_timeout}.toml"
        if not path.exists():
            path.write_text(config_text(lock_timeout))
        return path

    def environment(self, lock_timeout: int, output: Path | None) -> dict[str, str]:
        env = {
            "ECS_CD_CONFIG": str(self.config(lock_timeout)),
            "ECS_CD_EMULATOR_ENDPOINT": self.emulator.endpoint,
        }
        if output is not None:
            env["ECS_CD_OUTPUT"] = str(output)
        return env

    def release(self, *args: str, lock_timeout: int = 0, output: Path | None = None) -> Result:
        return run_release_process(self.environment(lock_timeout, output), *args)

    def output(self) -> Path:
        """A new output directory, below a directory that does not exist yet."""
        self.runs += 1
        return self.work / f"run-{self.runs}" / "cdktf.out"

    def deploy(self, env: str, *, lock_timeout: int = 0, output: Path | None = None) -> Result:
        output = output or self.output()
        run = self.release("deploy", env, lock_timeout=lock_timeout, output=output)
        if run.returncode == 0:
            self.deployed[env] = output
        return run

    def converged(self, env: str) -> Path:
        """An output directory whose stack of ``env`` is deployed: the last deploy's (a plan there
        has nothing to do), or a new deploy's when this module has not deployed ``env`` yet."""
        if env not in self.deployed:
            assert self.deploy(env).returncode == 0
        return self.deployed[env]

    def deploy_watching(self, env: str, lock_timeout: int, on_line: Callable[[str], None]) -> Result:
        """``ecs-release --json deploy ENV``, calling ``on_line`` with each human line as it comes."""
        started = time.monotonic()
        output = self.output()
        with subprocess.Popen(
            [sys.executable, "-m", "ecs_cd.release", "--json", "deploy", env],
            cwd=PROJECT_DIR,
            env={**os.environ, "CI": "true", **self.environment(lock_timeout, output)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        ) as process:
            assert process.stdout is not None and process.stderr is not None
            stdout: list[str] = []
            reader = threading.Thread(target=lambda: stdout.append(process.stdout.read()))  # type: ignore[union-attr]
            reader.start()
            stderr = []
            for line in process.stderr:
                stderr.append(line)
                on_line(line)
            reader.join()
        if process.returncode == 0:
            self.deployed[env] = output
        return Result(process.returncode, "".join(stdout), "".join(stderr), started, time.monotonic())

    def state(self, env: str) -> dict[str, Any]:
        body = (
            self.emulator.client("s3").get_object(Bucket=BUCKET, Key=f"ecs-cd/{env}.tfstate")["Body"].read()
        )
        parsed: dict[str, Any] = json.loads(body)
        return parsed

    def addresses(self, env: str) -> list[str]:
        return sorted(
            f"{r['type']}.{r['name']}" for r in self.state(env)["resources"] if r["mode"] == "managed"
        )

    def locked(self, env: str) -> bool:
        s3 = self.emulator.client("s3")
        listed = s3.list_objects_v2(Bucket=BUCKET, Prefix=f"ecs-cd/{env}.tfstate.tflock")
        return bool(listed.get("KeyCount"))


def parallel(*calls: Any) -> list[Result]:
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        futures = [pool.submit(fn, *args, **kwargs) for fn, args, kwargs in calls]
        return [f.result() for f in futures]


@pytest.fixture(scope="module")
def lab(
    emulator: Emulator, tf_setup: TerraformSetup, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Lab]:
    lab = Lab(emulator, tf_setup, tmp_path_factory.mktemp("state"))
    push_image(emulator.client("ecr"), "st-api", "1.0.0")
    for env in ("one", "two"):
        write_tag(emulator.client("ssm"), f"/api/{env}/docker-image-tag", "1.0.0")
    yield lab


def test_bootstrap_creates_a_safe_bucket_idempotently(lab: Lab) -> None:
    for _ in range(2):
        result = lab.release("bootstrap", "one")
        assert result.returncode == 0, result.stderr
    assert "bucket st-state exists (yours)" in result.json["done"]
    # the emulator speaks plain HTTP, where a TLS-only policy would lock Terraform out
    assert "TLS-only bucket policy NOT applied (plain-HTTP emulator endpoint)" in result.json["done"]
    s3 = lab.emulator.client("s3")
    assert s3.get_bucket_versioning(Bucket=BUCKET)["Status"] == "Enabled"
    rules = s3.get_bucket_encryption(Bucket=BUCKET)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    block = s3.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"]
    assert all(block.values()) and len(block) == 4
    assert "TLS-only bucket policy" not in result.json["done"]
    with pytest.raises(s3.exceptions.ClientError, match="NoSuchBucketPolicy"):
        s3.get_bucket_policy(Bucket=BUCKET)


def test_tls_only_policy_denies_plain_http(lab: Lab) -> None:
    # GIVEN a bucket bootstrapped with the TLS-only policy forced on
    result = lab.release("bootstrap", "tls", "--tls-only")
    assert result.returncode == 0, result.stderr
    s3 = lab.emulator.client("s3")
    statements = json.loads(s3.get_bucket_policy(Bucket="st-tls")["Policy"])["Statement"]
    insecure = {s["Sid"]: s for s in statements}["DenyInsecureTransport"]
    assert insecure["Effect"] == "Deny"
    assert insecure["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    # THEN the emulator, reached over plain HTTP, refuses writes to it
    with pytest.raises(s3.exceptions.ClientError) as denied:
        s3.put_object(Bucket="st-tls", Key="probe", Body=b"x")
    assert denied.value.response["Error"]["Code"] in ("AccessDenied", "403")


def test_two_environments_deploy_in_parallel_without_waiting(lab: Lab) -> None:
    one, two = parallel((lab.deploy, ("one",), {}), (lab.deploy, ("two",), {}))
    assert one.returncode == 0, one.stderr[-3000:]
    assert two.returncode == 0, two.stderr[-3000:]
    # each ran while the other ran: separate state keys, separate locks
    assert one.started < two.ended and two.started < one.ended
    durations = {"one": one.ended - one.started, "two": two.ended - two.started}
    print(f"parallel deploys of two environments: {durations}")
    for env in ("one", "two"):
        assert not lab.locked(env)
        assert "aws_ecs_service.api_fargate_service_74117091" in lab.addresses(env)
    # each run's output directory was created below a directory that did not exist
    assert len(list(lab.work.glob("run-*/cdktf.out/manifest.json"))) == 2


def test_concurrent_deploys_with_lock_timeout_0_exactly_one_fails_clearly(lab: Lab) -> None:
    before = lab.state("one")
    first, second = parallel(
        (lab.deploy, ("one",), {"lock_timeout": 0}), (lab.deploy, ("one",), {"lock_timeout": 0})
    )
    codes = sorted([first.returncode, second.returncode])
    assert codes == [0, 5], (first.stderr[-2000:], second.stderr[-2000:])
    failed = first if first.returncode else second
    took = (first.ended - first.started, second.ended - second.started)
    print(f"lock timeout 0: durations {took[0]:.1f} s / {took[1]:.1f} s")
    assert "the state is locked by another run" in failed.json["error"]
    assert "ecs-release unlock one --force" in failed.json["error"]
    after = lab.state("one")
    assert after["serial"] > before["serial"]
    assert lab.addresses("one") == sorted(
        f"{r['type']}.{r['name']}" for r in before["resources"] if r["mode"] == "managed"
    )
    assert not lab.locked("one")


def test_concurrent_deploys_with_a_lock_timeout_both_succeed_in_turn(lab: Lab) -> None:
    before = lab.state("one")
    resources = lab.addresses("one")
    first, second = parallel(
        (lab.deploy, ("one",), {"lock_timeout": 300}), (lab.deploy, ("one",), {"lock_timeout": 300})
    )
    assert (first.returncode, second.returncode) == (0, 0), (first.stderr[-2000:], second.stderr[-2000:])
    took = (first.ended - first.started, second.ended - second.started)
    print(f"lock timeout 300: durations {took[0]:.1f} s / {took[1]:.1f} s")
    after = lab.state("one")
    print(f"serial {before['serial']} -> {after['serial']}")
    # whenever Terraform waited for the other run's lock, deploy said so, once
    for run in (first, second):
        waiting = [line for line in run.stderr.splitlines() if WAITING in line]
        if "Acquiring state lock" in run.stderr:
            assert len(waiting) == 1 and len(run.json["lock_waits"]) == 1, run.stderr[-3000:]
        print(f"lock waits reported: {run.json['lock_waits']}")
    # each apply of the timestamp stack replaces its trigger and writes the state: the
    # serial grows by at least one per apply, and nothing was lost
    assert after["serial"] >= before["serial"] + 2
    assert lab.addresses("one") == resources


def test_waiting_for_another_runs_lock_is_said_with_holder_since_and_timeout(lab: Lab) -> None:
    # GIVEN another CI runner holds the state lock of `two` since 90 s
    s3 = lab.emulator.client("s3")
    key = "ecs-cd/two.tfstate.tflock"
    created = time.strftime("%Y-%m-%dT%H:%M:%S.000000000Z", time.gmtime(time.time() - 90))
    holder = {
        "ID": "3f2c9a4e-held-by-runner-7",
        "Operation": "OperationTypeApply",
        "Info": "",
        "Who": "ci-runner-7@build-42",
        "Version": "1.11.4",
        "Created": created,
        "Path": f"{BUCKET}/ecs-cd/two.tfstate",
    }
    s3.put_object(Bucket=BUCKET, Key=key, Body=json.dumps(holder))
    said: list[float] = []

    def release_soon(line: str) -> None:
        if WAITING in line and not said:
            said.append(time.monotonic())
            threading.Timer(2, lambda: s3.delete_object(Bucket=BUCKET, Key=key)).start()

    # (if deploy never said it waits, the lock still goes after 120 s and the test fails below)
    fallback = threading.Timer(120, lambda: s3.delete_object(Bucket=BUCKET, Key=key))
    fallback.start()
    # WHEN this run deploys with lock_timeout_seconds = 300; the holder releases the lock 2 s
    # after deploy says it waits
    try:
        run = lab.deploy_watching("two", 300, release_soon)
    finally:
        fallback.cancel()
    took = run.ended - run.started
    # THEN it said once that it waits: for whom, since when, how long
    assert said, run.stderr[-3000:]
    waiting = [line for line in run.stderr.splitlines() if WAITING in line]
    assert len(waiting) == 1, run.stderr[-3000:]
    assert waiting[0].startswith(
        f"two: waiting for the state lock (s3://{BUCKET}/{key}), held by ci-runner-7@build-42 "
        f"(apply, lock id 3f2c9a4e-held-by-runner-7) since {created} ("
    )
    assert waiting[0].endswith("Terraform waits up to 300 s for it (lock_timeout_seconds), then gives up")
    # AND that the lock was released, AND then it applied
    assert run.returncode == 0, run.stderr[-3000:]
    assert "Apply complete!" in run.stderr and not lab.locked("two")
    (wait,) = run.json["lock_waits"]
    assert wait["holder"] == {
        "id": holder["ID"],
        "who": holder["Who"],
        "operation": holder["Operation"],
        "created": created,
    }
    assert (wait["stack"], wait["timeout_seconds"], wait["released"]) == ("two", 300, True)
    assert 2 <= wait["waited_seconds"] < 60
    print(f"deploy waiting for a planted lock: {took:.1f} s, of which waiting {wait['waited_seconds']} s")


def test_a_synthesis_failure_is_one_line_and_nothing_is_applied(lab: Lab) -> None:
    # GIVEN an output directory where the app cannot write its manifest: synthesis fails with a
    # jsii traceback from the app, before Terraform runs
    s3 = lab.emulator.client("s3")
    versions = len(s3.list_object_versions(Bucket=BUCKET, Prefix="ecs-cd/two.tfstate").get("Versions", []))
    output = lab.output()
    (output / "manifest.json").mkdir(parents=True)
    # WHEN deployed
    run = lab.release("deploy", "two", output=output)
    took = run.ended - run.started
    print(f"deploy whose synthesis fails: {took:.1f} s")
    # THEN exit 6 and one line: synthesis failed, nothing was applied; no traceback shown
    assert run.returncode == 6, run.stdout + run.stderr[-3000:]
    error = run.json["error"]
    assert error.startswith(
        "deploy two stopped before Terraform ran, synthesis failed (python -m ecs_cd.synth exited with "
        "1): RuntimeError: EISDIR: "
    )
    assert "; nothing was applied (its output: " in error
    assert (run.json["terraform_ran"], run.json["nothing_applied"]) == (False, True)
    assert "Traceback" not in run.stdout + run.stderr and "may have applied" not in run.stdout + run.stderr
    assert [line for line in run.stderr.splitlines() if line.startswith("error:")] == [f"error: {error}"]
    # AND the full output, traceback included, is in the log it names
    assert "Traceback" in Path(run.json["log"]).read_text()
    # AND the state was not touched
    after = s3.list_object_versions(Bucket=BUCKET, Prefix="ecs-cd/two.tfstate").get("Versions", [])
    assert len(after) == versions and not lab.locked("two")


def test_a_killed_deploy_leaves_a_lock_that_unlock_clears(lab: Lab) -> None:
    # GIVEN a deployed stack directory of `two` and a Terraform apply killed while holding the lock
    outdir = lab.converged("two")
    env = tool_environment(lab.setup, emulator_endpoint=lab.emulator.endpoint)
    terraform = Terraform(outdir / "stacks" / "two", env)
    process = subprocess.Popen(
        [terraform.binary, "apply", "-auto-approve", "-input=false", "-no-color"],
        cwd=terraform.stack_dir,
        env=terraform.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while not lab.locked("two") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert lab.locked("two"), "terraform never took the lock"
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    assert lab.locked("two")
    # WHEN the next pipeline deploys THEN it fails clearly on the lock
    blocked = lab.deploy("two", lock_timeout=0)
    assert blocked.returncode == 5 and "locked by another run" in blocked.json["error"]
    # AND unlock shows the holder, and with --force clears it
    shown = lab.release("unlock", "two")
    assert (shown.returncode, shown.json["locked"], shown.json["cleared"]) == (0, True, False)
    assert shown.json["lock"]["Operation"] == "OperationTypeApply"
    cleared = lab.release("unlock", "two", "--force")
    assert cleared.json["cleared"] is True and not lab.locked("two")
    # AND the next deploy converges: a plan afterwards has nothing to do
    assert lab.deploy("two", output=outdir).returncode == 0
    assert terraform.plan_exit_code().returncode == 0


def test_garbage_state_is_restored_from_the_previous_version(lab: Lab) -> None:
    outdir = lab.converged("two")
    terraform = Terraform(
        outdir / "stacks" / "two", tool_environment(lab.setup, emulator_endpoint=lab.emulator.endpoint)
    )
    # GIVEN the state object overwritten with garbage
    lab.emulator.client("s3").put_object(Bucket=BUCKET, Key="ecs-cd/two.tfstate", Body=b"{ not a state")
    broken = terraform.run("plan", "-input=false", "-no-color", check=False)
    assert broken.returncode == 1
    # WHEN the documented command restores the previous version
    versions = lab.release("state-versions", "two")
    assert len(versions.json["versions"]) >= 2 and versions.json["versions"][0]["latest"]
    restored = lab.release("state-restore", "two")
    assert restored.returncode == 0, restored.stderr
    assert restored.json["restored"] == versions.json["versions"][1]["version_id"]
    # THEN a plan shows no changes
    plan = terraform.plan_exit_code()
    assert plan.returncode == 0, plan.output[-2000:]


def test_parallel_set_tag_calls_each_write_a_version(lab: Lab) -> None:
    ssm = lab.emulator.client("ssm")
    parameter = "/api/two/docker-image-tag"
    start = int(ssm.get_parameter(Name=parameter)["Parameter"]["Version"])
    tags = [f"par-{i}" for i in range(8)]
    results = parallel(*[(lab.release, ("set-tag", "two", "api", tag), {}) for tag in tags])
    assert [r.returncode for r in results] == [0] * len(tags), [r.stderr for r in results if r.returncode]
    history = ssm.get_parameter_history(Name=parameter, MaxResults=50)["Parameters"]
    recorded = [h for h in history if int(h["Version"]) > start]
    assert sorted(h["Value"] for h in recorded) == sorted(tags)
    assert len({int(h["Version"]) for h in recorded}) == len(tags)
    assert ssm.get_parameter(Name=parameter)["Parameter"]["Value"] in tags
