"""Following one service's deployment to its end, as `redeploy --wait` and `deploy --wait` do;
`redeploy` itself."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ecs_cd.release.errors import BadInput, RolloutFailed
from ecs_cd.release.rollout import RolloutResult, force_new_deployment, watch
from ecs_cd.release.targets import Target, target

if TYPE_CHECKING:
    from ecs_cd.release.runtime import Runtime


def redeploy(
    rt: Runtime, env: str, service: str, *, wait: bool, timeout: float, poll: float
) -> dict[str, Any]:
    """Force a new deployment of ``service`` (same task definition); with ``wait``, follow it and
    raise RolloutFailed (the result in its details) when it does not complete."""
    t = target(rt.settings, env, service)
    if t.service.is_job:
        raise BadInput(
            f"{service} is a scheduled job: it has no ECS service to redeploy (its next run starts its "
            f"current revision); `ecs-release run {env} {service}` runs it now"
        )
    deployment_id = force_new_deployment(rt.aws(t.environment), t.cluster, t.service_name)
    rt.out.say(f"{service}: started deployment {deployment_id}")
    payload: dict[str, Any] = {"environment": env, "service": service, "deployment_id": deployment_id}
    if wait:
        result = follow(rt, t, deployment_id, timeout, poll)
        payload["rollout"] = result.as_dict()
        if not result.ok:
            raise RolloutFailed(f"{service}: {result.outcome.value}: {result.message}", details=payload)
    return payload


def follow(rt: Runtime, t: Target, deployment_id: str, timeout: float, poll: float) -> RolloutResult:
    """Follow ``deployment_id`` of ``t`` until it completes, fails or ``timeout`` passes, printing
    its progress (a view redrawn in place on a terminal); a failure names its stopped tasks, their
    last log lines and the service's events."""
    rt.out.say(f"{t.service.name}: following deployment {deployment_id} (timeout {timeout:.0f} s)")
    if rt.out.live:
        # On a terminal: one view redrawn at each poll, instead of a line per change.
        import time

        from ecs_cd.release.live import deployments_view

        started = time.monotonic()
        with rt.out.live_view() as view:
            result = watch(
                rt.aws(t.environment),
                t.cluster,
                t.service_name,
                deployment_id,
                timeout=timeout,
                poll_interval=poll,
                observe=lambda svc: view.update(
                    deployments_view(svc, following=deployment_id, elapsed=time.monotonic() - started)
                ),
            )
    else:
        result = watch(
            rt.aws(t.environment),
            t.cluster,
            t.service_name,
            deployment_id,
            timeout=timeout,
            poll_interval=poll,
            progress=rt.out.say,
        )
    if result.ok:
        rt.out.say(f"{t.service.name}: {result.message}", style="green")
    else:
        rt.out.say(f"{t.service.name}: {result.outcome.value}: {result.message}", style="bold red")
        from ecs_cd.release.logs import last_lines

        group = t.service.names.log_group
        awslogs = [c.name for c in t.service.task_containers if c.log_driver == "awslogs"]
        for task in result.stopped_tasks:
            reasons = "; ".join(
                f"{c['name']}: exit {c['exit_code']} {c['reason']}".strip() for c in task["containers"]
            )
            rt.out.say(f"  stopped task {task['task']}: {task['stopped_reason']} {reasons}".rstrip())
            # What the task said last, next to why it stopped.
            lines = last_lines(
                rt.aws(t.environment), group, task_id=str(task["task"]).rsplit("/", 1)[-1], containers=awslogs
            )
            task["last_lines"] = [line.text() for line in lines]
            for line in task["last_lines"]:
                rt.out.say(f"    {line}")
        for event in result.events:
            rt.out.say(f"  event: {event}")
    return result
