"""config/ecs-cd.schema.json (stacks/configuration/file_schema.py): a valid JSON Schema that every
configuration the loader accepts passes, that names a misspelt or mistyped field, and that each
shipped configuration names on its first line for editors."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from stacks.configuration.file_schema import ConfigurationFile, file_schema
from stacks.configuration.loader import _SECTIONS
from stacks.settings import load_settings

PROJECT_DIR = Path(__file__).resolve().parents[2]
SHIPPED = sorted([PROJECT_DIR / "config" / "ecs-cd.toml", *PROJECT_DIR.glob("examples/*/ecs-cd.toml")])
FIXTURES = sorted(PROJECT_DIR.glob("tests/fixtures/*.toml"))
VALIDATOR = Draft202012Validator(file_schema())


def _rel(path: Path) -> str:
    return path.relative_to(PROJECT_DIR).as_posix()


def _errors(document: dict[str, Any]) -> list[tuple[str, str]]:
    return [(".".join(map(str, e.absolute_path)), e.message) for e in VALIDATOR.iter_errors(document)]


def _shipped() -> dict[str, Any]:
    return tomllib.loads((PROJECT_DIR / "config" / "ecs-cd.toml").read_text(encoding="utf-8"))


def test_the_schema_is_a_draft_2020_12_schema_of_the_loaders_sections() -> None:
    # GIVEN the schema
    schema = file_schema()

    # WHEN it is checked against its dialect's meta-schema
    Draft202012Validator.check_schema(schema)

    # THEN it declares the dialect, and its top level is the loader's sections, nothing else
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert sorted(schema["properties"]) == sorted(_SECTIONS) == sorted(ConfigurationFile.model_fields)
    assert schema["additionalProperties"] is False


@pytest.mark.parametrize("path", SHIPPED + FIXTURES, ids=_rel)
def test_every_configuration_the_loader_accepts_passes_the_schema(path: Path) -> None:
    # GIVEN a configuration of the project that the loader accepts
    load_settings(path)

    # WHEN the schema checks it
    errors = _errors(tomllib.loads(path.read_text(encoding="utf-8")))

    # THEN it passes
    assert errors == []


@pytest.mark.parametrize(
    ("change", "where", "key"),
    [
        (lambda c: c["services"]["api"].update(desird_count=2), "services.api", "desird_count"),
        (lambda c: c["environments"]["local"].update(regoin="us-east-1"), "environments.local", "regoin"),
        (
            lambda c: c["environments"]["local"].setdefault("services", {}).update(api={"cpus": 512}),
            "environments.local.services.api",
            "cpus",
        ),
        (
            lambda c: c["services"]["api"]["deployment"].update(maximum_percnt=150),
            "services.api.deployment",
            "maximum_percnt",
        ),
        (
            lambda c: c["environments"]["local"]["network"].update(subnet=["subnet-0123456789abcdef0"]),
            "environments.local.network",
            "subnet",
        ),
        (lambda c: c["project"].update(nmae="x"), "project", "nmae"),
    ],
    ids=["service", "environment", "override", "service-nested", "environment-nested", "project"],
)
def test_a_misspelt_field_fails_the_schema_at_its_table(change: Any, where: str, key: str) -> None:
    # GIVEN the shipped configuration with a misspelt key in one table
    config = _shipped()
    change(config)

    # WHEN the schema checks it
    errors = _errors(config)

    # THEN it fails at that table, naming the key
    assert [path for path, _ in errors] == [where]
    assert repr(key) in errors[0][1]


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda c: c["services"]["api"].update(desired_count="2"), "services.api.desired_count"),
        (lambda c: c["services"]["api"].update(desired_count=1001), "services.api.desired_count"),
        (lambda c: c["services"]["api"].update(image_strategy="latest"), "services.api.image_strategy"),
        (
            lambda c: c["environments"]["local"].update(log_retention_days=31),
            "environments.local.log_retention_days",
        ),
        (lambda c: c["environments"]["local"]["state"].update(backend="gcs"), "environments.local.state"),
        (lambda c: c["project"].update(name="Demo"), "project.name"),
        (lambda c: c["services"].update(API=c["services"]["api"]), "services"),
    ],
    ids=["string-for-integer", "above-maximum", "enum", "integer-enum", "discriminator", "name", "key"],
)
def test_a_wrong_type_or_value_fails_the_schema_at_its_field(change: Any, where: str) -> None:
    # GIVEN the shipped configuration with one wrong value
    config = _shipped()
    change(config)

    # WHEN the schema checks it
    errors = _errors(config)

    # THEN it fails there
    assert errors and {path for path, _ in errors} == {where}


def test_a_service_may_leave_what_every_environment_gives_to_the_overrides() -> None:
    # GIVEN a service whose repository and schedule expression each environment gives
    config = _shipped()
    del config["services"]["api"]["repository"]
    config["services"]["api"]["schedule"] = {"timezone": "Europe/Berlin"}
    config["environments"]["local"]["services"] = {
        "api": {"repository": "public.ecr.aws/org/api", "schedule": {"expression": "rate(1 hour)"}}
    }

    # WHEN the schema checks it
    errors = _errors(config)

    # THEN it passes: neither table alone must hold them (the loader checks the merged service)
    assert errors == []


@pytest.mark.parametrize("path", SHIPPED, ids=_rel)
def test_every_shipped_configuration_names_the_schema_on_its_first_line(path: Path) -> None:
    # GIVEN a shipped or example configuration
    first = path.read_text(encoding="utf-8").splitlines()[0]

    # WHEN its first line is read as taplo reads it
    assert first.startswith("#:schema ")
    schema = (path.parent / first.removeprefix("#:schema ")).resolve()

    # THEN it names the committed schema, relative to the file
    assert schema == PROJECT_DIR / "config" / "ecs-cd.schema.json"
    assert json.loads(schema.read_text(encoding="utf-8"))["title"] == "ecs-cd configuration"
