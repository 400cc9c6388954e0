"""Image sources as values.

A container's image is one of:
- ``SsmTag``: ``<repository>:<tag>``, the tag read from an SSM parameter CI writes;
- ``EcrDigest``: ``<repository>@sha256:…``, a tag (from SSM, or fixed) resolved through ECR,
  so a re-push under the same tag changes the task definition;
- ``Fixed``: a literal reference (``repo:tag`` or ``repo@sha256:…``), e.g. a pinned sidecar;
- ``ResolvedImage``: an image already bound elsewhere (a token and what it needs).

Each source carries its own behaviour, so no caller switches on its type: ``bind`` turns it
into a ``ResolvedImage`` under a construct (its SSM and ECR lookups), ``ecr_region`` is the
region of the ECR repository its lookup queries, ``follows_releases`` says whether a release
(a new tag in SSM) changes it, ``longest`` is the most characters it can take in a container
definition. No cdktf at import: the settings loader and the release command line use these
values too; ``bind`` imports the lookups when it runs. The image strategy of a service
applies to its containers whose image comes from SSM; ``Fixed`` images never change with a
release.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from pydantic import StrictStr, ValidationInfo, model_validator

from constructs_lib.fields import ImageReference, ImageTag, Repository, SsmName
from constructs_lib.props import NO_VALUE, REPORT_BY_FIELD, Problem, Props, problem_text
from ecs_cd.core.aws_formats import IMAGE_REFERENCE_MAX, IMAGE_TAG_MAX, ecr_location, ecr_repository_arn

if TYPE_CHECKING:
    from constructs import Construct


class SsmTag(Props):
    """``<repository>:<tag>``; the tag is the value of SSM parameter ``parameter_name`` at plan time."""

    repository: Repository
    parameter_name: SsmName

    @property
    def ecr_region(self) -> str | None:
        """None: the tag is read from SSM, no ECR lookup."""
        return None

    @property
    def follows_releases(self) -> bool:
        return True

    @property
    def longest(self) -> int:
        return len(self.repository) + 1 + IMAGE_TAG_MAX

    def bind(self, scope: Construct, *, tag_id: str = "image", digest_id: str = "digest") -> ResolvedImage:
        """The SSM lookup as ``tag_id`` under ``scope`` (``digest_id`` unused)."""
        from constructs_lib.image_lookup import SsmTaggedImage

        tagged = SsmTaggedImage(scope, tag_id, repository=self.repository, parameter_name=self.parameter_name)
        return ResolvedImage(
            reference=tagged.image, repository_arn=ecr_repository_arn(self.repository), from_ssm=True
        )


def _as_written(field: str) -> str:
    return field


def digest_tag_problems(
    tag_parameter: str | None, tag: str | None, *, name_of: Callable[[str], str] = _as_written
) -> list[Problem]:
    """An ``EcrDigest``'s tag: exactly one of ``tag_parameter`` and ``tag``, as a problem at its
    field; ``name_of`` names a field as the caller's form writes it (default: as is). The one
    home of the rule: ``EcrDigest`` validates with it, the settings loader reports it."""
    fixed, from_ssm = name_of("tag"), name_of("tag_parameter")
    if tag is not None and tag_parameter is not None:
        why = f"set either {fixed} (a fixed tag) or {from_ssm} (the tag from SSM), not both"
        return [Problem("tag_parameter", tag_parameter, why)]
    if tag is None and tag_parameter is None:
        return [Problem("tag", NO_VALUE, f"set {fixed} (a fixed tag) or {from_ssm} (the tag from SSM)")]
    return []


def digest_repository_problems(repository: str) -> list[Problem]:
    """An ``EcrDigest``'s repository: one in ECR, where the digest is looked up, as a problem at
    ``repository``. The one home of the rule: ``EcrDigest`` validates with it, the settings loader
    reports it."""
    if ecr_location(repository) is not None:
        return []
    return [
        Problem(
            "repository",
            repository,
            "'digest' resolves the tag through ECR, so repository must be an ECR repository "
            f"(<account>.dkr.ecr.<region>.amazonaws.com/<name>), not {repository!r}",
        )
    ]


class EcrDigest(Props):
    """``<repository>@sha256:…``: ``tag_parameter``'s value (or the fixed ``tag``) resolved in ECR.

    Exactly one of ``tag_parameter`` (default None) and ``tag`` (default None)."""

    repository: Repository
    tag_parameter: SsmName | None = None
    tag: ImageTag | None = None

    @model_validator(mode="after")
    def _one_tag(self, info: ValidationInfo) -> EcrDigest:
        if isinstance(info.context, Mapping) and info.context.get(REPORT_BY_FIELD):
            return self
        problems = digest_tag_problems(self.tag_parameter, self.tag)
        problems += digest_repository_problems(self.repository)
        if problems:
            raise ValueError(problem_text(problems))
        return self

    @property
    def ecr_region(self) -> str | None:
        """The region of the repository, where ECR answers the digest lookup."""
        location = ecr_location(self.repository)
        return location[1] if location is not None else None

    @property
    def follows_releases(self) -> bool:
        return self.tag_parameter is not None

    @property
    def longest(self) -> int:
        return len(self.repository) + len("@sha256:") + 64

    def bind(self, scope: Construct, *, tag_id: str = "image", digest_id: str = "digest") -> ResolvedImage:
        """The ECR digest lookup as ``digest_id`` under ``scope``, its tag read from SSM as
        ``tag_id`` when it comes from ``tag_parameter``."""
        from constructs_lib.image_lookup import EcrDigestImage, SsmTaggedImage

        tag = self.tag
        if self.tag_parameter is not None:
            tag = SsmTaggedImage(
                scope, tag_id, repository=self.repository, parameter_name=self.tag_parameter
            ).tag
        assert tag is not None  # exactly one of the two (validated)
        digest = EcrDigestImage(scope, digest_id, repository=self.repository, tag=tag)
        return ResolvedImage(
            reference=digest.image,
            repository_arn=ecr_repository_arn(self.repository),
            from_ssm=self.follows_releases,
        )


class Fixed(Props):
    """A literal image reference, e.g. ``public.ecr.aws/datadog/agent:7.60.0`` (never redeployed by a tag)."""

    reference: ImageReference

    @property
    def ecr_region(self) -> str | None:
        """None: nothing is looked up."""
        return None

    @property
    def follows_releases(self) -> bool:
        return False

    @property
    def longest(self) -> int:
        return len(self.reference)

    def bind(self, scope: Construct, *, tag_id: str = "image", digest_id: str = "digest") -> ResolvedImage:
        """The reference as it is; the execution role may pull it if it is in ECR."""
        return ResolvedImage(
            reference=self.reference, repository_arn=ecr_repository_arn(_repository_of(self.reference))
        )


class ResolvedImage(Props):
    """An image bound to Terraform: ``reference`` may be a token.

    ``repository_arn`` (default None): the ECR repository the execution role may pull from;
    ``from_ssm`` (default False): whether the reference changes when CI writes a new tag."""

    reference: StrictStr
    repository_arn: StrictStr | None = None
    from_ssm: bool = False

    @property
    def ecr_region(self) -> str | None:
        """None: bound already, its lookups (if any) made where it was bound."""
        return None

    @property
    def follows_releases(self) -> bool:
        return self.from_ssm

    @property
    def longest(self) -> int:
        """A token (known only at plan time) counts as the longest reference ECS takes."""
        return IMAGE_REFERENCE_MAX if "${" in self.reference else len(self.reference)

    def bind(self, scope: Construct, *, tag_id: str = "image", digest_id: str = "digest") -> ResolvedImage:
        """Itself: it is bound already."""
        return self


def _repository_of(reference: str) -> str:
    rest = reference.partition("@")[0]
    if ":" in rest.rsplit("/", 1)[-1]:
        rest = rest.rsplit(":", 1)[0]
    return rest


ImageSource = SsmTag | EcrDigest | Fixed | ResolvedImage
