"""What a failed `python -m ecs_cd.synth` says through ecs-release (ecs_cd/release/synthesis.py):
one line, the child's own, without its traceback."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from ecs_cd.release.synthesis import find_node, reason, synth_command
from ecs_cd.toolchain.errors import ToolError

FAILED = """\
Traceback (most recent call last):
  File "/venv/lib/python3.11/site-packages/ecs_cd/synth.py", line 85, in main
    code = synthesize(settings, str(outdir), fast_import=True)
  File "/venv/lib/python3.11/site-packages/jsii/_kernel/providers/process.py", line 359, in send
    raise RuntimeError(resp.error) from JavaScriptError(resp.stack)
RuntimeError: Error: EISDIR: illegal operation on a directory, open '/o/manifest.json'
ecs-cd: synthesis into /o failed: RuntimeError: EISDIR: illegal operation on a directory, open '/o/m.json'
"""

INVALID = """\
ecs-cd: the configuration is invalid, nothing was synthesized:
  ecs-cd.toml: environments.dev.region = 'mars-1': not a region
  ecs-cd.toml: services.api.cpu = 333: Fargate cpu must be one of [256, 512]
"""

CRASHED = """\
Traceback (most recent call last):
  File "<frozen runpy>", line 189, in _run_module_as_main
ModuleNotFoundError: No module named 'ecs_cd'
"""


@pytest.mark.parametrize(
    ("text", "said"),
    [
        (FAILED, "RuntimeError: EISDIR: illegal operation on a directory, open '/o/m.json'"),
        (
            INVALID,
            "ecs-cd: the configuration is invalid, nothing was synthesized: ecs-cd.toml: "
            "environments.dev.region = 'mars-1': not a region; ecs-cd.toml: services.api.cpu = 333: "
            "Fargate cpu must be one of [256, 512]",
        ),
        (CRASHED, "ModuleNotFoundError: No module named 'ecs_cd'"),
        ("killed\n", "killed"),
        ("", "no output"),
    ],
)
def test_the_reason_is_the_childs_own_line(text: str, said: str) -> None:
    assert reason(text) == said


def test_the_child_is_this_interpreter_with_absolute_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    argv = synth_command(Path("ecs-cd.toml"), tmp_path / "out")
    assert argv == [
        sys.executable,
        "-m",
        "ecs_cd.synth",
        "--config",
        str(tmp_path / "ecs-cd.toml"),
        "--output",
        str(tmp_path / "out"),
    ]


def test_node_is_found_on_the_path_it_will_run_with(tmp_path: Path) -> None:
    node = tmp_path / "node"
    node.write_text("#!/bin/sh\n")
    node.chmod(0o755)
    assert find_node({"PATH": str(tmp_path)}) == str(node)
    with pytest.raises(ToolError, match=r"^node was not found on PATH: install Node.js >= 20"):
        find_node({"PATH": str(tmp_path / "none")})
