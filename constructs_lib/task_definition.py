"""A task definition of one or more containers (Fargate or EC2), with its log group and roles."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.ecs_task_definition import (
    EcsTaskDefinition,
    EcsTaskDefinitionVolume,
    EcsTaskDefinitionVolumeDockerVolumeConfiguration,
)
from constructs import Construct

from constructs_lib.checks import skip_check
from constructs_lib.container import (
    ContainerProps,
    container_definition,
    render_definitions,
    volume_names,
)
from constructs_lib.image_lookup import bind_image
from constructs_lib.images import ResolvedImage
from constructs_lib.roles import TaskRoles, add_task_roles, execution_statements, trust_policy
from constructs_lib.task_definition_props import TaskDefinitionProps, Volume


class TaskDefinition(Construct):
    """An ``aws_ecs_task_definition`` of ``props.containers``, its log group (``logs``), its
    execution and task roles, and the lookups of the containers' images.

    Images that are not ``ResolvedImage`` are bound here, as ``<container>-image`` and
    ``<container>-digest``."""

    def __init__(self, scope: Construct, id_: str, *, props: TaskDefinitionProps) -> None:
        super().__init__(scope, id_)
        self._props = props
        self._log_group = CloudwatchLogGroup(
            self,
            "logs",
            name=props.log_group_name,
            retention_in_days=props.log_retention_days,
            kms_key_id=props.log_kms_key_arn,
        )
        if props.log_kms_key_arn is None:
            skip_check(
                self._log_group,
                "CKV_AWS_158",
                "no log_kms_key_arn configured: CloudWatch Logs encrypts at rest with its own keys; "
                "set log_kms_key_arn for a customer-managed key",
            )
        if props.log_retention_days < 365:
            skip_check(
                self._log_group,
                "CKV_AWS_338",
                f"log_retention_days = {props.log_retention_days} is this environment's configured choice; "
                "a year or more is a compliance requirement, not a default",
            )
        self._images: dict[str, ResolvedImage] = {
            c.name: bind_image(self, c.image, tag_id=f"{c.name}-image", digest_id=f"{c.name}-digest")
            for c in props.containers
        }
        self._roles = add_task_roles(
            self,
            execution_role_name=props.execution_role_name,
            task_role_name=props.task_role_name,
            statements=execution_statements(
                repository_arns=[i.repository_arn for i in self._images.values() if i.repository_arn],
                secret_arns=[arn for c in props.containers for arn in c.all_secret_arns],
                secrets_kms_key_arn=props.secrets_kms_key_arn,
                log_group_arn=self._log_group.arn,
            ),
            trust=trust_policy(account_id=props.account_id, region=props.region),
        )
        volumes = volume_names(props.containers)
        definitions = [
            container_definition(
                c,
                image="",
                log_group=props.log_group_name,
                region=props.region,
                volumes={path: volumes[(c.name, path)] for path in c.writable_paths},
                network_mode=props.network_mode,
            )
            for c in props.containers
        ]
        self._task_definition = EcsTaskDefinition(
            self,
            "task",
            family=props.family,
            cpu=str(props.cpu) if props.cpu is not None else None,
            memory=str(props.memory) if props.memory is not None else None,
            network_mode=props.network_mode,
            requires_compatibilities=[props.compatibility],
            execution_role_arn=self._roles.execution_role.arn,
            task_role_arn=self._roles.task_role.arn,
            container_definitions=render_definitions(
                definitions, [self._images[c.name] for c in props.containers]
            ),
            # Task-scoped (Fargate ephemeral storage) volumes: the writable paths of a
            # read-only root filesystem; then the task's declared volumes.
            volume=[EcsTaskDefinitionVolume(name=name) for name in dict.fromkeys(volumes.values())]
            + [_volume(v) for v in props.volumes]
            or None,
        )

    @property
    def props(self) -> TaskDefinitionProps:
        """The props it was built from."""
        return self._props

    @property
    def containers(self) -> tuple[ContainerProps, ...]:
        """The containers, in order."""
        return self._props.containers

    def container(self, name: str) -> ContainerProps:
        """The container named ``name`` (``KeyError`` if none)."""
        for c in self._props.containers:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def images(self) -> dict[str, ResolvedImage]:
        """Each container's image as bound to Terraform, by container name."""
        return dict(self._images)

    @property
    def log_group(self) -> CloudwatchLogGroup:
        """The ``aws_cloudwatch_log_group`` the awslogs containers write to."""
        return self._log_group

    @property
    def roles(self) -> TaskRoles:
        """The execution role (with its policy) and the task role."""
        return self._roles

    @property
    def task_definition(self) -> EcsTaskDefinition:
        """The ``aws_ecs_task_definition``."""
        return self._task_definition

    @property
    def arn(self) -> str:
        """A token for the revision's ARN."""
        return self._task_definition.arn


def _volume(volume: Volume) -> EcsTaskDefinitionVolume:
    docker = None
    if volume.docker_scope is not None:
        docker = EcsTaskDefinitionVolumeDockerVolumeConfiguration(
            scope=volume.docker_scope,
            driver=volume.docker_driver,
            # A shared volume is made on first use on each instance; a task one always is.
            autoprovision=True if volume.docker_scope == "shared" else None,
        )
    return EcsTaskDefinitionVolume(
        name=volume.name, host_path=volume.host_path, docker_volume_configuration=docker
    )
