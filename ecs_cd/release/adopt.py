"""`ecs-release adopt ENV --cluster C --service S`: read services that run already (made by hand, by
Copilot, by CloudFormation or by another Terraform configuration) and write what ecs-cd needs to
own them: each service's table, its names where they differ from the derived ones, and the ids
its resources take over (Terraform import blocks). It only reads AWS.

What is read, per service: the service, its task definition (not imported: the first deploy
registers a new revision in the same family, so the service rolls as on any release and the
old revision stays for a rollback), its target group and the listener rule that forwards to it,
its scalable target and target-tracking policies, its own security group and the rules of it
that say what ecs-cd's say, its log group and its two roles.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ecs_cd.core import aws_formats
from ecs_cd.core.names import ServiceNames
from ecs_cd.release.errors import BadInput
from ecs_cd.release.layout_move import state_instances

if TYPE_CHECKING:
    from ecs_cd.release.aws import Aws
    from stacks.settings import EnvironmentSettings


@dataclass
class Adopted:
    """One live service as configuration: its base table, its environment's names and ids, and
    what was left as it is (said to the user)."""

    key: str
    table: dict[str, Any]
    names: dict[str, str]
    ids: dict[str, str]
    sidecars: dict[str, dict[str, Any]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    tag: str | None = None


# Target-tracking metrics ecs-cd's autoscaling table has a field for.
_METRICS = {
    "ECSServiceAverageCPUUtilization": "cpu_target_percent",
    "ECSServiceAverageMemoryUtilization": "memory_target_percent",
}


def read_service(
    aws: Aws, env: EnvironmentSettings, project: str, cluster: str, service: str, key: str | None = None
) -> Adopted:
    """The live ``service`` of ``cluster`` as configuration for ``env`` (BadInput when it cannot
    be adopted as it is, naming why)."""
    found = aws.call("ecs", "describe_services", cluster=cluster, services=[service], include=["TAGS"])
    live = next((s for s in found.get("services", []) if s.get("status") == "ACTIVE"), None)
    if live is None:
        raise BadInput(f"adopt: no active service {service!r} in cluster {cluster!r} ({env.region})")
    key = key or service
    try:
        aws_formats.validate_service_name(key)
    except ValueError as exc:
        raise BadInput(
            f"adopt: {key!r} cannot name the service in the configuration ({exc}): give --as NAME"
        ) from None
    controller = live.get("deploymentController", {}).get("type", "ECS")
    if controller != "ECS":
        raise BadInput(
            f"adopt: {service} uses the {controller} deployment controller; ecs-cd rolls services with "
            "ECS's own (rolling updates), and changing the controller replaces the service"
        )
    definition = aws.call("ecs", "describe_task_definition", taskDefinition=live["taskDefinition"])
    task = definition["taskDefinition"]
    derived = ServiceNames.derived(project, env.name, key)
    adopted = Adopted(key=key, table={}, names={}, ids={"service": f"{cluster}/{service}"})
    app = _app_container(task, live, key)
    adopted.table, adopted.tag = _service_table(live, task, app)
    _names(adopted, derived, live, task, app)
    _roles(adopted, task, derived)
    _log_group(adopted, aws, app)
    _sidecars(adopted, task, app)
    _network(adopted, aws, env, live, derived)
    _load_balancer(adopted, aws, env, live, derived)
    _autoscaling(adopted, aws, cluster, service)
    return adopted


def _app_container(task: Mapping[str, Any], live: Mapping[str, Any], key: str) -> dict[str, Any]:
    """The container the release's image goes to: the load balancer's, else the one named after
    the service, else the first essential one."""
    containers = task["containerDefinitions"]
    targeted = {lb.get("containerName") for lb in live.get("loadBalancers", [])}
    for rule in (
        lambda c: c["name"] in targeted,
        lambda c: c["name"] in (key, live["serviceName"]),
        lambda c: c.get("essential", True),
    ):
        for container in containers:
            if rule(container):
                return dict(container)
    return dict(containers[0])


def _image(reference: str) -> tuple[str, str | None]:
    """``repository:tag`` (or ``@sha256:…``) as the repository and the tag (None for a digest)."""
    if "@" in reference:
        return reference.split("@", 1)[0], None
    repository, _, tag = reference.rpartition(":")
    if not repository or "/" in tag:
        return reference, "latest"
    return repository, tag


def _service_table(
    live: Mapping[str, Any], task: Mapping[str, Any], app: Mapping[str, Any]
) -> tuple[dict[str, Any], str | None]:
    repository, tag = _image(app["image"])
    table: dict[str, Any] = {"repository": repository}
    for size in ("cpu", "memory"):
        if task.get(size):
            table[size] = int(task[size])
    table["desired_count"] = int(live.get("desiredCount", 1))
    table |= _app_fields(app)
    if task.get("networkMode", "awsvpc") != "awsvpc":
        table["network_mode"] = task["networkMode"]
    table["compute"] = _compute(live)
    table["deployment"] = _deployment(live)
    tags = {t["key"]: t["value"] for t in live.get("tags", []) if not t["key"].startswith("aws:")}
    tags = {k: v for k, v in tags.items() if k not in aws_formats.TOOL_TAG_KEYS}
    if tags:
        table["tags"] = tags
    return table, tag


def _app_fields(app: Mapping[str, Any]) -> dict[str, Any]:
    """The app container's fields as the service's table writes them."""
    table: dict[str, Any] = {}
    ports = [p["containerPort"] for p in app.get("portMappings", [])]
    if ports:
        table["container_port"] = ports[0]
    if app.get("environment"):
        table["environment"] = {e["name"]: e["value"] for e in app["environment"]}
    if app.get("secrets"):
        table["secrets"] = {s["name"]: s["valueFrom"] for s in app["secrets"]}
    for ours, theirs in (("command", "command"), ("entry_point", "entryPoint"), ("user", "user")):
        if app.get(theirs):
            table[ours] = app[theirs]
    check = app.get("healthCheck", {})
    if check.get("command"):
        table["health_check"] = {"command": list(check["command"])}
        table["health_check"] |= {k: check[k] for k in ("interval", "timeout", "retries") if k in check}
        if "startPeriod" in check:
            table["health_check"]["start_period"] = check["startPeriod"]
    # ecs-cd's default is a read-only root filesystem; the live container keeps what it has.
    if not app.get("readonlyRootFilesystem", False):
        table["readonly_root_filesystem"] = False
    return table


def _compute(live: Mapping[str, Any]) -> dict[str, Any]:
    strategy = live.get("capacityProviderStrategy") or []
    if strategy:
        return {
            "capacity_provider_strategy": [
                {
                    "capacity_provider": s["capacityProvider"],
                    "weight": s.get("weight", 0),
                    "base": s.get("base", 0),
                }
                for s in strategy
            ]
        }
    return {"launch_type": live.get("launchType", "FARGATE")}


def _deployment(live: Mapping[str, Any]) -> dict[str, Any]:
    config = live.get("deploymentConfiguration", {})
    breaker = config.get("deploymentCircuitBreaker", {})
    found: dict[str, Any] = {
        "minimum_healthy_percent": config.get("minimumHealthyPercent", 100),
        "maximum_percent": config.get("maximumPercent", 200),
        "circuit_breaker": bool(breaker.get("enable", False)),
        "rollback": bool(breaker.get("rollback", False)),
    }
    alarms = config.get("alarms", {})
    if alarms.get("enable") and alarms.get("alarmNames"):
        found["alarm_names"] = list(alarms["alarmNames"])
    return found


def _names(
    adopted: Adopted,
    derived: ServiceNames,
    live: Mapping[str, Any],
    task: Mapping[str, Any],
    app: Mapping[str, Any],
) -> None:
    """The names the live resources have where they differ from the derived ones."""
    given = {"service": live["serviceName"], "task_family": task["family"]}
    group = app.get("logConfiguration", {}).get("options", {}).get("awslogs-group")
    if app.get("logConfiguration", {}).get("logDriver") == "awslogs" and group:
        given["log_group"] = group
    for name, value in given.items():
        if getattr(derived, name) != value:
            adopted.names[name] = value


def _role_name(arn: str | None) -> tuple[str | None, str]:
    """A role ARN's name and path ("/" at the root)."""
    if not arn:
        return None, "/"
    resource = arn.split(":", 5)[-1]  # role/path/name
    parts = resource.split("/")
    return parts[-1], "/" + "/".join(parts[1:-1]) + ("/" if len(parts) > 2 else "")


def _roles(adopted: Adopted, task: Mapping[str, Any], derived: ServiceNames) -> None:
    for field_name, key in (("execution_role", "executionRoleArn"), ("task_role", "taskRoleArn")):
        name, path = _role_name(task.get(key))
        if name is None:
            continue
        if path != "/":
            adopted.notes.append(
                f"{adopted.key}: the {field_name.replace('_', ' ')} {name} has the path {path}; ecs-cd's "
                "roles have none (a path forces a new role): a new role is created and the live one left"
            )
            continue
        if getattr(derived, field_name) != name:
            adopted.names[field_name] = name
        adopted.ids[field_name] = name


def _log_group(adopted: Adopted, aws: Aws, app: Mapping[str, Any]) -> None:
    options = app.get("logConfiguration", {}).get("options", {})
    group = options.get("awslogs-group")
    if app.get("logConfiguration", {}).get("logDriver") != "awslogs" or not group:
        return
    found = aws.call("logs", "describe_log_groups", logGroupNamePrefix=group).get("logGroups", [])
    if any(g["logGroupName"] == group for g in found):
        adopted.ids["log_group"] = group


def _sidecars(adopted: Adopted, task: Mapping[str, Any], app: Mapping[str, Any]) -> None:
    for container in task["containerDefinitions"]:
        if container["name"] == app["name"]:
            continue
        sidecar: dict[str, Any] = {"image": container["image"], "essential": container.get("essential", True)}
        if container.get("environment"):
            sidecar["environment"] = {e["name"]: e["value"] for e in container["environment"]}
        if container.get("command"):
            sidecar["command"] = list(container["command"])
        if not container.get("readonlyRootFilesystem", False):
            sidecar["readonly_root_filesystem"] = False
        adopted.sidecars[container["name"]] = sidecar


def _network(
    adopted: Adopted, aws: Aws, env: EnvironmentSettings, live: Mapping[str, Any], derived: ServiceNames
) -> None:
    """The service's own security group (the one the environment does not list) and its rules that
    say what ecs-cd's say."""
    awsvpc = live.get("networkConfiguration", {}).get("awsvpcConfiguration")
    if not awsvpc:
        return
    own = [g for g in awsvpc.get("securityGroups", []) if g not in env.network.security_group_ids]
    if env.network.subnet_ids and sorted(awsvpc.get("subnets", [])) != sorted(env.network.subnet_ids):
        adopted.notes.append(
            f"{adopted.key}: runs in subnets {', '.join(awsvpc.get('subnets', []))}; the environment's "
            "are others: the first deploy moves its tasks there (a rolling update)"
        )
    if len(own) != 1:
        adopted.notes.append(
            f"{adopted.key}: {len(own)} security groups of its own ({', '.join(own) or 'none'}): ecs-cd "
            "creates one for its tasks; list shared groups in the environment's network.security_group_ids"
        )
        return
    (group_id,) = own
    (group,) = aws.call("ec2", "describe_security_groups", GroupIds=[group_id])["SecurityGroups"]
    adopted.ids["security_group"] = group_id
    if group["GroupName"] != derived.security_group:
        adopted.names["security_group"] = group["GroupName"]
    rules = aws.call(
        "ec2", "describe_security_group_rules", Filters=[{"Name": "group-id", "Values": [group_id]}]
    ).get("SecurityGroupRules", [])
    for rule in rules:
        if (
            rule.get("IsEgress")
            and rule.get("IpProtocol") == "tcp"
            and (rule.get("FromPort"), rule.get("ToPort")) == (443, 443)
            and rule.get("CidrIpv4") == "0.0.0.0/0"
        ):
            adopted.ids["egress_https"] = rule["SecurityGroupRuleId"]
    port = adopted.table.get("container_port")
    lb = env.load_balancer
    for rule in rules:
        source = rule.get("ReferencedGroupInfo", {}).get("GroupId")
        if (
            not rule.get("IsEgress")
            and lb is not None
            and source == lb.security_group_id
            and rule.get("IpProtocol") == "tcp"
            and (rule.get("FromPort"), rule.get("ToPort")) == (port, port)
        ):
            adopted.ids["ingress_from_lb"] = rule["SecurityGroupRuleId"]


def _load_balancer(
    adopted: Adopted, aws: Aws, env: EnvironmentSettings, live: Mapping[str, Any], derived: ServiceNames
) -> None:
    balancers = live.get("loadBalancers", [])
    if not balancers:
        return
    if len(balancers) > 1:
        raise BadInput(
            f"adopt: {live['serviceName']} has {len(balancers)} target groups; ecs-cd gives a service one"
        )
    lb = env.load_balancer
    if lb is None or lb.listener_arn is None:
        raise BadInput(
            f"adopt: {live['serviceName']} is behind a load balancer: give {env.name}'s load_balancer as "
            "listener_arn and security_group_id (the live listener and its group) in the configuration"
        )
    arn = balancers[0]["targetGroupArn"]
    (group,) = aws.call("elbv2", "describe_target_groups", TargetGroupArns=[arn])["TargetGroups"]
    rules = aws.call("elbv2", "describe_rules", ListenerArn=lb.listener_arn)["Rules"]
    forwarding = [r for r in rules if not r.get("IsDefault") and _forwards_to(r, arn)]
    if len(forwarding) != 1:
        raise BadInput(
            f"adopt: {len(forwarding)} rules of the listener {lb.listener_arn} forward to "
            f"{group['TargetGroupName']}; ecs-cd gives a service one rule on the environment's listener"
        )
    (rule,) = forwarding
    settings: dict[str, Any] = {"priority": int(rule["Priority"])}
    for condition in rule.get("Conditions", []):
        if condition.get("Field") == "path-pattern":
            settings["path_patterns"] = list(
                condition.get("PathPatternConfig", {}).get("Values") or condition["Values"]
            )
        elif condition.get("Field") == "host-header":
            settings["host_headers"] = list(
                condition.get("HostHeaderConfig", {}).get("Values") or condition["Values"]
            )
    settings["health_check_path"] = group.get("HealthCheckPath", "/")
    if live.get("healthCheckGracePeriodSeconds") is not None:
        settings["health_check_grace_period_seconds"] = live["healthCheckGracePeriodSeconds"]
    adopted.table["load_balancer"] = settings
    adopted.ids["target_group"] = arn
    adopted.ids["listener_rule"] = rule["RuleArn"]
    if group["TargetGroupName"] != derived.target_group:
        adopted.names["target_group"] = group["TargetGroupName"]


def _forwards_to(rule: Mapping[str, Any], target_group: str) -> bool:
    for action in rule.get("Actions", []):
        if action.get("TargetGroupArn") == target_group:
            return True
        groups = action.get("ForwardConfig", {}).get("TargetGroups", [])
        if any(g.get("TargetGroupArn") == target_group for g in groups):
            return True
    return False


def _autoscaling(adopted: Adopted, aws: Aws, cluster: str, service: str) -> None:
    resource = f"service/{cluster}/{service}"
    targets = aws.call(
        "application-autoscaling", "describe_scalable_targets", ServiceNamespace="ecs", ResourceIds=[resource]
    ).get("ScalableTargets", [])
    if not targets:
        return
    target = targets[0]
    settings: dict[str, Any] = {"min_capacity": target["MinCapacity"], "max_capacity": target["MaxCapacity"]}
    policies = aws.call(
        "application-autoscaling", "describe_scaling_policies", ServiceNamespace="ecs", ResourceId=resource
    ).get("ScalingPolicies", [])
    for policy in policies:
        config = policy.get("TargetTrackingScalingPolicyConfiguration", {})
        metric = config.get("PredefinedMetricSpecification", {}).get("PredefinedMetricType")
        if metric in _METRICS:
            settings[_METRICS[metric]] = round(config["TargetValue"])
        adopted.notes.append(
            f"{adopted.key}: its scaling policy {policy['PolicyName']} is left as it is; ecs-cd adds its "
            "own: delete the old one after the first deploy, or both will scale the service"
        )
    if not any(k in settings for k in _METRICS.values()):
        adopted.notes.append(
            f"{adopted.key}: its scalable target has no CPU or memory target tracking: not adopted"
        )
        return
    adopted.table["autoscaling"] = settings
    adopted.ids["scalable_target"] = f"ecs/{resource}/ecs:service:DesiredCount"


# Another Terraform configuration's state as the source of the services and their ids.

# The resource types of a state whose ids adoption imports, and the attribute that is the id.
_STATE_IDS = {
    "aws_ecs_cluster": ("name", "cluster"),
    "aws_cloudwatch_log_group": ("name", "log_group"),
    "aws_iam_role": ("name", "role"),
    "aws_security_group": ("id", "security_group"),
    "aws_lb_target_group": ("arn", "target_group"),
    "aws_lb_listener_rule": ("arn", "listener_rule"),
}


@dataclass(frozen=True)
class StateRecord:
    """What another configuration's Terraform state manages: its services (cluster, service) and
    the ids of the resources adoption imports, by kind."""

    services: tuple[tuple[str, str], ...]
    ids: Mapping[str, frozenset[str]]
    addresses: Mapping[str, str]  # id -> the address that manages it there


def read_state(text: str, source: str) -> StateRecord:
    """A Terraform state (format version 4) as a ``StateRecord`` (BadInput when it is not one)."""
    import json

    try:
        document = json.loads(text)
        resources = document["resources"]
        if document.get("version") != 4 or not isinstance(resources, list):
            raise ValueError("not a Terraform state of format version 4")
    except (ValueError, KeyError, TypeError) as exc:
        raise BadInput(f"adopt: {source} is not a Terraform state ({exc})") from None
    services: list[tuple[str, str]] = []
    ids: dict[str, set[str]] = {}
    addresses: dict[str, str] = {}
    for instance in state_instances(document):
        attributes = instance.attributes
        if instance.kind == "aws_ecs_service":
            cluster = str(attributes.get("cluster", "")).rsplit("/", 1)[-1]
            services.append((cluster, str(attributes.get("name"))))
        elif instance.kind in _STATE_IDS:
            attribute, what = _STATE_IDS[instance.kind]
            value = str(attributes.get(attribute, ""))
            ids.setdefault(what, set()).add(value)
            addresses[value] = instance.resource  # what a removed block there names
    if not services:
        raise BadInput(f"adopt: {source} manages no aws_ecs_service: nothing to adopt from it")
    return StateRecord(tuple(services), {k: frozenset(v) for k, v in ids.items()}, addresses)


def compare_with_state(adopted: Adopted, state: StateRecord, source: str) -> None:
    """Note, for each id adopted, whether the other state manages it too (then it must forget it:
    a ``removed`` block there) or not (made elsewhere, imported all the same)."""
    kinds = {
        "log_group": "log_group",
        "execution_role": "role",
        "task_role": "role",
        "security_group": "security_group",
        "target_group": "target_group",
        "listener_rule": "listener_rule",
    }
    shared = []
    for field_name, kind in kinds.items():
        value = adopted.ids.get(field_name)
        if value is None:
            continue
        if value in state.ids.get(kind, frozenset()):
            shared.append(state.addresses[value])
        else:
            adopted.notes.append(
                f"{adopted.key}: {field_name} {value} is not in {source}: imported all the same"
            )
    if shared:
        adopted.notes.append(
            f"{adopted.key}: {source} manages {', '.join(sorted(shared))} too: make that configuration "
            "forget them (removed blocks with destroy = false, or terraform state rm) before its next apply"
        )


# TOML: the adopted tables as text to append to the configuration file.

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def _key(name: str) -> str:
    return name if _BARE_KEY.fullmatch(name) else _value(name)


def _value(value: Any) -> str:
    import json

    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, Sequence):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    raise TypeError(type(value))


def _table(header: str, body: Mapping[str, Any]) -> list[str]:
    return [f"[{header}]", *(f"{_key(k)} = {_value(v)}" for k, v in body.items()), ""]


def toml_text(
    adopted: Sequence[Adopted], env: str, others: Sequence[str], cluster: Mapping[str, str] | None
) -> str:
    """The tables to append: each service's base table and containers, ``enabled = false`` in the
    other environments (a service adopted in one is not created in the rest), and ``env``'s
    names and ids."""
    lines = [f"# Adopted into {env} by `ecs-release adopt` (the ids are Terraform imports)"]
    lines += [f"# note: {note}" for one in adopted for note in one.notes]
    lines.append("")
    if cluster:
        lines += _table(f"environments.{env}.cluster", cluster)
    for one in adopted:
        lines += _table(f"services.{one.key}", one.table)
        for name, sidecar in one.sidecars.items():
            lines += _table(f"services.{one.key}.containers.{_key(name)}", sidecar)
        for other in others:
            lines += _table(f"environments.{other}.services.{one.key}", {"enabled": False})
        if one.names:
            lines += _table(f"environments.{env}.services.{one.key}.names", one.names)
        lines += _table(f"environments.{env}.services.{one.key}.adopt", one.ids)
    return "\n".join(lines)
