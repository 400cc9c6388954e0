"""SIGTERM and SIGINT to a real `ecs-release deploy` on the emulator (issue 16).

A CI runner cancelling a job sends SIGTERM to the runner's process; Ctrl-C sends SIGINT to the
terminal's whole process group. Either way Terraform must stop gracefully (its state written,
its lock released), no cdktf or Terraform process may outlive the command, the command must
say whether anything was applied, in one JSON document with --json, and exit 128 + the signal.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from devkit.emulator import Emulator
from devkit.fake_ci import push_image, write_tag
from ecs_cd.core import names
from ecs_cd.release.errors import INTERRUPTED_SIGINT, INTERRUPTED_SIGTERM
from ecs_cd.toolchain.cdktf_cli import PROJECT_DIR
from tests.release_helpers import ProcessRun, run_release_process

pytestmark = pytest.mark.e2e

CONFIG = """
[project]
name = "sig"

[services.api]
repository = "123456789012.dkr.ecr.us-east-1.amazonaws.com/sig-api"
container_port = 8080

[services.worker]
repository = "123456789012.dkr.ecr.us-east-1.amazonaws.com/sig-api"
command = ["sh", "-c", "sleep 3600"]

[environments.local]
region = "us-east-1"
emulator_endpoint = "http://127.0.0.1:5000"
log_retention_days = 1
network = { use_default_vpc = true, assign_public_ip = true }
state = { backend = "local", path = "terraform.sig.tfstate" }
"""


@dataclass(frozen=True)
class Signalled:
    returncode: int
    stdout: str
    stderr: str
    outdir: Path

    @property
    def document(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.stdout)
        return parsed


def _environment(config: Path, emulator: Emulator) -> dict[str, str]:
    return {
        **os.environ,
        "CI": "true",
        "ECS_CD_CONFIG": str(config),
        "ECS_CD_EMULATOR_ENDPOINT": emulator.endpoint,
    }


def deploy_and_signal(
    config: Path, emulator: Emulator, outdir: Path, when: Callable[[str], bool], send: Callable[[int], None]
) -> Signalled:
    """Start `ecs-release --json deploy local`; at the first stderr line ``when`` accepts, ``send``.

    A generous --finish-timeout: a loaded machine must not turn "Terraform finished" into
    "Terraform was interrupted"; the second-signal test interrupts on purpose."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ecs_cd.release",
            "--json",
            "deploy",
            "local",
            "--output",
            str(outdir),
            "--finish-timeout",
            "600",
        ],
        cwd=PROJECT_DIR,
        env=_environment(config, emulator),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own group, so a group signal stays away from pytest
    )
    assert process.stderr is not None and process.stdout is not None
    stderr: list[str] = []
    sent = False
    for line in process.stderr:
        stderr.append(line)
        if not sent and when(line):
            send(process.pid)
            sent = True
    stdout = process.stdout.read()
    process.wait(timeout=300)
    assert sent, "the moment to signal never came:\n" + "".join(stderr)[-4000:]
    return Signalled(process.returncode, stdout, "".join(stderr), outdir)


def survivors(outdir: Path) -> list[str]:
    """Processes still running for this deploy: cdktf names the output directory in its
    arguments, Terraform runs in a stack directory below it."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            cwd = os.readlink(proc / "cwd")
        except OSError:
            continue
        if str(outdir) in cmdline or cwd.startswith(str(outdir)):
            found.append(f"{proc.name}: {cmdline.strip()} (in {cwd})")
    return found


@pytest.fixture(scope="module")
def config(emulator: Emulator, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("signals") / "ecs-cd.toml"
    path.write_text(CONFIG)
    push_image(emulator.client("ecr"), "sig-api", "1.0.0")
    for service in ("api", "worker"):
        write_tag(emulator.client("ssm"), names.image_tag_parameter(service, "local"), "1.0.0")
    return path


def _applying(line: str) -> bool:
    return ": Creating..." in line or ": Modifying..." in line


def _deploy(config: Path, emulator: Emulator, outdir: Path) -> ProcessRun:
    env = {"ECS_CD_CONFIG": str(config), "ECS_CD_EMULATOR_ENDPOINT": emulator.endpoint}
    return run_release_process(env, "deploy", "local", "--output", str(outdir))


def test_sigterm_during_the_apply_lets_terraform_finish_then_stops(
    config: Path, emulator: Emulator, tmp_path: Path
) -> None:
    # GIVEN a deploy whose Terraform is creating resources
    outdir = tmp_path / "cdktf.out"
    # WHEN the CI runner sends SIGTERM to the command only (not to its children)
    run = deploy_and_signal(config, emulator, outdir, _applying, lambda pid: os.kill(pid, signal.SIGTERM))
    # THEN it exits 143 with one JSON document: the apply finished, its state was written
    assert run.returncode == INTERRUPTED_SIGTERM, run.stdout + run.stderr[-4000:]
    document = run.document
    assert document["ok"] is False and document["exit_code"] == INTERRUPTED_SIGTERM
    assert (document["signal"], document["applies_finished"], document["applies_interrupted"]) == (
        "SIGTERM",
        ["local"],
        [],
    )
    assert document["error"] == (
        "deploy local interrupted by SIGTERM after Terraform finished the apply of local: the plan "
        "was applied and the state written (the state lock was released); the rollout was not "
        "followed: check `ecs-release status local`"
    )
    assert "received SIGTERM: no further Terraform command starts" in run.stderr
    assert "Apply complete!" in run.stderr and "Traceback" not in run.stderr
    # AND no child outlived the command, and the lock is gone
    assert survivors(outdir) == []
    assert not (outdir / "stacks" / "local" / ".terraform.sig.tfstate.lock.info").exists()
    # AND the next deploy converges: nothing was created outside the state
    again = _deploy(config, emulator, outdir)
    assert again.returncode == 0, again.stdout + again.stderr[-4000:]
    assert "already exists" not in again.stderr


def test_a_second_signal_interrupts_terraform_which_writes_its_state_and_releases_its_lock(
    config: Path, emulator: Emulator, tmp_path: Path
) -> None:
    # GIVEN a new environment's deploy whose Terraform is creating resources
    outdir = tmp_path / "cdktf.out"
    fresh = tmp_path / "fresh.toml"
    fresh.write_text(CONFIG.replace('name = "sig"', 'name = "sig2"'))

    def twice(pid: int) -> None:
        os.kill(pid, signal.SIGTERM)
        time.sleep(0.5)
        os.kill(pid, signal.SIGTERM)

    # WHEN the runner sends SIGTERM twice
    run = deploy_and_signal(fresh, emulator, outdir, _applying, twice)
    # THEN Terraform was interrupted (its own graceful stop), and the command says what that means
    assert run.returncode == INTERRUPTED_SIGTERM, run.stdout + run.stderr[-4000:]
    assert "Interrupt received" in run.stderr  # Terraform's own words
    assert "received SIGTERM again: interrupting Terraform" in run.stderr
    document = run.document
    assert document["applies_interrupted"] == ["local"] and document["nothing_applied"] is False
    assert document["error"].startswith(
        "deploy local interrupted by SIGTERM: Terraform was interrupted during the apply of "
        "local; it may have applied part of the plan, and resources it was creating may exist in AWS "
        "without being in the state"
    )
    assert "(the state lock was released)" in document["error"]
    # AND nothing outlived it, the lock is gone and the state file is whole
    assert survivors(outdir) == []
    stack = outdir / "stacks" / "local"
    assert not (stack / ".terraform.sig.tfstate.lock.info").exists()
    assert json.loads((stack / "terraform.sig.tfstate").read_text())["serial"] >= 1


def test_ctrl_c_to_the_process_group_before_terraform_applied_nothing(
    config: Path, emulator: Emulator, tmp_path: Path
) -> None:
    # GIVEN a deploy that has just started (cdktf synthesizes; Terraform has not run)
    outdir = tmp_path / "cdktf.out"
    # WHEN Ctrl-C reaches the whole process group
    run = deploy_and_signal(
        config,
        emulator,
        outdir,
        lambda line: line.startswith("running: "),
        lambda pid: os.killpg(pid, signal.SIGINT),
    )
    # THEN it exits 130 saying nothing was applied, with no traceback and no survivors
    assert run.returncode == INTERRUPTED_SIGINT, run.stdout + run.stderr[-4000:]
    assert run.document["error"] == (
        "deploy local interrupted by SIGINT before Terraform applied anything: nothing was applied"
    )
    assert run.document["nothing_applied"] is True
    assert "Traceback" not in run.stderr and "BrokenPipeError" not in run.stderr
    deadline = time.monotonic() + 10
    while survivors(outdir) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert survivors(outdir) == []


def _terraform_applying_in(stack: Path) -> int | None:
    """The pid of a Terraform apply running in ``stack``, found through /proc."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cwd = os.readlink(proc / "cwd")
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if cwd == str(stack) and b"apply" in argv and Path(argv[0].decode()).name.startswith("terraform"):
            return int(proc.name)
    return None


def _stat(pid: int) -> list[str]:
    """The fields of /proc/PID/stat after the command name, [] once the process is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return []
    return text[text.rfind(")") + 2 :].split()


def _children(pid: int) -> list[int]:
    return [
        int(p.name)
        for p in Path("/proc").iterdir()
        if p.name.isdigit() and _stat(int(p.name))[1:2] == [str(pid)]
    ]


def _running(pid: int) -> bool:
    """Alive (a zombie waiting for its reaper is not)."""
    return _stat(pid)[:1] not in ([], ["Z"])


def _command_of(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return f"{pid} (gone)"


def test_terraform_killed_mid_apply_is_a_failure_not_a_success(
    config: Path, emulator: Emulator, tmp_path: Path
) -> None:
    # GIVEN a new environment's deploy whose Terraform is creating resources
    outdir = tmp_path / "cdktf.out"
    fresh = tmp_path / "killed.toml"
    fresh.write_text(CONFIG.replace('name = "sig"', 'name = "sig3"'))
    killed: list[int] = []
    plugins: list[int] = []

    def kill_terraform(_pid: int) -> None:
        found = _terraform_applying_in(outdir / "stacks" / "local")
        assert found is not None, "no terraform apply was running"
        plugins.extend(_children(found))  # its provider plugins, running now
        os.kill(found, signal.SIGKILL)
        killed.append(found)

    # WHEN Terraform itself is SIGKILLed (an OOM killer, a runner killing a process)
    run = deploy_and_signal(fresh, emulator, outdir, _applying, kill_terraform)
    # THEN the deploy fails with exit 5 and says the plan may be partly applied, never "ok"
    assert killed and run.returncode == 5, run.stdout + run.stderr[-4000:]
    document = run.document
    assert document["ok"] is False and document["nothing_applied"] is False
    assert document["error"].startswith(
        "deploy local: Terraform's apply of local was killed (SIGKILL) and never said 'Apply complete!': "
        "it may have applied part of the plan; its state lock was released when it died (a local "
        "state's lock is the OS's)"
    )
    assert document["unfinished"] == ["local"]
    # AND the advice names no `unlock` (S3 only), but the lock-info file the kill left, if any
    assert "unlock" not in document["error"]
    left = outdir / "stacks" / "local" / ".terraform.sig.tfstate.lock.info"
    assert document["lock_info_left"] == ([str(left)] if left.exists() else [])
    # AND no provider plugin the killed Terraform had started outlived the command (issue 26)
    assert plugins, "the killed Terraform had no plugin running"
    assert [pid for pid in plugins if _running(pid)] == [], [_command_of(pid) for pid in plugins]
