"""The emulator's fills for moto's gaps (devkit/moto_server.py), each checked against the running server.

Each test also shows the gap is still there in stock moto, so a fill that a newer moto
makes unnecessary is noticed and removed rather than kept silently.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from devkit.emulator import Emulator

CLUSTER = "fills"


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with Emulator(running_count=1) as running:
        yield running


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
