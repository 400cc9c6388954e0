"""The moto server, with the APIs it lacks that Terraform's AWS provider calls filled in.

``python -m devkit.moto_server -H 127.0.0.1 -p PORT`` runs moto's own server after
``install()`` has added, in this process only:

- Application Auto Scaling tagging (TagResource, UntagResource, ListTagsForResource).
  moto 5.2.5 implements none of them, so they answer HTTP 500; the provider reads a
  scalable target's tags after creating it and retries the 500 forever, so
  ``aws_appautoscaling_target`` never finishes creating on the emulator. The fill keeps
  tags on moto's own scalable-target objects and refuses unknown ARNs as AWS does.

Nothing else about moto changes; each fill is checked by tests/integration/test_moto_server.py.
"""

from __future__ import annotations

import json
import sys
from typing import Any

_TAGS_ATTRIBUTE = "ecs_cd_tags"


def _scalable_target(response: Any, arn: str) -> Any:
    from moto.applicationautoscaling.exceptions import AWSValidationException

    backend = response.applicationautoscaling_backend
    for dimensions in backend.targets.values():
        for target in dimensions.values():
            if target.arn == arn:
                return target
    # AWS answers ResourceNotFoundException; moto has no such class here, and the
    # provider treats both as "gone".
    raise AWSValidationException(f"No scalable target found for ARN {arn}")


def _list_tags_for_resource(self: Any) -> str:
    target = _scalable_target(self, self._get_param("ResourceARN"))
    return json.dumps({"Tags": dict(getattr(target, _TAGS_ATTRIBUTE, {}))})


def _tag_resource(self: Any) -> str:
    target = _scalable_target(self, self._get_param("ResourceARN"))
    tags = dict(getattr(target, _TAGS_ATTRIBUTE, {}))
    tags.update(self._get_param("Tags") or {})
    setattr(target, _TAGS_ATTRIBUTE, tags)
    return "{}"


def _untag_resource(self: Any) -> str:
    target = _scalable_target(self, self._get_param("ResourceARN"))
    remove = set(self._get_param("TagKeys") or [])
    tags = {k: v for k, v in getattr(target, _TAGS_ATTRIBUTE, {}).items() if k not in remove}
    setattr(target, _TAGS_ATTRIBUTE, tags)
    return "{}"


def install() -> None:
    """Add the missing operations to moto's response classes (this process only)."""
    from moto.applicationautoscaling.responses import ApplicationAutoScalingResponse

    fills = {
        "list_tags_for_resource": _list_tags_for_resource,
        "tag_resource": _tag_resource,
        "untag_resource": _untag_resource,
    }
    for name, fill in fills.items():
        # A later moto that implements an operation keeps its own implementation.
        if not hasattr(ApplicationAutoScalingResponse, name):
            setattr(ApplicationAutoScalingResponse, name, fill)


def main(argv: list[str] | None = None) -> None:
    install()
    from moto.server import main as moto_main

    moto_main(argv if argv is not None else sys.argv[1:])


if __name__ == "__main__":
    main()
