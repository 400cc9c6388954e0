"""The moto server, with the APIs it lacks that Terraform's AWS provider calls filled in.

``python -m devkit.moto_server -H 127.0.0.1 -p PORT`` (or ``--listen-fd FD``, a socket bound by
the parent, as ``devkit.emulator`` starts it) runs moto's own server after
``install()`` has added, in this process only:

- Application Auto Scaling tagging (TagResource, UntagResource, ListTagsForResource).
  moto 5.2.5 implements none of them, so they answer HTTP 500; the provider reads a
  scalable target's tags after creating it and retries the 500 forever, so
  ``aws_appautoscaling_target`` never finishes creating on the emulator. The fill keeps
  tags on moto's own scalable-target objects and refuses unknown ARNs as AWS does. It also
  keeps the Tags given to RegisterScalableTarget when it creates a target (AWS applies them
  on creation only), which moto drops: with default tags every plan would set them again.

- An ECS service's deploymentConfiguration (circuit breaker, alarms, healthy percents) and
  healthCheckGracePeriodSeconds given to CreateService. moto drops them there (UpdateService
  keeps them), so DescribeServices could not show the rollout guards a deploy asked for.
- What CreateService is told about where tasks run. (1) A service created without a network
  configuration (bridge or host networking): moto stores {} and answers
  ``"networkConfiguration": {}``; ECS omits the field (it exists only for awsvpc), and the AWS
  provider, finding a configuration without awsvpcConfiguration, crashes (nil pointer in
  flattenNetworkConfiguration). Here, as in ECS, the field is left out. (2) moto ignores
  capacityProviderStrategy and reports launchType EC2 (its default) instead; ECS reports the
  strategy and omits launchType, on the service and its deployments, and when CreateService gets
  neither it uses the cluster's defaultCapacityProviderStrategy, if there is one (launchType EC2
  otherwise). Without this every plan would replace such a service. (3) moto drops
  placementStrategy and placementConstraints (UpdateService keeps them); here they are kept as given.
  (4) An awsvpcConfiguration with subnets and no securityGroups key: moto fails with HTTP 500 (a
  KeyError in its own check); ECS puts the task ENIs in the default security group of the subnets'
  VPC, and DescribeServices reports that group. Here, as in ECS. (An empty list is no gap: moto
  accepts it and keeps it as []; left as it is.)
- CreateService of a name the cluster already has. moto replaces the service silently (its
  deployments, tags and task definition gone with it). ECS refuses, InvalidParameterException
  "Creation of service was not idempotent.", while that service is ACTIVE or DRAINING; once it is
  deleted (INACTIVE) the name can be used again. Here, as in ECS, including ECS's idempotency: a
  repeat of the same request, with the same clientToken and the same parameters (as an SDK
  sends when it retries), answers the existing service instead of the error.
- A task definition for EC2 whose containers set memoryReservation but not memory, without a
  task-level memory (the first article's form). ECS accepts it (each container needs memory or
  memoryReservation, or the task memory); moto refuses it on EC2 unless each container has
  memory, although its own error message states ECS's rule. Here ECS's rule alone applies.
- RunTask of a task whose containers have no memory of their own (a Fargate task sized at the
  task level, as every task here is). moto sums the containers' memory to place the task and
  fails with HTTP 500 (None added to a number); ECS runs it, the task's memory holding them
  all. Here a container without a limit counts 0 in that sum, as it asks for nothing of its own.
- When a task was created, started and stopped. moto's DescribeTasks has no createdAt, startedAt
  or stoppedAt; ECS reports each (startedAt once the task runs, stoppedAt once it stopped), and
  `ecs-release status` finds a scheduled job's last run as the newest of its tasks by createdAt.
  Here a task gets createdAt and startedAt when RunTask creates it (moto starts tasks RUNNING), and
  stoppedAt when a DescribeTasks first finds it STOPPED (moto walks it there on those calls).
- The description of a security group rule that references another group. moto keeps it
  (in the rule's source group) but DescribeSecurityGroupRules reports only the description
  of CIDR rules, so every plan would set the description again.
- ECS deployments. moto keeps the one PRIMARY deployment it made at CreateService: UpdateService
  with another task definition leaves its id and taskDefinition as they were (forceNewDeployment
  only renames it), so the service ran revision 3 while its deployment said revision 1. Here, as
  in ECS, a new task definition or forceNewDeployment starts a new PRIMARY deployment (new id, the
  revision's ARN, IN_PROGRESS) and the previous one becomes ACTIVE. The emulator runs no tasks, so
  "steady" is moto's own rule (runningCount, set by MOTO_ECS_SERVICE_RUNNING, reaches
  desiredCount): then the next DescribeServices reports the PRIMARY COMPLETED and the older
  deployments gone, as ECS does once they have drained; otherwise it stays IN_PROGRESS.

- An SQS queue's RedrivePolicy. moto parses it and answers GetQueueAttributes with Python's
  json.dumps of it (``{"deadLetterTargetArn": "…", "maxReceiveCount": 5}``, a space after each
  separator); SQS answers the compact form (``{"deadLetterTargetArn":"…","maxReceiveCount":5}``).
  The AWS provider keeps the text it reads and compares it with the configuration's, normalized
  to the compact form: every plan of a queue with a dead-letter queue would change its
  redrive_policy ("whitespace changes"). Here, as SQS, the compact form.
- An ECS service's serviceConnectConfiguration (ECS Service Connect). moto drops it at
  CreateService and, at UpdateService, keeps it where nothing reads it: DescribeServices never
  reports it. ECS reports it on each deployment (the namespace by its ARN, whether it was given
  by name or ARN), and a change of it starts a new deployment. Here, as in ECS: it is kept on the
  service's deployments, a changed one starts a deployment, and ECS's refusals are kept too: a
  namespace Cloud Map does not have (moto's servicediscovery is asked), and a portName that no
  port mapping of the task definition has (InvalidParameterException, nothing created or
  changed). The Cloud Map services ECS registers the tasks in are not made.

Two fills are about the provider's concurrency, not about an API: Terraform's AWS provider
creates many resources at once, each request on a new connection (werkzeug's development
server closes every one), each answered by a thread of its own. Under a loaded machine these
made deploys fail now and then, each time a request the server had already carried out being
sent again by the provider's SDK (aws-sdk-go-v2 retries a 5xx or a broken connection):

- Each request's own response options. moto keeps what a request asks to include in its
  answer (ECS's include=["TAGS"] of DescribeClusters, DescribeServices, DescribeTasks and
  DescribeTaskSets; EC2's key pairs and peering) in a dict of the response class, shared by
  all requests, which its serializer goes through for every field it writes. So a DescribeServices
  with include could answer without the tags (or one without include with them) when another
  came in at the same time; in ECS the option is the request's own. Worse, on a fresh server the
  first such request adds a key to that dict while another ECS answer is being written: "dictionary
  changed size during iteration", HTTP 500 after the action was done; retried by the SDK, a
  RegisterTaskDefinition registers a second revision. Here every request gets its own copy of
  the dict.
- Each response in one send. werkzeug sends a response's status line and headers, then its
  body; the first send gives up the GIL, and under load the thread waits its turn (up to the
  interpreter's 5 ms switch interval, or more) before the second. Traced on both ends, the provider
  now and then gives up such a connection after reading the headers, while the body is still to
  come, and retries a request the server has carried out: CreateRule then answers PriorityInUse,
  the revoke of a new group's default egress rule InvalidPermission.NotFound, CreateSecurityGroup
  InvalidGroup.Duplicate. Why it gives up is inside Go's HTTP client and was not pinned down; it
  happened only to responses that arrived in two parts. Here the status line and headers are held
  back and leave with the body, in one send, so a response arrives whole (an HTTP server may
  send a response in any number of writes; this one is shaped for the one client that matters).

Nothing else about moto changes; each fill is checked by tests/integration/test_moto_server.py
(the Service Connect fill by tests/integration/test_moto_service_connect.py).
"""

from __future__ import annotations

import copy
import json
import sys
import threading
from typing import Any

_TAGS_ATTRIBUTE = "ecs_cd_tags"


def _scalable_target(response: Any, arn: str) -> Any:
    from moto.applicationautoscaling.exceptions import AWSValidationException

    backend = response.applicationautoscaling_backend
    for dimensions in backend.targets.values():
        for target in dimensions.values():
            if target.arn == arn:
                return target
    # AWS answers ResourceNotFoundException; moto has no such class here, and the
    # provider treats both as "gone".
    raise AWSValidationException(f"No scalable target found for ARN {arn}")


def _list_tags_for_resource(self: Any) -> str:
    target = _scalable_target(self, self._get_param("ResourceARN"))
    return json.dumps({"Tags": dict(getattr(target, _TAGS_ATTRIBUTE, {}))})


def _tag_resource(self: Any) -> str:
    target = _scalable_target(self, self._get_param("ResourceARN"))
    tags = dict(getattr(target, _TAGS_ATTRIBUTE, {}))
    tags.update(self._get_param("Tags") or {})
    setattr(target, _TAGS_ATTRIBUTE, tags)
    return "{}"


def _untag_resource(self: Any) -> str:
    target = _scalable_target(self, self._get_param("ResourceARN"))
    remove = set(self._get_param("TagKeys") or [])
    tags = {k: v for k, v in getattr(target, _TAGS_ATTRIBUTE, {}).items() if k not in remove}
    setattr(target, _TAGS_ATTRIBUTE, tags)
    return "{}"


def _tagging_register_scalable_target(register: Any) -> Any:
    def register_scalable_target_tagging(self: Any) -> str:
        result: str = register(self)
        target = _scalable_target(self, json.loads(result)["ScalableTargetARN"])
        # AWS applies Tags when it creates the target, never to an existing one (TagResource).
        if not hasattr(target, _TAGS_ATTRIBUTE):
            setattr(target, _TAGS_ATTRIBUTE, dict(self._get_param("Tags") or {}))
        return result

    return register_scalable_target_tagging


def _compact_redrive_policy(attributes: Any) -> Any:
    def attributes_as_sqs_answers(self: Any) -> dict[str, Any]:
        result: dict[str, Any] = attributes.fget(self)
        if "RedrivePolicy" in result and self.redrive_policy:
            result["RedrivePolicy"] = json.dumps(self.redrive_policy, separators=(",", ":"))
        return result

    return property(attributes_as_sqs_answers)


def _rule_description(rule: Any) -> str | None:
    description = rule.ip_range.get("Description")
    if description is None and rule.source_group:
        description = rule.source_group.get("Description")
    return description  # type: ignore[no-any-return]


_CREATE_SERVICE_KEPT = {
    "deploymentConfiguration": "deployment_configuration",
    "healthCheckGracePeriodSeconds": "health_check_grace_period_seconds",
    "placementConstraints": "placement_constraints",
    "placementStrategy": "placement_strategy",
}


def _use_capacity_providers(service: Any, strategy: list[dict[str, Any]]) -> None:
    """The service runs on ``strategy``, not a launch type: ECS reports the one, omits the other."""
    service.capacity_provider_strategy = strategy
    service.launch_type = None
    for deployment in service.deployments:
        deployment["capacityProviderStrategy"] = strategy
        deployment["launchType"] = None


def _keeping_create_service(create_service: Any) -> Any:
    def create_service_keeping_settings(self: Any) -> Any:
        cluster = self._get_param("cluster", "default")
        result = create_service(self)
        service = self.ecs_backend._get_service(cluster, self._get_param("serviceName"))
        for param, attribute in _CREATE_SERVICE_KEPT.items():
            value = self._get_param(param)
            if value is not None:
                setattr(service, attribute, value)
        # moto stores {} for a service created without one, and answers "networkConfiguration": {}.
        if not service.network_configuration:
            service.network_configuration = None
        # moto ignores capacityProviderStrategy and reports launchType EC2 instead.
        strategy = self._get_param("capacityProviderStrategy")
        if not strategy and not self._get_param("launchType"):
            strategy = self.ecs_backend._get_cluster(cluster).default_capacity_provider_strategy
        if strategy:
            _use_capacity_providers(service, strategy)
        return result

    return create_service_keeping_settings


_SERVICE_CONNECT_ATTRIBUTE = "ecs_cd_service_connect"


def _service_connect_reported(backend: Any, config: Any, task_definition: str, cluster: str) -> Any:
    """``config`` as ECS reports it on a deployment (the namespace by its ARN); ECS's refusals of
    an unknown namespace or port name as InvalidParameterException. None: no configuration."""
    from moto.ecs.exceptions import InvalidParameterException
    from moto.servicediscovery.models import servicediscovery_backends

    if not config:
        return None
    reported = copy.deepcopy(dict(config))
    namespace = reported.get("namespace")
    if namespace is None:
        defaults = backend._get_cluster(cluster).service_connect_defaults or {}
        namespace = defaults.get("namespace")
    if namespace is not None:
        cloud_map = servicediscovery_backends[backend.account_id][backend.region_name]
        found = next(
            (ns for ns in cloud_map.namespaces.values() if namespace in (ns.arn, ns.name, ns.id)), None
        )
        if found is None:
            raise InvalidParameterException(f"The namespace {namespace} was not found in Cloud Map.")
        reported["namespace"] = found.arn
    elif reported.get("enabled"):
        raise InvalidParameterException("Service Connect needs a namespace (the cluster has no default).")
    definition = backend.describe_task_definition(task_definition)
    named = {m.get("name") for c in definition.container_definitions for m in c.get("portMappings") or []}
    for service in reported.get("services") or []:
        if service.get("portName") not in named:
            raise InvalidParameterException(
                f"The portName {service.get('portName')} is not the name of a port mapping of the task "
                f"definition {definition.arn}."
            )
    return reported


def _report_service_connect(service: Any, reported: Any) -> None:
    """The configuration on the service (what the next deployment copies) and its deployments."""
    setattr(service, _SERVICE_CONNECT_ATTRIBUTE, reported)
    for deployment in service.deployments:
        deployment["serviceConnectConfiguration"] = reported


def _service_connect_create_service(create_service: Any) -> Any:
    def create_service_with_service_connect(self: Any) -> Any:
        cluster = self._get_param("cluster", "default")
        config = self._get_param("serviceConnectConfiguration")
        # Refused before anything is created, as ECS refuses the request whole.
        reported = _service_connect_reported(
            self.ecs_backend, config, self._get_param("taskDefinition"), cluster
        )
        result = create_service(self)
        if reported is not None:
            service = self.ecs_backend._get_service(cluster, self._get_param("serviceName"))
            _report_service_connect(service, reported)
        return result

    return create_service_with_service_connect


_CREATE_REQUEST_ATTRIBUTE = "ecs_cd_create_request"
_CREATING = threading.Lock()


def _idempotent_create_service(create_service: Any) -> Any:
    def create_service_once(self: Any) -> Any:
        from moto.core.responses import ActionResult
        from moto.ecs.exceptions import InvalidParameterException

        cluster = self.ecs_backend._get_cluster(self._get_param("cluster", "default"))
        name = self._get_param("serviceName")
        # The request as parsed, before any other fill adds to it: what a repeat is compared with.
        request = copy.deepcopy(dict(self.params))
        with _CREATING:  # two requests at once for one name: one creates, the other is the repeat
            existing = self.ecs_backend.services.get(f"{cluster.name}:{name}")
            if existing is not None and existing.status in ("ACTIVE", "DRAINING"):
                token = request.get("clientToken")
                if token and getattr(existing, _CREATE_REQUEST_ATTRIBUTE, None) == request:
                    return ActionResult({"service": existing})  # the same request again: ECS's answer
                raise InvalidParameterException("Creation of service was not idempotent.")
            result = create_service(self)
            service = self.ecs_backend._get_service(cluster.name, name)
            setattr(service, _CREATE_REQUEST_ATTRIBUTE, request)
            return result

    return create_service_once


def _default_security_group(create_service: Any) -> Any:
    def create_service_in_default_group(self: Any) -> Any:
        from moto.ec2.exceptions import InvalidSubnetIdError
        from moto.ec2.models import ec2_backends

        network = self._get_param("networkConfiguration") or {}
        awsvpc = network.get("awsvpcConfiguration")
        if awsvpc and awsvpc.get("subnets") and "securityGroups" not in awsvpc:
            ec2 = ec2_backends[self.ecs_backend.account_id][self.ecs_backend.region_name]
            try:
                vpc_id = ec2.get_subnet(awsvpc["subnets"][0]).vpc_id
            except InvalidSubnetIdError:
                vpc_id = None  # moto's own check refuses the subnet, as ECS does
            group = ec2.get_default_security_group(vpc_id) if vpc_id else None
            if group is not None:
                self.params["networkConfiguration"] = {
                    **network,
                    "awsvpcConfiguration": {**awsvpc, "securityGroups": [group.id]},
                }
        return create_service(self)

    return create_service_in_default_group


def _start_deployment(service: Any) -> None:
    """A new PRIMARY deployment of the service's task definition; the others become ACTIVE."""
    from moto.core.utils import utcnow
    from moto.moto_api._internal import mock_random

    now = utcnow()
    for deployment in service.deployments:
        if deployment.get("status") == "PRIMARY":
            deployment["status"] = "ACTIVE"
            deployment["updatedAt"] = now
    deployment_id = f"ecs-svc/{mock_random.randint(0, 32**12)}"
    template = service.deployments[0] if service.deployments else {}
    new = {
        **template,  # failedTasks, platformFamily: what moto derives for every deployment
        "createdAt": now,
        "desiredCount": service.desired_count,
        "id": deployment_id,
        "launchType": service.launch_type,
        "capacityProviderStrategy": getattr(service, "capacity_provider_strategy", None) or None,
        "pendingCount": service.desired_count,
        "rolloutState": "IN_PROGRESS",
        "rolloutStateReason": f"ECS deployment {deployment_id} in progress.",
        "runningCount": 0,
        "platformVersion": service.platform_version,
        "networkConfiguration": service.network_configuration or None,
        "serviceConnectConfiguration": getattr(service, _SERVICE_CONNECT_ATTRIBUTE, None),
        "status": "PRIMARY",
        "taskDefinition": service.task_definition,
        "updatedAt": now,
    }
    service.deployments = [new, *service.deployments]


def _settle(service: Any) -> None:
    """Once the service is steady (moto's rule), its PRIMARY deployment is COMPLETED and the
    older ones are gone."""
    from moto.core.utils import utcnow

    primary = next((d for d in service.deployments if d.get("status") == "PRIMARY"), None)
    if primary is None or primary.get("rolloutState") != "IN_PROGRESS":
        return
    if service.running_count < service.desired_count:
        return
    primary.update(
        {
            "rolloutState": "COMPLETED",
            "rolloutStateReason": f"ECS deployment {primary['id']} completed.",
            "desiredCount": service.desired_count,
            "runningCount": service.running_count,
            "pendingCount": service.pending_count,
            "updatedAt": utcnow(),
        }
    )
    service.deployments = [primary]


def _deploying_update_service(update_service: Any) -> Any:
    def update_service_deploying(self: Any, service_properties: dict[str, Any]) -> Any:
        properties = dict(service_properties)
        # moto's own handling only renames the one deployment: ours starts a new one.
        force = bool(properties.pop("force_new_deployment", False))
        service = self._get_service(
            properties.get("cluster", "default"), str(properties.get("service", "")).split("/")[-1]
        )
        before = service.task_definition
        requested = properties.get("task_definition")
        if requested:
            # ECS resolves family or family:revision to the revision's ARN, as CreateService does.
            properties["task_definition"] = self.describe_task_definition(requested).arn
        # moto would keep it as an attribute nothing reports: ours keeps it on the deployments.
        connect = properties.pop("service_connect_configuration", None)
        reported = getattr(service, _SERVICE_CONNECT_ATTRIBUTE, None)
        connect_changed = False
        if connect is not None:
            task_definition = properties.get("task_definition") or before
            new = _service_connect_reported(self, connect, task_definition, service.cluster_name)
            connect_changed, reported = new != reported, new
        updated = update_service(self, properties)
        setattr(updated, _SERVICE_CONNECT_ATTRIBUTE, reported)
        changed = (bool(requested) and updated.task_definition != before) or connect_changed
        if updated.deployment_controller.get("type") == "ECS" and (force or changed):
            _start_deployment(updated)
        return updated

    return update_service_deploying


def _settling_describe_services(describe_services: Any) -> Any:
    def describe_services_settling(self: Any, *args: Any, **kwargs: Any) -> Any:
        services, failures = describe_services(self, *args, **kwargs)
        for service in services:
            _settle(service)
        return services, failures

    return describe_services_settling


def _timed_task(init: Any) -> Any:
    def init_with_times(self: Any, *args: Any, **kwargs: Any) -> None:
        from moto.core.utils import utcnow

        init(self, *args, **kwargs)
        # moto's tasks start RUNNING: created and started at once.
        self.created_at = self.started_at = utcnow()

    return init_with_times


def _stop_times(describe_tasks: Any) -> Any:
    def describe_tasks_with_stop_times(self: Any, cluster_str: str, tasks: list[str]) -> Any:
        from moto.core.utils import utcnow

        found = describe_tasks(self, cluster_str, tasks)
        for task in found:
            if task.last_status == "STOPPED" and getattr(task, "stopped_at", None) is None:
                task.stopped_at = utcnow()
        return found

    return describe_tasks_with_stop_times


def _ecs_memory_rule(validate: Any) -> Any:
    def validate_container_defs(
        memory: str | None, container_definitions: list[dict[str, Any]], requires_compatibilities: Any
    ) -> None:
        # moto's second check is ECS's rule (memory or memoryReservation, or the task's memory);
        # its first, for EC2 only, demands memory: leave it out by not naming the compatibility.
        validate(memory, container_definitions, None)

    return staticmethod(validate_container_defs)


_MEMORY_KEYS = ("memory", "memoryReservation", "Memory", "MemoryReservation")


def _task_memory_counts(calculate: Any) -> Any:
    def calculate_task_resource_requirements(task_definition: Any) -> Any:
        original = task_definition.container_definitions
        if all(any(key in c for key in _MEMORY_KEYS) for c in original):
            return calculate(task_definition)
        task_definition.container_definitions = [
            c if any(key in c for key in _MEMORY_KEYS) else {**c, "memoryReservation": 0} for c in original
        ]
        try:
            return calculate(task_definition)
        finally:
            task_definition.container_definitions = original

    return staticmethod(calculate_task_resource_requirements)


def _own_response_transformers(init: Any) -> Any:
    def init_with_own_transformers(self: Any, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        # moto answers a request with a new response object, but keeps what the request asked to
        # include (ECS include=["TAGS"]) in a dict of the class, shared by every request. A copy
        # per request: the instance attribute hides the class's, for reading and for writing.
        self.RESPONSE_KEY_PATH_TO_TRANSFORMER = dict(type(self).RESPONSE_KEY_PATH_TO_TRANSFORMER)

    return init_with_own_transformers


class _WholeResponse:
    """A request handler's socket writer that holds the status line and headers back until the
    body's first bytes go out with them, in one send (or the response ends without a body)."""

    def __init__(self, raw: Any) -> None:
        self._raw = raw
        self.held = b""

    def write(self, data: bytes) -> int:
        if self.held:
            data, self.held = self.held + data, b""
        self._raw.write(data)
        return len(data)

    def flush(self) -> None:
        if self.held:
            held, self.held = self.held, b""
            self._raw.write(held)
        self._raw.flush()

    def __getattr__(self, name: str) -> Any:  # closed, close: the socket writer's own
        return getattr(self._raw, name)


def _whole_responses(setup: Any) -> Any:
    def setup_whole_responses(self: Any) -> None:
        setup(self)
        self.wfile = _WholeResponse(self.wfile)

    return setup_whole_responses


def _hold_headers(self: Any) -> None:
    """http.server's flush_headers, which sends the status line and headers at once: held instead."""
    headers = getattr(self, "_headers_buffer", None)
    if headers:
        self.wfile.held += b"".join(headers)
        self._headers_buffer = []


def install() -> None:
    """Add the missing operations to moto's response classes (this process only)."""
    from moto.applicationautoscaling.responses import ApplicationAutoScalingResponse
    from moto.core.responses import BaseResponse
    from moto.ec2.models.security_groups import SecurityGroupRule
    from moto.ecs.models import EC2ContainerServiceBackend, Task
    from moto.ecs.responses import EC2ContainerServiceResponse
    from moto.moto_server.werkzeug_app import MotoRequestHandler
    from moto.sqs.models import Queue

    BaseResponse.__init__ = _own_response_transformers(BaseResponse.__init__)  # type: ignore[method-assign]
    MotoRequestHandler.setup = _whole_responses(MotoRequestHandler.setup)  # type: ignore[method-assign]
    MotoRequestHandler.flush_headers = _hold_headers  # type: ignore[method-assign]
    SecurityGroupRule.description = property(_rule_description)  # type: ignore[method-assign,assignment]
    Queue.attributes = _compact_redrive_policy(Queue.attributes)  # type: ignore[method-assign]
    ApplicationAutoScalingResponse.register_scalable_target = _tagging_register_scalable_target(  # type: ignore[method-assign]
        ApplicationAutoScalingResponse.register_scalable_target
    )
    EC2ContainerServiceResponse.create_service = _idempotent_create_service(  # type: ignore[method-assign]
        _default_security_group(
            _service_connect_create_service(
                _keeping_create_service(EC2ContainerServiceResponse.create_service)
            )
        )
    )
    EC2ContainerServiceBackend.update_service = _deploying_update_service(  # type: ignore[method-assign]
        EC2ContainerServiceBackend.update_service
    )
    EC2ContainerServiceBackend.describe_services = _settling_describe_services(  # type: ignore[method-assign]
        EC2ContainerServiceBackend.describe_services
    )
    EC2ContainerServiceBackend._validate_container_defs = _ecs_memory_rule(  # type: ignore[method-assign]
        EC2ContainerServiceBackend._validate_container_defs
    )
    EC2ContainerServiceBackend._calculate_task_resource_requirements = _task_memory_counts(  # type: ignore[method-assign]
        EC2ContainerServiceBackend._calculate_task_resource_requirements
    )
    Task.__init__ = _timed_task(Task.__init__)  # type: ignore[method-assign]
    EC2ContainerServiceBackend.describe_tasks = _stop_times(  # type: ignore[method-assign]
        EC2ContainerServiceBackend.describe_tasks
    )

    fills = {
        "list_tags_for_resource": _list_tags_for_resource,
        "tag_resource": _tag_resource,
        "untag_resource": _untag_resource,
    }
    for name, fill in fills.items():
        # A later moto that implements an operation keeps its own implementation.
        if not hasattr(ApplicationAutoScalingResponse, name):
            setattr(ApplicationAutoScalingResponse, name, fill)


def serve_on(fd: int, *, fills: bool = True) -> None:
    """Serve on a socket the parent has bound and listens on (``--listen-fd FD``); with
    ``fills=False`` (``--stock``) moto as released, for the tests that show a gap is still there.

    A port chosen free and bound later can be taken in between by another process, even
    another emulator (parallel test workers start several at once), and a readiness probe
    would then be answered by that one. A socket bound before this process starts is ours
    from the first moment; the parent learns the port from it without asking anyone.
    """
    import os
    import signal
    import socket

    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from moto.server import signal_handler
    from werkzeug.serving import make_server

    if fills:
        install()
    listening = socket.socket(fileno=fd)
    host, port = listening.getsockname()[:2]
    listening.detach()  # werkzeug adopts the descriptor below
    # moto writes its own endpoint into what it returns (queue URLs and the like).
    os.environ.setdefault("MOTO_PORT", str(port))
    signal.signal(signal.SIGINT, signal_handler)
    signal.signal(signal.SIGTERM, signal_handler)
    app = DomainDispatcherApplication(create_backend_app)
    app.debug = True  # type: ignore[attr-defined]  # as moto's own main sets it
    server = make_server(host, port, app, threaded=True, request_handler=MotoRequestHandler, fd=fd)
    server.serve_forever()


def main(argv: list[str] | None = None) -> None:
    args = argv if argv is not None else sys.argv[1:]
    if args[:1] == ["--listen-fd"]:
        import argparse

        parser = argparse.ArgumentParser(prog="python -m devkit.moto_server")
        parser.add_argument("--listen-fd", type=int, required=True)
        parser.add_argument("--stock", action="store_true", help="moto without this module's fills")
        parser.add_argument("--switch-interval", type=float, help="sys.setswitchinterval (tests of races)")
        known = parser.parse_args(args)
        if known.switch_interval is not None:
            sys.setswitchinterval(known.switch_interval)
        serve_on(known.listen_fd, fills=not known.stock)
        return
    install()
    from moto.server import main as moto_main

    moto_main(args)


if __name__ == "__main__":
    main()
