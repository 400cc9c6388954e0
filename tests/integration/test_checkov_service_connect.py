"""The checkov gate on Service Connect's other shapes (the example itself is scanned with every
example by test_checkov.py): split into a stack per service, where the environment's stack holds
the callers' group the services' stacks join, and a bridge server on the environment's own EC2
instances. Zero failed checks, and no skip left unused."""

from __future__ import annotations

from typing import Any

from devkit.checkov import scan
from stacks.settings import settings_from_dict
from tests.conftest import synth_all
from tests.unit.test_service_connect import base


def _stacks(label: str, raw: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        f"{label}/{name}": out.terraform
        for name, out in synth_all(settings_from_dict(raw, file=label)).items()
    }


def test_split_and_bridge_service_connect_pass_the_gate() -> None:
    # GIVEN the two services split into a stack each, and orders in bridge networking on EC2
    split = base()
    split["environments"]["dev"]["stack_per_service"] = True
    bridge = base()
    bridge["environments"]["dev"]["ec2_capacity"] = {"instance_type": "t3.small"}
    bridge["services"]["orders"] |= {
        "compute": {"launch_type": "EC2"},
        "network_mode": "bridge",
        "memory_reservation": 128,
    }
    stacks = {**_stacks("split", split), **_stacks("bridge", bridge)}
    assert sorted(stacks) == ["bridge/dev", "split/dev", "split/dev-orders", "split/dev-web"]
    # WHEN checkov scans them THEN nothing fails, and every declared skip matched a finding
    reports = scan(stacks)
    failed = [f"{name}: {c.check_id} {c.resource}" for name, r in reports.items() for c in r.failed]
    assert failed == []
    assert [name for name, r in reports.items() if r.unused_skips or r.parsing_errors] == []
