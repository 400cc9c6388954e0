"""Rules between the parts of a configuration: an environment's services together, and the
environments together (their states, stacks and AWS names)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from constructs_lib.service_connect_props import resolve_endpoint
from ecs_cd.core import aws_formats, aws_regions, names
from stacks.configuration.environment_file import EnvironmentFile
from stacks.configuration.errors import in_region, show, validate_name
from stacks.configuration.model import EnvironmentSettings, ServiceSettings
from stacks.configuration.state_model import LocalState
from stacks.layout import StackLayout


def region_problems(file: str, env_where: str, env: EnvironmentFile) -> list[str]:
    """ARNs of an environment that AWS uses only in their own region: in the environment's."""
    arns = [("log_kms_key_arn", env.log_kms_key_arn)]
    if env.service_connect is not None:
        arns.append(("service_connect.namespace_arn", env.service_connect.namespace_arn))
    if env.load_balancer is not None:
        arns += [
            (f"load_balancer.{name}", getattr(env.load_balancer, name))
            for name in ("listener_arn", "certificate_arn", "web_acl_arn")
        ]
    lines = [
        line
        for where, arn in arns
        if arn is not None
        for line in in_region(file, f"{env_where}.{where}", arn, env.region)
    ]
    role = env.aws.role_arn
    if role is not None:
        lines += validate_name(
            file,
            f"{env_where}.aws.role_arn",
            role,
            lambda arn: aws_regions.validate_arn_partition(arn, env.region),
        )
    return lines


def derived_name_problems(
    file: str, project: str, environments: Mapping[str, EnvironmentSettings]
) -> list[str]:
    """A name AWS refuses that the project name would give (a security group starting with 'sg-',
    a load balancer starting with 'internal-'): one line at project.name, for the first found."""
    derived: list[tuple[str, str, Any]] = []
    for env_name, env in environments.items():
        derived += [
            (
                "the tasks' security groups",
                names.security_group_name(project, env_name, service.name),
                aws_formats.validate_security_group_name,
            )
            for service in env.services
        ]
        if env.load_balancer is not None and env.load_balancer.create:
            derived += [
                (
                    "the load balancers",
                    names.load_balancer_name(project, env_name),
                    aws_formats.validate_load_balancer_name,
                ),
                (
                    "the load balancers' security groups",
                    names.load_balancer_security_group_name(project, env_name),
                    aws_formats.validate_security_group_name,
                ),
            ]
    for what, name, check in derived:
        try:
            check(name)
        except ValueError as exc:
            return [
                f"{file}: project.name = {show(project)}: would name {what} like {name!r}, and {exc}: "
                "choose another project name"
            ]
    return []


def _state_locations(env: EnvironmentSettings) -> list[tuple[tuple[str, ...], str | None, str, str]]:
    """Where an environment's stacks keep their state (its ``StackLayout``): (identity, service or
    None, field, shown)."""
    state = env.state
    found: list[tuple[tuple[str, ...], str | None, str, str]] = []
    for place in StackLayout.of(env).places:
        if isinstance(state, LocalState):
            assert place.state_path is not None
            found.append((("local", place.state_path), place.service, "path", state.path))
        else:
            assert place.state_key is not None
            identity = ("s3", env.emulator_endpoint or "aws", state.bucket, place.state_key)
            found.append((identity, place.service, "key", state.key))
    return found


def shared_state_problems(file: str, environments: Mapping[str, EnvironmentSettings]) -> list[str]:
    """Two environments on one state: the second's apply would destroy the first's resources."""
    owners: dict[tuple[str, ...], str] = {}
    lines = []
    for env_name, env in environments.items():
        for identity, service, field, shown in _state_locations(env):
            owner = f"environments.{env_name}" + (f"'s service {service}" if service else "")
            other = owners.setdefault(identity, owner)
            if other == owner:
                continue
            subject = "this state" if service is None else f"the state of its service {service}"
            where = identity[-1] if identity[0] == "local" else f"s3://{identity[2]}/{identity[3]}"
            lines.append(
                f"{file}: environments.{env_name}.state.{field} = {show(shown)}: {subject} ({where}) is "
                f"also the state of {other}: one apply would destroy the other's resources; give each "
                f"environment its own state {field}"
            )
            break
    return lines


def stack_name_problems(file: str, environments: Mapping[str, EnvironmentSettings]) -> list[str]:
    """A split environment's service stack named like another environment: cdktf needs one name each."""
    environment_names = set(environments)
    lines = []
    for env_name, env in environments.items():
        for place in StackLayout.of(env).places:
            if place.service is not None and place.name in environment_names:
                lines.append(
                    f"{file}: environments.{env_name}.stack_per_service = true: the stack of its service "
                    f"{place.service} would be named {place.name!r}, the name of environments.{place.name}: "
                    "each stack needs its own name; rename that environment or set stack_per_service = false"
                )
    return lines


def load_balancer_problems(
    file: str, env_where: str, env: EnvironmentFile, services: Sequence[ServiceSettings]
) -> list[str]:
    """The environment's load balancer as its services use it: present, one priority per rule,
    and not created in a split environment."""
    lines = []
    balanced = [s.name for s in services if s.load_balancer is not None]
    if balanced and env.load_balancer is None:
        lines.append(
            f"{file}: {env_where}.load_balancer: is required because "
            f"{', '.join('services.' + n + '.load_balancer' for n in balanced)} is set "
            "(listener_arn and security_group_id of an existing ALB, or create = true)"
        )
    priorities: dict[int, str] = {}
    for svc in services:
        if svc.load_balancer is None:
            continue
        other = priorities.setdefault(svc.load_balancer.priority, svc.name)
        if other != svc.name:
            lines.append(
                f"{file}: {env_where}: services {other} and {svc.name} both use load_balancer.priority = "
                f"{svc.load_balancer.priority}: listener rule priorities must be unique"
            )
    if env.load_balancer is not None and env.load_balancer.create and env.stack_per_service:
        lines.append(
            f"{file}: {env_where}.load_balancer.create = true: not supported with "
            "stack_per_service = true (service stacks attach to an existing listener: set "
            "listener_arn and security_group_id)"
        )
    return lines


def tag_count_problems(file: str, env: EnvironmentSettings) -> list[str]:
    """A service whose resources would carry more tags than AWS allows."""
    lines = []
    for service in env.services:
        count = len(env.tags) + 1 + len(service.tags)
        if count > aws_formats.MAX_TAGS_PER_RESOURCE:
            lines.append(
                f"{file}: environments.{env.name}: service {service.name}'s resources would carry {count} "
                f"tags (4 of the tool's, the project's, the environment's and the service's): AWS allows "
                f"{aws_formats.MAX_TAGS_PER_RESOURCE} per resource"
            )
    return lines


def family_problems(file: str, project: str, environments: Mapping[str, EnvironmentSettings]) -> list[str]:
    """Two services of the file whose AWS names would be the same (a hyphen in both names)."""
    owners: dict[str, str] = {}
    lines = []
    for env_name, env in environments.items():
        for service in env.services:
            family = service.names.task_family
            other = owners.setdefault(family, f"{env_name}/{service.name}")
            if other != f"{env_name}/{service.name}":
                lines.append(
                    f"{file}: environments.{env_name}.services.{service.name}: its AWS names "
                    f"({family}, {family}-exec, ...) are also those of {other}: rename the "
                    "environment or the service (a hyphen in both makes them collide)"
                )
    return lines


def service_connect_problems(
    file: str, env_where: str, env: EnvironmentFile, services: Sequence[ServiceSettings]
) -> list[str]:
    """The environment's Service Connect: each discovery name and each alias (DNS name and port)
    once in the namespace, and room in every awsvpc service for the group the callers share."""
    if env.service_connect is None:
        return []
    lines: list[str] = []
    extra = env.network.security_group_ids
    if len(extra) > aws_formats.MAX_SERVICE_SECURITY_GROUPS - 2:
        lines.append(
            f"{file}: {env_where}.network.security_group_ids: lists {len(extra)} groups, but with "
            f"{env_where}.service_connect each service also joins the environment's Service Connect "
            f"group beside its own, and ECS allows {aws_formats.MAX_SERVICE_SECURITY_GROUPS} per "
            f"service: at most {aws_formats.MAX_SERVICE_SECURITY_GROUPS - 2}"
        )
    discovery: dict[str, str] = {}
    aliases: dict[str, str] = {}
    for svc in services:
        endpoint = resolve_endpoint(svc.task_containers, svc.service_connect) if svc.service_connect else None
        if endpoint is None:
            continue  # no server side, or one whose own problem is reported at the service
        for seen, key, what in (
            (discovery, endpoint.discovery_name, f"discovery name {endpoint.discovery_name!r}"),
            (aliases, endpoint.address, f"client alias {endpoint.address!r}"),
        ):
            other = seen.setdefault(key, svc.name)
            if other != svc.name:
                lines.append(
                    f"{file}: {env_where}: services {other} and {svc.name} both use the Service Connect "
                    f"{what}: each must be unique in the namespace (set service_connect.discovery_name "
                    "or client_alias of one)"
                )
    return lines
