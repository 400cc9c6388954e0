"""What `ecs-release deploy` (and `diff`) need before Terraform runs: the output directory,
the Terraform binary (a failed synthesis is synthesis.py's).

Running the apply is ecs_cd/release/apply_process.py; reading its output, cdktf_output.py; the
Terraform commands it ran, terraform_commands.py; what to say when it fails, deploy_failure.py.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

from ecs_cd.release.errors import DeployNotStarted
from ecs_cd.toolchain.errors import ToolError

# --- the output directory and the tools -------------------------------------------------


def prepare_output(outdir: Path) -> Path:
    """The absolute output directory, created with its parents (cdktf runs in the project directory)."""
    resolved = outdir.expanduser().resolve()
    try:
        resolved.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise DeployNotStarted(
            f"--output {outdir}: {resolved} exists and is not a directory; nothing was applied"
        ) from None
    except OSError as exc:
        raise DeployNotStarted(
            f"--output {outdir}: cannot create {resolved} ({exc.strerror or exc}); nothing was applied"
        ) from None
    if not _writable(resolved):
        raise DeployNotStarted(f"--output {outdir}: {resolved} is not writable; nothing was applied")
    return resolved


def _writable(directory: Path) -> bool:
    try:
        with tempfile.TemporaryFile(dir=directory):
            return True
    except OSError:
        return False


def find_terraform(env: Mapping[str, str]) -> str:
    """The Terraform binary cdktf would run (``TERRAFORM_BINARY_NAME`` or ``terraform`` on PATH)."""
    name = env.get("TERRAFORM_BINARY_NAME") or "terraform"
    found = shutil.which(name, path=env.get("PATH"))
    if found is None:
        raise ToolError(f"{name} was not found on PATH: install Terraform >= 1.10")
    return found
