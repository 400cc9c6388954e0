"""`ecs-release status`: a service's SSM tag next to what ECS runs (task definition, images,
deployments, counts)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from ecs_cd.release.aws import describe_failure
from ecs_cd.release.errors import BadInput
from ecs_cd.release.queue_depth import depth_line, queue_depth
from ecs_cd.release.rollout import describe_service, primary_deployment
from ecs_cd.release.tags import read_tag
from ecs_cd.release.targets import Target

if TYPE_CHECKING:
    from ecs_cd.release.runtime import Runtime


def service_connect_summary(svc: dict[str, Any]) -> dict[str, Any] | None:
    """What ECS says of the service's Service Connect (its PRIMARY deployment's): the namespace, and
    the names and ports the other services call it by (none for a client only); None: not in one."""
    deployment = primary_deployment(svc) or {}
    config = deployment.get("serviceConnectConfiguration") or {}
    if not config.get("enabled"):
        return None
    services = config.get("services") or []
    return {
        "namespace": config.get("namespace"),
        "discovery_names": [s.get("discoveryName") or s.get("portName") for s in services],
        "endpoints": [
            f"{alias.get('dnsName') or s.get('discoveryName') or s.get('portName')}:{alias.get('port')}"
            for s in services
            for alias in s.get("clientAliases") or []
        ],
    }


def service_status(rt: Runtime, t: Target) -> dict[str, Any]:
    aws = rt.aws(t.environment)
    fixed = t.service.image_tag
    tag = None if fixed is not None else read_tag(aws, t.parameter)
    status: dict[str, Any] = {
        "service": t.service.name,
        "image_strategy": t.service.image_strategy,
        "parameter": None if fixed is not None else t.parameter,
        "tag": fixed if fixed is not None else (tag.tag if tag else None),
        "tag_version": tag.version if tag else None,
    }
    if t.service.queue is not None:
        status["queue"] = queue_depth(aws, t.service)
    try:
        svc = describe_service(aws, t.cluster, t.service_name)
    except BadInput as exc:
        status.update({"deployed": False, "reason": str(exc)})
        return status
    images = []
    try:
        task = aws.call("ecs", "describe_task_definition", taskDefinition=svc["taskDefinition"])
        images = [c.get("image") for c in task["taskDefinition"].get("containerDefinitions", [])]
    except ClientError as exc:
        raise describe_failure("ecs", "DescribeTaskDefinition", exc) from None
    status.update(
        {
            "deployed": True,
            "task_definition": svc["taskDefinition"],
            "images": images,
            "running": svc.get("runningCount", 0),
            "desired": svc.get("desiredCount", 0),
            "service_connect": service_connect_summary(svc),
            "deployments": [
                {
                    "id": d.get("id"),
                    "status": d.get("status"),
                    "rollout_state": d.get("rolloutState"),
                    "task_definition": d.get("taskDefinition"),
                    "running": d.get("runningCount", 0),
                    "desired": d.get("desiredCount", 0),
                }
                for d in svc.get("deployments", [])
            ],
        }
    )
    return status


def status_lines(status: dict[str, Any]) -> list[tuple[str, str | None]]:
    """What `status` prints of one service: each line with its style."""
    if status["parameter"] is None:
        tag = f"{status['tag']} (fixed in the configuration)"
    else:
        tag = f"{status['tag']} (version {status['tag_version']})" if status["tag"] else "(no tag parameter)"
    lines: list[tuple[str, str | None]] = [(f"{status['service']}: SSM tag {tag}", "bold")]
    if not status["deployed"]:
        return [*lines, (f"  not deployed: {status['reason']}", None)]
    lines.append((f"  task definition {status['task_definition']}", None))
    lines += [(f"  image {image}", None) for image in status["images"]]
    lines.append((f"  running {status['running']}/{status['desired']}", None))
    if "queue" in status:
        lines.append((depth_line(status["queue"]), None))
    connect = status.get("service_connect")
    if connect is not None:
        called = ", ".join(connect["endpoints"]) or "none (a client: it calls the others by name)"
        lines.append((f"  service connect: namespace {connect['namespace']}, called as {called}", None))
    lines += [
        (
            f"  deployment {d['id']} {d['status']} {d['rollout_state'] or ''} "
            f"running {d['running']}/{d['desired']} {d['task_definition']}",
            None,
        )
        for d in status["deployments"]
    ]
    return lines
