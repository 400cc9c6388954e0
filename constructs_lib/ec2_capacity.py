"""Container instances for a cluster: an EC2 Auto Scaling group and the capacity provider that scales it."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.autoscaling_group import (
    AutoscalingGroup,
    AutoscalingGroupLaunchTemplate,
    AutoscalingGroupTag,
)
from cdktf_cdktf_provider_aws.data_aws_ssm_parameter import DataAwsSsmParameter
from cdktf_cdktf_provider_aws.ecs_capacity_provider import (
    EcsCapacityProvider,
    EcsCapacityProviderAutoScalingGroupProvider,
    EcsCapacityProviderAutoScalingGroupProviderManagedScaling,
)
from cdktf_cdktf_provider_aws.iam_instance_profile import IamInstanceProfile
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.launch_template import (
    LaunchTemplate,
    LaunchTemplateBlockDeviceMappings,
    LaunchTemplateBlockDeviceMappingsEbs,
    LaunchTemplateIamInstanceProfile,
    LaunchTemplateMetadataOptions,
    LaunchTemplateMonitoring,
)
from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.vpc_security_group_egress_rule import VpcSecurityGroupEgressRule
from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule
from constructs import Construct

from constructs_lib.container import DYNAMIC_HOST_PORTS
from constructs_lib.ec2_capacity_props import Ec2CapacityProps
from ecs_cd.core.aws_regions import partition

# What the ECS agent on an instance does, by the resources each action allows
# (DiscoverPollEndpoint has no resource-level form).
_AGENT_ON_CLUSTER = ["ecs:RegisterContainerInstance", "ecs:DeregisterContainerInstance", "ecs:Submit*"]
_AGENT_ON_INSTANCES = [
    "ecs:Poll",
    "ecs:StartTelemetrySession",
    "ecs:PutSystemLogEvents",
    "ecs:UpdateContainerInstancesState",
    "ecs:Submit*",
]


def instance_policy(*, region: str, account_id: str, cluster_name: str) -> str:
    """The instance role's policy: the ECS agent's calls on its own cluster and instances only.
    Images and logs go through each task's execution role, secrets too."""
    ecs = f"arn:{partition(region)}:ecs:{region}:{account_id}"
    cluster_arn = f"{ecs}:cluster/{cluster_name}"
    instances = f"{ecs}:container-instance/{cluster_name}/*"
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "AgentCluster",
                    "Effect": "Allow",
                    "Action": _AGENT_ON_CLUSTER,
                    "Resource": cluster_arn,
                },
                {
                    "Sid": "AgentInstances",
                    "Effect": "Allow",
                    "Action": _AGENT_ON_INSTANCES,
                    "Resource": instances,
                },
                {
                    "Sid": "AgentEndpoint",
                    "Effect": "Allow",
                    "Action": ["ecs:DiscoverPollEndpoint"],
                    "Resource": "*",
                },
            ],
        }
    )


class Ec2Capacity(Construct):
    """An Auto Scaling group of ECS-optimized instances joined to ``cluster_name``, and the
    ``aws_ecs_capacity_provider`` (``provider``) that scales it; attach the provider to the
    cluster (``EcsCluster(capacity_providers=[capacity.provider.name])``).

    The instances: IMDSv2 only, one hop (containers in bridge mode cannot reach the instance's
    credentials), an encrypted root volume, detailed monitoring, a security group with HTTPS
    out only; ``admit`` lets a load balancer's group in on the tasks' host ports."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        props: Ec2CapacityProps,
        name: str,
        cluster_name: str,
        vpc_id: str,
        subnets: Sequence[str],
        region: str,
        account_id: str,
    ) -> None:
        """``name``: the provider's (``props.name`` wins when set); ``cluster_name``: the cluster
        the instances join; ``vpc_id``/``subnets``: where they run; ``region`` and ``account_id``
        (may be a token): the cluster's, for the instance role's resources."""
        super().__init__(scope, id_)
        name = props.name or name
        self._props = props
        # The ECS-optimized image the instances boot, read from SSM when Terraform plans.
        ami = DataAwsSsmParameter(self, "ami", name=props.ami_parameter)
        profile = self._add_instance_profile(
            name,
            policy=instance_policy(region=region, account_id=account_id, cluster_name=cluster_name),
        )
        self._security_group = self._add_security_group(name, cluster_name=cluster_name, vpc_id=vpc_id)
        template = self._add_launch_template(name, cluster_name=cluster_name, ami=ami, profile=profile)
        self._group = self._add_group(name, template=template, subnets=subnets)
        self._provider = self._add_capacity_provider(name)

    def _add_instance_profile(self, name: str, *, policy: str) -> IamInstanceProfile:
        """The instances' role (``instance_policy``: the ECS agent's calls) and its profile."""
        role = IamRole(
            self,
            "instance-role",
            name=f"{name}-instance",
            assume_role_policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "ec2.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
            ),
        )
        IamRolePolicy(self, "instance-policy", name="ecs-agent", role=role.id, policy=policy)
        return IamInstanceProfile(self, "instance-profile", name=f"{name}-instance", role=role.name)

    def _add_security_group(self, name: str, *, cluster_name: str, vpc_id: str) -> SecurityGroup:
        """HTTPS out only; ``admit`` lets a load balancer in."""
        group = SecurityGroup(
            self,
            "security-group",
            name=f"{name}-instances",
            description=f"Container instances of {cluster_name}: HTTPS out; in only what you admit",
            vpc_id=vpc_id,
        )
        VpcSecurityGroupEgressRule(
            self,
            "egress-https",
            security_group_id=group.id,
            description="HTTPS to ECS, ECR and the registries the tasks pull from",
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            cidr_ipv4="0.0.0.0/0",
        )
        return group

    def _add_launch_template(
        self, name: str, *, cluster_name: str, ami: DataAwsSsmParameter, profile: IamInstanceProfile
    ) -> LaunchTemplate:
        """Instances that join ``cluster_name``: IMDSv2 with one hop, an encrypted root volume,
        detailed monitoring."""
        user_data = f"#!/bin/bash\necho ECS_CLUSTER={cluster_name} >> /etc/ecs/ecs.config\n"
        return LaunchTemplate(
            self,
            "launch-template",
            name=name,
            image_id=ami.insecure_value,
            instance_type=self._props.instance_type,
            iam_instance_profile=LaunchTemplateIamInstanceProfile(arn=profile.arn),
            vpc_security_group_ids=[self._security_group.id],
            user_data=base64.b64encode(user_data.encode()).decode(),
            ebs_optimized="true",
            # One hop: containers in bridge mode cannot reach the instance's credentials.
            metadata_options=LaunchTemplateMetadataOptions(
                http_endpoint="enabled", http_tokens="required", http_put_response_hop_limit=1
            ),
            monitoring=LaunchTemplateMonitoring(enabled=True),
            block_device_mappings=[
                LaunchTemplateBlockDeviceMappings(
                    device_name="/dev/xvda",
                    ebs=LaunchTemplateBlockDeviceMappingsEbs(
                        volume_size=self._props.root_volume_gib,
                        volume_type="gp3",
                        encrypted="true",
                        delete_on_termination="true",
                    ),
                )
            ],
        )

    def _add_group(self, name: str, *, template: LaunchTemplate, subnets: Sequence[str]) -> AutoscalingGroup:
        props = self._props
        return AutoscalingGroup(
            self,
            "group",
            name=name,
            min_size=props.min_size,
            max_size=props.max_size,
            vpc_zone_identifier=list(subnets),
            launch_template=AutoscalingGroupLaunchTemplate(id=template.id, version="$Latest"),
            protect_from_scale_in=props.managed_termination_protection,
            # ECS's managed scaling tags the group it manages; Terraform keeps the tag as ECS wants it.
            tag=[AutoscalingGroupTag(key="AmazonECSManaged", value="true", propagate_at_launch=True)],
            # Managed scaling sets the desired capacity: a deploy must not reset it.
            lifecycle=TerraformResourceLifecycle(ignore_changes=["desired_capacity"]),
        )

    def _add_capacity_provider(self, name: str) -> EcsCapacityProvider:
        """The provider that scales the group to the tasks' needs (managed scaling)."""
        props = self._props
        return EcsCapacityProvider(
            self,
            "provider",
            name=name,
            auto_scaling_group_provider=EcsCapacityProviderAutoScalingGroupProvider(
                auto_scaling_group_arn=self._group.arn,
                managed_termination_protection="ENABLED"
                if props.managed_termination_protection
                else "DISABLED",
                managed_scaling=EcsCapacityProviderAutoScalingGroupProviderManagedScaling(
                    status="ENABLED", target_capacity=props.target_capacity_percent
                ),
            ),
        )

    def admit(self, *, load_balancer_group_id: str, host_ports: Sequence[int] = (0,)) -> None:
        """Admit the load balancer's group on the tasks' ``host_ports`` (default ``(0,)``): a 0 (a
        dynamic host port, bridge) adds ``ingress-from-lb`` on 32768-65535; any other port (host
        networking, or a fixed bridge port) ``ingress-from-lb-<port>``, unless that range holds it.
        Call it once, with every port."""
        low, high = DYNAMIC_HOST_PORTS
        dynamic = 0 in host_ports
        if dynamic:
            VpcSecurityGroupIngressRule(
                self,
                "ingress-from-lb",
                security_group_id=self._security_group.id,
                description="the load balancer, on the tasks' dynamic host ports",
                ip_protocol="tcp",
                from_port=low,
                to_port=high,
                referenced_security_group_id=load_balancer_group_id,
            )
        for port in sorted(set(host_ports)):
            if port == 0 or (dynamic and low <= port <= high):
                continue
            VpcSecurityGroupIngressRule(
                self,
                f"ingress-from-lb-{port}",
                security_group_id=self._security_group.id,
                description=f"the load balancer, on the tasks' host port {port}",
                ip_protocol="tcp",
                from_port=port,
                to_port=port,
                referenced_security_group_id=load_balancer_group_id,
            )

    @property
    def props(self) -> Ec2CapacityProps:
        """The props it was built from."""
        return self._props

    @property
    def provider(self) -> EcsCapacityProvider:
        """The ``aws_ecs_capacity_provider``."""
        return self._provider

    @property
    def group(self) -> AutoscalingGroup:
        """The ``aws_autoscaling_group``."""
        return self._group

    @property
    def security_group(self) -> SecurityGroup:
        """The instances' security group."""
        return self._security_group
