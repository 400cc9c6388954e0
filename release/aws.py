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
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
)

from release.errors import AwsFailure

# Standard mode retries throttling (ThrottlingException, TooManyRequests…) and transient
# errors with exponential backoff; SSM's TooManyUpdates is not among them (see call()).
MAX_ATTEMPTS = 6
EXTRA_RETRY_CODES = frozenset({"TooManyUpdates"})
EMULATOR_KEY = "emulator"


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
    _clients: dict[str, Any] = field(default_factory=dict)

    def client(self, service: str) -> Any:
        if service not in self._clients:
            import boto3

            kwargs: dict[str, Any] = {
                "region_name": self.region,
                "config": Config(
                    # total_max_attempts counts the first call; "max_attempts" would count retries only.
                    retries={"mode": "standard", "total_max_attempts": self.max_attempts},
                    connect_timeout=5,
                    read_timeout=30,
                ),
            }
            if self.endpoint is not None:
                kwargs.update(
                    endpoint_url=self.endpoint,
                    aws_access_key_id=EMULATOR_KEY,
                    aws_secret_access_key=EMULATOR_KEY,
                )
            self._clients[service] = boto3.client(service, **kwargs)
        return self._clients[service]

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
            except EndpointConnectionError as exc:
                raise AwsFailure(
                    f"cannot reach AWS {service} at {exc.kwargs.get('endpoint_url', '?')}: "
                    "check the network, the region, or that the emulator is running"
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


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def describe_failure(service: str, operation: str, exc: ClientError) -> AwsFailure:
    error = exc.response.get("Error", {})
    retries = exc.response.get("ResponseMetadata", {}).get("RetryAttempts", 0)
    suffix = f" (after {retries} retries)" if retries else ""
    return AwsFailure(
        f"AWS {service} {operation} failed: {error.get('Code', '?')}: {error.get('Message', '')}{suffix}"
    )
