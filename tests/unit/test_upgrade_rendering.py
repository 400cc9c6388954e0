"""Existing deployments see no change from the construct split.

``tests/fixtures/container_definitions_before_split.json`` holds the ``container_definitions``
the fixture and the shipped configuration synthesized before the constructs were split
(commit f319cfb), when the definitions were a plain ``json.dumps``. Today they are a
Terraform template (escaped literals, ``jsonencode`` of plan-time values); rendered the way
Terraform renders it, each must be byte for byte the old text, so a plan after the upgrade
shows no change to any task definition. Resource addresses are compared by the snapshots.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Synthesized
from tests.terraform_text import render_template

BEFORE = Path(__file__).resolve().parents[1] / "fixtures" / "container_definitions_before_split.json"


@pytest.mark.parametrize("config", ["tests/fixtures/two-services.toml", "config/ecs-cd.toml"])
def test_rendered_definitions_are_the_old_text(
    config: str, synthesized: dict[str, Synthesized], shipped: dict[str, Synthesized]
) -> None:
    # GIVEN the definitions each stack synthesized before the split
    before = {
        key.split(":", 1)[1]: tasks
        for key, tasks in json.loads(BEFORE.read_text(encoding="utf-8")).items()
        if key.startswith(config + ":")
    }
    stacks = synthesized if config.startswith("tests/") else shipped
    assert before and sorted(before) == sorted(stacks)
    for stack, tasks in before.items():
        now = stacks[stack].resources("aws_ecs_task_definition")
        # WHEN today's template is rendered THEN the same addresses hold byte-identical text
        assert sorted(now) == sorted(tasks), stack
        for address, text in tasks.items():
            assert render_template(now[address]["container_definitions"]) == text, (stack, address)
