"""The emulator's Service Connect fill (devkit/moto_server.py): a service's serviceConnectConfiguration
kept on its deployments, as ECS reports it, and ECS's refusals of a namespace or a port name it
cannot find. The first test shows the gap is still there in stock moto, so a fill a newer moto
makes unnecessary is noticed and removed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from devkit.emulator import Emulator

CLUSTER = "connect"


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with Emulator(running_count=1) as running:
        yield running


def _task_definition(ecs: Any, family: str, port_name: str = "http") -> str:
    registered = ecs.register_task_definition(
        family=family,
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        containerDefinitions=[
            {
                "name": "app",
                "image": "busybox",
                "portMappings": [
                    {"containerPort": 8080, "protocol": "tcp", "name": port_name, "appProtocol": "http"}
                ],
            }
        ],
    )
    return str(registered["taskDefinition"]["taskDefinitionArn"])


def _namespace(client: Any, name: str) -> str:
    """A Cloud Map HTTP namespace; returns its ARN."""
    operation = client.create_http_namespace(Name=name)["OperationId"]
    namespace_id = client.get_operation(OperationId=operation)["Operation"]["Targets"]["NAMESPACE"]
    return str(client.get_namespace(Id=namespace_id)["Namespace"]["Arn"])


def _connect(namespace: str, port_name: str = "http", dns_name: str = "orders") -> dict[str, Any]:
    return {
        "enabled": True,
        "namespace": namespace,
        "services": [
            {
                "portName": port_name,
                "discoveryName": "orders",
                "clientAliases": [{"port": 8080, "dnsName": dns_name}],
            }
        ],
    }


def _create(ecs: Any, ec2: Any, name: str, task_definition: str, **settings: Any) -> dict[str, Any]:
    ecs.create_cluster(clusterName=CLUSTER)
    subnet = ec2.describe_subnets()["Subnets"][0]["SubnetId"]
    return dict(
        ecs.create_service(
            cluster=CLUSTER,
            serviceName=name,
            taskDefinition=task_definition,
            desiredCount=1,
            launchType="FARGATE",
            networkConfiguration={"awsvpcConfiguration": {"subnets": [subnet], "securityGroups": []}},
            **settings,
        )["service"]
    )


def _described(ecs: Any, name: str) -> dict[str, Any]:
    (service,) = ecs.describe_services(cluster=CLUSTER, services=[name])["services"]
    return dict(service)


def test_stock_moto_drops_a_services_service_connect_configuration() -> None:
    # GIVEN stock moto, in this process (install() only patches the server process)
    import boto3
    from moto import mock_aws

    with mock_aws():
        ecs, ec2, cloud_map = (
            boto3.client(name, region_name="us-east-1") for name in ("ecs", "ec2", "servicediscovery")
        )
        namespace = _namespace(cloud_map, "gap")
        # WHEN a service is created with Service Connect, and updated with it
        _create(
            ecs, ec2, "gap", _task_definition(ecs, "gap"), serviceConnectConfiguration=_connect(namespace)
        )
        created = _described(ecs, "gap")
        ecs.update_service(cluster=CLUSTER, service="gap", serviceConnectConfiguration=_connect(namespace))
        updated = _described(ecs, "gap")
        # THEN no deployment reports it (a fixed moto reports it: drop the fill)
        for service in (created, updated):
            assert all("serviceConnectConfiguration" not in d for d in service["deployments"])


def test_a_services_service_connect_configuration_is_on_its_deployment(emulator: Emulator) -> None:
    # GIVEN a namespace, named by its name rather than its ARN
    ecs, ec2 = emulator.client("ecs"), emulator.client("ec2")
    arn = _namespace(emulator.client("servicediscovery"), "kept")
    # WHEN a service is created with Service Connect
    created = _create(
        ecs, ec2, "kept", _task_definition(ecs, "kept"), serviceConnectConfiguration=_connect("kept")
    )
    # THEN the answer and DescribeServices report it on the deployment, the namespace by its ARN
    expected = _connect(arn)
    for service in (created, _described(ecs, "kept")):
        (deployment,) = service["deployments"]
        assert deployment["serviceConnectConfiguration"] == expected


def test_a_changed_configuration_starts_a_deployment_that_reports_it(emulator: Emulator) -> None:
    # GIVEN a service with Service Connect
    ecs, ec2 = emulator.client("ecs"), emulator.client("ec2")
    arn = _namespace(emulator.client("servicediscovery"), "changed")
    _create(ecs, ec2, "changed", _task_definition(ecs, "changed"), serviceConnectConfiguration=_connect(arn))
    (first,) = _described(ecs, "changed")["deployments"]
    # WHEN only its count changes THEN the deployment and its configuration stay
    ecs.update_service(cluster=CLUSTER, service="changed", desiredCount=1)
    (same,) = _described(ecs, "changed")["deployments"]
    assert (same["id"], same["serviceConnectConfiguration"]) == (first["id"], _connect(arn))
    # WHEN its alias changes THEN, as in ECS, a new deployment reports the new configuration
    ecs.update_service(
        cluster=CLUSTER, service="changed", serviceConnectConfiguration=_connect(arn, dns_name="orders-v2")
    )
    deployments = _described(ecs, "changed")["deployments"]
    assert deployments[0]["id"] != first["id"]
    assert deployments[0]["serviceConnectConfiguration"] == _connect(arn, dns_name="orders-v2")


def test_an_unknown_namespace_or_port_name_is_refused_as_in_ecs(emulator: Emulator) -> None:
    ecs, ec2 = emulator.client("ecs"), emulator.client("ec2")
    arn = _namespace(emulator.client("servicediscovery"), "refusing")
    task_definition = _task_definition(ecs, "refusing")
    # WHEN the namespace does not exist THEN CreateService is refused and nothing is created
    with pytest.raises(ecs.exceptions.InvalidParameterException, match="namespace"):
        _create(ecs, ec2, "refused", task_definition, serviceConnectConfiguration=_connect("nowhere"))
    # AND a port name the task definition does not have is refused too
    with pytest.raises(ecs.exceptions.InvalidParameterException, match="portName"):
        _create(ecs, ec2, "refused", task_definition, serviceConnectConfiguration=_connect(arn, "grpc"))
    assert ecs.describe_services(cluster=CLUSTER, services=["refused"])["services"] == []
    # AND an update naming an unknown port leaves the service as it was
    _create(ecs, ec2, "kept-as-is", task_definition, serviceConnectConfiguration=_connect(arn))
    with pytest.raises(ecs.exceptions.InvalidParameterException, match="portName"):
        ecs.update_service(
            cluster=CLUSTER, service="kept-as-is", serviceConnectConfiguration=_connect(arn, "grpc")
        )
    (deployment,) = _described(ecs, "kept-as-is")["deployments"]
    assert deployment["serviceConnectConfiguration"] == _connect(arn)
