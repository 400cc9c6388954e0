"""Image strategies: how a service's image is chosen and what redeploys it
(docs/configuration/image-strategies.md)."""

from __future__ import annotations

import string
from collections.abc import Iterable
from typing import Literal, get_args

# How a service's image is chosen and when it redeploys (docs/configuration/image-strategies.md):
# timestamp = <repo>:<SSM tag> + null_resource on every apply; ssm-tag = <repo>:<SSM tag>;
# digest = <repo>@<ECR digest of the SSM or fixed tag>.
ImageStrategy = Literal["timestamp", "ssm-tag", "digest"]
IMAGE_STRATEGIES: tuple[str, ...] = get_args(ImageStrategy)

REDEPLOY_PLACEHOLDERS = frozenset({"cluster", "service", "region", "task_definition"})
# With this placeholder the redeploy command also switches the service to the revision the
# apply registered, so the service resource leaves its task definition to the command: one
# UpdateService, and so one deployment, per apply (a new tag included).
TASK_DEFINITION_PLACEHOLDER = "{task_definition}"
DEFAULT_REDEPLOY_COMMAND: tuple[str, ...] = (
    "aws",
    "ecs",
    "update-service",
    "--cluster",
    "{cluster}",
    "--service",
    "{service}",
    "--task-definition",
    "{task_definition}",
    "--force-new-deployment",
    "--region",
    "{region}",
    # One line (the new deployment's id) in the apply log instead of the whole service.
    "--query",
    "service.deployments[?status=='PRIMARY'].id",
    "--output",
    "text",
)


def switches_task_definition(argv: Iterable[str]) -> bool:
    """Whether a redeploy command names the task definition (and so owns the service's revision)."""
    return any(TASK_DEFINITION_PLACEHOLDER in arg for arg in argv)


def validate_redeploy_command(argv: Iterable[str]) -> tuple[str, ...]:
    """A redeploy command is an argv list whose items may use {cluster}, {service} and {region}."""
    items = tuple(argv)
    if not items or not items[0]:
        raise ValueError("a redeploy command must be a non-empty list of arguments")
    allowed = ", ".join("{" + p + "}" for p in sorted(REDEPLOY_PLACEHOLDERS))
    for item in items:
        try:
            parsed = list(string.Formatter().parse(item))
        except ValueError:
            raise ValueError(
                f"a redeploy command may only use the placeholders {allowed} "
                "(write a literal brace as '{{' or '}}')"
            ) from None
        for _, field, spec, conversion in parsed:
            if field is None:
                continue
            if field not in REDEPLOY_PLACEHOLDERS or spec or conversion:
                raise ValueError(f"a redeploy command may only use the placeholders {allowed}")
    return items
