"""Changing a service's tag: `set-tag` (checked in ECR first with --verify), `promote` (the same
image in both environments) and `rollback` (a tag from the parameter's history). Each checks
before it writes, writes once, and says what changed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ecs_cd.core.aws_formats import ecr_location
from ecs_cd.release.errors import BadInput, VerificationFailed
from ecs_cd.release.tags import history, image_digest, read_tag, rollback_target, validate_tag, write_tag
from ecs_cd.release.targets import Target, target

if TYPE_CHECKING:
    from ecs_cd.release.runtime import Runtime


def set_tag(rt: Runtime, env: str, service: str, tag: str, *, verify: bool) -> dict[str, Any]:
    t = target(rt.settings, env, service)
    validate_tag(tag)
    digest = verify_in_ecr(rt, t, tag) if verify else None
    return write(rt, t, tag, digest=digest, action="set-tag")


def verify_in_ecr(rt: Runtime, t: Target, tag: str) -> str:
    """The digest of ``tag`` in the service's repository; a VerificationFailed when it is not there."""
    location = ecr_location(t.repository)
    if location is None:
        raise BadInput(f"--verify: {t.repository} is not an ECR repository, so the image cannot be checked")
    digest = image_digest(rt.aws(t.environment, location[1]), t.repository, tag)
    if digest is None:
        raise VerificationFailed(f"image {t.repository}:{tag} is not in ECR: push it first")
    return digest


def write(rt: Runtime, t: Target, tag: str, *, digest: str | None, action: str) -> dict[str, Any]:
    """Write ``tag`` unless the parameter holds it already (no new version then)."""
    aws = rt.aws(t.environment)
    old = read_tag(aws, t.parameter)
    if old is not None and old.tag == tag:
        version, changed = old.version, False
        rt.out.say(f"{t.parameter}: already {tag} (version {version}), nothing written")
    else:
        version, changed = write_tag(aws, t.parameter, tag), True
        rt.out.say(
            f"{t.parameter}: {old.tag if old else '(none)'} -> {tag} (version {version})", style="green"
        )
    return {
        "action": action,
        "environment": t.environment.name,
        "service": t.service.name,
        "parameter": t.parameter,
        "old": old.tag if old else None,
        "new": tag,
        "version": version,
        "changed": changed,
        "digest": digest,
    }


def promote(rt: Runtime, service: str, source: str, destination: str) -> dict[str, Any]:
    """Copy the source's tag to the destination, once ECR (where both use it) holds the same image
    under that tag in both: a tag may name different images in two repositories."""
    if source == destination:
        raise BadInput(f"--from and --to are both {source!r}")
    src = target(rt.settings, source, service)
    dst = target(rt.settings, destination, service)
    current = read_tag(rt.aws(src.environment), src.parameter)
    if current is None:
        raise BadInput(f"{source} has no tag for {service} ({src.parameter} does not exist)")
    tag = current.tag
    src_ecr, dst_ecr = ecr_location(src.repository), ecr_location(dst.repository)
    digest = None
    if dst_ecr is not None:
        digest = image_digest(rt.aws(dst.environment, dst_ecr[1]), dst.repository, tag)
        if digest is None:
            raise VerificationFailed(
                f"image {dst.repository}:{tag} is not in {destination}'s repository: "
                "push or replicate it first"
            )
    if src_ecr is not None and dst_ecr is not None:
        src_digest = image_digest(rt.aws(src.environment, src_ecr[1]), src.repository, tag)
        if src_digest != digest:
            raise VerificationFailed(
                f"{tag} is not the same image in both environments: {source} has {src_digest}, "
                f"{destination} has {digest}"
            )
    rt.out.say(
        f"promoting {service} {tag} from {source} to {destination}" + (f" ({digest})" if digest else "")
    )
    result = write(rt, dst, tag, digest=digest, action="promote")
    result.update({"from": source, "to": destination})
    return result


def rollback(rt: Runtime, env: str, service: str, to: str | None) -> dict[str, Any]:
    t = target(rt.settings, env, service)
    entries = history(rt.aws(t.environment), t.parameter)
    chosen = rollback_target(entries, to)
    if chosen.tag == entries[-1].tag:
        raise BadInput(f"{t.parameter} already holds {chosen.tag!r} (version {entries[-1].version})")
    rt.out.say(f"rolling back to {chosen.tag} (version {chosen.version} of {t.parameter})")
    result = write(rt, t, chosen.tag, digest=None, action="rollback")
    result["rolled_back_to_version"] = chosen.version
    rt.out.say(f"deploy to apply it: ecs-release deploy {env} --wait")
    return result
