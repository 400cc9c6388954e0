"""Image sources as values.

A container's image is one of:
- ``SsmTag``: ``<repository>:<tag>``, the tag read from an SSM parameter CI writes;
- ``EcrDigest``: ``<repository>@sha256:…``, a tag (from SSM, or fixed) resolved through ECR,
  so a re-push under the same tag changes the task definition;
- ``Fixed``: a literal reference (``repo:tag`` or ``repo@sha256:…``), e.g. a pinned sidecar;
- ``ResolvedImage``: an image already bound elsewhere (a token and what it needs).

``image_lookup.bind_image`` turns a source into a ``ResolvedImage``. No cdktf here: the
settings loader and the release command line use these values too. The image strategy
of a service applies to its containers whose image comes from SSM; ``Fixed`` images never
change with a release.
"""

from __future__ import annotations

from pydantic import StrictStr, model_validator

from constructs_lib.fields import ImageReference, ImageTag, Repository, SsmName
from constructs_lib.props import Props
from core.aws_formats import (
    ecr_location,
)


class SsmTag(Props):
    """``<repository>:<tag>``; the tag is the value of SSM parameter ``parameter_name`` at plan time."""

    repository: Repository
    parameter_name: SsmName


class EcrDigest(Props):
    """``<repository>@sha256:…``: ``tag_parameter``'s value (or the fixed ``tag``) resolved in ECR.

    Exactly one of ``tag_parameter`` (default None) and ``tag`` (default None)."""

    repository: Repository
    tag_parameter: SsmName | None = None
    tag: ImageTag | None = None

    @model_validator(mode="after")
    def _one_tag(self) -> EcrDigest:
        if (self.tag is None) == (self.tag_parameter is None):
            raise ValueError("EcrDigest needs exactly one of tag_parameter and tag")
        if ecr_location(self.repository) is None:
            raise ValueError(
                "EcrDigest needs an ECR repository (<account>.dkr.ecr.<region>.amazonaws.com/<name>), "
                f"got {self.repository!r}"
            )
        return self


class Fixed(Props):
    """A literal image reference, e.g. ``public.ecr.aws/datadog/agent:7.60.0`` (never redeployed by a tag)."""

    reference: ImageReference


class ResolvedImage(Props):
    """An image bound to Terraform: ``reference`` may be a token.

    ``repository_arn`` (default None): the ECR repository the execution role may pull from;
    ``from_ssm`` (default False): whether the reference changes when CI writes a new tag."""

    reference: StrictStr
    repository_arn: StrictStr | None = None
    from_ssm: bool = False


ImageSource = SsmTag | EcrDigest | Fixed | ResolvedImage
