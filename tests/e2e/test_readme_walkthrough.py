"""The README's release walk-through runs as written, line by line, against the emulator."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest

from devkit.cdktf_cli import PROJECT_DIR
from devkit.emulator import Emulator

pytestmark = pytest.mark.e2e


def walkthrough() -> list[str]:
    readme = (PROJECT_DIR / "README.md").read_text()
    block = re.search(r"<!-- walkthrough:start -->\n```sh\n(.*?)```\n<!-- walkthrough:end -->", readme, re.S)
    assert block, "README.md lost its walk-through markers"
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_walkthrough_has_the_release_loop() -> None:
    commands = [" ".join(shlex.split(line, comments=True)[2:4]) for line in walkthrough()]
    assert "ecs-release set-tag" in commands and "ecs-release rollback" in commands
    assert commands.count("ecs-release deploy") == 3


def test_walkthrough_runs_as_written(emulator: Emulator, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "ECS_CD_EMULATOR_ENDPOINT": emulator.endpoint,
        "ECS_CD_OUTPUT": str(tmp_path / "cdktf.out"),
        "CI": "true",
    }
    env.pop("ECS_CD_CONFIG", None)
    last = None
    for line in walkthrough():
        last = subprocess.run(
            ["bash", "-c", line], cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=600
        )
        assert last.returncode == 0, f"{line}\n{last.stdout[-3000:]}\n{last.stderr[-3000:]}"
    # The final `--json status` shows the rolled-back tag running
    assert last is not None
    (api,) = json.loads(last.stdout)["services"]
    assert api["tag"] == "1.0.0"
    assert api["images"] == ["123456789012.dkr.ecr.us-east-1.amazonaws.com/demo-api:1.0.0"]
