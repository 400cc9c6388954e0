"""The README's commands, run the way a reader runs them: pasted into a new login shell.

Every command runs as ``env -i HOME=… TERM=xterm PATH=<minimal> bash -lc '…'``: the only
environment is what the user's profile builds and what the README says to export (the
emulator's ``export ECS_CD_EMULATOR_ENDPOINT=…`` line). No Makefile variables, no pipenv
environment, no offline Terraform settings leak in from the test process. The commands run
in a copy of the repository's files (its ``.venv``, ``node_modules`` and provider caches
linked, not copied), so synth output and local Terraform state stay in the copy.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import select
import shlex
import shutil
import signal
import subprocess
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ecs_cd.toolchain.cdktf_cli import CACHE_DIR, PROJECT_DIR
from ecs_cd.toolchain.terraform_offline import TerraformSetup

pytestmark = pytest.mark.e2e

# What a login shell starts from before the profile runs (/etc/profile sets about this too).
MINIMAL_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
README = (PROJECT_DIR / "README.md").read_text()


def readme_block(marker: str, language: str) -> str:
    block = re.search(
        rf"<!-- {marker}:start -->\n```{language}\n(.*?)```\n<!-- {marker}:end -->", README, re.S
    )
    assert block, f"README.md lost its {marker} markers"
    return block.group(1)


def walkthrough() -> list[str]:
    return [line for line in readme_block("walkthrough", "sh").splitlines() if line.strip()]


def reader_environment() -> dict[str, str]:
    """``env -i`` with HOME, TERM and the PATH a login shell starts from."""
    return {"HOME": str(Path.home()), "TERM": "xterm", "PATH": MINIMAL_PATH}


@dataclass
class Shell:
    """A new login shell per command, in ``cwd``, with durations kept for the report."""

    cwd: Path
    exports: dict[str, str] = field(default_factory=dict)
    durations: list[tuple[str, float]] = field(default_factory=list)

    def script(self, command: str) -> str:
        lines = [f"export {name}={shlex.quote(value)}" for name, value in self.exports.items()]
        return "\n".join([*lines, command])

    def run(
        self, command: str, *, timeout: float = 900, cwd: Path | None = None
    ) -> subprocess.CompletedProcess[str]:
        started = time.monotonic()
        result = subprocess.run(
            ["bash", "-lc", self.script(command)],
            cwd=cwd or self.cwd,
            env=reader_environment(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        self.durations.append((command, time.monotonic() - started))
        return result

    def ok(
        self, command: str, *, timeout: float = 900, cwd: Path | None = None
    ) -> subprocess.CompletedProcess[str]:
        result = self.run(command, timeout=timeout, cwd=cwd)
        assert result.returncode == 0, f"{command}\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
        return result

    def in_terminal(
        self, command: str, *, answer_when: bytes, answer: bytes, timeout: float = 900
    ) -> tuple[int, str]:
        """Run ``command`` on a pseudo-terminal; type ``answer`` once ``answer_when`` is shown."""
        started = time.monotonic()
        controller, terminal = os.openpty()
        process = subprocess.Popen(
            ["bash", "-lc", self.script(command)],
            cwd=self.cwd,
            env=reader_environment(),
            stdin=terminal,
            stdout=terminal,
            stderr=terminal,
            start_new_session=True,
        )
        os.close(terminal)
        seen = b""
        answered = False
        try:
            while time.monotonic() - started < timeout:
                ready, _, _ = select.select([controller], [], [], 1.0)
                if not ready:
                    if process.poll() is not None:
                        break
                    continue
                try:
                    chunk = os.read(controller, 65536)
                except OSError:  # the terminal closed: every process on it is gone
                    break
                if not chunk:
                    break
                seen += chunk
                if not answered and answer_when in ANSI.sub("", seen.decode(errors="replace")).encode():
                    time.sleep(0.5)  # let the prompt take the keyboard
                    os.write(controller, answer)
                    answered = True
            else:
                os.killpg(process.pid, signal.SIGTERM)
            code = process.wait(timeout=60)
        finally:
            os.close(controller)
        self.durations.append((command, time.monotonic() - started))
        return code, ANSI.sub("", seen.decode(errors="replace"))


def copy_repository(destination: Path) -> Path:
    """The working tree's files (tracked and new, not ignored), with the installed tools linked."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=PROJECT_DIR,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = PROJECT_DIR / name
        if source.is_file():  # a tracked file deleted in the working tree is not listed as a file
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    # What `make demo`/`make test` installed: linked so that nothing is installed again.
    for installed in (".venv", "node_modules"):
        (destination / installed).symlink_to(PROJECT_DIR / installed, target_is_directory=True)
    (destination / ".cache").mkdir()
    for cached in ("checkov", "null-mirror"):
        if (CACHE_DIR / cached).is_dir():
            (destination / ".cache" / cached).symlink_to(CACHE_DIR / cached, target_is_directory=True)
    return destination


@pytest.fixture(scope="module")
def shell(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, tf_setup: TerraformSetup
) -> Iterator[Shell]:
    # tf_setup: on an offline machine the null-provider mirror exists before it is linked.
    reader = Shell(cwd=copy_repository(tmp_path_factory.mktemp("reader") / "ecs-cd"))
    yield reader
    # Shown on every run, not only on failure: these durations are the suite's cost.
    capture = request.config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
        print("\nREADME commands in a new login shell (durations):")
        for command, seconds in reader.durations:
            print(f"  {seconds:6.1f} s  {command.splitlines()[-1][:100]}")


@pytest.fixture(scope="module")
def emulator_export(shell: Shell) -> Iterator[str]:
    """The emulator started as the README says, and the export line it prints."""
    process = subprocess.Popen(
        ["bash", "-lc", "pipenv run python -m devkit.emulator"],
        cwd=shell.cwd,
        env=reader_environment(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group: stopped below by that group's id
    )
    assert process.stdout is not None
    try:
        started = time.monotonic()
        printed: list[str] = []
        while time.monotonic() - started < 120:
            line = process.stdout.readline()
            if not line:
                break
            printed.append(line)
            if line.startswith("export ECS_CD_EMULATOR_ENDPOINT="):
                break
        assert printed and printed[-1].startswith("export "), "".join(printed)
        shell.durations.append(
            ("pipenv run python -m devkit.emulator (until ready)", time.monotonic() - started)
        )
        yield printed[-1].strip()
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)  # Ctrl-C's equivalent: the emulator stops moto
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        process.stdout.close()


def synthesized(root: Path, stack: str) -> dict[str, object]:
    return dict(json.loads((root / "cdktf.out" / "stacks" / stack / "cdk.tf.json").read_text()))


def ecs_services(stack: dict[str, object]) -> dict[str, dict[str, object]]:
    resources = stack.get("resource", {})
    assert isinstance(resources, dict)
    return {str(s["name"]): s for s in resources.get("aws_ecs_service", {}).values()}


# --- without the emulator -----------------------------------------------------------


def test_walkthrough_has_the_release_loop() -> None:
    commands = [" ".join(shlex.split(line, comments=True)[2:4]) for line in walkthrough()]
    assert "ecs-release set-tag" in commands and "ecs-release rollback" in commands
    assert commands.count("ecs-release deploy") == 3


def test_pipenv_and_the_release_command_line(shell: Shell) -> None:
    # GIVEN a new login shell (no make, no pipenv environment)
    # THEN it finds pipenv, and the README's `pipenv run ecs-release …` works
    found = shell.ok("command -v pipenv").stdout.strip().splitlines()[-1]
    assert found, "a new login shell does not find pipenv"
    result = shell.ok("pipenv run ecs-release --help")
    assert "Usage: ecs-release" in result.stdout


def test_one_test_module_runs_as_written(shell: Shell) -> None:
    # GIVEN the README's way to run one test module
    (command,) = re.findall(r"`(pipenv run pytest tests/[^`]+)`", README)
    # WHEN a new login shell runs it as written
    result = shell.ok(command)
    # THEN the module's tests pass, in one process (no xdist workers)
    assert re.search(r"\d+ passed", result.stdout), result.stdout[-2000:]
    assert "workers" not in result.stdout and "[gw" not in result.stdout


def test_cdktf_synth_as_written(shell: Shell) -> None:
    # WHEN `npx cdktf synth` runs as written (cdktf.json: "pipenv run python main.py")
    shell.ok("npx cdktf synth")
    # THEN every environment of the shipped configuration is synthesized
    configured = tomllib.loads((shell.cwd / "config" / "ecs-cd.toml").read_text())["environments"]
    written = {p.name for p in (shell.cwd / "cdktf.out" / "stacks").iterdir()}
    assert written == set(configured)


def test_add_a_service_as_written(shell: Shell, tmp_path: Path) -> None:
    # GIVEN a fresh copy of the repository, and the README's "Add a service" table
    # appended to its shipped config/ecs-cd.toml
    root = copy_repository(tmp_path / "ecs-cd")
    with (root / "config" / "ecs-cd.toml").open("a") as config:
        config.write("\n" + readme_block("add-service", "toml"))
    # WHEN the README's check runs
    shell.ok("make synth", cwd=root)
    # THEN every environment runs the worker next to api, prod with 3 tasks
    for environment in ("local", "dev", "staging", "prod"):
        services = ecs_services(synthesized(root, environment))
        assert set(services) == {"api", "worker"}, environment
        assert services["worker"]["desired_count"] == (3 if environment == "prod" else 1)


def test_add_an_environment_as_written(shell: Shell, tmp_path: Path) -> None:
    # GIVEN the README's "Add an environment" tables appended to the shipped configuration
    root = copy_repository(tmp_path / "ecs-cd")
    with (root / "config" / "ecs-cd.toml").open("a") as config:
        config.write("\n" + readme_block("add-environment", "toml"))
    # WHEN the README's check runs
    shell.ok("make synth", cwd=root)
    # THEN the new stack exists with api, its own repository, and the load balancer it needs
    qa = synthesized(root, "qa")
    assert set(ecs_services(qa)) == {"api"}
    text = json.dumps(qa)
    assert "111111111111.dkr.ecr.eu-west-1.amazonaws.com/demo-api" in text
    resources = qa["resource"]
    assert isinstance(resources, dict)
    assert resources.get("aws_lb") and resources.get("aws_lb_listener_rule")


def test_deploy_without_a_terminal_says_how(shell: Shell) -> None:
    # `make deploy` asks before it applies; without a terminal it says so in one line
    # (cdktf's own prompt would fail with a stack trace) and touches nothing.
    result = shell.run("make deploy ENV=local")
    assert result.returncode != 0
    assert "needs a terminal; add --auto-approve" in result.stdout + result.stderr
    result = shell.run("make diff")
    assert result.returncode != 0
    assert "usage: make diff ENV=<environment>" in result.stdout + result.stderr


# --- against the emulator, started as the README says ------------------------------


def test_walkthrough_runs_as_written(shell: Shell, emulator_export: str) -> None:
    # The reader pasted the emulator's export line into this terminal, then each line.
    last = None
    for line in walkthrough():
        last = shell.ok(f"{emulator_export}\n{line}", timeout=600)
    # The final `--json status` shows the rolled-back tag running
    assert last is not None
    (api,) = json.loads(last.stdout)["services"]
    assert api["tag"] == "1.0.0"
    assert api["images"] == ["123456789012.dkr.ecr.us-east-1.amazonaws.com/demo-api:1.0.0"]


def test_manual_diff_and_deploy(shell: Shell, emulator_export: str) -> None:
    # GIVEN the walk-through's deployed `local` (its state in the copy's cdktf.out)
    # WHEN the README's manual commands run: plan, then deploy, answering its question
    diff = shell.ok(f"{emulator_export}\nmake diff ENV=local")
    assert "Error" not in ANSI.sub("", diff.stdout + diff.stderr)
    code, output = shell.in_terminal(
        f"{emulator_export}\nmake deploy ENV=local", answer_when=b"Approve", answer=b"\r"
    )
    # THEN Terraform applied offline, with nothing set by hand
    assert code == 0 and "Apply complete!" in output, output[-4000:]
    status = json.loads(shell.ok(f"{emulator_export}\npipenv run ecs-release --json status local api").stdout)
    assert [s["tag"] for s in status["services"]] == ["1.0.0"]
