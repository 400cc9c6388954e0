"""ecs-cd's own code below the design card's top level: ``ecs_cd.core`` (what the stacks, the
constructs and ecs-release share, without cdktf), ``ecs_cd.release`` (the ``ecs-release`` command
line) and ``ecs_cd.toolchain`` (running the cdktf CLI and Terraform). Nothing is imported here, so
``import ecs_cd.core.names`` loads no more than that module."""
