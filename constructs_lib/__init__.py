"""Reusable CDK for Terraform constructs for continuous delivery of containers to ECS.

Nothing in this package reads files or environment variables, or knows the names of
environments: every construct takes typed, keyword-only props.
"""
