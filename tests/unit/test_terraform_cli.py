"""Terraform run one way (ecs_cd/release/terraform_cli.py), with a fake Terraform: init only when
needed, output streamed and kept, stdout apart for show -json and state pull, a timeout, a
forwarded signal."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ecs_cd.release.terraform_cli import OWN_SESSION, SignalPolicy, Terraform

FAKE = """#!/bin/sh
echo "$*" >> "$LOG"
case "$1" in
  init) mkdir -p .terraform/providers; : > .terraform.lock.hcl; echo "Terraform has been initialized!" ;;
  apply) echo "aws_x.a: Creating..."; echo "Apply complete! Resources: 1 added, 0 changed, 0 destroyed." ;;
  show) echo '{"resource_changes": [{"address": "aws_x.a"}]}'; echo "a warning" >&2 ;;
  state) [ -n "$SLOW" ] && sleep 30; echo '{"version": 4}' ;;
  plan) exec "$PYTHON" -c "$PLAN" ;;
esac
"""
# The plan, in Python rather than sh: a shell cannot trap a signal that was ignored when it started
# (a pipeline that starts the tests in the background ignores SIGINT), while Terraform, like this,
# installs its own SIGINT handler whatever it inherited (Go's signal.Notify).
PLAN = """
import os, signal, sys, time
def stop(*_):
    print("stopping gracefully", flush=True)
    sys.exit(1)
signal.signal(signal.SIGINT, stop)
if os.environ.get("SIGNAL_ME"):
    time.sleep(0.5)
    os.kill(os.getppid(), signal.SIGTERM)  # ecs-release is signalled while Terraform runs
time.sleep(2)
print("Plan: 1 to add", flush=True)
"""


@pytest.fixture()
def stack(tmp_path: Path) -> Path:
    (tmp_path / "tf").write_text(FAKE)
    (tmp_path / "tf").chmod(0o755)
    directory = tmp_path / "dev"
    directory.mkdir()
    (directory / "cdk.tf.json").write_text(json.dumps({"terraform": {"required_providers": {"aws": {}}}}))
    return directory


def cli(stack: Path, signals: SignalPolicy = OWN_SESSION, **env: str) -> Terraform:
    return Terraform(
        str(stack.parent / "tf"),
        {
            "PATH": os.environ["PATH"],
            "LOG": str(stack.parent / "log"),
            "PYTHON": sys.executable,
            "PLAN": PLAN,
            **env,
        },
        signals=signals,
    )


def test_init_runs_only_when_the_stack_or_the_cli_config_changed(stack: Path) -> None:
    first = cli(stack).init(stack)
    second = cli(stack).init(stack)
    assert (first.ran, first.ok, second.ran) == (True, True, False)
    assert "Terraform has been initialized!\n" in first.output
    forced = cli(stack).init(stack, when_needed=False)
    assert forced.ran and (stack.parent / "log").read_text().count("init -input=false -no-color") == 2


def test_apply_streams_its_lines_and_reads_its_summary(stack: Path) -> None:
    seen: list[str] = []
    applied = cli(stack).apply(stack, targets=["aws_x.a"], on_line=seen.append)
    assert applied.ok and seen == list(applied.output)
    assert applied.summary == "Apply complete! Resources: 1 added, 0 changed, 0 destroyed."
    assert "apply -auto-approve -input=false -no-color -target=aws_x.a" in (stack.parent / "log").read_text()


def test_show_json_and_state_pull_keep_stdout_apart(stack: Path) -> None:
    shown = cli(stack).show_json(stack, "p.tfplan")
    assert shown.document == {"resource_changes": [{"address": "aws_x.a"}]} and shown.errors == "a warning\n"
    pulled = cli(stack).state_pull(stack)
    assert pulled.command == "state pull" and json.loads(pulled.text) == {"version": 4}


def test_a_state_pull_past_its_timeout_is_ended(stack: Path) -> None:
    pulled = cli(stack, SLOW="1").state_pull(stack, timeout=0.5)
    assert pulled.timed_out and not pulled.ok


def test_a_forwarded_signal_reaches_terraform_as_sigint(stack: Path) -> None:
    @contextlib.contextmanager
    def forwarding(on_signal: Callable[[int], None]) -> Iterator[None]:
        previous = signal.signal(signal.SIGTERM, lambda number, _frame: on_signal(number))
        try:
            yield
        finally:
            signal.signal(signal.SIGTERM, previous)

    policy = SignalPolicy(new_session=True, forwarding=forwarding)
    planned = cli(stack, policy, SIGNAL_ME="1").plan(stack, "p.tfplan")
    assert planned.signal_number == signal.SIGTERM
    assert planned.exit_code == 1 and "stopping gracefully\n" in planned.output
