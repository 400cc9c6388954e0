"""An ECS cluster."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from cdktf_cdktf_provider_aws.data_aws_ecs_cluster import DataAwsEcsCluster
from cdktf_cdktf_provider_aws.ecs_cluster import EcsCluster as AwsEcsCluster
from cdktf_cdktf_provider_aws.ecs_cluster import EcsClusterSetting
from constructs import Construct

from ecs_cd.core.aws_formats import validate_ecs_name

if TYPE_CHECKING:
    from cdktf_cdktf_provider_aws.ecs_cluster_capacity_providers import EcsClusterCapacityProviders


class ClusterRef(Protocol):
    """What a service needs of its cluster."""

    @property
    def name(self) -> str: ...

    @property
    def arn(self) -> str: ...

    @property
    def capacity_providers(self) -> EcsClusterCapacityProviders | None: ...


class EcsCluster(Construct):
    """An ECS cluster with CloudWatch Container Insights on by default."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        name: str,
        container_insights: bool = True,
        capacity_providers: Sequence[str] = (),
        adopt: bool = False,
    ) -> None:
        """``name``: cluster name (required); ``container_insights``: default True;
        ``capacity_providers`` (default none): the providers services' strategies may name
        (``FARGATE``, ``FARGATE_SPOT``, EC2 providers made elsewhere), in
        ``capacity-providers`` (the cluster's whole set: Terraform owns it); ``adopt`` (default
        False): the live cluster of that name is imported (a Terraform import block) instead of
        created."""
        super().__init__(scope, id_)
        validate_ecs_name(name)
        if len(set(capacity_providers)) != len(capacity_providers):
            raise ValueError("capacity_providers names a provider twice")
        self._name = name
        self._cluster = AwsEcsCluster(
            self,
            "cluster",
            name=name,
            setting=[
                EcsClusterSetting(
                    name="containerInsights",
                    value="enabled" if container_insights else "disabled",
                )
            ],
        )
        if adopt:
            self._cluster.import_from(name)
        self._capacity_providers: EcsClusterCapacityProviders | None = None
        if capacity_providers:
            # Loaded only by a cluster that has providers (the fast import path stays small).
            from cdktf_cdktf_provider_aws.ecs_cluster_capacity_providers import EcsClusterCapacityProviders

            self._capacity_providers = EcsClusterCapacityProviders(
                self,
                "capacity-providers",
                cluster_name=self._cluster.name,
                capacity_providers=list(capacity_providers),
            )

    @property
    def capacity_providers(self) -> EcsClusterCapacityProviders | None:
        """The ``aws_ecs_cluster_capacity_providers`` (with ``capacity_providers`` only)."""
        return self._capacity_providers

    @property
    def cluster(self) -> AwsEcsCluster:
        """The ``aws_ecs_cluster`` resource."""
        return self._cluster

    @property
    def name(self) -> str:
        """The cluster name, known at synth time."""
        return self._name

    @property
    def arn(self) -> str:
        """A token for the cluster ARN."""
        return self._cluster.arn


class ExistingCluster(Construct):
    """A cluster made elsewhere (another stack), found by name at plan time."""

    def __init__(self, scope: Construct, id_: str, *, name: str) -> None:
        """``name``: the cluster name (required)."""
        super().__init__(scope, id_)
        validate_ecs_name(name)
        self._name = name
        self._lookup = DataAwsEcsCluster(self, "lookup", cluster_name=name)

    @property
    def capacity_providers(self) -> None:
        """None: another stack attaches the cluster's providers (and is deployed first)."""
        return None

    @property
    def lookup(self) -> DataAwsEcsCluster:
        """The ``aws_ecs_cluster`` data source."""
        return self._lookup

    @property
    def name(self) -> str:
        """The cluster name, known at synth time."""
        return self._name

    @property
    def arn(self) -> str:
        """A token for the cluster ARN."""
        return self._lookup.arn
