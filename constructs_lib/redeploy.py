"""The seed pattern: force a new ECS deployment on every ``terraform apply``."""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from typing import Annotated

from cdktf import Fn, ITerraformDependable, LocalExecProvisioner
from cdktf_cdktf_provider_null.resource import Resource as NullResource
from constructs import Construct
from pydantic import Field, StrictStr

from constructs_lib.props import Props
from constructs_lib.terraform_text import literal
from ecs_cd.core.aws_formats import validate_ecs_name
from ecs_cd.core.aws_regions import validate_region
from ecs_cd.core.image_strategies import (
    DEFAULT_REDEPLOY_COMMAND,
    switches_task_definition,
    validate_redeploy_command,
)


class AssumeRole(Props):
    """A role to act with: ``role_arn`` (required), ``session_name`` (required, 2-64
    characters), ``external_id`` (default None)."""

    role_arn: Annotated[
        StrictStr, Field(pattern=r"^arn:aws(-cn|-us-gov)?:iam::[0-9]{12}:role/[A-Za-z0-9_+=,.@/-]{1,512}$")
    ]
    session_name: Annotated[StrictStr, Field(pattern=r"^[A-Za-z0-9_+=,.@-]{2,64}$")]
    external_id: Annotated[StrictStr, Field(pattern=r"^[A-Za-z0-9_+=,.@:/-]{2,1224}$")] | None = None


# Stands for the task definition's ARN (a Terraform reference) until the line is escaped.
_TASK_DEFINITION_MARK = "\u0000task-definition\u0000"


def render_command(
    command: Sequence[str], *, cluster: str, service: str, region: str, task_definition: str | None = None
) -> str:
    """Fill the placeholders and shell-quote every argument (local-exec runs a shell).

    ``task_definition`` (default None): the revision's ARN, usually a token; required when
    the command uses ``{task_definition}``. Every literal is escaped for Terraform's
    templates; only the ARN's reference stays a reference."""
    validate_ecs_name(cluster)
    validate_ecs_name(service)
    validate_region(region)
    argv = validate_redeploy_command(command)
    if task_definition is None and switches_task_definition(argv):
        raise ValueError("the redeploy command uses {task_definition}: pass task_definition")
    values = {
        "cluster": cluster,
        "service": service,
        "region": region,
        "task_definition": _TASK_DEFINITION_MARK,
    }
    line = " ".join(shlex.quote(arg.format(**values)) for arg in argv)
    # Terraform reads the command as a template: "${" in an argument must stay literal.
    return literal(line).replace(_TASK_DEFINITION_MARK, task_definition or "")


def assuming_role(
    line: str, *, role_arn: str, session_name: str, region: str, external_id: str | None
) -> str:
    """``line`` run with the credentials of ``role_arn``, assumed with the machine's own (the
    way Terraform's provider assumes it), so the command acts in the environment's account.

    The variables prefix the command only; they beat a profile in the SDK's credential chain."""
    external = f" --external-id {shlex.quote(external_id)}" if external_id is not None else ""
    assume = (
        f"aws sts assume-role --region {shlex.quote(region)} --role-arn {shlex.quote(role_arn)} "
        f"--role-session-name {shlex.quote(session_name)}{external} "
        "--query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' --output text"
    )
    return (
        f"creds=$({literal(assume)}) && set -- $creds && "
        f'AWS_ACCESS_KEY_ID="$1" AWS_SECRET_ACCESS_KEY="$2" AWS_SESSION_TOKEN="$3" {line}'
    )


class TimestampRedeploy(Construct):
    """A ``null_resource`` triggered by ``timestamp()`` that runs ``aws ecs update-service
    --force-new-deployment`` on every apply, so a reused tag (``latest``) still rolls out."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        cluster_name: str,
        service_name: str,
        region: str,
        command: Sequence[str] = DEFAULT_REDEPLOY_COMMAND,
        environment: Mapping[str, str] | None = None,
        depends_on: Sequence[ITerraformDependable] = (),
        task_definition: str | None = None,
        assume_role: AssumeRole | None = None,
    ) -> None:
        """``cluster_name``, ``service_name``, ``region``: required, validated; ``command``:
        argv with ``{cluster}``/``{service}``/``{region}``/``{task_definition}`` placeholders,
        default ``aws ecs update-service … --task-definition {task_definition}
        --force-new-deployment``; ``environment``: extra variables for the command, default
        none; ``depends_on``: default none (pass the service); ``task_definition``: the
        revision's ARN, default None (required when the command names it; the service
        should then ignore its own ``task_definition``: see ``AppService``); ``assume_role``
        (default None): the role the command acts with, assumed first with ``aws sts``."""
        super().__init__(scope, id_)
        self._command = render_command(
            command,
            cluster=cluster_name,
            service=service_name,
            region=region,
            task_definition=task_definition,
        )
        if assume_role is not None:
            self._command = assuming_role(
                self._command,
                role_arn=assume_role.role_arn,
                session_name=assume_role.session_name,
                region=region,
                external_id=assume_role.external_id,
            )
        self._resource = NullResource(
            self,
            "trigger",
            # timestamp() is unknown until apply, so Terraform replaces this resource
            # (and runs the provisioner) on every apply; Python's clock would make
            # synth output differ run to run instead.
            triggers={"always_run": Fn.timestamp()},
            provisioners=[
                LocalExecProvisioner(
                    type="local-exec",
                    command=self._command,
                    environment=dict(environment) if environment else None,
                )
            ],
            depends_on=list(depends_on),
        )

    @property
    def resource(self) -> NullResource:
        """The ``null_resource``."""
        return self._resource

    @property
    def command(self) -> str:
        """The shell command the provisioner runs."""
        return self._command
