"""The lookups behind image sources: the SSM tag (checked against the tag grammar) and the ECR digest."""

from __future__ import annotations

from cdktf import Postcondition, TerraformProvider, TerraformResourceLifecycle, TerraformStack, Token
from cdktf_cdktf_provider_aws.data_aws_ecr_image import DataAwsEcrImage
from cdktf_cdktf_provider_aws.data_aws_ssm_parameter import DataAwsSsmParameter
from constructs import Construct

from constructs_lib.images import ImageSource, ResolvedImage
from ecs_cd.core.aws_formats import (
    IMAGE_TAG_PATTERN,
    ecr_location,
    validate_image_tag,
    validate_repository,
    validate_ssm_parameter_name,
)

# A tag that does not match Docker's grammar fails the plan before it reaches a task definition.
_TAG_CONDITION = f'${{can(regex("^{IMAGE_TAG_PATTERN}$", self.insecure_value))}}'


class SsmTaggedImage(Construct):
    """The SSM parameter CI writes the tag to, read at plan time; a value that is no tag fails the plan."""

    def __init__(self, scope: Construct, id_: str, *, repository: str, parameter_name: str) -> None:
        """``repository``: image repository without tag (required); ``parameter_name``: SSM
        parameter holding the tag (required, e.g. ``/api/dev/docker-image-tag``)."""
        super().__init__(scope, id_)
        validate_repository(repository)
        validate_ssm_parameter_name(parameter_name)
        self._repository = repository
        self._parameter_name = parameter_name
        self._parameter = DataAwsSsmParameter(
            self,
            "tag",
            name=parameter_name,
            lifecycle=TerraformResourceLifecycle(
                postcondition=[
                    Postcondition(
                        condition=_TAG_CONDITION,
                        error_message=(
                            f"The SSM parameter {parameter_name} must hold an image tag "
                            f"({IMAGE_TAG_PATTERN}); its value is refused, nothing was deployed."
                        ),
                    )
                ]
            ),
        )

    @property
    def parameter(self) -> DataAwsSsmParameter:
        """The ``aws_ssm_parameter`` data source."""
        return self._parameter

    @property
    def parameter_name(self) -> str:
        """The SSM parameter name."""
        return self._parameter_name

    @property
    def repository(self) -> str:
        """The repository, without tag."""
        return self._repository

    @property
    def tag(self) -> str:
        """A token for the tag; resolves to the parameter's value at plan time."""
        # Tags are not secrets: insecure_value keeps them readable in plans
        # ("api:41 -> api:42") where value would show "(sensitive value)".
        return self._parameter.insecure_value

    @property
    def image(self) -> str:
        """A token for ``<repository>:<tag>``."""
        return f"{self._repository}:{self.tag}"


def regional_provider_id(region: str) -> str:
    """The id under which a stack keeps its AWS provider for ``region`` (beside its default)."""
    return f"aws-{region}"


def regional_provider(scope: Construct, region: str) -> TerraformProvider | None:
    """The stack's AWS provider for ``region``, or None (the default provider) if it has none."""
    found = TerraformStack.of(scope).node.try_find_child(regional_provider_id(region))
    return found if isinstance(found, TerraformProvider) else None


class EcrDigestImage(Construct):
    """``<repository>@sha256:…``: a tag (literal or token) resolved to its digest in ECR at plan time.

    A re-push of different content under the same tag changes the digest and so the task
    definition; no re-push, no change."""

    def __init__(self, scope: Construct, id_: str, *, repository: str, tag: str) -> None:
        """``repository``: an ECR repository (required); ``tag``: the tag to resolve, a literal
        such as ``latest`` or a token such as ``SsmTaggedImage.tag`` (required)."""
        super().__init__(scope, id_)
        validate_repository(repository)
        location = ecr_location(repository)
        if location is None:
            raise ValueError(
                f"EcrDigestImage needs an ECR repository (<account>.dkr.ecr.<region>.amazonaws.com/<name>), "
                f"got {repository!r}"
            )
        if not Token.is_unresolved(tag):
            validate_image_tag(tag)
        account, region, name = location
        self._repository = repository
        self._lookup = DataAwsEcrImage(
            self,
            "lookup",
            repository_name=name,
            registry_id=account,
            image_tag=tag,
            # ECR answers in the repository's region: the stack's provider for it, if it has one
            provider=regional_provider(self, region),
        )

    @property
    def lookup(self) -> DataAwsEcrImage:
        """The ``aws_ecr_image`` data source."""
        return self._lookup

    @property
    def digest(self) -> str:
        """A token for the image digest (``sha256:…``)."""
        return self._lookup.image_digest

    @property
    def image(self) -> str:
        """A token for ``<repository>@<digest>``."""
        return f"{self._repository}@{self.digest}"


def bind_image(
    scope: Construct, source: ImageSource, *, tag_id: str = "image", digest_id: str = "digest"
) -> ResolvedImage:
    """Resolve ``source`` under ``scope``: its SSM and ECR lookups become ``tag_id`` and ``digest_id``."""
    return source.bind(scope, tag_id=tag_id, digest_id=digest_id)
