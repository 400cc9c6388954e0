"""`ecs-release deploy` hands its options to ``DeployOptions`` by name (cli_services.deploy), so
mypy does not see that pairing: this test keeps the two in step."""

from __future__ import annotations

import dataclasses

from ecs_cd.release.cli_services import deploy
from ecs_cd.release.deploy import DeployOptions

# What the command passes itself, and what the runtime adds.
PASSED_BY_NAME = {"env", "outdir"}
FROM_THE_RUNTIME = {"project", "color"}


def test_every_deploy_option_is_a_deploy_options_field_and_every_field_an_option() -> None:
    # GIVEN the click parameters of `ecs-release deploy` and the fields of DeployOptions
    parameters = {p.name for p in deploy.params if p.name is not None}
    fields = {f.name for f in dataclasses.fields(DeployOptions)}

    # THEN each option is a field of the same name (or passed explicitly), and each field is an
    # option or comes from the runtime: an option added on one side only fails here, not in a deploy
    assert sorted(parameters - fields - PASSED_BY_NAME) == []
    assert sorted(fields - parameters - FROM_THE_RUNTIME) == []
    assert parameters >= PASSED_BY_NAME
