"""The short form for the common case: one app container whose image CI releases, plus sidecars.

Like ecs-patterns' ``taskImageOptions``: ``AppService`` builds the task definition, the
service and, with ``redeploy``, the timestamp redeploy add-on, from three values.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from constructs import Construct
from pydantic import Field, StrictStr, model_validator

from constructs_lib.image_lookup import bind_image
from constructs_lib.images import ResolvedImage
from constructs_lib.imports import AdoptedShape, ServiceImports, adoption_problems, import_resources
from constructs_lib.props import ConstructProps, Props, problem_text
from constructs_lib.queue_props import queue_problems
from constructs_lib.redeploy import AssumeRole, TimestampRedeploy
from constructs_lib.service import Service, ServiceOptions, ServiceProps
from constructs_lib.task_definition import TaskDefinition
from constructs_lib.task_definition_props import TaskDefinitionProps
from ecs_cd.core.image_strategies import DEFAULT_REDEPLOY_COMMAND, switches_task_definition

if TYPE_CHECKING:
    from constructs_lib.queue import WorkQueue


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
