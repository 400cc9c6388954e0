"""An ECS service: a task definition on a cluster, its compute (Fargate, capacity providers or
EC2), its network, deployment safety, an optional load balancer target (a container and its
port) and optional autoscaling."""

from __future__ import annotations

from typing import Annotated

from cdktf import TerraformResource, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.appautoscaling_target import AppautoscalingTarget
from cdktf_cdktf_provider_aws.ecs_service import (
    EcsService,
    EcsServiceAlarms,
    EcsServiceCapacityProviderStrategy,
    EcsServiceDeploymentCircuitBreaker,
    EcsServiceLoadBalancer,
    EcsServiceNetworkConfiguration,
    EcsServiceOrderedPlacementStrategy,
    EcsServicePlacementConstraints,
    EcsServiceServiceConnectConfiguration,
    EcsServiceServiceConnectConfigurationLogConfiguration,
    EcsServiceServiceConnectConfigurationService,
    EcsServiceServiceConnectConfigurationServiceClientAlias,
    EcsServiceServiceConnectConfigurationServiceTimeout,
)
from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from constructs import Construct
from pydantic import Field, StrictBool, StrictInt, StrictStr, model_validator

from constructs_lib.autoscaling import QueueAutoscaling, ServiceAutoscaling
from constructs_lib.checks import skip_check
from constructs_lib.fields import (
    EXTRA_SECURITY_GROUPS,
    SERVICE_SUBNETS,
    ContainerName,
    EcsName,
    SecurityGroupName,
)
from constructs_lib.load_balancer import ListenerAttachment, ServiceTarget
from constructs_lib.props import ConstructProps, problem_text
from constructs_lib.queue_props import ServiceQueue, queue_problems
from constructs_lib.security_group import (
    add_task_security_group,
    admit_load_balancer,
    admit_service_connect_callers,
    open_load_balancer_to_instances,
)
from constructs_lib.service_connect_props import (
    ServiceConnect,
    ServiceConnectEndpoint,
    resolve_endpoint,
    service_connect_problems,
)
from constructs_lib.service_props import (
    Autoscaling,
    Compute,
    Deployment,
    load_balancer_target,
    scaling_problems,
    target_problems,
)
from constructs_lib.task_definition import TaskDefinition
from ecs_cd.core.names import scaling_resource_id


class ServiceOptions(ConstructProps):
    """Everything about a service but its task definition (see ``ServiceProps``).

    - ``cluster_arn``, ``service_name`` and ``vpc_id`` are required; for awsvpc tasks also
      ``subnets`` (1-16; default none) and ``security_group_name`` (default None; the tasks' own
      group, not starting with ``sg-``). Bridge and host tasks use their instance's network.
    - ``compute`` (default ``Compute()``: Fargate): launch type or capacity provider strategy,
      placement on EC2; it must match the task definition's compatibility.
    - ``desired_count`` (default 1; only the initial count with ``autoscaling``),
      ``security_groups`` (default none: at most 4 extra groups, e.g. a database's; ECS allows 5
      with the tasks' own), ``assign_public_ip`` (default False).
    - ``deployment`` (default ``Deployment()``: circuit breaker with rollback).
    - ``load_balancer`` (default None) and ``target_container`` (default None: the first
      container with a ``container_port``): the container and port the target group sends to.
    - ``autoscaling`` (default None; needs ``cluster_name``), ``cluster_name`` (default None).
    - ``queue`` (default None; needs ``cluster_name``, not with ``autoscaling``): a queue worker,
      scaled on its queue's backlog per task (the queue itself is ``AppService``'s).
    - ``wait_for_steady_state`` (default False), ``ignore_changes`` (default none: service
      attributes Terraform should not reconcile).
    - ``cluster_capacity`` (default None): the cluster's capacity providers
      (``EcsCluster.capacity_providers``), which a strategy's service is created after: ECS
      refuses a strategy naming a provider the cluster does not have yet.
    - ``service_connect`` (default None): the service's Service Connect namespace, its server side
      and the groups its tasks join and admit (``ServiceConnect``).
    """

    cluster_arn: StrictStr
    service_name: EcsName
    vpc_id: StrictStr
    subnets: Annotated[tuple[StrictStr, ...], SERVICE_SUBNETS] = ()
    security_group_name: SecurityGroupName | None = None
    compute: Compute = Field(default_factory=Compute)
    desired_count: Annotated[StrictInt, Field(ge=0)] = 1
    security_groups: Annotated[tuple[StrictStr, ...], EXTRA_SECURITY_GROUPS] = ()
    assign_public_ip: StrictBool = False
    deployment: Deployment = Field(default_factory=Deployment)
    load_balancer: ListenerAttachment | None = None
    target_container: ContainerName | None = None
    autoscaling: Autoscaling | None = None
    queue: ServiceQueue | None = None
    cluster_name: StrictStr | None = None
    wait_for_steady_state: StrictBool = False
    ignore_changes: tuple[StrictStr, ...] = ()
    cluster_capacity: TerraformResource | None = None
    service_connect: ServiceConnect | None = None

    @model_validator(mode="after")
    def _options_consistent(self) -> ServiceOptions:
        if self.load_balancer is None and self.target_container is not None:
            raise ValueError("target_container needs load_balancer")
        problems = queue_problems(self.queue, autoscaling=self.autoscaling is not None)
        problems += scaling_problems(self.desired_count, self.autoscaling, self.queue)
        if problems:
            raise ValueError(problem_text(problems))
        for scaler in ("autoscaling", "queue"):
            if getattr(self, scaler) is not None and self.cluster_name is None:
                raise ValueError(
                    f"{scaler} needs cluster_name (its resource id is service/<cluster>/<service>)"
                )
        if self.queue is not None and self.queue.queue_name is None:
            raise ValueError("queue.create needs queue.name (the stacks derive <project>-<env>-<service>)")
        return self


class ServiceProps(ServiceOptions):
    """``ServiceOptions`` and the ``task_definition`` (required) the service runs."""

    task_definition: TaskDefinition

    @model_validator(mode="after")
    def _target_exists(self) -> ServiceProps:
        task = self.task_definition.props
        if self.compute.compatibility != task.compatibility:
            raise ValueError(
                f"compute runs tasks on {self.compute.compatibility} but the task definition is for "
                f"{task.compatibility}"
            )
        public_ip_problem = self.compute.public_ip_problem()
        if self.assign_public_ip and public_ip_problem is not None:
            raise ValueError(f"assign_public_ip is for Fargate: this service {public_ip_problem}")
        if task.network_mode == "awsvpc":
            if not self.subnets or self.security_group_name is None:
                raise ValueError("awsvpc tasks need subnets and security_group_name (their own network)")
        elif self.subnets or self.security_groups or self.assign_public_ip:
            raise ValueError(
                f"subnets, security_groups and assign_public_ip are for awsvpc tasks; {task.network_mode} "
                "tasks use their instance's network"
            )
        if self.load_balancer is not None:
            self.target()
        server = self.service_connect.server if self.service_connect is not None else None
        if server is not None:
            problems = service_connect_problems(self.task_definition.containers, server, task.network_mode)
            if problems:
                raise ValueError(problem_text(problems))
        if self.service_connect is not None and task.network_mode == "host":
            raise ValueError(
                "service_connect: Service Connect runs in awsvpc and bridge networking, not host"
            )
        return self

    def service_connect_endpoint(self) -> ServiceConnectEndpoint | None:
        """The server side resolved against the task (None: no server side)."""
        if self.service_connect is None or self.service_connect.server is None:
            return None
        return resolve_endpoint(self.task_definition.containers, self.service_connect.server)

    @classmethod
    def of(cls, options: ServiceOptions, task_definition: TaskDefinition) -> ServiceProps:
        """``options`` for ``task_definition``, validated together."""
        fields = {name: getattr(options, name) for name in ServiceOptions.model_fields}
        return cls(task_definition=task_definition, **fields)

    def target(self) -> tuple[str, int]:
        """The container and port the load balancer sends to (``ValueError`` if there is none)."""
        containers = self.task_definition.containers
        target = load_balancer_target(containers, self.target_container)
        if target is None:
            raise ValueError(problem_text(target_problems(containers, self.target_container)))
        return target


def _capacity_provider_strategy(compute: Compute) -> list[EcsServiceCapacityProviderStrategy] | None:
    return [
        EcsServiceCapacityProviderStrategy(
            capacity_provider=item.capacity_provider, weight=item.weight, base=item.base
        )
        for item in compute.capacity_provider_strategy
    ] or None


def _circuit_breaker(deployment: Deployment) -> EcsServiceDeploymentCircuitBreaker:
    # The breaker rolls back only when it is on; ``rollback`` alone still rolls back on alarms.
    return EcsServiceDeploymentCircuitBreaker(
        enable=deployment.circuit_breaker, rollback=deployment.rollback and deployment.circuit_breaker
    )


def _alarms(deployment: Deployment) -> EcsServiceAlarms | None:
    if not deployment.alarm_names:
        return None
    return EcsServiceAlarms(
        alarm_names=list(deployment.alarm_names), enable=True, rollback=deployment.rollback
    )


class Service(Construct):
    """An ``aws_ecs_service`` with, for awsvpc tasks, its own security group (``security-group``),
    and with ``lb`` (target group and listener rule), ``autoscaling`` and ``queue-scaling`` (a
    queue worker's) when configured.

    Bridge and host tasks have no group of their own: they use their instance's, which must
    admit the load balancer on the host ports (32768-65535 for dynamic ones)."""

    def __init__(self, scope: Construct, id_: str, *, props: ServiceProps) -> None:
        super().__init__(scope, id_)
        self._props = props
        self._security_group = self._add_security_group()
        self._admit_service_connect_callers()
        self._target = self._attach_load_balancer()
        self._service = self._add_service()
        self._autoscaling = self._add_autoscaling()
        self._queue_scaling = self._add_queue_scaling()

    @property
    def _awsvpc(self) -> bool:
        return self._props.task_definition.props.network_mode == "awsvpc"

    def _add_security_group(self) -> SecurityGroup | None:
        """The tasks' own group (awsvpc tasks only), admitting nothing yet."""
        props = self._props
        if not self._awsvpc:
            return None
        assert props.security_group_name is not None
        return add_task_security_group(
            self, name=props.security_group_name, service_name=props.service_name, vpc_id=props.vpc_id
        )

    def _admit_service_connect_callers(self) -> None:
        """An awsvpc server's group admits the namespace's callers on its proxy's port, and they
        may call it there (a bridge server's tasks are behind their instances' group)."""
        endpoint = self._props.service_connect_endpoint()
        if endpoint is None or self._security_group is None:
            return
        assert self._props.service_connect is not None
        admit_service_connect_callers(
            self,
            server_group_id=self._security_group.id,
            caller_group_ids=self._props.service_connect.caller_group_ids,
            ports=endpoint.ingress_ports("awsvpc"),
            service_name=self._props.service_name,
        )

    def _attach_load_balancer(self) -> ServiceTarget | None:
        """The target group and listener rule, and the way from the load balancer to the tasks:
        into their own group, or out of the load balancer's (when ours) to the instances."""
        props = self._props
        attachment = props.load_balancer
        if attachment is None:
            return None
        container, port = props.target()
        if self._security_group is not None:
            admit_load_balancer(
                self,
                tasks_group=self._security_group,
                load_balancer_group_id=attachment.source_security_group_id,
                port=port,
                service_name=props.service_name,
                open_load_balancer_egress=attachment.open_source_egress,
            )
        elif attachment.open_source_egress:
            task = props.task_definition
            mapping = next(m for m in task.container(container).ports if m.container_port == port)
            open_load_balancer_to_instances(
                self,
                load_balancer_group_id=attachment.source_security_group_id,
                vpc_id=props.vpc_id,
                host_port=mapping.host_port_in(task.props.network_mode),
                service_name=props.service_name,
            )
        return ServiceTarget(
            self,
            "lb",
            attachment=attachment,
            vpc_id=props.vpc_id,
            port=port,
            target_type="ip" if self._awsvpc else "instance",
        )

    def _add_service(self) -> EcsService:
        props = self._props
        compute, deployment, attachment = props.compute, props.deployment, props.load_balancer
        service = EcsService(
            self,
            "service",
            name=props.service_name,
            cluster=props.cluster_arn,
            task_definition=props.task_definition.arn,
            desired_count=props.desired_count,
            launch_type=None if compute.capacity_provider_strategy else compute.launch_type or "FARGATE",
            capacity_provider_strategy=_capacity_provider_strategy(compute),
            ordered_placement_strategy=[
                EcsServiceOrderedPlacementStrategy(type=p.type, field=p.field)
                for p in compute.placement_strategy
            ]
            or None,
            placement_constraints=[
                EcsServicePlacementConstraints(type=c.type, expression=c.expression)
                for c in compute.placement_constraints
            ]
            or None,
            network_configuration=self._network_configuration(),
            load_balancer=self._load_balancers(),
            health_check_grace_period_seconds=attachment.rule.health_check_grace_period_seconds
            if attachment is not None
            else None,
            deployment_minimum_healthy_percent=deployment.minimum_healthy_percent,
            deployment_maximum_percent=deployment.maximum_percent,
            deployment_circuit_breaker=_circuit_breaker(deployment),
            alarms=_alarms(deployment),
            service_connect_configuration=self._service_connect_configuration(),
            wait_for_steady_state=props.wait_for_steady_state,
            # Tasks carry the service's tags (default tags included): cost allocation per task.
            propagate_tags="SERVICE",
            depends_on=self._dependencies(),  # type: ignore[arg-type]
            lifecycle=self._lifecycle(),
        )
        if props.assign_public_ip:
            skip_check(
                service,
                "CKV_AWS_333",
                "assign_public_ip = true in this environment's network config (subnets without NAT, "
                "e.g. a default VPC); the tasks' security group still admits only the load balancer",
            )
        return service

    def _network_configuration(self) -> EcsServiceNetworkConfiguration | None:
        """awsvpc tasks' subnets and groups; bridge and host tasks use their instance's network."""
        if self._security_group is None:
            return None
        props = self._props
        connect = props.service_connect
        member = [connect.member_group_id] if connect is not None and connect.member_group_id else []
        return EcsServiceNetworkConfiguration(
            subnets=list(props.subnets),
            security_groups=[self._security_group.id, *member, *props.security_groups],
            assign_public_ip=props.assign_public_ip,
        )

    def _service_connect_configuration(self) -> EcsServiceServiceConnectConfiguration | None:
        """The namespace every service of it calls the others in, its proxy's logs, and the
        server side (the named port, its discovery name and the alias the others call)."""
        connect = self._props.service_connect
        if connect is None:
            return None
        task = self._props.task_definition.props
        endpoint = self._props.service_connect_endpoint()
        server = connect.server
        return EcsServiceServiceConnectConfiguration(
            enabled=True,
            namespace=connect.namespace,
            log_configuration=EcsServiceServiceConnectConfigurationLogConfiguration(
                log_driver="awslogs",
                options={
                    "awslogs-group": task.log_group_name,
                    "awslogs-region": task.region,
                    "awslogs-stream-prefix": "service-connect",
                },
            )
            if connect.proxy_logs
            else None,
            service=[
                EcsServiceServiceConnectConfigurationService(
                    port_name=endpoint.port_name,
                    discovery_name=endpoint.discovery_name,
                    client_alias=EcsServiceServiceConnectConfigurationServiceClientAlias(
                        port=endpoint.client_port, dns_name=endpoint.dns_name
                    ),
                    ingress_port_override=endpoint.ingress_port_override,
                    timeout=EcsServiceServiceConnectConfigurationServiceTimeout(
                        idle_timeout_seconds=server.timeout.idle_timeout_seconds,
                        per_request_timeout_seconds=server.timeout.per_request_timeout_seconds,
                    )
                    if server is not None and server.timeout is not None
                    else None,
                )
            ]
            if endpoint is not None
            else None,
        )

    def _load_balancers(self) -> list[EcsServiceLoadBalancer] | None:
        """The container and port the target group sends to."""
        if self._target is None:
            return None
        container, port = self._props.target()
        return [
            EcsServiceLoadBalancer(
                target_group_arn=self._target.target_group.arn, container_name=container, container_port=port
            )
        ]

    def _dependencies(self) -> list[object]:
        props = self._props
        # The role's policy must exist before the first task pulls its image.
        dependencies: list[object] = [props.task_definition.roles.execution_policy]
        if props.cluster_capacity is not None and props.compute.capacity_provider_strategy:
            # ECS refuses a strategy naming a provider the cluster does not have yet.
            dependencies.append(props.cluster_capacity)
        if self._target is not None:
            # ECS refuses a target group that no listener rule uses yet.
            dependencies.append(self._target.rule)
        return dependencies

    def _lifecycle(self) -> TerraformResourceLifecycle | None:
        ignore = list(self._props.ignore_changes)
        scaled = self._props.autoscaling is not None or self._props.queue is not None
        if scaled and "desired_count" not in ignore:
            # The scaler owns the count: a deploy must not reset it to the initial value.
            ignore.append("desired_count")
        return TerraformResourceLifecycle(ignore_changes=ignore) if ignore else None

    def _add_queue_scaling(self) -> QueueAutoscaling | None:
        props = self._props
        if props.queue is None:
            return None
        assert props.cluster_name is not None and props.queue.queue_name is not None
        return QueueAutoscaling(
            self,
            "queue-scaling",
            resource_id=scaling_resource_id(props.cluster_name, props.service_name),
            cluster_name=props.cluster_name,
            service_name=props.service_name,
            queue_name=props.queue.queue_name,
            policy_name_prefix=props.task_definition.props.family,
            settings=props.queue,
            depends_on=[self._service],
        )

    def _add_autoscaling(self) -> ServiceAutoscaling | None:
        props = self._props
        if props.autoscaling is None:
            return None
        assert props.cluster_name is not None
        return ServiceAutoscaling(
            self,
            "autoscaling",
            resource_id=scaling_resource_id(props.cluster_name, props.service_name),
            policy_name_prefix=props.task_definition.props.family,
            settings=props.autoscaling,
            depends_on=[self._service],
        )

    @property
    def props(self) -> ServiceProps:
        """The props it was built from."""
        return self._props

    @property
    def task_definition(self) -> TaskDefinition:
        """The task definition it runs."""
        return self._props.task_definition

    @property
    def security_group(self) -> SecurityGroup | None:
        """The tasks' security group (awsvpc tasks only)."""
        return self._security_group

    @property
    def target(self) -> ServiceTarget | None:
        """Target group and listener rule (with ``load_balancer`` only)."""
        return self._target

    @property
    def autoscaling(self) -> ServiceAutoscaling | None:
        """Scalable target and policies (with ``autoscaling`` only)."""
        return self._autoscaling

    @property
    def queue_scaling(self) -> QueueAutoscaling | None:
        """Scalable target and policies on the queue's backlog (with ``queue`` only)."""
        return self._queue_scaling

    @property
    def scalable_target(self) -> AppautoscalingTarget | None:
        """The service's scalable target, whichever scaler it has."""
        scaler = self._autoscaling or self._queue_scaling
        return scaler.target if scaler is not None else None

    @property
    def service(self) -> EcsService:
        """The ``aws_ecs_service``."""
        return self._service
