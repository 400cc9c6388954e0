"""A task definition run on a schedule: an EventBridge Scheduler schedule whose target is the
cluster (ECS RunTask of one revision), and the narrow role it runs the task with.

The role may run only revisions of the task definition's family, only on that cluster, and pass
only the task's two roles (to ECS tasks); Scheduler may assume it only for this account.
"""

from __future__ import annotations

import json
from typing import Annotated

from cdktf import TerraformResource
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.scheduler_schedule import (
    SchedulerSchedule,
    SchedulerScheduleFlexibleTimeWindow,
    SchedulerScheduleTarget,
    SchedulerScheduleTargetEcsParameters,
    SchedulerScheduleTargetEcsParametersCapacityProviderStrategy,
    SchedulerScheduleTargetEcsParametersNetworkConfiguration,
    SchedulerScheduleTargetEcsParametersPlacementConstraints,
    SchedulerScheduleTargetEcsParametersPlacementStrategy,
    SchedulerScheduleTargetRetryPolicy,
)
from constructs import Construct
from pydantic import Field, StrictBool, StrictStr, model_validator

from constructs_lib.checks import skip_check
from constructs_lib.fields import SERVICE_SUBNETS, RoleName
from constructs_lib.props import ConstructProps
from constructs_lib.schedule_props import JobSchedule, ScheduleName
from constructs_lib.service_props import Compute
from constructs_lib.task_definition import TaskDefinition
from ecs_cd.core.aws_formats import MAX_SERVICE_SECURITY_GROUPS
from ecs_cd.core.aws_regions import partition


class ScheduledTaskProps(ConstructProps):
    """- ``name`` (the schedule's), ``role_name`` (the role it runs the task with), ``schedule``
      (when), ``cluster_arn`` and ``task_definition`` (what it runs: the revision this apply
      registered), ``account_id`` and ``region`` (whose Scheduler may assume the role) are required.
    - ``compute`` (default Fargate), and for awsvpc tasks ``subnets`` (1-16) and
      ``security_groups`` (1-5, the task's own first); ``assign_public_ip`` (default False).
    - ``task_group`` (default None: ECS's ``family:<family>``): the ECS task group of the runs.
    - ``cluster_capacity`` (default None): the cluster's capacity providers, which a strategy's
      schedule is created after."""

    name: ScheduleName
    role_name: RoleName
    schedule: JobSchedule
    cluster_arn: StrictStr
    task_definition: TaskDefinition
    account_id: StrictStr
    region: StrictStr
    compute: Compute = Field(default_factory=Compute)
    subnets: Annotated[tuple[StrictStr, ...], SERVICE_SUBNETS] = ()
    security_groups: Annotated[tuple[StrictStr, ...], Field(max_length=MAX_SERVICE_SECURITY_GROUPS)] = ()
    assign_public_ip: StrictBool = False
    task_group: Annotated[StrictStr, Field(min_length=1, max_length=255)] | None = None
    cluster_capacity: TerraformResource | None = None

    @model_validator(mode="after")
    def _runs_where_its_task_can(self) -> ScheduledTaskProps:
        task = self.task_definition.props
        if self.compute.compatibility != task.compatibility:
            raise ValueError(
                f"compute runs tasks on {self.compute.compatibility} but the task definition is for "
                f"{task.compatibility}"
            )
        if task.network_mode == "awsvpc" and not self.subnets:
            raise ValueError("awsvpc tasks need subnets (and security_groups): their own network")
        if task.network_mode != "awsvpc" and (self.subnets or self.security_groups or self.assign_public_ip):
            raise ValueError(
                f"subnets, security_groups and assign_public_ip are for awsvpc tasks; {task.network_mode} "
                "tasks use their instance's network"
            )
        return self


def scheduler_trust_policy(account_id: str) -> str:
    """Who may assume the role: EventBridge Scheduler, on behalf of this account's schedules only."""
    statement = {
        "Effect": "Allow",
        "Principal": {"Service": "scheduler.amazonaws.com"},
        "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def run_task_statements(
    *, family: str, region: str, account_id: str, cluster_arn: str, role_arns: list[str]
) -> list[dict[str, object]]:
    """RunTask of the family's revisions on the cluster; PassRole of the task's roles to ECS tasks;
    the tags the run task gets (its task definition's), on tasks RunTask creates."""
    ecs = f"arn:{partition(region)}:ecs:{region}:{account_id}"
    return [
        {
            "Sid": "RunTheJobsTask",
            "Effect": "Allow",
            "Action": ["ecs:RunTask"],
            "Resource": f"{ecs}:task-definition/{family}:*",
            "Condition": {"ArnEquals": {"ecs:cluster": cluster_arn}},
        },
        {
            "Sid": "PassItsRoles",
            "Effect": "Allow",
            "Action": ["iam:PassRole"],
            "Resource": role_arns,
            "Condition": {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
        },
        {
            "Sid": "TagTheTaskItStarts",
            "Effect": "Allow",
            "Action": ["ecs:TagResource"],
            "Resource": f"{ecs}:task/*",
            "Condition": {"StringEquals": {"ecs:CreateAction": "RunTask"}},
        },
    ]


class ScheduledTask(Construct):
    """``role`` (``scheduler-role``, its policy ``scheduler-policy``) and ``schedule`` (an
    ``aws_scheduler_schedule`` in the default group): RunTask of ``props.task_definition``'s
    revision on ``props.schedule``. A new revision (a new tag) moves the schedule's target to it
    in the same apply: the next run runs it, with no service to roll."""

    def __init__(self, scope: Construct, id_: str, *, props: ScheduledTaskProps) -> None:
        super().__init__(scope, id_)
        self._props = props
        task = props.task_definition
        self._role = IamRole(
            self,
            "scheduler-role",
            name=props.role_name,
            assume_role_policy=scheduler_trust_policy(props.account_id),
        )
        statements = run_task_statements(
            family=task.props.family,
            region=props.region,
            account_id=props.account_id,
            cluster_arn=props.cluster_arn,
            role_arns=[task.roles.execution_role.arn, task.roles.task_role.arn],
        )
        self._policy = IamRolePolicy(
            self,
            "scheduler-policy",
            name="run-task",
            role=self._role.id,
            policy=json.dumps({"Version": "2012-10-17", "Statement": statements}),
        )
        self._schedule = self._add_schedule()

    def _add_schedule(self) -> SchedulerSchedule:
        props, schedule = self._props, self._props.schedule
        window = schedule.flexible_window_minutes
        dependencies: list[object] = [self._policy]
        if props.cluster_capacity is not None and props.compute.capacity_provider_strategy:
            dependencies.append(props.cluster_capacity)
        found = SchedulerSchedule(
            self,
            "schedule",
            name=props.name,
            group_name="default",
            schedule_expression=schedule.expression,
            schedule_expression_timezone=schedule.timezone,
            state="ENABLED" if schedule.enabled else "DISABLED",
            flexible_time_window=SchedulerScheduleFlexibleTimeWindow(
                mode="FLEXIBLE" if window is not None else "OFF", maximum_window_in_minutes=window
            ),
            target=SchedulerScheduleTarget(
                arn=props.cluster_arn,
                role_arn=self._role.arn,
                ecs_parameters=self._ecs_parameters(),
                retry_policy=SchedulerScheduleTargetRetryPolicy(maximum_retry_attempts=schedule.retries)
                if schedule.retries is not None
                else None,
            ),
            depends_on=dependencies,  # type: ignore[arg-type]
        )
        skip_check(
            found,
            "CKV_AWS_297",
            "the schedule holds only the task's ECS parameters (ARNs, subnets, groups), no secret: "
            "Scheduler encrypts them with an AWS owned key",
        )
        return found

    def _ecs_parameters(self) -> SchedulerScheduleTargetEcsParameters:
        props = self._props
        compute = props.compute
        network = None
        if props.subnets:
            network = SchedulerScheduleTargetEcsParametersNetworkConfiguration(
                subnets=list(props.subnets),
                security_groups=list(props.security_groups),
                assign_public_ip=props.assign_public_ip,
            )
        return SchedulerScheduleTargetEcsParameters(
            task_definition_arn=props.task_definition.arn,
            task_count=1,
            launch_type=None if compute.capacity_provider_strategy else compute.launch_type or "FARGATE",
            capacity_provider_strategy=[
                SchedulerScheduleTargetEcsParametersCapacityProviderStrategy(
                    capacity_provider=item.capacity_provider, weight=item.weight, base=item.base
                )
                for item in compute.capacity_provider_strategy
            ]
            or None,
            placement_strategy=[
                SchedulerScheduleTargetEcsParametersPlacementStrategy(type=p.type, field=p.field)
                for p in compute.placement_strategy
            ]
            or None,
            placement_constraints=[
                SchedulerScheduleTargetEcsParametersPlacementConstraints(type=c.type, expression=c.expression)
                for c in compute.placement_constraints
            ]
            or None,
            network_configuration=network,
            group=props.task_group,
            # The run task carries its task definition's tags (cost allocation, as a service's tasks).
            propagate_tags="TASK_DEFINITION",
            enable_ecs_managed_tags=True,
        )

    @property
    def props(self) -> ScheduledTaskProps:
        """The props it was built from."""
        return self._props

    @property
    def role(self) -> IamRole:
        """The role the schedule runs the task with."""
        return self._role

    @property
    def policy(self) -> IamRolePolicy:
        """The role's inline policy: RunTask of the family, PassRole of the task's roles."""
        return self._policy

    @property
    def schedule(self) -> SchedulerSchedule:
        """The ``aws_scheduler_schedule``."""
        return self._schedule
