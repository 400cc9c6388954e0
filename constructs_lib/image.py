"""Image references: from a tag CI writes to SSM, and resolved to an ECR digest."""

from __future__ import annotations

from cdktf import Token
from cdktf_cdktf_provider_aws.data_aws_ecr_image import DataAwsEcrImage
from cdktf_cdktf_provider_aws.data_aws_ssm_parameter import DataAwsSsmParameter
from constructs import Construct

from constructs_lib.naming import (
    ecr_location,
    validate_image_tag,
    validate_repository,
    validate_ssm_parameter_name,
)


class SsmTaggedImage(Construct):
    """``<repository>:<tag>`` where the tag is read from an SSM parameter at plan time."""

    def __init__(self, scope: Construct, id_: str, *, repository: str, parameter_name: str) -> None:
        """``repository``: image repository without tag (required); ``parameter_name``: SSM
        parameter holding the tag (required, e.g. ``/api/dev/docker-image-tag``)."""
        super().__init__(scope, id_)
        validate_repository(repository)
        validate_ssm_parameter_name(parameter_name)
        self._repository = repository
        self._parameter_name = parameter_name
        self._parameter = DataAwsSsmParameter(self, "tag", name=parameter_name)

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
        account, _, name = location
        self._repository = repository
        self._lookup = DataAwsEcrImage(
            self, "lookup", repository_name=name, registry_id=account, image_tag=tag
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
