"""The CI examples are valid YAML and call only commands and options that exist."""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from ecs_cd.release.cli import cli

PROJECT_DIR = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((PROJECT_DIR / "examples" / "ci").glob("*.yml"))


def _scripts(document: Any) -> list[str]:
    """Every shell script in a workflow: GitHub `run`, Azure `script` and `inlineScript`."""
    found: list[str] = []
    if isinstance(document, dict):
        for key, value in document.items():
            if key in ("run", "script", "inlineScript") and isinstance(value, str):
                found.append(value)
            else:
                found += _scripts(value)
    elif isinstance(document, list):
        for item in document:
            found += _scripts(item)
    return found


def _release_calls(scripts: list[str]) -> list[list[str]]:
    calls = []
    for script in scripts:
        for line in script.splitlines():
            if "ecs-release" not in line:
                continue
            tokens = shlex.split(line.split(">")[0])
            args = tokens[tokens.index("ecs-release") + 1 :]
            # Pipeline variables stand for values; any value parses the same.
            calls.append(["x" if "$" in a else a for a in args])
    return calls


def test_there_are_examples_for_github_and_azure() -> None:
    assert [p.name for p in EXAMPLES] == ["azure-pipelines.yml", "github-actions.yml"]


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_calls_existing_commands(path: Path) -> None:
    # GIVEN a CI example WHEN parsed as YAML THEN it is a mapping with scripts
    document = yaml.safe_load(path.read_text())
    assert isinstance(document, dict)
    scripts = _scripts(document)
    calls = _release_calls(scripts)
    # THEN it writes the tag and deploys with --wait
    assert [next(a for a in c if a in cli.commands) for c in calls] == ["set-tag", "deploy"]
    assert any("--wait" in c for c in calls)
    for args in calls:
        # AND every call parses against the real command line (unknown options fail here)
        group_ctx = cli.make_context("ecs-release", list(args))
        name = next(a for a in args if a in cli.commands)
        rest = args[args.index(name) + 1 :]
        command = cli.commands[name]
        assert isinstance(command, click.Command)
        command.make_context(name, list(rest), parent=group_ctx)
    # AND its make targets and pipenv scripts exist
    makefile = (PROJECT_DIR / "Makefile").read_text()
    for target in re.findall(r"\bmake (\w+)", "\n".join(scripts)):
        assert re.search(rf"^{target}:", makefile, re.M), target
    pipenv_scripts = tomllib.loads((PROJECT_DIR / "Pipfile").read_text())["scripts"]
    for script in re.findall(r"pipenv run ([\w-]+)", "\n".join(scripts)):
        assert script in pipenv_scripts, script


def test_unknown_option_would_be_caught() -> None:
    # The check above is only worth something if a wrong option fails it.
    with pytest.raises(click.UsageError):
        cli.commands["deploy"].make_context("deploy", ["dev", "--wiat"])
