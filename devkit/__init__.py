"""Tooling for `make demo`, the tests and the benchmarks: the AWS emulator, fake CI, plain
Terraform runs and the checkov gate. The cdktf runner, the offline Terraform configuration and
``ToolError`` live in ``ecs_cd/toolchain/``, which ``ecs_cd/release/`` uses too;
``ecs_cd/release/`` never imports this."""
