"""The commands of the README and the documentation (docs/), run the way a reader runs them:
pasted into a new login shell.

Every command runs as ``env -i HOME=… TERM=xterm PATH=<minimal> bash -lc '…'``: the only
environment is what the user's profile builds and what the README says to export (the
emulator's ``export ECS_CD_EMULATOR_ENDPOINT=…`` line). No Makefile variables, no pipenv
environment, no offline Terraform settings leak in from the test process. The commands run
in a copy of the repository's files (its ``.venv``, ``node_modules`` and provider caches
linked, not copied), so synth output and local Terraform state stay in the copy.
"""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from pathlib import Path

import pytest

from tests.reader_shell import ANSI, DOCS, Shell, copy_repository, readme_block, walkthrough

pytestmark = pytest.mark.e2e


def synthesized(root: Path, stack: str) -> dict[str, object]:
    return dict(json.loads((root / "cdktf.out" / "stacks" / stack / "cdk.tf.json").read_text()))


def ecs_services(stack: dict[str, object]) -> dict[str, dict[str, object]]:
    resources = stack.get("resource", {})
    assert isinstance(resources, dict)
    return {str(s["name"]): s for s in resources.get("aws_ecs_service", {}).values()}


# --- without the emulator -----------------------------------------------------------


def test_walkthrough_has_the_release_loop() -> None:
    commands = [" ".join(shlex.split(line, comments=True)[2:4]) for line in walkthrough()]
    assert "ecs-release set-tag" in commands and "ecs-release rollback" in commands
    assert commands.count("ecs-release deploy") == 3


def test_pipenv_and_the_release_command_line(shell: Shell) -> None:
    # GIVEN a new login shell (no make, no pipenv environment)
    # THEN it finds pipenv, and the README's `pipenv run ecs-release …` works
    found = shell.ok("command -v pipenv").stdout.strip().splitlines()[-1]
    assert found, "a new login shell does not find pipenv"
    result = shell.ok("pipenv run ecs-release --help")
    assert "Usage: ecs-release" in result.stdout


def test_one_test_module_runs_as_written(shell: Shell) -> None:
    # GIVEN the documented way to run one test module (docs/contributing/tests.md)
    (command,) = re.findall(r"`(pipenv run pytest tests/[^`]+)`", "\n".join(DOCS.values()))
    # WHEN a new login shell runs it as written
    result = shell.ok(command)
    # THEN the module's tests pass, in one process (no xdist workers)
    assert re.search(r"\d+ passed", result.stdout), result.stdout[-2000:]
    assert "workers" not in result.stdout and "[gw" not in result.stdout


def test_cdktf_synth_as_written(shell: Shell) -> None:
    # WHEN `npx cdktf synth` runs as written (cdktf.json: "pipenv run python main.py")
    shell.ok("npx cdktf synth")
    # THEN every environment of the shipped configuration is synthesized
    configured = tomllib.loads((shell.cwd / "config" / "ecs-cd.toml").read_text())["environments"]
    written = {p.name for p in (shell.cwd / "cdktf.out" / "stacks").iterdir()}
    assert written == set(configured)


def test_add_a_service_and_an_environment_as_written(shell: Shell, tmp_path: Path) -> None:
    # GIVEN a fresh copy of the repository, and the documentation's "Add a service" and "Add an
    # environment" tables appended to its shipped config/ecs-cd.toml (one synthesis checks both,
    # as for a reader who followed the two)
    root = copy_repository(tmp_path / "ecs-cd")
    with (root / "config" / "ecs-cd.toml").open("a") as config:
        config.write("\n" + readme_block("add-service", "toml"))
        config.write("\n" + readme_block("add-environment", "toml"))
    # WHEN the documented check runs (docs/tutorials/add-a-service.md)
    shell.ok("make synth", cwd=root)
    # THEN every environment runs the worker next to api, prod with 3 tasks
    for environment in ("local", "dev", "staging", "prod", "qa"):
        services = ecs_services(synthesized(root, environment))
        assert set(services) == {"api", "worker"}, environment
        assert services["worker"]["desired_count"] == (3 if environment == "prod" else 1)
    # AND the new environment's stack has api from its own repository, and the load balancer it needs
    qa = synthesized(root, "qa")
    text = json.dumps(qa)
    assert "111111111111.dkr.ecr.eu-west-1.amazonaws.com/demo-api" in text
    resources = qa["resource"]
    assert isinstance(resources, dict)
    assert resources.get("aws_lb") and resources.get("aws_lb_listener_rule")


def test_docs_and_references_build_as_written(shell: Shell) -> None:
    # GIVEN the README's documentation commands, in a new login shell
    generated = ("config/ecs-cd.schema.json", "docs/reference/configuration.md", "docs/reference/cli.md")
    committed = {name: (shell.cwd / name).read_text() for name in generated}
    # WHEN the references are generated again and the site is built
    shell.ok("make reference")
    shell.ok("make docs")
    # THEN the committed references are what the models and commands make now (unchanged)
    assert {name: (shell.cwd / name).read_text() for name in generated} == committed
    # AND the site has a page for every Markdown file under docs/ (directory URLs: a/b.md is a/b/index.html)
    site = shell.cwd / ".cache" / "site"
    for page in (shell.cwd / "docs").rglob("*.md"):
        stem = page.relative_to(shell.cwd / "docs").with_suffix("")
        built = site / (stem.parent if stem.name == "index" else stem) / "index.html"
        assert built.is_file(), f"{page} was not built"


def test_deploy_without_a_terminal_says_how(shell: Shell) -> None:
    # `make deploy` asks before it applies; without a terminal it says so in one line
    # (cdktf's own prompt would fail with a stack trace) and touches nothing.
    result = shell.run("make deploy ENV=local")
    assert result.returncode != 0
    assert "needs a terminal; add --auto-approve" in result.stdout + result.stderr
    result = shell.run("make diff")
    assert result.returncode != 0
    assert "usage: make diff ENV=<environment>" in result.stdout + result.stderr


# --- against the emulator, started as the README says ------------------------------


def test_walkthrough_runs_as_written(shell: Shell, emulator_export: str) -> None:
    # The reader pasted the emulator's export line into this terminal, then each line.
    last = None
    for line in walkthrough():
        last = shell.ok(f"{emulator_export}\n{line}", timeout=600)
    # The final `--json status` shows the rolled-back tag running
    assert last is not None
    (api,) = json.loads(last.stdout)["services"]
    assert api["tag"] == "1.0.0"
    assert api["images"] == ["123456789012.dkr.ecr.us-east-1.amazonaws.com/demo-api:1.0.0"]


def test_manual_diff_and_deploy(shell: Shell, emulator_export: str) -> None:
    # GIVEN the walk-through's deployed `local` (its state in the copy's cdktf.out)
    # WHEN the documented manual commands run (docs/getting-started/real-account.md): plan, then
    # deploy, answering its question
    diff = shell.ok(f"{emulator_export}\nmake diff ENV=local")
    assert "Error" not in ANSI.sub("", diff.stdout + diff.stderr)
    code, output = shell.in_terminal(
        f"{emulator_export}\nmake deploy ENV=local", answer_when=b"Approve", answer=b"\r"
    )
    # THEN Terraform applied offline, with nothing set by hand
    assert code == 0 and "Apply complete!" in output, output[-4000:]
    status = json.loads(shell.ok(f"{emulator_export}\npipenv run ecs-release --json status local api").stdout)
    assert [s["tag"] for s in status["services"]] == ["1.0.0"]
