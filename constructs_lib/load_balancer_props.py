"""The props of an environment's Application Load Balancer, and its rules (no cdktf: the loader uses them)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from pydantic import AfterValidator, StrictBool, StrictStr, model_validator

from constructs_lib.fields import LoadBalancerName, S3BucketName, SecurityGroupName
from constructs_lib.props import NO_VALUE, Problem, Props, problem_text

# TLS 1.2 and 1.3 only (AWS's recommended policy for new HTTPS listeners).
DEFAULT_SSL_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"


def https_problems(internal: bool, certificate_arn: str | None) -> list[Problem]:
    """An internet-facing load balancer listens on HTTPS only, so it needs a certificate: a
    problem at ``certificate_arn``. The one home of the rule: ``ApplicationLoadBalancerProps``
    validates with it, the settings loader's load balancer table too."""
    if internal or certificate_arn is not None:
        return []
    return [
        Problem(
            "certificate_arn",
            NO_VALUE,
            "an internet-facing load balancer (internal = false) needs certificate_arn: it only listens "
            "on HTTPS",
        )
    ]


def _some_subnets(value: Sequence[str]) -> Sequence[str]:
    if not value:
        raise ValueError("subnets must name at least one subnet")
    return value


def _some_cidr_blocks(value: Sequence[str]) -> Sequence[str]:
    if not value:
        raise ValueError("ingress_cidr_blocks must name at least one CIDR block")
    return value


class ApplicationLoadBalancerProps(Props):
    """An Application Load Balancer with its own security group.

    - ``name`` and ``security_group_name`` (required): AWS names (not starting with
      ``internal-`` and ``sg-``).
    - ``vpc_id`` and ``subnets`` (required, at least one subnet): where it runs.
    - ``ingress_cidr_blocks`` (required, at least one): who may connect (a token too, such as
      the VPC's CIDR block).
    - ``internal`` (default True); ``certificate_arn`` (default None: plain HTTP, only for an
      internal one; with a certificate HTTPS, and HTTP redirected to it).
    - ``deletion_protection`` (default True); ``ssl_policy`` (default ``DEFAULT_SSL_POLICY``:
      TLS 1.2 and 1.3); ``access_logs_bucket`` (default None: no access logs); ``web_acl_arn``
      (default None: no WAF web ACL).
    """

    name: LoadBalancerName
    security_group_name: SecurityGroupName
    vpc_id: StrictStr
    subnets: Annotated[tuple[StrictStr, ...], AfterValidator(_some_subnets)]
    ingress_cidr_blocks: Annotated[tuple[StrictStr, ...], AfterValidator(_some_cidr_blocks)]
    internal: StrictBool = True
    certificate_arn: StrictStr | None = None
    deletion_protection: StrictBool = True
    ssl_policy: StrictStr = DEFAULT_SSL_POLICY
    access_logs_bucket: S3BucketName | None = None
    web_acl_arn: StrictStr | None = None

    @model_validator(mode="after")
    def _consistent(self) -> ApplicationLoadBalancerProps:
        problems = https_problems(self.internal, self.certificate_arn)
        if problems:
            raise ValueError(problem_text(problems))
        return self

    @property
    def https(self) -> bool:
        """Whether it listens on HTTPS (with a certificate), else on HTTP."""
        return self.certificate_arn is not None
