"""The fast import path: same output byte for byte, types resolved on demand."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from stacks.fast_import import AWS_PACKAGE, submodule_fqn
from tests.conftest import FIXTURE_CONFIG

PROJECT_DIR = Path(__file__).resolve().parents[2]


def _python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=PROJECT_DIR,
        env={**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20", **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


SYNTH = f"""
import sys
import main
from stacks.app import build_app
lazy = main.configure_imports()
app = build_app(main.load_from_environment())
app.synth()
loaded = [m for m in sys.modules if m.startswith("{AWS_PACKAGE}.")]
print(lazy, len(loaded))
"""


def test_synth_is_byte_identical_with_and_without_the_fast_path(tmp_path: Path) -> None:
    outputs = {}
    for switch in ("1", "0"):
        outdir = tmp_path / f"fast-{switch}"
        result = _python(
            SYNTH, ECS_CD_FAST_IMPORT=switch, ECS_CD_CONFIG=str(FIXTURE_CONFIG), CDKTF_OUTDIR=str(outdir)
        )
        assert result.returncode == 0, result.stderr[-3000:]
        lazy, loaded = result.stdout.split()
        outputs[switch] = (lazy, int(loaded), outdir)
    # the fast path really was lazy, and the stock path really imported everything
    assert outputs["1"][0] == "True" and outputs["1"][1] < 50
    assert outputs["0"][0] == "False" and outputs["0"][1] > 2000
    stacks = sorted(p.name for p in (outputs["1"][2] / "stacks").iterdir())
    assert stacks == ["dev", "local", "prod", "staging"]
    for stack in stacks:
        fast = (outputs["1"][2] / "stacks" / stack / "cdk.tf.json").read_bytes()
        stock = (outputs["0"][2] / "stacks" / stack / "cdk.tf.json").read_bytes()
        assert fast == stock, stack


# A construct created on the JavaScript side (as a JS library or aspect would), of a type
# from a submodule Python never imported, then handed back to Python by the kernel.
HANDED_BACK = f"""
import sys
from stacks.fast_import import enable
enable()
# CLEAR_MAP
from jsii._runtime import kernel
from jsii._kernel import _make_reference_for_native
from jsii._kernel.types import CreateRequest
from cdktf import App, TerraformStack
stack = TerraformStack(App(), "s")
kernel.provider.create(CreateRequest(
    fqn="@cdktf/provider-aws.s3Bucket.S3Bucket",
    args=_make_reference_for_native(kernel, [stack, "b", {{}}]),
))
assert "{AWS_PACKAGE}.s3_bucket" not in sys.modules
child = stack.node.find_child("b")
print(type(child).__module__, type(child).__name__)
"""


def test_types_from_unimported_submodules_are_imported_on_demand() -> None:
    result = _python(HANDED_BACK)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split() == [f"{AWS_PACKAGE}.s3_bucket", "S3Bucket"]


def test_without_the_submodule_map_the_runtime_would_fail() -> None:
    # Why enable() fills jsii's map: without it the kernel's object cannot be resolved.
    clear = "from jsii import _reference_map\n_reference_map._submodule_fqn_map.clear()"
    result = _python(HANDED_BACK.replace("# CLEAR_MAP", clear))
    assert result.returncode != 0
    assert "Unknown type: @cdktf/provider-aws.s3Bucket.S3Bucket" in result.stderr


def test_submodule_names_map_to_their_jsii_fqns() -> None:
    # Every generated submodule declares its types as "@cdktf/provider-aws.<fqn>.<Type>".
    import importlib.util

    spec = importlib.util.find_spec(AWS_PACKAGE)
    assert spec is not None and spec.submodule_search_locations
    pattern = re.compile(r'jsii_type="(@cdktf/provider-aws\.[A-Za-z0-9]+)\.')
    checked = 0
    for root in spec.submodule_search_locations:
        for entry in os.scandir(root):
            if not entry.is_dir() or entry.name.startswith("_"):
                continue
            with open(os.path.join(entry.path, "__init__.py"), encoding="utf-8") as handle:
                match = pattern.search(handle.read(65536))
            assert match, entry.name
            assert match.group(1) == submodule_fqn("@cdktf/provider-aws", entry.name), entry.name
            checked += 1
    assert checked > 2000


@pytest.mark.parametrize("name", ["ecs_service", "s3_bucket", "vpc_ipam_pool_cidr_allocation"])
def test_submodule_fqn_examples(name: str) -> None:
    expected = {
        "ecs_service": "@cdktf/provider-aws.ecsService",
        "s3_bucket": "@cdktf/provider-aws.s3Bucket",
        "vpc_ipam_pool_cidr_allocation": "@cdktf/provider-aws.vpcIpamPoolCidrAllocation",
    }
    assert submodule_fqn("@cdktf/provider-aws", name) == expected[name]
