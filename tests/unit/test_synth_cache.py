"""Reusing a synthesis (issue 17): the fingerprint changes with everything the synthesized JSON
depends on, and a synthesis is reused only while its files are untouched."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ecs_cd.release import synth_cache

PROJECT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    """A copy of what synthesis reads: main.py, the config files and the three packages."""
    root = tmp_path / "project"
    root.mkdir()
    for name in synth_cache.CODE:
        shutil.copy(PROJECT / name, root / name)
    for package in synth_cache.CODE_PACKAGES:
        shutil.copytree(PROJECT / package, root / package, ignore=shutil.ignore_patterns("__pycache__"))
    (root / "ecs-cd.toml").write_text('[project]\nname = "a"\n')
    return root


def _print(root: Path, **env: str) -> str:
    return synth_cache.fingerprint(root, root / "ecs-cd.toml", env)


def test_the_fingerprint_follows_every_input(project: Path) -> None:
    # GIVEN a fingerprint; WHEN nothing changes THEN it is the same
    first = _print(project)
    assert _print(project) == first
    # WHEN the configuration, a construct, cdktf.json or an environment variable main.py reads
    # changes THEN so does the fingerprint (each change undone before the next)
    changes = [
        project / "ecs-cd.toml",
        project / "constructs_lib" / "service.py",
        project / "cdktf.json",
    ]
    for path in changes:
        before = path.read_bytes()
        path.write_bytes(before + b"\n# changed\n")
        assert _print(project) != first, path
        path.write_bytes(before)
    assert _print(project, ECS_CD_EMULATOR_ENDPOINT="http://127.0.0.1:4566") != first
    assert _print(project, ECS_CD_FAST_IMPORT="0") != first
    # AND a new file in a package counts too
    (project / "ecs_cd" / "core" / "new_rule.py").write_text("X = 1\n")
    assert _print(project) != first
    # AND a variable nobody reads does not
    (project / "ecs_cd" / "core" / "new_rule.py").unlink()
    assert _print(project, HOME="/elsewhere") == first


def _synthesized(outdir: Path) -> None:
    (outdir / "stacks" / "dev").mkdir(parents=True)
    (outdir / "manifest.json").write_text('{"stacks": {"dev": {}}}')
    (outdir / "stacks" / "dev" / "cdk.tf.json").write_text('{"resource": {}}')


def test_a_synthesis_is_reused_only_while_its_files_are_untouched(tmp_path: Path) -> None:
    outdir = tmp_path / "out"
    _synthesized(outdir)
    # GIVEN no record THEN nothing is reused
    assert not synth_cache.reusable(outdir, "f1", ["dev"])
    # WHEN a synthesis is recorded THEN the same fingerprint reuses it, another does not
    synth_cache.record(outdir, "f1")
    assert synth_cache.reusable(outdir, "f1", ["dev"])
    assert not synth_cache.reusable(outdir, "f2", ["dev"])
    # AND a stack it did not write is not there to reuse
    assert not synth_cache.reusable(outdir, "f1", ["dev", "dev-api"])
    # WHEN something else synthesized into the directory since THEN it is not reused
    (outdir / "stacks" / "dev" / "cdk.tf.json").write_text('{"resource": {"x": {}}}')
    assert not synth_cache.reusable(outdir, "f1", ["dev"])
    # AND a forgotten record reuses nothing
    synth_cache.record(outdir, "f1")
    synth_cache.forget(outdir)
    assert not synth_cache.reusable(outdir, "f1", ["dev"])
