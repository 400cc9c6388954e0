"""The short form for the common case: one app container whose image CI releases, plus sidecars.

Like ecs-patterns' ``taskImageOptions``: ``AppService`` builds the task definition, the
service and, with ``redeploy``, the timestamp redeploy add-on, from three values.
"""

from __future__ import annotations

from collections.abc import Mapping

from constructs import Construct
from pydantic import Field, StrictStr

from constructs_lib.image_lookup import bind_image
from constructs_lib.images import ResolvedImage
from constructs_lib.props import ConstructProps, Props
from constructs_lib.redeploy import AssumeRole, TimestampRedeploy
from constructs_lib.service import Service, ServiceOptions, ServiceProps
from constructs_lib.task_definition import TaskDefinition
from constructs_lib.task_definition_props import TaskDefinitionProps
from ecs_cd.core.image_strategies import DEFAULT_REDEPLOY_COMMAND, switches_task_definition


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
    (the ``timestamp`` image strategy), which needs ``service.cluster_name``."""

    task: TaskDefinitionProps
    service: ServiceOptions
    redeploy: Redeploy | None = None


class AppService(Construct):
    """An app container and its sidecars as a service: ``image`` (and ``digest``) look the app's
    image up, ``fargate`` is the service, ``redeploy`` the timestamp add-on.

    The task definition's resources keep the addresses they had before the constructs were
    split (``<id>/fargate/task``, ``<id>/fargate/logs``, …): it is built at
    ``<id>/Default/fargate/Default``, and cdktf leaves ``Default`` out of addresses."""

    def __init__(self, scope: Construct, id_: str, *, props: AppServiceProps) -> None:
        super().__init__(scope, id_)
        if props.redeploy is not None and props.service.cluster_name is None:
            raise ValueError("redeploy needs service.cluster_name (the command names the cluster)")
        app, *sidecars = props.task.containers
        self._app_image: ResolvedImage = bind_image(self, app.image)
        containers = (app.model_copy(update={"image": self._app_image}), *sidecars)
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
    def redeploy(self) -> TimestampRedeploy | None:
        """The timestamp-triggered ``null_resource`` (with ``redeploy`` only)."""
        return self._redeploy
