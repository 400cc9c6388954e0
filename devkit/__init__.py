"""Tooling for `make demo`, the tests and the benchmarks: the AWS emulator, fake CI, plain
Terraform runs and the checkov gate. The cdktf runner, the offline Terraform configuration and
``ToolError`` live in ``toolchain/``, which ``release/`` uses too; ``release/`` never imports this."""
