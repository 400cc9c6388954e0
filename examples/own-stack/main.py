"""A stack of your own, built from the installed ecs-cd constructs as another repository would.

One Fargate service on a new cluster: the app container's tag is read from the SSM parameter
CI writes, and a pinned OpenTelemetry collector runs beside it. No configuration file: the
values are literals here (replace the VPC and subnet ids with yours).

    pip install ecs-cd   # or the wheel / a git checkout of ecs-cd; see docs/release/install.md
    python main.py       # or: npx cdktf synth  (writes cdktf.out/stacks/own-stack/cdk.tf.json)
"""

from __future__ import annotations

from cdktf import App, TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider
from constructs import Construct

from constructs_lib.cluster import EcsCluster
from constructs_lib.container import ContainerProps
from constructs_lib.images import Fixed, SsmTag
from constructs_lib.service import Service, ServiceProps
from constructs_lib.task_definition import TaskDefinition
from constructs_lib.task_definition_props import TaskDefinitionProps

REGION = "eu-west-1"
VPC_ID = "vpc-0123456789abcdef0"
SUBNET_IDS = ("subnet-0123456789abcdef0", "subnet-0fedcba9876543210")


class OwnStack(TerraformStack):
    """A cluster and one service: ``api`` (image from SSM) and ``otel`` (pinned sidecar)."""

    def __init__(self, scope: Construct, id_: str) -> None:
        super().__init__(scope, id_)
        AwsProvider(self, "aws", region=REGION)
        cluster = EcsCluster(self, "cluster", name="orders")

        app = ContainerProps(
            name="api",
            # <repository>:<tag>, the tag being the parameter's value at plan time.
            image=SsmTag(
                repository="123456789012.dkr.ecr.eu-west-1.amazonaws.com/orders-api",
                parameter_name="/orders/api/image-tag",
            ),
            container_port=8080,
            environment={"OTEL_EXPORTER_OTLP_ENDPOINT": "http://localhost:4317"},
            user="1000:1000",
        )
        sidecar = ContainerProps(
            name="otel",
            # Pinned: a release of the app leaves it as it is.
            image=Fixed(reference="public.ecr.aws/aws-observability/aws-otel-collector:v0.43.1"),
            essential=False,
            cpu=64,
            memory=128,
            user="10001",
        )
        task = TaskDefinition(
            self,
            "task",
            props=TaskDefinitionProps(
                family="orders-api",
                containers=(app, sidecar),
                region=REGION,
                log_group_name="/ecs/orders-api",
                execution_role_name="orders-api-execution",
                task_role_name="orders-api-task",
                cpu=512,
                memory=1024,
            ),
        )
        Service(
            self,
            "service",
            props=ServiceProps(
                task_definition=task,
                cluster_arn=cluster.arn,
                cluster_name=cluster.name,
                service_name="orders-api",
                vpc_id=VPC_ID,
                subnets=SUBNET_IDS,
                security_group_name="orders-api-tasks",
                desired_count=2,
            ),
        )


def main() -> None:
    app = App()  # the output directory: CDKTF_OUTDIR, default cdktf.out
    OwnStack(app, "own-stack")
    app.synth()


if __name__ == "__main__":
    main()
