"""Adopting a service made by hand (issue 27), as the docs' adoption walk-through does it: each
line pasted into a new login shell, against the emulator started as the README says. Real tools
throughout: ecs-release, Terraform, the AWS provider, the moto server; boto3 checks between the
lines that the live service was taken over, never replaced.

Then a plan that would replace an adopted resource is refused, by `diff` and by `deploy`, before
anything is applied.
"""

from __future__ import annotations

import json
import re
import shlex
from typing import Any

import boto3
import pytest

from devkit.emulator import ACCESS_KEY, REGION, SECRET_KEY
from tests.reader_shell import ANSI, Shell, readme_block

pytestmark = pytest.mark.e2e

CLUSTER, SERVICE, FAMILY = "legacy", "web", "legacy-web"
REPOSITORY = "123456789012.dkr.ecr.us-east-1.amazonaws.com/legacy-web"


def walkthrough() -> list[str]:
    return [line for line in readme_block("adopt-walkthrough", "sh").splitlines() if line.strip()]


def shortened(text: str) -> str:
    """Output with the emulator's random ids shortened as the docs show them."""
    text = re.sub(r"\bsgr?-[0-9a-f]{8,17}\b", lambda m: m.group(0).split("-")[0] + "-…", text)
    return re.sub(r"/[0-9a-f]{16}\b", "/…", text)


def readme_sample(marker: str) -> list[str]:
    return readme_block(marker, "text").splitlines()


class Live:
    """boto3 on the emulator the reader's shell uses."""

    def __init__(self, export: str) -> None:
        self.endpoint = export.split("=", 1)[1]

    def client(self, name: str) -> Any:
        return boto3.client(
            name,
            region_name=REGION,
            endpoint_url=self.endpoint,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
        )

    def service(self) -> dict[str, Any]:
        (found,) = self.client("ecs").describe_services(
            cluster=CLUSTER, services=[SERVICE], include=["TAGS"]
        )["services"]
        return dict(found)

    def revision_status(self, revision: int) -> str:
        described = self.client("ecs").describe_task_definition(taskDefinition=f"{FAMILY}:{revision}")
        return str(described["taskDefinition"]["status"])


@pytest.fixture(scope="module")
def lines_run(shell: Shell, emulator_export: str) -> dict[str, Any]:
    """The walk-through run line by line (each export kept for the next lines, as a terminal
    would), with what boto3 saw at the points that matter."""
    exports = [emulator_export]
    live = Live(emulator_export)
    seen: dict[str, Any] = {"outputs": {}}
    for line in walkthrough():
        if line.startswith("export "):
            exports.append(line)
            continue
        words = shlex.split(line, comments=True)
        command = " ".join(words[2:4]) if words[:2] == ["pipenv", "run"] else line
        done = shell.run("\n".join([*exports, line]), timeout=600)
        expected = 7 if command == "ecs-release diff" else 0
        assert done.returncode == expected, f"{line}\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
        seen["outputs"].setdefault(command, []).append(ANSI.sub("", done.stdout + done.stderr))
        if command == "python -m" and "hand_made" in line:
            seen["made"] = live.service()
        if command == "ecs-release diff":
            seen["after_diff"] = live.service()
        if command == "ecs-release deploy" and "first_deploy" not in seen:
            seen["first_deploy"] = live.service()
    seen["last"] = done.stdout
    return seen


def test_adopt_writes_names_and_ids_and_the_file_loads(shell: Shell, lines_run: dict[str, Any]) -> None:
    # GIVEN the walk-through's `adopt --append`
    text = (shell.cwd / "brownfield.toml").read_text()
    # THEN the team's configuration gained the service, its live names and the ids to import
    assert "[services.web]" in text
    assert '[environments.brownfield.cluster]\nname = "legacy"\norigin = "adopted"' in text
    names = text.split("[environments.brownfield.services.web.names]\n", 1)[1].split("\n\n", 1)[0]
    assert 'task_family = "legacy-web"' in names and 'log_group = "/legacy/web"' in names
    ids = text.split("[environments.brownfield.services.web.adopt]\n", 1)[1].split("\n\n", 1)[0]
    made = lines_run["made"]
    assert f'service = "{CLUSTER}/{SERVICE}"' in ids
    assert f'target_group = "{made["loadBalancers"][0]["targetGroupArn"]}"' in ids
    (group,) = made["networkConfiguration"]["awsvpcConfiguration"]["securityGroups"]
    assert f'security_group = "{group}"' in ids
    # AND what it left alone is said: the hand-made scaling policy
    assert "# note: web: its scaling policy web-cpu is left as it is" in text


def test_the_plan_imports_and_the_service_keeps_running_until_the_first_deploy(
    lines_run: dict[str, Any],
) -> None:
    (diff,) = lines_run["outputs"]["ecs-release diff"]
    # THEN diff said each import, and nothing is replaced or destroyed
    assert f"the ECS service: import {CLUSTER}/{SERVICE}, then update" in diff
    assert "aws_ecs_cluster.cluster_A4C38409: import legacy, then update" in diff
    assert "REPLACE" not in diff and "DESTROY" not in diff
    # AND it is the docs' sample
    said = [line.rstrip() for line in shortened(diff).splitlines() if line.strip()]
    assert said == readme_sample("adopt-diff-sample"), "\n".join(said)
    # AND until then the service ran the deployment it was made with
    made, after = lines_run["made"], lines_run["after_diff"]
    assert after["taskDefinition"] == made["taskDefinition"]
    assert [d["id"] for d in after["deployments"]] == [d["id"] for d in made["deployments"]]


def test_the_first_deploy_takes_over_the_same_service(
    lines_run: dict[str, Any], emulator_export: str
) -> None:
    made, first = lines_run["made"], lines_run["first_deploy"]
    live = Live(emulator_export)
    # THEN the same service, target group and security group, now on a new revision of its family
    assert first["serviceArn"] == made["serviceArn"]
    assert first["taskDefinition"].endswith(f":task-definition/{FAMILY}:2")
    assert first["loadBalancers"] == made["loadBalancers"]
    groups = first["networkConfiguration"]["awsvpcConfiguration"]["securityGroups"]
    assert groups == made["networkConfiguration"]["awsvpcConfiguration"]["securityGroups"]
    # AND its own tag kept, beside the tool's
    tags = {t["key"]: t["value"] for t in first["tags"]}
    assert tags["Team"] == "payments" and tags["ManagedBy"] == "ecs-cd"
    # AND the revision it was made with is still there, for a rollback
    assert live.revision_status(1) == "ACTIVE"
    # AND its listener rule is the one made by hand (imported, not a second one)
    rules = live.client("elbv2").describe_rules(
        ListenerArn=live.client("elbv2").describe_listeners(
            LoadBalancerArn=live.client("elbv2").describe_load_balancers(Names=["team-alb"])["LoadBalancers"][
                0
            ]["LoadBalancerArn"]
        )["Listeners"][0]["ListenerArn"]
    )["Rules"]
    assert len([r for r in rules if not r["IsDefault"]]) == 1


def test_it_releases_and_rolls_back_like_any_service(lines_run: dict[str, Any], emulator_export: str) -> None:
    # GIVEN v2 released, then rolled back to v1
    (status,) = json.loads(lines_run["last"])["services"]
    # THEN the adopted service runs v1 again, on the fourth revision of its family
    assert status["tag"] == "v1"
    assert status["images"] == [f"{REPOSITORY}:v1"]
    service = Live(emulator_export).service()
    assert service["serviceArn"] == lines_run["made"]["serviceArn"]
    assert service["taskDefinition"].endswith(f":task-definition/{FAMILY}:4")


def test_a_plan_that_would_replace_an_adopted_resource_is_refused(
    shell: Shell, emulator_export: str, lines_run: dict[str, Any]
) -> None:
    # GIVEN the configuration no longer gives the target group its live name
    config = shell.cwd / "brownfield.toml"
    original = config.read_text()
    assert 'target_group = "legacy-web"\n' in original
    config.write_text(original.replace('target_group = "legacy-web"\n', "", 1))
    live = Live(emulator_export)
    before = live.service()
    try:
        prefix = f"{emulator_export}\nexport ECS_CD_CONFIG=brownfield.toml\n"
        # WHEN diff and deploy plan it
        diff = shell.run(prefix + "pipenv run ecs-release diff brownfield")
        deploy = shell.run(prefix + "pipenv run ecs-release deploy brownfield")
    finally:
        config.write_text(original)
    # THEN both exit 8, naming the target group and the attribute that forces its replacement
    for run in (diff, deploy):
        output = ANSI.sub("", run.stdout + run.stderr)
        assert run.returncode == 8, output[-4000:]
        assert re.search(
            r"would replace aws_lb_target_group\.web_fargate_lb_target-group_\w+ .*because of name", output
        ), output[-4000:]
    assert "nothing was applied" in ANSI.sub("", deploy.stdout + deploy.stderr)
    # AND nothing changed: the same target group and revision
    after = live.service()
    assert after["loadBalancers"] == before["loadBalancers"]
    assert after["taskDefinition"] == before["taskDefinition"]
