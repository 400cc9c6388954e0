"""Throttling and TooManyUpdates are retried with backoff and reported.

moto never throttles, so these tests answer SSM's JSON protocol from a tiny scripted HTTP
server on 127.0.0.1: botocore's real retry handler and our own TooManyUpdates retry run
unchanged; only the server's answers are scripted.
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.release_helpers import RELEASE_CONFIG, run_cli

Answer = tuple[int, dict[str, object]]
THROTTLED: Answer = (400, {"__type": "ThrottlingException", "message": "Rate exceeded"})
TOO_MANY: Answer = (400, {"__type": "TooManyUpdates", "message": "Too many updates"})
NOT_FOUND: Answer = (400, {"__type": "ParameterNotFound", "message": ""})
WRITTEN: Answer = (200, {"Version": 1, "Tier": "Standard"})


class ScriptedSsm:
    """Answers each SSM operation from its script; the last answer repeats."""

    def __init__(self, script: dict[str, list[Answer]]) -> None:
        self.script = script
        self.calls: dict[str, int] = defaultdict(int)
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                operation = self.headers.get("X-Amz-Target", "").split(".")[-1]
                answers = owner.script[operation]
                status, body = answers[min(owner.calls[operation], len(answers) - 1)]
                owner.calls[operation] += 1
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.1")
                self.send_header("x-amzn-RequestId", "req")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> ScriptedSsm:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def config(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "c.toml"
    path.write_text(RELEASE_CONFIG)
    yield path


def test_throttling_is_retried_and_reported(config: Path) -> None:
    # GIVEN SSM throttles two reads and one write
    script: dict[str, list[Answer]] = {
        "GetParameter": [THROTTLED, THROTTLED, NOT_FOUND],
        "PutParameter": [THROTTLED, WRITTEN],
    }
    with ScriptedSsm(script) as ssm:
        # WHEN a tag is set
        result = run_cli(config, ssm.endpoint, "set-tag", "local", "api", "1.0.0")
    # THEN it succeeds, after exactly those retries, and says so
    assert result.exit_code == 0, result.stdout + result.stderr
    assert dict(ssm.calls) == {"GetParameter": 3, "PutParameter": 2}
    retries = {r["operation"]: r["retries"] for r in result.json["retries"]}
    assert retries == {"ssm:get_parameter": 2, "ssm:put_parameter": 1}
    assert "note: AWS ssm:put_parameter was retried 1 time(s)" in result.stderr


def test_too_many_updates_is_retried(config: Path) -> None:
    script: dict[str, list[Answer]] = {
        "GetParameter": [NOT_FOUND],
        "PutParameter": [TOO_MANY, TOO_MANY, WRITTEN],
    }
    with ScriptedSsm(script) as ssm:
        result = run_cli(config, ssm.endpoint, "set-tag", "local", "api", "1.0.0")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert ssm.calls["PutParameter"] == 3
    assert {r["operation"]: r["retries"] for r in result.json["retries"]} == {"ssm:put_parameter": 2}


def test_throttling_that_never_ends_is_exit_3(config: Path) -> None:
    with ScriptedSsm({"GetParameter": [THROTTLED]}) as ssm:
        result = run_cli(
            config, ssm.endpoint, "set-tag", "local", "api", "1.0.0", env={"ECS_RELEASE_MAX_ATTEMPTS": "3"}
        )
    assert result.exit_code == 3
    assert ssm.calls == {"GetParameter": 3}
    assert result.json["error"] == (
        "AWS ssm GetParameter failed: ThrottlingException: Rate exceeded (after 2 retries)"
    )
