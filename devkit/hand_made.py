"""A service made outside ecs-cd, as a team runs one before adopting it: a cluster, a task
definition, its log group and execution role, its own security group, a target group behind an
existing load balancer's listener, a Fargate service with a tag of its own, and target-tracking
autoscaling, each under the team's names (not those ecs-cd would derive). Made with boto3,
never through Terraform: the adoption tests and the README's walk-through start from it.

``python -m devkit.hand_made --endpoint URL --listener-arn ARN --lb-group SG`` makes one on a
running emulator and prints what it made.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass
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


def main(argv: list[str] | None = None) -> None:
    import boto3

    parser = argparse.ArgumentParser(prog="python -m devkit.hand_made", description=__doc__)
    parser.add_argument("--endpoint", required=True, help="The emulator, e.g. http://127.0.0.1:5000")
    parser.add_argument("--listener-arn", required=True)
    parser.add_argument("--lb-group", required=True, help="The load balancer's security group")
    args = parser.parse_args(argv)

    def clients(name: str) -> Any:
        return boto3.client(
            name,
            region_name=REGION,
            endpoint_url=args.endpoint,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
        )

    made = make_service(clients, listener_arn=args.listener_arn, lb_group=args.lb_group)
    print(json.dumps(asdict(made), indent=2))


if __name__ == "__main__":
    main()
