"""The security group of a service's tasks: HTTPS out to AWS's APIs, in only from its load balancer."""

from __future__ import annotations

from collections.abc import Sequence

from cdktf_cdktf_provider_aws.data_aws_vpc import DataAwsVpc
from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.vpc_security_group_egress_rule import VpcSecurityGroupEgressRule
from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule
from constructs import Construct

from constructs_lib.container import DYNAMIC_HOST_PORTS


def add_task_security_group(
    scope: Construct, *, name: str, service_name: str, vpc_id: str, description: str | None = None
) -> SecurityGroup:
    """Add ``security-group`` and its ``egress-https`` rule to ``scope``; no ingress yet.
    ``description`` (default: a service's, whose only way in is its load balancer)."""
    group = SecurityGroup(
        scope,
        "security-group",
        name=name,
        # EC2 allows only a-zA-Z0-9. _-:/()#,@[]+=&;{}!$* in descriptions.
        description=description or f"Tasks of {service_name}: HTTPS out; in only from its load balancer",
        vpc_id=vpc_id,
    )
    VpcSecurityGroupEgressRule(
        scope,
        "egress-https",
        security_group_id=group.id,
        description="HTTPS to AWS APIs (ECR, CloudWatch Logs, SSM, Secrets Manager)",
        ip_protocol="tcp",
        from_port=443,
        to_port=443,
        cidr_ipv4="0.0.0.0/0",
    )
    return group


def admit_load_balancer(
    scope: Construct,
    *,
    tasks_group: SecurityGroup,
    load_balancer_group_id: str,
    port: int,
    service_name: str,
    open_load_balancer_egress: bool,
) -> None:
    """Add ``ingress-from-lb`` (the load balancer's group, on ``port`` only) to the tasks' group and,
    when the load balancer's group is ours, its ``lb-egress`` to the tasks on that port."""
    VpcSecurityGroupIngressRule(
        scope,
        "ingress-from-lb",
        security_group_id=tasks_group.id,
        description="the load balancer, on the container port only",
        ip_protocol="tcp",
        from_port=port,
        to_port=port,
        referenced_security_group_id=load_balancer_group_id,
    )
    if open_load_balancer_egress:
        VpcSecurityGroupEgressRule(
            scope,
            "lb-egress",
            security_group_id=load_balancer_group_id,
            description=f"to the tasks of {service_name} on the container port",
            ip_protocol="tcp",
            from_port=port,
            to_port=port,
            referenced_security_group_id=tasks_group.id,
        )


def open_load_balancer_to_instances(
    scope: Construct, *, load_balancer_group_id: str, vpc_id: str, host_port: int, service_name: str
) -> None:
    """Add ``lb-egress`` to a load balancer group that is ours: to the VPC's addresses (the
    container instances, whose group is not ours) on ``host_port``, or on the dynamic range for
    0. The instances' own group must admit the load balancer there."""
    low, high = DYNAMIC_HOST_PORTS if host_port == 0 else (host_port, host_port)
    vpc = DataAwsVpc(scope, "vpc", id=vpc_id)
    VpcSecurityGroupEgressRule(
        scope,
        "lb-egress",
        security_group_id=load_balancer_group_id,
        description=f"to the instances running {service_name} on its host ports",
        ip_protocol="tcp",
        from_port=low,
        to_port=high,
        cidr_ipv4=vpc.cidr_block,
    )


def admit_service_connect_callers(
    scope: Construct,
    *,
    server_group_id: str,
    caller_group_ids: Sequence[str],
    ports: tuple[int, int],
    service_name: str,
) -> None:
    """Add ``service-connect-in-<i>`` to the server's group (caller ``i``'s group, on ``ports``
    only) and ``service-connect-out-<i>`` to that caller's group (to the server's, on those ports):
    the servers of a namespace admit its services there, and nothing else."""
    low, high = ports
    shown = f"port {low}" if low == high else f"ports {low}-{high}"
    for index, caller in enumerate(caller_group_ids):
        VpcSecurityGroupIngressRule(
            scope,
            f"service-connect-in-{index}",
            security_group_id=server_group_id,
            description=f"Service Connect callers, on the proxy's {shown} only",
            ip_protocol="tcp",
            from_port=low,
            to_port=high,
            referenced_security_group_id=caller,
        )
        VpcSecurityGroupEgressRule(
            scope,
            f"service-connect-out-{index}",
            security_group_id=caller,
            description=f"to {service_name} through Service Connect, {shown}",
            ip_protocol="tcp",
            from_port=low,
            to_port=high,
            referenced_security_group_id=server_group_id,
        )
