"""Where an environment's Terraform state lives: a local file or S3 (``[environments.<env>.state]``)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr

from constructs_lib.fields import Region, S3BucketName


class _Model(BaseModel):
    # The loader words each error itself; a ValidationError's own text never shows an input.
    model_config = ConfigDict(
        extra="forbid", frozen=True, hide_input_in_errors=True, use_attribute_docstrings=True
    )


LockTimeout = Annotated[StrictInt, Field(ge=0, le=3600)]


def _validate_state_path(value: str) -> str:
    if not value.strip() or value.endswith("/") or any(not c.isprintable() for c in value):
        raise ValueError(
            "a local state path must be a file path such as 'terraform.tfstate' (not empty or blank, "
            "not a directory, no control characters)"
        )
    return value


class LocalState(_Model):
    """Terraform state in a file next to the synthesized stack."""

    backend: Literal["local"]
    """``local``: a file beside the synthesized stack."""
    path: Annotated[StrictStr, AfterValidator(_validate_state_path)] = "terraform.tfstate"
    """The state file, relative to the stack's directory (``cdktf.out/stacks/<stack>``), so each
    stack has its own; a file path, not blank, not a directory."""
    lock_timeout_seconds: LockTimeout = 0
    """How long a second run waits for the state lock before failing, in seconds (0: fail at once)."""


class S3State(_Model):
    """Terraform state in S3."""

    backend: Literal["s3"]
    """``s3``: an object in an S3 bucket."""
    bucket: S3BucketName
    """The bucket, by S3's naming rules (``ecs-release bootstrap`` creates it)."""
    key: Annotated[StrictStr, Field(min_length=1, max_length=1024)]
    """The state's object key (a ``stack_per_service`` environment's services use
    ``<key stem>/<service>.tfstate`` beside it)."""
    region: Region
    """The bucket's region."""
    encrypt: StrictBool = True
    """The state object is encrypted at rest."""
    use_lockfile: StrictBool = True
    """S3-native locking (Terraform 1.10 or later): a ``<key>.tflock`` object next to the state."""
    lock_timeout_seconds: LockTimeout = 300
    """How long a second pipeline waits for the lock before failing, in seconds (0: fail at once)."""
    noncurrent_version_days: Annotated[StrictInt, Field(ge=0, le=36_500)] = 90
    """``ecs-release bootstrap``: replaced state versions expire after this many days (0: never);
    ``ecs-release state-restore`` can go back this far."""
