"""Typed settings and their loader: the only code that parses the configuration file.

Data flows one way: the TOML file is read and validated here, every environment gets
one frozen ``EnvironmentSettings`` with its services already merged with that
environment's overrides, and the stacks only ever see those typed values.

Every mistake a user can make in the file is reported as one ``ConfigError`` whose
lines each name the file, the field, the value and what is allowed, before any
construct (and so before jsii or AWS) is touched.

The loader lives in ``stacks.configuration``; this module is the stable name the rest of
the project (the stacks, ``ecs-release``, main.py, the tests) imports it by.
"""

from __future__ import annotations

from stacks.configuration.environment_file import (
    AwsAccess,
    Endpoint,
    LoadBalancerSettings,
    NetworkSettings,
)
from stacks.configuration.errors import ConfigError
from stacks.configuration.loader import EMULATOR_ENDPOINT_VARIABLE, load_settings, settings_from_dict
from stacks.configuration.merge import PLACEHOLDERS, fill_placeholders
from stacks.configuration.model import (
    DEFAULT_NULL_PROVIDER_VERSION,
    EnvironmentSettings,
    PreDeploy,
    ServiceFile,
    ServiceLoadBalancerSettings,
    ServiceSettings,
    Settings,
    TaskSettings,
)
from stacks.configuration.state_model import LocalState, S3State

__all__ = [
    "DEFAULT_NULL_PROVIDER_VERSION",
    "EMULATOR_ENDPOINT_VARIABLE",
    "PLACEHOLDERS",
    "AwsAccess",
    "ConfigError",
    "Endpoint",
    "EnvironmentSettings",
    "LoadBalancerSettings",
    "LocalState",
    "NetworkSettings",
    "PreDeploy",
    "S3State",
    "ServiceFile",
    "ServiceLoadBalancerSettings",
    "ServiceSettings",
    "Settings",
    "TaskSettings",
    "fill_placeholders",
    "load_settings",
    "settings_from_dict",
]
