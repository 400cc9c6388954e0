"""The settings of a service's rollout, load balancer rule and scaling: one model each, no cdktf.

The constructs take them as props; the settings loader parses the configuration into them.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, Field, StrictBool, StrictInt, model_validator

from constructs_lib.fields import AlarmName, HostHeader, PathPattern
from constructs_lib.props import Props
from core.aws_formats import validate_rule_conditions


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
    host_headers: Annotated[list[HostHeader], Field(max_length=5), AfterValidator(_unique)] = Field(
        default_factory=list
    )
    priority: Annotated[StrictInt, Field(ge=1, le=50000)]
    health_check_path: PathPattern = "/"
    health_check_grace_period_seconds: Annotated[StrictInt, Field(ge=0, le=2147483647)] = 60
    deregistration_delay_seconds: Annotated[StrictInt, Field(ge=0, le=3600)] = 30

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
    maximum_percent: Annotated[StrictInt, Field(ge=100, le=200)] = 200
    circuit_breaker: StrictBool = True
    rollback: StrictBool = True
    alarm_names: Annotated[list[AlarmName], AfterValidator(_unique)] = Field(default_factory=list)

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
    max_capacity: Annotated[StrictInt, Field(ge=1, le=1000)]
    cpu_target_percent: Annotated[StrictInt, Field(ge=1, le=100)] | None = None
    memory_target_percent: Annotated[StrictInt, Field(ge=1, le=100)] | None = None
    scale_in_cooldown_seconds: Annotated[StrictInt, Field(ge=0, le=3600)] = 300
    scale_out_cooldown_seconds: Annotated[StrictInt, Field(ge=0, le=3600)] = 60

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
