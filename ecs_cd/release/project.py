"""Where the project is: the configuration file `ecs-release` reads, the directory it belongs to,
and what lives there (the default output directory, the offline Terraform setup's cache), for an
installed package and a checkout of this repository alike.

The configuration file: ``--config``, else ``ECS_CD_CONFIG``, else ``./ecs-cd.toml``, else
``./config/ecs-cd.toml`` (from the current directory), else, only when the code runs from a source
checkout of this repository, the checkout's ``config/ecs-cd.toml``. The project directory: the
nearest directory above the configuration file holding a ``cdktf.json``, else the file's own.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ecs_cd.release.errors import BadInput

CONFIG_NAME = "ecs-cd.toml"
# Where the package's directory sits: a checkout's working tree, or site-packages when installed.
CODE_ROOT = Path(__file__).resolve().parents[2]


def source_checkout(root: Path = CODE_ROOT) -> Path | None:
    """The checkout of this repository the code runs from (its cdktf.json and config/ecs-cd.toml
    beside the package), None in an installation."""
    if (root / "cdktf.json").is_file() and (root / "config" / CONFIG_NAME).is_file():
        return root
    return None


def candidates(cwd: Path, checkout: Path | None) -> list[Path]:
    """The configuration files looked for when neither --config nor ECS_CD_CONFIG names one."""
    found = [cwd / CONFIG_NAME, cwd / "config" / CONFIG_NAME]
    return [*found, checkout / "config" / CONFIG_NAME] if checkout is not None else found


def find_config(given: Path | None, environ: Mapping[str, str], cwd: Path, checkout: Path | None) -> Path:
    """The configuration file (see the module's docstring); ``BadInput`` naming the places tried."""
    if given is not None:
        return given
    if environ.get("ECS_CD_CONFIG"):
        return Path(environ["ECS_CD_CONFIG"])
    tried = candidates(cwd, checkout)
    for candidate in tried:
        if candidate.is_file():
            return candidate
    raise BadInput(
        f"no configuration file: neither --config nor ECS_CD_CONFIG names one, and there is no "
        f"{' or '.join(str(p) for p in tried)}"
    )


def project_directory(config: Path) -> Path:
    """The nearest directory above ``config`` holding a cdktf.json, else the file's directory."""
    config = config.absolute()
    for directory in config.parents:
        if (directory / "cdktf.json").is_file():
            return directory
    return config.parent


@dataclass(frozen=True)
class Project:
    """The configuration file, its project directory and, when the code runs from one, the source
    checkout of this repository."""

    config: Path
    directory: Path
    checkout: Path | None = None

    @classmethod
    def find(
        cls, given: Path | None, environ: Mapping[str, str], cwd: Path, checkout: Path | None
    ) -> Project:
        """The project of ``given`` (--config), or of the configuration file found without it from
        ``cwd``, when the code runs from ``checkout`` (None: an installation)."""
        config = find_config(given, environ, cwd, checkout)
        return cls(config, project_directory(config), checkout)

    @classmethod
    def here(cls, given: Path | None) -> Project:
        """The project of this process: its environment, current directory and code."""
        return cls.find(given, os.environ, Path.cwd(), source_checkout())

    @property
    def output(self) -> Path:
        """The default output directory (``--output``): ``cdktf.out`` in the project directory."""
        return self.directory / "cdktf.out"

    @property
    def cache(self) -> Path:
        """The offline Terraform setup's cache: ``.cache`` in the project directory; the checkout's
        when the code runs from one (whichever configuration file it reads), so tests and the demo
        share one offline null provider mirror."""
        return (self.checkout or self.directory) / ".cache"

    @property
    def cdktf_project(self) -> Path | None:
        """Where `cdktf deploy` runs (--via cdktf): the project directory if it is a cdktf project
        (a cdktf.json), else the checkout the code runs from (its main.py reads ECS_CD_CONFIG)."""
        if (self.directory / "cdktf.json").is_file():
            return self.directory
        return self.checkout

    def child_environment(self, env: Mapping[str, str]) -> dict[str, str]:
        """``env`` for a ``python -m ecs_cd…`` child: a checkout's packages are not installed, so
        the checkout goes first on its PYTHONPATH (an installation needs nothing)."""
        child = dict(env)
        paths = [p for p in child.get("PYTHONPATH", "").split(os.pathsep) if p]
        if self.checkout is not None and paths[:1] != [str(self.checkout)]:
            child["PYTHONPATH"] = os.pathsep.join([str(self.checkout), *paths])
        return child
