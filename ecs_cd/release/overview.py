"""`ecs-release overview`: every service in every environment, and where what runs is not what
the pipeline or Terraform would have it run (drift)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ecs_cd.release.aws import Aws
from ecs_cd.release.errors import BadInput
from ecs_cd.release.queue_depth import depth_short, queue_depth
from ecs_cd.release.rollout import describe_service, primary_deployment
from ecs_cd.release.service_status import service_connect_summary
from ecs_cd.release.tags import ecr_image, read_tag
from ecs_cd.release.targets import Target, environment, targets

if TYPE_CHECKING:
    from ecs_cd.release.runtime import Runtime
    from stacks.settings import EnvironmentSettings

# The tag the provider's default_tags put on everything Terraform creates here.
MANAGED_BY = ("ManagedBy", "ecs-cd")


@dataclass
class Cell:
    """One service in one environment."""

    environment: str
    service: str
    tag: str | None = None  # what SSM (or the configuration) says should run
    deployed: bool = False
    image: str | None = None  # the app container's image the service runs
    # The running image's digest, and its tags in ECR (an image pinned by digest names no tag).
    digest: str | None = None
    ecr_tags: list[str] = field(default_factory=list)
    revision: str | None = None
    rollout_state: str | None = None
    running: int = 0
    desired: int = 0
    deployed_at: str | None = None
    # Service Connect (None: not in a namespace): its namespace and what the others call it as.
    service_connect: dict[str, Any] | None = None
    drift: list[str] = field(default_factory=list)
    # A queue worker's queue: its depth and the scaler's range (queue_depth.queue_depth).
    queue: dict[str, Any] | None = None
    # A scheduled job's schedule: expression, timezone, state, next_run, last_run (None: a service).
    schedule: dict[str, Any] | None = None

    @property
    def running_tag(self) -> str | None:
        """The tag of the image that runs: the image's own, else (pinned by digest) the tag SSM
        names if ECR has that tag on this digest, else ECR's first tag of it."""
        if self.image is None:
            return None
        tail = self.image.split("@", 1)[0].rsplit("/", 1)[-1]
        if ":" in tail:
            return tail.rsplit(":", 1)[1]
        if self.tag in self.ecr_tags:
            return self.tag
        return self.ecr_tags[0] if self.ecr_tags else None

    def short(self) -> str:
        if not self.deployed:
            return f"{self.tag or '-'} (not deployed)"
        if self.schedule is not None:
            return self._job_short()
        shown = self.running_tag or (self.image.rsplit("@", 1)[-1][:19] if self.image else "?")
        text = f"{shown} {self.rollout_state or '?'} {self.running}/{self.desired}"
        if self.queue is not None:
            text += f" {depth_short(self.queue)}"
        if self.service_connect is not None and self.service_connect["endpoints"]:
            text += f" [{', '.join(self.service_connect['endpoints'])}]"
        return text + ("  ! " + "; ".join(self.drift) if self.drift else "")

    def _job_short(self) -> str:
        assert self.schedule is not None
        shown = self.running_tag or "?"
        when = self.schedule["next_run"]
        next_text = f"next {when[:16].replace('T', ' ')}Z" if when else f"next - ({self.schedule['state']})"
        run = self.schedule["last_run"]
        if run is None:
            last = "last -"
        elif run["last_status"] != "STOPPED":
            last = f"last {run['last_status']}"
        else:
            last = f"last exit {run['exit_code'] if run['exit_code'] is not None else '?'}"
        text = f"{shown} job {next_text} {last}"
        return text + ("  ! " + "; ".join(self.drift) if self.drift else "")

    def as_dict(self) -> dict[str, Any]:
        return {
            "environment": self.environment,
            "service": self.service,
            "tag": self.tag,
            "deployed": self.deployed,
            "image": self.image,
            "running_tag": self.running_tag,
            "digest": self.digest,
            "task_definition": self.revision,
            "rollout_state": self.rollout_state,
            "running": self.running,
            "desired": self.desired,
            "deployed_at": self.deployed_at,
            "service_connect": self.service_connect,
            "drift": self.drift,
            "queue": self.queue,
            **({"kind": "job", "schedule": self.schedule} if self.schedule is not None else {}),
        }


def cell(aws: Aws, t: Target, ecr: Callable[[str], Aws] | None = None) -> Cell:
    """What runs, what should, and the drift between them, for one target; ``ecr``: a session
    for a region, to read the images' digests and tags from ECR (None: not read)."""
    fixed = t.service.image_tag
    found = Cell(t.environment.name, t.service.name)
    if fixed is not None:
        found.tag = fixed
    else:
        read = read_tag(aws, t.parameter)
        found.tag = read.tag if read else None
    try:
        svc = describe_service(aws, t.cluster, t.service_name)
    except BadInput:
        return found
    found.deployed, found.service_connect = True, service_connect_summary(svc)
    found.revision = str(svc.get("taskDefinition"))
    found.running, found.desired = int(svc.get("runningCount", 0)), int(svc.get("desiredCount", 0))
    primary = primary_deployment(svc)
    if primary is not None:
        found.rollout_state = primary.get("rolloutState")
        when = primary.get("createdAt")
        found.deployed_at = when.isoformat() if isinstance(when, datetime) else None
    task = aws.call("ecs", "describe_task_definition", taskDefinition=found.revision, include=["TAGS"])
    containers = task["taskDefinition"].get("containerDefinitions", [])
    app = next(
        (c for c in containers if c.get("name") == t.service.name), containers[0] if containers else {}
    )
    found.image = app.get("image")
    pinned = False
    if found.image and ecr is not None:
        repository, _, digest = str(found.image).partition("@")
        pinned = bool(digest)
        tail = repository.rsplit("/", 1)[-1]
        if ":" in tail and not pinned:
            repository, tag = repository.rsplit(":", 1)
            image_id = {"imageTag": tag}
        else:
            repository = repository.rsplit(":", 1)[0] if ":" in tail else repository
            image_id = {"imageDigest": digest}
        details = ecr_image(ecr, repository, image_id)
        found.digest = digest or (str(details["imageDigest"]) if details else None)
        found.ecr_tags = [str(x) for x in (details or {}).get("imageTags", [])]
        if pinned and found.tag is not None and found.tag not in found.ecr_tags:
            # SSM names another image than the pinned one runs (digest strategy): which one?
            wanted = ecr_image(ecr, repository, {"imageTag": found.tag})
            if wanted is None:
                found.drift.append(f"SSM says {found.tag}, which ECR does not have")
            elif wanted.get("imageDigest") != digest:
                runs = found.running_tag or digest.removeprefix("sha256:")[:12]
                found.drift.append(
                    f"SSM says {found.tag} ({str(wanted['imageDigest']).removeprefix('sha256:')[:12]}), "
                    f"{runs} runs (not deployed yet)"
                )
    tags = {x.get("key"): x.get("value") for x in task.get("tags", [])}
    if tags.get(MANAGED_BY[0]) != MANAGED_BY[1]:
        number = found.revision.rsplit(":", 1)[-1]
        found.drift.append(f"runs revision {number}, which Terraform did not register (changed outside)")
    if (
        not pinned
        and found.tag is not None
        and found.running_tag is not None
        and found.tag != found.running_tag
    ):
        found.drift.append(f"SSM says {found.tag}, {found.running_tag} runs (not deployed yet)")
    return found


def job_cell(aws: Aws, t: Target) -> Cell:
    """The cell of a scheduled job: what its schedule runs (ecs_cd/release/jobs.py)."""
    from ecs_cd.release.jobs import overview_cell

    found = Cell(t.environment.name, t.service.name)
    fixed = t.service.image_tag
    if fixed is not None:
        found.tag = fixed
    else:
        read = read_tag(aws, t.parameter)
        found.tag = read.tag if read else None
    return overview_cell(aws, t, found)


def cells_of(rt: Runtime, environments: list[str]) -> list[Cell]:
    """A cell for every service of each of ``environments``, in that order."""
    cells: list[Cell] = []
    for env in environments:
        env_settings = environment(rt.settings, env)
        aws = rt.aws(env_settings)
        sessions: dict[str, Aws] = {env_settings.region: aws}

        def ecr(
            region: str, env_settings: EnvironmentSettings = env_settings, sessions: dict[str, Aws] = sessions
        ) -> Aws:
            # The repository's own region (it may be elsewhere), with the environment's role.
            if region not in sessions:
                sessions[region] = rt.aws(env_settings, region)
            return sessions[region]

        cells += [
            job_cell(aws, t) if t.service.is_job else with_queue(aws, t, cell(aws, t, ecr))
            for t in targets(rt.settings, env, None)
        ]
    return cells


def with_queue(aws: Aws, t: Target, found: Cell) -> Cell:
    """``found`` with its queue's depth, for a deployed queue worker."""
    if found.deployed and t.service.queue is not None:
        found.queue = queue_depth(aws, t.service)
    return found


def table(cells: list[Cell], environments: list[str]) -> list[str]:
    """Services down, environments across; a drift is marked with '!'."""
    services = list(dict.fromkeys(c.service for c in cells))
    by = {(c.service, c.environment): c for c in cells}
    rows = [["service", *environments]]
    for service in services:
        rows.append(
            [service, *((by[(service, e)].short() if (service, e) in by else "(off)") for e in environments)]
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(value.ljust(widths[i]) for i, value in enumerate(row)).rstrip() for row in rows]
