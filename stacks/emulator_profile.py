"""What running against a local AWS emulator changes, in one place: the product stack only
receives an ``EmulatorProfile`` (or None) and knows nothing of the emulator itself."""

from __future__ import annotations

from dataclasses import dataclass

# Credentials the emulator accepts; never used against real AWS because a profile exists
# only for environments that set emulator_endpoint.
_EMULATOR_KEY = "emulator"
_EMULATED_SERVICES = (
    "applicationautoscaling",
    "cloudwatch",
    "cloudwatchlogs",
    "ec2",
    "ecr",
    "ecs",
    "elbv2",
    "iam",
    "kms",
    "scheduler",
    "secretsmanager",
    "sqs",
    "servicediscovery",
    "ssm",
    "sts",
)
# moto's DescribeServices omits availabilityZoneRebalancing, so after every refresh the
# provider would plan to set it again; on the emulator only, Terraform leaves it alone.
# (devkit/moto_server.py fills the gaps that can be filled faithfully.)
_SERVICE_GAPS = ("availability_zone_rebalancing",)


@dataclass(frozen=True)
class EmulatorProfile:
    """An emulator at ``endpoint``: fake keys, the services it answers, the gaps it has."""

    endpoint: str
    access_key: str = _EMULATOR_KEY
    secret_key: str = _EMULATOR_KEY
    services: tuple[str, ...] = _EMULATED_SERVICES
    service_ignore_changes: tuple[str, ...] = _SERVICE_GAPS

    def redeploy_environment(self, region: str) -> dict[str, str]:
        """What the timestamp redeploy's ``aws`` command needs to reach the emulator."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_DEFAULT_REGION": region,
        }


def emulator_profile(endpoint: str | None) -> EmulatorProfile | None:
    """The profile of an environment's ``emulator_endpoint`` (None: real AWS)."""
    return EmulatorProfile(endpoint) if endpoint is not None else None
