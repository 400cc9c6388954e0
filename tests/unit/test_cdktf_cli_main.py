"""`python -m ecs_cd.toolchain.cdktf_cli` (make synth/diff/deploy): the cdktf argv and environment it
builds."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import pytest

from ecs_cd.toolchain import cdktf_cli
from ecs_cd.toolchain.errors import ToolError
from ecs_cd.toolchain.terraform_offline import TerraformSetup

OFFLINE = TerraformSetup(
    offline=True,
    cli_config=Path("/cache/terraformrc"),
    environment={"TF_CLI_CONFIG_FILE": "/cache/terraformrc", "CDKTF_DISABLE_PLUGIN_CACHE_ENV": "1"},
)


class Recorded:
    """Stands in for subprocess.Popen: records what would run, exits with 0."""

    calls: ClassVar[list[tuple[list[str], dict[str, str]]]] = []

    def __init__(self, argv: Sequence[str], *, cwd: Path, env: Mapping[str, str]) -> None:
        Recorded.calls.append((list(argv), dict(env)))

    def __enter__(self) -> Recorded:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def wait(self) -> int:
        return 0


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> list[tuple[list[str], dict[str, str]]]:
    Recorded.calls = []
    monkeypatch.setattr(subprocess, "Popen", Recorded)
    monkeypatch.setattr(cdktf_cli, "terraform_setup", lambda cache_dir: OFFLINE)
    monkeypatch.setenv("TF_CLI_CONFIG_FILE", "terraformrc-that-does-not-exist")
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setattr(sys, "stdin", Terminal())
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.delenv("NO_COLOR", raising=False)
    return Recorded.calls


def at_a_terminal(monkeypatch: pytest.MonkeyPatch, terminal: bool = True) -> None:
    """Standard output is a terminal (or not). Set in the test itself: pytest's output capture
    puts its own sys.stdout back between a fixture and the test."""
    monkeypatch.setattr(sys, "stdout", Terminal() if terminal else io.StringIO())


def cdktf_args(argv: list[str]) -> list[str]:
    return argv[argv.index("cdktf") + 1 :]


def test_diff_offline_gets_the_offline_config_and_flag(
    recorded: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    at_a_terminal(monkeypatch)
    assert cdktf_cli.main(["diff", "dev"]) == 0
    ((argv, env),) = recorded
    assert cdktf_args(argv) == ["diff", "dev", "--skip-provider-lock"]
    # the project's offline config replaces whatever TF_CLI_CONFIG_FILE the shell had
    assert env["TF_CLI_CONFIG_FILE"] == "/cache/terraformrc"
    assert env["CDKTF_DISABLE_PLUGIN_CACHE_ENV"] == "1"
    assert env["CHECKPOINT_DISABLE"] == "1"
    assert "CI" not in env  # a person at a terminal: cdktf may ask


def test_deploy_passes_cdktf_options_through(recorded: list[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    at_a_terminal(monkeypatch)
    assert cdktf_cli.main(["deploy", "dev-api", "--auto-approve"]) == 0
    ((argv, _),) = recorded
    assert cdktf_args(argv) == ["deploy", "dev-api", "--auto-approve", "--skip-provider-lock"]


def test_with_the_registry_nothing_is_added(recorded: list[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cdktf_cli, "terraform_setup", lambda cache_dir: TerraformSetup(offline=False))
    at_a_terminal(monkeypatch)
    assert cdktf_cli.main(["deploy", "dev"]) == 0
    ((argv, env),) = recorded
    assert cdktf_args(argv) == ["deploy", "dev"]
    assert env["TF_CLI_CONFIG_FILE"] == "terraformrc-that-does-not-exist"


def test_synth_needs_no_terraform_setup(recorded: list[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(cache_dir: Path) -> TerraformSetup:
        raise AssertionError("synth runs no Terraform")

    monkeypatch.setattr(cdktf_cli, "terraform_setup", fail)
    assert cdktf_cli.main(["synth"]) == 0
    assert cdktf_args(recorded[0][0]) == ["synth"]


def test_deploy_without_a_terminal_runs_nothing(
    recorded: list[Any], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO())
    assert cdktf_cli.main(["deploy", "dev"]) == 2
    assert recorded == []
    assert "needs a terminal; add --auto-approve" in capsys.readouterr().err


def test_unknown_command_is_usage(recorded: list[Any], capsys: pytest.CaptureFixture[str]) -> None:
    assert cdktf_cli.main(["destroy", "dev"]) == 2
    assert cdktf_cli.main([]) == 2
    assert recorded == []
    assert "usage: python -m ecs_cd.toolchain.cdktf_cli {synth|diff|deploy}" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("terminal", "term", "no_color", "coloured"),
    [
        (True, "xterm-256color", None, True),
        (False, "xterm-256color", None, False),  # a pipe or a log file
        (True, "dumb", None, False),  # escape codes would show as text
        (True, "xterm-256color", "1", False),  # no-color.org
        (True, "xterm-256color", "", True),  # NO_COLOR set but empty does not count
    ],
)
def test_terraform_colours_only_on_a_terminal_that_shows_them(
    recorded: list[Any],
    monkeypatch: pytest.MonkeyPatch,
    terminal: bool,
    term: str,
    no_color: str | None,
    coloured: bool,
) -> None:
    # GIVEN where the output goes and what the environment says of colours
    at_a_terminal(monkeypatch, terminal)
    monkeypatch.setenv("TERM", term)
    if no_color is not None:
        monkeypatch.setenv("NO_COLOR", no_color)
    # WHEN diff and deploy run cdktf (synth runs no Terraform)
    assert cdktf_cli.main(["diff", "dev"]) == 0
    assert cdktf_cli.main(["deploy", "dev", "--auto-approve"]) == 0
    assert cdktf_cli.main(["synth"]) == 0
    # THEN cdktf is told --no-color (it passes -no-color to Terraform) exactly when colours are unwanted
    diff, deploy, synth = (cdktf_args(argv) for argv, _ in recorded)
    assert ("--no-color" not in diff) is coloured
    assert ("--no-color" not in deploy) is coloured
    assert "--no-color" not in synth


def test_a_deploy_command_for_captured_output_asks_for_no_colour() -> None:
    # GIVEN the argv ecs-release and the demo build for cdktf deploy
    plain = cdktf_cli.deploy_command("dev", setup=OFFLINE, outdir=Path("out"))
    coloured = cdktf_cli.deploy_command("dev", setup=OFFLINE, outdir=Path("out"), color=True)
    # THEN without a terminal's say-so Terraform is told -no-color (through cdktf), and not with it
    assert "--no-color" in cdktf_args(plain)
    assert "--no-color" not in cdktf_args(coloured)


def test_a_project_without_the_cdktf_cli_is_told_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN npx on PATH, and a cdktf project of a team's own whose node_modules has no cdktf
    monkeypatch.setattr(shutil, "which", lambda name: f"/usr/bin/{name}")
    (tmp_path / "cdktf.json").write_text("{}")
    # WHEN the argv of a deploy there is built
    with pytest.raises(ToolError) as raised:
        cdktf_cli.deploy_command("dev", setup=OFFLINE, outdir=Path("out"), project=tmp_path)
    # THEN it names the project and the pinned CLI to install there
    assert str(raised.value) == (
        f"the cdktf CLI is not installed in {tmp_path}: run `npm install cdktf-cli@0.21.0` there"
    )
    # AND the repository's own checkout is still told to run `npm ci`
    monkeypatch.setattr(cdktf_cli, "PROJECT_DIR", tmp_path)
    with pytest.raises(ToolError, match=r"^the cdktf CLI is not installed: run `npm ci`"):
        cdktf_cli.cdktf_command(["synth"], project=tmp_path)


def test_terraform_runs_with_a_larger_go_gc_target_unless_the_user_set_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN no GOGC in the caller's environment WHEN the tool environment is built THEN Terraform
    # and its providers get GOGC=400 (python -m bench gogc measures what it saves and costs)
    monkeypatch.delenv("GOGC", raising=False)
    assert cdktf_cli.tool_environment(TerraformSetup(offline=False))["GOGC"] == "400"
    # GIVEN the user's own GOGC THEN it is kept
    monkeypatch.setenv("GOGC", "150")
    assert cdktf_cli.tool_environment(TerraformSetup(offline=False))["GOGC"] == "150"
