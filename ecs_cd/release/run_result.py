"""What one run of `ecs-release deploy`'s apply did, as the failure messages read it: its exit
code, the Terraform commands it started, cdktf's output, how a signal stopped it, and (run
directly) each stack's outcome."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ecs_cd.release.cdktf_output import CdktfOutput
    from ecs_cd.release.terraform_commands import TerraformCommand
    from ecs_cd.release.terraform_run import StackOutcome


@dataclass
class Stopping:
    """A signal came while cdktf ran: which, and how far the stop had to go."""

    signal_number: int | None = None
    interrupted: bool = False  # Terraform was sent SIGINT (a second signal, or the finish bound)
    killed: bool = False  # the group was SIGKILLed (Terraform's stop took too long)
    notes: list[str] = field(default_factory=list)


@dataclass
class RunResult:
    returncode: int
    commands: list[TerraformCommand]
    stacks_dir: Path
    output: CdktfOutput
    log: Path | None = None
    stopping: Stopping = field(default_factory=lambda: Stopping())
    # What ran, as messages name it: "cdktf deploy ENV", or "deploy ENV" (Terraform run directly).
    label: str = ""
    # Terraform run directly (ecs_cd/release/terraform_run.py): no `terraform version` before the stacks,
    # and one record per stack of what happened to it.
    direct: bool = False
    outcomes: list[StackOutcome] = field(default_factory=list)

    def _stack_of(self, command: TerraformCommand) -> str | None:
        return command.directory.name if command.directory.parent == self.stacks_dir else None

    @property
    def terraform_ran(self) -> bool:
        """Terraform ran in a stack directory (``terraform version`` at cdktf's start does not count)."""
        return any(self._stack_of(c) for c in self.commands)

    def stacks_with(self, subcommands: frozenset[str]) -> list[str]:
        found: list[str] = []
        for command in self.commands:
            stack = self._stack_of(command)
            if stack and command.subcommand in subcommands and stack not in found:
                found.append(stack)
        return found

    @property
    def recorded(self) -> bool:
        """The wrapper was used (cdktf asks Terraform for its version first)."""
        return bool(self.commands)

    @property
    def stopped_before_terraform(self) -> bool:
        """Known for sure: Terraform never ran in a stack directory."""
        if self.direct:  # the wrapper notes every command the runner starts
            return not self.terraform_ran
        return not self.terraform_ran and (self.recorded or self.output.synth_error)

    def outcome_text(self) -> str:
        """Each stack's outcome, when several were deployed: "; a: applied; b: failed (…)"."""
        if len(self.outcomes) < 2:
            return ""
        parts = []
        for o in self.outcomes:
            why = f" ({o.reason})" if o.reason and o.apply != "applied" else ""
            parts.append(f"{o.stack}: {o.apply}{why}")
        return "; stacks: " + ", ".join(parts)
