"""Tooling shared by `make demo`, the tests and the benchmarks: the AWS emulator,
offline Terraform provider mirrors, and running the cdktf CLI."""
