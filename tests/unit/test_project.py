"""Where the project is (ecs_cd/release/project.py): the configuration file ecs-release reads, its
project directory, and what goes there, in a checkout and in an installation."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ecs_cd.release.errors import BadInput
from ecs_cd.release.project import CODE_ROOT, Project, project_directory, source_checkout

CHECKOUT = Path(__file__).resolve().parents[2]


def _touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("")
    return path


def test_this_repository_is_a_source_checkout_and_a_plain_directory_is_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the code these tests run, and a directory that merely holds an ecs-cd.toml
    _touch(tmp_path / "config" / "ecs-cd.toml")
    # WHEN each is asked whether it is a checkout THEN only the repository is
    assert CODE_ROOT == CHECKOUT and source_checkout() == CHECKOUT
    assert source_checkout(tmp_path) is None
    # AND this process's project, in the repository with ECS_CD_CONFIG unset, is the checkout's
    monkeypatch.chdir(CHECKOUT)
    monkeypatch.delenv("ECS_CD_CONFIG", raising=False)
    assert Project.here(None) == Project(CHECKOUT / "config" / "ecs-cd.toml", CHECKOUT, CHECKOUT)


def test_the_configuration_is_looked_for_in_order_and_none_is_one_line_naming_the_places(
    tmp_path: Path,
) -> None:
    # GIVEN a directory with both files a user may have, and a checkout's configuration
    here = _touch(tmp_path / "ecs-cd.toml")
    nested = _touch(tmp_path / "config" / "ecs-cd.toml")
    checkout_config = CHECKOUT / "config" / "ecs-cd.toml"

    def found(
        given: Path | None = None, *, environ: dict[str, str] | None = None, checkout: bool = False
    ) -> Path:
        project = Project.find(given, environ or {}, tmp_path, CHECKOUT if checkout else None)
        return project.config

    # WHEN --config or ECS_CD_CONFIG name a file THEN it is that one, --config first, existing or not
    assert found(Path("x.toml"), environ={"ECS_CD_CONFIG": "y.toml"}) == Path("x.toml")
    assert found(environ={"ECS_CD_CONFIG": "y.toml"}) == Path("y.toml")
    # WHEN neither does THEN ./ecs-cd.toml, else ./config/ecs-cd.toml, else the checkout's
    assert found(checkout=True) == here
    here.unlink()
    assert found(checkout=True) == nested
    nested.unlink()
    assert found(checkout=True) == checkout_config
    # AND outside a checkout, none is one line naming every place tried
    with pytest.raises(BadInput) as raised:
        found()
    assert str(raised.value) == (
        "no configuration file: neither --config nor ECS_CD_CONFIG names one, and there is no "
        f"{tmp_path / 'ecs-cd.toml'} or {tmp_path / 'config' / 'ecs-cd.toml'}"
    )
    assert raised.value.exit_code == 2


def test_the_project_directory_is_the_nearest_with_a_cdktf_json_else_the_files_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a cdktf project with its configuration in config/, and a plain directory beside it
    _touch(tmp_path / "app" / "cdktf.json")
    in_app = _touch(tmp_path / "app" / "config" / "deep" / "ecs-cd.toml")
    plain = _touch(tmp_path / "plain" / "ecs-cd.toml")
    # WHEN each file's project directory is found THEN it is the cdktf project's, else the file's own
    assert project_directory(in_app) == tmp_path / "app"
    assert project_directory(plain) == tmp_path / "plain"
    assert project_directory(CHECKOUT / "config" / "ecs-cd.toml") == CHECKOUT
    # AND a relative path is taken from the current directory
    monkeypatch.chdir(tmp_path / "plain")
    assert project_directory(Path("ecs-cd.toml")) == tmp_path / "plain"


def test_what_goes_in_the_project_directory_in_an_installation_and_in_a_checkout(tmp_path: Path) -> None:
    # GIVEN an installed package's project: a directory holding only its configuration
    installed = Project(tmp_path / "ecs-cd.toml", tmp_path, checkout=None)
    # THEN cdktf.out and .cache are there, it has no cdktf project, and children need no PYTHONPATH
    assert (installed.output, installed.cache) == (tmp_path / "cdktf.out", tmp_path / ".cache")
    assert installed.cdktf_project is None
    assert installed.child_environment({"PATH": "/bin"}) == {"PATH": "/bin"}

    # GIVEN a checkout running a configuration of its own, and one elsewhere
    own = Project(CHECKOUT / "config" / "ecs-cd.toml", CHECKOUT, checkout=CHECKOUT)
    elsewhere = Project(tmp_path / "ecs-cd.toml", tmp_path, checkout=CHECKOUT)
    # THEN the output goes to each project directory, the offline cache stays the checkout's, and
    # `cdktf deploy` runs in the checkout (its main.py reads ECS_CD_CONFIG)
    assert (own.output, elsewhere.output) == (CHECKOUT / "cdktf.out", tmp_path / "cdktf.out")
    assert own.cache == elsewhere.cache == CHECKOUT / ".cache"
    assert own.cdktf_project == elsewhere.cdktf_project == CHECKOUT
    # AND a child imports the checkout's packages first, once
    child = elsewhere.child_environment({"PYTHONPATH": "/x"})
    assert child["PYTHONPATH"] == f"{CHECKOUT}{os.pathsep}/x"
    assert elsewhere.child_environment(child) == child


def test_a_cdktf_project_of_ones_own_is_where_cdktf_deploy_runs(tmp_path: Path) -> None:
    # GIVEN an installed package's project that is a cdktf project
    _touch(tmp_path / "cdktf.json")
    project = Project.find(_touch(tmp_path / "ecs-cd.toml"), {}, tmp_path, None)
    # THEN it is the project directory and where `cdktf deploy` runs
    assert project.directory == tmp_path and project.cdktf_project == tmp_path
