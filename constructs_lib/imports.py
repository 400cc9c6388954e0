"""Adoption: the live resources a service's own Terraform resources take over.

Each id becomes a Terraform ``import`` block on its resource (cdktf's ``import_from``), so the
first apply imports the resource instead of creating a second one beside it. The blocks stay:
once the resource is in the state under that id, Terraform has nothing more to import.

The task definition is never imported: a deploy registers a new revision in the same family, so
the service rolls as on any release and the old revision stays for a rollback.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

from pydantic import Field, StrictStr

from constructs_lib.fields import LogGroupName, RoleName, SecurityGroupId
from constructs_lib.props import Problem, Props
from ecs_cd.core.names import scaling_resource_id

if TYPE_CHECKING:
    # The release command line reads these props without loading cdktf (jsii).
    from cdktf import TerraformResource

SecurityGroupRuleId = Annotated[StrictStr, Field(pattern=r"^sgr-[0-9a-f]{8,17}$")]
EcsServiceId = Annotated[
    StrictStr,
    Field(
        pattern=r"^[A-Za-z0-9_-]{1,255}/[A-Za-z0-9_-]{1,255}$", description="<cluster name>/<service name>"
    ),
]
TargetGroupArn = Annotated[
    StrictStr,
    Field(
        pattern=r"^arn:aws(?:-cn|-us-gov)?:elasticloadbalancing:[a-z]{2}(?:-[a-z]+)+-[0-9]:[0-9]{12}:"
        r"targetgroup/[A-Za-z0-9-]{1,32}/[0-9a-f]{16}$"
    ),
]
ListenerRuleArn = Annotated[
    StrictStr,
    Field(
        pattern=r"^arn:aws(?:-cn|-us-gov)?:elasticloadbalancing:[a-z]{2}(?:-[a-z]+)+-[0-9]:[0-9]{12}:"
        r"listener-rule/(?:app|net)/[A-Za-z0-9-]{1,32}/[0-9a-f]{16}/[0-9a-f]{16}/[0-9a-f]{16}$"
    ),
]
ScalableTargetId = Annotated[
    StrictStr,
    Field(pattern=r"^ecs/service/[A-Za-z0-9_-]{1,255}/[A-Za-z0-9_-]{1,255}/ecs:service:DesiredCount$"),
]


class ServiceImports(Props):
    """The ids of live resources a service adopts (each default None: the resource is created).

    - ``service``: ``<cluster>/<service>``, the names the service runs under here;
    - ``log_group``, ``execution_role``, ``task_role``: names (the task definition's);
    - ``security_group`` (``sg-…``) and its rules ``egress_https`` and ``ingress_from_lb``
      (``sgr-…``, rules of that group that say what ours say; others are left as they are);
    - ``target_group``, ``listener_rule``: ARNs;
    - ``scalable_target``: ``ecs/service/<cluster>/<service>/ecs:service:DesiredCount``.
    """

    service: EcsServiceId | None = None
    """The ECS service, ``<cluster>/<service>``, the names it runs under here."""
    log_group: LogGroupName | None = None
    """The log group's name, the service's."""
    execution_role: RoleName | None = None
    """The task execution role's name, the service's."""
    task_role: RoleName | None = None
    """The task role's name, the service's."""
    security_group: SecurityGroupId | None = None
    """The tasks' security group, ``sg-...``."""
    egress_https: SecurityGroupRuleId | None = None
    """That group's HTTPS egress rule, ``sgr-...``."""
    ingress_from_lb: SecurityGroupRuleId | None = None
    """That group's rule admitting the load balancer, ``sgr-...``."""
    target_group: TargetGroupArn | None = None
    """The target group's ARN."""
    listener_rule: ListenerRuleArn | None = None
    """The listener rule's ARN."""
    scalable_target: ScalableTargetId | None = None
    """The scalable target, ``ecs/service/<cluster>/<service>/ecs:service:DesiredCount``."""

    def given(self) -> dict[str, str]:
        """The ids given, by field."""
        return {name: value for name, value in self if isinstance(value, str)}


@dataclass(frozen=True)
class AdoptedShape:
    """What the service being built is, as the ids must match it: its names and its parts."""

    cluster: str | None
    service: str
    log_group: str
    execution_role: str
    task_role: str
    awsvpc: bool
    load_balancer: bool
    autoscaling: bool


# The name each id must equal: importing a resource under another name would plan its
# replacement (a name forces a new resource), which adoption must never do.
_SAME_NAME = {
    "log_group": ("log_group", "log group"),
    "execution_role": ("execution_role", "execution role"),
    "task_role": ("task_role", "task role"),
}


def adoption_problems(imports: ServiceImports, shape: AdoptedShape) -> list[Problem]:
    """Ids that contradict the service (each a ``Problem`` at its field): an id of a resource the
    service does not have, or of one under another name than the service gives it."""
    given = imports.given()
    return [*_name_problems(given, shape), *_service_problems(given, shape), *_part_problems(given, shape)]


def _name_problems(given: dict[str, str], shape: AdoptedShape) -> list[Problem]:
    found = []
    for field, (attribute, what) in _SAME_NAME.items():
        want = getattr(shape, attribute)
        if field in given and given[field] != want:
            found.append(
                Problem(
                    field,
                    given[field],
                    f"the service's {what} is named {want!r}: importing another would replace it "
                    f"(set names.{attribute} = {given[field]!r} to keep the live one's name)",
                )
            )
    return found


def _service_problems(given: dict[str, str], shape: AdoptedShape) -> list[Problem]:
    found = []
    if "service" in given:
        cluster, _, service = given["service"].partition("/")
        if service != shape.service:
            message = (
                f"the service is named {shape.service!r} here: importing {service!r} would replace it "
                f"(set names.service = {service!r})"
            )
            found.append(Problem("service", given["service"], message))
        elif shape.cluster is not None and cluster != shape.cluster:
            message = (
                f"the service runs on cluster {shape.cluster!r} here, not {cluster!r}: a service cannot "
                "move between clusters without being replaced"
            )
            found.append(Problem("service", given["service"], message))
    if "scalable_target" in given and shape.cluster is not None:
        want = f"ecs/{scaling_resource_id(shape.cluster, shape.service)}/ecs:service:DesiredCount"
        if given["scalable_target"] != want:
            message = f"the service's scalable target is {want!r}"
            found.append(Problem("scalable_target", given["scalable_target"], message))
    return found


def _part_problems(given: dict[str, str], shape: AdoptedShape) -> list[Problem]:
    needs = {
        "security_group": (shape.awsvpc, "awsvpc tasks (bridge and host tasks have no group of their own)"),
        "egress_https": (shape.awsvpc, "awsvpc tasks' own security group"),
        "ingress_from_lb": (shape.awsvpc and shape.load_balancer, "awsvpc tasks behind a load balancer"),
        "target_group": (shape.load_balancer, "a service with a load_balancer"),
        "listener_rule": (shape.load_balancer, "a service with a load_balancer"),
        "scalable_target": (shape.autoscaling, "a service with autoscaling"),
    }
    found = [
        Problem(field, given[field], f"is only for {what}: this service has none")
        for field, (has, what) in needs.items()
        if field in given and not has
    ]
    found += [
        Problem(rule, given[rule], "a rule is adopted with its group: set security_group too")
        for rule in ("egress_https", "ingress_from_lb")
        if rule in given and "security_group" not in given
    ]
    return found


# Attributes an adopted resource keeps as they are live: AWS cannot change them in place, so a
# difference would replace the resource. A security group's description is only a label.
_KEPT_AS_LIVE = {"security_group": ["description"]}


def import_resources(imports: ServiceImports, resources: dict[str, TerraformResource | None]) -> None:
    """An ``import`` block on each resource whose id is given (``resources`` by field; None where
    the service has no such resource, which ``adoption_problems`` refused already)."""
    from cdktf import TerraformResourceLifecycle

    for field, value in imports.given().items():
        resource = resources.get(field)
        if resource is None:
            raise ValueError(f"adopt.{field}: this service has no such resource")
        resource.import_from(value)
        if field in _KEPT_AS_LIVE:
            resource.lifecycle = TerraformResourceLifecycle(ignore_changes=_KEPT_AS_LIVE[field])
