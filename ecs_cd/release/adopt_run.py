"""`ecs-release adopt` as steps: the configuration (a file with no service yet is where adoption
starts), the services to read (named, or those another configuration's state manages), each
read from AWS, and the tables appended only when the whole file still loads with them."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ecs_cd.release.adopt import Adopted, StateRecord, compare_with_state, read_service, read_state, toml_text
from ecs_cd.release.errors import BadInput
from ecs_cd.release.targets import environment

if TYPE_CHECKING:
    from ecs_cd.release.runtime import Runtime
    from stacks.settings import Settings


@dataclass(frozen=True)
class Request:
    env: str
    cluster: str | None
    services: tuple[str, ...]
    state_source: str | None
    key: str | None
    append: bool


@dataclass(frozen=True)
class Done:
    adopted: list[Adopted]
    text: str


def adopt_services(rt: Runtime, request: Request) -> Done:
    settings = _settings(rt)
    env = environment(settings, request.env)
    aws = rt.aws(env)
    state = (
        read_state(_state_text(aws, request.state_source), request.state_source)
        if request.state_source
        else None
    )
    cluster, services = _services(request, state)
    known = {s.name for e in settings.environments.values() for s in e.services}
    known |= {n for e in settings.environments.values() for n in e.disabled_services}
    adopted = []
    for service in services:
        one = read_service(aws, env, settings.project, cluster, service, request.key)
        if state is not None and request.state_source is not None:
            compare_with_state(one, state, request.state_source)
        if one.key in known:
            raise BadInput(
                f"adopt: {settings.source} already has a service {one.key!r}: give another name with --as"
            )
        adopted.append(one)
    own_cluster = env.cluster.origin != "created" and env.cluster_name == cluster
    others = [name for name in settings.environments if name != request.env]
    text = toml_text(
        adopted, request.env, others, None if own_cluster else {"name": cluster, "origin": "adopted"}
    )
    combined = _checked(rt.config, settings, text)
    if request.append:
        rt.config.write_text(combined, encoding="utf-8")
    return Done(adopted, text)


def _settings(rt: Runtime) -> Settings:
    from stacks.settings import ConfigError, load_settings

    try:
        return load_settings(rt.config, emulator_endpoint=rt.emulator_endpoint, services_required=False)
    except ConfigError as exc:
        raise BadInput("the configuration is invalid: " + "; ".join(exc.problems)) from None


def _services(request: Request, state: StateRecord | None) -> tuple[str, list[str]]:
    """The one cluster and the services on it to adopt."""
    if state is not None:
        pairs = [
            (c, s)
            for c, s in state.services
            if (not request.services or s in request.services) and request.cluster in (None, c)
        ]
        if not pairs:
            raise BadInput(f"adopt: {request.state_source} manages none of the services named")
    elif request.cluster is None or not request.services:
        raise BadInput("adopt: give --cluster and --service (or --from-state, another configuration's state)")
    else:
        pairs = [(request.cluster, s) for s in request.services]
    if request.key is not None and len(pairs) > 1:
        raise BadInput("adopt: --as names one service: give one --service with it")
    clusters = {c for c, _ in pairs}
    if len(clusters) > 1:
        raise BadInput(
            "adopt: the services run on several clusters: adopt those of one at a time (--cluster)"
        )
    return clusters.pop(), [s for _, s in pairs]


def _checked(config: Path, settings: Settings, text: str) -> str:
    """The configuration file with ``text`` appended, if it loads (BadInput otherwise)."""
    from stacks.settings import ConfigError, settings_from_dict

    current = config.read_text(encoding="utf-8")
    combined = current + ("" if current.endswith("\n") else "\n") + "\n" + text
    try:
        settings_from_dict(tomllib.loads(combined), file=settings.source)
    except (ConfigError, tomllib.TOMLDecodeError) as exc:
        shown = "; ".join(exc.problems) if isinstance(exc, ConfigError) else str(exc)
        raise BadInput(
            f"adopt: the configuration with the adopted tables would not load ({shown}): nothing was written"
        ) from None
    return combined


def _state_text(aws: Any, source: str) -> str:
    """The state's text, from a file or from S3 (``s3://BUCKET/KEY``)."""
    if source.startswith("s3://"):
        bucket, _, key = source.removeprefix("s3://").partition("/")
        body = aws.call("s3", "get_object", Bucket=bucket, Key=key)["Body"]
        return str(body.read().decode("utf-8"))
    try:
        return Path(source).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"adopt: cannot read the state {source}: {exc}") from None
