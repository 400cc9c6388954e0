"""Target-tracking autoscaling of an ECS service's desired count."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cdktf import ITerraformDependable
from cdktf_cdktf_provider_aws.appautoscaling_policy import (
    AppautoscalingPolicy,
    AppautoscalingPolicyTargetTrackingScalingPolicyConfiguration,
    AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecification,
)
from cdktf_cdktf_provider_aws.appautoscaling_target import AppautoscalingTarget
from constructs import Construct


@dataclass(frozen=True)
class Autoscaling:
    """Capacity bounds and targets (percent of the task's cpu/memory); cooldowns in seconds."""

    min_capacity: int
    max_capacity: int
    cpu_target_percent: int | None = None
    memory_target_percent: int | None = None
    scale_in_cooldown_seconds: int = 300
    scale_out_cooldown_seconds: int = 60

    def __post_init__(self) -> None:
        if not 0 <= self.min_capacity <= self.max_capacity:
            raise ValueError(
                f"Autoscaling needs 0 <= min_capacity <= max_capacity, got {self.min_capacity}, "
                f"{self.max_capacity}"
            )
        if self.cpu_target_percent is None and self.memory_target_percent is None:
            raise ValueError("Autoscaling needs cpu_target_percent or memory_target_percent")
        for target in (self.cpu_target_percent, self.memory_target_percent):
            if target is not None and not 1 <= target <= 100:
                raise ValueError(f"Autoscaling targets must be 1-100 percent, got {target}")
        for cooldown in (self.scale_in_cooldown_seconds, self.scale_out_cooldown_seconds):
            if cooldown < 0:
                raise ValueError(f"Autoscaling cooldowns must be >= 0 seconds, got {cooldown}")


_METRICS = (
    ("cpu", "ECSServiceAverageCPUUtilization"),
    ("memory", "ECSServiceAverageMemoryUtilization"),
)


class ServiceAutoscaling(Construct):
    """A scalable target for ``service/<cluster>/<service>`` and one target-tracking policy per metric."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        resource_id: str,
        policy_name_prefix: str,
        settings: Autoscaling,
        depends_on: Sequence[ITerraformDependable] = (),
    ) -> None:
        """``resource_id``: ``service/<cluster>/<service>``; ``policy_name_prefix``: e.g. the task
        family; ``settings``: bounds and targets; ``depends_on`` default none (the service)."""
        super().__init__(scope, id_)
        self._target = AppautoscalingTarget(
            self,
            "target",
            service_namespace="ecs",
            scalable_dimension="ecs:service:DesiredCount",
            resource_id=resource_id,
            min_capacity=settings.min_capacity,
            max_capacity=settings.max_capacity,
            depends_on=list(depends_on),
        )
        self._policies: dict[str, AppautoscalingPolicy] = {}
        targets = {"cpu": settings.cpu_target_percent, "memory": settings.memory_target_percent}
        for key, metric in _METRICS:
            target = targets[key]
            if target is None:
                continue
            self._policies[key] = AppautoscalingPolicy(
                self,
                key,
                name=f"{policy_name_prefix}-{key}",
                policy_type="TargetTrackingScaling",
                service_namespace=self._target.service_namespace,
                scalable_dimension=self._target.scalable_dimension,
                resource_id=self._target.resource_id,
                target_tracking_scaling_policy_configuration=AppautoscalingPolicyTargetTrackingScalingPolicyConfiguration(
                    target_value=target,
                    scale_in_cooldown=settings.scale_in_cooldown_seconds,
                    scale_out_cooldown=settings.scale_out_cooldown_seconds,
                    predefined_metric_specification=AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecification(
                        predefined_metric_type=metric
                    ),
                ),
            )

    @property
    def target(self) -> AppautoscalingTarget:
        """The ``aws_appautoscaling_target``."""
        return self._target

    @property
    def policies(self) -> dict[str, AppautoscalingPolicy]:
        """The target-tracking policies by metric (``cpu``, ``memory``)."""
        return dict(self._policies)
