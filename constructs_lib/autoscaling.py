"""Autoscaling of an ECS service's desired count: target tracking on CPU and memory
(``ServiceAutoscaling``), or on an SQS queue's backlog per task (``QueueAutoscaling``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from cdktf import ITerraformDependable
from cdktf_cdktf_provider_aws.appautoscaling_policy import (
    AppautoscalingPolicy,
    AppautoscalingPolicyStepScalingPolicyConfiguration,
    AppautoscalingPolicyStepScalingPolicyConfigurationStepAdjustment,
    AppautoscalingPolicyTargetTrackingScalingPolicyConfiguration,
    AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecification,
)
from cdktf_cdktf_provider_aws.appautoscaling_policy import (
    AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationCustomizedMetricSpecification as _Customized,
)
from cdktf_cdktf_provider_aws.appautoscaling_policy import (
    AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationCustomizedMetricSpecificationMetrics as _Query,  # noqa: E501
)
from cdktf_cdktf_provider_aws.appautoscaling_policy import (
    AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationCustomizedMetricSpecificationMetricsMetricStat as _MetricStat,  # noqa: E501
)
from cdktf_cdktf_provider_aws.appautoscaling_policy import (
    AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationCustomizedMetricSpecificationMetricsMetricStatMetric as _Metric,  # noqa: E501
)
from cdktf_cdktf_provider_aws.appautoscaling_policy import (
    AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationCustomizedMetricSpecificationMetricsMetricStatMetricDimensions as _Dimension,  # noqa: E501
)
from cdktf_cdktf_provider_aws.appautoscaling_target import AppautoscalingTarget
from constructs import Construct

from constructs_lib.queue_props import ServiceQueue
from constructs_lib.service_props import Autoscaling

if TYPE_CHECKING:
    # Loaded where a queue worker starts from zero only (stacks/fast_import.py: what a stack uses).
    from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import CloudwatchMetricAlarm


def _scalable_target(
    scope: Construct,
    resource_id: str,
    min_capacity: int,
    max_capacity: int,
    depends_on: Sequence[ITerraformDependable],
) -> AppautoscalingTarget:
    """The service's desired count as a scalable target, ``target`` in ``scope``."""
    return AppautoscalingTarget(
        scope,
        "target",
        service_namespace="ecs",
        scalable_dimension="ecs:service:DesiredCount",
        resource_id=resource_id,
        min_capacity=min_capacity,
        max_capacity=max_capacity,
        depends_on=list(depends_on),
    )


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
        self._target = _scalable_target(
            self, resource_id, settings.min_capacity, settings.max_capacity, depends_on
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


# The queue's depth: messages available for retrieval (AWS's "backlog" in its SQS scaling guide).
_VISIBLE = ("AWS/SQS", "ApproximateNumberOfMessagesVisible", "Sum")
# The service's tasks, from Container Insights (on for every cluster created here).
_RUNNING = ("ECS/ContainerInsights", "RunningTaskCount", "Average")
_DESIRED = ("ECS/ContainerInsights", "DesiredTaskCount", "Average")
# Backlog per task; with no task running, the backlog itself (no division by zero, no gap).
BACKLOG_PER_TASK = "IF(running > 0, visible / running, visible)"
# The first task: the backlog while the service wants no task, else 0 (a missing count is 0).
WAITING_WITH_NO_TASK = "IF(FILL(desired, 0) < 1, visible, 0)"


class QueueAutoscaling(Construct):
    """A queue worker's scaling: a scalable target between ``min_count`` and ``max_count`` tasks,
    ``backlog``, target tracking on the queue's visible messages per running task (metric math,
    as AWS's "scaling based on Amazon SQS" guide does), and, when ``min_count`` is 0, ``start``:
    a step policy that an alarm (``waiting``) triggers when messages wait and the service wants
    no task. Target tracking multiplies the current count by metric / target, so from zero tasks
    it can never ask for one; the step policy adds that first task, and once the service wants
    one the alarm's metric is 0 again."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        resource_id: str,
        cluster_name: str,
        service_name: str,
        queue_name: str,
        policy_name_prefix: str,
        settings: ServiceQueue,
        depends_on: Sequence[ITerraformDependable] = (),
    ) -> None:
        """``resource_id``: ``service/<cluster>/<service>``; ``cluster_name`` and ``service_name``:
        the Container Insights dimensions; ``queue_name``: the SQS metrics' dimension;
        ``policy_name_prefix``: e.g. the task family; ``settings``: the bounds and the target;
        ``depends_on`` default none (the service)."""
        super().__init__(scope, id_)
        self._target = _scalable_target(self, resource_id, settings.min_count, settings.max_count, depends_on)
        self._queue_dimensions = {"QueueName": queue_name}
        self._service_dimensions = {"ClusterName": cluster_name, "ServiceName": service_name}
        self._backlog = AppautoscalingPolicy(
            self,
            "backlog",
            name=f"{policy_name_prefix}-queue",
            policy_type="TargetTrackingScaling",
            service_namespace=self._target.service_namespace,
            scalable_dimension=self._target.scalable_dimension,
            resource_id=self._target.resource_id,
            target_tracking_scaling_policy_configuration=AppautoscalingPolicyTargetTrackingScalingPolicyConfiguration(
                target_value=settings.messages_per_task,
                scale_in_cooldown=settings.scale_in_cooldown_seconds,
                scale_out_cooldown=settings.scale_out_cooldown_seconds,
                customized_metric_specification=_Customized(
                    metrics=[
                        self._tracked("visible", _VISIBLE, self._queue_dimensions),
                        self._tracked("running", _RUNNING, self._service_dimensions),
                        _Query(
                            id="backlog",
                            expression=BACKLOG_PER_TASK,
                            label="visible messages per running task",
                            return_data=True,
                        ),
                    ]
                ),
            ),
        )
        self._start: AppautoscalingPolicy | None = None
        self._waiting: CloudwatchMetricAlarm | None = None
        if settings.min_count == 0:
            self._add_start(policy_name_prefix, settings)

    @staticmethod
    def _tracked(id_: str, metric: tuple[str, str, str], dimensions: dict[str, str]) -> _Query:
        namespace, name, stat = metric
        return _Query(
            id=id_,
            return_data=False,
            metric_stat=_MetricStat(
                stat=stat,
                metric=_Metric(
                    namespace=namespace,
                    metric_name=name,
                    dimensions=[_Dimension(name=key, value=value) for key, value in dimensions.items()],
                ),
            ),
        )

    def _add_start(self, policy_name_prefix: str, settings: ServiceQueue) -> None:
        """The step policy that takes the service from zero tasks to one, and its alarm."""
        from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import (
            CloudwatchMetricAlarm,
            CloudwatchMetricAlarmMetricQuery,
            CloudwatchMetricAlarmMetricQueryMetric,
        )

        self._start = AppautoscalingPolicy(
            self,
            "start",
            name=f"{policy_name_prefix}-queue-start",
            policy_type="StepScaling",
            service_namespace=self._target.service_namespace,
            scalable_dimension=self._target.scalable_dimension,
            resource_id=self._target.resource_id,
            step_scaling_policy_configuration=AppautoscalingPolicyStepScalingPolicyConfiguration(
                adjustment_type="ChangeInCapacity",
                cooldown=settings.scale_out_cooldown_seconds,
                metric_aggregation_type="Maximum",
                step_adjustment=[
                    AppautoscalingPolicyStepScalingPolicyConfigurationStepAdjustment(
                        metric_interval_lower_bound="0", scaling_adjustment=1
                    )
                ],
            ),
        )

        def query(
            id_: str, metric: tuple[str, str, str], dimensions: dict[str, str]
        ) -> CloudwatchMetricAlarmMetricQuery:
            namespace, name, stat = metric
            return CloudwatchMetricAlarmMetricQuery(
                id=id_,
                return_data=False,
                metric=CloudwatchMetricAlarmMetricQueryMetric(
                    namespace=namespace, metric_name=name, stat=stat, period=60, dimensions=dimensions
                ),
            )

        self._waiting = CloudwatchMetricAlarm(
            self,
            "waiting",
            alarm_name=f"{policy_name_prefix}-queue-waiting",
            alarm_description="Messages wait in the queue and the service wants no task: start one",
            comparison_operator="GreaterThanOrEqualToThreshold",
            threshold=1,
            evaluation_periods=1,
            treat_missing_data="notBreaching",
            alarm_actions=[self._start.arn],
            metric_query=[
                query("visible", _VISIBLE, self._queue_dimensions),
                query("desired", _DESIRED, self._service_dimensions),
                CloudwatchMetricAlarmMetricQuery(
                    id="waiting",
                    expression=WAITING_WITH_NO_TASK,
                    label="visible messages while the service wants no task",
                    return_data=True,
                ),
            ],
        )

    @property
    def target(self) -> AppautoscalingTarget:
        """The ``aws_appautoscaling_target``."""
        return self._target

    @property
    def backlog(self) -> AppautoscalingPolicy:
        """The target-tracking policy on the backlog per task."""
        return self._backlog

    @property
    def start(self) -> AppautoscalingPolicy | None:
        """The step policy that starts the first task (``min_count`` 0 only)."""
        return self._start

    @property
    def waiting(self) -> CloudwatchMetricAlarm | None:
        """The alarm that triggers ``start`` (``min_count`` 0 only)."""
        return self._waiting
