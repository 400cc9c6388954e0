"""The entry point itself: usage mistakes are bad input (exit 2), with JSON under --json."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from ecs_cd.release import errors
from ecs_cd.release.cli import main
from ecs_cd.toolchain.cdktf_cli import PROJECT_DIR
from tests.release_helpers import RELEASE_CONFIG, run_cli


def test_missing_argument_is_exit_2_with_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--json", "set-tag", "local"]) == 2
    captured = capsys.readouterr()
    assert json.loads(captured.out) == {"ok": False, "error": "Missing argument 'SERVICE'.", "exit_code": 2}


def test_unknown_option_is_exit_2_with_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["deploy", "local", "--wiat"]) == 2
    err = capsys.readouterr().err
    assert "error: No such option '--wiat'" in err
    assert "Usage: ecs-release deploy [OPTIONS] ENV" in err


def test_python_dash_m_and_pipenv_script_both_run_it() -> None:
    for argv in (
        [sys.executable, "-m", "ecs_cd.release", "--help"],
        ["pipenv", "run", "ecs-release", "--help"],
    ):
        result = subprocess.run(
            argv, cwd=PROJECT_DIR, capture_output=True, text=True, timeout=120, check=False
        )
        assert result.returncode == 0, result.stderr
        assert "set-tag" in result.stdout and "Exit codes: 0 ok" in result.stdout


@pytest.mark.parametrize(
    ("option", "value", "shown"),
    [
        ("--poll", "nan", "'nan'"),
        ("--poll", "inf", "inf"),
        ("--timeout", "nan", "'nan'"),
        ("--timeout", "1e400", "inf"),
    ],
)
def test_seconds_that_are_no_number_are_refused_before_anything_runs(
    option: str, value: str, shown: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a wait that would never poll (nan) or never time out (inf)
    # WHEN it is asked for THEN it is a usage error, before any AWS call (no config is even read)
    assert main(["--json", "redeploy", "dev", "api", "--wait", option, value]) == 2
    error = json.loads(capsys.readouterr().out)["error"]
    assert error.startswith(f"Invalid value for '{option}': {shown} is not")


def test_a_rollback_to_a_digit_that_is_no_number_is_bad_input() -> None:
    from ecs_cd.release.errors import BadInput
    from ecs_cd.release.tags import TagVersion, rollback_target

    # GIVEN a history of three versions
    entries = [TagVersion(v, f"1.0.{v}", "2026-11-01", "ci") for v in (1, 2, 3)]
    # WHEN --to is a superscript two, or a number too long for int() THEN each is one clear error
    with pytest.raises(BadInput, match=r"tag '²'"):
        rollback_target(entries, "²")
    with pytest.raises(
        BadInput, match=r"version 99999999999999999999… \(5000 digits\) is not in the history"
    ):
        rollback_target(entries, "9" * 5000)
    # AND ASCII digits, with leading zeros, still pick the version
    assert rollback_target(entries, "02").tag == "1.0.2"


def _closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens (bound, then let go)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.mark.parametrize(
    "args",
    [
        ("verify", "local"),
        ("deploy", "local", "--wait", "--output", "{out}"),
        ("diff", "local", "--output", "{out}"),
        ("status", "local"),
        ("overview",),
        ("history", "local", "api"),
        ("set-tag", "local", "api", "1.0.0", "--verify"),
        ("redeploy", "local", "api", "--wait"),
    ],
    ids=lambda args: args[0],
)
def test_unreachable_aws_is_exit_3_in_one_line_whichever_step_meets_it(
    args: tuple[str, ...], tmp_path: Path
) -> None:
    # GIVEN an environment whose AWS endpoint is a closed port (an emulator that stopped)
    config = tmp_path / "ecs-cd.toml"
    config.write_text(RELEASE_CONFIG)
    endpoint = f"http://127.0.0.1:{_closed_port()}"
    argv = [a.format(out=tmp_path / "out") for a in args]
    # WHEN the command runs, with --json and without
    quick = {"ECS_RELEASE_MAX_ATTEMPTS": "2"}  # a refused connection is retried with backoff
    as_json = run_cli(config, endpoint, *argv, env=quick)
    plain = run_cli(config, endpoint, *argv, json_mode=False, env=quick)
    # THEN the exit is 3 ("AWS unreachable"), whichever step (the checks of verify and deploy, the
    # probe before diff's synthesis, a read) met it first, and the line says what was not reached
    assert (as_json.exit_code, plain.exit_code) == (errors.AWS_ERROR, errors.AWS_ERROR), as_json.stdout
    assert "cannot reach AWS " in as_json.json["error"] and f"at {endpoint}/" in as_json.json["error"]
    lines = [line for line in plain.stderr.splitlines() if line.strip()]
    assert lines == [f"error: {as_json.json['error']}"]
    assert "Traceback" not in plain.stderr + as_json.stderr
    if args[0] == "deploy":
        assert as_json.json["nothing_applied"] is True and "nothing was applied" in as_json.json["error"]
