"""The seed pattern: force a new ECS deployment on every ``terraform apply``."""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence

from cdktf import Fn, ITerraformDependable, LocalExecProvisioner
from cdktf_cdktf_provider_null.resource import Resource as NullResource
from constructs import Construct

from constructs_lib.naming import (
    DEFAULT_REDEPLOY_COMMAND,
    validate_ecs_name,
    validate_redeploy_command,
    validate_region,
)


def render_command(command: Sequence[str], *, cluster: str, service: str, region: str) -> str:
    """Fill the placeholders and shell-quote every argument (local-exec runs a shell)."""
    validate_ecs_name(cluster)
    validate_ecs_name(service)
    validate_region(region)
    argv = validate_redeploy_command(command)
    return " ".join(shlex.quote(arg.format(cluster=cluster, service=service, region=region)) for arg in argv)


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
    ) -> None:
        """``cluster_name``, ``service_name``, ``region``: required, validated; ``command``:
        argv with ``{cluster}``/``{service}``/``{region}`` placeholders, default
        ``aws ecs update-service … --force-new-deployment``; ``environment``: extra variables
        for the command, default none; ``depends_on``: default none (pass the service)."""
        super().__init__(scope, id_)
        self._command = render_command(command, cluster=cluster_name, service=service_name, region=region)
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
