"""Terraform stacks per environment: providers, state backend, cluster, services.

By default one stack per environment holds the cluster and every service. With
``stack_per_service = true`` the environment's stack holds only the cluster, and each
service gets a stack ``<env>-<service>`` with its own state, so pipelines of different
services never wait for each other's lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cdktf import LocalBackend, S3Backend, S3BackendAssumeRoleConfig, S3BackendEndpointConfig, TerraformStack
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.data_aws_subnets import DataAwsSubnets, DataAwsSubnetsFilter
from cdktf_cdktf_provider_aws.data_aws_vpc import DataAwsVpc
from cdktf_cdktf_provider_aws.provider import (
    AwsProvider,
    AwsProviderAssumeRole,
    AwsProviderDefaultTags,
    AwsProviderEndpoints,
)
from cdktf_cdktf_provider_null.provider import NullProvider
from constructs import Construct

from constructs_lib.cluster import ClusterRef, EcsCluster, ExistingCluster
from constructs_lib.image_lookup import regional_provider_id
from constructs_lib.load_balancer import ApplicationLoadBalancer, ListenerAttachment
from constructs_lib.load_balancer_props import ApplicationLoadBalancerProps
from constructs_lib.patterns import AppJob, AppJobProps, AppService, AppServiceProps, JobOptions, Redeploy
from constructs_lib.redeploy import AssumeRole
from constructs_lib.service import ServiceOptions
from constructs_lib.service_props import ListenerRule
from constructs_lib.tags import tag_resources
from constructs_lib.task_definition_props import TaskDefinitionProps
from constructs_lib.terraform_text import literal_values
from ecs_cd.core import names
from stacks.emulator_profile import EmulatorProfile
from stacks.service_connect import (
    ServiceConnectWiring,
    environment_service_connect,
    service_stack_service_connect,
)
from stacks.settings import EnvironmentSettings, LocalState, ServiceSettings

if TYPE_CHECKING:
    from constructs_lib.ec2_capacity import Ec2Capacity


def construct_input(
    project: str, environment: EnvironmentSettings, emulator: EmulatorProfile | None
) -> tuple[str, EnvironmentSettings, EmulatorProfile | None]:
    """What the stacks got from the configuration, as construct input: every string in it made
    literal Terraform text, here and nowhere else, so no value from the file is ever read as a
    template (``${file("…")}`` in any field stays those characters).

    The redeploy command is the one exception: it is an argv with its own placeholders
    (``{cluster}``), which ``Redeploy`` fills and then escapes as one shell line."""
    env = literal_values(environment).model_copy(update={"redeploy_command": environment.redeploy_command})
    return literal_values(project), env, literal_values(emulator)


def _ecr_regions(env: EnvironmentSettings, service: str | None) -> list[str]:
    """Regions other than the environment's of the ECR repositories its digest lookups query."""
    regions: set[str] = set()
    for svc in env.services:
        if service is not None and svc.name != service:
            continue
        images = [c.image for c in svc.task_containers]
        regions.update(i.ecr_region for i in images if i.ecr_region not in (None, env.region))
    return sorted(regions)


def _providers(
    stack: TerraformStack,
    env: EnvironmentSettings,
    null_provider_version: str,
    service: str | None,
    emulator: EmulatorProfile | None,
) -> None:
    """The AWS provider of the environment's region, one per other region an ECR digest is read
    in, and the null provider (the redeploy command's)."""
    settings = _provider_settings(env, emulator)
    AwsProvider(stack, "aws", region=env.region, **settings)
    # ECR repositories in other regions: a provider each, found by the digest lookups.
    for region in _ecr_regions(env, service):
        AwsProvider(
            stack,
            regional_provider_id(region),
            alias=regional_provider_id(region).replace("-", "_"),
            region=region,
            **settings,
        )
    NullProvider(stack, "null")
    stack.add_override("terraform.required_providers.null.version", null_provider_version)


def _provider_settings(env: EnvironmentSettings, emulator: EmulatorProfile | None) -> dict[str, Any]:
    """What every AWS provider of the stack shares: the account, the role, the tags and the
    credentials (the profile's, or the emulator's with its endpoints)."""
    role = env.aws.role_arn
    settings: dict[str, Any] = {
        # The account guard: Terraform refuses credentials of any other account.
        "allowed_account_ids": [env.aws.account_id] if env.aws.account_id is not None else None,
        "assume_role": [
            AwsProviderAssumeRole(
                role_arn=role,
                session_name=env.aws.role_session_name(env.name),
                external_id=env.aws.external_id,
            )
        ]
        if role is not None
        else None,
        "default_tags": [AwsProviderDefaultTags(tags=dict(env.tags))] if env.tags else None,
    }
    if emulator is None:
        settings["profile"] = env.aws.profile
        return settings
    return settings | {
        "access_key": emulator.access_key,
        "secret_key": emulator.secret_key,
        "skip_credentials_validation": True,
        # The emulator answers GetCallerIdentity; knowing the account, the provider reads
        # rules that reference a security group as "sg-…", not "<account>/sg-…".
        "skip_requesting_account_id": False,
        "skip_metadata_api_check": "true",
        "endpoints": [AwsProviderEndpoints(**{name: emulator.endpoint for name in emulator.services})],
    }


def _backend(
    stack: TerraformStack, env: EnvironmentSettings, service: str | None, emulator: EmulatorProfile | None
) -> None:
    """Where the stack's state lives: a local file, or S3 (its own key for a service's stack)."""
    if isinstance(env.state, LocalState):
        LocalBackend(stack, path=env.state.path)
        return
    role = env.aws.role_arn
    S3Backend(
        stack,
        bucket=env.state.bucket,
        key=env.state.key if service is None else names.service_state_key(env.state.key, service),
        region=env.state.region,
        encrypt=env.state.encrypt,
        profile=env.aws.profile,
        assume_role=S3BackendAssumeRoleConfig(
            role_arn=role, session_name=env.aws.role_session_name(env.name), external_id=env.aws.external_id
        )
        if role is not None
        else None,
        **(_emulator_backend(emulator, assumes_role=role is not None) if emulator is not None else {}),
    )
    if env.state.use_lockfile:
        # cdktf 0.21's S3Backend predates use_lockfile; the override writes it as is.
        stack.add_override("terraform.backend.s3.use_lockfile", True)


def _emulator_backend(emulator: EmulatorProfile, *, assumes_role: bool) -> dict[str, Any]:
    """The S3 backend's settings to keep its state on the emulator."""
    return {
        # with a role to assume, sts too: the role is assumed at the emulator
        "endpoints": S3BackendEndpointConfig(
            s3=emulator.endpoint, sts=emulator.endpoint if assumes_role else None
        ),
        "use_path_style": True,
        "access_key": emulator.access_key,
        "secret_key": emulator.secret_key,
        "skip_credentials_validation": True,
        "skip_requesting_account_id": True,
        "skip_metadata_api_check": True,
        "skip_s3_checksum": True,
    }


def _redeploy_environment(env: EnvironmentSettings, emulator: EmulatorProfile | None) -> dict[str, str]:
    """What the redeploy command's ``aws`` needs to reach the environment's account."""
    if emulator is not None:
        return emulator.redeploy_environment(env.region)
    return {"AWS_PROFILE": env.aws.profile} if env.aws.profile is not None else {}


@dataclass(frozen=True)
class _Network:
    vpc_id: str
    subnets: list[str]
    vpc: DataAwsVpc | None  # the default VPC's lookup, when there is one


def _network(stack: TerraformStack, env: EnvironmentSettings) -> _Network:
    if not env.network.use_default_vpc:
        assert env.network.vpc_id is not None  # the settings require it with subnet_ids
        return _Network(env.network.vpc_id, list(env.network.subnet_ids), None)
    vpc = DataAwsVpc(stack, "default-vpc", default=True)
    ids: list[str] = DataAwsSubnets(
        stack,
        "default-subnets",
        filter=[DataAwsSubnetsFilter(name="vpc-id", values=[vpc.id])],
    ).ids
    return _Network(vpc.id, ids, vpc)


@dataclass(frozen=True)
class _Listener:
    arn: str
    security_group_id: str
    ours: bool


def _existing_listener(env: EnvironmentSettings) -> _Listener | None:
    """The environment's load balancer when it was made elsewhere (nothing to build), else None."""
    settings = env.load_balancer
    if settings is None or settings.create:
        return None
    assert settings.listener_arn is not None and settings.security_group_id is not None
    return _Listener(settings.listener_arn, settings.security_group_id, ours=False)


def instance_host_ports(env: EnvironmentSettings) -> list[int]:
    """The host ports the load balancer reaches the environment's bridge and host tasks on, one
    per such service behind it, in service order (0: a dynamic port). awsvpc tasks have a group
    of their own."""
    ports: list[int] = []
    for svc in env.services:
        if svc.load_balancer is None or svc.task.network_mode == "awsvpc":
            continue
        container = svc.container(svc.target_container)
        assert container.container_port is not None  # the loader requires the target's container_port
        mapping = next(m for m in container.ports if m.container_port == container.container_port)
        ports.append(mapping.host_port_in(svc.task.network_mode))
    return ports


def _admit_load_balancer(capacity: Ec2Capacity, env: EnvironmentSettings, listener: _Listener | None) -> None:
    """The environment's instances admit its load balancer (created here or not) on the host
    ports of the bridge and host services behind it."""
    ports = instance_host_ports(env)
    if listener is not None and ports:
        capacity.admit(load_balancer_group_id=listener.security_group_id, host_ports=ports)


def _load_balancer(
    stack: TerraformStack, *, project: str, env: EnvironmentSettings, network: _Network
) -> _Listener | None:
    settings = env.load_balancer
    if settings is None:
        return None
    if not settings.create:
        return _existing_listener(env)
    cidrs = settings.ingress_cidr_blocks
    if cidrs is None:
        if settings.internal:
            vpc = network.vpc or DataAwsVpc(stack, "vpc", id=network.vpc_id)
            cidrs = [vpc.cidr_block]
        else:
            cidrs = ["0.0.0.0/0"]
    props = ApplicationLoadBalancerProps(
        name=names.load_balancer_name(project, env.name),
        security_group_name=names.load_balancer_security_group_name(project, env.name),
        vpc_id=network.vpc_id,
        subnets=tuple(network.subnets),
        ingress_cidr_blocks=tuple(cidrs),
        internal=settings.internal,
        certificate_arn=settings.certificate_arn,
        deletion_protection=settings.deletion_protection,
        access_logs_bucket=settings.access_logs_bucket,
        web_acl_arn=settings.web_acl_arn,
    )
    alb = ApplicationLoadBalancer(stack, "alb", props=props)
    return _Listener(alb.listener.arn, alb.security_group.id, ours=True)


def _attachment(
    project: str, env: EnvironmentSettings, service: ServiceSettings, listener: _Listener | None
) -> ListenerAttachment | None:
    lb = service.load_balancer
    if lb is None:
        return None
    assert listener is not None  # the settings require the environment's load balancer
    return ListenerAttachment(
        listener_arn=listener.arn,
        source_security_group_id=listener.security_group_id,
        target_group_name=service.names.target_group,
        # Validated as written; validating the escaped text again could count `$${` past a limit.
        rule=ListenerRule.model_construct(**{k: getattr(lb, k) for k in ListenerRule.model_fields}),
        open_source_egress=listener.ours,
    )


def _task_props(env: EnvironmentSettings, service: ServiceSettings, account_id: str) -> TaskDefinitionProps:
    """The task definition of a service or a job: its containers, names, roles and size."""
    return TaskDefinitionProps(
        family=service.names.task_family,
        containers=service.task_containers,
        region=env.region,
        log_group_name=service.names.log_group,
        execution_role_name=service.names.execution_role,
        task_role_name=service.names.task_role,
        compatibility=service.compute.compatibility,
        network_mode=service.task.network_mode,
        cpu=service.task.cpu,
        memory=service.task.memory,
        volumes=service.task.volumes,
        secrets_kms_key_arn=service.task.secrets_kms_key_arn,
        log_retention_days=env.log_retention_days,
        log_kms_key_arn=env.log_kms_key_arn,
        account_id=account_id,
    )


def _job(
    stack: TerraformStack,
    *,
    env: EnvironmentSettings,
    cluster: ClusterRef,
    network: _Network,
    service: ServiceSettings,
    account_id: str,
) -> AppJob:
    """A scheduled job: its task definition, run by its schedule; no service, no load balancer and
    no redeploy (whatever the image strategy, a new tag is a new revision its next run takes)."""
    assert service.schedule is not None
    awsvpc = service.task.network_mode == "awsvpc"
    options = JobOptions(
        cluster_arn=cluster.arn,
        schedule_name=service.names.schedule,
        role_name=service.names.scheduler_role,
        schedule=service.schedule,
        account_id=account_id,
        vpc_id=network.vpc_id if awsvpc else None,
        subnets=tuple(network.subnets) if awsvpc else (),
        security_group_name=service.names.security_group if awsvpc else None,
        security_groups=tuple(env.network.security_group_ids) if awsvpc else (),
        assign_public_ip=env.network.assign_public_ip and awsvpc,
        compute=service.compute,
        task_group=names.job_task_group(service.names.schedule),
        cluster_capacity=cluster.capacity_providers,
    )
    built = AppJob(
        stack, service.name, props=AppJobProps(task=_task_props(env, service, account_id), job=options)
    )
    tag_resources(built, {"Service": service.name, **service.tags})
    return built


def _service(
    stack: TerraformStack,
    *,
    project: str,
    env: EnvironmentSettings,
    cluster: ClusterRef,
    network: _Network,
    listener: _Listener | None,
    service: ServiceSettings,
    emulator: EmulatorProfile | None,
    account_id: str,
    connect: ServiceConnectWiring | None,
) -> AppService | AppJob:
    if service.is_job:
        return _job(stack, env=env, cluster=cluster, network=network, service=service, account_id=account_id)
    redeploy = None
    if service.image_strategy == "timestamp":
        redeploy = Redeploy(
            command=env.redeploy_command,
            environment=_redeploy_environment(env, emulator),
            assume_role=AssumeRole(
                role_arn=env.aws.role_arn,
                session_name=env.aws.role_session_name(env.name),
                external_id=env.aws.external_id,
            )
            if env.aws.role_arn is not None
            else None,
        )
    task = _task_props(env, service, account_id)
    awsvpc = service.task.network_mode == "awsvpc"
    options = ServiceOptions(
        cluster_arn=cluster.arn,
        cluster_name=cluster.name,
        service_name=service.names.service,
        vpc_id=network.vpc_id,
        # awsvpc tasks get the environment's network; bridge and host tasks their instance's
        subnets=tuple(network.subnets) if awsvpc else (),
        security_group_name=service.names.security_group if awsvpc else None,
        compute=service.compute,
        desired_count=service.desired_count,
        security_groups=tuple(env.network.security_group_ids) if awsvpc else (),
        assign_public_ip=env.network.assign_public_ip and awsvpc,
        deployment=service.deployment,
        load_balancer=_attachment(project, env, service, listener),
        target_container=service.target_container if service.load_balancer is not None else None,
        autoscaling=service.autoscaling,
        queue=service.queue,
        wait_for_steady_state=env.wait_for_steady_state,
        ignore_changes=emulator.service_ignore_changes if emulator is not None else (),
        cluster_capacity=cluster.capacity_providers,
        service_connect=connect.options(service) if connect is not None else None,
    )
    built = AppService(
        stack,
        service.name,
        props=AppServiceProps(task=task, service=options, redeploy=redeploy, adopt=service.adopt),
    )
    # Beside the provider's default tags (project, environment): which service, and its own.
    tag_resources(built, {"Service": service.name, **service.tags})
    return built


class EnvironmentStack(TerraformStack):
    """One environment: its ECS cluster and (unless split per service) every service on it."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        project: str,
        environment: EnvironmentSettings,
        null_provider_version: str,
        emulator: EmulatorProfile | None = None,
    ) -> None:
        """``project``: name prefix; ``environment``: validated settings; ``null_provider_version``:
        the Terraform constraint for hashicorp/null (replaces the bindings' exact pin);
        ``emulator`` (default None: real AWS): the local emulator the environment runs on."""
        super().__init__(scope, id_)
        project, env, emulator = construct_input(project, environment, emulator)
        _providers(self, env, null_provider_version, service=None, emulator=emulator)
        _backend(self, env, service=None, emulator=emulator)
        cluster_name = env.cluster_name
        shared_network = env.ec2_capacity is not None or env.service_connect is not None
        network = _network(self, env) if shared_network or not env.stack_per_service else None
        # The account the roles' trust is limited to: the one this stack deploys into.
        needs_account = env.ec2_capacity is not None or (env.services and not env.stack_per_service)
        account_id = DataAwsCallerIdentity(self, "account").account_id if needs_account else ""
        self.ec2_capacity: Ec2Capacity | None = None
        providers = capacity_providers(env)
        if env.ec2_capacity is not None:
            assert network is not None
            self.ec2_capacity, providers = _ec2_capacity(self, env, network, account_id, providers)
        self.cluster: ClusterRef = (
            ExistingCluster(self, "cluster", name=cluster_name)
            if env.cluster.origin == "existing"
            else EcsCluster(
                self,
                "cluster",
                name=cluster_name,
                capacity_providers=providers,
                adopt=env.cluster.origin == "adopted",
            )
        )
        connect = (
            environment_service_connect(
                self,
                project=project,
                env=env,
                vpc_id=network.vpc_id,
                instances_group_id=self.ec2_capacity.security_group.id if self.ec2_capacity else None,
            )
            if network is not None
            else None
        )
        self.services: dict[str, AppService | AppJob] = {}
        if env.stack_per_service:
            # The services' stacks attach to an existing listener (the loader refuses create).
            if self.ec2_capacity is not None:
                _admit_load_balancer(self.ec2_capacity, env, _existing_listener(env))
            return
        assert network is not None
        listener = _load_balancer(self, project=project, env=env, network=network)
        if self.ec2_capacity is not None:
            _admit_load_balancer(self.ec2_capacity, env, listener)
        for service in env.services:
            self.services[service.name] = _service(
                self,
                project=project,
                env=env,
                cluster=self.cluster,
                network=network,
                listener=listener,
                service=service,
                emulator=emulator,
                account_id=account_id,
                connect=connect,
            )


def _ec2_capacity(
    stack: TerraformStack, env: EnvironmentSettings, network: _Network, account_id: str, providers: list[str]
) -> tuple[Ec2Capacity, list[str]]:
    """The environment's own EC2 capacity, and ``providers`` naming its provider through the
    resource (the cluster's attachment is then created after it)."""
    # Its provider bindings (Auto Scaling, launch templates) load only where it is used.
    from constructs_lib.ec2_capacity import Ec2Capacity

    assert env.ec2_capacity is not None and env.ec2_capacity.name is not None  # named by the loader
    capacity = Ec2Capacity(
        stack,
        "ec2-capacity",
        props=env.ec2_capacity,
        name=env.ec2_capacity.name,
        cluster_name=env.cluster_name,
        vpc_id=network.vpc_id,
        subnets=network.subnets,
        region=env.region,
        account_id=account_id,
    )
    own = capacity.provider.name
    providers = [own if p == env.ec2_capacity.name else p for p in providers]
    if own not in providers:
        providers.append(own)
    return capacity, providers


def capacity_providers(env: EnvironmentSettings) -> list[str]:
    """The capacity providers the environment's services' strategies name, in first-use order."""
    found = [
        item.capacity_provider for svc in env.services for item in svc.compute.capacity_provider_strategy
    ]
    return list(dict.fromkeys(found))


class ServiceStack(TerraformStack):
    """One service of a split environment, with its own state; the cluster is looked up by name."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        project: str,
        environment: EnvironmentSettings,
        service: ServiceSettings,
        null_provider_version: str,
        emulator: EmulatorProfile | None = None,
    ) -> None:
        """``service``: the one service this stack deploys; other props as ``EnvironmentStack``."""
        super().__init__(scope, id_)
        project, env, emulator = construct_input(project, environment, emulator)
        service = env.service(literal_values(service.name))
        if not env.stack_per_service:
            raise ValueError(f"environment {env.name} is not split per service (stack_per_service = false)")
        _providers(self, env, null_provider_version, service=service.name, emulator=emulator)
        _backend(self, env, service=service.name, emulator=emulator)
        self.cluster = ExistingCluster(self, "cluster", name=env.cluster_name)
        network = _network(self, env)
        # The settings refuse load_balancer.create with split stacks: a listener is given.
        listener = _load_balancer(self, project=project, env=env, network=network)
        self.service = _service(
            self,
            project=project,
            env=env,
            cluster=self.cluster,
            network=network,
            listener=listener,
            service=service,
            emulator=emulator,
            account_id=DataAwsCallerIdentity(self, "account").account_id,
            connect=service_stack_service_connect(self, project=project, env=env, vpc_id=network.vpc_id),
        )
