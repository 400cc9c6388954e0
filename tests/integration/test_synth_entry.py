"""``python -m ecs_cd.synth``: the synthesis ecs-release runs without the cdktf CLI writes what
``cdktf synth`` writes, byte for byte, and says a failure in one ``ecs-cd:`` line."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from ecs_cd.toolchain.cdktf_cli import PROJECT_DIR, cdktf, tool_environment
from ecs_cd.toolchain.terraform_offline import TerraformSetup

SHIPPED = PROJECT_DIR / "config" / "ecs-cd.toml"


def _environment() -> dict[str, str]:
    """This process's environment without what would point either synthesis elsewhere."""
    drop = ("ECS_CD_CONFIG", "ECS_CD_EMULATOR_ENDPOINT", "ECS_CD_FAST_IMPORT", "CDKTF_OUTDIR")
    env = tool_environment(TerraformSetup(offline=False))
    return {key: value for key, value in env.items() if key not in drop}


def _synth(config: Path, outdir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ecs_cd.synth", "--config", str(config), "--output", str(outdir)],
        cwd=outdir.parent,
        env={**_environment(), "PYTHONPATH": str(PROJECT_DIR)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _files(outdir: Path) -> dict[str, bytes]:
    return {str(p.relative_to(outdir)): p.read_bytes() for p in sorted(outdir.rglob("*")) if p.is_file()}


def test_it_writes_what_cdktf_synth_writes_byte_for_byte_and_drops_stacks_the_app_no_longer_has(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN the shipped configuration synthesized by the cdktf CLI (which runs main.py)
    by_cli = tmp_path / "cli"
    started = time.monotonic()
    cli = cdktf(["synth", "--output", str(by_cli)], env=_environment())
    cli_seconds = time.monotonic() - started
    assert cli.returncode == 0, cli.stdout[-3000:] + cli.stderr[-3000:]
    # AND an output directory holding a stack the configuration no longer has
    direct = tmp_path / "direct"
    (direct / "stacks" / "gone").mkdir(parents=True)
    (direct / "stacks" / "gone" / "cdk.tf.json").write_text("{}")

    # WHEN the same configuration is synthesized without the CLI, from another directory
    started = time.monotonic()
    done = _synth(SHIPPED, direct)
    direct_seconds = time.monotonic() - started

    # THEN it exits 0 and the manifest and every stack's JSON are the CLI's, byte for byte
    assert done.returncode == 0, done.stderr[-3000:]
    written = _files(direct)
    assert sorted(written) == sorted(_files(by_cli))
    assert {"manifest.json", "stacks/local/cdk.tf.json", "stacks/prod/cdk.tf.json"} <= set(written)
    assert written == _files(by_cli)
    # AND the stack the app no longer has is gone, as cdktf synth removes it
    assert not (direct / "stacks" / "gone").exists()
    with capsys.disabled():
        print(f"\ncdktf synth {cli_seconds:.1f} s, python -m ecs_cd.synth {direct_seconds:.1f} s")


def test_a_failed_synthesis_ends_with_one_line_and_a_bad_configuration_exits_2(tmp_path: Path) -> None:
    # GIVEN an output directory where the app cannot write its manifest
    blocked = tmp_path / "blocked"
    (blocked / "manifest.json").mkdir(parents=True)

    # WHEN the shipped configuration is synthesized into it
    done = _synth(SHIPPED, blocked)

    # THEN it exits 1: the traceback for a log, then one line saying why, last
    assert done.returncode == 1, done.stderr[-3000:]
    *before, last = done.stderr.strip().splitlines()
    assert "Traceback (most recent call last):" in before
    assert last.startswith(f"ecs-cd: synthesis into {blocked} failed: RuntimeError: EISDIR: ")

    # WHEN a configuration with a wrong Fargate size is synthesized
    bad = tmp_path / "bad.toml"
    bad.write_text(SHIPPED.read_text().replace("cpu = 256", "cpu = 333", 1))
    refused = _synth(bad, tmp_path / "out")

    # THEN it exits 2 with main.py's lines and no traceback, and writes nothing
    assert refused.returncode == 2, refused.stderr[-3000:]
    first, *problems = refused.stderr.strip().splitlines()
    assert first == "ecs-cd: the configuration is invalid, nothing was synthesized:"
    assert problems and all(p.startswith(f"  {bad}: ") for p in problems)
    assert "Traceback" not in refused.stderr
    assert not (tmp_path / "out").exists()
