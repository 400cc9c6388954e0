"""The entry point itself: usage mistakes are bad input (exit 2), with JSON under --json."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from release.cli import main
from toolchain.cdktf_cli import PROJECT_DIR


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
    for argv in ([sys.executable, "-m", "release", "--help"], ["pipenv", "run", "ecs-release", "--help"]):
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
    from release.errors import BadInput
    from release.tags import TagVersion, rollback_target

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
