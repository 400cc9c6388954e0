"""From a parsed configuration file to ``Settings``: a short sequence of named steps.

Every step adds its problems as lines and goes on where it can, so one run reports every
mistake of the file; ``ConfigError`` carries them all.
"""

from __future__ import annotations

import sys
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from constructs_lib.fields import TagKey, TagValue
from constructs_lib.service_props import validate_capacity_provider_name
from ecs_cd.core import aws_formats, image_strategies, names
from stacks.configuration.build import ServiceScope, resolve_service
from stacks.configuration.checks import (
    derived_name_problems,
    family_problems,
    load_balancer_problems,
    region_problems,
    service_connect_problems,
    shared_state_problems,
    stack_name_problems,
    tag_count_problems,
)
from stacks.configuration.environment_file import EnvironmentFile, validate_endpoint
from stacks.configuration.errors import ConfigError, problems, show, validate_name
from stacks.configuration.model import (
    DEFAULT_NULL_PROVIDER_VERSION,
    VERSION_CONSTRAINT,
    EnvironmentSettings,
    ServiceSettings,
    Settings,
)
from stacks.configuration.namespace import ServiceConnectNamespace

_TAGS: TypeAdapter[dict[str, str]] = TypeAdapter(dict[TagKey, TagValue])
_SECTIONS = ("environments", "project", "services", "terraform")

EMULATOR_ENDPOINT_VARIABLE = "environment variable ECS_CD_EMULATOR_ENDPOINT"
TOO_DEEP = "arrays or tables nested too deeply (a configuration needs a few levels)"


def load_settings(
    path: Path,
    *,
    emulator_endpoint: str | None = None,
    emulator_endpoint_source: str = EMULATOR_ENDPOINT_VARIABLE,
    services_required: bool = True,
) -> Settings:
    """Read and validate the configuration file.

    ``emulator_endpoint`` (default None) replaces the endpoint of every environment that
    runs against the emulator, for tools that start the emulator on a free port;
    ``emulator_endpoint_source`` names where it came from in a problem (default: the
    environment variable ECS_CD_EMULATOR_ENDPOINT, which main.py and ecs-release read).
    """
    file = str(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError([f"{file}: file not found (set ECS_CD_CONFIG or create it)"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{file}: cannot be read: {exc}"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{file}: is not valid TOML: {exc}"]) from None
    except RecursionError:
        raise ConfigError([f"{file}: cannot be read: {TOO_DEEP}"]) from None
    except ValueError as exc:
        # Python refuses to convert an integer of more digits than sys.get_int_max_str_digits().
        raise ConfigError(
            [f"{file}: cannot be read: an integer has more than {sys.get_int_max_str_digits()} digits"]
            if "digits" in str(exc)
            else [f"{file}: is not valid TOML: {exc}"]
        ) from None
    try:
        return settings_from_dict(
            raw,
            file=file,
            emulator_endpoint=emulator_endpoint,
            emulator_endpoint_source=emulator_endpoint_source,
            services_required=services_required,
        )
    except RecursionError:
        raise ConfigError([f"{file}: cannot be checked: {TOO_DEEP}"]) from None


@dataclass
class _Project:
    """The [project] table as far as it is valid (``name`` may be any value the file holds)."""

    name: Any = ""
    tags: dict[str, str] = field(default_factory=dict)
    ok: bool = False

    @property
    def text(self) -> str:
        """The name where it fills a placeholder or a tag ("" when it is not a string)."""
        return self.name if isinstance(self.name, str) else ""


def settings_from_dict(
    raw: Mapping[str, Any],
    *,
    file: str,
    emulator_endpoint: str | None = None,
    emulator_endpoint_source: str = EMULATOR_ENDPOINT_VARIABLE,
    services_required: bool = True,
) -> Settings:
    """Validate an already parsed configuration (``file`` names it in errors; see ``load_settings``).
    ``services_required`` (default True): a file without a service is a problem (False for
    ``ecs-release adopt``, which writes the first one)."""
    found = [
        f"{file}: {key}: is not a known section (allowed: {', '.join(_SECTIONS)})"
        for key in raw
        if key not in _SECTIONS
    ]
    project = _project(file, raw.get("project"), found)
    null_version = _null_provider_version(file, raw.get("terraform", {}), found)
    services = _service_tables(file, raw.get("services"), found, required=services_required)
    environment_tables = raw.get("environments")
    if not isinstance(environment_tables, Mapping) or not environment_tables:
        found.append(f"{file}: environments: define at least one [environments.<name>] table")
        environment_tables = {}
    if emulator_endpoint is not None:
        try:
            validate_endpoint(emulator_endpoint)
        except ValueError as exc:
            # Not a line of the file: name where the value came from.
            found.append(f"{emulator_endpoint_source} = {show(emulator_endpoint)}: {exc}")
    environments: dict[str, EnvironmentSettings] = {}
    for env_name, env_body in environment_tables.items():
        env = _environment(file, env_name, env_body, project, services, emulator_endpoint, found)
        if env is not None:
            environments[env_name] = env
    if project.ok:
        found += derived_name_problems(file, str(project.name), environments)
    found += shared_state_problems(file, environments)
    found += stack_name_problems(file, environments)
    if not found:
        # Only for an otherwise valid file: the names are derived from the (valid) project name.
        found += family_problems(file, project.name, environments)
    if found:
        raise ConfigError(found)
    return Settings(
        source=file, project=project.name, null_provider_version=null_version, environments=environments
    )


def _project(file: str, table: Any, found: list[str]) -> _Project:
    project = _Project()
    if not isinstance(table, Mapping) or "name" not in table:
        found.append(f"{file}: project.name: is required but missing")
        return project
    for key in table:
        if key not in ("name", "tags"):
            found.append(f"{file}: project.{key}: is not a known field (allowed: name, tags)")
    try:
        project.tags = _TAGS.validate_python(table.get("tags", {}))
    except ValidationError as exc:
        found += problems(file, ["project", "tags"], exc.errors())
    project.name = table["name"]
    if not isinstance(project.name, str):
        found.append(f"{file}: project.name = {show(project.name)}: must be a string")
    else:
        name_problems = validate_name(file, "project.name", project.name, aws_formats.validate_project_name)
        found += name_problems
        project.ok = not name_problems
    return project


def _null_provider_version(file: str, table: Any, found: list[str]) -> str:
    if not isinstance(table, Mapping):
        found.append(f"{file}: terraform = {show(table)}: must be a table")
        return DEFAULT_NULL_PROVIDER_VERSION
    version = DEFAULT_NULL_PROVIDER_VERSION
    for key, value in table.items():
        if key != "null_provider_version":
            found.append(f"{file}: terraform.{key}: is not a known field (allowed: null_provider_version)")
        elif not isinstance(value, str) or not VERSION_CONSTRAINT.fullmatch(value):
            found.append(
                f"{file}: terraform.null_provider_version = {show(value)}: must be a Terraform "
                "version constraint: conditions such as '>= 2.1.2, < 4.0.0' (operators =, !=, >, >=, <, "
                "<=, ~>; versions of numbers and dots, optionally '-beta1'), separated by commas"
            )
        else:
            version = value
    return version


def _service_tables(file: str, services: Any, found: list[str], *, required: bool) -> Mapping[str, Any]:
    if services is None and not required:
        return {}
    if not isinstance(services, Mapping) or not services:
        found.append(f"{file}: services: define at least one [services.<name>] table")
        return {}
    for name, body in services.items():
        found += validate_name(file, f"services.{name}", name, aws_formats.validate_service_name)
        if not isinstance(body, Mapping):
            found.append(f"{file}: services.{name} = {show(body)}: must be a table")
        elif "name" in body:
            # the table's key is the name; a "name" field would be silently replaced by it
            found.append(
                f"{file}: services.{name}.name: is not a known field (the service's name is its table key, "
                f"{name!r})"
            )
    return services


def _environment(
    file: str,
    env_name: str,
    body: Any,
    project: _Project,
    services: Mapping[str, Any],
    emulator_endpoint: str | None,
    found: list[str],
) -> EnvironmentSettings | None:
    """One environment with its services resolved, or None when its own table is unusable."""
    env_where = f"environments.{env_name}"
    name_problems = validate_name(file, env_where, env_name, aws_formats.validate_environment_name)
    if name_problems or not isinstance(body, Mapping):
        found += name_problems or [f"{file}: {env_where} = {show(body)}: must be a table"]
        return None
    try:
        env_file = EnvironmentFile.model_validate(body)
    except ValidationError as exc:
        found += problems(file, ["environments", env_name], exc.errors())
        return None
    found += region_problems(file, env_where, env_file)
    if env_file.aws.profile is not None and env_file.emulator_endpoint is not None:
        found.append(
            f"{file}: {env_where}.aws.profile = {show(env_file.aws.profile)}: an environment on "
            "the emulator (emulator_endpoint) uses the emulator's keys: remove the profile"
        )
    redeploy = image_strategies.DEFAULT_REDEPLOY_COMMAND
    if env_file.redeploy_command is not None:
        try:
            redeploy = image_strategies.validate_redeploy_command(env_file.redeploy_command)
        except ValueError as exc:
            found.append(f"{file}: {env_where}.redeploy_command = {show(env_file.redeploy_command)}: {exc}")
    for unknown in sorted(set(env_file.services) - set(services)) if services else ():
        found.append(
            f"{file}: {env_where}.services.{unknown}: overrides a service that is not defined "
            f"(defined: {', '.join(sorted(services)) or 'none'})"
        )
    scope = ServiceScope(
        file=file,
        env_name=env_name,
        region=env_file.region,
        project_name=project.text,
        # an invalid project name (reported above) counts at the longest a valid one can be
        log_project=project.name if project.ok else "p" * aws_formats.PROJECT_NAME_MAX,
        public_ip_from=f"{env_where}.network.assign_public_ip" if env_file.network.assign_public_ip else None,
        cluster=_cluster_name(env_file, project, env_name),
        service_connect=env_file.service_connect is not None,
    )
    resolved, disabled = _services(scope, services, env_file, found)
    found += load_balancer_problems(file, env_where, env_file, resolved)
    found += service_connect_problems(file, env_where, env_file, resolved)
    env = _environment_settings(file, env_name, env_file, project, redeploy, emulator_endpoint, found)
    env = env.model_copy(update={"services": tuple(resolved), "disabled_services": tuple(disabled)})
    found += tag_count_problems(file, env)
    return env


def _services(
    scope: ServiceScope, services: Mapping[str, Any], env_file: EnvironmentFile, found: list[str]
) -> tuple[list[ServiceSettings], list[str]]:
    """The environment's services (each merged with its override) and those it disables."""
    resolved: list[ServiceSettings] = []
    disabled: list[str] = []
    for name, body in services.items():
        if not isinstance(body, Mapping):
            continue
        service = resolve_service(scope, name, body, env_file.services.get(name, {}), found)
        if isinstance(service, ServiceSettings):
            resolved.append(service)
        elif service is False:
            disabled.append(name)
    return resolved, disabled


def _cluster_name(env_file: EnvironmentFile, project: _Project, env_name: str) -> str:
    """The file's cluster name, or the derived one."""
    return env_file.cluster.name or names.cluster_name(project.text, env_name)


def _namespace(env_file: EnvironmentFile, project: _Project, env_name: str) -> ServiceConnectNamespace | None:
    """The environment's Service Connect namespace: an existing one's ARN, or the name of the one
    created here (the file's, or derived)."""
    table = env_file.service_connect
    if table is None:
        return None
    if table.namespace_arn is not None:
        return ServiceConnectNamespace(arn=table.namespace_arn, proxy_logs=table.proxy_logs)
    name = table.namespace or names.service_connect_namespace(project.text, env_name)
    return ServiceConnectNamespace(name=name, proxy_logs=table.proxy_logs)


def _environment_settings(
    file: str,
    env_name: str,
    env_file: EnvironmentFile,
    project: _Project,
    redeploy: tuple[str, ...],
    emulator_endpoint: str | None,
    found: list[str],
) -> EnvironmentSettings:
    """The environment's own settings (its services are added by the caller)."""
    capacity = env_file.ec2_capacity
    if capacity is not None and capacity.name is None:
        derived = names.ec2_capacity_name(project.name, env_name)
        try:
            validate_capacity_provider_name(derived)
            capacity = capacity.model_copy(update={"name": derived})
        except ValueError as exc:
            found.append(
                f"{file}: environments.{env_name}.ec2_capacity.name (derived {derived!r}): {exc}: set name"
            )
    endpoint = env_file.emulator_endpoint
    if endpoint is not None and emulator_endpoint is not None:
        endpoint = emulator_endpoint.rstrip("/")
    return EnvironmentSettings(
        name=env_name,
        region=env_file.region,
        emulator_endpoint=endpoint,
        network=env_file.network,
        state=env_file.state,
        log_retention_days=env_file.log_retention_days,
        redeploy_command=redeploy,
        stack_per_service=env_file.stack_per_service,
        wait_for_steady_state=env_file.wait_for_steady_state,
        log_kms_key_arn=env_file.log_kms_key_arn,
        load_balancer=env_file.load_balancer,
        ec2_capacity=capacity,
        cluster=env_file.cluster.model_copy(update={"name": _cluster_name(env_file, project, env_name)}),
        service_connect=_namespace(env_file, project, env_name),
        services=(),
        aws=env_file.aws,
        tags={
            "Project": project.text,
            "Environment": env_name,
            "ManagedBy": "ecs-cd",
            **project.tags,
            **env_file.tags,
        },
    )
