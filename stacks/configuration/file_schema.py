"""The configuration file as one model, and its JSON Schema (draft 2020-12) for editors.

The tables are the loader's own models (``ServiceFile``, ``EnvironmentFile``, the constructs'
props) with the shape the file writes them in: a service's table without ``name`` (its key) and
with ``enabled``; a container's table with its image keys instead of an image source; an
environment's ``services`` as overrides, the service's fields ``OVERRIDABLE`` allows. Field
descriptions are the models' field docstrings.

The schema is an editor's first check, the loader stays the authority: it refuses less than
the loader (rules between fields, AWS formats checked by a validator, names derived from others
are the loader's alone), and nothing the loader accepts. So what a service needs once merged
with an environment's override (its ``repository``, a schedule's ``expression``) is required by
neither table: either may give it. The one exception is a service no environment enables,
which the loader does not read at all: the schema still checks its fields.
"""

from __future__ import annotations

from copy import copy
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr, create_model
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue

from constructs_lib.container import ContainerProps
from constructs_lib.fields import ImageReference, Repository, SsmName, TagKey, TagValue
from ecs_cd.core import aws_formats
from stacks.configuration.environment_file import EnvironmentFile
from stacks.configuration.merge import IMAGE_KEYS, MERGED_TABLES, OVERRIDABLE
from stacks.configuration.model import DEFAULT_NULL_PROVIDER_VERSION, VERSION_CONSTRAINT, ServiceFile

DIALECT = "https://json-schema.org/draft/2020-12/schema"
TITLE = "ecs-cd configuration"
DESCRIPTION = (
    "The configuration file of ecs-cd (ecs-cd.toml): the project, the services to deliver and the "
    "environments they run in. The loader checks more than this schema: run `cdktf synth` or "
    "`ecs-release` to see every problem."
)


def _slug(max_length: int) -> dict[str, Any]:
    """A project, service or environment name: exactly the loader's rule (``aws_formats._slug``)."""
    return {"type": "string", "maxLength": max_length, "pattern": f"^{aws_formats.SLUG_PATTERN}$"}


def _keys(max_length: int) -> dict[str, Any]:
    """A table's keys that are names of ``_slug``."""
    return {"propertyNames": _slug(max_length)}


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class ProjectTable(_Table):
    """``[project]``."""

    name: Annotated[StrictStr, Field(json_schema_extra=_slug(aws_formats.PROJECT_NAME_MAX))]
    """The prefix of the cluster, task family, role and log group names: 1-16 of ``a-z0-9-``,
    starting with a letter, not ending with ``-``; not ``sg``/``sg-...`` (AWS refuses security
    group names starting ``sg-``), nor ``internal``/``internal-...`` when an environment creates a
    load balancer."""
    tags: dict[TagKey, TagValue] = Field(default_factory=dict)
    """Tags of every resource (the provider's ``default_tags``), ``{ Key = "value" }``, beside
    ``Project``, ``Environment`` and ``ManagedBy = ecs-cd``, which the tool sets: keys of 1-128
    and values of 0-256 letters, digits, spaces and ``_ . : / = + - @``; no ``aws:`` prefix, no
    credential-looking key, no URL with a password."""


class TerraformTable(_Table):
    """``[terraform]``."""

    null_provider_version: Annotated[StrictStr, Field(pattern=f"^(?:{VERSION_CONSTRAINT.pattern})$")] = (
        DEFAULT_NULL_PROVIDER_VERSION
    )
    """The Terraform version constraint for the hashicorp/null provider, e.g. ``~> 3.2``:
    conditions (operators ``=``, ``!=``, ``>``, ``>=``, ``<``, ``<=``, ``~>``) separated by commas."""


class _Enabled(_Table):
    enabled: StrictBool = True
    """``false`` leaves the service out of every environment that does not set ``enabled = true``
    in its override (and the reverse): no resources there, and ``ecs-release`` refuses it there
    (exit 2)."""


class _ContainerImage(_Table):
    image: ImageReference | None = None
    """A fixed image reference, ``repository[:tag][@sha256:<digest>]`` (e.g. a pinned agent);
    not with ``repository`` and ``image_tag_parameter``."""
    repository: Repository | None = None
    """The image's repository, its tag from ``image_tag_parameter`` (the service's image
    strategy applies)."""
    image_tag_parameter: SsmName | None = None
    """The SSM parameter that holds the tag (with ``repository``); ``{project}``, ``{service}`` and
    ``{env}`` are replaced per environment."""


def _fields(model: type[BaseModel], names: list[str] | None = None) -> dict[str, Any]:
    """``model``'s fields (all, or ``names``) as ``create_model`` takes them."""
    chosen = list(model.model_fields) if names is None else names
    return {name: (model.model_fields[name].annotation, copy(model.model_fields[name])) for name in chosen}


def _table(name: str, fields: dict[str, Any]) -> type[BaseModel]:
    return create_model(name, __config__=ConfigDict(extra="forbid", frozen=True), **fields)


ContainerTable = _table(
    "ContainerTable",
    {
        **_fields(ContainerProps, [n for n in ContainerProps.model_fields if n not in ("name", "image")]),
        **_fields(_ContainerImage, list(IMAGE_KEYS)),
    },
)


def _containers() -> tuple[Any, Any]:
    field = ServiceFile.model_fields["containers"]
    return dict[StrictStr, ContainerTable], Field(default_factory=dict, description=field.description)  # type: ignore[valid-type]


ServiceTable = _table(
    "ServiceTable",
    {
        **_fields(ServiceFile, [n for n in ServiceFile.model_fields if n != "name"]),
        "containers": _containers(),
        **_fields(_Enabled),
    },
)
ServiceOverride = _table(
    "ServiceOverride",
    {name: spec for name, spec in _fields(ServiceTable).items() if name in OVERRIDABLE},
)


def _services() -> tuple[Any, Any]:
    field = EnvironmentFile.model_fields["services"]
    return dict[StrictStr, ServiceOverride], Field(  # type: ignore[valid-type]
        default_factory=dict,
        description=field.description,
        json_schema_extra=_keys(aws_formats.SERVICE_NAME_MAX),
    )


EnvironmentTable = _table("EnvironmentTable", {**_fields(EnvironmentFile), "services": _services()})


class ConfigurationFile(_Table):
    """The whole file."""

    project: ProjectTable
    """The project: its name and tags."""
    terraform: TerraformTable = Field(default_factory=TerraformTable)
    """Terraform's providers."""
    services: dict[StrictStr, ServiceTable] = Field(  # type: ignore[valid-type]
        default_factory=dict, json_schema_extra=_keys(aws_formats.SERVICE_NAME_MAX)
    )
    """The services, ``[services.<name>]``: the name is 1-28 of ``a-z0-9-`` and is the ECS
    service's name. At least one (``ecs-release adopt`` writes the first)."""
    environments: Annotated[
        dict[StrictStr, EnvironmentTable],  # type: ignore[valid-type]
        Field(min_length=1, json_schema_extra=_keys(aws_formats.ENVIRONMENT_NAME_MAX)),
    ]
    """The environments, ``[environments.<name>]``: each one a stack of that name; the name is
    1-12 of ``a-z0-9-``. At least one."""


class _TomlSchema(GenerateJsonSchema):
    """pydantic's JSON Schema as a TOML file needs it: no nulls, defaults where the model has one."""

    def nullable_schema(self, schema: Any) -> JsonSchemaValue:
        # TOML has no null: an optional field is one the table leaves out.
        return self.generate_inner(schema["schema"])

    def default_schema(self, schema: Any) -> JsonSchemaValue:
        json_schema = dict(super().default_schema(schema))
        factory = schema.get("default_factory")
        if factory is not None and not schema.get("default_factory_takes_data"):
            made = factory()
            # A table of defaults is the empty table.
            json_schema["default"] = {} if isinstance(made, BaseModel) else self.encode_default(made)
        if json_schema.get("default", "") is None:
            del json_schema["default"]
        return json_schema

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


def file_schema(*, merged: bool = False) -> dict[str, Any]:
    """The configuration file's JSON Schema. ``merged`` (default False): a service's table and a
    table merged key by key require what the merged service needs (the reference's view), not
    what each table alone may leave to the other (the editor's)."""
    generated = ConfigurationFile.model_json_schema(schema_generator=_TomlSchema)
    defs = generated["$defs"]
    for model in defs.values():
        model.pop("description", None)  # a class docstring is for developers; fields carry the text
    if not merged:
        service = defs["ServiceTable"]
        partial = [service, defs["ServiceOverride"]]
        partial += [
            defs[service["properties"][name]["$ref"].rsplit("/", 1)[1]]
            for name in MERGED_TABLES
            if "$ref" in service["properties"][name]
        ]
        for table in partial:
            table.pop("required", None)
    for name in ("title", "description"):
        del generated[name]
    schema: dict[str, Any] = _one_line_descriptions(
        {"$schema": DIALECT, "title": TITLE, "description": DESCRIPTION, **generated}
    )
    return schema


def _one_line_descriptions(node: Any) -> Any:
    """``node`` with each description's docstring line breaks as spaces (an editor wraps it)."""
    if isinstance(node, dict):
        return {
            key: " ".join(value.split())
            if key == "description" and isinstance(value, str)
            else _one_line_descriptions(value)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_one_line_descriptions(item) for item in node]
    return node
