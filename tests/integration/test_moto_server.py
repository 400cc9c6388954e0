"""The emulator's fills for moto's gaps (devkit/moto_server.py), each checked against the running server.

Each test also shows the gap is still there in stock moto, so a fill that a newer moto
makes unnecessary is noticed and removed rather than kept silently.
"""

from __future__ import annotations

import json
import re
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from devkit.emulator import ACCESS_KEY, REGION, SECRET_KEY, Emulator

CLUSTER = "fills"


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with Emulator(running_count=1) as running:
        yield running


def _task_definition(ecs: Any, family: str) -> str:
    """A new revision of ``family``; returns its ARN."""
    registered = ecs.register_task_definition(
        family=family,
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        containerDefinitions=[{"name": "app", "image": "busybox"}],
    )
    return str(registered["taskDefinition"]["taskDefinitionArn"])


def _service_on(ecs: Any, ec2: Any, name: str, task_definition: str) -> None:
    ecs.create_cluster(clusterName=CLUSTER)
    subnet = ec2.describe_subnets()["Subnets"][0]["SubnetId"]
    ecs.create_service(
        cluster=CLUSTER,
        serviceName=name,
        taskDefinition=task_definition,
        desiredCount=1,
        launchType="FARGATE",
        networkConfiguration={"awsvpcConfiguration": {"subnets": [subnet], "securityGroups": []}},
    )


def _deployments(service: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(id, status, rolloutState, taskDefinition) of each deployment, in ECS's order."""
    return [(d["id"], d["status"], d["rolloutState"], d["taskDefinition"]) for d in service["deployments"]]


def _described(ecs: Any, name: str) -> dict[str, Any]:
    (service,) = ecs.describe_services(cluster=CLUSTER, services=[name])["services"]
    return dict(service)


def _service(emulator: Emulator, name: str, **settings: Any) -> dict[str, Any]:
    ecs, ec2 = emulator.client("ecs"), emulator.client("ec2")
    ecs.create_cluster(clusterName=CLUSTER)
    ecs.register_task_definition(
        family="fills",
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        containerDefinitions=[{"name": "app", "image": "busybox"}],
    )
    subnet = ec2.describe_subnets()["Subnets"][0]["SubnetId"]
    ecs.create_service(
        cluster=CLUSTER,
        serviceName=name,
        taskDefinition="fills",
        desiredCount=1,
        launchType="FARGATE",
        networkConfiguration={"awsvpcConfiguration": {"subnets": [subnet], "securityGroups": []}},
        **settings,
    )
    (service,) = ecs.describe_services(cluster=CLUSTER, services=[name])["services"]
    return dict(service)


def test_stock_moto_still_has_the_gaps() -> None:
    # GIVEN moto's own classes, before install() runs (it only runs in the server process)
    from moto.applicationautoscaling.responses import ApplicationAutoScalingResponse
    from moto.ec2.models.security_groups import SecurityGroupRule

    # THEN the operations are still missing and rule descriptions still come from CIDRs only
    for operation in ("list_tags_for_resource", "tag_resource", "untag_resource"):
        assert not hasattr(ApplicationAutoScalingResponse, operation), (
            f"moto has {operation} now: drop the fill"
        )
    rule: Any = SecurityGroupRule.__new__(SecurityGroupRule)
    rule.ip_range = {}
    rule.source_group = {"GroupId": "sg-1", "Description": "from the load balancer"}
    assert rule.description is None, "moto reports group-rule descriptions now: drop the fill"


def test_stock_moto_keeps_the_first_deployment_on_a_new_task_definition() -> None:
    # GIVEN stock moto, in this process (install() only patches the server process)
    import boto3
    from moto import mock_aws
    from moto.ecs.models import EC2ContainerServiceBackend

    assert EC2ContainerServiceBackend.update_service.__name__ == "update_service", "install() ran here"
    with mock_aws():
        ecs, ec2 = (boto3.client(name, region_name="us-east-1") for name in ("ecs", "ec2"))
        first, second = _task_definition(ecs, "gap"), _task_definition(ecs, "gap")
        _service_on(ecs, ec2, "gap", first)
        ((deployment_id, *_),) = _deployments(_described(ecs, "gap"))
        # WHEN the service is switched to revision 2
        ecs.update_service(cluster=CLUSTER, service="gap", taskDefinition=second)
        # THEN the service says revision 2, but its one PRIMARY deployment is still the first,
        # on revision 1 (a fixed moto would start a new deployment: drop the fill)
        service = _described(ecs, "gap")
        assert service["taskDefinition"] == second
        assert [(d[0], d[1], d[3]) for d in _deployments(service)] == [(deployment_id, "PRIMARY", first)]
        # AND forceNewDeployment only renames that one deployment
        ecs.update_service(cluster=CLUSTER, service="gap", forceNewDeployment=True)
        ((renamed, status, _, task_definition),) = _deployments(_described(ecs, "gap"))
        assert (status, task_definition) == ("PRIMARY", first) and renamed != deployment_id


def test_scalable_targets_can_be_tagged(emulator: Emulator) -> None:
    # GIVEN a registered scalable target
    _service(emulator, "scaled")
    scaling = emulator.client("application-autoscaling")
    arn = scaling.register_scalable_target(
        ServiceNamespace="ecs",
        ResourceId=f"service/{CLUSTER}/scaled",
        ScalableDimension="ecs:service:DesiredCount",
        MinCapacity=1,
        MaxCapacity=3,
    )["ScalableTargetARN"]
    # WHEN its tags are listed, set and removed THEN each answer is what AWS would give
    assert scaling.list_tags_for_resource(ResourceARN=arn)["Tags"] == {}
    scaling.tag_resource(ResourceARN=arn, Tags={"team": "shop", "tier": "web"})
    scaling.untag_resource(ResourceARN=arn, TagKeys=["tier"])
    assert scaling.list_tags_for_resource(ResourceARN=arn)["Tags"] == {"team": "shop"}
    # AND an unknown target is refused, not answered with an empty list
    with pytest.raises(scaling.exceptions.ValidationException):
        scaling.list_tags_for_resource(ResourceARN=arn + "x")


def test_stock_moto_drops_the_tags_given_when_a_target_is_registered() -> None:
    # GIVEN stock moto, in this process (install() only patches the server process)
    import boto3
    from moto import mock_aws
    from moto.applicationautoscaling.responses import ApplicationAutoScalingResponse

    assert ApplicationAutoScalingResponse.register_scalable_target.__name__ == "register_scalable_target"
    with mock_aws():
        ecs, ec2 = (boto3.client(name, region_name="us-east-1") for name in ("ecs", "ec2"))
        _service_on(ecs, ec2, "gap", _task_definition(ecs, "gap"))
        scaling = boto3.client("application-autoscaling", region_name="us-east-1")
        # WHEN a target is registered with tags THEN moto keeps them nowhere it could answer
        scaling.register_scalable_target(
            ServiceNamespace="ecs",
            ResourceId=f"service/{CLUSTER}/gap",
            ScalableDimension="ecs:service:DesiredCount",
            MinCapacity=1,
            MaxCapacity=3,
            Tags={"Project": "shop"},
        )
        from moto.applicationautoscaling.models import applicationautoscaling_backends

        (stored,) = [
            t
            for dimensions in applicationautoscaling_backends["123456789012"]["us-east-1"].targets.values()
            for t in dimensions.values()
        ]
        backend = applicationautoscaling_backends["123456789012"]["us-east-1"]
        kept = [*vars(stored).values(), *vars(backend).values()]
        assert not any("shop" in repr(value) for value in kept), (
            "moto keeps RegisterScalableTarget's tags now: drop that part of the fill"
        )


def test_tags_given_at_registration_are_kept_on_creation_only(emulator: Emulator) -> None:
    # GIVEN a target registered with tags (as the provider does with default tags)
    _service(emulator, "tagged")
    scaling = emulator.client("application-autoscaling")
    target = {
        "ServiceNamespace": "ecs",
        "ResourceId": f"service/{CLUSTER}/tagged",
        "ScalableDimension": "ecs:service:DesiredCount",
    }
    arn = scaling.register_scalable_target(**target, MinCapacity=1, MaxCapacity=3, Tags={"Project": "shop"})[
        "ScalableTargetARN"
    ]
    assert scaling.list_tags_for_resource(ResourceARN=arn)["Tags"] == {"Project": "shop"}
    # WHEN it is registered again with other tags THEN, as in AWS, they are not applied
    scaling.register_scalable_target(**target, MinCapacity=1, MaxCapacity=4, Tags={"Project": "other"})
    assert scaling.list_tags_for_resource(ResourceARN=arn)["Tags"] == {"Project": "shop"}


def test_create_service_keeps_the_rollout_settings(emulator: Emulator) -> None:
    # GIVEN a service created with a circuit breaker, an alarm and a grace period
    deployment = {
        "deploymentCircuitBreaker": {"enable": True, "rollback": True},
        "maximumPercent": 200,
        "minimumHealthyPercent": 50,
        "alarms": {"alarmNames": ["web-5xx"], "enable": True, "rollback": True},
    }
    service = _service(
        emulator, "guarded", deploymentConfiguration=deployment, healthCheckGracePeriodSeconds=45
    )
    # THEN DescribeServices reports them as given
    assert service["deploymentConfiguration"] == deployment
    assert service["healthCheckGracePeriodSeconds"] == 45


def test_rules_referencing_a_group_keep_their_description(emulator: Emulator) -> None:
    # GIVEN two groups and an ingress rule from one to the other, with a description
    ec2 = emulator.client("ec2")
    vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    source = ec2.create_security_group(GroupName="fills-lb", Description="lb", VpcId=vpc)["GroupId"]
    target = ec2.create_security_group(GroupName="fills-tasks", Description="tasks", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=target,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 8080,
                "ToPort": 8080,
                "UserIdGroupPairs": [{"GroupId": source, "Description": "the load balancer"}],
            }
        ],
    )
    # WHEN the rules are described THEN the description is there, next to the referenced group
    rules = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [target]}])[
        "SecurityGroupRules"
    ]
    (ingress,) = [r for r in rules if not r["IsEgress"]]
    assert ingress["ReferencedGroupInfo"]["GroupId"] == source
    assert ingress["Description"] == "the load balancer"


def test_a_new_task_definition_starts_a_new_primary_deployment(emulator: Emulator) -> None:
    # GIVEN a service on revision 1, steady (the emulator runs one task per service)
    ecs, ec2 = emulator.client("ecs"), emulator.client("ec2")
    first, second = _task_definition(ecs, "rollout"), _task_definition(ecs, "rollout")
    _service_on(ecs, ec2, "rollout", first)
    ((old, _, old_state, _),) = _deployments(_described(ecs, "rollout"))
    assert old_state == "COMPLETED"
    # WHEN it is switched to revision 2 (by family:revision, as the CLI allows)
    updated = ecs.update_service(cluster=CLUSTER, service="rollout", taskDefinition="rollout:2")["service"]
    # THEN a new PRIMARY deployment of revision 2 (its ARN) is in progress and the old one is ACTIVE
    new, _ = updated["deployments"]
    assert new["id"].startswith("ecs-svc/") and new["id"] != old
    assert _deployments(updated) == [
        (new["id"], "PRIMARY", "IN_PROGRESS", second),
        (old, "ACTIVE", "COMPLETED", first),
    ]
    assert (new["runningCount"], new["desiredCount"], new["pendingCount"]) == (0, 1, 1)
    assert updated["taskDefinition"] == second
    # WHEN it is described THEN the steady service has completed it and the old one is gone
    service = _described(ecs, "rollout")
    assert _deployments(service) == [(new["id"], "PRIMARY", "COMPLETED", second)]
    (completed,) = service["deployments"]
    assert (completed["runningCount"], completed["desiredCount"], completed["pendingCount"]) == (1, 1, 0)
    assert completed["createdAt"] == new["createdAt"] <= completed["updatedAt"]
    # WHEN the same revision is given again, without forcing THEN nothing new starts
    same = ecs.update_service(cluster=CLUSTER, service="rollout", taskDefinition=second)["service"]
    assert _deployments(same) == [(new["id"], "PRIMARY", "COMPLETED", second)]
    # WHEN a new deployment is forced THEN it is a new deployment of the same revision
    forced = ecs.update_service(cluster=CLUSTER, service="rollout", forceNewDeployment=True)["service"]
    again, _ = forced["deployments"]
    assert _deployments(forced) == [
        (again["id"], "PRIMARY", "IN_PROGRESS", second),
        (new["id"], "ACTIVE", "COMPLETED", second),
    ]
    assert _deployments(_described(ecs, "rollout")) == [(again["id"], "PRIMARY", "COMPLETED", second)]


def test_a_deployment_without_running_tasks_stays_in_progress() -> None:
    # GIVEN an emulator whose services run no tasks (MOTO_ECS_SERVICE_RUNNING=0)
    with Emulator(running_count=0) as idle:
        ecs, ec2 = idle.client("ecs"), idle.client("ec2")
        first, second = _task_definition(ecs, "idle"), _task_definition(ecs, "idle")
        _service_on(ecs, ec2, "idle", first)
        ((old, *_),) = _deployments(_described(ecs, "idle"))
        # WHEN the service is switched to revision 2 and described again
        ecs.update_service(cluster=CLUSTER, service="idle", taskDefinition=second)
        service = _described(ecs, "idle")
        # THEN the new deployment never becomes steady: IN_PROGRESS, with the old one still ACTIVE
        new, _ = service["deployments"]
        assert _deployments(service) == [
            (new["id"], "PRIMARY", "IN_PROGRESS", second),
            (old, "ACTIVE", "IN_PROGRESS", first),
        ]


def _bridge_task_definition(ecs: Any) -> str:
    """An EC2 task definition with bridge networking (no ENI per task, so no networkConfiguration)."""
    registered = ecs.register_task_definition(
        family="bridge",
        networkMode="bridge",
        requiresCompatibilities=["EC2"],
        containerDefinitions=[
            {
                "name": "web",
                "image": "nginx",
                "memory": 256,
                "portMappings": [{"containerPort": 80, "hostPort": 0}],
            }
        ],
    )
    return str(registered["taskDefinition"]["taskDefinitionArn"])


PLACEMENT_STRATEGY = [
    {"type": "spread", "field": "attribute:ecs.availability-zone"},
    {"type": "binpack", "field": "memory"},
]
PLACEMENT_CONSTRAINTS = [{"type": "distinctInstance"}]
FARGATE_STRATEGY = [
    {"capacityProvider": "FARGATE_SPOT", "weight": 1},
    {"capacityProvider": "FARGATE", "base": 1, "weight": 0},
]


def _capacity_cluster(ecs: Any, name: str, default: list[dict[str, Any]] | None = None) -> None:
    ecs.create_cluster(clusterName=name)
    ecs.put_cluster_capacity_providers(
        cluster=name,
        capacityProviders=["FARGATE", "FARGATE_SPOT"],
        defaultCapacityProviderStrategy=default or [],
    )


def _fargate_service_on_providers(
    ecs: Any, ec2: Any, cluster: str, name: str, **settings: Any
) -> dict[str, Any]:
    subnet = ec2.describe_subnets()["Subnets"][0]["SubnetId"]
    created = ecs.create_service(
        cluster=cluster,
        serviceName=name,
        taskDefinition=_task_definition(ecs, name),
        desiredCount=1,
        networkConfiguration={"awsvpcConfiguration": {"subnets": [subnet], "securityGroups": []}},
        **settings,
    )
    return dict(created["service"])


def test_stock_moto_answers_an_empty_network_configuration_for_a_bridge_service() -> None:
    # GIVEN stock moto, in this process (install() only patches the server process)
    import boto3
    from moto import mock_aws
    from moto.ecs.responses import EC2ContainerServiceResponse

    assert EC2ContainerServiceResponse.create_service.__name__ == "create_service", "install() ran here"
    with mock_aws():
        ecs = boto3.client("ecs", region_name="us-east-1")
        ecs.create_cluster(clusterName=CLUSTER)
        # WHEN an EC2 service with bridge networking (so without a network configuration) is created
        ecs.create_service(
            cluster=CLUSTER,
            serviceName="gap",
            taskDefinition=_bridge_task_definition(ecs),
            desiredCount=1,
            launchType="EC2",
        )
        # THEN moto answers "networkConfiguration": {} where ECS answers nothing; the AWS provider
        # reads that as a configuration without awsvpcConfiguration and crashes (nil pointer in
        # flattenNetworkConfiguration). A fixed moto omits it: drop that part of the fill.
        assert _described(ecs, "gap")["networkConfiguration"] == {}


def test_stock_moto_reports_launch_type_ec2_for_a_capacity_provider_strategy() -> None:
    # GIVEN stock moto, in this process, and a cluster with Fargate's capacity providers
    import boto3
    from moto import mock_aws

    with mock_aws():
        ecs, ec2 = (boto3.client(name, region_name="us-east-1") for name in ("ecs", "ec2"))
        _capacity_cluster(ecs, CLUSTER)
        # WHEN a service is created with a capacity provider strategy and no launch type
        _fargate_service_on_providers(ecs, ec2, CLUSTER, "gap", capacityProviderStrategy=FARGATE_STRATEGY)
        # THEN moto drops the strategy and reports launchType EC2 (ECS reports the strategy and
        # omits launchType), so every plan would replace the service. A fixed moto: drop the fill.
        service = _described(ecs, "gap")
        assert "capacityProviderStrategy" not in service
        assert service["launchType"] == "EC2"


def test_stock_moto_drops_the_placement_strategy_and_constraints() -> None:
    # GIVEN stock moto, in this process
    import boto3
    from moto import mock_aws

    with mock_aws():
        ecs = boto3.client("ecs", region_name="us-east-1")
        ecs.create_cluster(clusterName=CLUSTER)
        # WHEN an EC2 service is created with a placement strategy and constraints
        ecs.create_service(
            cluster=CLUSTER,
            serviceName="gap",
            taskDefinition=_bridge_task_definition(ecs),
            desiredCount=2,
            launchType="EC2",
            placementStrategy=PLACEMENT_STRATEGY,
            placementConstraints=PLACEMENT_CONSTRAINTS,
        )
        # THEN DescribeServices has neither (a fixed moto keeps them: drop that part of the fill)
        service = _described(ecs, "gap")
        assert "placementStrategy" not in service and "placementConstraints" not in service


def test_a_service_without_a_network_configuration_reports_none(emulator: Emulator) -> None:
    # GIVEN an EC2 service with bridge networking, created without a network configuration
    ecs = emulator.client("ecs")
    ecs.create_cluster(clusterName=CLUSTER)
    created = ecs.create_service(
        cluster=CLUSTER,
        serviceName="bridged",
        taskDefinition=_bridge_task_definition(ecs),
        desiredCount=1,
        launchType="EC2",
    )["service"]
    # THEN, as in ECS, neither CreateService nor DescribeServices has a networkConfiguration
    service = _described(ecs, "bridged")
    for answer in (created, service):
        assert "networkConfiguration" not in answer
        assert answer["launchType"] == "EC2"
        assert all("networkConfiguration" not in d for d in answer["deployments"])
    # AND a forced new deployment has none either
    forced = ecs.update_service(cluster=CLUSTER, service="bridged", forceNewDeployment=True)["service"]
    assert all("networkConfiguration" not in d for d in forced["deployments"])


def test_a_capacity_provider_strategy_is_kept_instead_of_a_launch_type(emulator: Emulator) -> None:
    # GIVEN a cluster with Fargate's capacity providers
    ecs, ec2 = emulator.client("ecs"), emulator.client("ec2")
    _capacity_cluster(ecs, "fills-providers")
    # WHEN a service is created with a capacity provider strategy
    created = _fargate_service_on_providers(
        ecs, ec2, "fills-providers", "spot", capacityProviderStrategy=FARGATE_STRATEGY
    )
    (service,) = ecs.describe_services(cluster="fills-providers", services=["spot"])["services"]
    # THEN the service and its deployment report the strategy, and no launch type
    for answer in (created, service):
        assert answer["capacityProviderStrategy"] == FARGATE_STRATEGY
        assert "launchType" not in answer
        (deployment,) = answer["deployments"]
        assert deployment["capacityProviderStrategy"] == FARGATE_STRATEGY
        assert "launchType" not in deployment
    # AND a new deployment runs on the service's strategy too
    forced = ecs.update_service(cluster="fills-providers", service="spot", forceNewDeployment=True)["service"]
    assert [d["capacityProviderStrategy"] for d in forced["deployments"]] == [FARGATE_STRATEGY] * 2
    assert not any("launchType" in d for d in forced["deployments"])


def test_a_service_without_launch_type_or_strategy_uses_the_clusters_default(emulator: Emulator) -> None:
    # GIVEN a cluster whose default capacity provider strategy is Fargate Spot
    ecs, ec2 = emulator.client("ecs"), emulator.client("ec2")
    default = [{"capacityProvider": "FARGATE_SPOT", "weight": 1, "base": 0}]
    _capacity_cluster(ecs, "fills-default", default)
    # WHEN services are created without a strategy, with and without a launch type
    _fargate_service_on_providers(ecs, ec2, "fills-default", "defaulted")
    _fargate_service_on_providers(ecs, ec2, "fills-default", "launched", launchType="FARGATE")
    defaulted, launched = ecs.describe_services(cluster="fills-default", services=["defaulted", "launched"])[
        "services"
    ]
    # THEN, as CreateService documents, the first runs on the cluster's default strategy
    assert defaulted["capacityProviderStrategy"] == default and "launchType" not in defaulted
    # AND a launch type given is kept, without a strategy
    assert launched["launchType"] == "FARGATE" and "capacityProviderStrategy" not in launched


def test_a_services_placement_strategy_and_constraints_are_kept(emulator: Emulator) -> None:
    # GIVEN an EC2 service created with a placement strategy and constraints
    ecs = emulator.client("ecs")
    ecs.create_cluster(clusterName=CLUSTER)
    created = ecs.create_service(
        cluster=CLUSTER,
        serviceName="placed",
        taskDefinition=_bridge_task_definition(ecs),
        desiredCount=2,
        launchType="EC2",
        placementStrategy=PLACEMENT_STRATEGY,
        placementConstraints=PLACEMENT_CONSTRAINTS,
    )["service"]
    # THEN CreateService and DescribeServices report them as given, in order
    for answer in (created, _described(ecs, "placed")):
        assert answer["placementStrategy"] == PLACEMENT_STRATEGY
        assert answer["placementConstraints"] == PLACEMENT_CONSTRAINTS
    # AND UpdateService changes them (moto's own update already keeps what it is given)
    ecs.update_service(
        cluster=CLUSTER, service="placed", placementStrategy=[{"type": "binpack", "field": "cpu"}]
    )
    assert _described(ecs, "placed")["placementStrategy"] == [{"type": "binpack", "field": "cpu"}]


def _twice(ecs: Any, ec2: Any, name: str, task_definition: str, **settings: Any) -> dict[str, Any]:
    """CreateService of ``name`` on the cluster, as _service_on makes it (``settings`` added or
    changed); returns the answer."""
    subnet = ec2.describe_subnets()["Subnets"][0]["SubnetId"]
    request = {
        "desiredCount": 1,
        "launchType": "FARGATE",
        "networkConfiguration": {"awsvpcConfiguration": {"subnets": [subnet], "securityGroups": []}},
        **settings,
    }
    return dict(
        ecs.create_service(cluster=CLUSTER, serviceName=name, taskDefinition=task_definition, **request)[
            "service"
        ]
    )


def _tags(ecs: Any, name: str) -> list[dict[str, str]]:
    (service,) = ecs.describe_services(cluster=CLUSTER, services=[name], include=["TAGS"])["services"]
    return list(service.get("tags", []))


def test_stock_moto_replaces_a_service_created_again() -> None:
    # GIVEN stock moto, in this process (install() only patches the server process)
    import boto3
    from moto import mock_aws
    from moto.ecs.responses import EC2ContainerServiceResponse

    assert EC2ContainerServiceResponse.create_service.__name__ == "create_service", "install() ran here"
    with mock_aws():
        ecs, ec2 = (boto3.client(name, region_name="us-east-1") for name in ("ecs", "ec2"))
        ecs.create_cluster(clusterName=CLUSTER)
        first, second = _task_definition(ecs, "gap"), _task_definition(ecs, "gap")
        _twice(ecs, ec2, "gap", first, tags=[{"key": "Project", "value": "shop"}])
        ((deployment_id, *_),) = _deployments(_described(ecs, "gap"))
        # WHEN a service of the same name is created in the same cluster, while the first is ACTIVE
        _twice(ecs, ec2, "gap", second)
        # THEN moto accepts it and the first service is gone: its task definition, tags and
        # deployment (ECS refuses, "Creation of service was not idempotent."; a fixed moto: drop the fill)
        service = _described(ecs, "gap")
        assert service["taskDefinition"] == second
        assert _tags(ecs, "gap") == []
        assert [d[0] for d in _deployments(service)] != [deployment_id]


def test_creating_an_active_service_again_is_refused_as_in_ecs(emulator: Emulator) -> None:
    # GIVEN an ACTIVE service, created with tags and a client token
    ecs, ec2 = emulator.client("ecs"), emulator.client("ec2")
    ecs.create_cluster(clusterName=CLUSTER)
    first, second = _task_definition(ecs, "again"), _task_definition(ecs, "again")
    tags = [{"key": "Project", "value": "shop"}]
    created = _twice(ecs, ec2, "again", first, tags=tags, clientToken="create-again-1")
    ((deployment_id, *_),) = _deployments(_described(ecs, "again"))
    # WHEN a service of that name is created again, on another revision
    with pytest.raises(ecs.exceptions.InvalidParameterException) as refused:
        _twice(ecs, ec2, "again", second)
    # THEN ECS's error comes back, as an ECS JSON error (HTTP 400) that boto3 and the provider parse
    error = refused.value.response
    assert error["Error"] == {
        "Code": "InvalidParameterException",
        "Message": "Creation of service was not idempotent.",
    }
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    # AND the first service is as it was: its task definition, tags and deployment
    service = _described(ecs, "again")
    assert (service["serviceArn"], service["taskDefinition"]) == (created["serviceArn"], first)
    assert _tags(ecs, "again") == tags
    assert [d[0] for d in _deployments(service)] == [deployment_id]
    # WHEN the same request is sent again, with the same client token (as a retry would)
    repeated = _twice(ecs, ec2, "again", first, tags=tags, clientToken="create-again-1")
    # THEN, as ECS does, the answer is the existing service, not a new one
    assert (repeated["serviceArn"], repeated["taskDefinition"]) == (created["serviceArn"], first)
    assert [d["id"] for d in repeated["deployments"]] == [deployment_id]
    # AND the same token with other parameters, or the same parameters without a token, is refused
    with pytest.raises(ecs.exceptions.InvalidParameterException, match="not idempotent"):
        _twice(ecs, ec2, "again", first, tags=tags, clientToken="create-again-1", desiredCount=2)
    with pytest.raises(ecs.exceptions.InvalidParameterException, match="not idempotent"):
        _twice(ecs, ec2, "again", first, tags=tags)


def test_a_deleted_services_name_can_be_used_again(emulator: Emulator) -> None:
    # GIVEN a service that was deleted (INACTIVE)
    ecs, ec2 = emulator.client("ecs"), emulator.client("ec2")
    ecs.create_cluster(clusterName=CLUSTER)
    first, second = _task_definition(ecs, "reborn"), _task_definition(ecs, "reborn")
    _twice(ecs, ec2, "reborn", first)
    ecs.delete_service(cluster=CLUSTER, service="reborn", force=True)
    assert _described(ecs, "reborn")["status"] == "INACTIVE"
    # WHEN a service of that name is created again THEN it is, as in ECS
    _twice(ecs, ec2, "reborn", second)
    service = _described(ecs, "reborn")
    assert (service["status"], service["taskDefinition"]) == ("ACTIVE", second)


def _service_without_security_groups(ecs: Any, subnet: str, name: str) -> dict[str, Any]:
    """CreateService of an awsvpc service whose awsvpcConfiguration has no securityGroups key."""
    ecs.create_cluster(clusterName=CLUSTER)
    return dict(
        ecs.create_service(
            cluster=CLUSTER,
            serviceName=name,
            taskDefinition=_task_definition(ecs, name),
            desiredCount=1,
            launchType="FARGATE",
            networkConfiguration={"awsvpcConfiguration": {"subnets": [subnet]}},
        )["service"]
    )


def test_stock_moto_fails_a_service_without_security_groups(stock_server: str) -> None:
    # GIVEN stock moto's server
    from botocore.exceptions import ClientError

    ecs, ec2 = _client(stock_server, "ecs"), _client(stock_server, "ec2")
    subnet = ec2.describe_subnets()["Subnets"][0]["SubnetId"]
    # WHEN an awsvpc service is created with subnets and no securityGroups key
    # THEN moto answers HTTP 500 (a KeyError in its own check). ECS uses the VPC's default group;
    # a fixed moto: drop the fill
    with pytest.raises(ClientError) as failed:
        _service_without_security_groups(ecs, subnet, "no-groups")
    assert failed.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    # AND an empty list is no gap: moto accepts it, and keeps it as given (the fill leaves it alone)
    _twice(ecs, ec2, "empty-groups", _task_definition(ecs, "empty-groups"))
    network = _described(ecs, "empty-groups")["networkConfiguration"]
    assert network["awsvpcConfiguration"]["securityGroups"] == []


def test_a_service_without_security_groups_is_in_the_vpcs_default_group(emulator: Emulator) -> None:
    # GIVEN a subnet of a VPC of its own (not the default VPC), and that VPC's default group
    ecs, ec2 = emulator.client("ecs"), emulator.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.77.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.77.1.0/24")["Subnet"]["SubnetId"]
    (default,) = ec2.describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [vpc]}, {"Name": "group-name", "Values": ["default"]}]
    )["SecurityGroups"]
    # WHEN an awsvpc service is created in it without a securityGroups key
    created = _service_without_security_groups(ecs, subnet, "default-group")
    # THEN, as in ECS, the service and its deployment are in that VPC's default security group
    expected = {"awsvpcConfiguration": {"subnets": [subnet], "securityGroups": [default["GroupId"]]}}
    for answer in (created, _described(ecs, "default-group")):
        assert answer["networkConfiguration"] == expected
        assert [d["networkConfiguration"] for d in answer["deployments"]] == [expected]


def _ec2_task_with_reservations(ecs: Any) -> str:
    """Register the first article's form: EC2, no task memory, containers with memoryReservation only."""
    return str(
        ecs.register_task_definition(
            family="article",
            networkMode="bridge",
            requiresCompatibilities=["EC2"],
            containerDefinitions=[
                {
                    "name": "api",
                    "image": "nginx:1.27",
                    "cpu": 10,
                    "memoryReservation": 128,
                    "portMappings": [{"containerPort": 8080, "hostPort": 0, "protocol": "tcp"}],
                }
            ],
        )["taskDefinition"]["taskDefinitionArn"]
    )


def test_stock_moto_refuses_memory_reservation_alone_on_ec2() -> None:
    # GIVEN stock moto, in this process (install() only patches the server process)
    import boto3
    from botocore.exceptions import ClientError
    from moto import mock_aws

    with mock_aws():
        ecs = boto3.client("ecs", region_name="us-east-1")
        # WHEN an EC2 task's container reserves memory without a hard limit THEN moto refuses it
        with pytest.raises(ClientError, match="At least one of 'memory' or 'memoryReservation'"):
            _ec2_task_with_reservations(ecs)


def test_memory_reservation_alone_is_enough_on_ec2_as_in_ecs(emulator: Emulator) -> None:
    ecs = emulator.client("ecs")
    # WHEN the article's task definition is registered THEN it is accepted, as ECS does
    arn = _ec2_task_with_reservations(ecs)
    (container,) = ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]["containerDefinitions"]
    assert container["memoryReservation"] == 128 and "memory" not in container
    # AND a container with neither, in a task without memory, is still refused (ECS's rule)
    with pytest.raises(
        ecs.exceptions.ClientException, match="At least one of 'memory' or 'memoryReservation'"
    ):
        ecs.register_task_definition(
            family="article",
            requiresCompatibilities=["EC2"],
            containerDefinitions=[{"name": "api", "image": "nginx:1.27"}],
        )


def _fargate_task_sized_by_the_task(ecs: Any, ec2: Any) -> dict[str, Any]:
    """RunTask of a Fargate task whose one container has no memory of its own."""
    subnets = [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]][:1]
    group = ec2.describe_security_groups()["SecurityGroups"][0]["GroupId"]
    ecs.create_cluster(clusterName="one-off")
    revision = ecs.register_task_definition(
        family="one-off",
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        containerDefinitions=[{"name": "api", "image": "nginx:1.27", "essential": True}],
    )["taskDefinition"]["taskDefinitionArn"]
    return dict(
        ecs.run_task(
            cluster="one-off",
            taskDefinition=revision,
            launchType="FARGATE",
            networkConfiguration={"awsvpcConfiguration": {"subnets": subnets, "securityGroups": [group]}},
            overrides={"containerOverrides": [{"name": "api", "command": ["echo", "hi"]}]},
        )
    )


def test_stock_moto_cannot_run_a_task_sized_by_the_task() -> None:
    # GIVEN stock moto, in this process (install() only patches the server process)
    import boto3
    from moto import mock_aws

    with mock_aws():
        ecs, ec2 = (boto3.client(name, region_name="us-east-1") for name in ("ecs", "ec2"))
        # WHEN a Fargate task without container memory is run THEN moto fails adding None
        with pytest.raises(TypeError, match="unsupported operand"):
            _fargate_task_sized_by_the_task(ecs, ec2)


def test_a_task_sized_by_the_task_runs_as_in_ecs(emulator: Emulator) -> None:
    # WHEN the emulator is asked to run it THEN the task starts, with the command override
    started = _fargate_task_sized_by_the_task(emulator.client("ecs"), emulator.client("ec2"))
    (task,) = started["tasks"]
    assert task["overrides"]["containerOverrides"] == [{"name": "api", "command": ["echo", "hi"]}]
    assert started["failures"] == []


def test_stock_moto_has_no_load_balancer_gap_to_fill() -> None:
    # Issue 17 asked for a fill so that Terraform's waiter would not sleep a minute on a new
    # load balancer. There is no gap: stock moto answers "active" at once. The minute is the
    # AWS provider's own fixed 30 s delay before its first poll, after CreateLoadBalancer and
    # again after ModifyLoadBalancerAttributes (docs/speed.md), which no emulator can shorten.
    # If moto ever answers "provisioning" first, this fails, and a fill becomes worth writing.
    import boto3
    from moto import mock_aws

    with mock_aws():
        ec2 = boto3.client("ec2", region_name="us-east-1")
        elbv2 = boto3.client("elbv2", region_name="us-east-1")
        subnets = [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]][:2]
        # WHEN an internal application load balancer is created, as the shipped local environment's
        created = elbv2.create_load_balancer(
            Name="gap", Subnets=subnets, Scheme="internal", Type="application"
        )
        arn = created["LoadBalancers"][0]["LoadBalancerArn"]
        # THEN the first poll, and the one after an attribute change, already say "active"
        (first,) = elbv2.describe_load_balancers(LoadBalancerArns=[arn])["LoadBalancers"]
        elbv2.modify_load_balancer_attributes(
            LoadBalancerArn=arn, Attributes=[{"Key": "access_logs.s3.enabled", "Value": "false"}]
        )
        (second,) = elbv2.describe_load_balancers(LoadBalancerArns=[arn])["LoadBalancers"]
        assert (first["State"]["Code"], second["State"]["Code"]) == ("active", "active")


def _queue_with_dead_letter(sqs: Any, name: str) -> tuple[str, str]:
    """A queue whose redrive policy names a dead-letter queue; returns (its URL, that queue's ARN)."""
    dead_url = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    dead_arn = sqs.get_queue_attributes(QueueUrl=dead_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    policy = json.dumps({"deadLetterTargetArn": dead_arn, "maxReceiveCount": 5}, separators=(",", ":"))
    url = sqs.create_queue(QueueName=name, Attributes={"RedrivePolicy": policy})["QueueUrl"]
    return url, dead_arn


def _redrive_policy(sqs: Any, url: str) -> str:
    return str(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]["RedrivePolicy"])


def test_stock_moto_answers_a_redrive_policy_with_spaces() -> None:
    # GIVEN stock moto, in this process (install() only patches the server process)
    import boto3
    from moto import mock_aws

    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        # WHEN a queue is created with SQS's compact redrive policy
        url, dead_arn = _queue_with_dead_letter(sqs, "gap")
        # THEN moto answers it re-serialized with spaces, which SQS never does (a fixed moto
        # would answer the compact form: drop the fill)
        assert _redrive_policy(sqs, url) == (f'{{"deadLetterTargetArn": "{dead_arn}", "maxReceiveCount": 5}}')


def test_a_redrive_policy_is_answered_as_sqs_does(emulator: Emulator) -> None:
    # GIVEN a queue with a dead-letter queue on the emulator
    sqs = emulator.client("sqs")
    url, dead_arn = _queue_with_dead_letter(sqs, "filled")
    # THEN its redrive policy is the compact JSON SQS answers (the provider reads it back as is)
    assert _redrive_policy(sqs, url) == f'{{"deadLetterTargetArn":"{dead_arn}","maxReceiveCount":5}}'
    assert json.loads(_redrive_policy(sqs, url)) == {"deadLetterTargetArn": dead_arn, "maxReceiveCount": 5}


# A queue worker's scaling: target tracking on metric math, and an alarm on metric math.
_VISIBLE_QUERY = {
    "Id": "visible",
    "MetricStat": {
        "Metric": {
            "Namespace": "AWS/SQS",
            "MetricName": "ApproximateNumberOfMessagesVisible",
            "Dimensions": [{"Name": "QueueName", "Value": "jobs"}],
        },
        "Stat": "Sum",
    },
    "ReturnData": False,
}
_BACKLOG = {
    "Id": "backlog",
    "Expression": "IF(running > 0, visible / running, visible)",
    "Label": "per task",
    "ReturnData": True,
}


def test_stock_moto_has_no_metric_math_gap_to_fill() -> None:
    # The AWS provider reads a queue worker's policies and alarm back after each apply; a field
    # moto dropped would show as a change in every plan. There is no gap: stock moto answers the
    # customized metric's Metrics (metric math) and the alarm's Metrics as they were sent. If a
    # moto ever drops one, this fails, and a fill becomes worth writing.
    import boto3
    from moto import mock_aws

    with mock_aws():
        ecs, ec2 = (boto3.client(name, region_name="us-east-1") for name in ("ecs", "ec2"))
        _service_on(ecs, ec2, "math", _task_definition(ecs, "math"))
        scaling = boto3.client("application-autoscaling", region_name="us-east-1")
        target = {
            "ServiceNamespace": "ecs",
            "ResourceId": f"service/{CLUSTER}/math",
            "ScalableDimension": "ecs:service:DesiredCount",
        }
        scaling.register_scalable_target(**target, MinCapacity=0, MaxCapacity=4)
        tracking = {
            "TargetValue": 10.0,
            "ScaleInCooldown": 300,
            "ScaleOutCooldown": 60,
            "CustomizedMetricSpecification": {"Metrics": [_VISIBLE_QUERY, _BACKLOG]},
        }
        step = {
            "AdjustmentType": "ChangeInCapacity",
            "Cooldown": 60,
            "MetricAggregationType": "Maximum",
            "StepAdjustments": [{"MetricIntervalLowerBound": 0.0, "ScalingAdjustment": 1}],
        }
        # WHEN the target-tracking and the step policy are put, and an alarm on metric math
        scaling.put_scaling_policy(
            **target,
            PolicyName="backlog",
            PolicyType="TargetTrackingScaling",
            TargetTrackingScalingPolicyConfiguration=tracking,
        )
        start_arn = scaling.put_scaling_policy(
            **target, PolicyName="start", PolicyType="StepScaling", StepScalingPolicyConfiguration=step
        )["PolicyARN"]
        alarm_queries = [
            {**_VISIBLE_QUERY, "MetricStat": {**_VISIBLE_QUERY["MetricStat"], "Period": 60}},  # type: ignore[dict-item]
            {
                "Id": "waiting",
                "Expression": "IF(FILL(desired, 0) < 1, visible, 0)",
                "Label": "l",
                "ReturnData": True,
            },
        ]
        cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
        cloudwatch.put_metric_alarm(
            AlarmName="waiting",
            ComparisonOperator="GreaterThanOrEqualToThreshold",
            EvaluationPeriods=1,
            Threshold=1.0,
            TreatMissingData="notBreaching",
            AlarmActions=[start_arn],
            Metrics=alarm_queries,
        )
        # THEN each is described as it was sent
        policies = {
            p["PolicyName"]: p
            for p in scaling.describe_scaling_policies(ServiceNamespace="ecs")["ScalingPolicies"]
        }
        assert policies["backlog"]["TargetTrackingScalingPolicyConfiguration"] == tracking
        assert policies["start"]["StepScalingPolicyConfiguration"] == step
        (alarm,) = cloudwatch.describe_alarms(AlarmNames=["waiting"])["MetricAlarms"]
        assert alarm["Metrics"] == alarm_queries
        assert (alarm["AlarmActions"], alarm["TreatMissingData"]) == ([start_arn], "notBreaching")


# Races. The AWS provider sends many requests at once, each on a new connection, to a server
# that answers each in a thread of its own. The servers below run in a subprocess, stock
# (`Emulator(fills=False)`) or the project's (`devkit.moto_server`), with the interpreter's thread switch
# interval shrunk from 5 ms to 0.1 ms, so that request threads interleave as they do under a
# loaded machine, every run rather than now and then.
SWITCH_INTERVAL = 0.0001


@pytest.fixture(scope="module")
def stock_server() -> Iterator[str]:
    with Emulator(running_count=0, fills=False, switch_interval=SWITCH_INTERVAL) as running:
        yield running.endpoint


@pytest.fixture(scope="module")
def project_server() -> Iterator[str]:
    with Emulator(running_count=0, switch_interval=SWITCH_INTERVAL) as running:
        yield running.endpoint


def _client(endpoint: str, service: str) -> Any:
    """A client of its own (one per thread, as boto3 wants), that does not retry: a 500 is seen."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        config=Config(retries={"total_max_attempts": 1}),
    )


def _at_once(work: Callable[[int], None], threads: int) -> None:
    """``work(0)`` … ``work(threads - 1)``, each in a thread of its own, started together."""
    start = threading.Barrier(threads)
    failures: list[BaseException] = []

    def run(index: int) -> None:
        start.wait()
        try:
            work(index)
        except BaseException as exc:  # re-raised below, in the test's thread
            failures.append(exc)

    workers = [threading.Thread(target=run, args=(index,)) for index in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    if failures:
        raise failures[0]


CLUSTERS = [f"tagged-{index}" for index in range(30)]


def _wrong_tag_answers(endpoint: str) -> int:
    """DescribeClusters of 30 tagged clusters from 4 threads at once, 10 times each: half ask for the
    tags (include=["TAGS"]), half do not. Returns how many clusters came back with tags their
    request did not ask for, or without the tags it asked for."""
    ecs = _client(endpoint, "ecs")
    for name in CLUSTERS:
        ecs.create_cluster(clusterName=name, tags=[{"key": "Project", "value": "shop"}])
    wrong: list[str] = []

    def describe(index: int) -> None:
        client, with_tags = _client(endpoint, "ecs"), index % 2 == 0
        for _ in range(10):
            include = ["TAGS"] if with_tags else []
            clusters = client.describe_clusters(clusters=CLUSTERS, include=include)["clusters"]
            wrong.extend(c["clusterName"] for c in clusters if ("tags" in c) != with_tags)

    _at_once(describe, threads=4)
    return len(wrong)


def test_stock_moto_shares_what_one_request_includes_with_the_others(stock_server: str) -> None:
    # GIVEN stock moto's threaded server
    # WHEN clusters are described at once with and without include=["TAGS"]
    # THEN some answers have tags they did not ask for, or lack tags they asked for: moto keeps
    # the option in a dict of the response class, shared by all requests, until the answer is
    # written. (The first such request on a fresh server makes that dict change size under
    # another answer's serializer: an HTTP 500 after the action was done, which the SDK retries,
    # registering a task definition twice.) A fixed moto: drop the fill.
    assert _wrong_tag_answers(stock_server) > 0


def test_what_a_request_includes_is_for_its_own_answer(project_server: str) -> None:
    # GIVEN the project's emulator, under the same interleaving
    # WHEN clusters are described at once with and without include=["TAGS"]
    # THEN each answer has tags if and only if its request asked for them, as in ECS
    assert _wrong_tag_answers(project_server) == 0


# STS GetCallerIdentity as the provider sends it: any signature passes, the credential scope
# names the service. Sent on raw sockets, to see how each response arrives.
_CALLER_IDENTITY = b"Action=GetCallerIdentity&Version=2011-06-15"
_CALLER_IDENTITY_REQUEST = (
    b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
    b"Authorization: AWS4-HMAC-SHA256 Credential=emulator/20260101/us-east-1/sts/aws4_request, "
    b"SignedHeaders=host, Signature=0\r\n"
    b"Content-Length: %d\r\n\r\n%s" % (len(_CALLER_IDENTITY), _CALLER_IDENTITY)
)


def _responses_split_after_the_headers(endpoint: str) -> int:
    """100 requests from 4 threads at once, each on a new connection (as every request is, the
    server closing each): how many responses first arrived as headers without their body."""
    port = int(endpoint.rsplit(":", 1)[1])
    split: list[bytes] = []

    def ask(_: int) -> None:
        for _request in range(25):
            with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
                connection.sendall(_CALLER_IDENTITY_REQUEST)
                received = connection.recv(65536)  # what has arrived when the client wakes up
                head, _blank_line, body = received.partition(b"\r\n\r\n")
                match = re.search(rb"content-length: *(\d+)", head, re.IGNORECASE)
                assert head.startswith(b"HTTP/1.1 200") and match, head
                if len(body) < int(match.group(1)):
                    split.append(head)
                while len(body) < int(match.group(1)) and (more := connection.recv(65536)):
                    body += more
                assert b"<Arn>" in body

    _at_once(ask, threads=4)
    return len(split)


def test_stock_moto_sends_the_headers_and_the_body_apart(stock_server: str) -> None:
    # GIVEN stock moto's threaded server, answering requests that arrive at once
    # WHEN each response is read as soon as its first bytes arrive
    # THEN many arrive as headers alone: werkzeug sends the headers, then the body, and the
    # thread, giving up the GIL in the first send, waits its turn for the second. The AWS
    # provider now and then gives up such a connection after the headers and retries a
    # request the server has carried out (PriorityInUse on CreateRule, InvalidPermission.NotFound
    # on the default egress rule's revoke, InvalidGroup.Duplicate on CreateSecurityGroup).
    assert _responses_split_after_the_headers(stock_server) > 0


def test_each_response_arrives_whole(project_server: str) -> None:
    # GIVEN the project's emulator, under the same interleaving
    # WHEN each response is read as soon as its first bytes arrive
    # THEN each arrives whole: headers and body leave the server in one send
    assert _responses_split_after_the_headers(project_server) == 0


# --- scheduled jobs: the schedule, and the times of the tasks it starts -------------------------

# What the AWS provider 5.100 sends for a job's schedule (the fields of aws_scheduler_schedule the
# stacks set), in Scheduler's names: the test below reads each back from stock moto.
_SCHEDULE: dict[str, Any] = {
    "Name": "gap-local-report",
    "GroupName": "default",
    "ScheduleExpression": "cron(0 3 * * ? *)",
    "ScheduleExpressionTimezone": "Europe/Paris",
    "State": "DISABLED",
    "FlexibleTimeWindow": {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 30},
    "Target": {
        "Arn": "arn:aws:ecs:us-east-1:123456789012:cluster/gap-local",
        "RoleArn": "arn:aws:iam::123456789012:role/gap-local-report-sched",
        "RetryPolicy": {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 86400},
        "EcsParameters": {
            "TaskDefinitionArn": "arn:aws:ecs:us-east-1:123456789012:task-definition/gap-local-report:2",
            "TaskCount": 1,
            "CapacityProviderStrategy": [{"capacityProvider": "FARGATE_SPOT", "weight": 1, "base": 0}],
            "NetworkConfiguration": {
                "awsvpcConfiguration": {
                    "Subnets": ["subnet-1"],
                    "SecurityGroups": ["sg-1"],
                    "AssignPublicIp": "DISABLED",
                }
            },
            "Group": "job:gap-local-report",
            "EnableECSManagedTags": True,
            "EnableExecuteCommand": False,
            "PropagateTags": "TASK_DEFINITION",
        },
    },
}


def test_stock_moto_has_no_schedule_gap_to_fill() -> None:
    # The job's schedule needs no fill: stock moto keeps every field the provider sends and reads
    # it back as sent (a dropped one would show as a change in every plan; the end-to-end test
    # plans again after each deploy). If a moto release drops one, this fails, and a fill becomes
    # worth writing. Its gap is elsewhere: it runs nothing (the e2e test runs the target by hand).
    import boto3
    from moto import mock_aws

    with mock_aws():
        scheduler = boto3.client("scheduler", region_name="us-east-1")
        # WHEN the schedule is created, then updated to a new revision, as a release does
        scheduler.create_schedule(**_SCHEDULE)
        created = scheduler.get_schedule(Name=_SCHEDULE["Name"], GroupName="default")
        moved = {
            **_SCHEDULE["Target"]["EcsParameters"],
            "TaskDefinitionArn": "arn:aws:ecs:us-east-1:123456789012:task-definition/gap-local-report:3",
        }
        scheduler.update_schedule(**{**_SCHEDULE, "Target": {**_SCHEDULE["Target"], "EcsParameters": moved}})
        updated = scheduler.get_schedule(Name=_SCHEDULE["Name"], GroupName="default")
    # THEN each read gives back what was sent
    for read, target in (
        (created, _SCHEDULE["Target"]),
        (updated, {**_SCHEDULE["Target"], "EcsParameters": moved}),
    ):
        assert {k: read[k] for k in _SCHEDULE} == {**_SCHEDULE, "Target": target}


def _task_of(ecs: Any, ec2: Any) -> str:
    """A Fargate task run with a group, as a job's schedule runs one; its ARN."""
    subnets = [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]][:1]
    ecs.create_cluster(clusterName="timed")
    revision = ecs.register_task_definition(
        family="timed",
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        containerDefinitions=[{"name": "job", "image": "busybox", "memory": 128}],
    )["taskDefinition"]["taskDefinitionArn"]
    started = ecs.run_task(
        cluster="timed",
        taskDefinition=revision,
        launchType="FARGATE",
        group="job:timed",
        networkConfiguration={"awsvpcConfiguration": {"subnets": subnets, "securityGroups": []}},
    )
    return str(started["tasks"][0]["taskArn"])


def _until_stopped(ecs: Any, arn: str) -> dict[str, Any]:
    for _ in range(10):
        (task,) = ecs.describe_tasks(cluster="timed", tasks=[arn])["tasks"]
        if task["lastStatus"] == "STOPPED":
            return dict(task)
    raise AssertionError("the task never stopped")


def test_stock_moto_reports_no_task_times() -> None:
    # GIVEN stock moto, in this process (install() only patches the server process)
    import boto3
    from moto import mock_aws

    with mock_aws():
        ecs, ec2 = (boto3.client(name, region_name="us-east-1") for name in ("ecs", "ec2"))
        # WHEN a task runs to its end THEN DescribeTasks never says when it was created or stopped
        task = _until_stopped(ecs, _task_of(ecs, ec2))
    assert task["group"] == "job:timed"
    assert not {"createdAt", "startedAt", "stoppedAt"} & set(task), (
        "moto reports task times now: drop the fill"
    )


def test_tasks_say_when_they_were_created_started_and_stopped(emulator: Emulator) -> None:
    ecs = emulator.client("ecs")
    arn = _task_of(ecs, emulator.client("ec2"))
    # WHEN the task is described while it runs, then once it stopped
    (running,) = ecs.describe_tasks(cluster="timed", tasks=[arn])["tasks"]
    stopped = _until_stopped(ecs, arn)
    # THEN as in ECS: created and started at RunTask, stopped once it stopped, and no earlier
    assert "stoppedAt" not in running
    assert running["createdAt"] == stopped["createdAt"] == stopped["startedAt"]
    assert stopped["stoppedAt"] >= stopped["createdAt"]
    (again,) = ecs.describe_tasks(cluster="timed", tasks=[arn])["tasks"]
    assert again["stoppedAt"] == stopped["stoppedAt"]
