"""The settings of a service's rollout, load balancer rule and scaling: one model each, no cdktf.

The constructs take them as props; the settings loader parses the configuration into them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, StrictBool, StrictInt, StrictStr, model_validator

from constructs_lib.container import ContainerProps
from constructs_lib.fields import AlarmName, HostHeader, PathPattern
from constructs_lib.props import NO_VALUE, Problem, Props
from constructs_lib.queue_props import ServiceQueue
from ecs_cd.core.aws_formats import validate_rule_conditions


def _unique(value: list[Any]) -> list[Any]:
    if len(set(value)) != len(value):
        raise ValueError("must not list the same item twice")
    return value


class ListenerRule(Props):
    """A listener rule and target group on the environment's load balancer: ``priority`` (required),
    ``path_patterns`` and/or ``host_headers`` (default none; one is required; at most 5 values
    and 5 wildcards together, AWS's quotas per rule), the target
    group's ``health_check_path`` (default ``/``), the service's health check grace period
    (default 60 s) and the deregistration delay (default 30 s)."""

    path_patterns: Annotated[list[PathPattern], Field(max_length=5), AfterValidator(_unique)] = Field(
        default_factory=list
    )
    """Paths the rule matches, e.g. ``"/api/*"`` (with ``host_headers``: at most 5 values and 5
    wildcards ``*`` ``?`` together, AWS's quotas per rule)."""
    host_headers: Annotated[list[HostHeader], Field(max_length=5), AfterValidator(_unique)] = Field(
        default_factory=list
    )
    """Host names the rule matches, e.g. ``"api.example.com"``; ``path_patterns`` or
    ``host_headers`` is required."""
    priority: Annotated[StrictInt, Field(ge=1, le=50000)]
    """The rule's priority on the listener, unique there (lower first)."""
    health_check_path: PathPattern = "/"
    """The path the target group's health check requests."""
    health_check_grace_period_seconds: Annotated[StrictInt, Field(ge=0, le=2147483647)] = 60
    """Seconds ECS ignores failing load balancer health checks of a new task."""
    deregistration_delay_seconds: Annotated[StrictInt, Field(ge=0, le=3600)] = 30
    """Seconds the target group drains a task's connections before it stops."""

    @model_validator(mode="after")
    def _some_condition(self) -> ListenerRule:
        if not self.path_patterns and not self.host_headers:
            raise ValueError("load_balancer needs path_patterns or host_headers (what the rule matches)")
        validate_rule_conditions(self.path_patterns, self.host_headers)
        return self


class Deployment(Props):
    """How ECS replaces tasks: rolling update guarded by the circuit breaker (and alarms).

    Percent of the desired count: ``minimum_healthy_percent`` default 100,
    ``maximum_percent`` default 200; ``circuit_breaker`` and ``rollback`` default True;
    ``alarm_names`` default none (existing CloudWatch alarms that, in ALARM during a
    deployment, fail it and roll it back)."""

    minimum_healthy_percent: Annotated[StrictInt, Field(ge=0, le=100)] = 100
    """The tasks that keep running during a deployment, in percent of ``desired_count``."""
    maximum_percent: Annotated[StrictInt, Field(ge=100, le=200)] = 200
    """The tasks that may run during a deployment, in percent of ``desired_count``; greater than
    ``minimum_healthy_percent``."""
    circuit_breaker: StrictBool = True
    """ECS stops a deployment whose tasks keep failing to start."""
    rollback: StrictBool = True
    """A failed deployment rolls back to the last one that worked (needs ``circuit_breaker`` or
    ``alarm_names``)."""
    alarm_names: Annotated[list[AlarmName], AfterValidator(_unique)] = Field(default_factory=list)
    """Existing CloudWatch alarms that, in ALARM during a deployment, fail it (and roll it back)."""

    @model_validator(mode="after")
    def _can_progress(self) -> Deployment:
        if self.maximum_percent <= self.minimum_healthy_percent:
            raise ValueError(
                f"deployment.maximum_percent ({self.maximum_percent}) must be greater than "
                f"deployment.minimum_healthy_percent ({self.minimum_healthy_percent}), or no task "
                "can ever be replaced"
            )
        if self.rollback and not self.circuit_breaker and not self.alarm_names:
            raise ValueError(
                "deployment.rollback = true needs circuit_breaker = true or alarm_names: "
                "nothing else can trigger a rollback"
            )
        return self


class Autoscaling(Props):
    """Target tracking on average CPU and/or memory between ``min_capacity`` and ``max_capacity`` tasks
    (both required); targets in percent, default None (one of the two is required); cooldowns
    in seconds, default 300 (in) and 60 (out)."""

    min_capacity: Annotated[StrictInt, Field(ge=0, le=1000)]
    """The fewest tasks the scaler runs."""
    max_capacity: Annotated[StrictInt, Field(ge=1, le=1000)]
    """The most tasks the scaler runs; at least ``min_capacity``."""
    cpu_target_percent: Annotated[StrictInt, Field(ge=1, le=100)] | None = None
    """The average CPU use to keep to, in percent (this or ``memory_target_percent`` is required)."""
    memory_target_percent: Annotated[StrictInt, Field(ge=1, le=100)] | None = None
    """The average memory use to keep to, in percent."""
    scale_in_cooldown_seconds: Annotated[StrictInt, Field(ge=0, le=3600)] = 300
    """Seconds after a scale-in before the next one."""
    scale_out_cooldown_seconds: Annotated[StrictInt, Field(ge=0, le=3600)] = 60
    """Seconds after a scale-out before the next one."""

    @model_validator(mode="after")
    def _consistent(self) -> Autoscaling:
        if self.min_capacity > self.max_capacity:
            raise ValueError(
                f"autoscaling.min_capacity ({self.min_capacity}) must not exceed "
                f"autoscaling.max_capacity ({self.max_capacity})"
            )
        if self.cpu_target_percent is None and self.memory_target_percent is None:
            raise ValueError("autoscaling needs cpu_target_percent or memory_target_percent (or both)")
        return self


def scaling_problems(
    desired_count: int, autoscaling: Autoscaling | None, queue: ServiceQueue | None = None
) -> list[Problem]:
    """The service's initial count against its scaler's bounds (``autoscaling``'s, or a queue
    worker's ``queue``'s, default None), as a problem at ``desired_count``. The one home of the
    rule: ``ServiceOptions`` validates with it, the settings loader reports it at its field."""
    bounds: list[tuple[str, str, int, int]] = []
    if autoscaling is not None:
        bounds.append(
            ("autoscaling.min_capacity", "max_capacity", autoscaling.min_capacity, autoscaling.max_capacity)
        )
    if queue is not None:
        bounds.append(("queue.min_count", "max_count", queue.min_count, queue.max_count))
    return [
        Problem(
            "desired_count",
            desired_count,
            f"must lie within {low_field} ({low}) and {high_field} ({high})",
        )
        for low_field, high_field, low, high in bounds
        if not low <= desired_count <= high
    ]


def _as_written(field: str) -> str:
    return field


def load_balancer_target(
    containers: Sequence[ContainerProps], target_container: str | None
) -> tuple[str, int] | None:
    """The container and port a service's load balancer sends to: ``target_container`` (None:
    the first container with a ``container_port``) and its ``container_port``; None when there is
    none (``target_problems`` says why)."""
    for c in containers:
        if c.container_port is not None and target_container in (None, c.name):
            return c.name, c.container_port
    return None


def target_problems(
    containers: Sequence[ContainerProps],
    target_container: str | None,
    *,
    name_of: Callable[[str], str] = _as_written,
) -> list[Problem]:
    """Why the load balancer of a service of the task of ``containers`` has no target, at the
    service's ``target_container`` (or ``load_balancer`` when none is named); ``name_of`` names a
    field of the task (``containers.<name>.container_port``) as the caller's form writes it
    (default: as is). The one home of the rule: ``ServiceProps`` validates with it, the settings
    loader reports it at its field."""
    if load_balancer_target(containers, target_container) is not None:
        return []
    names = [c.name for c in containers]
    if target_container is None:
        return [
            Problem(
                "load_balancer",
                NO_VALUE,
                "needs a container with container_port (the port the target group sends to)",
            )
        ]
    if target_container not in names:
        return [
            Problem(
                "target_container",
                target_container,
                f"names no container of the service (containers: {', '.join(names)})",
            )
        ]
    port = name_of(f"containers.{target_container}.container_port")
    return [
        Problem("target_container", target_container, f"needs {port} (the port the target group sends to)")
    ]


# Fargate's own capacity providers; any other name is an EC2 (Auto Scaling group) provider.
FARGATE_PROVIDERS = ("FARGATE", "FARGATE_SPOT")
# ECS refuses to create a provider whose name begins with these, in any case (CreateCapacityProvider).
RESERVED_PROVIDER_PREFIXES = ("aws", "ecs", "fargate")


def validate_capacity_provider_name(name: str) -> str:
    """The name of a capacity provider made by a user (an Auto Scaling group's)."""
    if name.lower().startswith(RESERVED_PROVIDER_PREFIXES):
        raise ValueError(
            f"capacity provider name {name!r} must not start with 'aws', 'ecs' or 'fargate' in any case "
            "(ECS reserves them)"
        )
    return name


def _strategy_provider(name: str) -> str:
    # Only the exact spellings are Fargate's: any other name must be one a user can create, so
    # 'FARGATE-SPOT' or 'fargate_spot' is refused here instead of by ECS at apply.
    if name in FARGATE_PROVIDERS:
        return name
    if name.lower().startswith(RESERVED_PROVIDER_PREFIXES):
        raise ValueError(
            "a capacity provider is Fargate's, written exactly FARGATE or FARGATE_SPOT, or an EC2 "
            "provider, whose name ECS refuses to start with 'aws', 'ecs' or 'fargate' in any case"
        )
    return name


_PROVIDER_CHARACTERS = Field(pattern=r"^[A-Za-z0-9_-]{1,255}$")
# A provider a user creates (ec2_capacity.name).
CapacityProviderName = Annotated[
    StrictStr, _PROVIDER_CHARACTERS, AfterValidator(validate_capacity_provider_name)
]
# A provider a strategy names: Fargate's, or one a user created.
StrategyProviderName = Annotated[StrictStr, _PROVIDER_CHARACTERS, AfterValidator(_strategy_provider)]


class CapacityProviderItem(Props):
    """One capacity provider of a strategy: ``capacity_provider`` (required: ``FARGATE``,
    ``FARGATE_SPOT`` or a cluster's EC2 provider), ``weight`` (default 1: the share of tasks
    beyond the bases), ``base`` (default 0: tasks placed here first)."""

    capacity_provider: StrategyProviderName
    """``FARGATE`` or ``FARGATE_SPOT``, written exactly so, or an EC2 capacity provider of the
    cluster, whose name ECS refuses to start with ``aws``, ``ecs`` or ``fargate`` in any case."""
    weight: Annotated[StrictInt, Field(ge=0, le=1000)] = 1
    """The provider's share of the tasks beyond the bases."""
    base: Annotated[StrictInt, Field(ge=0, le=100000)] = 0
    """Tasks placed on this provider first (one provider at most has a base)."""


class PlacementStrategy(Props):
    """How ECS places tasks on EC2 instances: ``type`` (required) ``spread`` over ``field``
    (``instanceId``, ``host`` or ``attribute:<name>``, e.g. ``attribute:ecs.availability-zone``),
    ``binpack`` on ``field`` ``cpu`` or ``memory``, or ``random`` (no field)."""

    type: Literal["spread", "binpack", "random"]
    """``spread`` over ``field``, ``binpack`` on ``field``, or ``random``."""
    field: (
        Annotated[
            StrictStr, Field(pattern=r"^(?:instanceId|host|cpu|memory|attribute:[A-Za-z0-9_.:-]{1,128})$")
        ]
        | None
    ) = None
    """``spread``: ``instanceId``, ``host`` or ``attribute:<name>`` (e.g.
    ``attribute:ecs.availability-zone``); ``binpack``: ``cpu`` or ``memory``; ``random``: none."""

    @model_validator(mode="after")
    def _field_fits(self) -> PlacementStrategy:
        allowed = {
            "spread": "instanceId, host or attribute:<name>",
            "binpack": "cpu or memory",
            "random": "none",
        }[self.type]
        ok = {
            "spread": self.field is not None and self.field not in ("cpu", "memory"),
            "binpack": self.field in ("cpu", "memory"),
            "random": self.field is None,
        }[self.type]
        if not ok:
            raise ValueError(
                f"placement strategy {self.type}: field {self.field!r} is not allowed ({allowed})"
            )
        return self


class PlacementConstraint(Props):
    """Where tasks may run on EC2: ``type`` (required) ``distinctInstance`` (one task per
    instance; no expression) or ``memberOf`` with a cluster query language ``expression``."""

    type: Literal["distinctInstance", "memberOf"]
    """``distinctInstance`` (one task per instance) or ``memberOf`` (instances ``expression``
    selects)."""
    expression: Annotated[StrictStr, Field(min_length=1, max_length=2000)] | None = None
    """A cluster query language expression (``memberOf`` only)."""

    @model_validator(mode="after")
    def _expression_fits(self) -> PlacementConstraint:
        if (self.type == "memberOf") != (self.expression is not None):
            raise ValueError("placement constraint memberOf needs an expression; distinctInstance takes none")
        return self


class Compute(Props):
    """Where the tasks run. ``launch_type`` (default None: ``FARGATE`` unless a strategy is
    given) ``FARGATE`` or ``EC2``; or ``capacity_provider_strategy`` (default none; up to 20
    providers, all Fargate's or all EC2's, not all of weight 0, at most one with a base).
    On EC2 only: ``placement_strategy`` (default none, up to 5) and ``placement_constraints``
    (default none, up to 10)."""

    launch_type: Literal["FARGATE", "EC2"] | None = None
    """``FARGATE`` or ``EC2`` (not with ``capacity_provider_strategy``; unset: Fargate, unless a
    strategy is given)."""
    capacity_provider_strategy: Annotated[tuple[CapacityProviderItem, ...], Field(max_length=20)] = ()
    """Capacity providers to spread the tasks over, up to 20: all Fargate's or all EC2's, not
    all of weight 0, at most one with a base."""
    placement_strategy: Annotated[tuple[PlacementStrategy, ...], Field(max_length=5)] = ()
    """How ECS places tasks on EC2 instances, up to 5 (EC2 only)."""
    placement_constraints: Annotated[tuple[PlacementConstraint, ...], Field(max_length=10)] = ()
    """Where tasks may run on EC2, up to 10 (EC2 only)."""

    @model_validator(mode="after")
    def _consistent(self) -> Compute:
        strategy = self.capacity_provider_strategy
        if self.launch_type is not None and strategy:
            raise ValueError(
                f"compute: launch_type = {self.launch_type!r} or capacity_provider_strategy, not both "
                "(ECS takes one or the other)"
            )
        if strategy:
            names = [item.capacity_provider for item in strategy]
            if len(set(names)) != len(names):
                raise ValueError("compute.capacity_provider_strategy names a capacity provider twice")
            if all(item.weight == 0 for item in strategy):
                raise ValueError(
                    "compute.capacity_provider_strategy: every weight is 0, so no task beyond the base "
                    "could be placed: give one provider a weight of at least 1"
                )
            if sum(1 for item in strategy if item.base > 0) > 1:
                raise ValueError("compute.capacity_provider_strategy: only one provider may have a base")
            fargate = [n for n in names if n in FARGATE_PROVIDERS]
            if fargate and len(fargate) != len(names):
                raise ValueError(
                    "compute.capacity_provider_strategy mixes Fargate's providers "
                    f"({', '.join(fargate)}) with EC2 ones: ECS refuses a mix"
                )
        if self.compatibility == "FARGATE" and (self.placement_strategy or self.placement_constraints):
            raise ValueError(
                "compute: placement_strategy and placement_constraints are for EC2 "
                "(Fargate places tasks itself)"
            )
        return self

    def public_ip_problem(self) -> str | None:
        """Why these tasks cannot have a public IP of their own (``assign_public_ip``), or None."""
        if self.compatibility == "EC2":
            # awsvpc on EC2: ECS refuses it; bridge and host: the task has no interface of its own.
            return "runs on EC2, where ECS refuses a public IP per task"
        return None

    @property
    def compatibility(self) -> Literal["FARGATE", "EC2"]:
        """What the task definition must be compatible with."""
        if self.launch_type is not None:
            return self.launch_type
        strategy = self.capacity_provider_strategy
        if strategy and strategy[0].capacity_provider not in FARGATE_PROVIDERS:
            return "EC2"
        return "FARGATE"

    @property
    def fargate_providers(self) -> tuple[str, ...]:
        """The Fargate capacity providers the strategy uses (the cluster must have them)."""
        return tuple(
            i.capacity_provider
            for i in self.capacity_provider_strategy
            if i.capacity_provider in FARGATE_PROVIDERS
        )
