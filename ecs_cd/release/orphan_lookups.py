"""How each resource type the stacks create is found in AWS by what identifies it there, for the
orphan scan (ecs_cd/release/orphans.py): a name as written, or a reference resolved through the stack
(ecs_cd/release/orphan_stack.py); security group rules by group, direction, protocol, ports and target."""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from typing import Any

from botocore.exceptions import ClientError

from ecs_cd.release.aws import EMULATOR_KEY, Aws, error_code
from ecs_cd.release.orphan_stack import Absent, Found, Lookup, Stack, Unresolved


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
    """The AWS CLI command that revokes the rules, in the region (and profile, endpoint) scanned,
    runnable as printed: on the emulator with the emulator's keys, as ecs-release itself uses."""
    words = ["aws", "ec2", "revoke-security-group-egress", "--group-id", group_id]
    words += ["--security-group-rule-ids", *rule_ids, "--region", aws.region]
    if aws.endpoint:
        # The emulator takes its own keys, as ecs-release's clients do; a profile would beat them.
        keys = [f"AWS_ACCESS_KEY_ID={EMULATOR_KEY}", f"AWS_SECRET_ACCESS_KEY={EMULATOR_KEY}"]
        words = ["env", *keys, *words, "--endpoint-url", aws.endpoint]
    elif aws.profile:
        words += ["--profile", aws.profile]
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


def _sqs_queue(stack: Stack, config: Mapping[str, Any]) -> Found | None:
    name = stack.need(config, "name")
    try:
        url = stack.aws.call("sqs", "get_queue_url", QueueName=name)["QueueUrl"]
    except ClientError as exc:
        if _missing(exc, "AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"):
            return None
        raise
    attributes = stack.aws.call("sqs", "get_queue_attributes", QueueUrl=url, AttributeNames=["QueueArn"])
    arn = attributes["Attributes"]["QueueArn"]
    return Found(url, name, {"id": url, "url": url, "arn": arn, "name": name})


def _metric_alarm(stack: Stack, config: Mapping[str, Any]) -> Found | None:
    name = stack.need(config, "alarm_name")
    for alarm in stack.aws.call("cloudwatch", "describe_alarms", AlarmNames=[name])["MetricAlarms"]:
        return Found(name, name, {"id": name, "arn": alarm.get("AlarmArn")})
    return None


def _http_namespace(stack: Stack, config: Mapping[str, Any]) -> Found | None:
    """A Cloud Map HTTP namespace (Service Connect's), by name: its import id is its own id."""
    name = stack.need(config, "name")
    pages = stack.aws.call(
        "servicediscovery",
        "list_namespaces",
        Filters=[{"Name": "TYPE", "Values": ["HTTP"], "Condition": "EQ"}],
    )["Namespaces"]
    for namespace in pages:
        if namespace.get("Name") == name and namespace.get("Type") == "HTTP":
            found_id, arn = namespace["Id"], namespace["Arn"]
            return Found(found_id, f"{name} ({found_id})", {"id": found_id, "arn": arn, "name": name})
    return None


def _scheduler_schedule(stack: Stack, config: Mapping[str, Any]) -> Found | None:
    """A scheduled job's schedule; its import id is ``<group>/<name>``."""
    name = stack.need(config, "name")
    group = str(config.get("group_name") or "default")
    try:
        schedule = stack.aws.call("scheduler", "get_schedule", Name=name, GroupName=group)
    except ClientError as exc:
        if _missing(exc, "ResourceNotFoundException"):
            return None
        raise
    return Found(f"{group}/{name}", f"schedule {name}", {"id": f"{group}/{name}", "arn": schedule.get("Arn")})


_RESOURCE_LOOKUPS: dict[str, Lookup] = {
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
    "aws_sqs_queue": _sqs_queue,
    "aws_cloudwatch_metric_alarm": _metric_alarm,
    "aws_service_discovery_http_namespace": _http_namespace,
    "aws_scheduler_schedule": _scheduler_schedule,
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
    # A split environment's service stacks find the environment's Service Connect parts by name.
    "aws_security_group": _security_group,
    "aws_service_discovery_http_namespace": _http_namespace,
}


# By type: a resource's ("aws_lb") or a data source's ("data.aws_vpc").
LOOKUPS: dict[str, Lookup] = {
    **_RESOURCE_LOOKUPS,
    **{f"data.{kind}": find for kind, find in _DATA_LOOKUPS.items()},
}
