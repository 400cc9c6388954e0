"""The seed pattern: force a new ECS deployment on every ``terraform apply``."""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence

from cdktf import Fn, ITerraformDependable, LocalExecProvisioner
from cdktf_cdktf_provider_null.resource import Resource as NullResource
from constructs import Construct

from constructs_lib.terraform_text import literal
from core.aws_formats import validate_ecs_name, validate_region
from core.image_strategies import (
    DEFAULT_REDEPLOY_COMMAND,
    switches_task_definition,
    validate_redeploy_command,
)

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
    ) -> None:
        """``cluster_name``, ``service_name``, ``region``: required, validated; ``command``:
        argv with ``{cluster}``/``{service}``/``{region}``/``{task_definition}`` placeholders,
        default ``aws ecs update-service … --task-definition {task_definition}
        --force-new-deployment``; ``environment``: extra variables for the command, default
        none; ``depends_on``: default none (pass the service); ``task_definition``: the
        revision's ARN, default None (required when the command names it; the service
        should then ignore its own ``task_definition``: see ``AppService``)."""
        super().__init__(scope, id_)
        self._command = render_command(
            command,
            cluster=cluster_name,
            service=service_name,
            region=region,
            task_definition=task_definition,
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
