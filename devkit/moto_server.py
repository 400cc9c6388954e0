"""The moto server, with the APIs it lacks that Terraform's AWS provider calls filled in.

``python -m devkit.moto_server -H 127.0.0.1 -p PORT`` runs moto's own server after
``install()`` has added, in this process only:

- Application Auto Scaling tagging (TagResource, UntagResource, ListTagsForResource).
  moto 5.2.5 implements none of them, so they answer HTTP 500; the provider reads a
  scalable target's tags after creating it and retries the 500 forever, so
  ``aws_appautoscaling_target`` never finishes creating on the emulator. The fill keeps
  tags on moto's own scalable-target objects and refuses unknown ARNs as AWS does.

- An ECS service's deploymentConfiguration (circuit breaker, alarms, healthy percents) and
  healthCheckGracePeriodSeconds given to CreateService. moto drops them there (UpdateService
  keeps them), so DescribeServices could not show the rollout guards a deploy asked for.
- The description of a security group rule that references another group. moto keeps it
  (in the rule's source group) but DescribeSecurityGroupRules reports only the description
  of CIDR rules, so every plan would set the description again.

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


def _rule_description(rule: Any) -> str | None:
    description = rule.ip_range.get("Description")
    if description is None and rule.source_group:
        description = rule.source_group.get("Description")
    return description  # type: ignore[no-any-return]


_CREATE_SERVICE_KEPT = {
    "deploymentConfiguration": "deployment_configuration",
    "healthCheckGracePeriodSeconds": "health_check_grace_period_seconds",
}


def _keeping_create_service(create_service: Any) -> Any:
    def create_service_keeping_settings(self: Any) -> Any:
        result = create_service(self)
        service = self.ecs_backend._get_service(
            self._get_param("cluster", "default"), self._get_param("serviceName")
        )
        for param, attribute in _CREATE_SERVICE_KEPT.items():
            value = self._get_param(param)
            if value is not None:
                setattr(service, attribute, value)
        return result

    return create_service_keeping_settings


def install() -> None:
    """Add the missing operations to moto's response classes (this process only)."""
    from moto.applicationautoscaling.responses import ApplicationAutoScalingResponse
    from moto.ec2.models.security_groups import SecurityGroupRule
    from moto.ecs.responses import EC2ContainerServiceResponse

    SecurityGroupRule.description = property(_rule_description)  # type: ignore[method-assign,assignment]
    EC2ContainerServiceResponse.create_service = _keeping_create_service(  # type: ignore[method-assign]
        EC2ContainerServiceResponse.create_service
    )

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
