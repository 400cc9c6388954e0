"""The documentation's construct example (docs/tutorials/own-stacks.md) runs as written inside a
stack and synthesizes what it says."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from cdktf import TerraformStack, Testing

from tests.terraform_text import parse_definitions

PAGE = Path(__file__).resolve().parents[2] / "docs" / "tutorials" / "own-stacks.md"


def _example() -> str:
    section = PAGE.read_text(encoding="utf-8").split("# Use the constructs in your own stacks", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "the page on the constructs in your own stacks has no python block"
    return match.group(1)


def test_readme_construct_example_synthesizes() -> None:
    # GIVEN the page's python block and an empty stack
    stack = TerraformStack(Testing.app(), "readme")
    from cdktf_cdktf_provider_aws.provider import AwsProvider
    from cdktf_cdktf_provider_null.provider import NullProvider

    AwsProvider(stack, "aws", region="eu-west-1")
    NullProvider(stack, "null")
    # WHEN it runs as written
    namespace: dict[str, Any] = {"stack": stack}
    exec(compile(_example(), str(PAGE), "exec"), namespace)
    synthesized = json.loads(Testing.synth(stack))
    # THEN both services exist, each task runs the app from SSM and the pinned agent, and the
    # short form added its redeploy trigger
    services = {s["name"]: s for s in synthesized["resource"]["aws_ecs_service"].values()}
    assert sorted(services) == ["api", "web", "worker"]
    tasks = {t["family"]: t for t in synthesized["resource"]["aws_ecs_task_definition"].values()}
    for family in ("shop-dev-api", "shop-dev-worker"):
        names = [c["name"] for c in parse_definitions(tasks[family]["container_definitions"])]
        assert names == ["api", "agent"]
    assert len(synthesized["resource"]["null_resource"]) == 1
    # AND the EC2 part: a bridge task with a dynamic host port, on the instances' capacity provider
    web = tasks["shop-legacy-web"]
    assert (web["network_mode"], web["requires_compatibilities"]) == ("bridge", ["EC2"])
    (container,) = parse_definitions(web["container_definitions"])
    assert container["portMappings"] == [{"containerPort": 80, "hostPort": 0, "protocol": "tcp"}]
    assert services["web"]["capacity_provider_strategy"] == [
        {"base": 0, "capacity_provider": "shop-legacy-ec2", "weight": 1}
    ]
    assert "network_configuration" not in services["web"]
    assert any(d.startswith("aws_ecs_cluster_capacity_providers.") for d in services["web"]["depends_on"])
    (attached,) = synthesized["resource"]["aws_ecs_cluster_capacity_providers"].values()
    assert attached["capacity_providers"][0].startswith("${aws_ecs_capacity_provider.")
    # AND the scheduled job: a schedule that runs its family's revision, and no service of its own
    (schedule,) = synthesized["resource"]["aws_scheduler_schedule"].values()
    assert schedule["name"] == "shop-dev-nightly"
    assert schedule["target"]["ecs_parameters"]["task_definition_arn"].startswith(
        "${aws_ecs_task_definition."
    )
    assert "nightly" not in services
