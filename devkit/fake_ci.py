"""What a CI pipeline does after a build, played against the emulator: push an image
manifest to ECR and write its tag to the environment's SSM parameter. And what an account
has before its first deploy: the secrets the configuration names."""

from __future__ import annotations

import contextlib
import hashlib
import json
import secrets
from collections.abc import Iterable
from typing import Any

from ecs_cd.core.aws_formats import validate_image_tag


def _digest(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def push_image(ecr: Any, repository_name: str, tag: str, *, content: str | None = None) -> str:
    """Create the repository if needed and put a manifest under ``tag``; returns its digest.

    There is no image data to upload to an emulator: the manifest's layer digests stand
    for it, so different ``content`` gives a different manifest and digest.
    """
    validate_image_tag(tag)
    with contextlib.suppress(ecr.exceptions.RepositoryAlreadyExistsException):
        ecr.create_repository(repositoryName=repository_name)
    body = content if content is not None else f"{repository_name}:{tag}"
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {
            "mediaType": "application/vnd.docker.container.image.v1+json",
            "size": 1024,
            "digest": _digest("config " + body),
        },
        "layers": [
            {
                "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                "size": 4096,
                "digest": _digest("layer " + body),
            }
        ],
    }
    try:
        response = ecr.put_image(
            repositoryName=repository_name, imageManifest=json.dumps(manifest), imageTag=tag
        )
    except ecr.exceptions.ImageAlreadyExistsException:
        # The same manifest under the same tag: pushing again changes nothing, as with docker push.
        images = ecr.describe_images(repositoryName=repository_name, imageIds=[{"imageTag": tag}])
        return str(images["imageDetails"][0]["imageDigest"])
    return str(response["image"]["imageId"]["imageDigest"])


def write_tag(ssm: Any, parameter_name: str, tag: str) -> int:
    """Write ``tag`` to the SSM parameter (creating or overwriting it); returns its version."""
    validate_image_tag(tag)
    response = ssm.put_parameter(Name=parameter_name, Value=tag, Type="String", Overwrite=True)
    return int(response["Version"])


def create_secrets(ssm_for: Any, arns: Iterable[str]) -> list[tuple[str, bool]]:
    """Create each SSM SecureString parameter named by ``arns`` that does not exist yet, with a
    random value (nothing reads it on the emulator); ``ssm_for(region)`` gives the client.
    Returns (ARN, created) pairs. Secrets Manager ARNs are refused: the emulator gives a
    secret its own random suffix, so the configured ARN could never be the one created."""
    done = []
    for arn in sorted(set(arns)):
        parts = arn.split(":")
        if parts[2] != "ssm":
            raise ValueError(
                f"{arn} is a Secrets Manager secret: on the emulator it gets its own ARN suffix, "
                "so create it yourself and configure the ARN it gets"
            )
        name = "/" + arn.split(":parameter/", 1)[1]
        try:
            ssm_for(parts[3]).put_parameter(
                Name=name, Value=secrets.token_urlsafe(24), Type="SecureString", Overwrite=False
            )
            done.append((arn, True))
        except ssm_for(parts[3]).exceptions.ParameterAlreadyExists:
            done.append((arn, False))
    return done


def main(argv: list[str] | None = None) -> int:
    """`python -m devkit.fake_ci push ENV SERVICE TAG`: push an image for SERVICE's repository
    to the emulator's ECR (ECS_CD_EMULATOR_ENDPOINT), as a CI build would.
    `python -m devkit.fake_ci secrets ENV`: create the SSM secrets ENV's services name, as an
    account has them before its first deploy (`ecs-release deploy` verifies that they exist)."""
    import argparse
    import os
    import sys
    from pathlib import Path

    import boto3

    from stacks.settings import ConfigError, load_settings

    parser = argparse.ArgumentParser(prog="python -m devkit.fake_ci", description=main.__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    push = sub.add_parser("push", help="push an image manifest to the emulator's ECR")
    push.add_argument("env")
    push.add_argument("service")
    push.add_argument("tag")
    push.add_argument("--content", default=None, help="what the image holds (different content, new digest)")
    seed = sub.add_parser("secrets", help="create the SSM secrets the environment's services name")
    seed.add_argument("env")
    args = parser.parse_args(argv)
    endpoint = os.environ.get("ECS_CD_EMULATOR_ENDPOINT")
    if not endpoint:
        print("error: set ECS_CD_EMULATOR_ENDPOINT (python -m devkit.emulator prints it)", file=sys.stderr)
        return 2
    config = Path(
        os.environ.get("ECS_CD_CONFIG") or Path(__file__).resolve().parent.parent / "config" / "ecs-cd.toml"
    )
    try:
        settings = load_settings(config, emulator_endpoint=endpoint)
        if args.env not in settings.environments:
            known = ", ".join(settings.environments)
            raise ValueError(f"{config}: no environment {args.env} (known: {known})")
        env = settings.environments[args.env]
        if args.command == "push":
            service = env.service(args.service)
            validate_image_tag(args.tag)
    except ConfigError as exc:
        print("error: " + "; ".join(exc.problems), file=sys.stderr)
        return 2
    except (KeyError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if env.emulator_endpoint is None:
        print(f"error: environment {args.env} is not on the emulator", file=sys.stderr)
        return 2

    def client(api: str, region: str) -> Any:
        return boto3.client(
            api,
            endpoint_url=endpoint,
            region_name=region,
            aws_access_key_id="emulator",
            aws_secret_access_key="emulator",
        )

    if args.command == "secrets":
        arns = set()
        for svc in env.services:
            for container in svc.task_containers:
                arns |= set(container.all_secret_arns)
        clients: dict[str, Any] = {}

        def ssm_for(region: str) -> Any:
            if region not in clients:
                clients[region] = client("ssm", region)
            return clients[region]

        try:
            done = create_secrets(ssm_for, arns)
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        for arn, created in done:
            print(f"{'created' if created else 'exists '} {arn}")
        if not done:
            print(f"environment {args.env} names no secrets")
        return 0
    host, _, name = service.repository.partition("/")
    region = host.split(".")[3] if ".dkr.ecr." in host else env.region
    ecr = client("ecr", region)
    digest = push_image(ecr, name, args.tag, content=args.content)
    print(f"pushed {service.repository}:{args.tag} ({digest})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
