"""The README's construct example runs as written inside a stack and synthesizes what it says."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from cdktf import TerraformStack, Testing

from tests.terraform_text import parse_definitions

README = Path(__file__).resolve().parents[2] / "README.md"


def _example() -> str:
    section = README.read_text(encoding="utf-8").split("## Use the constructs in your own stacks", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "the README's construct section has no python block"
    return match.group(1)


def test_readme_construct_example_synthesizes() -> None:
    # GIVEN the README's python block and an empty stack
    stack = TerraformStack(Testing.app(), "readme")
    from cdktf_cdktf_provider_aws.provider import AwsProvider
    from cdktf_cdktf_provider_null.provider import NullProvider

    AwsProvider(stack, "aws", region="eu-west-1")
    NullProvider(stack, "null")
    # WHEN it runs as written
    namespace: dict[str, Any] = {"stack": stack}
    exec(compile(_example(), str(README), "exec"), namespace)
    synthesized = json.loads(Testing.synth(stack))
    # THEN both services exist, each task runs the app from SSM and the pinned agent, and the
    # short form added its redeploy trigger
    services = synthesized["resource"]["aws_ecs_service"]
    assert sorted(s["name"] for s in services.values()) == ["api", "worker"]
    for task in synthesized["resource"]["aws_ecs_task_definition"].values():
        names = [c["name"] for c in parse_definitions(task["container_definitions"])]
        assert names == ["api", "agent"]
    assert len(synthesized["resource"]["null_resource"]) == 1
