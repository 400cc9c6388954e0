"""An environment's Service Connect in its stacks: the namespace, the group its services call from,
and what each service gets (``ServiceConnect``).

The environment's stack holds what the services share: the Cloud Map HTTP namespace (unless an
existing one is named by ARN) and the ``<project>-<env>-service-connect`` security group, which
every awsvpc service of the environment joins. A server's own group admits that group, and only
it, on the server's proxy port (``Service``); that group gets egress there. A split environment's
service stacks look both up by name: the environment's stack, deployed first, made them.

Bridge tasks have no group of their own: they call from, and are called on, their instances. With
the environment's own EC2 capacity, its instances' group is a caller as well, and admits the
callers on each bridge server's proxy ports (the instances' ephemeral range, or the
``ingress_port_override``). On instances managed elsewhere, their group is theirs to open.
Host-network tasks cannot use Service Connect: such a service is left out (a server is refused
by the loader).
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import TerraformStack
from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from constructs import Construct

from constructs_lib.checks import skip_check
from constructs_lib.security_group import admit_service_connect_callers
from constructs_lib.service_connect_props import ServiceConnect, resolve_endpoint
from ecs_cd.core import names
from stacks.settings import EnvironmentSettings, ServiceSettings


@dataclass(frozen=True)
class ServiceConnectWiring:
    """What the environment's services get: the namespace's ARN, the group awsvpc tasks join, and
    the groups every server admits (that group, and the instances' when bridge tasks call)."""

    namespace_arn: str
    member_group_id: str
    caller_group_ids: tuple[str, ...]
    proxy_logs: bool

    def options(self, service: ServiceSettings) -> ServiceConnect | None:
        """``service``'s Service Connect (None: host networking, which Service Connect lacks)."""
        mode = service.task.network_mode
        if mode == "host":
            return None
        return ServiceConnect(
            namespace=self.namespace_arn,
            server=service.service_connect,
            proxy_logs=self.proxy_logs,
            member_group_id=self.member_group_id if mode == "awsvpc" else None,
            caller_group_ids=self.caller_group_ids,
        )


def _bridge_callers(env: EnvironmentSettings) -> bool:
    """The environment's own instances run bridge tasks, which call from the instances' group."""
    return env.ec2_capacity is not None and any(s.task.network_mode == "bridge" for s in env.services)


def environment_service_connect(
    stack: TerraformStack,
    *,
    project: str,
    env: EnvironmentSettings,
    vpc_id: str,
    instances_group_id: str | None,
) -> ServiceConnectWiring | None:
    """The environment's stack's part: the namespace (created, or an existing one's ARN), the
    callers' group, and the instances' rules for bridge servers (``instances_group_id``: the
    environment's own EC2 capacity's group, if any)."""
    namespace = env.service_connect
    if namespace is None:
        return None
    # Its provider bindings load only where Service Connect is used (stacks/fast_import.py).
    from cdktf_cdktf_provider_aws.service_discovery_http_namespace import ServiceDiscoveryHttpNamespace

    arn = namespace.arn
    if arn is None:
        assert namespace.name is not None  # the loader names a created namespace
        created = ServiceDiscoveryHttpNamespace(
            stack,
            "service-connect-namespace",
            name=namespace.name,
            description=f"Service Connect of {project} {env.name}",
        )
        arn = created.arn
    group = SecurityGroup(
        stack,
        "service-connect-group",
        name=names.service_connect_security_group_name(project, env.name),
        description=f"Services of {project} {env.name}: Service Connect servers admit this group only",
        vpc_id=vpc_id,
    )
    if env.stack_per_service:
        skip_check(
            group,
            "CKV2_AWS_5",
            "stack_per_service = true: the services that join this group are in their own stacks, "
            "which look it up by name (checkov scans one stack at a time)",
        )
    callers = [group.id]
    if instances_group_id is not None and _bridge_callers(env):
        callers.append(instances_group_id)
        _admit_on_instances(stack, env, instances_group_id, tuple(callers))
    return ServiceConnectWiring(arn, group.id, tuple(callers), namespace.proxy_logs)


def _admit_on_instances(
    stack: TerraformStack, env: EnvironmentSettings, instances_group_id: str, callers: tuple[str, ...]
) -> None:
    """The instances' group admits the callers on each bridge server's proxy ports, once a range."""
    ranges: list[tuple[int, int]] = []
    for svc in env.services:
        if svc.task.network_mode != "bridge" or svc.service_connect is None:
            continue
        endpoint = resolve_endpoint(svc.task_containers, svc.service_connect)
        assert endpoint is not None  # the loader checked the server against its task
        ports = endpoint.ingress_ports("bridge")
        if ports not in ranges:
            ranges.append(ports)
    for low, high in ranges:
        admit_service_connect_callers(
            Construct(stack, f"service-connect-instances-{low}-{high}"),
            server_group_id=instances_group_id,
            caller_group_ids=callers,
            ports=(low, high),
            service_name="the bridge tasks of the cluster's instances",
        )


def service_stack_service_connect(
    stack: TerraformStack, *, project: str, env: EnvironmentSettings, vpc_id: str
) -> ServiceConnectWiring | None:
    """A split environment's service stack's part: the environment's namespace and groups,
    looked up by name (its stack, deployed first, made them)."""
    namespace = env.service_connect
    if namespace is None:
        return None
    from cdktf_cdktf_provider_aws.data_aws_security_group import DataAwsSecurityGroup
    from cdktf_cdktf_provider_aws.data_aws_service_discovery_http_namespace import (
        DataAwsServiceDiscoveryHttpNamespace,
    )

    arn = namespace.arn
    if arn is None:
        assert namespace.name is not None
        arn = DataAwsServiceDiscoveryHttpNamespace(
            stack, "service-connect-namespace", name=namespace.name
        ).arn
    group = DataAwsSecurityGroup(
        stack,
        "service-connect-group",
        name=names.service_connect_security_group_name(project, env.name),
        vpc_id=vpc_id,
    )
    callers = [group.id]
    if env.ec2_capacity is not None and _bridge_callers(env):
        assert env.ec2_capacity.name is not None  # named by the loader
        instances = DataAwsSecurityGroup(
            stack, "instances-group", name=f"{env.ec2_capacity.name}-instances", vpc_id=vpc_id
        )
        callers.append(instances.id)
    return ServiceConnectWiring(arn, group.id, tuple(callers), namespace.proxy_logs)
