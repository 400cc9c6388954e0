"""Target-tracking autoscaling of an ECS service's desired count."""

from __future__ import annotations

from collections.abc import Sequence

from cdktf import ITerraformDependable
from cdktf_cdktf_provider_aws.appautoscaling_policy import (
    AppautoscalingPolicy,
    AppautoscalingPolicyTargetTrackingScalingPolicyConfiguration,
    AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecification,
)
from cdktf_cdktf_provider_aws.appautoscaling_target import AppautoscalingTarget
from constructs import Construct

from constructs_lib.service_props import Autoscaling

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
