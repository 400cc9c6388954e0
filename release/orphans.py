"""Resources AWS has and a stack's Terraform state lacks, found from what the synthesized stack
would create (issue 26), each with an import command that works as printed.

A killed apply leaves such resources behind: AWS created them, the state never heard of them,
and the next apply fails on the first one that collides ("already exists", or
``InvalidPermission.Duplicate`` for a security group rule). Naming only the resources whose
create errors said so does not converge: the next apply meets the next one. So every resource
of ``cdktf.out/stacks/<stack>/cdk.tf.json`` that is not in the stack's state is looked up in
AWS by what identifies it there, as written in the JSON:

- names are literal (log group, role, cluster, target group, load balancer…);
- references are resolved through the state, else through the same lookup of the resource
  they name (a rule's security group is found by the group's name and VPC, then the rule by
  group id, direction, protocol, ports and cidr, prefix list or referenced group);
- what the import needs that the name is not (``sg-…``, ``sgr-…``, an ARN) is read from AWS.

Only what is known is claimed: a resource whose identity cannot be resolved, or whose type has
no lookup here, is reported as not checked, never as absent. Types whose create cannot collide
(a task definition registers a new revision; a null_resource is not in AWS) are not looked up.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from release.aws import Aws, error_code
from release.deploy_run import AlreadyExists, RunResult
from release.errors import DeployFailed, ReleaseError

STATE_PULL_SECONDS = 120.0
_REFERENCE = re.compile(r"^\$\{((?:data\.)?[a-z0-9_]+\.[A-Za-z0-9_-]+)\.([a-z_]+)\}$")

# Created again without colliding with what a killed apply left, or not in AWS at all.
NEVER_COLLIDES = frozenset(
    {
        "null_resource",
        "aws_ecs_task_definition",  # each apply registers a new revision
        "aws_ecs_cluster_capacity_providers",  # a setting of the cluster, put again as a whole
        "aws_wafv2_web_acl_association",  # associating again replaces the association
    }
)

LABELS = {
    "aws_cloudwatch_log_group": "CloudWatch Logs Log Group",
    "aws_ecs_cluster": "ECS Cluster",
    "aws_ecs_service": "ECS Service",
    "aws_ecs_capacity_provider": "ECS Capacity Provider",
    "aws_iam_role": "IAM Role",
    "aws_iam_role_policy": "IAM Role Policy",
    "aws_iam_instance_profile": "IAM Instance Profile",
    "aws_security_group": "Security Group",
    "aws_vpc_security_group_egress_rule": "VPC Security Group Egress Rule",
    "aws_vpc_security_group_ingress_rule": "VPC Security Group Ingress Rule",
    "aws_lb": "ELBv2 Load Balancer",
    "aws_lb_target_group": "ELBv2 Target Group",
    "aws_lb_listener": "ELBv2 Listener",
    "aws_lb_listener_rule": "ELBv2 Listener Rule",
    "aws_appautoscaling_target": "Application Auto Scaling Target",
    "aws_appautoscaling_policy": "Application Auto Scaling Policy",
    "aws_autoscaling_group": "Auto Scaling Group",
    "aws_launch_template": "EC2 Launch Template",
}


class Unresolved(Exception):
    """What identifies the resource in AWS cannot be worked out (an expression, a lookup
    that cannot be done): whether AWS has it is not known."""


class Absent(Exception):
    """A resource this one refers to is neither in the state nor in AWS: neither is this one."""


class ScanFailed(Exception):
    """The stack's JSON or state could not be read."""


@dataclass(frozen=True)
class Found:
    """A resource in AWS: its import ID, a name for people and the attributes references read."""

    import_id: str
    name: str
    attributes: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Orphan:
    stack: str
    address: str
    name: str
    import_id: str
    # A security group's: AWS's allow-all egress rules (sgr ids) the stack does not declare, and
    # the command that revokes them (the provider revokes them only right after it creates the group).
    default_egress: tuple[str, ...] = ()
    revoke: str = ""

    @property
    def what(self) -> str:
        return LABELS.get(self.address.partition(".")[0], self.address.partition(".")[0])

    def import_command(self, stacks_dir: Path) -> str:
        where = shlex.quote(str(stacks_dir / self.stack))
        return f"terraform -chdir={where} import {shlex.quote(self.address)} {shlex.quote(self.import_id)}"

    def as_dict(self, stacks_dir: Path) -> dict[str, Any]:
        revoke = {"default_egress": list(self.default_egress), "revoke": self.revoke} if self.revoke else {}
        return {
            "stack": self.stack,
            "address": self.address,
            "what": self.what,
            "name": self.name,
            "id": self.import_id,
            "import": self.import_command(stacks_dir),
            **revoke,
        }


@dataclass
class Scan:
    """What one stack's scan found: orphans, and what it could not check (address: why)."""

    orphans: list[Orphan] = field(default_factory=list)
    unchecked: dict[str, str] = field(default_factory=dict)


# --- the stack: its JSON, its state, and references between them ------------------------------


class Stack:
    """A synthesized stack's resources, what its state holds and AWS, to resolve references."""

    def __init__(self, document: Mapping[str, Any], state: Mapping[str, Mapping[str, Any]], aws: Aws) -> None:
        self.resources = {
            f"{kind}.{name}": dict(config)
            for kind, blocks in document.get("resource", {}).items()
            for name, config in blocks.items()
        }
        self.data = {
            f"data.{kind}.{name}": dict(config)
            for kind, blocks in document.get("data", {}).items()
            for name, config in blocks.items()
        }
        self.state = state
        self.aws = aws
        self._found: dict[str, Found | None] = {}

    def value(self, raw: Any) -> Any:
        """A literal as written, or a whole-string reference resolved; Unresolved otherwise."""
        if not isinstance(raw, str) or "${" not in raw:
            return raw
        reference = _REFERENCE.match(raw)
        if reference is None:
            raise Unresolved(f"the expression {raw}")
        return self.attribute(reference[1], reference[2])

    def need(self, config: Mapping[str, Any], key: str) -> Any:
        if config.get(key) is None:
            raise Unresolved(f"no {key}")
        return self.value(config[key])

    def attribute(self, address: str, attribute: str) -> Any:
        """An attribute of a resource or data source: as configured, else as the state holds it,
        else as AWS has it."""
        config = self.data.get(address) if address.startswith("data.") else self.resources.get(address)
        if config is None:
            raise Unresolved(f"{address} is not in the stack")
        if attribute in config and attribute != "id":
            return self.value(config[attribute])
        held = self.state.get(address)
        if held is not None and held.get(attribute) is not None:
            return held[attribute]
        found = self.lookup(address)
        if found is None:
            raise Absent(address)
        if attribute not in found.attributes:
            raise Unresolved(f"{address}.{attribute}")
        return found.attributes[attribute]

    def lookup(self, address: str) -> Found | None:
        """The resource (or data source) in AWS, looked up once; None when AWS does not have it."""
        if address not in self._found:
            kind = address.removeprefix("data.").partition(".")[0]
            table = _DATA_LOOKUPS if address.startswith("data.") else _LOOKUPS
            find = table.get(kind)
            if find is None:
                raise Unresolved(f"no lookup for {kind}")
            config = self.data[address] if address.startswith("data.") else self.resources[address]
            self._found[address] = find(self, config)
        return self._found[address]


def scan(
    stack_name: str, document: Mapping[str, Any], state: Mapping[str, Mapping[str, Any]], aws: Aws
) -> Scan:
    """Every resource of the stack's JSON absent from its state that AWS has (AwsFailure when AWS
    cannot be asked)."""
    stack = Stack(document, state, aws)
    found = Scan()
    for address in stack.resources:
        kind = address.partition(".")[0]
        if address in state or kind in NEVER_COLLIDES:
            continue
        try:
            hit = stack.lookup(address)
        except Absent:
            continue
        except Unresolved as exc:
            found.unchecked[address] = str(exc)
            continue
        if hit is not None:
            found.orphans.append(_orphan(stack, stack_name, address, hit))
    return found


def _orphan(stack: Stack, stack_name: str, address: str, hit: Found) -> Orphan:
    """The orphan; for a security group, with AWS's default egress rules left in it to revoke."""
    if address.partition(".")[0] != "aws_security_group":
        return Orphan(stack_name, address, hit.name, hit.import_id)
    stray = stray_default_egress(stack, address, hit.import_id)
    revoke = revoke_command(stack.aws, hit.import_id, stray) if stray else ""
    return Orphan(stack_name, address, hit.name, hit.import_id, stray, revoke)


def read_stack(
    stack_dir: Path, terraform: str, env: Mapping[str, str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the synthesized JSON, {address: attributes} of the managed resources and data sources in
    the state) of one stack; ScanFailed when either cannot be read."""
    try:
        document = json.loads((stack_dir / "cdk.tf.json").read_text())
    except (OSError, ValueError) as exc:
        raise ScanFailed(f"cannot read {stack_dir / 'cdk.tf.json'}: {exc}") from None
    try:
        pulled = subprocess.run(
            [terraform, "state", "pull"],
            cwd=stack_dir,
            env=dict(env),
            capture_output=True,
            text=True,
            timeout=STATE_PULL_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ScanFailed(f"terraform state pull in {stack_dir}: {exc}") from None
    if pulled.returncode != 0:
        last = (pulled.stderr.strip().splitlines() or ["no output"])[-1]
        raise ScanFailed(f"terraform state pull in {stack_dir} exited with {pulled.returncode}: {last}")
    return document, state_attributes(pulled.stdout)


def state_attributes(text: str) -> dict[str, Any]:
    """{address: attributes} of a raw state (`terraform state pull`); {} for no state yet."""
    if not text.strip():
        return {}
    try:
        raw = json.loads(text)
    except ValueError as exc:
        raise ScanFailed(f"terraform state pull printed no JSON state: {exc}") from None
    held: dict[str, Any] = {}
    for resource in raw.get("resources", []):
        if resource.get("module"):
            continue
        prefix = "data." if resource.get("mode") == "data" else ""
        instances = resource.get("instances") or [{}]
        held[f"{prefix}{resource['type']}.{resource['name']}"] = instances[0].get("attributes") or {}
    return held


# --- lookups: the resource in AWS by what identifies it -----------------------------------------

Lookup = Callable[[Stack, Mapping[str, Any]], "Found | None"]


def _missing(exc: ClientError, *codes: str) -> bool:
    return error_code(exc) in codes


def _log_group(stack: Stack, config: Mapping[str, Any]) -> Found | None:
    name = stack.need(config, "name")
    groups = stack.aws.call("logs", "describe_log_groups", logGroupNamePrefix=name)["logGroups"]
    for group in groups:
        if group["logGroupName"] == name:
            return Found(name, name, {"id": name, "arn": group.get("arn", "").removesuffix(":*")})
    return None


def _iam_role(stack: Stack, config: Mapping[str, Any]) -> Found | None:
    name = stack.need(config, "name")
    try:
        role = stack.aws.call("iam", "get_role", RoleName=name)["Role"]
    except ClientError as exc:
        if _missing(exc, "NoSuchEntity"):
            return None
        raise
    return Found(name, name, {"id": name, "arn": role["Arn"], "name": name, "unique_id": role.get("RoleId")})


def _iam_role_policy(stack: Stack, config: Mapping[str, Any]) -> Found | None:
    role, name = stack.need(config, "role"), stack.need(config, "name")
    try:
        stack.aws.call("iam", "get_role_policy", RoleName=role, PolicyName=name)
    except ClientError as exc:
        if _missing(exc, "NoSuchEntity"):
            return None
        raise
    return Found(f"{role}:{name}", f"{name} of role {role}", {"id": f"{role}:{name}"})


def _instance_profile(stack: Stack, config: Mapping[str, Any]) -> Found | None:
    name = stack.need(config, "name")
    try:
        profile = stack.aws.call("iam", "get_instance_profile", InstanceProfileName=name)["InstanceProfile"]
    except ClientError as exc:
        if _missing(exc, "NoSuchEntity"):
            return None
        raise
    return Found(name, name, {"id": name, "arn": profile["Arn"], "name": name})


def _ecs_cluster(stack: Stack, config: Mapping[str, Any]) -> Found | None:
    name = stack.need(config, "name")
    clusters = stack.aws.call("ecs", "describe_clusters", clusters=[name])["clusters"]
    for cluster in clusters:
        if cluster.get("status") == "ACTIVE":
            arn = cluster["clusterArn"]
            return Found(name, name, {"id": arn, "arn": arn, "name": name})
    return None


def _cluster_name(cluster: str) -> str:
    return cluster.rpartition(":cluster/")[2] if ":cluster/" in cluster else cluster


def _ecs_service(stack: Stack, config: Mapping[str, Any]) -> Found | None:
    name, cluster = stack.need(config, "name"), _cluster_name(str(stack.need(config, "cluster")))
    try:
        services = stack.aws.call("ecs", "describe_services", cluster=cluster, services=[name])["services"]
    except ClientError as exc:
        if _missing(exc, "ClusterNotFoundException"):
            return None
        raise
    for service in services:
        if service.get("status") == "ACTIVE":
            arn = service["serviceArn"]
            return Found(f"{cluster}/{name}", f"{name} in cluster {cluster}", {"id": arn, "arn": arn})
    return None


def _capacity_provider(stack: Stack, config: Mapping[str, Any]) -> Found | None:
    name = stack.need(config, "name")
    found = stack.aws.call("ecs", "describe_capacity_providers", capacityProviders=[name])
    for provider in found.get("capacityProviders", []):
        if provider.get("name") == name and provider.get("status") == "ACTIVE":
            arn = provider["capacityProviderArn"]
            return Found(name, name, {"id": arn, "arn": arn, "name": name})
    return None


def _autoscaling_group(stack: Stack, config: Mapping[str, Any]) -> Found | None:
    name = stack.need(config, "name")
    groups = stack.aws.call("autoscaling", "describe_auto_scaling_groups", AutoScalingGroupNames=[name])
    for group in groups["AutoScalingGroups"]:
        return Found(name, name, {"id": name, "arn": group.get("AutoScalingGroupARN"), "name": name})
    return None


def _launch_template(stack: Stack, config: Mapping[str, Any]) -> Found | None:
    name = stack.need(config, "name")
    try:
        found = stack.aws.call("ec2", "describe_launch_templates", LaunchTemplateNames=[name])
    except ClientError as exc:
        if _missing(exc, "InvalidLaunchTemplateName.NotFoundException", "InvalidLaunchTemplateId.NotFound"):
            return None
        raise
    for template in found["LaunchTemplates"]:
        return Found(template["LaunchTemplateId"], name, {"id": template["LaunchTemplateId"], "name": name})
    return None


def _security_group(stack: Stack, config: Mapping[str, Any]) -> Found | None:
    name = stack.need(config, "name")
    filters = [{"Name": "group-name", "Values": [name]}]
    if config.get("vpc_id") is not None:
        filters.append({"Name": "vpc-id", "Values": [stack.value(config["vpc_id"])]})
    groups = stack.aws.call("ec2", "describe_security_groups", Filters=filters)["SecurityGroups"]
    if len(groups) > 1:
        raise Unresolved(f"{len(groups)} security groups are named {name}: give vpc_id")
    for group in groups:
        group_id = group["GroupId"]
        return Found(group_id, f"{name} ({group_id})", {"id": group_id, "name": name})
    return None


# A rule's protocol as EC2 answers it ("tcp", "-1") whatever the configuration says ("6", "all").
_PROTOCOLS = {"6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6", "all": "-1"}
_RULE_TARGETS = (
    ("cidr_ipv4", "CidrIpv4"),
    ("cidr_ipv6", "CidrIpv6"),
    ("prefix_list_id", "PrefixListId"),
    ("referenced_security_group_id", "ReferencedGroupId"),
)


def _protocol(value: Any) -> str:
    text = str(value).lower()
    return _PROTOCOLS.get(text, text)


def rule_key(protocol: Any, from_port: Any, to_port: Any, target: tuple[str, str]) -> tuple[str, ...]:
    """What makes a security group rule unique in its group and direction (its description aside)."""
    protocol = _protocol(protocol)
    if protocol == "-1":  # all traffic: no ports
        from_port = to_port = -1
    return (protocol, str(from_port), str(to_port), *target)


def _wanted_rule(stack: Stack, config: Mapping[str, Any]) -> tuple[str, ...]:
    targets = [
        (key, str(stack.value(config[key]))) for key, _ in _RULE_TARGETS if config.get(key) is not None
    ]
    if len(targets) != 1:
        raise Unresolved("the rule names no single cidr, prefix list or security group")
    key = targets[0][0]
    ports = (config.get("from_port", -1), config.get("to_port", -1))
    return rule_key(stack.need(config, "ip_protocol"), ports[0], ports[1], (key, targets[0][1]))


def _rule_of(answer: Mapping[str, Any]) -> tuple[str, ...] | None:
    """The key of a rule as DescribeSecurityGroupRules answers it (None for a kind not made here)."""
    values = {**answer, "ReferencedGroupId": answer.get("ReferencedGroupInfo", {}).get("GroupId")}
    for key, field_name in _RULE_TARGETS:
        if values.get(field_name):
            return rule_key(
                answer["IpProtocol"], answer["FromPort"], answer["ToPort"], (key, values[field_name])
            )
    return None


def group_rules(aws: Aws, group_id: str) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"Filters": [{"Name": "group-id", "Values": [group_id]}]}
    while True:
        page = aws.call("ec2", "describe_security_group_rules", **kwargs)
        rules.extend(page.get("SecurityGroupRules", []))
        if not page.get("NextToken"):
            return rules
        kwargs["NextToken"] = page["NextToken"]


# The egress AWS gives a new group (all traffic to anywhere, IPv6 too in a VPC with IPv6), which
# the provider revokes right after creating the group: a kill between the two leaves it there.
_DEFAULT_EGRESS = frozenset(
    {rule_key("-1", -1, -1, ("cidr_ipv4", "0.0.0.0/0")), rule_key("-1", -1, -1, ("cidr_ipv6", "::/0"))}
)


def _declared_egress(stack: Stack, address: str, group_id: str) -> set[tuple[str, ...]]:
    """The egress rules the stack declares for the group (aws_vpc_security_group_egress_rule
    resources whose group is it); one whose group or rule cannot be worked out declares nothing."""
    declared: set[tuple[str, ...]] = set()
    reference = "${" + address + ".id}"
    for other, config in stack.resources.items():
        if not other.startswith("aws_vpc_security_group_egress_rule."):
            continue
        try:
            if (
                config.get("security_group_id") == reference
                or stack.need(config, "security_group_id") == group_id
            ):
                declared.add(_wanted_rule(stack, config))
        except (Unresolved, Absent):
            continue
    return declared


def stray_default_egress(stack: Stack, address: str, group_id: str) -> tuple[str, ...]:
    """The sgr ids of AWS's default egress rules in the group that the stack does not declare;
    none when the group's own ``egress`` is configured (Terraform then sets all of its egress)."""
    if stack.resources[address].get("egress") is not None:
        return ()
    stray = _DEFAULT_EGRESS - _declared_egress(stack, address, group_id)
    return tuple(
        answer["SecurityGroupRuleId"]
        for answer in group_rules(stack.aws, group_id)
        if answer.get("IsEgress") and _rule_of(answer) in stray
    )


def revoke_command(aws: Aws, group_id: str, rule_ids: Sequence[str]) -> str:
    """The AWS CLI command that revokes the rules, in the region (and profile, endpoint) scanned."""
    words = ["aws", "ec2", "revoke-security-group-egress", "--group-id", group_id]
    words += ["--security-group-rule-ids", *rule_ids, "--region", aws.region]
    if aws.profile:
        words += ["--profile", aws.profile]
    if aws.endpoint:
        words += ["--endpoint-url", aws.endpoint]
    return shlex.join(words)


def _rule(egress: bool) -> Lookup:
    def find(stack: Stack, config: Mapping[str, Any]) -> Found | None:
        group_id = str(stack.need(config, "security_group_id"))
        wanted = _wanted_rule(stack, config)
        for answer in group_rules(stack.aws, group_id):
            if bool(answer.get("IsEgress")) == egress and _rule_of(answer) == wanted:
                rule_id = answer["SecurityGroupRuleId"]
                protocol, from_port, to_port, _, target = wanted
                ports = (
                    ""
                    if protocol == "-1"
                    else f" {from_port}" + (f"-{to_port}" if to_port != from_port else "")
                )
                way = "to" if egress else "from"
                name = f"{rule_id}: {protocol}{ports} {way} {target} in {group_id}"
                return Found(rule_id, name, {"id": rule_id, "security_group_rule_id": rule_id})
        return None

    return find


def _load_balancer(stack: Stack, config: Mapping[str, Any]) -> Found | None:
    name = stack.need(config, "name")
    try:
        found = stack.aws.call("elbv2", "describe_load_balancers", Names=[name])["LoadBalancers"]
    except ClientError as exc:
        if _missing(exc, "LoadBalancerNotFound"):
            return None
        raise
    for balancer in found:
        arn = balancer["LoadBalancerArn"]
        return Found(arn, name, {"id": arn, "arn": arn, "dns_name": balancer.get("DNSName"), "name": name})
    return None


def _target_group(stack: Stack, config: Mapping[str, Any]) -> Found | None:
    name = stack.need(config, "name")
    try:
        found = stack.aws.call("elbv2", "describe_target_groups", Names=[name])["TargetGroups"]
    except ClientError as exc:
        if _missing(exc, "TargetGroupNotFound"):
            return None
        raise
    for group in found:
        arn = group["TargetGroupArn"]
        return Found(arn, name, {"id": arn, "arn": arn, "name": name})
    return None


def _listener(stack: Stack, config: Mapping[str, Any]) -> Found | None:
    balancer, port = str(stack.need(config, "load_balancer_arn")), stack.need(config, "port")
    try:
        found = stack.aws.call("elbv2", "describe_listeners", LoadBalancerArn=balancer)["Listeners"]
    except ClientError as exc:
        if _missing(exc, "LoadBalancerNotFound", "ListenerNotFound"):
            return None
        raise
    for listener in found:
        if str(listener.get("Port")) == str(port):
            arn = listener["ListenerArn"]
            return Found(arn, f"port {port} of {balancer}", {"id": arn, "arn": arn})
    return None


def _forwards_to(stack: Stack, config: Mapping[str, Any]) -> set[str]:
    return {
        str(stack.value(action["target_group_arn"]))
        for action in config.get("action", [])
        if action.get("target_group_arn") is not None
    }


def _listener_rule(stack: Stack, config: Mapping[str, Any]) -> Found | None:
    """The rule at the configured priority, if it forwards where this one would: a rule of
    someone else's at that priority is not this stack's to import."""
    listener, priority = str(stack.need(config, "listener_arn")), stack.need(config, "priority")
    wanted = _forwards_to(stack, config)
    try:
        rules = stack.aws.call("elbv2", "describe_rules", ListenerArn=listener)["Rules"]
    except ClientError as exc:
        if _missing(exc, "ListenerNotFound"):
            return None
        raise
    for rule in rules:
        if str(rule.get("Priority")) != str(priority):
            continue
        forwards = {a["TargetGroupArn"] for a in rule.get("Actions", []) if a.get("TargetGroupArn")}
        for action in rule.get("Actions", []):
            forwards |= {g["TargetGroupArn"] for g in action.get("ForwardConfig", {}).get("TargetGroups", [])}
        if forwards == wanted:
            arn = rule["RuleArn"]
            return Found(arn, f"priority {priority} of {listener}", {"id": arn, "arn": arn})
    return None


def _scalable(stack: Stack, config: Mapping[str, Any]) -> tuple[str, str, str]:
    return (
        str(stack.need(config, "service_namespace")),
        str(stack.need(config, "resource_id")),
        str(stack.need(config, "scalable_dimension")),
    )


def _scaling_target(stack: Stack, config: Mapping[str, Any]) -> Found | None:
    namespace, resource, dimension = _scalable(stack, config)
    found = stack.aws.call(
        "application-autoscaling",
        "describe_scalable_targets",
        ServiceNamespace=namespace,
        ResourceIds=[resource],
        ScalableDimension=dimension,
    )["ScalableTargets"]
    if not found:
        return None
    return Found(f"{namespace}/{resource}/{dimension}", f"{resource} {dimension}", {"id": resource})


def _scaling_policy(stack: Stack, config: Mapping[str, Any]) -> Found | None:
    namespace, resource, dimension = _scalable(stack, config)
    name = str(stack.need(config, "name"))
    found = stack.aws.call(
        "application-autoscaling",
        "describe_scaling_policies",
        ServiceNamespace=namespace,
        ResourceId=resource,
        ScalableDimension=dimension,
        PolicyNames=[name],
    )["ScalingPolicies"]
    for policy in found:
        arn = policy["PolicyARN"]
        return Found(
            f"{namespace}/{resource}/{dimension}/{name}", f"{name} of {resource}", {"id": name, "arn": arn}
        )
    return None


_LOOKUPS: dict[str, Lookup] = {
    "aws_cloudwatch_log_group": _log_group,
    "aws_iam_role": _iam_role,
    "aws_iam_role_policy": _iam_role_policy,
    "aws_iam_instance_profile": _instance_profile,
    "aws_ecs_cluster": _ecs_cluster,
    "aws_ecs_service": _ecs_service,
    "aws_ecs_capacity_provider": _capacity_provider,
    "aws_autoscaling_group": _autoscaling_group,
    "aws_launch_template": _launch_template,
    "aws_security_group": _security_group,
    "aws_vpc_security_group_egress_rule": _rule(egress=True),
    "aws_vpc_security_group_ingress_rule": _rule(egress=False),
    "aws_lb": _load_balancer,
    "aws_lb_target_group": _target_group,
    "aws_lb_listener": _listener,
    "aws_lb_listener_rule": _listener_rule,
    "aws_appautoscaling_target": _scaling_target,
    "aws_appautoscaling_policy": _scaling_policy,
}


# --- data sources the identifying attributes refer to -------------------------------------------


def _data_vpc(stack: Stack, config: Mapping[str, Any]) -> Found | None:
    if config.get("id") is not None:
        kwargs: dict[str, Any] = {"VpcIds": [stack.value(config["id"])]}
    elif config.get("default") is True:
        kwargs = {"Filters": [{"Name": "isDefault", "Values": ["true"]}]}
    else:
        raise Unresolved("a VPC looked up by neither id nor default")
    try:
        vpcs = stack.aws.call("ec2", "describe_vpcs", **kwargs)["Vpcs"]
    except ClientError as exc:
        if _missing(exc, "InvalidVpcID.NotFound"):
            return None
        raise
    for vpc in vpcs:
        return Found(vpc["VpcId"], vpc["VpcId"], {"id": vpc["VpcId"], "cidr_block": vpc.get("CidrBlock")})
    return None


def _data_cluster(stack: Stack, config: Mapping[str, Any]) -> Found | None:
    name = stack.need(config, "cluster_name")
    for cluster in stack.aws.call("ecs", "describe_clusters", clusters=[name])["clusters"]:
        if cluster.get("status") == "ACTIVE":
            arn = cluster["clusterArn"]
            return Found(arn, name, {"id": arn, "arn": arn, "cluster_name": name})
    return None


def _data_caller(stack: Stack, config: Mapping[str, Any]) -> Found | None:
    identity = stack.aws.call("sts", "get_caller_identity")
    account = str(identity["Account"])
    return Found(account, account, {"id": account, "account_id": account, "arn": identity.get("Arn")})


_DATA_LOOKUPS: dict[str, Lookup] = {
    "aws_vpc": _data_vpc,
    "aws_ecs_cluster": _data_cluster,
    "aws_caller_identity": _data_caller,
}


# --- after a failed deploy: the complete list, in the failure's message -----------------------

_SCAN_ERRORS = (ScanFailed, ReleaseError, ClientError, BotoCoreError, KeyError, TypeError, ValueError)


def scan_stacks(
    stacks: Sequence[str], stacks_dir: Path, aws: Callable[[], Aws], terraform: str, env: Mapping[str, str]
) -> Scan:
    """Every stack's orphans and unchecked resources, in one Scan (raises _SCAN_ERRORS)."""
    whole = Scan()
    for stack in stacks:
        document, state = read_stack(stacks_dir / stack, terraform, env)
        found = scan(stack, document, state, aws())
        whole.orphans += found.orphans
        whole.unchecked.update({f"{stack}: {a}": why for a, why in found.unchecked.items()})
    return whole


def _merged(collided: Sequence[AlreadyExists], found: Sequence[Orphan]) -> list[Orphan]:
    """The scan's orphans, and any resource whose create said "already exists" that the scan
    did not find (a type it cannot look up): the provider's error is evidence too."""
    merged = list(found)
    known = {(o.stack, o.address) for o in found}
    for e in collided:
        if (e.stack, e.address) not in known:
            merged.append(Orphan(e.stack, e.address, e.name, e.import_id()))
            known.add((e.stack, e.address))
    return merged


def _listing(orphans: Sequence[Orphan], stacks_dir: Path) -> tuple[str, str]:
    found = "; ".join(f"{o.what} {o.name} ({o.address})" for o in orphans)
    return found, "; ".join(o.import_command(stacks_dir) for o in orphans) + _revoking(orphans)


def _revoking(orphans: Sequence[Orphan]) -> str:
    """What follows the import commands when an orphaned group kept AWS's default egress."""
    return "".join(
        f". {o.what} {o.name} still has the allow-all egress AWS gives a new group "
        f"({', '.join(o.default_egress)}), which the stack does not declare and Terraform removes only "
        f"when it creates the group: revoke {'it' if len(o.default_egress) == 1 else 'them'} too: {o.revoke}"
        for o in orphans
        if o.revoke
    )


def named_completely(
    failed: ReleaseError,
    result: RunResult,
    *,
    head: str,
    aws: Callable[[], Aws],
    terraform: str,
    env: Mapping[str, str],
) -> ReleaseError:
    """``failed`` with every resource AWS has and the state lacks named, with its import command,
    when the apply met "already exists" or was killed mid-way; ``failed`` as it is otherwise.
    ``head`` is what ran, as the failure names it ("deploy ENV")."""
    collided = [e for e in result.output.already_exists if e.address]
    unfinished = bool(failed.details.get("unfinished"))
    if not isinstance(failed, DeployFailed) or not (collided or result.output.collided or unfinished):
        return failed
    try:
        whole = scan_stacks(result.stacks_with(frozenset({"apply"})), result.stacks_dir, aws, terraform, env)
    except _SCAN_ERRORS as exc:
        why = str(exc) or type(exc).__name__
        failed.details["orphan_scan"] = f"not done: {why}"
        if collided:  # the message names what the errors named: say that it may not be all
            return DeployFailed(
                f"{failed} (more may be missing from the state: looking them up failed: {why})",
                details=failed.details,
            )
        return failed
    orphans = _merged(collided, whole.orphans)
    details = {**failed.details, "already_exists": [o.as_dict(result.stacks_dir) for o in orphans]}
    if whole.unchecked:
        details["not_checked"] = whole.unchecked
    unchecked = (
        f" ({len(whole.unchecked)} resources could not be checked: see not_checked)"
        if whole.unchecked
        else ""
    )
    if orphans and (collided or result.output.collided) and not unfinished:
        return DeployFailed(_collided_message(head, result, orphans) + unchecked, details=details)
    if not orphans and not unfinished:  # what collided is not this stack's to import
        return DeployFailed(f"{failed}{unchecked}", details=details)
    if not orphans:
        checked = " of what could be checked" if whole.unchecked else ""
        return DeployFailed(
            f"{failed}; AWS has nothing of the stack that the state lacks{checked}{unchecked}",
            details=details,
        )
    found, commands = _listing(orphans, result.stacks_dir)
    return DeployFailed(
        f"{failed}; in AWS but not in the Terraform state: {found}; import them before deploying again"
        f"{unchecked}: {commands}",
        details=details,
    )


def _collided_message(head: str, result: RunResult, orphans: Sequence[Orphan]) -> str:
    applied = result.stacks_with(frozenset({"apply", "destroy", "import"}))
    ran = f" (apply started for {', '.join(applied)})" if applied else ""
    found, commands = _listing(orphans, result.stacks_dir)
    it, they = ("it", "it is") if len(orphans) == 1 else ("them", "they are")
    return (
        f"{head}: already in AWS but not in the Terraform state: {found}. An earlier apply that was killed, "
        f"or another stack, created {it}; Terraform may have applied part of the plan before failing{ran}. "
        f"If {they} this stack's, import {it} into the state, then deploy again: {commands}"
    )
