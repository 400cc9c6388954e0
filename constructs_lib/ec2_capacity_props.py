"""The props of an EC2 Auto Scaling group capacity provider (no cdktf: the loader uses them)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StrictBool, StrictInt, StrictStr, model_validator

from constructs_lib.fields import SsmName
from constructs_lib.props import Props
from constructs_lib.service_props import CapacityProviderName

# AWS's public parameter of the current ECS-optimized Amazon Linux 2023 AMI.
ECS_OPTIMIZED_AMI = "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id"


class Ec2CapacityProps(Props):
    """Container instances for a cluster: an Auto Scaling group of ``instance_type`` (required)
    behind an ECS capacity provider that scales it.

    - ``name`` (default None: the stack's ``<project>-<env>-ec2``): the capacity provider,
      group, launch template and instance role; services name it in their strategy.
    - ``min_size`` (default 0), ``max_size`` (default 4): the group's bounds.
    - ``target_capacity_percent`` (default 100): managed scaling's target use of the instances.
    - ``managed_termination_protection`` (default True): ECS keeps instances that run tasks
      from being scaled in (the group protects new instances from scale-in).
    - ``ami_parameter`` (default AWS's ECS-optimized Amazon Linux 2023 parameter).
    - ``root_volume_gib`` (default 30): encrypted gp3.
    """

    name: CapacityProviderName | None = None
    """The capacity provider's name, also its Auto Scaling group's, launch template's and instance
    role's; services name it in their strategy; not starting with ``aws``, ``ecs`` or ``fargate``
    in any case (unset: ``<project>-<env>-ec2``)."""
    instance_type: Annotated[StrictStr, Field(pattern=r"^[a-z][a-z0-9-]*\.[a-z0-9]+$")]
    """The EC2 instance type, e.g. ``t3.medium``."""
    min_size: Annotated[StrictInt, Field(ge=0, le=1000)] = 0
    """The group's fewest instances."""
    max_size: Annotated[StrictInt, Field(ge=1, le=1000)] = 4
    """The group's most instances; at least ``min_size``."""
    target_capacity_percent: Annotated[StrictInt, Field(ge=1, le=100)] = 100
    """Managed scaling's target use of the instances, in percent."""
    managed_termination_protection: StrictBool = True
    """ECS keeps instances that run tasks from being scaled in."""
    ami_parameter: SsmName = ECS_OPTIMIZED_AMI
    """The SSM parameter holding the AMI id (default: AWS's current ECS-optimized Amazon Linux
    2023)."""
    root_volume_gib: Annotated[StrictInt, Field(ge=30, le=16384)] = 30
    """The instances' root volume in GiB (encrypted gp3)."""

    @model_validator(mode="after")
    def _bounds(self) -> Ec2CapacityProps:
        if self.min_size > self.max_size:
            raise ValueError(
                f"ec2_capacity.min_size ({self.min_size}) must not exceed max_size ({self.max_size})"
            )
        return self
