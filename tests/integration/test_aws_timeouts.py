"""An AWS endpoint that accepts connections and never answers (issue 16): every AWS call of
`ecs-release` has connect and read timeouts, a call that timed out is tried twice, each retry
says so, and the failure is one line (exit 3) naming the endpoint and the option to raise.

The hung endpoint is a real socket on 127.0.0.1 that accepts and stays silent; it counts the
connections, so the tests assert attempts, not durations.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from ecs_cd.release import errors
from ecs_cd.release.aws import TIMEOUT_ATTEMPTS, Aws
from tests.conftest import FIXTURE_CONFIG
from tests.release_helpers import run_cli


@dataclass
class HungEndpoint:
    """Accepts every connection, reads nothing, answers nothing."""

    listener: socket.socket
    accepted: list[socket.socket] = field(default_factory=list)

    @property
    def url(self) -> str:
        host, port = self.listener.getsockname()
        return f"http://{host}:{port}"

    def serve(self, stop: threading.Event) -> None:
        self.listener.settimeout(0.1)
        while not stop.is_set():
            try:
                connection, _ = self.listener.accept()
            except TimeoutError:
                continue
            self.accepted.append(connection)


@pytest.fixture()
def hung() -> Iterator[HungEndpoint]:
    listener = socket.create_server(("127.0.0.1", 0))
    endpoint = HungEndpoint(listener)
    stop = threading.Event()
    thread = threading.Thread(target=endpoint.serve, args=(stop,), daemon=True)
    thread.start()
    try:
        yield endpoint
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()
        for connection in endpoint.accepted:
            connection.close()


def test_a_hung_endpoint_fails_after_two_attempts_saying_so(hung: HungEndpoint) -> None:
    # GIVEN the local environment's endpoint accepts and never answers
    # WHEN a command reads a tag with a 1 s read timeout
    run = run_cli(FIXTURE_CONFIG, hung.url, "--read-timeout", "1", "history", "local", "api")
    # THEN it is an AWS error after exactly two attempts, each on its own connection
    assert run.exit_code == errors.AWS_ERROR, run.stdout + run.stderr
    assert len(hung.accepted) == TIMEOUT_ATTEMPTS == 2
    assert run.json["error"] == (
        f"AWS ssm GetParameterHistory failed: no answer from {hung.url} within 1 s, 2 attempts: "
        "check the network and the endpoint, or raise --connect-timeout / --read-timeout"
    )
    # AND the retry was announced while it happened (stderr, beside the JSON document)
    retrying = f"AWS ssm GetParameterHistory: no answer from {hung.url} within 1 s (attempt 1), retrying"
    assert retrying in run.stderr
    assert "Traceback" not in run.stdout + run.stderr


def test_max_attempts_one_means_one_attempt_on_a_timeout_too(hung: HungEndpoint) -> None:
    run = run_cli(
        FIXTURE_CONFIG, hung.url, "--max-attempts", "1", "--read-timeout", "1", "history", "local", "api"
    )
    assert run.exit_code == errors.AWS_ERROR and len(hung.accepted) == 1
    assert "1 attempt:" in run.json["error"] and "retrying" not in run.stderr


def test_the_default_timeouts_fail_a_hung_endpoint_well_within_a_minute() -> None:
    # GIVEN a client as every command builds it, with the defaults
    config = Aws(region="us-east-1").client("ssm").meta.config
    # THEN two attempts of connect + read, plus botocore's first backoff (at most 1 s), stay
    # well under a minute (the old 30 s read timeout over 6 attempts took about 182 s)
    worst = TIMEOUT_ATTEMPTS * (config.connect_timeout + config.read_timeout) + 1
    assert worst <= 31, (config.connect_timeout, config.read_timeout)
