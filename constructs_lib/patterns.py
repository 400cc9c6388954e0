"""The short form for the common case: one app container whose image CI releases, plus sidecars.

Like ecs-patterns' ``taskImageOptions``: ``AppService`` builds the task definition, the
service and, with ``redeploy``, the timestamp redeploy add-on, from three values; ``AppJob``
the task definition, its tasks' security group and the schedule that runs it (no service).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated

from cdktf import TerraformResource
from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from constructs import Construct
from pydantic import Field, StrictBool, StrictStr, model_validator

from constructs_lib.checks import skip_check
from constructs_lib.fields import EXTRA_SECURITY_GROUPS, SERVICE_SUBNETS, RoleName, SecurityGroupName
from constructs_lib.image_lookup import bind_image
from constructs_lib.images import ResolvedImage
from constructs_lib.imports import AdoptedShape, ServiceImports, adoption_problems, import_resources
from constructs_lib.props import ConstructProps, Props, problem_text
from constructs_lib.queue_props import queue_problems
from constructs_lib.redeploy import AssumeRole, TimestampRedeploy
from constructs_lib.schedule_props import JobSchedule, ScheduleName
from constructs_lib.security_group import add_task_security_group
from constructs_lib.service import Service, ServiceOptions, ServiceProps
from constructs_lib.service_props import Compute
from constructs_lib.task_definition import TaskDefinition
from constructs_lib.task_definition_props import TaskDefinitionProps
from ecs_cd.core.image_strategies import DEFAULT_REDEPLOY_COMMAND, switches_task_definition

if TYPE_CHECKING:
    from constructs_lib.queue import WorkQueue
    from constructs_lib.scheduled_task import ScheduledTask


class Redeploy(Props):
    """The timestamp redeploy: ``command`` (argv with ``{cluster}``, ``{service}``, ``{region}``,
    ``{task_definition}``; default ``aws ecs update-service … --task-definition
    {task_definition} --force-new-deployment``) run on every apply with ``environment``
    (default none) added to its environment. A command naming ``{task_definition}`` owns the
    service's revision: one deployment per apply."""

    command: tuple[StrictStr, ...] = DEFAULT_REDEPLOY_COMMAND
    environment: Mapping[StrictStr, StrictStr] = Field(default_factory=dict)
    # The role the command acts with (an environment in another account), default none.
    assume_role: AssumeRole | None = None


class AppServiceProps(ConstructProps):
    """``task``: the containers, the first being the app (its image from SSM, ECR or fixed);
    ``service``: how it runs; ``redeploy`` (default None): force a deployment on every apply
    (the ``timestamp`` image strategy), which needs ``service.cluster_name``; ``adopt`` (default
    None: everything created): live resources the service takes over (Terraform imports)."""

    task: TaskDefinitionProps
    service: ServiceOptions
    redeploy: Redeploy | None = None
    adopt: ServiceImports | None = None

    @model_validator(mode="after")
    def _queue_variable_free(self) -> AppServiceProps:
        app = self.task.containers[0]
        problems = queue_problems(
            self.service.queue, autoscaling=False, variables=app.environment, secrets=app.secrets
        )
        if problems:
            raise ValueError(problem_text(problems))
        return self

    @model_validator(mode="after")
    def _adoption_fits(self) -> AppServiceProps:
        if self.adopt is not None:
            problems = adoption_problems(self.adopt, self.adopted_shape())
            if problems:
                raise ValueError("adopt: " + problem_text(problems))
        return self

    def adopted_shape(self) -> AdoptedShape:
        """The names and parts adopted ids must match."""
        task, service = self.task, self.service
        return AdoptedShape(
            cluster=service.cluster_name,
            service=service.service_name,
            log_group=task.log_group_name,
            execution_role=task.execution_role_name,
            task_role=task.task_role_name,
            awsvpc=task.network_mode == "awsvpc",
            load_balancer=service.load_balancer is not None,
            autoscaling=service.autoscaling is not None or service.queue is not None,
        )


class AppService(Construct):
    """An app container and its sidecars as a service: ``image`` (and ``digest``) look the app's
    image up, ``fargate`` is the service, ``redeploy`` the timestamp add-on. A queue worker
    (``service.queue``) also has ``queue``: the queue (created or existing), its URL in the app
    container's environment, and the task role's permission to consume it.

    The task definition's resources keep the addresses they had before the constructs were
    split (``<id>/fargate/task``, ``<id>/fargate/logs``, …): it is built at
    ``<id>/Default/fargate/Default``, and cdktf leaves ``Default`` out of addresses."""

    def __init__(self, scope: Construct, id_: str, *, props: AppServiceProps) -> None:
        super().__init__(scope, id_)
        if props.redeploy is not None and props.service.cluster_name is None:
            raise ValueError("redeploy needs service.cluster_name (the command names the cluster)")
        app, *sidecars = props.task.containers
        self._app_image: ResolvedImage = bind_image(self, app.image)
        app = app.model_copy(update={"image": self._app_image})
        self._queue: WorkQueue | None = None
        if props.service.queue is not None:
            # The SQS bindings load only where a queue worker is (stacks/fast_import.py).
            from constructs_lib.queue import WorkQueue

            self._queue = WorkQueue(self, "queue", settings=props.service.queue)
            # The app must know where to read: the queue's URL (a reference when created here).
            variable = props.service.queue.environment_variable
            app = app.model_copy(update={"environment": {**app.environment, variable: self._queue.url}})
        containers = (app, *sidecars)
        task_scope = Construct(Construct(self, "Default"), "fargate")
        self._task_definition = TaskDefinition(
            task_scope, "Default", props=props.task.model_copy(update={"containers": containers})
        )
        options = props.service
        owns_revision = props.redeploy is not None and switches_task_definition(props.redeploy.command)
        if owns_revision and "task_definition" not in options.ignore_changes:
            # The redeploy command switches the revision and forces the rollout in one
            # UpdateService; the service leaving its task definition to it makes a new tag
            # one deployment, not two (the service's update, then the forced one).
            ignore = (*options.ignore_changes, "task_definition")
            options = options.model_copy(update={"ignore_changes": ignore})
        if self._queue is not None:
            self._queue.grant_consume(self._task_definition.roles.task_role)
        self._service = Service(self, "fargate", props=ServiceProps.of(options, self._task_definition))
        self._redeploy: TimestampRedeploy | None = None
        if props.redeploy is not None:
            assert props.service.cluster_name is not None
            self._redeploy = TimestampRedeploy(
                self,
                "redeploy",
                cluster_name=props.service.cluster_name,
                service_name=props.service.service_name,
                region=props.task.region,
                command=props.redeploy.command,
                environment=props.redeploy.environment or None,
                depends_on=[self._service.service],
                task_definition=self._task_definition.arn,
                assume_role=props.redeploy.assume_role,
            )
        if props.adopt is not None:
            self._import(props.adopt)

    def _import(self, adopt: ServiceImports) -> None:
        service, task = self._service, self._task_definition
        rules = {name: service.node.try_find_child(name) for name in ("egress-https", "ingress-from-lb")}
        import_resources(
            adopt,
            {
                "service": service.service,
                "log_group": task.log_group,
                "execution_role": task.roles.execution_role,
                "task_role": task.roles.task_role,
                "security_group": service.security_group,
                "egress_https": rules["egress-https"],  # type: ignore[dict-item]
                "ingress_from_lb": rules["ingress-from-lb"],  # type: ignore[dict-item]
                "target_group": service.target.target_group if service.target is not None else None,
                "listener_rule": service.target.rule if service.target is not None else None,
                "scalable_target": service.scalable_target,
            },
        )

    @property
    def app_image(self) -> ResolvedImage:
        """The app container's image as bound to Terraform."""
        return self._app_image

    @property
    def task_definition(self) -> TaskDefinition:
        """The task definition (app first, then the sidecars)."""
        return self._task_definition

    @property
    def service(self) -> Service:
        """The service."""
        return self._service

    @property
    def queue(self) -> WorkQueue | None:
        """The queue a queue worker reads (``service.queue`` only)."""
        return self._queue

    @property
    def redeploy(self) -> TimestampRedeploy | None:
        """The timestamp-triggered ``null_resource`` (with ``redeploy`` only)."""
        return self._redeploy


class JobOptions(ConstructProps):
    """Everything about a scheduled job but its task definition (see ``AppJobProps``).

    - ``cluster_arn``, ``schedule_name``, ``role_name`` (the schedule's role), ``schedule`` and
      ``account_id`` (whose Scheduler may assume the role) are required.
    - ``vpc_id``, ``subnets`` (1-16) and ``security_group_name`` (the tasks' own group: HTTPS out,
      nothing in) for awsvpc tasks; ``security_groups`` (default none: at most 4 more),
      ``assign_public_ip`` (default False). Bridge and host tasks use their instance's network.
    - ``compute`` (default Fargate), ``task_group`` (default None: ECS's ``family:<family>``),
      ``cluster_capacity`` (default None: the cluster's capacity providers, created first)."""

    cluster_arn: StrictStr
    schedule_name: ScheduleName
    role_name: RoleName
    schedule: JobSchedule
    account_id: StrictStr
    vpc_id: StrictStr | None = None
    subnets: Annotated[tuple[StrictStr, ...], SERVICE_SUBNETS] = ()
    security_group_name: SecurityGroupName | None = None
    security_groups: Annotated[tuple[StrictStr, ...], EXTRA_SECURITY_GROUPS] = ()
    assign_public_ip: StrictBool = False
    compute: Compute = Field(default_factory=Compute)
    task_group: StrictStr | None = None
    cluster_capacity: TerraformResource | None = None


class AppJobProps(ConstructProps):
    """``task``: the containers, the first being the app (its image from SSM, ECR or fixed);
    ``job``: when and where it runs."""

    task: TaskDefinitionProps
    job: JobOptions

    @model_validator(mode="after")
    def _network_given(self) -> AppJobProps:
        if self.task.network_mode == "awsvpc" and (
            self.job.vpc_id is None or not self.job.subnets or self.job.security_group_name is None
        ):
            raise ValueError("awsvpc tasks need job.vpc_id, job.subnets and job.security_group_name")
        return self


class AppJob(Construct):
    """A task definition (``task``), its tasks' security group (awsvpc) and the schedule that runs
    it (``scheduled``): a scheduled job, no ECS service, no load balancer, no redeploy. A new tag is
    a new revision, which the same apply moves the schedule to: its next run runs it."""

    def __init__(self, scope: Construct, id_: str, *, props: AppJobProps) -> None:
        super().__init__(scope, id_)
        job = props.job
        self._task_definition = TaskDefinition(self, "task", props=props.task)
        self._security_group: SecurityGroup | None = None
        if props.task.network_mode == "awsvpc":
            assert job.vpc_id is not None and job.security_group_name is not None
            self._security_group = add_task_security_group(
                self,
                name=job.security_group_name,
                service_name=props.task.family,
                vpc_id=job.vpc_id,
                description=f"Tasks of the scheduled job {props.task.family}: HTTPS out; nothing in",
            )
            skip_check(
                self._security_group,
                "CKV2_AWS_5",
                "attached to the tasks the job's schedule starts (aws_scheduler_schedule's "
                "target.ecs_parameters.network_configuration names it), a link checkov's graph does not know",
            )
        groups = (self._security_group.id, *job.security_groups) if self._security_group is not None else ()
        # Its provider bindings (Scheduler) load only where a job is built.
        from constructs_lib.scheduled_task import ScheduledTask, ScheduledTaskProps

        self._scheduled = ScheduledTask(
            self,
            "scheduled",
            props=ScheduledTaskProps(
                name=job.schedule_name,
                role_name=job.role_name,
                schedule=job.schedule,
                cluster_arn=job.cluster_arn,
                task_definition=self._task_definition,
                account_id=job.account_id,
                region=props.task.region,
                compute=job.compute,
                subnets=job.subnets,
                security_groups=groups,
                assign_public_ip=job.assign_public_ip,
                task_group=job.task_group,
                cluster_capacity=job.cluster_capacity,
            ),
        )

    @property
    def task_definition(self) -> TaskDefinition:
        """The task definition (app first, then the sidecars)."""
        return self._task_definition

    @property
    def security_group(self) -> SecurityGroup | None:
        """The tasks' security group (awsvpc tasks only)."""
        return self._security_group

    @property
    def scheduled(self) -> ScheduledTask:
        """The schedule and its role."""
        return self._scheduled
