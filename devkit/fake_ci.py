"""What a CI pipeline does after a build, played against the emulator: push an image
manifest to ECR and write its tag to the environment's SSM parameter."""

from __future__ import annotations

import contextlib
import hashlib
import json
from typing import Any

from constructs_lib.naming import validate_image_tag


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
    response = ecr.put_image(repositoryName=repository_name, imageManifest=json.dumps(manifest), imageTag=tag)
    return str(response["image"]["imageId"]["imageDigest"])


def write_tag(ssm: Any, parameter_name: str, tag: str) -> int:
    """Write ``tag`` to the SSM parameter (creating or overwriting it); returns its version."""
    validate_image_tag(tag)
    response = ssm.put_parameter(Name=parameter_name, Value=tag, Type="String", Overwrite=True)
    return int(response["Version"])
