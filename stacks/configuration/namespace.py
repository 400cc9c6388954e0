"""An environment's Service Connect namespace (``[environments.<env>.service_connect]``): a Cloud Map
HTTP namespace created here, or an existing one by ARN. Every enabled service of the environment
joins it as a client; a service's own ``service_connect`` table makes it a server too."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, StrictBool, StrictStr, model_validator

from constructs_lib.fields import NamespaceArn, NamespaceName


class _Model(BaseModel):
    # The loader words each error itself; a ValidationError's own text never shows an input.
    model_config = ConfigDict(
        extra="forbid", frozen=True, hide_input_in_errors=True, use_attribute_docstrings=True
    )


class ServiceConnectTable(_Model):
    """The file's table: a namespace created here or an existing one, not both."""

    namespace: NamespaceName | None = None
    """The name of the Cloud Map HTTP namespace created here (unset, without ``namespace_arn``:
    ``<project>-<env>``)."""
    namespace_arn: NamespaceArn | None = None
    """An existing namespace's ARN, in the environment's region (not with ``namespace``)."""
    proxy_logs: StrictBool = True
    """Each task's Service Connect proxy logs to its service's log group."""

    @model_validator(mode="after")
    def _one_namespace(self) -> ServiceConnectTable:
        if self.namespace is not None and self.namespace_arn is not None:
            raise ValueError(
                "set either namespace (a Cloud Map namespace created here) or namespace_arn (an "
                "existing one), not both"
            )
        return self


class ServiceConnectNamespace(_Model):
    """The environment's namespace as the stacks build it: ``name`` (created here) or ``arn``
    (existing), exactly one; ``proxy_logs`` as the table says."""

    name: StrictStr | None = None
    arn: StrictStr | None = None
    proxy_logs: StrictBool = True

    @property
    def created(self) -> bool:
        """The environment's stack creates the namespace (else it exists, by ARN)."""
        return self.arn is None

    @property
    def shown(self) -> str:
        """The name, or the ARN of an existing namespace."""
        return self.name if self.name is not None else str(self.arn)
