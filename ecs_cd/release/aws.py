"""boto3 clients with standard retries, and one place that turns AWS errors into one line."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    ProfileNotFound,
    ProxyConnectionError,
    ReadTimeoutError,
)

from ecs_cd.release.errors import AwsFailure, AwsUnreachable

# Standard mode retries throttling (ThrottlingException, TooManyRequests…) and transient
# errors with exponential backoff; SSM's TooManyUpdates is not among them (see call()).
MAX_ATTEMPTS = 6
EXTRA_RETRY_CODES = frozenset({"TooManyUpdates"})
EMULATOR_KEY = "emulator"
# Control-plane calls answer in well under a second; an endpoint that accepts and never answers
# fails after TIMEOUT_ATTEMPTS * (READ_TIMEOUT + backoff), about 21 s, instead of 6 * 30 s.
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 10.0
TIMEOUT_ATTEMPTS = 2
_TIMEOUTS = (ConnectTimeoutError, ReadTimeoutError)
_NO_CONNECTION = (EndpointConnectionError, ProxyConnectionError, ConnectionClosedError)


@dataclass
class RetryLog:
    """Every AWS call that needed retries: operation and how many."""

    entries: list[dict[str, Any]] = field(default_factory=list)

    def add(self, operation: str, retries: int, reason: str) -> None:
        if retries:
            self.entries.append({"operation": operation, "retries": retries, "reason": reason})


@dataclass
class Aws:
    """Clients for one region (and, for the emulator, one endpoint)."""

    region: str
    endpoint: str | None = None
    max_attempts: int = MAX_ATTEMPTS
    retry_log: RetryLog = field(default_factory=RetryLog)
    sleep: Callable[[float], None] = time.sleep
    connect_timeout: float = CONNECT_TIMEOUT
    read_timeout: float = READ_TIMEOUT
    # Told each retry after a timeout, as a progress line: a slow endpoint is not silent.
    on_retry: Callable[[str], None] | None = None
    # The AWS CLI/SDK profile of the environment (real AWS only; the emulator has its own keys).
    profile: str | None = None
    # A role to act with (an environment in another account): assumed once, before any call.
    role_arn: str | None = None
    session_name: str = "ecs-release"
    external_id: str | None = None
    _clients: dict[str, Any] = field(default_factory=dict)
    _credentials: dict[str, str] | None = None

    def client(self, service: str) -> Any:
        if service not in self._clients:
            kwargs: dict[str, Any] = {
                "region_name": self.region,
                "config": Config(
                    # total_max_attempts counts the first call; "max_attempts" would count retries only.
                    retries={"mode": "standard", "total_max_attempts": self.max_attempts},
                    connect_timeout=self.connect_timeout,
                    read_timeout=self.read_timeout,
                ),
            }
            if self.endpoint is not None:
                kwargs.update(
                    endpoint_url=self.endpoint,
                    aws_access_key_id=EMULATOR_KEY,
                    aws_secret_access_key=EMULATOR_KEY,
                )
            if self.role_arn is not None:
                kwargs.update(self._assumed(kwargs))
            client = self._session().client(service, **kwargs)
            event = client.meta.service_model.service_id.hyphenize()
            # First of the needs-retry handlers: False ends the retries, None leaves the decision
            # (and the backoff) to botocore's standard mode.
            client.meta.events.register_first(f"needs-retry.{event}", self._timeout_retries)
            self._clients[service] = client
        return self._clients[service]

    def _session(self) -> Any:
        import boto3

        if self.profile is None or self.endpoint is not None:
            return boto3.session.Session()
        try:
            return boto3.session.Session(profile_name=self.profile)
        except ProfileNotFound:
            raise AwsFailure(
                f"AWS profile {self.profile!r} is not in the AWS config files (aws.profile)"
            ) from None

    def _assumed(self, base: dict[str, Any]) -> dict[str, str]:
        """Credentials of ``role_arn``, assumed with the base credentials (once per session)."""
        if self._credentials is None:
            sts = self._session().client("sts", **base)
            kwargs: dict[str, Any] = {"RoleArn": self.role_arn, "RoleSessionName": self.session_name}
            if self.external_id is not None:
                kwargs["ExternalId"] = self.external_id
            try:
                found = sts.assume_role(**kwargs)["Credentials"]
            except ClientError as exc:
                error = exc.response.get("Error", {})
                raise AwsFailure(
                    f"cannot assume role {self.role_arn} (aws.role_arn): {error.get('Code', '?')}: "
                    f"{error.get('Message', '')}"
                ) from None
            except BotoCoreError as exc:
                failed = AwsUnreachable if isinstance(exc, _NO_CONNECTION + _TIMEOUTS) else AwsFailure
                raise failed(f"cannot assume role {self.role_arn} (aws.role_arn): {exc}") from None
            self._credentials = {
                "aws_access_key_id": found["AccessKeyId"],
                "aws_secret_access_key": found["SecretAccessKey"],
                "aws_session_token": found["SessionToken"],
            }
        return self._credentials

    def _timeout_retries(
        self, attempts: int, caught_exception: Exception | None = None, operation: Any = None, **_: Any
    ) -> bool | None:
        if not isinstance(caught_exception, _TIMEOUTS):
            return None
        if attempts >= min(TIMEOUT_ATTEMPTS, self.max_attempts):
            return False
        if self.on_retry is not None:
            api = f"{operation.service_model.service_name} {operation.name}"
            waited = _timeout_text(caught_exception, self)
            self.on_retry(f"AWS {api}: {waited} (attempt {attempts}), retrying")
        return None

    def call(self, api: str, operation: str, /, **kwargs: Any) -> dict[str, Any]:
        """Call ``api.operation(**kwargs)``; retries are logged, failures become AwsFailure."""
        service = api
        method = getattr(self.client(service), operation)
        extra_retries = 0
        while True:
            try:
                response: dict[str, Any] = method(**kwargs)
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code", "")
                meta = exc.response.get("ResponseMetadata", {})
                if code in EXTRA_RETRY_CODES and extra_retries < self.max_attempts - 1:
                    extra_retries += 1
                    # Full jitter, so parallel pipelines writing one parameter spread out.
                    self.sleep(random.uniform(0, min(5.0, 0.2 * 2**extra_retries)))
                    continue
                self.retry_log.add(
                    f"{service}:{operation}", int(meta.get("RetryAttempts", 0)) + extra_retries, code
                )
                raise
            except _NO_CONNECTION as exc:
                raise AwsUnreachable(
                    f"cannot reach AWS {service} at {exc.kwargs.get('endpoint_url', '?')}: "
                    "check the network, the region, or that the emulator is running"
                ) from None
            except _TIMEOUTS as exc:
                attempts = min(TIMEOUT_ATTEMPTS, self.max_attempts)
                api_name = self.client(service).meta.method_to_api_mapping.get(operation, operation)
                raise AwsUnreachable(
                    f"AWS {service} {api_name} failed: {_timeout_text(exc, self)}, "
                    f"{attempts} attempt{'s' if attempts > 1 else ''}: check the network and the endpoint, "
                    "or raise --connect-timeout / --read-timeout"
                ) from None
            except NoCredentialsError:
                raise AwsFailure(
                    "no AWS credentials found: set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
                ) from None
            except NoRegionError:
                raise AwsFailure("no AWS region configured") from None
            except BotoCoreError as exc:
                raise AwsFailure(f"AWS {service} {operation} failed: {exc}") from None
            retries = int(response.get("ResponseMetadata", {}).get("RetryAttempts", 0)) + extra_retries
            self.retry_log.add(f"{service}:{operation}", retries, "throttled or transient error")
            return response


def caller_account(aws: Aws) -> tuple[str, str]:
    """(account id, ARN) of the credentials ``aws`` calls with (STS GetCallerIdentity)."""
    identity = aws.call("sts", "get_caller_identity")
    return str(identity["Account"]), str(identity.get("Arn", "?"))


def _timeout_text(exc: Exception, aws: Aws) -> str:
    where = str(getattr(exc, "kwargs", {}).get("endpoint_url", "?")).rstrip("/")
    if isinstance(exc, ConnectTimeoutError):
        return f"no connection to {where} within {aws.connect_timeout:g} s"
    return f"no answer from {where} within {aws.read_timeout:g} s"


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def describe_failure(service: str, operation: str, exc: ClientError) -> AwsFailure:
    error = exc.response.get("Error", {})
    retries = exc.response.get("ResponseMetadata", {}).get("RetryAttempts", 0)
    suffix = f" (after {retries} retries)" if retries else ""
    return AwsFailure(
        f"AWS {service} {operation} failed: {error.get('Code', '?')}: {error.get('Message', '')}{suffix}"
    )
