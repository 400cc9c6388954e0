"""No string of the configuration is ever a Terraform template (the stacks' one choke point).

Every string attribute of Terraform's JSON is a template. The stacks make every string of the
configuration literal once (``stacks.environment_stack.construct_input``); these tests hold
that for every string-typed field of the configuration model, found by reading the models'
annotations, so a field added later is covered without anyone remembering to:

1. the fixture ``tests/fixtures/every-string.toml`` has a value in each such field (a new
   field fails ``test_the_fixture_has_a_value_in_every_string_field`` until it gets one);
2. each string of that file (values and table keys) is given a template in turn, in the
   first form and place the loader accepts (a field whose format refuses every one cannot
   carry a template); all accepted ones together are synthesized, and no synthesized string
   may hold one as a template.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import json
import re
import tomllib
import types
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import pytest
from pydantic import BaseModel

from stacks.settings import ConfigError, EnvironmentSettings, Settings, load_settings, settings_from_dict
from tests.conftest import synth_all

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "every-string.toml"
# Slash-free (stack and construct ids take the names), distinctive ("probe"), and both kinds:
# an interpolation that calls a function and a directive.
TEMPLATE = '${upper("probe")}%{if true}probe%{endif}'

# Fields of the model the configuration file cannot fill (so no template can come through them).
NOT_FROM_THE_FILE = {
    # ResolvedImage: made by TaskDefinition when it binds an image, after the stacks' escaping.
    ".services[].containers{value}.image.repository_arn",
    # A sidecar's EcrDigest reads its tag from SSM: the file has no fixed tag for a sidecar.
    ".services[].containers{value}.image.tag",
    # The app container's image is from its repository (never a fixed reference), bound by
    # TaskDefinition; no field of the file makes the app container a FireLens router.
    ".services[].app.image.reference",
    ".services[].app.image.repository_arn",
    ".services[].app.firelens.options{key}",
    ".services[].app.firelens.options{value}",
}

_SEQUENCES = (list, tuple, set, frozenset, collections.abc.Sequence)
_MAPPINGS = (dict, typing.Mapping, collections.abc.Mapping)


def string_fields(model: type[BaseModel]) -> set[str]:
    """The paths of every string-typed field below ``model``: ``a.b`` for a field, ``[]`` for
    items, ``{key}``/``{value}`` for a mapping's keys and values; unions are followed into
    each member model, ``Literal`` choices are not free text."""
    found: set[str] = set()

    def walk(annotation: Any, path: str, seen: frozenset[type]) -> None:
        origin = get_origin(annotation)
        if origin is Annotated:
            walk(get_args(annotation)[0], path, seen)
        elif origin in (Union, types.UnionType):
            for member in get_args(annotation):
                walk(member, path, seen)
        elif origin is Literal or annotation in (int, bool, float, type(None)):
            return
        elif annotation is str:
            found.add(path)
        elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
            if annotation in seen:
                return
            for name, field in annotation.model_fields.items():
                walk(field.annotation, f"{path}.{name}", seen | {annotation})
        elif isinstance(annotation, type) and dataclasses.is_dataclass(annotation):
            for name, hint in typing.get_type_hints(annotation).items():
                walk(hint, f"{path}.{name}", seen)
        elif origin in _SEQUENCES:
            for item in get_args(annotation):
                if item is not Ellipsis:
                    walk(item, f"{path}[]", seen)
        elif origin in _MAPPINGS:
            key, value = get_args(annotation)
            walk(key, f"{path}{{key}}", seen)
            walk(value, f"{path}{{value}}", seen)
        else:
            raise AssertionError(f"{path}: a field type the walk does not know: {annotation!r}")

    walk(model, "", frozenset())
    return found


def strings_in(value: Any, path: str = "") -> set[str]:
    """The paths (as ``string_fields`` writes them) of the strings ``value`` holds."""
    if isinstance(value, str):
        return {path}
    if isinstance(value, BaseModel):
        return {
            p for name in type(value).model_fields for p in strings_in(getattr(value, name), f"{path}.{name}")
        }
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            p
            for f in dataclasses.fields(value)
            for p in strings_in(getattr(value, f.name), f"{path}.{f.name}")
        }
    if isinstance(value, (tuple, list, set, frozenset)):
        return {p for item in value for p in strings_in(item, f"{path}[]")}
    if isinstance(value, collections.abc.Mapping):
        return {
            p
            for key, item in value.items()
            for p in strings_in(key, f"{path}{{key}}") | strings_in(item, f"{path}{{value}}")
        }
    return set()


def unescaped_templates(text: str) -> list[str]:
    """The interpolations and directives Terraform would evaluate in ``text`` that hold
    "probe", scanned the way HCL reads a template (``$${`` and ``%%{`` are literal)."""
    found = []
    i = 0
    while i < len(text):
        if text.startswith(("$${", "%%{"), i):
            i += 3
        elif text.startswith(("${", "%{"), i):
            end = text.find("}", i)
            body = text[i : end + 1 if end >= 0 else len(text)]
            if "probe" in body:
                found.append(body)
            i += 2
        else:
            i += 1
    return found


def strings_of(document: Any, path: str = "") -> list[tuple[str, str]]:
    """Every string of a JSON document (keys included) with where it is."""
    if isinstance(document, str):
        return [(path, document)]
    if isinstance(document, dict):
        return [
            found
            for key, item in document.items()
            for found in [(f"{path}/{{key}}", key), *strings_of(item, f"{path}/{key}")]
        ]
    if isinstance(document, list):
        return [found for i, item in enumerate(document) for found in strings_of(item, f"{path}/{i}")]
    return []


@pytest.fixture(scope="module")
def settings() -> Settings:
    return load_settings(FIXTURE)


def test_the_scanner_reads_templates_as_terraform_does() -> None:
    # GIVEN texts whose rendering was checked with `terraform console` (Terraform 1.11)
    # THEN escaped forms are literal, and one more "$" or "%" before an escape is a literal
    assert unescaped_templates("a$${probe}%%{probe}") == []
    assert unescaped_templates("a$$${probe}") == []
    assert unescaped_templates("a${probe}") == ["${probe}"]
    assert unescaped_templates("a%{ if probe }") == ["%{ if probe }"]
    assert unescaped_templates("${aws_ecs_cluster.x.arn}") == []


def test_the_fixture_has_a_value_in_every_string_field(settings: Settings) -> None:
    # GIVEN every string-typed field of an environment's settings, read from the models
    fields = string_fields(EnvironmentSettings)
    # WHEN the fixture's environments are walked
    present = set().union(*(strings_in(env) for env in settings.environments.values()))
    # THEN each field holds a string somewhere, so the template test below reaches it
    assert sorted(fields - present - NOT_FROM_THE_FILE) == []
    assert len(fields) > 80  # the walk found the nested models, not only the top level


def raw_strings(document: Any, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], bool]]:
    """Where the strings of a parsed file are, as (path, whether it is a table's key)."""
    if isinstance(document, str):
        return [(path, False)]
    if isinstance(document, dict):
        return [
            found
            for key, item in document.items()
            for found in [((*path, key), True), *raw_strings(item, (*path, key))]
        ]
    if isinstance(document, list):
        return [found for i, item in enumerate(document) for found in raw_strings(item, (*path, i))]
    return []


def replaced(document: Any, path: tuple[Any, ...], is_key: bool, change: Callable[[str], str]) -> Any:
    """``document`` (copied along ``path``) with the string at ``path`` changed."""
    if not path:
        return change(document)
    head, rest = path[0], path[1:]
    if isinstance(document, list):
        return [
            replaced(item, rest, is_key, change) if i == head else item for i, item in enumerate(document)
        ]
    if is_key and not rest:
        return {change(k) if k == head else k: v for k, v in document.items()}
    return {k: replaced(v, rest, is_key, change) if k == head else v for k, v in document.items()}


# A template at the end, the start or inside the value: a field's format may admit only some.
PLACINGS: tuple[Callable[[str, str], str], ...] = (
    lambda value, template: value + template,
    lambda value, template: template + value,
    lambda value, template: value[:1] + template + value[1:],
)
TEMPLATES = (TEMPLATE, "${probe}", "%{probe}", "${ probe }")


def accepted_template(
    raw: dict[str, Any], path: tuple[Any, ...], is_key: bool
) -> Callable[[str], str] | None:
    """The first way of putting a template at ``path`` that the loader accepts, if any."""
    for template in TEMPLATES:
        for place in PLACINGS:

            def change(value: str, place: Callable[[str, str], str] = place, template: str = template) -> str:
                return place(value, template)

            try:
                settings_from_dict(replaced(raw, path, is_key, change), file="every-string.toml")
            except ConfigError:
                continue
            return change
    return None


def test_no_configuration_string_reaches_terraform_as_a_template() -> None:
    # GIVEN the fixture, and each of its strings (values and table keys) in turn given a template
    # in the first form and place the loader accepts there
    raw = tomllib.loads(FIXTURE.read_text())
    accepted = {
        (path, is_key): change
        for path, is_key in raw_strings(raw)
        if (change := accepted_template(raw, path, is_key)) is not None
    }
    # WHEN all of those are put into one configuration (keys last, deepest first, so a path
    # still leads to its value) and every stack is synthesized
    hostile = raw
    for (path, is_key), change in sorted(accepted.items(), key=lambda item: (item[0][1], -len(item[0][0]))):
        hostile = replaced(hostile, path, is_key, change)
    stacks = synth_all(settings_from_dict(hostile, file="every-string.toml"))
    # THEN no synthesized string holds one as a template: Terraform reads each as written
    evaluated = [
        (stack, where, found)
        for stack, out in stacks.items()
        for where, text in strings_of(out.json)
        for found in unescaped_templates(text)
    ]
    assert evaluated == []
    # AND the walk is not vacuous: free-text fields took templates, which reached the stacks
    taken = {".".join(str(part) for part in path) for path, _ in accepted}
    assert {
        "services.batch.compute.placement_constraints.0.expression",
        "services.api.environment.LOG_LEVEL",
        "services.api.deployment.alarm_names.0",
        "services.api.health_check.command.1",
        "services.api.containers.agent.environment.DD_SITE",
        "environments.ec2.emulator_endpoint",
    } <= taken, sorted(taken)
    assert sum(out.text.count("probe") for out in stacks.values()) > 30


def test_a_placement_expression_with_a_template_stays_text(tmp_path: Path) -> None:
    # GIVEN the report's configuration: a memberOf expression that reads a file of the
    # machine that runs the deploy
    expression = '${file("/etc/hostname")} %{ if true }y%{ endif }'
    text = FIXTURE.read_text().replace('"attribute:ecs.instance-type =~ t3.*"', json.dumps(expression))
    config = tmp_path / "ecs-cd.toml"
    config.write_text(text)
    # WHEN it is loaded (the loader accepts it: a cluster query may hold these characters)
    # and synthesized
    stacks = synth_all(load_settings(config))
    # THEN the service's constraint is the literal text
    (service,) = stacks["ec2"].resources("aws_ecs_service").values()
    (constraint,) = service["placement_constraints"]
    assert constraint["expression"] == expression.replace("${", "$${").replace("%{", "%%{")
    assert re.search(r"(?<!\$)\$\{file", stacks["ec2"].text) is None
