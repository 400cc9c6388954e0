"""ecs_cd/release/terraform_run.py, the direct deploy path: which Terraform commands it runs, in which
order, how many at once, and what it reports of each stack.

Terraform is replaced here by a small script that notes each command (directory, arguments,
start and end time) and fails where a test asks it to: these tests are about the runner's own
decisions. The real Terraform runs the same path in tests/e2e/test_direct_deploy.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ecs_cd.release import plan_guard, terraform_run

FAKE_TERRAFORM = """
import json, os, sys, time
here = os.path.basename(os.getcwd())
started = time.time()
command = sys.argv[1]
if command == "init":
    os.makedirs(".terraform/providers", exist_ok=True)
    open(".terraform.lock.hcl", "w").close()
time.sleep(float(os.environ.get("FAKE_SECONDS", "0")))
fail = os.environ.get("FAKE_FAIL", "")
code = 1 if fail == f"{here}:{command}" else 0
if command == "plan":
    out = next(a for a in sys.argv if a.startswith("-out="))
    open(out.removeprefix("-out="), "w").close()
if command == "plan" and os.environ.get("FAKE_PLAN_SUMMARY"):
    print(os.environ["FAKE_PLAN_SUMMARY"])
if command == "show" and os.environ.get("FAKE_PLAN"):
    print(open(os.environ["FAKE_PLAN"]).read())
else:
    print(f"{command} in {here}")
if command == "apply" and not code:
    print("Apply complete! Resources: 1 added, 0 changed, 0 destroyed.")
with open(os.environ["FAKE_LOG"], "a") as log:
    log.write(json.dumps({"dir": here, "args": sys.argv[1:], "start": started, "end": time.time()}) + "\\n")
sys.exit(code)
"""


def synthesized(stacks_dir: Path, name: str, *, backend: str = "a.tfstate") -> None:
    directory = stacks_dir / name
    directory.mkdir(parents=True, exist_ok=True)
    document = {
        "terraform": {
            "backend": {"local": {"path": backend}},
            "required_providers": {"aws": {"source": "aws", "version": "5.100.0"}},
        },
        "resource": {},
    }
    (directory / "cdk.tf.json").write_text(json.dumps(document))


@pytest.fixture()
def lab(tmp_path: Path) -> Any:
    terraform = tmp_path / "terraform"
    terraform.write_text(f"#!{sys.executable}\n{FAKE_TERRAFORM}")
    terraform.chmod(0o755)
    log = tmp_path / "commands.log"
    stacks_dir = tmp_path / "stacks"
    stacks_dir.mkdir()

    class Lab:
        def __init__(self) -> None:
            self.stacks_dir = stacks_dir
            self.report = tmp_path / "report.json"

        def run(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
            log.write_text("")
            return subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "ecs_cd.release.terraform_run",
                    "--stacks-dir",
                    str(stacks_dir),
                    "--report",
                    str(self.report),
                    *args,
                ],
                env={"PATH": "/usr/bin:/bin", "TERRAFORM_BINARY_NAME": str(terraform), "FAKE_LOG": str(log)}
                | (env or {}),
                capture_output=True,
                text=True,
                check=False,
                cwd=Path(terraform_run.__file__).resolve().parents[2],
            )

        def commands(self) -> list[dict[str, Any]]:
            return [json.loads(line) for line in log.read_text().splitlines()]

        def outcomes(self) -> dict[str, dict[str, Any]]:
            return {o["stack"]: o for o in json.loads(self.report.read_text())}

    return Lab()


def test_init_runs_once_then_only_when_providers_or_backend_change(lab: Any) -> None:
    # GIVEN a synthesized stack never initialised
    synthesized(lab.stacks_dir, "local")
    # WHEN it is deployed twice
    first = lab.run("local")
    first_commands = [c["args"] for c in lab.commands()]
    second = lab.run("local")
    second_commands = [c["args"] for c in lab.commands()]
    # THEN init ran the first time only; apply both times, without prompts or colours
    assert first.returncode == second.returncode == 0, first.stdout + second.stdout
    assert first_commands == [
        ["init", "-input=false", "-no-color"],
        ["apply", "-auto-approve", "-input=false", "-no-color"],
    ]
    assert second_commands == [["apply", "-auto-approve", "-input=false", "-no-color"]]
    assert lab.outcomes()["local"]["init"] == "skipped"
    # WHEN the backend changes (a new state path)
    synthesized(lab.stacks_dir, "local", backend="b.tfstate")
    lab.run("local")
    # THEN init runs again, without -upgrade (the providers are the same)
    assert [c["args"][0] for c in lab.commands()] == ["init", "apply"]
    assert "-upgrade" not in lab.commands()[0]["args"]
    # WHEN the provider constraints change
    document = json.loads((lab.stacks_dir / "local" / "cdk.tf.json").read_text())
    document["terraform"]["required_providers"]["aws"]["version"] = "5.99.0"
    (lab.stacks_dir / "local" / "cdk.tf.json").write_text(json.dumps(document))
    lab.run("local")
    # THEN init upgrades, as cdktf does when the locked versions may no longer fit
    assert lab.commands()[0]["args"] == ["init", "-upgrade", "-input=false", "-no-color"]


def test_a_failed_init_is_retried_next_time(lab: Any) -> None:
    synthesized(lab.stacks_dir, "local")
    failed = lab.run("local", env={"FAKE_FAIL": "local:init"})
    assert failed.returncode == 1
    assert lab.outcomes()["local"] == {
        "stack": "local",
        "init": "failed",
        "apply": "not started",
        "exit_code": 1,
        "reason": "terraform init exited with 1",
        "seconds": lab.outcomes()["local"]["seconds"],
    }
    assert [c["args"][0] for c in lab.commands()] == ["init"]
    lab.run("local")
    assert [c["args"][0] for c in lab.commands()] == ["init", "apply"]


def test_output_lines_carry_their_stack_and_the_summary_is_reported(lab: Any) -> None:
    synthesized(lab.stacks_dir, "local")
    done = lab.run("local")
    assert "local  init in local\n" in done.stdout
    assert "local  Apply complete! Resources: 1 added, 0 changed, 0 destroyed.\n" in done.stdout
    outcome = lab.outcomes()["local"]
    assert (outcome["apply"], outcome["init"], outcome["summary"]) == (
        "applied",
        "ran",
        "Apply complete! Resources: 1 added, 0 changed, 0 destroyed.",
    )


def test_the_cluster_stack_goes_first_then_services_at_most_n_at_once(lab: Any) -> None:
    # GIVEN a split environment: its stack and four service stacks
    services = [f"st-s{i}" for i in range(4)]
    for name in ["st", *services]:
        synthesized(lab.stacks_dir, name)
    # WHEN it is deployed with --parallel 2, each Terraform command taking a moment
    done = lab.run("--first", "st", "--parallel", "2", "st", *services, env={"FAKE_SECONDS": "0.4"})
    assert done.returncode == 0, done.stdout + done.stderr
    commands = lab.commands()
    # THEN every service command starts after the cluster stack's apply ended
    cluster_end = max(c["end"] for c in commands if c["dir"] == "st")
    assert all(c["start"] >= cluster_end for c in commands if c["dir"] != "st")
    # AND never more than two Terraform commands ran at once, and two did
    moments = sorted({c["start"] for c in commands} | {c["end"] for c in commands})
    overlap = max(sum(1 for c in commands if c["start"] <= m < c["end"]) for m in moments)
    assert overlap == 2
    assert set(lab.outcomes()) == {"st", *services}


def test_one_failed_service_stack_does_not_hide_or_stop_the_others(lab: Any) -> None:
    for name in ["st", "st-a", "st-b", "st-c"]:
        synthesized(lab.stacks_dir, name)
    done = lab.run(
        "--first", "st", "--parallel", "1", "st", "st-a", "st-b", "st-c", env={"FAKE_FAIL": "st-a:apply"}
    )
    assert done.returncode == 1
    outcomes = lab.outcomes()
    assert {s: o["apply"] for s, o in outcomes.items()} == {
        "st": "applied",
        "st-a": "failed",
        "st-b": "applied",
        "st-c": "applied",
    }
    assert outcomes["st-a"]["reason"] == "terraform apply exited with 1"


def test_services_do_not_start_when_the_cluster_stack_fails(lab: Any) -> None:
    for name in ["st", "st-a", "st-b"]:
        synthesized(lab.stacks_dir, name)
    done = lab.run("--first", "st", "st", "st-a", "st-b", env={"FAKE_FAIL": "st:apply"})
    assert done.returncode == 1
    assert {c["dir"] for c in lab.commands()} == {"st"}
    outcomes = lab.outcomes()
    assert outcomes["st-a"] == {
        "stack": "st-a",
        "init": "skipped",
        "apply": "not started",
        "reason": "st (the cluster these services run on) was not applied",
    }


def test_a_stack_that_was_not_synthesized_is_named(lab: Any) -> None:
    done = lab.run("ghost")
    assert done.returncode == 1
    assert "ghost  ecs-release: " in done.stdout and "cdk.tf.json is missing" in done.stdout
    assert lab.commands() == []
    assert lab.outcomes()["ghost"]["reason"] == "not synthesized"


def test_the_runner_imports_nothing_but_the_standard_library() -> None:
    # It starts on every deploy: no provider bindings, no boto3, no cdktf.
    code = (
        "import sys, ecs_cd.release.terraform_run as r; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'cdktf','boto3','botocore','click','pydantic','jsii','constructs','stacks','core'}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(terraform_run.__file__).resolve().parents[2],
    )
    assert done.stdout.strip() == "[]"


def test_a_damaged_stack_file_is_named_and_the_others_still_run(lab: Any) -> None:
    synthesized(lab.stacks_dir, "st-a")
    (lab.stacks_dir / "st-b").mkdir()
    (lab.stacks_dir / "st-b" / "cdk.tf.json").write_text("{not json")
    done = lab.run("st-a", "st-b")
    assert done.returncode == 1 and "Traceback" not in done.stdout + done.stderr
    assert "st-b  ecs-release: cannot read " in done.stdout
    assert {s: o["apply"] for s, o in lab.outcomes().items()} == {"st-a": "applied", "st-b": "not started"}


# --- the report: StackOutcome.to_json / from_json are its only writer and reader -----------------


@pytest.mark.parametrize(
    "outcome",
    [
        terraform_run.StackOutcome(
            "a", "ran", "applied", 0, "Apply complete! Resources: 1 added.", None, 2.5
        ),
        terraform_run.StackOutcome("b", "skipped", "failed", -9, "", "terraform apply exited with -9", 1.0),
        terraform_run.StackOutcome(
            "c", "failed", exit_code=1, reason="terraform init exited with 1", seconds=0.3
        ),
        terraform_run.StackOutcome("d", reason="st (the cluster these services run on) was not applied"),
    ],
    ids=["applied", "killed", "init failed", "never tried"],
)
def test_a_report_reads_back_what_was_written(outcome: terraform_run.StackOutcome, tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    terraform_run.write_report(report, [outcome])
    assert terraform_run.read_report(report) == [outcome]
    # AND a field the stack never reached is absent, not null; an empty summary stays
    record = json.loads(report.read_text())[0]
    assert None not in record.values()
    assert ("summary" in record) == (outcome.summary is not None)


def test_a_killed_apply_names_its_signal() -> None:
    assert terraform_run.StackOutcome("a", apply="failed", exit_code=-9).killed_by == 9
    assert terraform_run.StackOutcome("a", apply="failed", exit_code=1).killed_by is None
    assert terraform_run.StackOutcome("a", init="failed", exit_code=-15).killed_by is None


@pytest.mark.parametrize(
    "text",
    [
        None,  # missing: the runner was killed before it wrote it
        '[{"stack": "a", "init": "ran", "apply": "appl',  # half written
        '{"stack": "a"}',
        '[{"init": "ran", "apply": "applied"}]',
        '[{"stack": "a", "apply": "maybe"}]',
        '[{"stack": "a", "exit_code": true}]',
        '[{"stack": "a", "seconds": "1.0"}]',
        '[{"stack": "a", "colour": "red"}]',
    ],
)
def test_a_report_that_is_missing_or_not_one_reads_as_no_outcomes(text: str | None, tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    if text is not None:
        report.write_text(text)
    assert terraform_run.read_report(report) == []


def adopting(stacks_dir: Path, name: str) -> None:
    """A stack whose cdk.tf.json adopts a running service (an import block, as cdktf writes it)."""
    synthesized(stacks_dir, name)
    path = stacks_dir / name / "cdk.tf.json"
    document = json.loads(path.read_text())
    document["import"] = [{"to": "aws_ecs_service.api_service_1", "id": "demo-dev/api"}]
    path.write_text(json.dumps(document))


def plan_file(tmp_path: Path, actions: list[str]) -> str:
    path = tmp_path / "plan.json"
    change = {"actions": actions, "before": {}, "after": {}, "replace_paths": [["cluster"]]}
    address = "aws_ecs_service.api_service_1"
    path.write_text(
        json.dumps(
            {
                "format_version": "1.2",
                "resource_changes": [{"address": address, "type": "aws_ecs_service", "change": change}],
            }
        )
    )
    return str(path)


GUARD = plan_guard.GUARD_PLAN


def test_a_stack_that_adopts_applies_the_plan_it_checked(lab: Any, tmp_path: Path) -> None:
    # GIVEN a stack with an import block, and one without
    adopting(lab.stacks_dir, "dev")
    synthesized(lab.stacks_dir, "other")
    # WHEN they are deployed and the plan changes the adopted service in place
    done = lab.run("dev", "other", env={"FAKE_PLAN": plan_file(tmp_path, ["update"])})
    # THEN the adopting stack is planned to a file, shown, and that very plan applied
    assert done.returncode == 0, done.stdout
    commands = [c["args"] for c in lab.commands() if c["dir"] == "dev"]
    assert commands[1:] == [
        ["plan", "-input=false", "-no-color", f"-out={GUARD}"],
        ["show", "-json", GUARD],
        ["apply", "-auto-approve", "-input=false", "-no-color", GUARD],
    ]
    # AND the other stack keeps the plain apply
    assert [c["args"][0] for c in lab.commands() if c["dir"] == "other"] == ["init", "apply"]
    assert lab.outcomes()["dev"]["apply"] == "applied"
    assert not (lab.stacks_dir / "dev" / GUARD).exists()


def test_a_plan_that_replaces_an_adopted_resource_is_not_applied(lab: Any, tmp_path: Path) -> None:
    # GIVEN a stack with an import block
    adopting(lab.stacks_dir, "dev")
    # WHEN its plan would replace the adopted service
    done = lab.run("dev", env={"FAKE_PLAN": plan_file(tmp_path, ["delete", "create"])})
    # THEN no apply ran, the runner fails and says why
    assert done.returncode == 1
    assert [c["args"][0] for c in lab.commands()] == ["init", "plan", "show"]
    assert (
        "dev  ecs-release: refusing to apply: the plan would replace aws_ecs_service.api_service_1 "
        "(adopted from demo-dev/api) because of cluster: give the cluster's ARN" in done.stdout
    )
    # AND the report records the refusal, not a failed apply
    outcome = lab.outcomes()["dev"]
    assert outcome["apply"] == "refused" and "exit_code" not in outcome
    assert outcome["reason"].startswith("refused: the plan would replace aws_ecs_service.api_service_1")
    assert [r["attributes"] for r in outcome["refusals"]] == [["cluster"]]
    assert not (lab.stacks_dir / "dev" / GUARD).exists()


@pytest.mark.parametrize(
    ("summary", "shown"),
    [
        ("Plan: 9 to import, 6 to add, 9 to change, 0 to destroy.", False),
        ("No changes. Your infrastructure matches the configuration.", False),
        ("\x1b[1mPlan:\x1b[0m 0 to add, 1 to change, 0 to destroy.", False),
        ("Plan: 1 to add, 0 to change, 1 to destroy.", True),
        ("", True),
    ],
)
def test_the_guard_reads_the_plan_unless_its_summary_deletes_nothing(
    lab: Any, tmp_path: Path, summary: str, shown: bool
) -> None:
    # GIVEN a stack that adopts, and a plan whose summary is SUMMARY ("" when Terraform printed none)
    adopting(lab.stacks_dir, "dev")
    plan = plan_file(tmp_path, ["update"])
    # WHEN it is deployed
    done = lab.run("dev", env={"FAKE_PLAN": plan, "FAKE_PLAN_SUMMARY": summary})
    # THEN the plan is applied; `show -json` ran only where the summary may hide a destroy or a
    # replacement (the guard refuses only deletes, and Terraform counts every one of them there)
    assert done.returncode == 0, done.stdout
    commands = [c["args"][0] for c in lab.commands() if c["dir"] == "dev"]
    assert commands == ["init", "plan", *(["show"] if shown else []), "apply"]
    assert lab.outcomes()["dev"]["apply"] == "applied"


def test_deletes_nothing_needs_the_summary_to_say_so() -> None:
    # A summary that counts a destroy, or none at all, is not taken as deleting nothing
    assert plan_guard.deletes_nothing("Plan: 2 to import, 0 to add, 1 to change, 0 to destroy.\n")
    assert not plan_guard.deletes_nothing("Plan: 0 to add, 0 to change, 10 to destroy.\n")
    assert not plan_guard.deletes_nothing("Plan: 1 to add, 0 to change, 1 to destroy.\n")
    assert not plan_guard.deletes_nothing("Changes to Outputs:\n")
    assert not plan_guard.deletes_nothing("  # No changes. in a resource's name\n")
