"""AWS formats and limits, as validators: names, ARNs, images, paths, tags, listener rules and a
service's network. Beside it: ``aws_regions`` (regions, partitions, where an ARN is),
``task_sizes`` (Fargate's table, EC2's bounds) and ``credentials`` (what looks like one).

Validators raise ``ValueError`` with a message that says what is allowed; the settings
loader adds the file, the field and the value.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ecs_cd.core.credentials import credential_shape, holds_url_password, secret_looking

# Short lower-case names: they end up in ECS names, IAM role names (64 characters
# at most), log group paths, SSM parameter paths and shell commands.
# A project, environment or service name is this pattern, at most its maximum length below.
SLUG_PATTERN = r"[a-z](?:[a-z0-9-]*[a-z0-9])?"
PROJECT_NAME_MAX = 16
ENVIRONMENT_NAME_MAX = 12
SERVICE_NAME_MAX = 28

_ECS_NAME = re.compile(r"[A-Za-z0-9_-]{1,255}", re.ASCII)
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
# Docker's tag grammar; also checked by Terraform against the value read from SSM.
IMAGE_TAG_PATTERN = "[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
IMAGE_TAG_MAX = 128
# The longest image reference accepted: repository (255), tag and digest.
IMAGE_REFERENCE_MAX = 512
_TAG = re.compile(IMAGE_TAG_PATTERN, re.ASCII)
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
# SQS: a queue's name is 1-80 of letters, digits, '-' and '_', a FIFO queue's ending in ".fifo".
_SQS_QUEUE_NAME = re.compile(r"[A-Za-z0-9_-]{1,80}|[A-Za-z0-9_-]{1,75}\.fifo", re.ASCII)
_SQS_QUEUE_ARN = re.compile(
    rf"arn:{_PARTITION}:sqs:{_ARN_REGION}:{_ACCOUNT}:(?P<name>[A-Za-z0-9_.-]{{1,80}})"
)
_ALARM_NAME = re.compile(r"[^\x00-\x1f\x7f]{1,255}", re.ASCII)
_CONTAINER_PATH = re.compile(r"(?:/[A-Za-z0-9_.-]+)+", re.ASCII)
_USER = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,31})?", re.ASCII)
# ALB path patterns: up to 128 characters of A-Z a-z 0-9 _ - . $ / ~ " ' @ : + & * ?
_PATH_PATTERN = re.compile(r"[A-Za-z0-9_.$/~\"'@:+&*?-]{1,128}", re.ASCII)
_HOST_HEADER = re.compile(r"(?=.{1,128}$)[A-Za-z0-9*?](?:[A-Za-z0-9*?.-]*[A-Za-z0-9*?])?", re.ASCII)

# Limits of one ECS service's awsvpc network configuration.
MAX_SERVICE_SECURITY_GROUPS = 5
MAX_SERVICE_SUBNETS = 16
# ALB listener rule quotas: condition values (of all conditions together) and wildcards per rule.
MAX_RULE_CONDITION_VALUES = 5
MAX_RULE_WILDCARDS = 5

# S3 general purpose bucket names: 3-63 of a-z 0-9 . -, labels starting and ending with a
# letter or digit (so no '..', '.-' or '-.').
_BUCKET = re.compile(
    r"(?=[a-z0-9.-]{3,63}\Z)[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*", re.ASCII
)
_BUCKET_CHARS = re.compile(r"[a-z0-9.-]+", re.ASCII)
_IPV4_LIKE = re.compile(r"[0-9]{1,3}(?:\.[0-9]{1,3}){3}", re.ASCII)
_BUCKET_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_BUCKET_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
_LOAD_BALANCER_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?", re.ASCII)
# EC2 security group names (VPC): a-z A-Z 0-9 spaces and ._-:/()#,@[]+=&;{}!$*
_SECURITY_GROUP_NAME = re.compile(r"[A-Za-z0-9 ._\-:/()#,@\[\]+=&;{}!$*]{1,255}", re.ASCII)


def _slug(value: str, what: str, max_len: int) -> str:
    if not isinstance(value, str) or len(value) > max_len or not re.fullmatch(SLUG_PATTERN, value):
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


def validate_container_name(value: str) -> str:
    if not _ECS_NAME.fullmatch(value):
        raise ValueError("a container name must be 1-255 letters, digits, hyphens or underscores")
    return value


def validate_env_var_name(value: str) -> str:
    if not _ENV_VAR.fullmatch(value):
        raise ValueError(
            "an environment variable name must be letters, digits and underscores, not starting with a digit"
        )
    return value


# Tags: what every service's resources carry (the tool sets them; configuration may not).
TOOL_TAG_KEYS = ("Project", "Environment", "Service", "ManagedBy")
MAX_TAGS_PER_RESOURCE = 50
_TAGS_ARE_PUBLIC = "tags are readable by anyone who may list the resource"
_TAG_TEXT = re.compile(r"^[\w .:/=+\-@]*$", re.UNICODE)


def validate_tag_key(value: str) -> str:
    _refuse_credential_key(value)
    if not 1 <= len(value) <= 128 or not _TAG_TEXT.fullmatch(value) or value != value.strip():
        raise ValueError(
            "a tag key must be 1-128 letters, digits, spaces and _ . : / = + - @, without leading or "
            "trailing spaces"
        )
    if value.lower().startswith("aws:"):
        raise ValueError("a tag key must not start with 'aws:' (reserved by AWS)")
    if value in TOOL_TAG_KEYS:
        raise ValueError(f"the keys {', '.join(TOOL_TAG_KEYS)} are set by ecs-cd on every resource")
    if secret_looking(value.replace(" ", "_").replace("-", "_")):
        raise ValueError(f"a tag's key names a credential: {_TAGS_ARE_PUBLIC}")
    return value


def _refuse_credential_key(value: str) -> None:
    # Before the character rules: a key that is a credential is named as such, not as bad text.
    kind = credential_shape(value)
    if kind is not None:
        raise ValueError(f"a tag key looks like {kind}: {_TAGS_ARE_PUBLIC}")


def validate_tag_value(value: str) -> str:
    # Before the character rules: a whole PEM key (with line breaks) is named as what it is.
    kind = credential_shape(value)
    if kind is not None:
        raise ValueError(f"a tag value looks like {kind}: {_TAGS_ARE_PUBLIC}")
    if len(value) > 256 or not _TAG_TEXT.fullmatch(value):
        raise ValueError("a tag value must be at most 256 letters, digits, spaces and _ . : / = + - @")
    if holds_url_password(value):
        raise ValueError(f"a tag value holds a password: {_TAGS_ARE_PUBLIC}")
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
    ok = len(value) <= IMAGE_REFERENCE_MAX and _REPOSITORY.fullmatch(repository) is not None
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


def validate_sqs_queue_name(value: str) -> str:
    if not _SQS_QUEUE_NAME.fullmatch(value):
        raise ValueError(
            "an SQS queue name must be 1-80 letters, digits, '-' and '_' (a FIFO queue's ending in '.fifo')"
        )
    return value


def validate_sqs_queue_arn(value: str) -> str:
    found = _SQS_QUEUE_ARN.fullmatch(value)
    if found is None or not _SQS_QUEUE_NAME.fullmatch(found.group("name")):
        raise ValueError(
            "an SQS queue must be a queue ARN: arn:aws:sqs:<region>:<account>:<queue name> (1-80 letters, "
            "digits, '-' and '_', a FIFO queue's ending in '.fifo')"
        )
    return value


def sqs_queue_parts(arn: str) -> tuple[str, str, str, str]:
    """(partition, region, account, name) of a queue ARN (``validate_sqs_queue_arn``'s form)."""
    found = _SQS_QUEUE_ARN.fullmatch(arn)
    if found is None:
        raise ValueError(f"not an SQS queue ARN: {arn!r}")
    return found.group("partition"), found.group("region"), found.group("account"), found.group("name")


def sqs_queue_url(arn: str) -> str:
    """The URL SQS answers a queue at (what its SDK calls take), from its ARN: ``https://sqs.<region>.
    amazonaws.com[.cn]/<account>/<name>``, the form GetQueueUrl returns."""
    partition, region, account, name = sqs_queue_parts(arn)
    suffix = "amazonaws.com.cn" if partition == "aws-cn" else "amazonaws.com"
    return f"https://sqs.{region}.{suffix}/{account}/{name}"


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


def validate_s3_bucket_name(value: str) -> str:
    """A general purpose S3 bucket name, by AWS's bucket naming rules."""
    if not _BUCKET.fullmatch(value):
        if not 3 <= len(value) <= 63:
            problem = f"not {len(value)}"
        elif any(c.isupper() for c in value):
            problem = "no upper-case letters"
        elif ".." in value:
            problem = "no two adjacent periods"
        elif _BUCKET_CHARS.fullmatch(value):
            problem = "no '-' or '.' next to a period or at either end"
        else:
            problem = "no other characters"
        raise ValueError(
            "an S3 bucket name must be 3-63 lower-case letters, digits, '.' and '-', each part between "
            f"periods starting and ending with a letter or digit ({problem})"
        )
    if _IPV4_LIKE.fullmatch(value):
        raise ValueError("an S3 bucket name must not be formatted as an IP address")
    if value.startswith(_BUCKET_PREFIXES) or value.endswith(_BUCKET_SUFFIXES):
        raise ValueError(
            f"an S3 bucket name must not start with {', '.join(map(repr, _BUCKET_PREFIXES))} nor end with "
            f"{', '.join(map(repr, _BUCKET_SUFFIXES))} (reserved by AWS)"
        )
    return value


def validate_load_balancer_name(value: str) -> str:
    if not _LOAD_BALANCER_NAME.fullmatch(value):
        raise ValueError(
            "a load balancer name must be 1-32 letters, digits and hyphens, not starting or ending "
            "with a hyphen"
        )
    if value.startswith("internal-"):
        raise ValueError("a load balancer name must not start with 'internal-' (reserved by AWS)")
    return value


def validate_security_group_name(value: str) -> str:
    if not _SECURITY_GROUP_NAME.fullmatch(value) or value != value.strip():
        raise ValueError(
            "a security group name must be 1-255 letters, digits, spaces and ._-:/()#,@[]+=&;{}!$*, "
            "not starting or ending with a space"
        )
    if value.startswith("sg-"):
        raise ValueError("a security group name must not start with 'sg-' (the prefix of group ids)")
    return value


# ECS Service Connect and Cloud Map: a port mapping's name and a discovery name (up to 64
# lower-case letters, digits, '_' and '-', not starting with '-'), a client alias's DNS name (up
# to 127, periods too), an HTTP namespace's name and an existing namespace's ARN.
_PORT_NAME = re.compile(r"[a-z0-9_][a-z0-9_-]{0,63}", re.ASCII)
_DNS_ALIAS = re.compile(r"[a-z0-9_][a-z0-9_.-]{0,126}", re.ASCII)
_NAMESPACE_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,251}[A-Za-z0-9])?", re.ASCII)
_NAMESPACE_ARN = re.compile(
    rf"arn:{_PARTITION}:servicediscovery:{_ARN_REGION}:{_ACCOUNT}:namespace/ns-[a-z0-9]{{1,64}}"
)


def validate_port_mapping_name(value: str) -> str:
    if not _PORT_NAME.fullmatch(value):
        raise ValueError(
            "a port mapping name must be 1-64 lower-case letters, digits, underscores and hyphens, "
            "not starting with a hyphen"
        )
    return value


def validate_discovery_name(value: str) -> str:
    if not _PORT_NAME.fullmatch(value):
        raise ValueError(
            "a discovery name must be 1-64 lower-case letters, digits, underscores and hyphens, "
            "not starting with a hyphen"
        )
    return value


def validate_service_connect_dns_name(value: str) -> str:
    if not _DNS_ALIAS.fullmatch(value):
        raise ValueError(
            "a Service Connect DNS name must be 1-127 lower-case letters, digits, underscores, hyphens "
            "and periods, starting with a letter, digit or underscore (e.g. 'orders' or 'orders.internal')"
        )
    return value


def validate_namespace_name(value: str) -> str:
    if not _NAMESPACE_NAME.fullmatch(value):
        raise ValueError(
            "a Cloud Map namespace name must be 1-253 letters, digits, periods, hyphens and "
            "underscores, starting and ending with a letter or digit (e.g. 'shop-prod' or 'shop.internal')"
        )
    return value


def validate_namespace_arn(value: str) -> str:
    if not _NAMESPACE_ARN.fullmatch(value):
        raise ValueError(
            "must be a Cloud Map namespace ARN: arn:aws:servicediscovery:<region>:<account>:namespace/ns-<id>"
        )
    return value


_ROLE_NAME = re.compile(r"[A-Za-z0-9_+=,.@-]{1,64}", re.ASCII)
_LOG_GROUP_NAME = re.compile(r"[A-Za-z0-9_./#-]{1,512}", re.ASCII)


def validate_role_name(value: str) -> str:
    if not _ROLE_NAME.fullmatch(value):
        raise ValueError("an IAM role name must be 1-64 letters, digits and +=,.@_-")
    return value


def validate_log_group_name(value: str) -> str:
    if not _LOG_GROUP_NAME.fullmatch(value):
        raise ValueError("a log group name must be 1-512 letters, digits and ._-/#")
    return value


def validate_target_group_name(value: str) -> str:
    if not _LOAD_BALANCER_NAME.fullmatch(value):
        raise ValueError(
            "a target group name must be 1-32 letters, digits and hyphens, not starting or ending "
            "with a hyphen"
        )
    return value


def validate_extra_security_groups(value: Sequence[str]) -> Sequence[str]:
    """The security groups a service gets besides its own (ECS allows 5 per service in all)."""
    if len(value) > MAX_SERVICE_SECURITY_GROUPS - 1:
        raise ValueError(
            f"at most {MAX_SERVICE_SECURITY_GROUPS - 1} security groups: ECS allows "
            f"{MAX_SERVICE_SECURITY_GROUPS} per service and each service also gets its own"
        )
    return value


def validate_service_subnets(value: Sequence[str]) -> Sequence[str]:
    if len(value) > MAX_SERVICE_SUBNETS:
        raise ValueError(f"at most {MAX_SERVICE_SUBNETS} subnets: ECS allows no more per service")
    return value


def validate_rule_conditions(path_patterns: Sequence[str], host_headers: Sequence[str]) -> None:
    """An ALB listener rule's condition values, by AWS's quotas per rule."""
    values = [*path_patterns, *host_headers]
    if len(values) > MAX_RULE_CONDITION_VALUES:
        raise ValueError(
            f"a listener rule allows at most {MAX_RULE_CONDITION_VALUES} condition values "
            f"(path_patterns and host_headers together), not {len(values)}"
        )
    wildcards = sum(v.count("*") + v.count("?") for v in values)
    if wildcards > MAX_RULE_WILDCARDS:
        raise ValueError(
            f"a listener rule allows at most {MAX_RULE_WILDCARDS} wildcards ('*' and '?' in "
            f"path_patterns and host_headers together), not {wildcards}"
        )


def validate_health_check_command(value: Sequence[str]) -> Sequence[str]:
    """A container health check command: ``CMD`` and the executable (and its arguments),
    ``CMD-SHELL`` and the shell command, or ``NONE``."""
    if not value or value[0] not in ("CMD", "CMD-SHELL", "NONE"):
        raise ValueError("the first item must be 'CMD', 'CMD-SHELL' or 'NONE'")
    if value[0] == "CMD-SHELL" and not any(part.strip() for part in value[1:]):
        raise ValueError(
            "'CMD-SHELL' needs the command for the shell, e.g. "
            "['CMD-SHELL', 'curl -f http://localhost/ || exit 1']"
        )
    if value[0] == "CMD" and (len(value) < 2 or not value[1].strip()):
        raise ValueError("'CMD' needs the executable (and its arguments), e.g. ['CMD', '/bin/healthcheck']")
    return value


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
