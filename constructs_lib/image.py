"""Image reference built from a tag that CI writes to SSM Parameter Store."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.data_aws_ssm_parameter import DataAwsSsmParameter
from constructs import Construct

from constructs_lib.naming import validate_repository, validate_ssm_parameter_name


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
