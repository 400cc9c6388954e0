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
    """A copy of what synthesis reads: main.py, the config files and the code that synthesizes."""
    root = tmp_path / "project"
    root.mkdir()
    for name in synth_cache.CODE:
        shutil.copy(PROJECT / name, root / name)
    for location in synth_cache.code_locations().values():
        copy = root / location.relative_to(PROJECT)
        if location.is_file():
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(location, copy)
        else:
            shutil.copytree(location, copy, ignore=shutil.ignore_patterns("__pycache__"))
    (root / "ecs-cd.toml").write_text('[project]\nname = "a"\n')
    return root


def _code(root: Path) -> dict[str, Path]:
    """The copy's code, where the fingerprint would find the real code."""
    return {name: root / p.relative_to(PROJECT) for name, p in synth_cache.code_locations().items()}


def _print(root: Path, **env: str) -> str:
    return synth_cache.fingerprint(root, root / "ecs-cd.toml", env, _code(root))


def test_the_code_is_found_where_python_imports_it_from() -> None:
    # GIVEN this checkout, whose packages the tests import
    # WHEN the fingerprint's code is located THEN it is the checkout's, as each module's __file__ says
    import ecs_cd.core
    import stacks

    found = synth_cache.code_locations()
    assert found["stacks"] == Path(stacks.__file__).parent
    assert found["ecs_cd.core"] == Path(ecs_cd.core.__file__).parent
    assert found["ecs_cd.synth"] == PROJECT / "ecs_cd" / "synth.py"
    # AND by default the fingerprint covers that code
    config = PROJECT / "config" / "ecs-cd.toml"
    assert synth_cache.fingerprint(PROJECT, config, {}) == synth_cache.fingerprint(PROJECT, config, {}, found)


def test_the_fingerprint_follows_every_input(project: Path) -> None:
    # GIVEN a fingerprint; WHEN nothing changes THEN it is the same
    first = _print(project)
    assert _print(project) == first
    # WHEN the configuration, a construct, the app module, the synthesis entry, cdktf.json or an
    # environment variable main.py reads changes THEN so does the fingerprint (each change undone
    # before the next)
    changes = [
        project / "ecs-cd.toml",
        project / "constructs_lib" / "service.py",
        project / "stacks" / "app.py",
        project / "ecs_cd" / "synth.py",
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
    # AND a project directory without main.py or cdktf.json (an installation's) has a fingerprint
    # of its own
    for name in ("main.py", "cdktf.json", "Pipfile", "package-lock.json"):
        (project / name).unlink()
    assert _print(project) != first


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
