"""`ecs-release deploy`'s reading of a cdktf run: what it claims was applied, how it names a
failure before Terraform, and when it says it waits for a state lock (ecs_cd/release/apply_process.py,
cdktf_output.py, terraform_commands.py, deploy_failure.py, deploy_run.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ecs_cd.release import errors
from ecs_cd.release.apply_process import run_cdktf
from ecs_cd.release.cdktf_output import CdktfOutput
from ecs_cd.release.deploy_failure import failure
from ecs_cd.release.deploy_run import prepare_output
from ecs_cd.release.errors import DeployFailed, DeployNotStarted, ReleaseError
from ecs_cd.release.lock_watch import LockSpot, LockWatch, lock_spots
from ecs_cd.release.run_result import RunResult
from ecs_cd.release.state import Lock, parse_created
from ecs_cd.release.terraform_commands import TerraformCommand, TerraformRecorder
from ecs_cd.release.terraform_run import StackOutcome
from stacks.settings import LocalState, S3State, settings_from_dict

ESC = "\x1b"
STACKS_DIR = Path("/out/stacks")

# What cdktf 0.21 printed on this machine, colours included.
SYNTH_TRACEBACK = f"""npm warn Unknown user config "nodedir".
{ESC}[91m[2026-11-23T11:26:57.362] [ERROR] default - {ESC}[39m  File "/home/dev/ecs-cd/main.py", line 109
RuntimeError: ENOENT: no such file or directory, mkdir '/tmp/missing/out'

ERROR: cdktf encountered an error while synthesizing

Synth command: pipenv run python main.py
Error:         non-zero exit code 1

Command output on stderr:

    jsii.errors.JavaScriptError:
      Error: ENOENT: no such file or directory, mkdir '/tmp/missing/out'
          at new App (/tmp/jsii-kernel-XKy2QA/node_modules/cdktf/lib/app.js:45:16)

    The above exception was the direct cause of the following exception:

    Traceback (most recent call last):
      File "/home/dev/ecs-cd/main.py", line 82, in build_app
        app = App(outdir=outdir) if outdir else App()
      File "/home/dev/ecs-cd/.venv/lib/python3.11/site-packages/jsii/_kernel/providers/process.py", line 359
        raise RuntimeError(resp.error) from JavaScriptError(resp.stack)
    RuntimeError: ENOENT: no such file or directory, mkdir '/tmp/missing/out'




\u280b  Synthesizing
"""

PIPENV_MISSING = """[2026-11-23T11:44:54.172] [ERROR] default - /bin/sh: 1: pipenv: not found

ERROR: cdktf encountered an error while synthesizing

Synth command: pipenv run python main.py
Error:         non-zero exit code 127

Command output on stderr:

    /bin/sh: 1: pipenv: not found

"""

APP_REFUSED = """ERROR: cdktf encountered an error while synthesizing

Command output on stderr:

    ecs-cd: the configuration is invalid, nothing was synthesized:
      environments.dev.region: not a region

"""

BAR = f"{ESC}[31m│{ESC}[0m {ESC}[0m"
LOCK_ERROR = f"""two  {ESC}[31m╷{ESC}[0m{ESC}[0m
     {BAR}{ESC}[1m{ESC}[31mError: {ESC}[0m{ESC}[0m{ESC}[1mError acquiring the state lock{ESC}[0m
     {BAR}
     {BAR}{ESC}[0mError message: operation error S3: PutObject, https response error
     {BAR}StatusCode: 412, RequestID: yXu4rFP9
     {BAR}Lock Info:
     {BAR}  ID:        fake-id
     {BAR}  Path:      st-state/ecs-cd/two.tfstate
     {BAR}  Operation: OperationTypeApply
     {BAR}  Who:       runner-7@ci
     {BAR}  Version:   1.11.4
     {BAR}  Created:   2026-11-23 10:00:00.123456789 +0000 UTC
     {BAR}  Info:
     {BAR}
     {BAR}Terraform acquires a state lock to protect the state from being written
     {ESC}[31m╵{ESC}[0m{ESC}[0m
0 Stacks deploying     1 Stack done     0 Stacks waiting
Invoking Terraform CLI failed with exit code 1
"""


def fed(text: str, stacks: tuple[str, ...] = ("two",)) -> CdktfOutput:
    output = CdktfOutput(stacks)
    for line in text.splitlines(keepends=True):
        output.feed(line)
    return output


def version() -> TerraformCommand:
    return TerraformCommand(Path("ecs-cd"), ("version", "-json"))


def in_stack(stack: str, *args: str) -> TerraformCommand:
    return TerraformCommand(STACKS_DIR / stack, args)


def result(returncode: int, commands: list[TerraformCommand], text: str = "", **kw: str) -> RunResult:
    stacks = kw.get("stacks", "local").split(",")
    return RunResult(returncode, commands, STACKS_DIR, fed(text, tuple(stacks)))


# --- cdktf's output -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (SYNTH_TRACEBACK, "RuntimeError: ENOENT: no such file or directory, mkdir '/tmp/missing/out'"),
        (PIPENV_MISSING, "/bin/sh: 1: pipenv: not found"),
        (
            APP_REFUSED,
            "ecs-cd: the configuration is invalid, nothing was synthesized: "
            "environments.dev.region: not a region",
        ),
        (
            "\u280b  Synthesizing\nError: ENOTDIR: not a directory, scandir '/o/stacks'\n",
            "ENOTDIR: not a directory, scandir '/o/stacks'",
        ),
    ],
)
def test_the_reason_is_the_line_that_says_why(text: str, reason: str) -> None:
    assert fed(text).failure_reason() == reason


def test_synthesis_errors_are_recognised_and_lock_lines_are_attributed_to_their_stack() -> None:
    assert fed(SYNTH_TRACEBACK).synth_error and not fed(LOCK_ERROR).synth_error
    output = CdktfOutput(["dev", "dev-api"])
    assert output.feed("dev      Initializing the backend...\n") is None
    assert output.feed("dev-api  Acquiring state lock. This may take a few moments...\n") == "dev-api"
    assert output.feed("         Acquiring state lock. This may take a few moments...\n") == "dev-api"
    assert output.acquiring == ["dev-api", "dev-api"]


def test_a_lock_error_gives_the_holder_as_terraform_printed_it() -> None:
    assert fed(LOCK_ERROR).lock_errors == {
        "two": {
            "ID": "fake-id",
            "Path": "st-state/ecs-cd/two.tfstate",
            "Operation": "OperationTypeApply",
            "Who": "runner-7@ci",
            "Version": "1.11.4",
            "Created": "2026-11-23 10:00:00.123456789 +0000 UTC",
            "Info": "",
        }
    }


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-23T10:00:00.123456789Z",
        "2026-11-23 10:00:00.123456789 +0000 UTC",
        "2026-11-23T11:00:00.123456+01:00",
    ],
)
def test_lock_creation_times_in_both_of_terraforms_formats(text: str) -> None:
    created = parse_created(text)
    assert created is not None and created.isoformat() == "2026-11-23T10:00:00.123456+00:00"


def test_an_unreadable_creation_time_is_none() -> None:
    assert parse_created("yesterday") is None and parse_created("?") is None


# --- what a failure claims ------------------------------------------------------------------


APPLIED = "local  Apply complete! Resources: 1 added, 0 changed, 0 destroyed.\n"
KILLED_MID_APPLY = (
    "local  aws_ecs_service.api_fargate_service_3F1A2B4C: Modifying... [id=arn:aws:ecs:…:service/c/api]\n"
    "local  aws_ecs_service.api_fargate_service_3F1A2B4C: Still modifying... [10s elapsed]\n"
)


def test_a_successful_run_is_no_failure() -> None:
    run = result(0, [version(), in_stack("local", "apply")], APPLIED)
    assert failure("local", run, lock_timeout=0) is None


def test_an_apply_killed_while_cdktf_exits_0_is_a_failure() -> None:
    # GIVEN cdktf exited 0, but its Terraform apply never said "Apply complete!" (SIGKILLed)
    run = result(0, [version(), in_stack("local", "init"), in_stack("local", "apply")], KILLED_MID_APPLY)
    # THEN the deploy fails (exit 5), may have applied something, and points at the lock
    error = failure("local", run, lock_timeout=0)
    assert isinstance(error, DeployFailed) and error.exit_code == 5
    assert str(error).startswith(
        "cdktf deploy local exited 0, but Terraform's apply of local never said 'Apply complete!'"
    )
    assert "ecs-release unlock local" in str(error)
    assert error.details["nothing_applied"] is False and error.details["unfinished"] == ["local"]


def test_each_stack_of_a_split_deploy_must_complete_its_apply() -> None:
    commands = [version(), in_stack("dev", "apply"), in_stack("dev-api", "apply")]
    run = result(0, commands, "dev  Apply complete! Resources: 0 added.\n", stacks="dev,dev-api")
    error = failure("dev", run, lock_timeout=0)
    assert isinstance(error, DeployFailed) and error.details["unfinished"] == ["dev-api"]


def test_synthesis_failure_says_nothing_was_applied_in_one_line_without_the_traceback() -> None:
    run = result(1, [version(), version()], SYNTH_TRACEBACK)
    run.log = Path("/out/ecs-release-deploy.log")
    error = failure("local", run, lock_timeout=0)
    assert isinstance(error, DeployNotStarted) and error.exit_code == errors.DEPLOY_NOT_STARTED == 6
    message = str(error)
    assert message == (
        "cdktf deploy local stopped before Terraform ran, synthesis failed: RuntimeError: ENOENT: no such "
        "file or directory, mkdir '/tmp/missing/out'; nothing was applied "
        "(cdktf's output: /out/ecs-release-deploy.log)"
    )
    assert "\n" not in message and "Traceback" not in message and "may have applied" not in message
    assert error.details == {
        "terraform_ran": False,
        "nothing_applied": True,
        "lock_waits": [],
        "log": "/out/ecs-release-deploy.log",
    }


def test_without_a_record_and_without_cdktfs_synthesis_message_nothing_is_claimed() -> None:
    # the wrapper noted nothing (cdktf never asked for Terraform's version): maybe it ran another way
    error = failure("local", result(1, [], "something odd\n"), lock_timeout=0)
    assert isinstance(error, DeployFailed) and error.exit_code == errors.DEPLOY_FAILED
    assert "may have applied part of the plan" in str(error)
    assert error.details["nothing_applied"] is False


def test_terraform_init_failing_is_a_deploy_failure_with_nothing_applied() -> None:
    error = failure("local", result(1, [version(), in_stack("local", "init")]), lock_timeout=0)
    assert isinstance(error, DeployFailed) and error.exit_code == 5
    assert str(error) == (
        "cdktf deploy local failed before Terraform applied anything (terraform init of stack local "
        "failed, see its output above); nothing was applied"
    )
    assert error.details["terraform_ran"] is True and error.details["nothing_applied"] is True


def test_only_a_started_apply_may_have_applied_something() -> None:
    commands = [version(), in_stack("local", "init"), in_stack("local", "apply", "-auto-approve")]
    error = failure("local", result(1, commands), lock_timeout=0)
    assert isinstance(error, DeployFailed) and error.exit_code == 5
    assert str(error).startswith(
        "cdktf deploy local exited with 1 after Terraform started (apply started for local); "
        "Terraform may have applied part of the plan before failing"
    )
    assert error.details["nothing_applied"] is False


def test_a_lock_timeout_names_the_holder_and_says_nothing_was_applied() -> None:
    commands = [version(), in_stack("two", "init"), in_stack("two", "apply", "-auto-approve")]
    error = failure("two", result(1, commands, LOCK_ERROR, stacks="two"), lock_timeout=0)
    assert isinstance(error, DeployFailed) and error.exit_code == 5
    assert str(error) == (
        "cdktf deploy two: the state is locked by another run (runner-7@ci, apply since "
        "2026-11-23 10:00:00.123456789 +0000 UTC, lock id fake-id) and stayed locked for "
        "lock_timeout_seconds = 0; nothing was applied. Retry, raise the timeout, or if that run died: "
        "ecs-release unlock two --force"
    )
    assert error.details["nothing_applied"] is True
    assert error.details["lock"] == {"two": fed(LOCK_ERROR).lock_errors["two"]}


def test_a_lock_timeout_after_another_stack_applied_says_so() -> None:
    text = LOCK_ERROR.replace("two  ", "dev-api  ", 1)
    commands = [
        version(),
        in_stack("dev", "apply", "-auto-approve"),
        in_stack("dev-api", "apply", "-auto-approve"),
    ]
    error = failure("dev", result(1, commands, text, stacks="dev,dev-api"), lock_timeout=30)
    assert error is not None and error.details["nothing_applied"] is False
    assert "nothing was applied to dev-api, but Terraform had applied dev before" in str(error)


# --- the output directory and the wrapper ---------------------------------------------------


def test_the_output_directory_is_created_with_its_parents(tmp_path: Path) -> None:
    made = prepare_output(tmp_path / "a" / "b" / "out")
    assert made.is_dir() and made.is_absolute()


def test_an_output_directory_below_a_file_is_refused_before_anything_runs(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    for bad in (tmp_path / "file", tmp_path / "file" / "out"):
        with pytest.raises(DeployNotStarted, match="nothing was applied") as refused:
            prepare_output(bad)
        assert refused.value.exit_code == 6 and str(bad) in str(refused.value)


def test_the_wrapper_notes_each_command_and_runs_terraform_in_its_place(tmp_path: Path) -> None:
    terraform = tmp_path / "fake terraform"
    terraform.write_text('#!/bin/sh\necho "terraform $*"\nexit 3\n')
    terraform.chmod(0o755)
    (tmp_path / "work").mkdir()
    recorder = TerraformRecorder(tmp_path / "work", str(terraform))
    stack = tmp_path / "stacks" / "dev"
    stack.mkdir(parents=True)
    ran = subprocess.run(
        [recorder.environment["TERRAFORM_BINARY_NAME"], "apply", "-auto-approve"],
        cwd=stack,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PWD": "/elsewhere"},
    )
    assert (ran.returncode, ran.stdout) == (3, "terraform apply -auto-approve\n")
    (command,) = recorder.commands()
    assert command.directory == stack.resolve() and command.subcommand == "apply"


def test_a_signal_while_cdktf_is_being_started_stops_it_without_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a SIGINT that arrives while the process that runs cdktf is being created (the window
    # a Ctrl-C to the process group hit in the e2e tests under load: the handler is installed,
    # the child not yet known); Popen is wrapped to signal this process at exactly that moment
    real_popen = subprocess.Popen

    def popen_signalled(*args: object, **kwargs: object) -> subprocess.Popen[str]:
        os.kill(os.getpid(), signal.SIGINT)
        return real_popen(*args, **kwargs)  # type: ignore[call-overload, no-any-return]

    monkeypatch.setattr(subprocess, "Popen", popen_signalled)
    (tmp_path / "work").mkdir()
    recorder = TerraformRecorder(tmp_path / "work", "terraform")
    # WHEN run_cdktf starts a "cdktf" that would otherwise run for a minute
    result = run_cdktf(
        ["sh", "-c", "sleep 60"],
        cwd=tmp_path,
        env=os.environ,
        stacks=["dev"],
        outdir=tmp_path / "out",
        recorder=recorder,
        raw=lambda _line: None,
        watch=None,
    )
    # THEN the signal is taken for what it is: the child is stopped at once and nothing ran
    assert result.stopping.signal_number == signal.SIGINT
    assert result.stopping.interrupted
    assert result.returncode == -signal.SIGTERM
    assert not result.terraform_ran


def test_lock_spots_follow_the_state_keys_of_a_split_environment() -> None:
    config = """
[project]
name = "st"
[services.api]
repository = "123456789012.dkr.ecr.us-east-1.amazonaws.com/st-api"
[environments.dev]
region = "us-east-1"
stack_per_service = true
network = { use_default_vpc = true }
state = { backend = "s3", bucket = "st-state", key = "ecs-cd/dev.tfstate", region = "us-east-1" }
[environments.loc]
region = "us-east-1"
network = { use_default_vpc = true }
state = { backend = "local" }
"""
    settings = settings_from_dict(tomllib.loads(config), file="c")
    spots = lock_spots(settings.environments["dev"], ["dev", "dev-api"])
    assert [s.url for s in spots] == [
        "s3://st-state/ecs-cd/dev.tfstate.tflock",
        "s3://st-state/ecs-cd/dev/api.tfstate.tflock",
    ]
    assert lock_spots(settings.environments["loc"], ["loc"]) == []


# --- waiting for a lock ---------------------------------------------------------------------

STATE = S3State(backend="s3", bucket="st-state", key="k.tfstate", region="us-east-1")


def lock(lock_id: str, created: str, who: str = "runner-7@ci") -> Lock:
    raw = {"ID": lock_id, "Who": who, "Operation": "OperationTypeApply", "Created": created}
    return Lock(id=lock_id, who=who, operation="OperationTypeApply", created=created, raw=raw)


@dataclass
class Scene:
    """A clock, the lock object, and whether this run's Terraform has started, all by hand."""

    now: float = 1_800_000_000.0
    held: Lock | None = None
    started: bool = False
    said: list[str] = field(default_factory=list)
    fail_read: bool = False

    def read(self, spot: LockSpot) -> Lock | None:
        if self.fail_read:
            raise ReleaseError("AWS s3 GetObject failed: AccessDenied: no")
        return self.held

    def watch(self, spots: bool = True) -> LockWatch:
        return LockWatch(
            ["two"],
            [LockSpot("two", STATE, "k.tfstate")] if spots else [],
            read=self.read,
            started=lambda stack: self.started,
            say=self.said.append,
            timeout_seconds=300,
            clock=lambda: self.now,
        )

    def at(self, seconds: float) -> str:
        """The RFC 3339 time ``seconds`` from the scene's start, as Terraform writes it."""
        return _iso(self.now + seconds)


def _iso(epoch: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f000Z")


def step(scene: Scene, watch: LockWatch, seconds: float, change: Callable[[], None] | None = None) -> None:
    scene.now += seconds
    if change is not None:
        change()
    watch.check("two")


def test_a_lock_held_before_terraform_starts_is_reported_once_terraform_waits_then_released() -> None:
    scene = Scene()
    watch = scene.watch()
    other = lock("other-id", scene.at(-41))
    scene.held = other
    step(scene, watch, 1)  # synthesizing: the lock is there, nobody waits yet
    assert scene.said == []
    scene.started = True
    step(scene, watch, 1)
    step(scene, watch, 1)
    (line,) = scene.said
    assert line.startswith(
        "two: waiting for the state lock (s3://st-state/k.tfstate.tflock), "
        "held by runner-7@ci (apply, lock id other-id) since "
    )
    assert "(43 s ago); Terraform waits up to 300 s for it (lock_timeout_seconds), then gives up" in line
    mine = lock("my-id", scene.at(5))
    step(scene, watch, 6, lambda: setattr(scene, "held", mine))  # released; this run took it
    step(scene, watch, 1)
    assert scene.said[1:] == ["two: the state lock held by runner-7@ci was released after 7.0 s of waiting"]
    watch.stop()
    assert watch.waits == [
        {
            "stack": "two",
            "lock": "s3://st-state/k.tfstate.tflock",
            "holder": {
                "id": "other-id",
                "who": "runner-7@ci",
                "operation": "OperationTypeApply",
                "created": other.created,
            },
            "timeout_seconds": 300,
            "waited_seconds": 7.0,
            "released": True,
        }
    ]


def test_this_runs_own_lock_is_never_reported() -> None:
    scene = Scene()
    watch = scene.watch()
    step(scene, watch, 1)
    scene.started = True
    # Terraform takes the lock after it started; same user and host as any other run here
    mine = lock("my-id", scene.at(0.5))
    for _ in range(30):
        step(scene, watch, 1, lambda: setattr(scene, "held", mine))
    step(scene, watch, 1, lambda: setattr(scene, "held", None))
    watch.stop()
    assert scene.said == [] and watch.waits == []


def test_a_lock_taken_just_after_terraform_started_is_reported_when_terraform_says_it_waits() -> None:
    scene = Scene()
    watch = scene.watch()
    step(scene, watch, 1)
    scene.started = True
    # the other run took the lock after this run's Terraform started: no evidence yet
    other = lock("other-id", scene.at(0.6))
    step(scene, watch, 1, lambda: setattr(scene, "held", other))
    assert scene.said == []
    # Terraform: "Acquiring state lock. This may take a few moments..."
    scene.now += 0.3
    watch.acquiring("two")
    watch.check("two")
    assert len(scene.said) == 1 and "held by runner-7@ci (apply, lock id other-id)" in scene.said[0]
    assert watch.waits[0]["released"] is None


def test_terraform_waiting_for_a_lock_released_meanwhile_still_says_whose_it_was() -> None:
    scene = Scene()
    watch = scene.watch()
    scene.started = True
    other = lock("other-id", scene.at(0.4))
    step(scene, watch, 1, lambda: setattr(scene, "held", other))  # seen, but not yet known as another's
    scene.now += 0.5
    watch.acquiring("two")
    scene.held = None
    watch.check("two")
    (line,) = scene.said
    assert "held by runner-7@ci (apply, lock id other-id)" in line and "it was just released" in line
    assert watch.waits[0]["released"] is True


def test_a_local_state_lock_is_reported_without_a_holder() -> None:
    scene = Scene(started=True)
    watch = scene.watch(spots=False)
    watch.acquiring("two")
    watch.check("two")
    assert scene.said == [
        "two: waiting for the state lock, held by another run (a local state lock: the holder is not "
        "shown); Terraform waits up to 300 s for it (lock_timeout_seconds), then gives up"
    ]


def test_an_unreadable_lock_is_said_once_and_watching_goes_on_without_it() -> None:
    scene = Scene(fail_read=True)
    watch = scene.watch()
    for _ in range(3):
        step(scene, watch, 1)
    assert scene.said == [
        "two: cannot read the state lock (AWS s3 GetObject failed: AccessDenied: no); "
        "a wait for it is not reported"
    ]


def test_a_wait_still_going_on_when_the_run_ends_is_not_released() -> None:
    scene = Scene()
    watch = scene.watch()
    scene.held = lock("other-id", scene.at(-5))
    step(scene, watch, 1)
    scene.started = True
    step(scene, watch, 1)
    scene.now += 300
    watch.stop()
    assert watch.waits[0]["released"] is False and watch.waits[0]["waited_seconds"] == 300.0
    assert len(scene.said) == 1


# What cdktf relayed when Terraform found the log group a killed apply had left (recorded from
# a deploy on the emulator, colours and box included); tests/e2e/test_already_exists.py runs it.
ALREADY_EXISTS = (Path(__file__).parents[1] / "fixtures" / "terraform_already_exists.txt").read_text()


def test_already_exists_names_the_resource_and_the_import_command() -> None:
    # GIVEN an apply that failed on a log group AWS already had
    commands = [version(), in_stack("local", "init"), in_stack("local", "apply", "-auto-approve")]
    error = failure("local", result(1, commands, ALREADY_EXISTS), lock_timeout=0)
    # THEN the error names it and gives the import command for its stack directory
    assert isinstance(error, DeployFailed) and error.exit_code == 5
    address = "aws_cloudwatch_log_group.api_fargate_logs_E6C6CB1A"
    command = f"terraform -chdir=/out/stacks/local import {address} /ecs/demo/local/api"
    assert str(error) == (
        "cdktf deploy local: already in AWS but not in the Terraform state: CloudWatch Logs Log Group "
        f"/ecs/demo/local/api ({address}). An earlier apply that was killed, or another stack, "
        "created it; Terraform may have applied part of the plan before failing (apply started for "
        f"local). If it is this stack's, import it into the state, then deploy again: {command}"
    )
    assert error.details["already_exists"] == [
        {"stack": "local", "address": address, "name": "/ecs/demo/local/api", "import": command}
    ]


@pytest.mark.parametrize(
    ("address", "name", "import_id"),
    [
        ("aws_iam_role.api_execution_ABC", "demo-local-api-execution", "demo-local-api-execution"),
        ("aws_ecs_service.api_service_ABC", "api", "'<cluster name>/api'"),
        ("aws_security_group.api_sg_ABC", "demo-local-api", "'<security group id, sg-…, of demo-local-api>'"),
        (
            "aws_vpc_endpoint.x_ABC",
            "x",
            "'<its import ID: see the provider'\"'\"'s docs for aws_vpc_endpoint>'",
        ),
    ],
)
def test_the_import_id_is_the_name_only_where_it_is(address: str, name: str, import_id: str) -> None:
    from ecs_cd.release.cdktf_output import AlreadyExists

    found = AlreadyExists("dev", "thing", name, address)
    assert (
        found.import_command(Path("/o/stacks"))
        == f"terraform -chdir=/o/stacks/dev import {address} {import_id}"
    )


# --- interrupted runs (tests/e2e/test_signals.py sends the real signals) -----------------------


def _stopped(text: str, *, killed: bool = False, number: int = 15) -> RunResult:
    from ecs_cd.release.run_result import Stopping

    run = result(1, [version(), in_stack("local", "init"), in_stack("local", "apply")], text)
    run.stopping = Stopping(signal_number=number, interrupted=True, killed=killed)
    return run


def test_an_interrupted_apply_says_what_may_be_left_and_the_lock() -> None:
    from ecs_cd.release.deploy_failure import interruption

    error = interruption("local", _stopped(KILLED_MID_APPLY), locks_held=[])
    assert error.exit_code == 143 and error.details["applies_interrupted"] == ["local"]
    assert str(error).startswith(
        "cdktf deploy local interrupted by SIGTERM: Terraform was interrupted during the apply of local"
    )
    assert "(the state lock was released)" in str(error)
    killed = interruption("local", _stopped(KILLED_MID_APPLY, killed=True, number=2), locks_held=["local"])
    assert killed.exit_code == 130 and "Terraform was killed during the apply of local" in str(killed)
    assert (
        "the state lock of local is still held: once no run is active, `ecs-release unlock local --force`"
        in (str(killed))
    )


def test_a_finished_apply_before_the_stop_says_the_plan_was_applied() -> None:
    from ecs_cd.release.deploy_failure import interruption

    error = interruption("local", _stopped(APPLIED), locks_held=[])
    assert str(error).startswith(
        "cdktf deploy local interrupted by SIGTERM after Terraform finished the apply"
    )
    assert error.details["applies_finished"] == ["local"] and error.details["nothing_applied"] is False


# --- advice after a killed apply names only commands that work for the backend (issue 26) --------

LOCAL_STATE = LocalState(backend="local", path="terraform.sig.tfstate")
S3_STATE = S3State(backend="s3", bucket="st-state", key="ecs-cd/local.tfstate", region="us-east-1")


def _killed_direct(stacks_dir: Path) -> RunResult:
    """`deploy local` run directly: Terraform's apply SIGKILLed (the runner saw exit -9)."""
    commands = [TerraformCommand(stacks_dir / "local", ("apply", "-auto-approve"))]
    run = RunResult(
        1, commands, stacks_dir, fed(KILLED_MID_APPLY, ("local",)), label="deploy local", direct=True
    )
    run.outcomes = [StackOutcome("local", apply="failed", exit_code=-9)]
    return run


def _killed_under_cdktf(stacks_dir: Path) -> RunResult:
    commands = [version(), TerraformCommand(stacks_dir / "local", ("apply", "-auto-approve"))]
    return RunResult(0, commands, stacks_dir, fed(KILLED_MID_APPLY, ("local",)))


@pytest.mark.parametrize("run_of", [_killed_direct, _killed_under_cdktf], ids=["direct", "cdktf"])
def test_a_killed_apply_on_local_state_names_the_lock_file_left_and_no_unlock(
    run_of: Callable[[Path], RunResult], tmp_path: Path
) -> None:
    # GIVEN a killed apply of a local-state environment, which left Terraform's lock-info file
    left = tmp_path / "local" / ".terraform.sig.tfstate.lock.info"
    left.parent.mkdir()
    left.write_text("{}")
    # WHEN its failure is said
    error = failure("local", run_of(tmp_path), lock_timeout=0, state=LOCAL_STATE)
    # THEN it names no `unlock` (S3 only), says the lock went with the process, and names the file
    assert isinstance(error, DeployFailed) and error.exit_code == 5
    message = str(error)
    assert "unlock" not in message
    assert "its state lock was released when it died (a local state's lock is the OS's)" in message
    assert f"Terraform left {left} behind: it holds no lock" in message and "can be removed" in message
    assert message.endswith("check `ecs-release status local`, then deploy again")
    assert error.details["lock_info_left"] == [str(left)]


def test_a_killed_direct_apply_reports_each_stacks_outcome_as_its_record(tmp_path: Path) -> None:
    run = _killed_direct(tmp_path)
    run.outcomes.append(
        StackOutcome("local-api", reason="local (the cluster these services run on) was not applied")
    )
    error = failure("local", run, lock_timeout=0, state=S3_STATE)
    assert error is not None and error.details["unfinished"] == ["local"]
    assert "Terraform's apply of local was killed (SIGKILL)" in str(error)
    assert str(error).endswith(
        "then deploy again; stacks: local: failed, "
        "local-api: not started (local (the cluster these services run on) was not applied)"
    )
    assert error.details["stack_outcomes"] == [
        {"stack": "local", "init": "skipped", "apply": "failed", "exit_code": -9},
        {
            "stack": "local-api",
            "init": "skipped",
            "apply": "not started",
            "reason": "local (the cluster these services run on) was not applied",
        },
    ]


def test_a_killed_apply_on_local_state_without_a_lock_file_names_none(tmp_path: Path) -> None:
    error = failure("local", _killed_direct(tmp_path), lock_timeout=0, state=LOCAL_STATE)
    assert error is not None and "unlock" not in str(error) and "left" not in str(error).split("plan")[-1]
    assert error.details["lock_info_left"] == []


@pytest.mark.parametrize("run_of", [_killed_direct, _killed_under_cdktf], ids=["direct", "cdktf"])
def test_a_killed_apply_on_s3_state_still_points_at_unlock(
    run_of: Callable[[Path], RunResult], tmp_path: Path
) -> None:
    error = failure("local", run_of(tmp_path), lock_timeout=0, state=S3_STATE)
    assert error is not None
    assert "and left its state lock: check `ecs-release unlock local` and `ecs-release status local`" in str(
        error
    )
    assert "lock_info_left" not in error.details
    # AND an S3 state that takes no lock gets no lock advice at all
    unlocked = S3_STATE.model_copy(update={"use_lockfile": False})
    error = failure("local", run_of(tmp_path), lock_timeout=0, state=unlocked)
    assert error is not None and "lock" not in str(error).split("plan")[-1]


def test_a_lock_timeout_on_local_state_advises_no_unlock() -> None:
    commands = [version(), in_stack("two", "init"), in_stack("two", "apply", "-auto-approve")]
    run = result(1, commands, LOCK_ERROR, stacks="two")
    error = failure(
        "two", run, lock_timeout=0, state=LOCAL_STATE.model_copy(update={"path": "terraform.tfstate"})
    )
    assert error is not None and "unlock" not in str(error)
    assert str(error).endswith(
        "nothing was applied. Retry once that run has ended, or raise the timeout (a local state's lock "
        "goes with its process)"
    )
    s3 = failure("two", run, lock_timeout=0, state=S3_STATE)
    assert s3 is not None and str(s3).endswith("ecs-release unlock two --force")


def test_an_interrupted_apply_on_local_state_names_the_lock_file_not_unlock(tmp_path: Path) -> None:
    from ecs_cd.release.deploy_failure import interruption

    left = tmp_path / "local" / ".terraform.sig.tfstate.lock.info"
    left.parent.mkdir()
    left.write_text("{}")
    run = _stopped(KILLED_MID_APPLY, killed=True)
    run.stacks_dir = tmp_path
    run.commands = [TerraformCommand(tmp_path / "local", ("apply",))]
    error = interruption("local", run, locks_held=[], state=LOCAL_STATE)
    assert "unlock" not in str(error)
    assert f"(the state lock was released; Terraform left {left} behind: it holds no lock" in str(error)
    assert error.details["lock_info_left"] == [str(left)]
