"""A load balancer that already exists in the emulator, as a team's own ALB would: made with
boto3 in an instant, where Terraform's AWS provider spends two fixed 30-second waits creating one.

Tests whose claim is not about creating a load balancer attach their environment to one of
these (``load_balancer = { listener_arn, security_group_id }``); the few about creating one
keep ``create = true``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

NOT_FOUND = {"StatusCode": "404", "ContentType": "text/plain"}


@dataclass(frozen=True)
class ExistingLoadBalancer:
    arn: str
    listener_arn: str
    security_group_id: str

    @property
    def setting(self) -> str:
        """The environment's ``load_balancer`` value (TOML) that attaches to this one."""
        return f'{{ listener_arn = "{self.listener_arn}", security_group_id = "{self.security_group_id}" }}'


def existing_load_balancer(ec2: Any, elbv2: Any, name: str) -> ExistingLoadBalancer:
    """An internal ALB on the default VPC's subnets, its security group and an HTTP listener
    whose default action answers 404 (what the services' rules are added in front of)."""
    vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]
    group = ec2.create_security_group(GroupName=f"{name}-alb", Description=f"{name} ALB", VpcId=vpc)
    group_id = group["GroupId"]
    balancer = elbv2.create_load_balancer(
        Name=name,
        Subnets=[s["SubnetId"] for s in subnets[:2]],
        SecurityGroups=[group_id],
        Scheme="internal",
        Type="application",
    )["LoadBalancers"][0]
    listener = elbv2.create_listener(
        LoadBalancerArn=balancer["LoadBalancerArn"],
        Protocol="HTTP",
        Port=80,
        DefaultActions=[{"Type": "fixed-response", "FixedResponseConfig": NOT_FOUND}],
    )["Listeners"][0]
    return ExistingLoadBalancer(balancer["LoadBalancerArn"], listener["ListenerArn"], group_id)


def attach(config_text: str, environment: str, balancer: ExistingLoadBalancer) -> str:
    """``config_text`` with ``[environments.ENVIRONMENT]``'s ``load_balancer = { create = true … }``
    replaced by one that attaches to ``balancer``. Fails unless there is exactly one to replace."""
    lines = config_text.splitlines(keepends=True)
    table, found = None, []
    for index, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith("["):
            table = stripped.strip("[]").strip()
        elif table == f"environments.{environment}" and stripped.startswith("load_balancer"):
            found.append(index)
    if len(found) != 1 or "create = true" not in lines[found[0]]:
        raise ValueError(
            f"environments.{environment} has no single load_balancer with create = true to replace"
        )
    lines[found[0]] = f"load_balancer = {balancer.setting}\n"
    return "".join(lines)
