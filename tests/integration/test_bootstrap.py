"""scripts/bootstrap.sh checks pipenv where the README's commands run: a new login shell.

Under make, PATH includes the user base, so a check there passed while a pasted
`pipenv run …` failed. Here the user's profile hides pipenv from new login shells; the
bootstrap must stop with one line naming what to add, and that line must work.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from ecs_cd.toolchain.cdktf_cli import PROJECT_DIR

PROFILES = (".profile", ".bash_profile", ".zprofile")  # what sh, bash and zsh read at login
HINT = re.compile(
    r"missing prerequisite: pipenv is in (?P<dir>/\S+), "
    r"which a new login shell \(.+\) does not have on PATH: "
    r"add '(?P<line>export PATH=\"(?P=dir):\$PATH\")' to your shell profile \(e\.g\. ~/\.profile\) and re-run"
)


def login_shell_finds_pipenv(home: Path) -> bool:
    result = subprocess.run(
        ["bash", "-lc", "command -v pipenv"],
        env={"HOME": str(home), "TERM": "xterm", "PATH": "/usr/bin:/bin"},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )
    return result.returncode == 0


def test_a_new_shell_without_pipenv_gets_one_line_naming_the_profile_line(tmp_path: Path) -> None:
    # GIVEN a user whose login profile sets a PATH without pipenv on it
    home = tmp_path / "home"
    home.mkdir()
    for profile in PROFILES:
        (home / profile).write_text('PATH="/nonexistent"; export PATH\n')
    assert not login_shell_finds_pipenv(home)
    # WHEN the bootstrap runs (make's PATH, which finds pipenv, does not count)
    result = subprocess.run(
        ["sh", "scripts/bootstrap.sh"],
        cwd=PROJECT_DIR,
        env={**os.environ, "HOME": str(home)},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    # THEN it stops before anything else, with exactly one line on stderr naming the fix
    assert result.returncode == 1, result.stdout + result.stderr
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(errors) == 1, errors
    hint = HINT.fullmatch(errors[0])
    assert hint, errors[0]
    assert (Path(hint["dir"]) / "pipenv").is_file()
    # AND the named line, added to the profile, makes a new login shell find pipenv
    with (home / ".profile").open("a") as handle:
        handle.write(hint["line"] + "\n")
    for other in PROFILES[1:]:
        (home / other).unlink()  # bash reads .bash_profile instead of .profile when it exists
    assert login_shell_finds_pipenv(home)
