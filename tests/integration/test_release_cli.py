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
