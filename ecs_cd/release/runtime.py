"""What one ``ecs-release`` invocation holds: the settings it read, its output, and every AWS
session it opened (their retries are reported at the end). Each command and each deploy step
takes it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ecs_cd.release.aws import CONNECT_TIMEOUT, READ_TIMEOUT, Aws, caller_account
from ecs_cd.release.errors import BadInput
from ecs_cd.release.output import Output
from ecs_cd.release.project import Project
from ecs_cd.release.targets import load
from stacks.settings import EnvironmentSettings, Settings


class Runtime:
    """Per-invocation state: the settings, the output, and every AWS session (for retry reports)."""

    def __init__(
        self,
        config: Path | None,
        json_mode: bool,
        max_attempts: int,
        *,
        timeouts: tuple[float, float] = (CONNECT_TIMEOUT, READ_TIMEOUT),
    ) -> None:
        self._given_config = config  # --config or ECS_CD_CONFIG; None: looked for (project.py)
        self._project: Project | None = None
        self.max_attempts = max_attempts
        self.connect_timeout, self.read_timeout = timeouts
        self.out = Output(json_mode=json_mode)
        self._settings: Settings | None = None
        self._sessions: list[Aws] = []
        self._accounts_checked: set[str] = set()

    @property
    def project(self) -> Project:
        """The configuration file and its project directory, found when a command first needs
        them (a BadInput naming the places tried when there is none: `--help` never needs one)."""
        if self._project is None:
            self._project = Project.here(self._given_config)
        return self._project

    @property
    def config(self) -> Path:
        return self.project.config

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load(self.config, self.emulator_endpoint)
        return self._settings

    @property
    def emulator_endpoint(self) -> str | None:
        """The emulator's endpoint a tool started it on (ECS_CD_EMULATOR_ENDPOINT), if any."""
        return os.environ.get("ECS_CD_EMULATOR_ENDPOINT") or None

    def aws(
        self,
        env: EnvironmentSettings,
        region: str | None = None,
        *,
        max_attempts: int | None = None,
        check_account: bool = True,
    ) -> Aws:
        session = Aws(
            region=region or env.region,
            endpoint=env.emulator_endpoint,
            max_attempts=max_attempts or self.max_attempts,
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
            on_retry=self.out.say,
            profile=env.aws.profile,
            role_arn=env.aws.role_arn,
            session_name=env.aws.role_session_name(env.name),
            external_id=env.aws.external_id,
        )
        self._sessions.append(session)
        expected = env.aws.account_id
        if check_account and expected is not None and env.name not in self._accounts_checked:
            # Before the command's first call: nothing is read or written in the wrong account.
            actual, arn = caller_account(session)
            if actual != expected:
                raise BadInput(
                    f"environment {env.name} is in AWS account {expected} (aws.account_id), but the "
                    f"credentials are for account {actual} ({arn}): nothing was written"
                )
            self._accounts_checked.add(env.name)
        return session

    def retries(self) -> list[dict[str, Any]]:
        return [entry for s in self._sessions for entry in s.retry_log.entries]
