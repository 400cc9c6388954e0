"""A reader's shell: each command of the README and the documentation (docs/) pasted into a new
login shell, in a copy of the repository (see tests/e2e/test_plain_shell.py, which runs the set-up
and release walk-throughs, and tests/e2e/test_adopt.py, which runs the adoption walk-through)."""

from __future__ import annotations

import os
import re
import select
import shlex
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from ecs_cd.toolchain.cdktf_cli import CACHE_DIR, PROJECT_DIR

# What a login shell starts from before the profile runs (/etc/profile sets about this too).
MINIMAL_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
# What a reader reads: the README and every page of the documentation site, by path in the repository.
DOCS = {
    path.relative_to(PROJECT_DIR).as_posix(): path.read_text(encoding="utf-8")
    for path in [PROJECT_DIR / "README.md", *sorted((PROJECT_DIR / "docs").rglob("*.md"))]
}


def marked_block(marker: str, fenced: str) -> str:
    """The fenced block between ``marker``'s comments, wherever it is in ``DOCS``, which hold the
    marker exactly once (``fenced`` matches all between the two comments, the body as group 1)."""
    start = f"<!-- {marker}:start -->"
    holders = [path for path, text in DOCS.items() for _ in range(text.count(start))]
    assert len(holders) == 1, f"{start} must be in one place of the README and docs/, not in {holders}"
    block = re.search(rf"{start}\n{fenced}<!-- {marker}:end -->", DOCS[holders[0]], re.S)
    assert block, f"{holders[0]} lost its {marker} markers around the block"
    return block.group(1)


def readme_block(marker: str, language: str) -> str:
    """The ```language block between ``marker``'s comments in the README or a page of docs/."""
    return marked_block(marker, rf"```{language}\n(.*?)```\n")


def walkthrough() -> list[str]:
    return [line for line in readme_block("walkthrough", "sh").splitlines() if line.strip()]


def reader_environment() -> dict[str, str]:
    """``env -i`` with HOME, TERM and the PATH a login shell starts from."""
    return {"HOME": str(Path.home()), "TERM": "xterm", "PATH": MINIMAL_PATH}


@dataclass
class Shell:
    """A new login shell per command, in ``cwd``, with durations kept for the report."""

    cwd: Path
    exports: dict[str, str] = field(default_factory=dict)
    durations: list[tuple[str, float]] = field(default_factory=list)

    def script(self, command: str) -> str:
        lines = [f"export {name}={shlex.quote(value)}" for name, value in self.exports.items()]
        return "\n".join([*lines, command])

    def run(
        self, command: str, *, timeout: float = 900, cwd: Path | None = None
    ) -> subprocess.CompletedProcess[str]:
        started = time.monotonic()
        result = subprocess.run(
            ["bash", "-lc", self.script(command)],
            cwd=cwd or self.cwd,
            env=reader_environment(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        self.durations.append((command, time.monotonic() - started))
        return result

    def ok(
        self, command: str, *, timeout: float = 900, cwd: Path | None = None
    ) -> subprocess.CompletedProcess[str]:
        result = self.run(command, timeout=timeout, cwd=cwd)
        assert result.returncode == 0, f"{command}\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
        return result

    def in_terminal(
        self, command: str, *, answer_when: bytes, answer: bytes, timeout: float = 900
    ) -> tuple[int, str]:
        """Run ``command`` on a pseudo-terminal; type ``answer`` once ``answer_when`` is shown."""
        started = time.monotonic()
        controller, terminal = os.openpty()
        process = subprocess.Popen(
            ["bash", "-lc", self.script(command)],
            cwd=self.cwd,
            env=reader_environment(),
            stdin=terminal,
            stdout=terminal,
            stderr=terminal,
            start_new_session=True,
        )
        os.close(terminal)
        seen = b""
        answered = False
        try:
            while time.monotonic() - started < timeout:
                ready, _, _ = select.select([controller], [], [], 1.0)
                if not ready:
                    if process.poll() is not None:
                        break
                    continue
                try:
                    chunk = os.read(controller, 65536)
                except OSError:  # the terminal closed: every process on it is gone
                    break
                if not chunk:
                    break
                seen += chunk
                if not answered and answer_when in ANSI.sub("", seen.decode(errors="replace")).encode():
                    time.sleep(0.5)  # let the prompt take the keyboard
                    os.write(controller, answer)
                    answered = True
            else:
                os.killpg(process.pid, signal.SIGTERM)
            code = process.wait(timeout=60)
        finally:
            os.close(controller)
        self.durations.append((command, time.monotonic() - started))
        return code, ANSI.sub("", seen.decode(errors="replace"))


def copy_repository(destination: Path) -> Path:
    """The working tree's files (tracked and new, not ignored), with the installed tools linked."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=PROJECT_DIR,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = PROJECT_DIR / name
        if source.is_file():  # a tracked file deleted in the working tree is not listed as a file
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    # What `make demo`/`make test` installed: linked so that nothing is installed again.
    for installed in (".venv", "node_modules"):
        (destination / installed).symlink_to(PROJECT_DIR / installed, target_is_directory=True)
    (destination / ".cache").mkdir()
    for cached in ("checkov", "null-mirror"):
        if (CACHE_DIR / cached).is_dir():
            (destination / ".cache" / cached).symlink_to(CACHE_DIR / cached, target_is_directory=True)
    return destination
