"""ECS Service Connect as props: the server side of a service (the named port the other services of
its namespace call it on, by a DNS name of their own) and the rules between it and the task's port
mappings. No cdktf: the settings loader parses the file into these very models.

Every service of a namespace is a client (its Service Connect proxy resolves the others' names);
a service with a ``ServiceConnectServer`` is also a server. Peers: terraform-aws-modules/ecs's
``service_connect_configuration``, AWS CDK's ``serviceConnectConfiguration``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated

from pydantic import Field, StrictBool, StrictInt, StrictStr

from constructs_lib.container import DYNAMIC_HOST_PORTS, ContainerProps, NetworkMode, PortMapping
from constructs_lib.fields import DiscoveryName, Port, PortMappingName, ServiceConnectDnsName
from constructs_lib.props import NO_VALUE, Problem, Props

_SECONDS = Annotated[StrictInt, Field(ge=0, le=2_147_483_647)]


class ClientAlias(Props):
    """How the other services call this one: ``port`` (default: the named port's container port)
    and ``dns_name`` (default: the discovery name), e.g. ``http://orders:8080``. ECS allows one
    alias per Service Connect service."""

    port: Port | None = None
    """The port the other services call (unset: the named port's container port)."""
    dns_name: ServiceConnectDnsName | None = None
    """The name the other services call, e.g. ``orders`` in ``http://orders:8080`` (unset: the
    discovery name)."""


class ServiceConnectTimeout(Props):
    """The proxy's timeouts in seconds (default None: ECS's; 0 turns one off)."""

    idle_timeout_seconds: _SECONDS | None = None
    """Seconds a connection may stay idle (0: off; unset: ECS's)."""
    per_request_timeout_seconds: _SECONDS | None = None
    """Seconds a request may take (0: off; unset: ECS's)."""


class ServiceConnectServer(Props):
    """A service others call through Service Connect.

    - ``port_name`` (default None: the app container's ``container_port`` mapping, by its name):
      the name of one of the task's port mappings (``container_port_name``, or ``name`` in
      ``port_mappings``), a TCP port.
    - ``discovery_name`` (default: the port name): the Cloud Map service ECS registers the tasks
      in, unique within the namespace.
    - ``client_alias`` (default: ``dns_name`` the discovery name, ``port`` the container port).
    - ``ingress_port_override`` (default None: awsvpc the container port, bridge an ephemeral
      port): the port the task's proxy listens on; the security groups admit the callers there.
    - ``timeout`` (default None: ECS's).
    """

    port_name: PortMappingName | None = None
    """The name of one of the task's TCP port mappings (``container_port_name``, or ``name`` in
    ``port_mappings``) (unset: the app's ``container_port`` mapping)."""
    discovery_name: DiscoveryName | None = None
    """The Cloud Map service ECS registers the tasks in, unique within the namespace (unset: the
    port name)."""
    client_alias: ClientAlias = Field(default_factory=ClientAlias)
    """How the other services call this one: ``dns_name:port``."""
    ingress_port_override: Port | None = None
    """The port the task's proxy listens on; the security groups admit the callers there (unset:
    the container port in ``awsvpc``, an ephemeral port in ``bridge``)."""
    timeout: ServiceConnectTimeout | None = None
    """The proxy's timeouts (unset: ECS's)."""


@dataclass(frozen=True)
class ServiceConnectEndpoint:
    """A server resolved against its task: what ECS is told, and the ports its tasks are called on."""

    port_name: str
    discovery_name: str
    dns_name: str
    client_port: int
    container_port: int
    ingress_port_override: int | None

    def ingress_ports(self, network_mode: NetworkMode) -> tuple[int, int]:
        """The ports (first, last) the task's proxy is called on: the override, else the container
        port (awsvpc) or the instance's ephemeral ports (bridge: ECS picks the proxy's host port)."""
        if self.ingress_port_override is not None:
            return self.ingress_port_override, self.ingress_port_override
        if network_mode == "bridge":
            return DYNAMIC_HOST_PORTS
        return self.container_port, self.container_port

    @property
    def address(self) -> str:
        """What the other services call: ``dns_name:port``."""
        return f"{self.dns_name}:{self.client_port}"


def _named_ports(containers: Sequence[ContainerProps]) -> dict[str, PortMapping]:
    return {m.name: m for c in containers for m in c.ports if m.name is not None}


def served_port(containers: Sequence[ContainerProps], server: ServiceConnectServer) -> PortMapping | None:
    """The port mapping ``server`` serves: the one named ``port_name``, or (without one) the first
    container's ``container_port`` mapping when it is named."""
    if server.port_name is not None:
        return _named_ports(containers).get(server.port_name)
    first = containers[0].ports[0] if containers and containers[0].container_port is not None else None
    return first if first is not None and first.name is not None else None


def resolve_endpoint(
    containers: Sequence[ContainerProps], server: ServiceConnectServer
) -> ServiceConnectEndpoint | None:
    """``server`` with its defaults filled from the task's ``containers`` (None: a rule is broken,
    ``service_connect_problems`` says which)."""
    port = served_port(containers, server)
    if port is None or port.name is None:
        return None
    discovery = server.discovery_name or port.name
    return ServiceConnectEndpoint(
        port_name=port.name,
        discovery_name=discovery,
        dns_name=server.client_alias.dns_name or discovery,
        client_port=server.client_alias.port or port.container_port,
        container_port=port.container_port,
        ingress_port_override=server.ingress_port_override,
    )


def service_connect_problems(
    containers: Sequence[ContainerProps], server: ServiceConnectServer, network_mode: NetworkMode
) -> list[Problem]:
    """Why ``server`` cannot serve a port of the task of ``containers`` (the first is the app),
    at the server's fields (``port_name``, or the server itself). The one home of the rule: the
    service validates with it, the settings loader reports it at ``service_connect``."""
    if network_mode == "host":
        return [
            Problem(
                "service_connect",
                NO_VALUE,
                "Service Connect runs in awsvpc and bridge networking, not host: use one of those",
            )
        ]
    named = _named_ports(containers)
    known = ", ".join(sorted(named)) or "none"
    port = served_port(containers, server)
    if server.port_name is not None and port is None:
        return [
            Problem(
                "service_connect.port_name",
                server.port_name,
                f"names no port mapping of the task (named: {known}): name one with "
                "container_port_name, or name in port_mappings",
            )
        ]
    if port is None:
        app = containers[0] if containers else None
        if app is None or app.container_port is None:
            return [
                Problem(
                    "service_connect",
                    NO_VALUE,
                    "needs the app's container_port (the port other services call), or port_name "
                    f"naming a port mapping of the task (named: {known})",
                )
            ]
        return [
            Problem(
                "service_connect",
                NO_VALUE,
                f"serves container_port {app.container_port}, whose mapping has no name: set "
                "container_port_name (or port_name)",
            )
        ]
    if port.protocol != "tcp":
        return [
            Problem(
                "service_connect.port_name",
                port.name,
                f"names a {port.protocol} port: Service Connect carries TCP only",
            )
        ]
    return []


class ServiceConnect(Props):
    """A service in a Service Connect namespace (``ServiceOptions.service_connect``).

    - ``namespace`` (required): the Cloud Map namespace's ARN (or a reference to it).
    - ``server`` (default None: a client only, which calls the others by their names).
    - ``proxy_logs`` (default True): the proxy logs to the task's log group (stream prefix
      ``service-connect``), with the task's execution role.
    - ``member_group_id`` (default None; awsvpc tasks): a group the tasks also join, the one the
      servers of the namespace admit (``caller_group_ids`` of theirs).
    - ``caller_group_ids`` (default none): the groups a server's own group admits on its ingress
      ports, and which get egress to it there (awsvpc servers; a bridge server's instances are
      not the service's: their group is the cluster's).
    """

    namespace: StrictStr
    server: ServiceConnectServer | None = None
    proxy_logs: StrictBool = True
    member_group_id: StrictStr | None = None
    caller_group_ids: tuple[StrictStr, ...] = ()
