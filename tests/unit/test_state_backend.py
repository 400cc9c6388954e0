"""S3 state on the emulator: the backend points at the emulator's S3, with the same locking."""

from __future__ import annotations

import json
import tomllib

from cdktf import Testing

from stacks.emulator_profile import emulator_profile
from stacks.environment_stack import EnvironmentStack
from stacks.settings import ConfigError, S3State, settings_from_dict

CONFIG = """
[project]
name = "st"
[services.api]
repository = "123456789012.dkr.ecr.us-east-1.amazonaws.com/st-api"
[environments.local]
region = "us-east-1"
emulator_endpoint = "http://127.0.0.1:4566"
network = { use_default_vpc = true }
state = { backend = "s3", bucket = "st-state", key = "local.tfstate", region = "us-east-1", \
lock_timeout_seconds = 60 }
"""


def test_emulator_s3_backend() -> None:
    settings = settings_from_dict(tomllib.loads(CONFIG), file="c")
    env = settings.environments["local"]
    assert isinstance(env.state, S3State) and env.state.lock_timeout_seconds == 60
    stack = EnvironmentStack(
        Testing.app(),
        "local",
        project="st",
        environment=env,
        null_provider_version=settings.null_provider_version,
        emulator=emulator_profile(env.emulator_endpoint),
    )
    backend = json.loads(Testing.synth(stack))["terraform"]["backend"]["s3"]
    assert backend["endpoints"] == {"s3": "http://127.0.0.1:4566"}
    assert backend["use_path_style"] is True and backend["use_lockfile"] is True
    assert backend["skip_credentials_validation"] is True
    assert (backend["bucket"], backend["key"]) == ("st-state", "local.tfstate")


def test_lock_timeout_defaults_and_bounds() -> None:
    raw = tomllib.loads(CONFIG)
    del raw["environments"]["local"]["state"]["lock_timeout_seconds"]
    state = settings_from_dict(raw, file="c").environments["local"].state
    assert isinstance(state, S3State) and state.lock_timeout_seconds == 300
    raw["environments"]["local"]["state"]["lock_timeout_seconds"] = 7200
    try:
        settings_from_dict(raw, file="c")
    except ConfigError as exc:
        assert "environments.local.state.lock_timeout_seconds = 7200" in str(exc)
        assert "less than or equal to 3600" in str(exc)
    else:
        raise AssertionError("7200 s was accepted")
