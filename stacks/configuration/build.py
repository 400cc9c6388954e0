"""A merged service checked against the constructs' own props, then mapped into them: ``ServiceSettings``.

Each step reports its problems at the field where the offending value was written, in the
service's base table or in the environment's override of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from constructs_lib.container import ContainerProps, container_problems
from constructs_lib.images import (
    EcrDigest,
    Fixed,
    ImageSource,
    SsmTag,
    digest_repository_problems,
    digest_tag_problems,
)
from constructs_lib.imports import AdoptedShape, adoption_problems
from constructs_lib.props import NO_VALUE, REPORT_BY_FIELD, Problem
from constructs_lib.queue_props import ServiceQueue, queue_problems
from constructs_lib.service_connect_props import service_connect_problems
from constructs_lib.service_props import scaling_problems, target_problems
from constructs_lib.task_definition_props import definitions_problems, size_problems
from constructs_lib.task_rules import task_problems
from ecs_cd.core import aws_formats, names
from ecs_cd.core.names import ServiceNames
from stacks.configuration.errors import in_region, message, problems, show, shown, validate_name, where
from stacks.configuration.jobs import job_conflicts
from stacks.configuration.merge import (
    IMAGE_KEYS,
    OVERRIDABLE,
    Provenance,
    merge_service,
    parameter_placeholders,
)
from stacks.configuration.model import APP_CONTAINER_FIELDS, ServiceFile, ServiceSettings, TaskSettings


@dataclass(frozen=True)
class ServiceScope:
    """What a service's checks need of the file and the environment it is resolved in."""

    file: str
    env_name: str
    region: str
    # The project's name for placeholders ("" when it is not a string: reported at project.name).
    project_name: str
    # The project's name for derived AWS names: a valid one, or the longest a valid one can be.
    log_project: str
    # The field that gives the environment's tasks public IPs, if one does.
    public_ip_from: str | None
    # The environment's cluster, as the services' adopted ids must name it.
    cluster: str = ""
    # The environment has a Service Connect namespace ([environments.<env>.service_connect]).
    service_connect: bool = False

    @property
    def env_where(self) -> str:
        return f"environments.{self.env_name}"


def _add(found: list[str], *lines: str) -> None:
    """Each line once: two steps may refuse one value alike."""
    for line in lines:
        if line not in found:
            found.append(line)


def _table(scope: ServiceScope, service: str, from_override: bool) -> str:
    """The service's table the blamed value was written in: its base or the environment's override."""
    return f"{scope.env_where}.services.{service}" if from_override else f"services.{service}"


Located = tuple[list[str | int], Any, str]


def container_images(service: str, containers: Any, strategy: Any) -> tuple[Any, list[Located]]:
    """``containers`` with each table's image keys turned into an image source, and the
    problems found doing it as (path below the service, value or NO_VALUE, message)."""
    if not isinstance(containers, Mapping):
        return containers, []
    found: list[Located] = []
    out: dict[str, Any] = {}
    for name, body in containers.items():
        at: list[str | int] = ["containers", name]
        if not isinstance(body, Mapping):
            out[name] = body
            continue
        if name == service:
            found.append((at, NO_VALUE, "is the app container's name (the service's): choose another"))
        if "name" in body:
            found.append(
                (
                    [*at, "name"],
                    NO_VALUE,
                    f"is not a known field (the container's name is its table key, {name!r})",
                )
            )
        source, image_problems = _image_source(at, body, strategy)
        found += image_problems
        fields = {k: v for k, v in body.items() if k not in (*IMAGE_KEYS, "name")}
        # A container whose image is wrong is still checked field by field (its image problem
        # is already reported): a placeholder stands in for the image.
        fields["image"] = source if source is not None else Fixed.model_construct(reference="placeholder")
        fields["name"] = name
        out[name] = fields
    return out, found


def _image_source(
    at: list[str | int], body: Mapping[str, Any], strategy: Any
) -> tuple[ImageSource | None, list[Located]]:
    """The image source a container's table names, or None and why not."""
    image, repository, parameter = (body.get(k) for k in IMAGE_KEYS)
    try:
        if image is not None and repository is None and parameter is None:
            return Fixed(reference=image), []
        if image is None and repository is not None and parameter is not None:
            if strategy == "digest":
                # Its fields validated here, EcrDigest's rule reported at the container's field.
                digest = EcrDigest.model_validate(
                    {"repository": repository, "tag_parameter": parameter}, context={REPORT_BY_FIELD: True}
                )
                ecr = digest_repository_problems(digest.repository)
                return (None, [([*at, p.field], p.value, p.message) for p in ecr]) if ecr else (digest, [])
            return SsmTag(repository=repository, parameter_name=parameter), []
    except ValidationError as exc:
        found: list[Located] = []
        for error in exc.errors():
            key = "image" if image is not None else (error["loc"][0] if error["loc"] else "repository")
            key = {"parameter_name": "image_tag_parameter", "tag_parameter": "image_tag_parameter"}.get(
                str(key), str(key)
            )
            found.append(([*at, key], body.get(key, NO_VALUE), message(error)))
        return None, found
    return None, [
        (
            at,
            NO_VALUE,
            "set image (a fixed reference such as 'public.ecr.aws/org/agent:7') or repository "
            "and image_tag_parameter (the tag from SSM), not both, not neither",
        )
    ]


def service_conflicts(service: ServiceFile, *, public_ip_from: str | None = None) -> list[Problem]:
    """Contradictions between a service's fields, as (field path, value or NO_VALUE, message, the
    fields a rule of all the containers together compared);
    ``public_ip_from``: the field that gives the environment's tasks public IPs, if one does."""
    found = _container_conflicts(service)
    public_ip_problem = service.compute.public_ip_problem()
    if public_ip_from is not None and public_ip_problem is not None:
        found.append(
            Problem(
                "compute",
                NO_VALUE,
                f"{public_ip_problem}, but {public_ip_from} = true (Fargate only, whatever the network "
                "mode): use private subnets with a NAT gateway",
            )
        )
    found += _target_conflicts(service)
    pre_deploy = service.pre_deploy
    container = pre_deploy.container if pre_deploy is not None else None
    if container is not None and container != service.name and container not in service.containers:
        found.append(
            Problem(
                "pre_deploy.container",
                container,
                f"names no container of the service (containers: "
                f"{', '.join([service.name, *service.containers])})",
            )
        )
    found += queue_problems(
        service.queue,
        autoscaling=service.autoscaling is not None,
        variables=service.environment,
        secrets=service.secrets,
    )
    if service.service_connect is not None:
        found += service_connect_problems(
            (_app(service), *service.sidecars), service.service_connect, service.network_mode
        )
    return (
        found
        + scaling_problems(service.desired_count, service.autoscaling, service.queue)
        + job_conflicts(service)
    )


def _container_conflicts(service: ServiceFile) -> list[Problem]:
    """The containers' own rules and the task's, each at its field of the flat form."""
    app = _app(service)
    found = [Problem(*problem) for problem in container_problems(app)]
    for sidecar in service.sidecars:
        found += [
            Problem(f"containers.{sidecar.name}.{at}", value, why)
            for at, value, why in container_problems(sidecar)
        ]
    containers = [service.name, *service.containers]
    for problem in task_problems(
        (app, *service.sidecars),
        cpu=service.cpu,
        memory=service.memory,
        secrets_kms_key_arn=service.secrets_kms_key_arn,
        compatibility=service.compute.compatibility,
        network_mode=service.network_mode,
        volumes=service.volumes,
    ):
        read = tuple(_flat(service, path.replace("*", name)) for path in problem.read for name in containers)
        found.append(problem._replace(field=_flat(service, problem.field), read=read))
    return found


def _flat(service: ServiceFile, at: str) -> str:
    """A field of the task (``containers.<name>.<field>``) as the service's file writes it: the
    app container's fields are the service's own (its cpu and memory named container_cpu and
    container_memory: the service's cpu and memory size the task)."""
    app_prefix = f"containers.{service.name}"
    if at == app_prefix:
        return "name"
    if at.startswith(app_prefix + "."):
        field = at[len(app_prefix) + 1 :]
        return {"cpu": "container_cpu", "memory": "container_memory"}.get(field, field)
    return at


def _app(service: ServiceFile) -> ContainerProps:
    """The app container, built unvalidated so each of its problems is reported at its field."""
    placeholder = Fixed.model_construct(reference="placeholder")
    return ContainerProps.model_construct(name=service.name, image=placeholder, **service.app_fields())


def _target_conflicts(service: ServiceFile) -> list[Problem]:
    """The container the load balancer sends to (the service's rule), at load_balancer.container,
    or at load_balancer when it sends to the app container by default."""
    if service.load_balancer is None:
        return []
    containers = (_app(service), *service.sidecars)
    named = service.load_balancer.container is not None
    return [
        problem._replace(field="load_balancer.container")
        if named
        else problem._replace(field="load_balancer", value=NO_VALUE)
        for problem in target_problems(
            containers, service.target_container, name_of=lambda at: _flat(service, at)
        )
    ]


def resolve_service(
    scope: ServiceScope, name: str, body: Mapping[str, Any], raw_override: Mapping[str, Any], found: list[str]
) -> ServiceSettings | bool:
    """The service as it runs in the environment, False when the environment disables it, or True
    when a problem (added to ``found``) leaves it out."""
    override = _overridable(scope, name, raw_override, found)
    merged, written = merge_service(body, override)
    enabled = merged.pop("enabled", True)
    if not isinstance(enabled, bool):
        at = _table(scope, name, written.overridden(["enabled"]))
        found.append(f"{scope.file}: {at}.enabled = {show(enabled)}: must be true or false")
        return True
    if not enabled:
        return False
    if not _fill_placeholders(scope, name, merged, written, found):
        return True
    images_ok = _container_sources(scope, name, merged, written, found)
    service = _validated(scope, name, merged, written, found)
    if service is None or not images_ok or not _task_size_ok(scope, service, written, found):
        return True
    _conflicts(scope, service, written, found)
    _namespace_needed(scope, service, written, found)
    if not _image_strategy_ok(scope, service, written, found):
        return True
    tag_parameter = _image_tag_parameter(scope, service, found)
    if service.secrets_kms_key_arn is not None:
        at = _table(scope, name, written.overridden(["secrets_kms_key_arn"]))
        _add(
            found,
            *in_region(scope.file, f"{at}.secrets_kms_key_arn", service.secrets_kms_key_arn, scope.region),
        )
    _queue_in_region(scope, service, written, found)
    derived = ServiceNames.derived(scope.log_project, scope.env_name, service.name)
    queue = _named_queue(service.queue, names.queue_name(scope.log_project, scope.env_name, service.name))
    settings = _service_settings(service, tag_parameter, service.names.applied_to(derived), queue)
    _definitions_size(scope, settings, written, found)
    _adoption(scope, settings, written, found)
    return settings


def _namespace_needed(
    scope: ServiceScope, service: ServiceFile, written: Provenance, found: list[str]
) -> None:
    """A server needs the environment's namespace: one line naming both places (a job is told
    instead that it cannot serve, by job_conflicts)."""
    if service.service_connect is None or scope.service_connect or service.schedule is not None:
        return
    at = _table(scope, service.name, written.overridden(["service_connect"]))
    _add(
        found,
        f"{scope.file}: {at}.service_connect: needs the environment's Service Connect namespace: add "
        f"[{scope.env_where}.service_connect] (namespace = '<name>' to create one, or namespace_arn = "
        "'<ARN>' of an existing one), or remove the service's service_connect",
    )


def _adoption(scope: ServiceScope, service: ServiceSettings, written: Provenance, found: list[str]) -> None:
    """Adopted ids that belong to no one environment, or contradict the service (one line each)."""
    if service.adopt is None:
        return
    if not written.overridden(["adopt"]):
        _add(
            found,
            f"{scope.file}: services.{service.name}.adopt: the ids of live resources belong to one "
            f"environment: move the table to [environments.<env>.services.{service.name}.adopt]",
        )
        return
    at = f"{scope.env_where}.services.{service.name}.adopt"
    shape = AdoptedShape(
        cluster=scope.cluster,
        service=service.names.service,
        log_group=service.names.log_group,
        execution_role=service.names.execution_role,
        task_role=service.names.task_role,
        awsvpc=service.task.network_mode == "awsvpc",
        load_balancer=service.load_balancer is not None,
        autoscaling=service.autoscaling is not None or service.queue is not None,
    )
    for problem in adoption_problems(service.adopt, shape):
        _add(found, f"{scope.file}: {at}.{problem.field}{shown(problem.value)}: {problem.message}")


# Why a queue given by ARN must be in the environment's region.
_QUEUE_REGION = (
    "the scaling policy reads the queue's CloudWatch metrics, which are kept in the queue's region"
)


def _queue_in_region(
    scope: ServiceScope, service: ServiceFile, written: Provenance, found: list[str]
) -> None:
    """A queue's ARN and key in the environment's region (one line each)."""
    queue = service.queue
    if queue is None:
        return
    for field, arn, why in (
        ("arn", queue.arn, {"why": _QUEUE_REGION}),
        ("kms_key_arn", queue.kms_key_arn, {}),
    ):
        if arn is not None:
            at = _table(scope, service.name, written.overridden(["queue"]))
            _add(found, *in_region(scope.file, f"{at}.queue.{field}", arn, scope.region, **why))


def _named_queue(queue: ServiceQueue | None, derived: str) -> ServiceQueue | None:
    """A created queue with its name: the file's, or the derived one."""
    if queue is None or not queue.create or queue.name is not None:
        return queue
    return queue.model_copy(update={"name": derived})


def _image_tag_parameter(scope: ServiceScope, service: ServiceFile, found: list[str]) -> str | None:
    """The SSM parameter the app's tag is read from: the file's, or without a fixed image_tag
    the derived one."""
    if service.image_tag_parameter is not None or service.image_tag is not None:
        return service.image_tag_parameter
    derived = names.image_tag_parameter(service.name, scope.env_name)
    found += validate_name(
        scope.file,
        f"{scope.env_where}.services.{service.name}.image_tag_parameter (derived)",
        derived,
        aws_formats.validate_ssm_parameter_name,
    )
    return derived


def _app_image(service: ServiceFile, image_tag_parameter: str | None) -> ImageSource:
    """The app container's image as the service's image strategy reads it: from ECR by digest
    (of the fixed image_tag or the tag in SSM) or tagged from SSM. Built unvalidated: its parts
    were checked at the service's fields (``_image_strategy_ok``, the file's formats)."""
    if service.image_strategy == "digest":
        return EcrDigest.model_construct(
            repository=service.repository, tag_parameter=image_tag_parameter, tag=service.image_tag
        )
    return SsmTag.model_construct(repository=service.repository, parameter_name=image_tag_parameter)


def _service_settings(
    service: ServiceFile, image_tag_parameter: str | None, aws_names: ServiceNames, queue: ServiceQueue | None
) -> ServiceSettings:
    """The checked flat form as the constructs' props: the app container (named after the
    service, with its image), the task's values, and what no construct owns."""
    app = _app_container(service, _app_image(service, image_tag_parameter))
    task = {name: getattr(service, name) for name in TaskSettings.model_fields}
    return ServiceSettings.model_validate(
        {
            "name": service.name,
            "app": app,
            "containers": service.containers,
            "task": task,
            "compute": service.compute,
            "deployment": service.deployment,
            "load_balancer": service.load_balancer,
            "autoscaling": service.autoscaling,
            "queue": queue,
            "desired_count": service.desired_count,
            "repository": service.repository,
            "image_strategy": service.image_strategy,
            "image_tag": service.image_tag,
            "image_tag_parameter": image_tag_parameter,
            "tags": service.tags,
            "pre_deploy": service.pre_deploy,
            "service_connect": service.service_connect,
            "schedule": service.schedule,
            "names": aws_names,
            "adopt": service.adopt,
        },
        # The rules between the containers' fields were reported at the service's fields.
        context={REPORT_BY_FIELD: True},
    )


def _app_container(service: ServiceFile, image: ImageSource) -> ContainerProps:
    """The app container, named after the service. The name is the service's table key, checked as
    such (at services.<name>); the loader goes on checking a service whose name it refused, so the
    name is set once the container's fields are validated."""
    fields = {"name": "app", "image": image, **service.app_fields()}
    app = ContainerProps.model_validate(fields, context={REPORT_BY_FIELD: True})
    return app.model_copy(update={"name": service.name})


def _overridable(
    scope: ServiceScope, name: str, override: Mapping[str, Any], found: list[str]
) -> dict[str, Any]:
    """The override without the keys no environment may override (each reported)."""
    bad = [k for k in override if k not in OVERRIDABLE]
    for key in bad:
        found.append(
            f"{scope.file}: {scope.env_where}.services.{name}.{key}: cannot be overridden per "
            f"environment (allowed: {', '.join(sorted(OVERRIDABLE))})"
        )
    return {k: v for k, v in override.items() if k not in bad}


def _fill_placeholders(
    scope: ServiceScope, name: str, merged: dict[str, Any], written: Provenance, found: list[str]
) -> bool:
    values = {"project": scope.project_name, "service": name, "env": scope.env_name}
    placeholder_problems = parameter_placeholders(merged, values)
    for path, value, why in placeholder_problems:
        at = _table(scope, name, written.overridden(path))
        found.append(f"{scope.file}: {where([at, *path])} = {show(value)}: {why}")
    return not placeholder_problems


def _container_sources(
    scope: ServiceScope, name: str, merged: dict[str, Any], written: Provenance, found: list[str]
) -> bool:
    merged["containers"], image_problems = container_images(
        name, merged.get("containers", {}), merged.get("image_strategy", "timestamp")
    )
    for path, value, why in image_problems:
        image_keys = [[*path, key] for key in IMAGE_KEYS] if len(path) == 2 else [path]
        at = _table(scope, name, any(written.overridden(keys) for keys in image_keys))
        _add(found, f"{scope.file}: {where([at, *path])}{shown(value)}: {why}")
    return not image_problems


def _validated(
    scope: ServiceScope, name: str, merged: Mapping[str, Any], written: Provenance, found: list[str]
) -> ServiceFile | None:
    try:
        return ServiceFile.model_validate({**merged, "name": name}, context={REPORT_BY_FIELD: True})
    except ValidationError as exc:
        for error in exc.errors():
            loc = error["loc"]
            if len(loc) == 3 and loc[0] == "containers" and loc[2] == "name":
                continue  # the table key, reported as such; the user wrote no name field
            at = _table(scope, name, written.overridden(loc))
            _add(found, problems(scope.file, at.split("."), [error])[0])
        return None


def _task_size_ok(scope: ServiceScope, service: ServiceFile, written: Provenance, found: list[str]) -> bool:
    size = size_problems(service.compute.compatibility, service.cpu, service.memory)
    for field, value, why in size:
        at = _table(scope, service.name, written.overridden([field]))
        _add(found, f"{scope.file}: {at}.{field}{shown(value)}: {why}")
    return not size


def _conflicts(scope: ServiceScope, service: ServiceFile, written: Provenance, found: list[str]) -> None:
    for conflict in service_conflicts(service, public_ip_from=scope.public_ip_from):
        # A rule of all the containers together blames the table that wrote what it compared.
        written_at = conflict.read or (conflict.field,)
        at = _table(scope, service.name, any(written.overridden(path.split(".")) for path in written_at))
        _add(found, f"{scope.file}: {at}.{conflict.field}{shown(conflict.value)}: {conflict.message}")


def _image_strategy_ok(
    scope: ServiceScope, service: ServiceFile, written: Provenance, found: list[str]
) -> bool:
    """The app's image source as the strategy builds it: a fixed image_tag only with 'digest'
    (the service's own rule), and the rules of ``EcrDigest``, each at the service's field."""
    at = {
        field: f"{_table(scope, service.name, written.overridden([field]))}.{field}"
        for field in ("image_tag", "image_tag_parameter", "image_strategy")
    }
    lines = []
    if service.image_tag is not None and service.image_strategy != "digest":
        lines.append(
            f"{scope.file}: {at['image_tag']} = {show(service.image_tag)}: a fixed image_tag needs "
            f"image_strategy = 'digest' (with {show(service.image_strategy)} the tag comes from SSM)"
        )
    digest: list[Problem] = []
    if service.image_tag is not None:
        # Without a fixed tag the tag parameter is derived (the default), so there is one.
        digest += digest_tag_problems(
            service.image_tag_parameter, service.image_tag, name_of=_DIGEST_FIELDS.__getitem__
        )
    if service.image_strategy == "digest":
        digest += digest_repository_problems(service.repository)
    for problem in digest:
        # The repository must be in ECR because the strategy is 'digest': the strategy is blamed.
        field = _DIGEST_FIELDS[problem.field]
        lines.append(f"{scope.file}: {at[field]}{shown(getattr(service, field))}: {problem.message}")
    _add(found, *lines)
    return not lines


# EcrDigest's fields as the service's file writes them.
_DIGEST_FIELDS = {"tag": "image_tag", "tag_parameter": "image_tag_parameter", "repository": "image_strategy"}


def _definitions_size(
    scope: ServiceScope, service: ServiceSettings, written: Provenance, found: list[str]
) -> None:
    """The task's 64 KiB rule, reported at the service (the definitions are all its containers)."""
    for problem in definitions_problems(
        service.task_containers,
        region=scope.region,
        log_group_name=names.log_group_name(scope.log_project, scope.env_name, service.name),
        network_mode=service.task.network_mode,
    ):
        # Whatever the override wrote into the definitions made them too long.
        in_override = any(
            written.overridden_below([k]) for k in (*APP_CONTAINER_FIELDS, "containers", "repository")
        )
        at = _table(scope, service.name, in_override)
        if not any(p.startswith(f"{scope.file}: {at}: its container definitions") for p in found):
            found.append(f"{scope.file}: {at}: {problem.message}")
