"""`ecs-release verify ENV [SERVICE]`: what a deploy needs, checked before it runs.

Each check gives one line: what was checked, and for a problem what to do. Nothing is written.
AWS that cannot be reached is no problem of the environment: it stops the checks with exit 3
(``AwsUnreachable``), as it does every other command.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from ecs_cd.core.aws_formats import ecr_location, validate_image_tag
from ecs_cd.release.aws import Aws, caller_account, error_code
from ecs_cd.release.errors import AwsUnreachable, ReleaseError
from ecs_cd.release.tags import image_digest
from stacks.settings import EnvironmentSettings, S3State, ServiceSettings

if TYPE_CHECKING:
    from ecs_cd.release.runtime import Runtime
    from ecs_cd.release.targets import Target


@dataclass
class Report:
    passed: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def check(self, ok: bool, passed: str, problem: str) -> None:
        (self.passed if ok else self.problems).append(passed if ok else problem)


AwsFor = Callable[[str], Aws]  # an AWS session of the environment in a region


def verify_environment(
    env: EnvironmentSettings, services: Iterable[ServiceSettings], aws_for: AwsFor
) -> Report:
    report = Report()
    home = aws_for(env.region)
    if env.aws.account_id is not None:
        actual, arn = caller_account(home)
        report.check(
            actual == env.aws.account_id,
            f"credentials are for account {actual}",
            f"the credentials are for account {actual} ({arn}), the environment is in "
            f"{env.aws.account_id} (aws.account_id)",
        )
        if actual != env.aws.account_id:
            return report  # every other answer would be another account's
    if isinstance(env.state, S3State):
        _state(report, aws_for(env.state.region), env.state, env.name)
    if env.load_balancer is not None and env.load_balancer.listener_arn is not None:
        _listener(report, home, env.load_balancer.listener_arn)
    for service in services:
        _images(report, env, service, aws_for)
        _secrets(report, service, aws_for)
    return report


def _call_ok(aws: Aws, api: str, operation: str, missing: tuple[str, ...], **kwargs: object) -> bool | str:
    """True if the call answers, False if AWS says it is missing, else the error's text."""
    try:
        aws.call(api, operation, **kwargs)
    except ClientError as exc:
        if error_code(exc) in missing:
            return False
        return _why(exc)
    except AwsUnreachable:
        raise
    except ReleaseError as exc:
        return str(exc)
    return True


def _why(exc: ClientError | ReleaseError) -> str:
    """Why a read failed, for a problem line: the AWS error code and message."""
    if isinstance(exc, ClientError):
        return f"{error_code(exc)}: {exc.response.get('Error', {}).get('Message', '')}"
    return str(exc)


def _state(report: Report, aws: Aws, state: S3State, env: str) -> None:
    where = f"state bucket {state.bucket}"
    found = _call_ok(aws, "s3", "head_bucket", ("404", "NoSuchBucket", "NotFound"), Bucket=state.bucket)
    if found is not True:
        report.problems.append(
            f"{where} does not exist: run `ecs-release bootstrap {env}`"
            if found is False
            else f"{where} cannot be reached: {found}"
        )
        return
    try:
        versioning = aws.call("s3", "get_bucket_versioning", Bucket=state.bucket).get("Status")
    except AwsUnreachable:
        raise
    except (ClientError, ReleaseError) as exc:
        report.problems.append(f"{where}: its versioning cannot be read: {_why(exc)}")
    else:
        report.check(
            versioning == "Enabled",
            f"{where} keeps versions",
            f"{where} does not keep versions (state-restore needs them): run `ecs-release bootstrap {env}`",
        )
    encrypted = _call_ok(
        aws,
        "s3",
        "get_bucket_encryption",
        ("ServerSideEncryptionConfigurationNotFoundError",),
        Bucket=state.bucket,
    )
    report.check(
        encrypted is True,
        f"{where} encrypts by default",
        f"{where} has no default encryption: run `ecs-release bootstrap {env}`"
        if encrypted is False
        else f"{where}: its encryption cannot be read: {encrypted}",
    )


def _listener(report: Report, aws: Aws, arn: str) -> None:
    found = _call_ok(aws, "elbv2", "describe_listeners", ("ListenerNotFound",), ListenerArns=[arn])
    report.check(
        found is True,
        "the listener exists",
        f"listener {arn} does not exist (load_balancer.listener_arn)"
        if found is False
        else f"listener {arn} cannot be read: {found}",
    )


def _images(report: Report, env: EnvironmentSettings, service: ServiceSettings, aws_for: AwsFor) -> None:
    name = service.name
    tag = service.image_tag
    parameter = service.image_tag_parameter
    if parameter is not None:
        try:
            tag = str(aws_for(env.region).call("ssm", "get_parameter", Name=parameter)["Parameter"]["Value"])
        except AwsUnreachable:
            raise
        except (ClientError, ReleaseError) as exc:
            if isinstance(exc, ClientError) and error_code(exc) == "ParameterNotFound":
                report.problems.append(
                    f"{name}: SSM parameter {parameter} does not exist: CI writes it "
                    f"(`ecs-release set-tag {env.name} {name} TAG`)"
                )
            else:
                report.problems.append(f"{name}: SSM parameter {parameter} cannot be read: {_why(exc)}")
            return
        try:
            validate_image_tag(tag)
        except ValueError:
            report.problems.append(f"{name}: SSM parameter {parameter} does not hold an image tag")
            return
        report.passed.append(f"{name}: {parameter} holds {tag}")
    location = ecr_location(service.repository)
    if tag is None or location is None:
        return
    try:
        digest = image_digest(aws_for(location[1]), service.repository, tag)
    except AwsUnreachable:
        raise
    except ReleaseError as exc:
        report.problems.append(
            f"{name}: image {service.repository}:{tag} cannot be looked up in ECR ({location[1]}): {exc}"
        )
        return
    report.check(
        digest is not None,
        f"{name}: {service.repository}:{tag} is in ECR ({location[1]})",
        f"{name}: image {service.repository}:{tag} is not in ECR ({location[1]}): push it first",
    )


def _secrets(report: Report, service: ServiceSettings, aws_for: AwsFor) -> None:
    arns = {arn for container in service.task_containers for arn in container.all_secret_arns}
    for arn in sorted(arns):
        parts = arn.split(":")
        kind, region = parts[2], parts[3]
        aws = aws_for(region)
        if kind == "ssm":
            name = "/" + arn.split(":parameter/", 1)[1]
            try:
                found: bool | str = bool(
                    aws.call(
                        "ssm",
                        "describe_parameters",
                        ParameterFilters=[{"Key": "Name", "Option": "Equals", "Values": [name]}],
                    )["Parameters"]
                )
            except AwsUnreachable:
                raise
            except (ClientError, ReleaseError) as exc:
                found = _why(exc)
        else:
            found = _call_ok(
                aws, "secretsmanager", "describe_secret", ("ResourceNotFoundException",), SecretId=arn
            )
        report.check(
            found is True,
            f"{service.name}: secret {arn} exists",
            f"{service.name}: secret {arn} does not exist"
            if found is False
            else f"{service.name}: secret {arn} cannot be read: {found}",
        )


def run_checks(rt: Runtime, env_settings: EnvironmentSettings, ts: list[Target], *, passed: bool) -> Report:
    """Run the checks of `verify` and print one line per problem (and per pass if ``passed``)."""
    report = verify_environment(
        env_settings,
        [t.service for t in ts],
        lambda region: rt.aws(env_settings, region, check_account=False),
    )
    if passed:
        for line in report.passed:
            rt.out.say(f"ok: {line}")
    for line in report.problems:
        rt.out.say(f"problem: {line}", style="red")
    return report


def problems_text(problems: list[str]) -> str:
    count = len(problems)
    return f"{count} problem{'s' if count > 1 else ''}: {problems[0]}" + (
        f" (and {count - 1} more, listed above)" if count > 1 else ""
    )
