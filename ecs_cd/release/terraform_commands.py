"""Which Terraform commands a deploy ran, noted as they start: so a failure is reported from
what ran, not guessed from an exit code ("nothing was applied" only when no apply started, "may
have applied part of the plan" only when one did).

cdktf, and ecs_cd/release/terraform_run.py like it, runs Terraform as ``$TERRAFORM_BINARY_NAME``.
The deploy points that at a small shell wrapper which notes each command, its directory and its
pid, then ``exec``s the real Terraform. Once a signal came, the wrapper starts no further command.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# Terraform commands that take the state lock (cdktf deploy runs init, apply, output).
LOCKING_COMMANDS = frozenset({"apply", "destroy", "plan", "refresh", "import"})
APPLYING_COMMANDS = frozenset({"apply", "destroy", "import"})


@dataclass(frozen=True)
class TerraformCommand:
    """One Terraform command cdktf started: the directory it ran in and its arguments."""

    directory: Path
    args: tuple[str, ...]
    pid: int | None = None  # the wrapper execs Terraform, so its pid is Terraform's

    @property
    def subcommand(self) -> str:
        return next((a for a in self.args if not a.startswith("-")), "")


class TerraformRecorder:
    """The wrapper cdktf runs as Terraform, and the commands it noted."""

    def __init__(self, workdir: Path, terraform: str) -> None:
        self.log = workdir / "terraform-commands.log"
        self.wrapper = workdir / "terraform"
        # Once it exists (a signal came), no further Terraform command starts.
        self.stop_file = workdir / "stop"
        self.log.write_text("")
        self.wrapper.write_text(
            "#!/bin/sh\n"
            "# Written by ecs-release deploy: note the command, then run Terraform itself.\n"
            f'printf \'%s\\t%s\\t%s\\n\' "$$" "$(pwd -P)" "$*" >> {shlex.quote(str(self.log))}\n'
            f"if [ -e {shlex.quote(str(self.stop_file))} ]; then\n"
            '  echo "ecs-release: stopping (signal received): terraform $1 not started" >&2\n'
            "  exit 1\n"
            "fi\n"
            f'exec {shlex.quote(terraform)} "$@"\n'
        )
        self.wrapper.chmod(0o755)

    @property
    def environment(self) -> dict[str, str]:
        return {"TERRAFORM_BINARY_NAME": str(self.wrapper)}

    def stop(self) -> None:
        self.stop_file.touch()

    def commands(self) -> list[TerraformCommand]:
        found = []
        for line in self.log.read_text(errors="replace").splitlines():
            pid, _, rest = line.partition("\t")
            directory, _, args = rest.partition("\t")
            found.append(
                TerraformCommand(Path(directory), tuple(args.split()), int(pid) if pid.isdigit() else None)
            )
        return found


def started_on(recorder: TerraformRecorder, stacks_dir: Path) -> Callable[[str], bool]:
    """Has this run's Terraform started a command that takes the lock of a stack?"""

    def started(stack: str) -> bool:
        return any(
            c.directory == stacks_dir / stack and c.subcommand in LOCKING_COMMANDS
            for c in recorder.commands()
        )

    return started
