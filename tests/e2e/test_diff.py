"""`ecs-release diff` on the emulator (issue 15), through the real cdktf CLI and Terraform: after a
deploy it says "no changes" (exit 0); after CI's `set-tag` it says exactly the image change of
that service and nothing else (exit 7), and applies nothing."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from devkit.emulator import Emulator
from devkit.fake_ci import push_image
from ecs_cd.release import errors
from tests.release_helpers import ProcessRun, readme_sample, run_release_process

pytestmark = pytest.mark.e2e

REPOSITORY = "123456789012.dkr.ecr.us-east-1.amazonaws.com/df-api"
CONFIG = f"""
[project]
name = "df"

[services.api]
repository = "{REPOSITORY}"
image_strategy = "ssm-tag"

[services.worker]
repository = "123456789012.dkr.ecr.us-east-1.amazonaws.com/df-worker"
image_strategy = "ssm-tag"

[environments.local]
region = "us-east-1"
emulator_endpoint = "http://127.0.0.1:1"
log_retention_days = 1
network = {{ use_default_vpc = true }}
state = {{ backend = "local", path = "terraform.df.tfstate" }}
"""


@dataclass(frozen=True)
class Diffs:
    clean: ProcessRun
    after_tag: ProcessRun
    worker_only: ProcessRun  # --service worker after api's new tag
    digests: dict[str, str]  # api's image digests in ECR, by tag
    revisions: tuple[int, int]  # the api family's revisions before and after the second diff


@pytest.fixture(scope="module")
def diffs(emulator: Emulator, tmp_path_factory: pytest.TempPathFactory) -> Diffs:
    work = tmp_path_factory.mktemp("diff")
    config = work / "ecs-cd.toml"
    config.write_text(CONFIG)
    env = {"ECS_CD_CONFIG": str(config), "ECS_CD_EMULATOR_ENDPOINT": emulator.endpoint}
    output = str(work / "out")

    def release(*args: str) -> ProcessRun:
        return run_release_process(env, *args)

    # GIVEN both services deployed on 1.0.0
    digests = {}
    for service in ("api", "worker"):
        digests[service] = push_image(emulator.client("ecr"), f"df-{service}", "1.0.0")
        assert release("set-tag", "local", service, "1.0.0").returncode == 0
    deployed = release("deploy", "local", "--output", output)
    assert deployed.returncode == 0, deployed.stderr[-6000:]
    # WHEN nothing changed
    clean = release("diff", "local", "--output", output)
    # AND CI released api 1.1.0
    api_digests = {"1.0.0": digests["api"], "1.1.0": push_image(emulator.client("ecr"), "df-api", "1.1.0")}
    assert release("set-tag", "local", "api", "1.1.0").returncode == 0
    ecs = emulator.client("ecs")
    before = len(ecs.list_task_definitions(familyPrefix="df-local-api")["taskDefinitionArns"])
    after_tag = release("diff", "local", "--output", output)
    worker_only = release("diff", "local", "--service", "worker", "--output", output)
    after = len(ecs.list_task_definitions(familyPrefix="df-local-api")["taskDefinitionArns"])
    return Diffs(clean, after_tag, worker_only, api_digests, (before, after))


def test_no_changes_after_a_deploy(diffs: Diffs) -> None:
    # THEN no service and nothing else changes, exit 0
    run = diffs.clean
    assert run.returncode == errors.OK, run.stdout + run.stderr[-4000:]
    assert run.json["changes"] is False and run.json["other_changes"] == []
    assert [s["changed"] for s in run.json["services"]] == [False, False]


def test_a_new_tag_is_exactly_that_services_image_change(diffs: Diffs) -> None:
    run = diffs.after_tag
    # THEN the plan has changes (exit 7)
    assert run.returncode == errors.PLAN_HAS_CHANGES, run.stdout + run.stderr[-4000:]
    api, worker = run.json["services"]
    # AND api's image goes from the old tag to the new, on a new revision that rolls the tasks
    assert api["images"] == [
        {
            "container": "api",
            "before": f"{REPOSITORY}:1.0.0",
            "after": f"{REPOSITORY}:1.1.0",
            # AND the digests ECR has for those tags
            "before_digest": diffs.digests["1.0.0"],
            "after_digest": diffs.digests["1.1.0"],
        }
    ]
    assert api["new_revision"] is True and api["restart"] == ["a new revision rolls the tasks"]
    assert api["scaling"] == [] and api["changes"] == []
    # AND nothing else: not the worker, no other resource
    assert worker["changed"] is False and run.json["other_changes"] == []
    # AND it applied nothing
    assert diffs.revisions[0] == diffs.revisions[1]


def test_the_words_a_reader_sees(diffs: Diffs) -> None:
    # The human lines went to stderr with --json; the document is on stdout
    lines = diffs.after_tag.stderr.splitlines()
    short = [d.removeprefix("sha256:")[:12] for d in (diffs.digests["1.0.0"], diffs.digests["1.1.0"])]
    assert (
        f"  image of api: {REPOSITORY}:1.0.0 -> {REPOSITORY}:1.1.0 (sha256:{short[0]} -> sha256:{short[1]})"
        in lines
    )
    assert "worker: no changes" in lines and "local: changes" in lines
    # AND the docs' sample is this run's output
    sample = readme_sample("diff-sample")
    assert all(any(line.strip() == expected for line in lines) for expected in sample), (sample, lines)


def test_one_service_is_asked_about_alone(diffs: Diffs) -> None:
    # GIVEN api has a new tag; WHEN only the worker is asked about
    run = diffs.worker_only
    # THEN the worker has no changes, api is not reported, and the exit code says "no changes"
    assert run.returncode == errors.OK, run.stdout + run.stderr[-4000:]
    assert [s["service"] for s in run.json["services"]] == ["worker"]
    assert run.json["changes"] is False and run.json["other_changes"] == []
