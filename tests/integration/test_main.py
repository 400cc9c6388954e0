"""main.py as cdktf runs it: a bad configuration is one clear line, exit 2, nothing written."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import FIXTURE_CONFIG

PROJECT_DIR = Path(__file__).resolve().parents[2]


def test_main_reports_errors_without_traceback_and_synthesizes_nothing(tmp_path: Path) -> None:
    # GIVEN a configuration file with a wrong Fargate size
    config = tmp_path / "bad.toml"
    config.write_text(FIXTURE_CONFIG.read_text().replace("cpu = 512", "cpu = 333"))
    # WHEN the cdktf app runs on it
    result = subprocess.run(
        [sys.executable, str(PROJECT_DIR / "main.py")],
        cwd=tmp_path,
        env={"ECS_CD_CONFIG": str(config), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    # THEN it exits 2 with the one clear line, no traceback, and writes no output
    assert result.returncode == 2, result.stderr
    assert f"{config}: services.worker.cpu = 333: Fargate cpu must be one of" in result.stderr
    assert "Traceback" not in result.stderr and "jsii" not in result.stderr
    assert not (tmp_path / "cdktf.out").exists()
