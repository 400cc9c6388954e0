"""Where an environment's Terraform state lives: a local file or S3 (``[environments.<env>.state]``)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr

from constructs_lib.fields import Region, S3BucketName


class _Model(BaseModel):
    # The loader words each error itself; a ValidationError's own text never shows an input.
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)


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
    # Relative to the stack's directory (cdktf.out/stacks/<stack>), so each stack has its own.
    path: Annotated[StrictStr, AfterValidator(_validate_state_path)] = "terraform.tfstate"
    lock_timeout_seconds: LockTimeout = 0


class S3State(_Model):
    """Terraform state in S3."""

    backend: Literal["s3"]
    bucket: S3BucketName
    key: Annotated[StrictStr, Field(min_length=1, max_length=1024)]
    region: Region
    encrypt: StrictBool = True
    # S3-native locking (Terraform >= 1.10): a <key>.tflock object next to the state.
    use_lockfile: StrictBool = True
    # How long a second pipeline waits for the lock before failing (0: fail at once).
    lock_timeout_seconds: LockTimeout = 300
    # `ecs-release bootstrap`: replaced state versions expire after this many days (0: never);
    # state-restore can go back this far.
    noncurrent_version_days: Annotated[StrictInt, Field(ge=0, le=36_500)] = 90
