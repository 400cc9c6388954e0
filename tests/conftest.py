"""Shared fixtures: the validated fixture configuration and one synthesized app per session.

Skips are failures here: every test must run, in CI and on a laptop alike. A missing
tool makes its fixture raise ToolError naming what to install.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings as hypothesis_settings

from main import configure_imports
from stacks.app import add_stacks
from stacks.settings import Settings, load_settings

TESTS_DIR = Path(__file__).resolve().parent
FIXTURE_CONFIG = TESTS_DIR / "fixtures" / "two-services.toml"
ENVIRONMENTS = ("local", "dev", "staging", "prod")

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

# Property tests draw the same examples on every run of `make test`: a fresh clone passes or
# fails the same way each time, and a landing is never blocked by a new random draw. `make fuzz`
# (profile "explore") draws new ones; what it finds is pinned with @example and fixed.
hypothesis_settings.register_profile("deterministic", derandomize=True)
hypothesis_settings.register_profile("explore", derandomize=False)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "deterministic"))
# The tests import the provider bindings as main.py does: fast unless ECS_CD_FAST_IMPORT=0.
configure_imports()

_skipped: list[str] = []
_reported: set[str] = set()
_module_seconds: dict[str, float] = {}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    # Under pytest-xdist the controller sees every worker's reports here too.
    _reported.add(report.nodeid)
    module = report.nodeid.split("::", 1)[0]
    _module_seconds[module] = _module_seconds.get(module, 0.0) + report.duration
    if report.skipped and not hasattr(report, "wasxfail"):
        _skipped.append(report.nodeid)


_session_started = time.time()
WALL_TIME_RECORD = TESTS_DIR.parent / ".cache" / "test-wall-time.json"


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto` (make test): one worker more than the cores, up to 4. About a sixth of the suite's
    time is waiting, not computing (the AWS provider's fixed 30 s waits on a new load balancer,
    locks held on purpose, rollouts polled), and a third worker computes meanwhile; measured on
    2 cores, 2 workers kept them 84% busy."""
    return min(4, (os.cpu_count() or 1) + 1)


def _is_xdist_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _skipped:
        print(f"\nFAILED: {len(_skipped)} test(s) were skipped; every test must run: {_skipped}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    if _is_xdist_worker(session.config):
        return  # the controller records the run as a whole
    # What `make bench` reports as the test suite's wall time: this run's, whatever it selected.
    record = {
        "seconds": round(time.time() - _session_started, 1),
        "tests": len(_reported),
        "failed": session.testsfailed,
        "workers": session.config.getoption("numprocesses", None) or 1,
        "args": list(session.config.invocation_params.args),
        "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "cores": os.cpu_count(),
        # setup + call + teardown of each test, summed per module: where the time goes
        "slowest_modules": dict(sorted(_module_seconds.items(), key=lambda kv: -kv[1])[:15]),
    }
    with contextlib.suppress(OSError):
        WALL_TIME_RECORD.parent.mkdir(exist_ok=True)
        WALL_TIME_RECORD.write_text(json.dumps(record))


@dataclass(frozen=True)
class Synthesized:
    """One environment's synthesized Terraform JSON, raw and parsed.

    ``terraform`` is the stack's own JSON, with the ``"//"`` comment keys (and so the
    checkov skips) that ``Testing.synth`` leaves out of ``text``."""

    text: str
    json: dict[str, Any]
    terraform: dict[str, Any]

    def resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return dict(self.json.get("resource", {}).get(resource_type, {}))

    def data(self, data_type: str) -> dict[str, dict[str, Any]]:
        return dict(self.json.get("data", {}).get(data_type, {}))

    def key(self, block: str, resource_type: str, path: str) -> str:
        """The logical id of the item at construct ``path`` below the stack (e.g. 'api/fargate/task').

        ``Testing.synth`` drops the metadata that holds paths, so match cdktf's logical ids:
        the path's parts joined by '_' (a part repeating its parent dropped) plus a hash.
        """
        parts: list[str] = []
        for part in path.split("/"):
            if not parts or parts[-1] != part:
                parts.append(part)
        pattern = re.compile(re.escape("_".join(parts)) + r"(_[0-9A-F]{8})?")
        found = [k for k in self.json.get(block, {}).get(resource_type, {}) if pattern.fullmatch(k)]
        assert len(found) == 1, f"expected one {resource_type} at {path}, found {found}"
        return str(found[0])

    def one(self, resource_type: str, path: str) -> dict[str, Any]:
        """The resource at construct ``path`` below the stack."""
        return dict(self.json["resource"][resource_type][self.key("resource", resource_type, path)])

    def ref(self, resource_type: str, path: str, attribute: str) -> str:
        """The Terraform reference ``${type.id.attribute}`` to the resource at ``path``."""
        return f"${{{resource_type}.{self.key('resource', resource_type, path)}.{attribute}}}"


@pytest.fixture(scope="session")
def fixture_settings() -> Settings:
    return load_settings(FIXTURE_CONFIG)


def synth_all(settings: Settings) -> dict[str, Synthesized]:
    """Every stack main.py would build for ``settings``, synthesized with cdktf's Testing."""
    from cdktf import Testing

    out = {}
    for name, stack in add_stacks(Testing.app(), settings).items():
        text = Testing.synth(stack)
        out[name] = Synthesized(text=text, json=json.loads(text), terraform=dict(stack.to_terraform()))
    return out


@pytest.fixture(scope="session")
def synthesized(fixture_settings: Settings) -> dict[str, Synthesized]:
    """Every environment of the fixture configuration, synthesized once per test session."""
    return synth_all(fixture_settings)


@pytest.fixture(scope="session")
def shipped_settings() -> Settings:
    return load_settings(TESTS_DIR.parent / "config" / "ecs-cd.toml")


@pytest.fixture(scope="session")
def shipped(shipped_settings: Settings) -> dict[str, Synthesized]:
    """Every environment of the shipped configuration, synthesized once per test session."""
    return synth_all(shipped_settings)


@pytest.fixture(scope="session")
def examples() -> dict[str, dict[str, Synthesized]]:
    """Every example configuration (examples/NAME/ecs-cd.toml) by NAME, synthesized once per session."""
    found = sorted((TESTS_DIR.parent / "examples").glob("*/ecs-cd.toml"))
    return {path.parent.name: synth_all(load_settings(path)) for path in found}


@pytest.fixture(params=ENVIRONMENTS)
def env_name(request: pytest.FixtureRequest) -> Iterator[str]:
    yield str(request.param)
