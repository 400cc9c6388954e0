"""A service made outside ecs-cd, as a team runs one before adopting it: a cluster, a task
definition, its log group and execution role, its own security group, a target group behind an
existing load balancer's listener, a Fargate service with a tag of its own, and target-tracking
autoscaling, each under the team's names (not those ecs-cd would derive). Made with boto3,
never through Terraform: the adoption tests and the docs' adoption walk-through start from it.

``python -m devkit.hand_made --endpoint URL --listener-arn ARN --lb-group SG`` makes one on a
running emulator and prints what it made.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from typing import Any

from devkit.emulator import ACCESS_KEY, SECRET_KEY
from devkit.fake_ci import push_image

ACCOUNT = "123456789012"
REGION = "us-east-1"
TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)


@dataclass(frozen=True)
class HandMade:
    cluster: str
    service: str
    service_arn: str
    task_definition: str
    repository: str
    tag: str
    security_group: str
    target_group: str
    listener_rule: str


def make_service(
    clients: Any,
    *,
    listener_arn: str,
    lb_group: str,
    cluster: str = "legacy",
    service: str = "web",
    tag: str = "v1",
    port: int = 8080,
) -> HandMade:
    """Make the service on the emulator ``clients(name)`` reaches (a boto3 client per API)."""
    ecs, ec2, elbv2, logs, iam = (clients(n) for n in ("ecs", "ec2", "elbv2", "logs", "iam"))
    scaling, ecr = clients("application-autoscaling"), clients("ecr")
    push_image(ecr, f"{cluster}-{service}", tag)
    repository = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{cluster}-{service}"
    ecs.create_cluster(clusterName=cluster)
    logs.create_log_group(logGroupName=f"/{cluster}/{service}")
    role = iam.create_role(RoleName=f"{cluster}-{service}-exec", AssumeRolePolicyDocument=TRUST)["Role"]
    definition = ecs.register_task_definition(
        family=f"{cluster}-{service}",
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        executionRoleArn=role["Arn"],
        containerDefinitions=[
            {
                "name": service,
                "image": f"{repository}:{tag}",
                "essential": True,
                "portMappings": [{"containerPort": port, "protocol": "tcp"}],
                "environment": [{"name": "GREETING", "value": "hello"}],
                "logConfiguration": {
                    "logDriver": "awslogs",
                    "options": {
                        "awslogs-group": f"/{cluster}/{service}",
                        "awslogs-region": REGION,
                        "awslogs-stream-prefix": service,
                    },
                },
            }
        ],
    )["taskDefinition"]
    vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    subnets = [
        s["SubnetId"] for s in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]
    ]
    group = ec2.create_security_group(
        GroupName=f"{cluster}-{service}-tasks", Description="web tasks, made by hand", VpcId=vpc
    )["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=group,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": port,
                "ToPort": port,
                "UserIdGroupPairs": [{"GroupId": lb_group, "Description": "from the load balancer"}],
            }
        ],
    )
    target_group = elbv2.create_target_group(
        Name=f"{cluster}-{service}",
        Protocol="HTTP",
        Port=port,
        VpcId=vpc,
        TargetType="ip",
        HealthCheckPath="/health",
    )["TargetGroups"][0]["TargetGroupArn"]
    rule = elbv2.create_rule(
        ListenerArn=listener_arn,
        Priority=10,
        Conditions=[{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/web/*"]}}],
        Actions=[{"Type": "forward", "TargetGroupArn": target_group}],
    )["Rules"][0]["RuleArn"]
    created = ecs.create_service(
        cluster=cluster,
        serviceName=service,
        taskDefinition=definition["taskDefinitionArn"],
        desiredCount=1,
        launchType="FARGATE",
        networkConfiguration={
            "awsvpcConfiguration": {
                "subnets": subnets,
                "securityGroups": [group],
                "assignPublicIp": "ENABLED",
            }
        },
        loadBalancers=[{"targetGroupArn": target_group, "containerName": service, "containerPort": port}],
        healthCheckGracePeriodSeconds=60,
        deploymentConfiguration={
            "minimumHealthyPercent": 100,
            "maximumPercent": 200,
            "deploymentCircuitBreaker": {"enable": True, "rollback": True},
        },
        tags=[{"key": "Team", "value": "payments"}],
    )["service"]
    resource = f"service/{cluster}/{service}"
    scaling.register_scalable_target(
        ServiceNamespace="ecs",
        ResourceId=resource,
        ScalableDimension="ecs:service:DesiredCount",
        MinCapacity=1,
        MaxCapacity=3,
    )
    scaling.put_scaling_policy(
        PolicyName=f"{service}-cpu",
        ServiceNamespace="ecs",
        ResourceId=resource,
        ScalableDimension="ecs:service:DesiredCount",
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={
            "TargetValue": 70.0,
            "PredefinedMetricSpecification": {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"},
        },
    )
    return HandMade(
        cluster=cluster,
        service=service,
        service_arn=created["serviceArn"],
        task_definition=definition["taskDefinitionArn"],
        repository=repository,
        tag=tag,
        security_group=group,
        target_group=target_group,
        listener_rule=rule,
    )


STARTER = """# A team's configuration before adoption: its project and the environment the service runs in
# (written by `python -m devkit.hand_made`; `ecs-release adopt` appends the service).
[project]
name = "shop"

[environments.brownfield]
region = "us-east-1"
emulator_endpoint = "{endpoint}"
network = {{ use_default_vpc = true, assign_public_ip = true }}
state = {{ backend = "local", path = "terraform.brownfield.tfstate" }}
# The team's own load balancer, made by hand too: ecs-cd adds rules to its listener.
load_balancer = {setting}
"""


def main(argv: list[str] | None = None) -> int:
    """`python -m devkit.hand_made CONFIG`: on the emulator (ECS_CD_EMULATOR_ENDPOINT), make a
    load balancer and a service under the team's own names, with boto3 as a team made it by
    hand, and write CONFIG: the team's configuration before adoption (its environment
    `brownfield`, no service yet)."""
    import os
    import sys
    from pathlib import Path

    import boto3

    from devkit.load_balancer import existing_load_balancer

    parser = argparse.ArgumentParser(prog="python -m devkit.hand_made", description=main.__doc__)
    parser.add_argument("config", type=Path, help="The configuration file to write (must not exist).")
    args = parser.parse_args(argv)
    endpoint = os.environ.get("ECS_CD_EMULATOR_ENDPOINT")
    if not endpoint:
        print("error: set ECS_CD_EMULATOR_ENDPOINT (python -m devkit.emulator prints it)", file=sys.stderr)
        return 2
    if args.config.exists():
        print(f"error: {args.config} exists: give a new file", file=sys.stderr)
        return 2

    def clients(name: str) -> Any:
        return boto3.client(
            name,
            region_name=REGION,
            endpoint_url=endpoint,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
        )

    balancer = existing_load_balancer(clients("ec2"), clients("elbv2"), "team-alb")
    made = make_service(clients, listener_arn=balancer.listener_arn, lb_group=balancer.security_group_id)
    args.config.write_text(STARTER.format(endpoint=endpoint, setting=balancer.setting), encoding="utf-8")
    print(
        f"made by hand: service {made.service} on cluster {made.cluster} ({made.repository}:{made.tag}), "
        f"behind team-alb; wrote {args.config}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
