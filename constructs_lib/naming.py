"""Names and validators shared by the stacks and the release tooling.

Every AWS name this project creates is derived here, so the stacks and anything
that later talks to AWS (the release command line, the demo, the tests) can never
disagree on a parameter name, a cluster name or a service name.

Validators raise ``ValueError`` with a message that says what is allowed; the
settings loader adds the file, the field and the value.
"""

from __future__ import annotations

import hashlib
import re
import string
from collections.abc import Iterable, Mapping
from typing import Literal, get_args

# Short lower-case names: they end up in ECS names, IAM role names (64 characters
# at most), log group paths, SSM parameter paths and shell commands.
_SLUG = r"[a-z](?:[a-z0-9-]*[a-z0-9])?"
PROJECT_NAME_MAX = 16
ENVIRONMENT_NAME_MAX = 12
SERVICE_NAME_MAX = 28

_ECS_NAME = re.compile(r"[A-Za-z0-9_-]{1,255}", re.ASCII)
_REGION = re.compile(r"[a-z]{2}(?:-[a-z]+)+-[0-9]", re.ASCII)
_ENV_VAR = re.compile(r"[A-Za-z_][A-Za-z0-9_]*", re.ASCII)
# repository part of an image reference: optional registry host[:port], then path components.
_REPOSITORY = re.compile(
    r"(?:(?P<host>[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::[0-9]{1,5})?)/)?"
    r"(?P<path>[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*)"
)
_ECR_HOST = re.compile(
    r"(?P<account>[0-9]{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?P<cn>\.cn)?", re.ASCII
)
_SSM_NAME = re.compile(r"(?:/[A-Za-z0-9_.-]+)+", re.ASCII)
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", re.ASCII)
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}", re.ASCII)
_PARTITION = r"(?P<partition>aws|aws-cn|aws-us-gov)"
_ACCOUNT = r"(?P<account>[0-9]{12})"
_ARN_REGION = r"(?P<region>[a-z]{2}(?:-[a-z]+)+-[0-9])"
_SSM_PARAMETER_ARN = re.compile(
    rf"arn:{_PARTITION}:ssm:{_ARN_REGION}:{_ACCOUNT}:parameter(?P<name>(?:/[A-Za-z0-9_.-]+)+)"
)
# Secrets Manager appends "-" and 6 random characters to a secret's name in its ARN.
_SECRET_ARN = re.compile(
    rf"arn:{_PARTITION}:secretsmanager:{_ARN_REGION}:{_ACCOUNT}:secret:[A-Za-z0-9/_+=.@-]{{1,512}}-[A-Za-z0-9]{{6}}"
)
_KMS_KEY_ARN = re.compile(
    # a key id is a UUID, or "mrk-" and 32 hex digits for a multi-Region key
    rf"arn:{_PARTITION}:kms:{_ARN_REGION}:{_ACCOUNT}:key/"
    rf"(?:[0-9a-f]{{8}}(?:-[0-9a-f]{{4}}){{3}}-[0-9a-f]{{12}}|mrk-[0-9a-f]{{32}})"
)
_LISTENER_ARN = re.compile(
    rf"arn:{_PARTITION}:elasticloadbalancing:{_ARN_REGION}:{_ACCOUNT}:listener/app/[A-Za-z0-9-]{{1,32}}/[0-9a-f]{{16}}/[0-9a-f]{{16}}"
)
_ALARM_NAME = re.compile(r"[^\x00-\x1f\x7f]{1,255}", re.ASCII)
_CONTAINER_PATH = re.compile(r"(?:/[A-Za-z0-9_.-]+)+", re.ASCII)
_USER = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,31})?", re.ASCII)
# ALB path patterns: up to 128 characters of A-Z a-z 0-9 _ - . $ / ~ " ' @ : + & * ?
_PATH_PATTERN = re.compile(r"[A-Za-z0-9_.$/~\"'@:+&*?-]{1,128}", re.ASCII)
_HOST_HEADER = re.compile(r"(?=.{1,128}$)[A-Za-z0-9*?](?:[A-Za-z0-9*?.-]*[A-Za-z0-9*?])?", re.ASCII)
# Parts of environment variable names that mean the value is a credential: such
# values belong in `secrets` (resolved by ECS at start), never in plain `environment`.
SECRET_NAME_PARTS = (
    "PASSWORD",
    "PASSWD",
    "SECRET",
    "TOKEN",
    "PRIVATE_KEY",
    "API_KEY",
    "ACCESS_KEY",
    "CREDENTIAL",
)

# Fargate task-level cpu (units) -> allowed memory (MiB), from the AWS ECS
# "Task size" table for Linux Fargate tasks.
FARGATE_CPU_MEMORY: Mapping[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4096 + 1, 1024)),
    1024: tuple(range(2048, 8192 + 1, 1024)),
    2048: tuple(range(4096, 16384 + 1, 1024)),
    4096: tuple(range(8192, 30720 + 1, 1024)),
    8192: tuple(range(16384, 61440 + 1, 4096)),
    16384: tuple(range(32768, 122880 + 1, 8192)),
}

# How a service's image is chosen and when it redeploys (README: "Image strategies"):
# timestamp = <repo>:<SSM tag> + null_resource on every apply; ssm-tag = <repo>:<SSM tag>;
# digest = <repo>@<ECR digest of the SSM or fixed tag>.
ImageStrategy = Literal["timestamp", "ssm-tag", "digest"]
IMAGE_STRATEGIES: tuple[str, ...] = get_args(ImageStrategy)

REDEPLOY_PLACEHOLDERS = frozenset({"cluster", "service", "region"})
DEFAULT_REDEPLOY_COMMAND: tuple[str, ...] = (
    "aws",
    "ecs",
    "update-service",
    "--cluster",
    "{cluster}",
    "--service",
    "{service}",
    "--force-new-deployment",
    "--region",
    "{region}",
    # One line (the new deployment's id) in the apply log instead of the whole service.
    "--query",
    "service.deployments[?status=='PRIMARY'].id",
    "--output",
    "text",
)


def _slug(value: str, what: str, max_len: int) -> str:
    if not isinstance(value, str) or len(value) > max_len or not re.fullmatch(_SLUG, value):
        raise ValueError(
            f"{what} must be 1-{max_len} characters of lower-case letters, digits and "
            "hyphens, starting with a letter and not ending with a hyphen"
        )
    return value


def validate_project_name(value: str) -> str:
    return _slug(value, "a project name", PROJECT_NAME_MAX)


def validate_environment_name(value: str) -> str:
    return _slug(value, "an environment name", ENVIRONMENT_NAME_MAX)


def validate_service_name(value: str) -> str:
    return _slug(value, "a service name", SERVICE_NAME_MAX)


def validate_ecs_name(value: str) -> str:
    if not _ECS_NAME.fullmatch(value):
        raise ValueError("an ECS name must be 1-255 letters, digits, hyphens or underscores")
    return value


def validate_region(value: str) -> str:
    if not _REGION.fullmatch(value):
        raise ValueError("a region must look like 'us-east-1' (lower-case letters, hyphens, one digit)")
    return value


def validate_env_var_name(value: str) -> str:
    if not _ENV_VAR.fullmatch(value):
        raise ValueError(
            "an environment variable name must be letters, digits and underscores, not starting with a digit"
        )
    return value


def validate_repository(value: str) -> str:
    """An image repository without tag or digest, e.g. ``<account>.dkr.ecr.<region>.amazonaws.com/api``."""
    if len(value) > 255 or not _REPOSITORY.fullmatch(value):
        raise ValueError(
            "a repository must be '[registry-host[:port]/]name[/name...]' with lower-case path "
            "components and no tag or digest (the tag comes from SSM)"
        )
    return value


def validate_image_tag(value: str) -> str:
    if not _TAG.fullmatch(value):
        raise ValueError("an image tag must match [A-Za-z0-9_][A-Za-z0-9_.-]{0,127} (at most 128 characters)")
    return value


def validate_ssm_parameter_name(value: str) -> str:
    if len(value) > 1011 or not _SSM_NAME.fullmatch(value):
        raise ValueError(
            "an SSM parameter name must start with '/', use only letters, digits, '_', '.', '-' "
            "between slashes and be at most 1011 characters"
        )
    first = value.split("/")[1].lower()
    if first.startswith(("aws", "ssm")):
        raise ValueError("an SSM parameter name must not start with 'aws' or 'ssm' (reserved by AWS)")
    if value.count("/") > 15:
        raise ValueError("an SSM parameter name may have at most 15 levels")
    return value


def validate_image_reference(value: str) -> str:
    """A full image reference: ``repository[:tag][@sha256:<64 hex>]``."""
    rest, _, digest = value.partition("@")
    repository, tag = rest, None
    # a ':' after the last '/' separates the tag; one before it is a registry port
    if ":" in rest.rsplit("/", 1)[-1]:
        repository, tag = rest.rsplit(":", 1)
    ok = len(value) <= 512 and _REPOSITORY.fullmatch(repository) is not None
    ok = ok and (tag is None or _TAG.fullmatch(tag) is not None)
    ok = ok and ("@" not in value or _DIGEST.fullmatch(digest) is not None)
    if not ok or (len(repository) > 255):
        raise ValueError(
            "an image reference must be 'repository[:tag][@sha256:<64 lower-case hex>]', e.g. "
            "'123456789012.dkr.ecr.us-east-1.amazonaws.com/api:1.2.3'"
        )
    return value


def validate_secret_arn(value: str) -> str:
    """The ARN of an SSM parameter or a Secrets Manager secret (a container secret's ``valueFrom``)."""
    ssm = _SSM_PARAMETER_ARN.fullmatch(value)
    if ssm is not None and len(value) <= 2048:
        validate_ssm_parameter_name(ssm.group("name"))
        return value
    if _SECRET_ARN.fullmatch(value) is not None and len(value) <= 2048:
        return value
    raise ValueError(
        "a secret must be the full ARN of an SSM parameter "
        "(arn:aws:ssm:<region>:<account>:parameter/<name>) or of a Secrets Manager secret "
        "(arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 characters>)"
    )


def validate_kms_key_arn(value: str) -> str:
    if not _KMS_KEY_ARN.fullmatch(value):
        raise ValueError("a KMS key must be a key ARN: arn:aws:kms:<region>:<account>:key/<key id (uuid)>")
    return value


def validate_listener_arn(value: str) -> str:
    if not _LISTENER_ARN.fullmatch(value):
        raise ValueError(
            "a listener must be an ALB listener ARN: "
            "arn:aws:elasticloadbalancing:<region>:<account>:listener/app/<name>/<16 hex>/<16 hex>"
        )
    return value


def validate_alarm_name(value: str) -> str:
    if not _ALARM_NAME.fullmatch(value) or value != value.strip():
        raise ValueError("a CloudWatch alarm name must be 1-255 characters, no ASCII control characters")
    return value


def validate_container_path(value: str) -> str:
    """An absolute path inside the container, e.g. ``/tmp`` (no ``..``, no ``/`` alone)."""
    if (
        len(value) > 255
        or not _CONTAINER_PATH.fullmatch(value)
        or any(part in (".", "..") for part in value.split("/"))
    ):
        raise ValueError(
            "a container path must be absolute, like '/tmp' or '/var/cache/app': letters, digits, "
            "'_', '.', '-' between slashes, no '.' or '..' parts, at most 255 characters"
        )
    return value


def validate_container_user(value: str) -> str:
    """``user`` or ``user:group`` (names or ids), never root."""
    if not _USER.fullmatch(value):
        raise ValueError("a container user must be 'user' or 'user:group' (names or numeric ids)")
    user = value.split(":")[0]
    if user == "root" or (user.isdigit() and int(user) == 0):
        raise ValueError("a container user must not be root (0): choose a non-root user or id")
    return value


def validate_path_pattern(value: str) -> str:
    if not _PATH_PATTERN.fullmatch(value) or not value.startswith("/"):
        raise ValueError(
            "a path pattern must start with '/' and be at most 128 characters of letters, digits "
            "and _-.$/~\"'@:+&*? (e.g. '/api/*')"
        )
    return value


def validate_host_header(value: str) -> str:
    if not _HOST_HEADER.fullmatch(value):
        raise ValueError(
            "a host header must be a host name of at most 128 characters (letters, digits, '-', '.', "
            "wildcards '*' and '?'), e.g. 'api.example.com'"
        )
    return value


def secret_looking(name: str) -> bool:
    """Whether an environment variable's name says its value is a credential."""
    upper = name.upper()
    return any(part in upper for part in SECRET_NAME_PARTS)


def validate_fargate_size(cpu: int, memory: int) -> None:
    allowed = FARGATE_CPU_MEMORY.get(cpu)
    if allowed is None:
        raise ValueError(f"Fargate cpu must be one of {sorted(FARGATE_CPU_MEMORY)}")
    if memory not in allowed:
        raise ValueError(f"Fargate memory for cpu {cpu} must be one of {list(allowed)} (MiB)")


def validate_redeploy_command(argv: Iterable[str]) -> tuple[str, ...]:
    """A redeploy command is an argv list whose items may use {cluster}, {service} and {region}."""
    items = tuple(argv)
    if not items or not items[0]:
        raise ValueError("a redeploy command must be a non-empty list of arguments")
    allowed = ", ".join("{" + p + "}" for p in sorted(REDEPLOY_PLACEHOLDERS))
    for item in items:
        try:
            parsed = list(string.Formatter().parse(item))
        except ValueError:
            raise ValueError(
                f"a redeploy command may only use the placeholders {allowed} "
                "(write a literal brace as '{{' or '}}')"
            ) from None
        for _, field, spec, conversion in parsed:
            if field is None:
                continue
            if field not in REDEPLOY_PLACEHOLDERS or spec or conversion:
                raise ValueError(f"a redeploy command may only use the placeholders {allowed}")
    return items


def _ecr_parts(repository: str) -> tuple[str, str, str, bool] | None:
    """(account, region, repository name, China partition) of an ECR reference, else None."""
    match = _REPOSITORY.fullmatch(repository)
    if not match or not match.group("host"):
        return None
    host = _ECR_HOST.fullmatch(match.group("host"))
    if not host:
        return None
    return host.group("account"), host.group("region"), match.group("path"), bool(host.group("cn"))


def ecr_location(repository: str) -> tuple[str, str, str] | None:
    """(account, region, repository name) of an ECR repository reference, else None."""
    parts = _ecr_parts(repository)
    return parts[:3] if parts else None


def ecr_repository_arn(repository: str) -> str | None:
    """The ARN of an ECR repository reference, or None when the image lives elsewhere."""
    parts = _ecr_parts(repository)
    if parts is None:
        return None
    account, region, name, china = parts
    return f"arn:{'aws-cn' if china else 'aws'}:ecr:{region}:{account}:repository/{name}"


# --- names of what the stacks create ------------------------------------------------


def cluster_name(project: str, environment: str) -> str:
    return f"{project}-{environment}"


def service_name(service: str) -> str:
    # The cluster is per environment, so the service keeps the short name users type.
    return service


def task_family(project: str, environment: str, service: str) -> str:
    return f"{project}-{environment}-{service}"


def execution_role_name(project: str, environment: str, service: str) -> str:
    return f"{project}-{environment}-{service}-exec"


def task_role_name(project: str, environment: str, service: str) -> str:
    # Separate from the execution role: the application's own AWS permissions start empty.
    return f"{project}-{environment}-{service}-task"


def security_group_name(project: str, environment: str, service: str) -> str:
    return f"{project}-{environment}-{service}-tasks"


def load_balancer_name(project: str, environment: str) -> str:
    # project (16) + environment (12) + 1 stays within the ALB's 32 characters.
    return f"{project}-{environment}"


def load_balancer_security_group_name(project: str, environment: str) -> str:
    return f"{project}-{environment}-alb"


def target_group_name(project: str, environment: str, service: str) -> str:
    """At most 32 characters (AWS's limit): a readable prefix and a hash of the three names.

    The hash keeps ``shop``/``prod``/``eu-api`` and ``shop``/``prod-eu``/``api`` apart."""
    full = f"{project}-{environment}-{service}"
    digest = hashlib.sha256(f"{project}/{environment}/{service}".encode()).hexdigest()[:8]
    return f"{full[:23].rstrip('-')}-{digest}"


def scaling_resource_id(cluster: str, service: str) -> str:
    return f"service/{cluster}/{service}"


def log_group_name(project: str, environment: str, service: str) -> str:
    return f"/ecs/{project}/{environment}/{service}"


def image_tag_parameter(service: str, environment: str) -> str:
    return f"/{service}/{environment}/docker-image-tag"
