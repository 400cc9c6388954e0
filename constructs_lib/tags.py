"""Tags on every resource of a scope, the way AWS CDK's ``Tags.of(scope).add`` does."""

from __future__ import annotations

from collections.abc import Mapping

import jsii
from cdktf import Aspects, IAspect, TerraformResource
from constructs import IConstruct


@jsii.implements(IAspect)
class _ResourceTags:
    def __init__(self, tags: Mapping[str, str]) -> None:
        self._tags = dict(tags)

    def visit(self, node: IConstruct) -> None:
        # Only resources whose schema has tags (null_resource, IAM attachments have none); a
        # tag the resource sets itself wins over the scope's.
        if isinstance(node, TerraformResource) and hasattr(type(node), "tags_input"):
            own = node.tags_input  # type: ignore[attr-defined]
            node.tags = {**self._tags, **(own if isinstance(own, Mapping) else {})}  # type: ignore[attr-defined]


def tag_resources(scope: IConstruct, tags: Mapping[str, str]) -> None:
    """Add ``tags`` to every taggable resource in ``scope`` (at synth, after it is built)."""
    if tags:
        Aspects.of(scope).add(_ResourceTags(tags))
