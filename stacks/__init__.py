"""Per-environment cdktf stacks and the typed settings they are built from."""
