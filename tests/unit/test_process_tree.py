"""Nothing outlives a deploy (issue 26): a Terraform that is SIGKILLed leaves its provider plugin
processes running, and every place that runs Terraform ends them once Terraform has exited
(ecs_cd/release/process_tree.py).

Terraform is replaced by a script that starts a long-lived "plugin" (``sleep``, its output not
tied to Terraform's, as go-plugin's are not) and then SIGKILLs itself, as an OOM killer would.
Each test checks by pid that the plugin is gone when the call returns. The real Terraform and
AWS provider are killed the same way in tests/e2e/test_signals.py.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

import pytest

from ecs_cd.release import pre_deploy
from ecs_cd.release.apply_process import run_cdktf
from ecs_cd.release.terraform_cli import OWN_SESSION, Terraform
from ecs_cd.release.terraform_commands import TerraformRecorder
from ecs_cd.release.terraform_run import Runner
from ecs_cd.toolchain.cdktf_cli import PROJECT_DIR

KILLED_TERRAFORM = """#!/bin/sh
# A fake Terraform: its plugin outlives it unless someone ends it.
case "$1" in
  init) mkdir -p .terraform/providers; : > .terraform.lock.hcl; exit 0 ;;
esac
sleep 300 </dev/null >/dev/null 2>&1 &
echo $! >> "$PLUGIN_PIDS"
echo "aws_ecs_service.api: Creating..."
kill -9 $$
"""


def alive(pid: int) -> bool:
    """Running (a zombie waiting for its reaper is not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2] != "Z"


class Lab:
    def __init__(self, tmp_path: Path) -> None:
        self.terraform = tmp_path / "terraform"
        self.terraform.write_text(KILLED_TERRAFORM)
        self.terraform.chmod(0o755)
        self.pids_file = tmp_path / "plugin-pids"
        self.pids_file.write_text("")
        self.stacks_dir = tmp_path / "out" / "stacks"
        self.stack = self.stacks_dir / "dev"
        self.stack.mkdir(parents=True)
        document = {"terraform": {"backend": {"local": {"path": "dev.tfstate"}}}, "resource": {}}
        (self.stack / "cdk.tf.json").write_text(json.dumps(document))
        self.env = {**os.environ, "PLUGIN_PIDS": str(self.pids_file)}

    def plugins(self) -> list[int]:
        return [int(line) for line in self.pids_file.read_text().split()]

    def reap(self) -> None:
        """Whatever a failing test left (only the plugins this test started)."""
        for pid in self.plugins():
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


@pytest.fixture()
def lab(tmp_path: Path) -> object:
    made = Lab(tmp_path)
    yield made
    made.reap()


def test_the_direct_runner_ends_a_killed_terraforms_plugin_as_soon_as_it_exits(lab: Lab) -> None:
    # GIVEN the runner of `deploy` (ecs_cd/release/terraform_run.py), whose Terraform is SIGKILLed mid-apply
    runner = Runner(
        lab.stacks_dir, env=lab.env, terraform=str(lab.terraform), color=False, write=lambda _: None
    )
    # WHEN that one Terraform command returns (the runner itself goes on: other stacks may run)
    code = runner.terraform.apply(lab.stacks_dir / "dev").exit_code
    # THEN Terraform was killed, and the plugin it started is gone already
    (plugin,) = lab.plugins()
    assert code == -signal.SIGKILL
    assert not alive(plugin)


def test_a_deploy_whose_terraform_is_killed_leaves_no_plugin_behind(lab: Lab, tmp_path: Path) -> None:
    # GIVEN `ecs-release deploy`'s run of the direct runner, Terraform noted by the wrapper
    (tmp_path / "work").mkdir()
    recorder = TerraformRecorder(tmp_path / "work", str(lab.terraform))
    # WHEN its Terraform apply is SIGKILLed
    result = run_cdktf(
        [sys.executable, "-m", "ecs_cd.release.terraform_run", "--stacks-dir", str(lab.stacks_dir), "dev"],
        cwd=PROJECT_DIR,
        env={**lab.env, **recorder.environment},
        stacks=["dev"],
        outdir=lab.stacks_dir.parent,
        recorder=recorder,
        raw=lambda _line: None,
        watch=None,
        direct=True,
    )
    # THEN the run is over, its apply ran, and no plugin it caused is alive
    assert result.returncode == 1 and result.stacks_with(frozenset({"apply"})) == ["dev"]
    (plugin,) = lab.plugins()
    assert not alive(plugin)


def test_a_cdktf_run_ends_what_its_killed_terraform_left_in_its_session(lab: Lab, tmp_path: Path) -> None:
    # GIVEN a "cdktf" that runs Terraform (killed mid-apply) and exits 0 all the same, as cdktf does
    (tmp_path / "work").mkdir()
    recorder = TerraformRecorder(tmp_path / "work", str(lab.terraform))
    cdktf = f'cd {lab.stack} && "$TERRAFORM_BINARY_NAME" apply -auto-approve; echo "cdktf: done"'
    # WHEN run_cdktf has returned
    result = run_cdktf(
        ["sh", "-c", cdktf],
        cwd=tmp_path,
        env={**lab.env, **recorder.environment},
        stacks=["dev"],
        outdir=lab.stacks_dir.parent,
        recorder=recorder,
        raw=lambda _line: None,
        watch=None,
    )
    # THEN cdktf exited 0, and the killed Terraform's plugin is gone
    assert result.returncode == 0 and result.terraform_ran
    (plugin,) = lab.plugins()
    assert not alive(plugin)


def test_the_pre_deploy_gates_terraform_leaves_no_plugin_behind(lab: Lab) -> None:
    # GIVEN the pre-deploy gate's targeted apply, its Terraform SIGKILLed
    ran = pre_deploy.terraform(
        str(lab.terraform),
        ["apply", "-auto-approve"],
        cwd=lab.stack,
        env=lab.env,
        show=None,
        what="terraform apply of dev",
    )
    # THEN the failure is Terraform's, and its plugin is gone
    (plugin,) = lab.plugins()
    assert ran.returncode == -signal.SIGKILL and not ran.applied
    assert not alive(plugin)


def test_a_captured_terraform_command_leaves_no_plugin_behind(lab: Lab) -> None:
    # GIVEN `diff`'s terraform plan (or `terraform show`), its Terraform SIGKILLed
    ran = Terraform(str(lab.terraform), lab.env, signals=OWN_SESSION).run(lab.stack, ["plan"])
    # THEN its output is kept and its plugin is gone
    (plugin,) = lab.plugins()
    assert ran.exit_code == -signal.SIGKILL and "Creating..." in ran.text
    assert not alive(plugin)
