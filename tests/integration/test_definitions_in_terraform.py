"""Container definitions rendered by real Terraform: no value can change their structure.

A stack with no provider at all: the image's tag is a Terraform variable (standing in for
the SSM value, which reaches the template the same way, as a reference), the other values
are hostile literals. ``terraform apply`` renders the template into an output; the test
parses what Terraform produced. It also checks that ``tests/terraform_text.py``, which the
unit tests use to read templates, renders exactly as Terraform does.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from cdktf import TerraformOutput, TerraformStack, TerraformVariable, Testing

from constructs_lib.container import ContainerProps, HealthCheck, container_definition, render_definitions
from constructs_lib.images import Fixed, ResolvedImage
from constructs_lib.terraform_text import literal_values
from devkit.terraform import Terraform
from ecs_cd.toolchain.errors import ToolError
from tests.terraform_text import render_template

HOSTILE_TAG = (
    '1.0.2","image":"evil.example.com/backdoor:1","command":["sh","-c","echo pwned"],"workingDirectory":"'
)
LITERALS = {
    "TEMPLATE": "${path.cwd}",
    "DIRECTIVE": "%{ if true }x%{ endif }",
    "ESCAPED": "$${not} %%{this}",
    "QUOTES": 'say "hi" \\ back\\slash',
    "LINES": "one\ntwo\ttab",
    "UNICODE": "naïve ✓",
}


def _render(tmp_path: Path, tag: str) -> tuple[list[dict[str, Any]], str]:
    if shutil.which("terraform") is None:
        raise ToolError("terraform was not found on PATH: install Terraform >= 1.10")
    stack = TerraformStack(Testing.app(), "definitions")
    variable = TerraformVariable(stack, "tag", type="string")
    # The literals made Terraform text the way the stacks make every configuration value
    app = literal_values(
        ContainerProps(
            name="app",
            image=Fixed(reference="registry.example.com/app:1"),
            environment=LITERALS,
            command=("sh", "-c", 'echo "${HOME}" %{x}'),
            health_check=HealthCheck(command=("CMD-SHELL", "test -f /tmp/${ready}")),
        )
    )
    sidecar = ContainerProps(name="sidecar", image=Fixed(reference="registry.example.com/agent:7"))
    images = [
        ResolvedImage(reference=f"registry.example.com/app:{variable.string_value}"),
        ResolvedImage(reference=sidecar.image.reference),  # type: ignore[union-attr]
    ]
    definitions = [
        container_definition(c, image="", log_group="/ecs/x", region="us-east-1", volumes={})
        for c in (app, sidecar)
    ]
    text = render_definitions(definitions, images)
    TerraformOutput(stack, "definitions", value=text)
    directory = tmp_path / "stack"
    directory.mkdir()
    synthesized = Testing.synth(stack)
    (directory / "main.tf.json").write_text(synthesized, encoding="utf-8")
    template = json.loads(synthesized)["output"]["definitions"]["value"]
    # No provider is needed; an empty CLI configuration keeps a stale TF_CLI_CONFIG_FILE out.
    cli_config = tmp_path / "terraformrc"
    cli_config.write_text("", encoding="utf-8")
    env = {**os.environ, "TF_IN_AUTOMATION": "1", "TF_CLI_CONFIG_FILE": str(cli_config)}
    terraform = Terraform(directory, env)
    terraform.init()
    terraform.run("apply", "-input=false", "-no-color", "-auto-approve", f"-var=tag={tag}")
    rendered = terraform.run("output", "-raw", "definitions").output
    return json.loads(rendered), template


def test_hostile_tag_and_literals_render_as_values(tmp_path: Path) -> None:
    # GIVEN a tag that tries to close the image string and add an image and a command,
    # and literals that look like Terraform templates
    # WHEN Terraform renders the definitions
    parsed, template = _render(tmp_path, HOSTILE_TAG)
    app, sidecar = parsed
    # THEN the tag is part of the image string, and nothing else changed
    assert app["image"] == f"registry.example.com/app:{HOSTILE_TAG}"
    assert "workingDirectory" not in app and app["command"] == ["sh", "-c", 'echo "${HOME}" %{x}']
    assert {e["name"]: e["value"] for e in app["environment"]} == LITERALS
    assert app["healthCheck"]["command"] == ["CMD-SHELL", "test -f /tmp/${ready}"]
    assert sidecar["image"] == "registry.example.com/agent:7" and "command" not in sidecar
    # AND the unit tests' reader of templates agrees with Terraform on everything but the reference
    mirrored = json.loads(render_template(template))
    assert mirrored[0]["image"] == "registry.example.com/app:${var.tag}"
    mirrored[0]["image"] = app["image"]
    assert mirrored == parsed
