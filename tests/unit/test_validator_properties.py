"""Property-based tests of every validator in ecs_cd/core/ (aws_formats, aws_regions, task_sizes,
credentials) and of the settings loader.

Valid values are generated from the rules (AWS's limits and the docs), never from the
regular expressions under test; invalid values are valid ones with exactly one defect
(a foreign character, a length one past the limit, a missing part ...). Every validator
must accept valid values unchanged and reject invalid ones with a ``ValueError`` whose
message says what is allowed; the loader must turn any value anywhere into either
settings or a ``ConfigError`` of one-line problems naming the file and the field.
"""

from __future__ import annotations

import contextlib
import copy
import itertools
import json
import string
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from constructs_lib.container import ContainerProps, Firelens, PortMapping, container_definition
from constructs_lib.container import HealthCheck as HealthCheckSettings
from constructs_lib.ec2_capacity_props import Ec2CapacityProps
from constructs_lib.images import Fixed, SsmTag
from constructs_lib.service_props import Autoscaling as AutoscalingSettings
from constructs_lib.service_props import Compute, ListenerRule
from constructs_lib.service_props import Deployment as DeploymentSettings
from constructs_lib.task_definition_props import TaskDefinitionProps, definitions_size
from ecs_cd.core import aws_formats, aws_regions, credentials, image_strategies, names, task_sizes
from stacks.settings import (
    ConfigError,
    LoadBalancerSettings,
    LocalState,
    NetworkSettings,
    S3State,
    ServiceFile,
    ServiceLoadBalancerSettings,
    settings_from_dict,
)

FILE = "x.toml"

# Validators are cheap: many examples. The loader runs pydantic on a whole config: fewer.
VALIDATOR_RUNS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
LOADER_RUNS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

LETTERS = string.ascii_letters
LOWER = string.ascii_lowercase
DIGITS = string.digits
HEX = "0123456789abcdef"
ALNUM = LETTERS + DIGITS

# --- characters no ASCII-only rule allows anywhere --------------------------------------

UNICODE_LETTERS = (
    "é",
    "ß",
    "ü",
    "Ω",
    "\u0131",  # dotless i: upper() is "I"
    "\u017f",  # long s: upper() is "S", matches 's' under IGNORECASE
    "\u212a",  # Kelvin sign: matches 'k' under IGNORECASE
    "\uff21",  # full-width letters
    "\uff41",
    "😀",
)


def digit_twins(digit: str) -> tuple[str, ...]:
    """Unicode decimal digits (category Nd) with the value of an ASCII digit: ``\\d`` matches them."""
    value = int(digit)
    return tuple(chr(base + value) for base in (0xFF10, 0x0660, 0x0966, 0x1D7CE))


UNICODE_DIGITS = (*(twin for d in DIGITS for twin in digit_twins(d)), "²", "½")
WHITESPACE = (" ", "\t", "\n", "\r", "\x0b", "\x0c", "\xa0", "\u2003", "\u2028", "\u3000")
ASCII_CONTROLS = ("\x00", "\x01", "\x08", "\x1b", "\x1f", "\x7f")
C1_CONTROLS = ("\x85", "\x9b")
FOREIGN = UNICODE_LETTERS + UNICODE_DIGITS + WHITESPACE + ASCII_CONTROLS + C1_CONTROLS
# for the rules that allow a space inside a value (security group names)
FOREIGN_BUT_SPACE = tuple(c for c in FOREIGN if c != " ")


@st.composite
def with_foreign_character(
    draw: st.DrawFn, valid: st.SearchStrategy[str], alphabet: Sequence[str] = FOREIGN
) -> str:
    """A valid value with one foreign character inserted, or one ASCII digit swapped for its twin."""
    value = draw(valid)
    digits = [i for i, c in enumerate(value) if c in DIGITS]
    if alphabet in (FOREIGN, FOREIGN_BUT_SPACE) and digits and draw(st.booleans()):
        i = draw(st.sampled_from(digits))
        return value[:i] + draw(st.sampled_from(digit_twins(value[i]))) + value[i + 1 :]
    i = draw(st.integers(0, len(value)))
    return value[:i] + draw(st.sampled_from(alphabet)) + value[i:]


@st.composite
def with_inserted(draw: st.DrawFn, valid: st.SearchStrategy[str], chars: str) -> str:
    value = draw(valid)
    i = draw(st.integers(0, len(value)))
    return value[:i] + draw(st.sampled_from(chars)) + value[i:]


def random_case(word: str) -> st.SearchStrategy[str]:
    return st.tuples(*(st.sampled_from((c.lower(), c.upper())) for c in word)).map("".join)


def exactly(alphabet: str, n: int) -> st.SearchStrategy[str]:
    return st.text(alphabet=alphabet, min_size=n, max_size=n)


def split_length(draw: st.DrawFn, total: int, parts: int) -> list[int]:
    """``parts`` positive lengths adding up to ``total`` (``total >= parts``)."""
    cuts = sorted(
        draw(st.lists(st.integers(1, total - 1), min_size=parts - 1, max_size=parts - 1, unique=True))
    )
    bounds = [0, *cuts, total]
    return [b - a for a, b in itertools.pairwise(bounds)]


# --- valid values, from the rules --------------------------------------------------------


@st.composite
def slugs(draw: st.DrawFn, max_len: int, size: int | None = None) -> str:
    """Lower-case letters, digits and hyphens; starts with a letter, does not end with a hyphen."""
    n = size if size is not None else draw(st.integers(1, max_len) | st.just(max_len))
    if n == 1:
        return draw(st.sampled_from(LOWER))
    first = draw(st.sampled_from(LOWER))
    middle = draw(exactly(LOWER + DIGITS + "-", n - 2))
    return first + middle + draw(st.sampled_from(LOWER + DIGITS))


ECS_CHARS = ALNUM + "_-"
ecs_names = st.text(alphabet=ECS_CHARS, min_size=1, max_size=255) | exactly(ECS_CHARS, 255)

# AWS's regions (commercial, China, GovCloud), written out as AWS lists them.
AWS_REGIONS = {
    "aws": [
        *("us-east-1", "us-east-2", "us-west-1", "us-west-2", "af-south-1", "ap-east-1", "ap-east-2"),
        *("ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3"),
        *("ap-southeast-4", "ap-southeast-5", "ap-southeast-6", "ap-southeast-7", "ap-northeast-1"),
        *("ap-northeast-2", "ap-northeast-3", "ca-central-1", "ca-west-1", "eu-central-1", "eu-central-2"),
        *("eu-west-1", "eu-west-2", "eu-west-3", "eu-south-1", "eu-south-2", "eu-north-1", "il-central-1"),
        *("me-south-1", "me-central-1", "mx-central-1", "sa-east-1"),
    ],
    "aws-cn": ["cn-north-1", "cn-northwest-1"],
    "aws-us-gov": ["us-gov-west-1", "us-gov-east-1"],
}
PARTITION_OF = {region: partition for partition, rs in AWS_REGIONS.items() for region in rs}
regions = st.sampled_from(sorted(PARTITION_OF))
# Names shaped like a region that AWS does not have.
region_shapes = st.builds(
    lambda head, parts, digit: head + "".join("-" + p for p in parts) + "-" + digit,
    exactly(LOWER, 2),
    st.lists(st.text(LOWER, min_size=1, max_size=10), min_size=1, max_size=3),
    st.sampled_from(DIGITS),
)
unknown_regions = st.sampled_from(
    ["us-east-7", "eu-west-9", "ma-north-1", "cn-south-1", "us-gov-north-1"]
) | region_shapes.filter(lambda r: r not in PARTITION_OF)

env_var_names = st.builds(
    lambda first, rest: first + rest,
    st.sampled_from(LETTERS + "_"),
    st.text(alphabet=ALNUM + "_", max_size=40),
)


@st.composite
def repository_paths(draw: st.DrawFn) -> str:
    """Path components of lower-case alphanumerics joined by '.', '_', '__' or dashes."""
    components = []
    for _ in range(draw(st.integers(1, 4))):
        runs = draw(st.lists(st.text(LOWER + DIGITS, min_size=1, max_size=10), min_size=1, max_size=3))
        seps = [draw(st.sampled_from([".", "_", "__", "-", "--"])) for _ in runs[1:]]
        components.append(runs[0] + "".join(s + r for s, r in zip(seps, runs[1:], strict=True)))
    return "/".join(components)


@st.composite
def registry_hosts(draw: st.DrawFn) -> str:
    """DNS-like host names, optionally with a port (0-65535 in ASCII digits)."""
    labels = []
    for _ in range(draw(st.integers(1, 3))):
        n = draw(st.integers(1, 20))
        label = draw(st.sampled_from(ALNUM))
        if n > 1:
            label += draw(st.text(ALNUM + "-", max_size=n - 2)) + draw(st.sampled_from(ALNUM))
        labels.append(label)
    host = ".".join(labels)
    if draw(st.booleans()):
        host += ":" + str(draw(st.integers(0, 65535)))
    return host


ECR_HOSTS = (
    "123456789012.dkr.ecr.us-east-1.amazonaws.com",
    "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn",
    "localhost:5000",
    "public.ecr.aws",
)


@st.composite
def repositories(draw: st.DrawFn) -> str:
    path = draw(repository_paths())
    host = draw(st.none() | st.sampled_from(ECR_HOSTS) | registry_hosts())
    return path if host is None else f"{host}/{path}"


def repository_of_length(n: int) -> st.SearchStrategy[str]:
    return st.builds(
        lambda host, rest: host + "/" + rest[: n - len(host) - 1],
        st.sampled_from(ECR_HOSTS),
        exactly(LOWER + DIGITS, n),
    ) | exactly(LOWER + DIGITS, n)


TAG_FIRST = ALNUM + "_"
TAG_REST = TAG_FIRST + ".-"


def tags_of_length(n: int) -> st.SearchStrategy[str]:
    return st.builds(lambda a, b: a + b, st.sampled_from(TAG_FIRST), exactly(TAG_REST, n - 1))


tags = st.integers(1, 128).flatmap(tags_of_length) | tags_of_length(128)

SSM_CHARS = ALNUM + "_.-"


def not_reserved(first: str) -> str:
    """AWS reserves names starting with 'aws' or 'ssm' (any case)."""
    return "p" + first[1:] if first.lower().startswith(("aws", "ssm")) else first


@st.composite
def ssm_names_of_length(draw: st.DrawFn, n: int) -> str:
    """'/'-separated levels (1-15) of letters, digits, '_', '.', '-', exactly n characters."""
    levels = draw(st.integers(1, min(15, n // 2)))
    lengths = split_length(draw, n - levels, levels)
    parts = [draw(exactly(SSM_CHARS, k)) for k in lengths]
    parts[0] = not_reserved(parts[0])
    return "".join("/" + p for p in parts)


@st.composite
def ssm_names(draw: st.DrawFn) -> str:
    parts = draw(st.lists(st.text(SSM_CHARS, min_size=1, max_size=60), min_size=1, max_size=15))
    parts[0] = not_reserved(parts[0])
    return "".join("/" + p for p in parts)


sha256_digests = exactly(HEX, 64).map(lambda h: "sha256:" + h)


@st.composite
def image_references(draw: st.DrawFn) -> str:
    value = draw(repositories() | repository_of_length(255))
    if draw(st.booleans()):
        value += ":" + draw(tags)
    if draw(st.booleans()):
        value += "@" + draw(sha256_digests)
    return value


partitions = st.sampled_from(["aws", "aws-cn", "aws-us-gov"])
accounts = exactly(DIGITS, 12)
SECRET_NAME_CHARS = ALNUM + "/_+=.@-"


@st.composite
def secret_arns(draw: st.DrawFn) -> str:
    head = f"arn:{draw(partitions)}:{{}}:{draw(regions)}:{draw(accounts)}:"
    if draw(st.booleans()):
        return head.format("ssm") + "parameter" + draw(ssm_names())
    name = draw(st.text(SECRET_NAME_CHARS, min_size=1, max_size=80) | exactly(SECRET_NAME_CHARS, 512))
    return head.format("secretsmanager") + f"secret:{name}-{draw(exactly(ALNUM, 6))}"


uuids = st.builds(
    lambda a, b, c, d, e: f"{a}-{b}-{c}-{d}-{e}",
    exactly(HEX, 8),
    exactly(HEX, 4),
    exactly(HEX, 4),
    exactly(HEX, 4),
    exactly(HEX, 12),
)
# Multi-Region keys have ids 'mrk-' + 32 hex digits.
kms_key_ids = uuids | exactly(HEX, 32).map(lambda h: "mrk-" + h)
kms_key_arns = st.builds(
    lambda p, r, a, key: f"arn:{p}:kms:{r}:{a}:key/{key}", partitions, regions, accounts, kms_key_ids
)


@st.composite
def alb_names(draw: st.DrawFn, size: int | None = None) -> str:
    """1-32 letters, digits and hyphens, not starting or ending with a hyphen."""
    n = size if size is not None else draw(st.integers(1, 32))
    if n == 1:
        return draw(st.sampled_from(ALNUM))
    return draw(st.sampled_from(ALNUM)) + draw(exactly(ALNUM + "-", n - 2)) + draw(st.sampled_from(ALNUM))


def listener_arn(partition: str, region: str, account: str, name: str, a: str, b: str) -> str:
    return f"arn:{partition}:elasticloadbalancing:{region}:{account}:listener/app/{name}/{a}/{b}"


listener_arns = st.builds(
    listener_arn,
    partitions,
    regions,
    accounts,
    alb_names() | alb_names(size=32),
    exactly(HEX, 16),
    exactly(HEX, 16),
)

# CloudWatch alarm names: any characters but (ASCII) control characters; we also ask for
# no leading or trailing whitespace.
alarm_inner = st.characters(exclude_categories=("Cc", "Cs"))
alarm_edge = alarm_inner.filter(lambda c: not c.isspace())


def alarm_names_of_length(n: int) -> st.SearchStrategy[str]:
    if n == 1:
        return alarm_edge
    return st.builds(
        lambda a, b, c: a + b + c,
        alarm_edge,
        st.text(alarm_inner, min_size=n - 2, max_size=n - 2),
        alarm_edge,
    )


alarm_names = st.integers(1, 255).flatmap(alarm_names_of_length) | alarm_names_of_length(255)

PATH_CHARS = ALNUM + "_.-"


def path_part(part: str) -> str:
    return "x" + part if part in (".", "..") else part


container_paths = st.lists(st.text(PATH_CHARS, min_size=1, max_size=30), min_size=1, max_size=8).map(
    lambda parts: "".join("/" + path_part(p) for p in parts)
)


def container_paths_of_length(n: int) -> st.SearchStrategy[str]:
    return exactly(PATH_CHARS, n - 1).map(lambda p: "/" + path_part(p))


USER_FIRST = ALNUM + "_"
USER_REST = USER_FIRST + ".-"


def user_names_of_length(n: int) -> st.SearchStrategy[str]:
    return st.builds(lambda a, b: a + b, st.sampled_from(USER_FIRST), exactly(USER_REST, n - 1))


user_names = st.integers(1, 32).flatmap(user_names_of_length) | user_names_of_length(32)


def is_root(user: str) -> bool:
    """root by name, or uid 0 written with any number of zeros (the runtime parses it as a number)."""
    return user == "root" or (user.isascii() and user.isdigit() and int(user) == 0)


container_users = st.builds(
    lambda user, group: user if group is None else f"{user}:{group}",
    user_names.map(lambda u: "u" + u[1:] if is_root(u) else u),
    st.none() | user_names,
)

# ALB path patterns: A-Z a-z 0-9 _ - . $ / ~ " ' @ : + & * ?
PATTERN_CHARS = ALNUM + "_-.$/~\"'@:+&*?"


def path_patterns_of_length(n: int) -> st.SearchStrategy[str]:
    return exactly(PATTERN_CHARS, n - 1).map(lambda p: "/" + p)


path_patterns = st.integers(1, 128).flatmap(path_patterns_of_length) | path_patterns_of_length(128)

HOST_END = ALNUM + "*?"
HOST_INNER = HOST_END + ".-"


def host_headers_of_length(n: int) -> st.SearchStrategy[str]:
    if n == 1:
        return st.sampled_from(HOST_END)
    return st.builds(
        lambda a, b, c: a + b + c,
        st.sampled_from(HOST_END),
        exactly(HOST_INNER, n - 2),
        st.sampled_from(HOST_END),
    )


host_headers = (
    st.sampled_from(["api.example.com", "*.example.com", "www?.example.org", "localhost"])
    | st.integers(1, 128).flatmap(host_headers_of_length)
    | host_headers_of_length(128)
)

# --- invalid values: one defect each -----------------------------------------------------


def cut(max_len: int, valid: Callable[[int], st.SearchStrategy[str]]) -> st.SearchStrategy[str]:
    """Valid values one character shorter than the limit, so that one added character is no length problem."""
    return st.integers(1, max_len - 1).flatmap(valid)


def slug_defects(max_len: int) -> st.SearchStrategy[str]:
    short = cut(max_len, lambda n: slugs(max_len, size=n))
    return st.one_of(
        st.just(""),
        with_inserted(short, string.ascii_uppercase + "_./: @+"),
        st.builds(lambda c, s: c + s[: max_len - 1], st.sampled_from(DIGITS + "-"), slugs(max_len)),
        short.map(lambda s: s + "-"),
        slugs(max_len + 1, size=max_len + 1),
    )


ecs_defects = st.just("") | with_inserted(ecs_names.map(lambda s: s[:254]), ".:/@ +=")

region_defects = st.one_of(
    with_inserted(regions, string.ascii_uppercase + "_."),
    regions.map(lambda r: r[:-1]),  # no digit
    st.builds(lambda r, d: r + d, regions, st.sampled_from(DIGITS)),  # two digits
    regions.map(lambda r: r.replace("-", "")),  # no hyphens
    st.builds(lambda c, r: c + r, st.sampled_from(LOWER), regions),  # three-letter head
    regions.map(lambda r: r[1:]),  # one-letter head
    unknown_regions,  # well formed, but no region of AWS's
)

env_var_defects = st.one_of(
    st.just(""),
    st.builds(lambda d, n: d + n, st.sampled_from(DIGITS), env_var_names),
    with_inserted(env_var_names, "-.$ :=/"),
)


@st.composite
def repository_defects(draw: st.DrawFn) -> str:
    repo = draw(repositories())
    defect = draw(
        st.sampled_from(["tag", "digest", "trailing", "leading", "upper", "separator", "triple", "dots"])
    )
    if defect == "tag":
        return f"{repo}:{draw(tags)}"
    if defect == "digest":
        return f"{repo}@{draw(sha256_digests)}"
    if defect == "trailing":
        return repo + "/"
    if defect == "leading":
        return "/" + repo
    if defect == "upper":  # the last component is always a path component
        return f"{repo}/{draw(st.sampled_from(string.ascii_uppercase))}a"
    if defect == "separator":
        return f"{repo}/{draw(st.sampled_from(['-a', '.a', '_a', 'a-', 'a.', 'a_']))}"
    if defect == "triple":
        return repo + "/a___b"
    return repo + "/a..b"


tag_defects = st.one_of(
    st.just(""),
    st.builds(lambda c, t: c + t[:127], st.sampled_from(".-"), tags),
    with_inserted(st.integers(1, 127).flatmap(tags_of_length), ":/@+ ~"),
)

ssm_defects = st.one_of(
    ssm_names().map(lambda s: s[1:]),  # no leading slash
    ssm_names().map(lambda s: s + "/"),
    ssm_names().map(lambda s: s.replace("/", "//", 1)),
    with_inserted(ssm_names(), ":@+=*~ "),
    st.just(""),
    st.just("/"),
)


@st.composite
def ssm_too_many_levels(draw: st.DrawFn) -> str:
    parts = draw(st.lists(st.text(SSM_CHARS, min_size=1, max_size=5), min_size=16, max_size=20))
    parts[0] = not_reserved(parts[0])
    return "".join("/" + p for p in parts)


@st.composite
def ssm_reserved(draw: st.DrawFn) -> str:
    prefix = draw(random_case("aws") | random_case("ssm"))
    rest = draw(st.text(SSM_CHARS, max_size=10))
    return "/" + prefix + rest + draw(ssm_names() | st.just(""))


@st.composite
def image_reference_defects(draw: st.DrawFn) -> str:
    repo = draw(repositories())
    digest = draw(exactly(HEX, 64))
    return draw(
        st.sampled_from(
            [
                f"{repo}@sha256:{digest.upper() if any(c in 'abcdef' for c in digest) else 'A' + digest[1:]}",
                f"{repo}@sha256:{digest[:63]}",
                f"{repo}@sha256:{digest}0",
                f"{repo}@sha512:{digest}",
                f"{repo}@{digest}",
                f"{repo}@",
                f"{repo}:",
                f"{repo}:.x",
                f"{repo}:{'t' * 129}",
                f"{repo}@sha256:{digest}@sha256:{digest}",
                f"@sha256:{digest}",
                f"{repo}/Upper",
                "",
            ]
        )
        | repository_of_length(256).map(lambda r: r + ":1")
    )


@st.composite
def secret_arn_defects(draw: st.DrawFn) -> str:
    arn = draw(secret_arns())
    region, account = draw(regions), draw(accounts)
    return draw(
        st.sampled_from(
            [
                arn.replace(":ssm:", ":s3:").replace(":secretsmanager:", ":s3:"),
                arn.replace("arn:aws", "arn:awz", 1),
                arn[:-1] if ":secret:" in arn else arn + "/",  # 5-character suffix / trailing slash
                f"arn:aws:ssm:{region}:{account}:parameter",
                f"arn:aws:ssm:{region}:{account[:11]}:parameter/app/x",
                f"arn:aws:secretsmanager:{region}:{account}:secret:-AbCdEf",
                f"arn:aws:secretsmanager:{region}:{account}:secret:{'n' * 513}-AbCdEf",
                "parameter/app/x",
                "/app/x",
                "",
            ]
        )
    )


@st.composite
def kms_defects(draw: st.DrawFn) -> str:
    arn = draw(kms_key_arns)
    region, account, key = draw(regions), draw(accounts), draw(uuids)
    return draw(
        st.sampled_from(
            [
                f"arn:aws:kms:{region}:{account}:alias/app",
                f"arn:aws:kms:{region}:{account}:key/{key[:-1]}",
                f"arn:aws:kms:{region}:{account}:key/{key.replace('-', '', 1)}",
                f"arn:aws:kms:{region}:{account}:key/mrk-{'a' * 31}",
                f"arn:aws:kms:{region}:{account[:11]}:key/{key}",
                f"arn:aws:kms:{region}:{account}:key/",
                arn.replace(":kms:", ":ssm:"),
                key,
                "",
            ]
        )
    )


@st.composite
def listener_defects(draw: st.DrawFn) -> str:
    p, r, a = draw(partitions), draw(regions), draw(accounts)
    name, h1, h2 = draw(alb_names()), draw(exactly(HEX, 16)), draw(exactly(HEX, 16))
    good = listener_arn(p, r, a, name, h1, h2)
    return draw(
        st.sampled_from(
            [
                good.replace("listener/app/", "listener/net/"),
                listener_arn(p, r, a, name, h1[:15], h2),
                listener_arn(p, r, a, name, h1, h2 + "0"),
                listener_arn(p, r, a, draw(alb_names(size=32)) + "x", h1, h2),
                listener_arn(p, r, a, name + "_x", h1, h2),
                good.replace(":listener/", ":loadbalancer/"),
                good + "/",
                "",
            ]
        )
    )


alarm_defects = st.one_of(
    st.just(""),
    with_inserted(alarm_names, "".join(ASCII_CONTROLS) + "\n\r\t"),
    st.builds(lambda w, a: w + a[:254], st.sampled_from(WHITESPACE), alarm_names),
    st.builds(lambda w, a: a[:254] + w, st.sampled_from(WHITESPACE), alarm_names),
    alarm_names_of_length(256),
)

container_path_defects = st.one_of(
    st.sampled_from(["", "/", "//", "/.", "/..", "tmp", "./tmp", "~/tmp"]),
    container_paths.map(lambda p: p[1:]),
    container_paths.map(lambda p: p + "/"),
    container_paths.map(lambda p: p.replace("/", "//", 1)),
    st.builds(lambda p, dots: p + "/" + dots, container_paths, st.sampled_from([".", ".."])),
    st.builds(lambda dots, p: "/" + dots + p, st.sampled_from([".", ".."]), container_paths),
    with_inserted(container_paths, " :*~\\$"),
)

user_defects = st.one_of(
    st.sampled_from(["", ":", ":app", "app:", "a:b:c"]),
    user_names_of_length(33),
    st.builds(lambda u, g: f"{u}:{g}", user_names, user_names_of_length(33)),
    st.builds(lambda c, u: c + u[:31], st.sampled_from(".-"), user_names),
    with_inserted(user_names.map(lambda u: "u" + u[1:31]), "/ @+=$"),
)

path_pattern_defects = st.one_of(
    st.just(""),
    path_patterns.map(lambda p: "x" + p[1:]),  # not starting with '/'
    path_patterns_of_length(129),
    with_inserted(path_patterns.map(lambda p: p[:127]).filter(lambda p: len(p) > 0), " #%<>\\^`{|}[],;=!()"),
)

host_header_defects = st.one_of(
    st.just(""),
    st.builds(lambda c, h: c + h[:127], st.sampled_from(".-"), host_headers),
    st.builds(lambda c, h: h[:127] + c, st.sampled_from(".-"), host_headers),
    with_inserted(host_headers.map(lambda h: h[:127]), "_/:@ ,"),
    host_headers_of_length(129),
)


# S3 bucket names: 3-63 characters; parts between periods of a-z 0-9 and '-', each starting
# and ending with a letter or digit; not an IP address; AWS's reserved prefixes and suffixes.
BUCKET_EDGE = LOWER + DIGITS
BUCKET_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
BUCKET_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def bucket_allowed(name: str) -> bool:
    labels = name.split(".")
    ip_like = len(labels) == 4 and all(1 <= len(p) <= 3 and p.isdigit() for p in labels)
    return not ip_like and not name.startswith(BUCKET_PREFIXES) and not name.endswith(BUCKET_SUFFIXES)


@st.composite
def bucket_labels_of_length(draw: st.DrawFn, n: int) -> str:
    if n == 1:
        return draw(st.sampled_from(BUCKET_EDGE))
    inner = draw(exactly(BUCKET_EDGE + "-", n - 2))
    return draw(st.sampled_from(BUCKET_EDGE)) + inner + draw(st.sampled_from(BUCKET_EDGE))


@st.composite
def bucket_names_of_length(draw: st.DrawFn, n: int) -> str:
    parts = draw(st.integers(1, min(4, (n + 1) // 2)))
    lengths = split_length(draw, n - (parts - 1), parts) if parts > 1 else [n]
    name = ".".join(draw(bucket_labels_of_length(k)) for k in lengths)
    return name if bucket_allowed(name) else "b" + name[1:-1] + "b"


bucket_names = st.integers(3, 63).flatmap(bucket_names_of_length) | bucket_names_of_length(63)
short_bucket_names = st.integers(3, 60).flatmap(bucket_names_of_length)
bucket_defects = st.one_of(
    st.sampled_from(["", "a", "ab"]),
    bucket_names_of_length(64),
    with_inserted(short_bucket_names, string.ascii_uppercase + "_ /:@+"),
    short_bucket_names.map(lambda b: b[0] + ".." + b[1:]),
    short_bucket_names.map(lambda b: b[0] + ".-" + b[1:]),
    short_bucket_names.map(lambda b: b[0] + "-." + b[1:]),
    st.builds(lambda c, b: c + b, st.sampled_from("-."), short_bucket_names),
    st.builds(lambda c, b: b + c, st.sampled_from("-."), short_bucket_names),
    st.builds(lambda a, b, c, d: f"{a}.{b}.{c}.{d}", *[st.integers(0, 255)] * 4),
    st.builds(lambda p, b: (p + b)[:63], st.sampled_from(BUCKET_PREFIXES), short_bucket_names),
    st.builds(lambda b, x: b[: 63 - len(x)] + x, short_bucket_names, st.sampled_from(BUCKET_SUFFIXES)),
)


def load_balancer_names_of_length(n: int) -> st.SearchStrategy[str]:
    return alb_names(size=n).map(lambda name: "j" + name[1:] if name.startswith("internal-") else name)


load_balancer_names = st.integers(1, 32).flatmap(load_balancer_names_of_length)
load_balancer_name_defects = st.one_of(
    st.just(""),
    load_balancer_names.map(lambda n: "-" + n[:31]),
    load_balancer_names.map(lambda n: n[:31] + "-"),
    with_inserted(st.integers(1, 31).flatmap(load_balancer_names_of_length), "_. /:@"),
    load_balancer_names_of_length(33),
    st.builds(lambda n: "internal-" + n[:23], load_balancer_names),
)

# EC2 security group names: a-z A-Z 0-9 spaces and ._-:/()#,@[]+=&;{}!$*, not starting with 'sg-'
# (and, ours, not starting or ending with a space).
SG_INNER = ALNUM + " ._-:/()#,@[]+=&;{}!$*"
SG_EDGE = SG_INNER.replace(" ", "")


def security_group_names_of_length(n: int) -> st.SearchStrategy[str]:
    if n == 1:
        return st.sampled_from(SG_EDGE)
    return st.builds(
        lambda a, b, c: a + b + c,
        st.sampled_from(SG_EDGE),
        exactly(SG_INNER, n - 2),
        st.sampled_from(SG_EDGE),
    ).map(lambda name: "x" + name[1:] if name.startswith("sg-") else name)


security_group_names = st.integers(1, 255).flatmap(security_group_names_of_length)
security_group_name_defects = st.one_of(
    st.just(""),
    st.builds(lambda n: "sg-" + n[:252], security_group_names),
    with_inserted(st.integers(1, 254).flatmap(security_group_names_of_length), "%'\"<>?~`^|\\"),
    security_group_names_of_length(256),
)


# ECS Service Connect: a port mapping's name and a discovery name (1-64 of a-z 0-9 _ -, not
# starting with '-'), a client alias's DNS name (1-127, '.' too), a Cloud Map namespace's name
# (ours: 1-253 of letters, digits and ._-, starting and ending with a letter or digit).
PORT_NAME_FIRST = LOWER + DIGITS + "_"
PORT_NAME_CHARS = PORT_NAME_FIRST + "-"
DNS_ALIAS_CHARS = PORT_NAME_CHARS + "."
NAMESPACE_EDGE = ALNUM
NAMESPACE_CHARS = ALNUM + "._-"


def first_then(first: str, rest: str, n: int) -> st.SearchStrategy[str]:
    """``n`` characters: one of ``first``, then ``n - 1`` of ``rest``."""
    return st.builds(lambda a, b: a + b, st.sampled_from(first), exactly(rest, n - 1))


def edged(edge: str, inner: str, n: int) -> st.SearchStrategy[str]:
    """``n`` characters starting and ending with one of ``edge``, ``inner`` between."""
    if n == 1:
        return st.sampled_from(edge)
    return st.builds(
        lambda a, b, c: a + b + c, st.sampled_from(edge), exactly(inner, n - 2), st.sampled_from(edge)
    )


def port_names_of_length(n: int) -> st.SearchStrategy[str]:
    return first_then(PORT_NAME_FIRST, PORT_NAME_CHARS, n)


def dns_aliases_of_length(n: int) -> st.SearchStrategy[str]:
    return first_then(PORT_NAME_FIRST, DNS_ALIAS_CHARS, n)


def namespace_names_of_length(n: int) -> st.SearchStrategy[str]:
    return edged(NAMESPACE_EDGE, NAMESPACE_CHARS, n)


port_names = st.integers(1, 64).flatmap(port_names_of_length)
port_name_defects = st.one_of(
    st.just(""),
    st.builds(lambda n: "-" + n[:63], port_names),
    with_inserted(port_names, string.ascii_uppercase + "./ :"),
    port_names_of_length(65),
)
dns_aliases = st.integers(1, 127).flatmap(dns_aliases_of_length)
dns_alias_defects = st.one_of(
    st.just(""),
    st.builds(lambda n: "-" + n[:126], dns_aliases),
    st.builds(lambda n: "." + n[:126], dns_aliases),
    with_inserted(dns_aliases, string.ascii_uppercase + "/ :"),
    dns_aliases_of_length(128),
)
namespace_names = st.integers(1, 253).flatmap(namespace_names_of_length)
namespace_name_defects = st.one_of(
    st.just(""),
    st.builds(lambda n: "-" + n[:252], namespace_names),
    st.builds(lambda n: n[:252] + ".", namespace_names),
    with_inserted(namespace_names, "/ :@"),
    namespace_names_of_length(254),
)


@dataclass(frozen=True, repr=False)
class Rule:
    """One string validator: how to make values it must accept and values it must reject."""

    name: str
    check: Callable[[str], str]
    valid: st.SearchStrategy[str]
    phrase: str  # a stable part of the rejection message, saying what is allowed
    defects: st.SearchStrategy[str]
    ascii_only: bool = True  # no character outside ASCII letters/digits/punctuation is allowed
    max_len: int | None = None
    of_length: Callable[[int], st.SearchStrategy[str]] | None = None
    other_phrases: tuple[str, ...] = ()  # more specific messages some defects produce
    space_inside: bool = False  # a space is allowed inside the value (not at either end)

    def __repr__(self) -> str:
        return f"Rule({self.name})"


SLUG_PHRASE = "characters of lower-case letters, digits and hyphens, starting with a letter"

RULES = [
    Rule(
        "project_name",
        aws_formats.validate_project_name,
        slugs(16),
        "a project name must be 1-16 " + SLUG_PHRASE,
        slug_defects(16),
        max_len=16,
        of_length=lambda n: slugs(16, size=n),
    ),
    Rule(
        "environment_name",
        aws_formats.validate_environment_name,
        slugs(12),
        "an environment name must be 1-12 " + SLUG_PHRASE,
        slug_defects(12),
        max_len=12,
        of_length=lambda n: slugs(12, size=n),
    ),
    Rule(
        "service_name",
        aws_formats.validate_service_name,
        slugs(28),
        "a service name must be 1-28 " + SLUG_PHRASE,
        slug_defects(28),
        max_len=28,
        of_length=lambda n: slugs(28, size=n),
    ),
    Rule(
        "ecs_name",
        aws_formats.validate_ecs_name,
        ecs_names,
        "an ECS name must be 1-255 letters, digits, hyphens or underscores",
        ecs_defects,
        max_len=255,
        of_length=lambda n: exactly(ECS_CHARS, n),
    ),
    Rule(
        "region", aws_regions.validate_region, regions, "a region must look like 'us-east-1'", region_defects
    ),
    Rule(
        "env_var_name",
        aws_formats.validate_env_var_name,
        env_var_names,
        "an environment variable name must be letters, digits and underscores",
        env_var_defects,
    ),
    Rule(
        "repository",
        aws_formats.validate_repository,
        repositories() | repository_of_length(255),
        "a repository must be '[registry-host[:port]/]name[/name...]'",
        repository_defects(),
        max_len=255,
        of_length=repository_of_length,
    ),
    Rule(
        "image_tag",
        aws_formats.validate_image_tag,
        tags,
        "an image tag must match [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}",
        tag_defects,
        max_len=128,
        of_length=tags_of_length,
    ),
    Rule(
        "ssm_parameter_name",
        aws_formats.validate_ssm_parameter_name,
        ssm_names() | ssm_names_of_length(1011),
        "an SSM parameter name must start with '/'",
        ssm_defects,
        max_len=1011,
        of_length=ssm_names_of_length,
        other_phrases=("at most 1011 characters",),
    ),
    Rule(
        "image_reference",
        aws_formats.validate_image_reference,
        image_references(),
        "an image reference must be 'repository[:tag][@sha256:<64 lower-case hex>]'",
        image_reference_defects(),
    ),
    Rule(
        "secret_arn",
        aws_formats.validate_secret_arn,
        secret_arns(),
        "a secret must be the full ARN of an SSM parameter",
        secret_arn_defects(),
    ),
    Rule(
        "kms_key_arn",
        aws_formats.validate_kms_key_arn,
        kms_key_arns,
        "a KMS key must be a key ARN: arn:aws:kms:<region>:<account>:key/",
        kms_defects(),
    ),
    Rule(
        "listener_arn",
        aws_formats.validate_listener_arn,
        listener_arns,
        "a listener must be an ALB listener ARN",
        listener_defects(),
    ),
    Rule(
        "alarm_name",
        aws_formats.validate_alarm_name,
        alarm_names,
        "a CloudWatch alarm name must be 1-255 characters, no ASCII control characters",
        alarm_defects,
        ascii_only=False,
        max_len=255,
        of_length=alarm_names_of_length,
    ),
    Rule(
        "container_path",
        aws_formats.validate_container_path,
        container_paths | container_paths_of_length(255),
        "a container path must be absolute",
        container_path_defects,
        max_len=255,
        of_length=container_paths_of_length,
    ),
    Rule(
        "container_user",
        aws_formats.validate_container_user,
        container_users,
        "a container user must be 'user' or 'user:group'",
        user_defects,
        max_len=32,
        of_length=lambda n: user_names_of_length(n).map(lambda u: "u" + u[1:] if is_root(u) else u),
    ),
    Rule(
        "path_pattern",
        aws_formats.validate_path_pattern,
        path_patterns,
        "a path pattern must start with '/' and be at most 128 characters",
        path_pattern_defects,
        max_len=128,
        of_length=path_patterns_of_length,
    ),
    Rule(
        "host_header",
        aws_formats.validate_host_header,
        host_headers,
        "a host header must be a host name of at most 128 characters",
        host_header_defects,
        max_len=128,
        of_length=host_headers_of_length,
    ),
]
RULES += [
    Rule(
        "s3_bucket_name",
        aws_formats.validate_s3_bucket_name,
        bucket_names,
        "an S3 bucket name must",
        bucket_defects,
        max_len=63,
        of_length=bucket_names_of_length,
    ),
    Rule(
        "load_balancer_name",
        aws_formats.validate_load_balancer_name,
        load_balancer_names,
        "a load balancer name must",
        load_balancer_name_defects,
        max_len=32,
        of_length=load_balancer_names_of_length,
    ),
    Rule(
        "security_group_name",
        aws_formats.validate_security_group_name,
        security_group_names,
        "a security group name must",
        security_group_name_defects,
        max_len=255,
        of_length=security_group_names_of_length,
        space_inside=True,
    ),
    Rule(
        "port_mapping_name",
        aws_formats.validate_port_mapping_name,
        port_names,
        "a port mapping name must be 1-64 lower-case letters",
        port_name_defects,
        max_len=64,
        of_length=port_names_of_length,
    ),
    Rule(
        "discovery_name",
        aws_formats.validate_discovery_name,
        port_names,
        "a discovery name must be 1-64 lower-case letters",
        port_name_defects,
        max_len=64,
        of_length=port_names_of_length,
    ),
    Rule(
        "service_connect_dns_name",
        aws_formats.validate_service_connect_dns_name,
        dns_aliases,
        "a Service Connect DNS name must be 1-127",
        dns_alias_defects,
        max_len=127,
        of_length=dns_aliases_of_length,
    ),
    Rule(
        "namespace_name",
        aws_formats.validate_namespace_name,
        namespace_names,
        "a Cloud Map namespace name must be 1-253",
        namespace_name_defects,
        max_len=253,
        of_length=namespace_names_of_length,
    ),
]
RULE_IDS = [rule.name for rule in RULES]


def assert_rejected(check: Callable[[Any], Any], value: Any, *phrases: str) -> None:
    """``check(value)`` raises ValueError (nothing else) whose message contains one of ``phrases``."""
    try:
        result = check(value)
    except ValueError as exc:
        assert any(p in str(exc) for p in phrases), f"{value!r}: message {str(exc)!r} lacks any of {phrases}"
        return
    pytest.fail(f"{value!r} was accepted (returned {result!r})")


# --- the string validators ---------------------------------------------------------------


@pytest.mark.parametrize("rule", RULES, ids=RULE_IDS)
@VALIDATOR_RUNS
@given(data=st.data())
def test_valid_values_are_accepted_unchanged(rule: Rule, data: st.DataObject) -> None:
    # GIVEN a value built from the rule (not from the validator's regex)
    value = data.draw(rule.valid, label="valid")
    # WHEN validated THEN it is returned as it was
    assert rule.check(value) == value


@pytest.mark.parametrize("rule", RULES, ids=RULE_IDS)
@VALIDATOR_RUNS
@given(data=st.data())
def test_defective_values_are_rejected_with_what_is_allowed(rule: Rule, data: st.DataObject) -> None:
    # GIVEN a valid value with one defect specific to the rule (a missing part, a wrong separator ...)
    value = data.draw(rule.defects, label="defective")
    # WHEN validated THEN ValueError says what is allowed
    assert_rejected(rule.check, value, rule.phrase, *rule.other_phrases)


@pytest.mark.parametrize(
    "rule", [r for r in RULES if r.ascii_only], ids=[r.name for r in RULES if r.ascii_only]
)
@VALIDATOR_RUNS
@given(data=st.data())
def test_foreign_characters_are_rejected(rule: Rule, data: st.DataObject) -> None:
    # GIVEN a valid value with a unicode letter, a unicode digit (e.g. a full-width one in place
    # of '1'), whitespace or a control character inserted
    alphabet = FOREIGN_BUT_SPACE if rule.space_inside else FOREIGN
    value = data.draw(with_foreign_character(rule.valid, alphabet), label="with foreign character")
    # WHEN validated THEN it is rejected (`\d` and `$` in a Python regex would let some through)
    assert_rejected(rule.check, value, rule.phrase, *rule.other_phrases)


@pytest.mark.parametrize("rule", RULES, ids=RULE_IDS)
@VALIDATOR_RUNS
@given(data=st.data())
def test_surrounding_whitespace_and_trailing_newline_are_rejected(rule: Rule, data: st.DataObject) -> None:
    # GIVEN a valid value with a newline at the end (which `$` would match before) or spaces around
    value = data.draw(rule.valid, label="valid")
    wrapped = data.draw(
        st.sampled_from([value + "\n", value + "\r\n", "\n" + value, " " + value, value + " ", value + "\t"]),
        label="wrapped",
    )
    # WHEN validated THEN it is rejected
    assert_rejected(rule.check, wrapped, rule.phrase, *rule.other_phrases)


# One valid value with digits per rule: every digit, swapped for each of its unicode twins.
WITH_DIGITS = {
    "project_name": "app1",
    "environment_name": "dev2",
    "service_name": "api-v2",
    "ecs_name": "svc_1",
    "region": "us-east-1",
    "env_var_name": "VAR_1",
    "repository": "localhost:5000/app1",
    "image_tag": "v1.2.3",
    "ssm_parameter_name": "/app/v1/tag",
    "image_reference": "localhost:5000/app:1.0@sha256:" + "0" * 64,
    "secret_arn": "arn:aws:ssm:us-east-1:123456789012:parameter/app/db1",
    "kms_key_arn": "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    "listener_arn": "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/a1/"
    "0123456789abcdef/0123456789abcdef",
    "container_path": "/var/app1",
    "container_user": "1000:1000",
    "path_pattern": "/v1/*",
    "host_header": "api1.example.com",
    "s3_bucket_name": "logs-2024.example1",
    "load_balancer_name": "shop-dev1",
    "security_group_name": "shop-dev-api1-tasks",
    "port_mapping_name": "http2",
    "discovery_name": "orders-v2",
    "service_connect_dns_name": "orders2.internal",
    "namespace_name": "shop-dev2",
}
ASCII_RULES = [r for r in RULES if r.ascii_only]


@pytest.mark.parametrize("rule", ASCII_RULES, ids=[r.name for r in ASCII_RULES])
def test_unicode_digits_are_not_digits(rule: Rule) -> None:
    # GIVEN a valid value with digits, accepted as it is
    value = WITH_DIGITS[rule.name]
    assert rule.check(value) == value
    # WHEN any one digit is replaced by a unicode digit of the same value (full-width,
    # Arabic-Indic, Devanagari, mathematical bold): Python's `\d` matches all of them
    for i, c in enumerate(value):
        if c not in DIGITS:
            continue
        for twin in digit_twins(c):
            # THEN the value is rejected
            assert_rejected(rule.check, value[:i] + twin + value[i + 1 :], rule.phrase, *rule.other_phrases)


LIMITED = [r for r in RULES if r.max_len is not None]


@pytest.mark.parametrize("rule", LIMITED, ids=[r.name for r in LIMITED])
@VALIDATOR_RUNS
@given(data=st.data())
def test_length_limit_is_exact(rule: Rule, data: st.DataObject) -> None:
    assert rule.max_len is not None and rule.of_length is not None
    # GIVEN a value of exactly the limit and one of the limit + 1, both otherwise valid
    at_limit = data.draw(rule.of_length(rule.max_len), label="at limit")
    over = data.draw(rule.of_length(rule.max_len + 1), label="over limit")
    assert (len(at_limit), len(over)) == (rule.max_len, rule.max_len + 1)
    # WHEN validated THEN the first is accepted and the second rejected with what is allowed
    assert rule.check(at_limit) == at_limit
    assert_rejected(rule.check, over, rule.phrase, *rule.other_phrases)


STRING_VALIDATORS = [(rule.name, rule.check) for rule in RULES]


@pytest.mark.parametrize(("name", "check"), STRING_VALIDATORS, ids=[n for n, _ in STRING_VALIDATORS])
@settings(max_examples=150, deadline=None)
@given(value=st.text() | st.text(alphabet=st.characters(codec="ascii")))
def test_arbitrary_text_only_ever_raises_value_error(
    name: str, check: Callable[[str], str], value: str
) -> None:
    # GIVEN any text WHEN validated THEN it is returned unchanged or ValueError is raised
    try:
        result = check(value)
    except ValueError as exc:
        assert str(exc), f"{name}: empty message for {value!r}"
    else:
        assert result == value


# --- rule-specific properties --------------------------------------------------------------


@VALIDATOR_RUNS
@given(name=ssm_too_many_levels())
def test_ssm_parameter_name_has_at_most_15_levels(name: str) -> None:
    # GIVEN a well-formed name of 16 or more levels WHEN validated THEN the level limit is named
    assert_rejected(aws_formats.validate_ssm_parameter_name, name, "at most 15 levels")


@VALIDATOR_RUNS
@given(levels=st.lists(st.text(SSM_CHARS, min_size=1, max_size=5), min_size=15, max_size=15))
def test_ssm_parameter_name_of_15_levels_is_accepted(levels: list[str]) -> None:
    # GIVEN a name of exactly 15 levels WHEN validated THEN it is accepted
    levels[0] = not_reserved(levels[0])
    name = "".join("/" + p for p in levels)
    assert aws_formats.validate_ssm_parameter_name(name) == name


@VALIDATOR_RUNS
@given(name=ssm_reserved())
def test_ssm_parameter_name_must_not_start_with_aws_or_ssm(name: str) -> None:
    # GIVEN a name whose first level starts with aws or ssm in any case
    # WHEN validated THEN it is rejected as reserved, also inside a secret's SSM ARN
    assert_rejected(aws_formats.validate_ssm_parameter_name, name, "must not start with 'aws' or 'ssm'")
    arn = f"arn:aws:ssm:us-east-1:123456789012:parameter{name}"
    assert_rejected(aws_formats.validate_secret_arn, arn, "must not start with 'aws' or 'ssm'")


@VALIDATOR_RUNS
@given(user=st.sampled_from(["root", *("0" * k for k in range(1, 33))]), group=st.none() | user_names)
@example(user="00", group=None)
@example(user="0", group=None)
@example(user="root", group="root")
def test_container_user_is_never_root(user: str, group: str | None) -> None:
    # GIVEN root by name or uid 0 (also written '00': the runtime reads it as the number 0)
    value = user if group is None else f"{user}:{group}"
    # WHEN validated THEN it is rejected as root
    assert_rejected(aws_formats.validate_container_user, value, "must not be root")


@VALIDATOR_RUNS
@given(cpu=st.sampled_from(sorted(task_sizes.FARGATE_CPU_MEMORY)), data=st.data())
def test_fargate_table_pairs_are_accepted(cpu: int, data: st.DataObject) -> None:
    # GIVEN a (cpu, memory) pair from AWS's table WHEN validated THEN it is accepted
    memory = data.draw(st.sampled_from(task_sizes.FARGATE_CPU_MEMORY[cpu]))
    task_sizes.validate_fargate_size(cpu, memory)  # raises ValueError when not allowed


# AWS's Fargate task sizes (Linux), written out as the documentation lists them.
AWS_FARGATE_TABLE = {(256, m) for m in (512, 1024, 2048)} | {
    (cpu, gib * 1024)
    for cpu, low, high, step in (
        (512, 1, 4, 1),
        (1024, 2, 8, 1),
        (2048, 4, 16, 1),
        (4096, 8, 30, 1),
        (8192, 16, 60, 4),
        (16384, 32, 120, 8),
    )
    for gib in range(low, high + 1, step)
}
TABLE_CPUS = sorted(task_sizes.FARGATE_CPU_MEMORY)
TABLE_MEMORIES = sorted({m for _, m in AWS_FARGATE_TABLE})
near_cpus = st.builds(
    lambda c, d: c + d, st.sampled_from(TABLE_CPUS), st.sampled_from([0, 0, 0, -1, 1, -256, 256, 512, -128])
) | st.integers(-(2**40), 2**40)
near_memories = st.builds(
    lambda m, d: m + d,
    st.sampled_from(TABLE_MEMORIES),
    st.sampled_from([0, 0, -1, 1, -512, 512, 1024, -1024, 4096]),
) | st.integers(-(2**40), 2**40)


def test_fargate_table_is_aws_table() -> None:
    # GIVEN the table in naming WHEN flattened THEN it is exactly AWS's documented table
    assert {(c, m) for c, ms in task_sizes.FARGATE_CPU_MEMORY.items() for m in ms} == AWS_FARGATE_TABLE


@settings(max_examples=200, deadline=None)
@given(cpu=near_cpus, memory=near_memories)
def test_fargate_pairs_outside_the_table_are_rejected(cpu: int, memory: int) -> None:
    # GIVEN a (cpu, memory) pair near but not in the table
    if (cpu, memory) in AWS_FARGATE_TABLE:
        task_sizes.validate_fargate_size(cpu, memory)
        return
    # WHEN validated THEN ValueError lists the allowed cpus, or the memories for that cpu
    if cpu in task_sizes.FARGATE_CPU_MEMORY:
        allowed = str(list(task_sizes.FARGATE_CPU_MEMORY[cpu]))
        assert_rejected(
            lambda _: task_sizes.validate_fargate_size(cpu, memory), None, f"must be one of {allowed}"
        )
    else:
        assert_rejected(lambda _: task_sizes.validate_fargate_size(cpu, memory), None, str(TABLE_CPUS))


# --- redeploy command ----------------------------------------------------------------------

PLAIN = st.text(alphabet=st.characters(exclude_characters="{}"), max_size=12)
argv_fragments = PLAIN | st.sampled_from(["{cluster}", "{service}", "{region}", "{{", "}}"])
argv_items = st.lists(argv_fragments, max_size=5).map("".join)
redeploy_commands = st.builds(
    lambda first, rest: [first, *rest], argv_items.filter(bool), st.lists(argv_items, max_size=6)
)
PLACEHOLDER_PHRASE = "a redeploy command may only use the placeholders {cluster}, {region}, {service}"


@VALIDATOR_RUNS
@given(argv=redeploy_commands)
def test_redeploy_command_with_known_placeholders_is_accepted(argv: list[str]) -> None:
    # GIVEN an argv whose braces are only {cluster}, {service}, {region}, '{{' or '}}'
    # WHEN validated THEN it is returned as a tuple of the same items
    assert image_strategies.validate_redeploy_command(argv) == tuple(argv)


@st.composite
def redeploy_defects(draw: st.DrawFn) -> list[str]:
    argv = draw(redeploy_commands)
    unknown = draw(
        st.text(ALNUM + "_", max_size=8).filter(lambda f: f not in image_strategies.REDEPLOY_PLACEHOLDERS)
        | st.sampled_from(["cluster.name", "cluster[0]", "0", ""])
    )
    placeholder = draw(st.sampled_from(sorted(image_strategies.REDEPLOY_PLACEHOLDERS)))
    bad = draw(
        st.sampled_from(
            [
                "{" + unknown + "}",  # unknown placeholder
                "{" + placeholder + ":>20}",  # format spec
                "{" + placeholder + "!r}",  # conversion
                "{" + placeholder,  # unbalanced
                placeholder + "}",
                "{",
                "}",
                "{" + placeholder + "!}",
                "{" + placeholder + "[}",
            ]
        )
    )
    i = draw(st.integers(0, len(argv)))
    return [*argv[:i], bad, *argv[i:]] if i else [argv[0] + bad, *argv[1:]]


@VALIDATOR_RUNS
@given(argv=redeploy_defects())
@example(argv=["aws", "{"])
@example(argv=["aws", "}"])
def test_redeploy_command_with_other_braces_is_rejected(argv: list[str]) -> None:
    # GIVEN an argv with an unknown placeholder, a format spec, a conversion or an unbalanced brace
    # WHEN validated THEN ValueError names the allowed placeholders (not Python's format-string jargon)
    assert_rejected(image_strategies.validate_redeploy_command, argv, PLACEHOLDER_PHRASE)


@pytest.mark.parametrize("argv", [[], [""], ["", "ecs"]])
def test_redeploy_command_must_have_a_program(argv: list[str]) -> None:
    # GIVEN no argv or an empty program WHEN validated THEN ValueError says it must be non-empty
    assert_rejected(
        image_strategies.validate_redeploy_command, argv, "a redeploy command must be a non-empty list"
    )


@settings(max_examples=150, deadline=None)
@given(argv=st.lists(st.text(), max_size=5))
def test_redeploy_command_arbitrary_argv_only_ever_raises_value_error(argv: list[str]) -> None:
    # GIVEN any list of strings WHEN validated THEN it is returned as a tuple or ValueError is raised
    try:
        result = image_strategies.validate_redeploy_command(argv)
    except ValueError as exc:
        assert str(exc)
    else:
        assert result == tuple(argv)


# --- secret_looking ----------------------------------------------------------------------------


@VALIDATOR_RUNS
@given(
    before=env_var_names | st.just(""),
    part=st.sampled_from(credentials.SECRET_NAME_PARTS).flatmap(random_case),
    after=st.text(ALNUM + "_", max_size=10),
)
def test_names_containing_a_credential_word_look_secret(before: str, part: str, after: str) -> None:
    # GIVEN a name with PASSWORD, TOKEN, API_KEY ... anywhere, in any case
    # WHEN checked THEN it looks like a credential
    assert credentials.secret_looking(before + part + after)


@VALIDATOR_RUNS
@given(name=st.text(alphabet="BFGHJMQUXZbfghjmquxz0123456789", max_size=30))
def test_names_that_cannot_spell_a_credential_word_do_not_look_secret(name: str) -> None:
    # GIVEN a name built only of letters that appear in none of the credential words
    # WHEN checked THEN it does not look like a credential
    assert not credentials.secret_looking(name)


@settings(max_examples=150, deadline=None)
@given(name=st.text())
def test_secret_looking_never_raises(name: str) -> None:
    # GIVEN any text WHEN checked THEN the answer is a bool, and any ASCII name containing a
    # credential word (compared case-insensitively) looks like a credential
    result = credentials.secret_looking(name)
    assert isinstance(result, bool)
    if name.isascii():
        assert result == any(part.lower() in name.lower() for part in credentials.SECRET_NAME_PARTS)


# --- target_group_name -------------------------------------------------------------------------

name_triples = st.tuples(slugs(16), slugs(12), slugs(28))


def elb_name_ok(name: str) -> bool:
    return (
        1 <= len(name) <= 32
        and all(c in ALNUM + "-" for c in name)
        and not name.startswith("-")
        and not name.endswith("-")
    )


@VALIDATOR_RUNS
@given(triple=name_triples)
def test_target_group_name_is_short_valid_and_deterministic(triple: tuple[str, str, str]) -> None:
    # GIVEN valid project, environment and service names
    # WHEN the target group name is derived twice
    first = names.target_group_name(*triple)
    # THEN it is the same, at most 32 letters, digits and hyphens, not starting or ending with a
    # hyphen, and starts with the project's name (readable in the console)
    assert names.target_group_name(*triple) == first
    assert elb_name_ok(first), first
    assert first.startswith(triple[0])


def splits_into_names(name: str) -> Iterator[tuple[str, str, str]]:
    """Every way to read ``name`` as '<project>-<environment>-<service>' of valid names."""
    hyphens = [i for i, c in enumerate(name) if c == "-"]
    for a in hyphens:
        for b in hyphens:
            if b <= a:
                continue
            triple = (name[:a], name[a + 1 : b], name[b + 1 :])
            try:
                aws_formats.validate_project_name(triple[0])
                aws_formats.validate_environment_name(triple[1])
                aws_formats.validate_service_name(triple[2])
            except ValueError:
                continue
            yield triple


@st.composite
def triple_pairs(draw: st.DrawFn) -> tuple[tuple[str, str, str], tuple[str, str, str]]:
    """Two triples; the second often reads the first's joined or derived name differently."""
    first = draw(name_triples)
    readings = [
        *splits_into_names("-".join(first)),
        *splits_into_names(names.target_group_name(*first)),
    ]
    others = [t for t in readings if t != first]
    use_reading = draw(st.booleans())
    if others and use_reading:
        return first, draw(st.sampled_from(others))
    return first, draw(name_triples)


@VALIDATOR_RUNS
@given(pair=triple_pairs())
@example(pair=(("shop", "prod", "eu-api"), ("shop", "prod-eu", "api")))
def test_distinct_names_give_distinct_target_group_names(
    pair: tuple[tuple[str, str, str], tuple[str, str, str]],
) -> None:
    # GIVEN two different (project, environment, service) triples, e.g. environments 'prod' and
    # 'prod-eu' of one project in one account and region
    first, second = pair
    if first == second:
        return
    # WHEN their target group names are derived THEN they differ (AWS needs unique names per region)
    assert names.target_group_name(*first) != names.target_group_name(*second)


# --- the settings loader ---------------------------------------------------------------------------

ECR_REPOSITORY = "123456789012.dkr.ecr.us-east-1.amazonaws.com/app"
KMS_EU = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def minimal_config() -> dict[str, Any]:
    return {
        "project": {"name": "demo"},
        "services": {"api": {"repository": ECR_REPOSITORY}},
        "environments": {
            "dev": {
                "region": "us-east-1",
                "network": {"use_default_vpc": True},
                "state": {"backend": "local"},
            }
        },
    }


DD_API_KEY = "arn:aws:ssm:us-east-1:123456789012:parameter/app/datadog-api-key"


def full_containers() -> dict[str, Any]:
    """Sidecars of api with every container field set somewhere: a pinned agent, a sidecar from
    SSM and a FireLens router. Their cpu and memory fit in api's task."""
    return {
        "datadog": {
            "image": "public.ecr.aws/datadog/agent:7.60.0",
            "container_port": 8126,
            "port_mappings": [{"container_port": 8125, "protocol": "udp"}],
            "environment": {"DD_SITE": "datadoghq.com"},
            "secrets": {"DD_API_KEY": DD_API_KEY},
            "command": ["agent", "run"],
            "entry_point": ["/bin/entrypoint.sh"],
            "health_check": {
                "command": ["CMD-SHELL", "agent health"],
                "interval": 10,
                "timeout": 5,
                "retries": 3,
                "start_period": 15,
            },
            "essential": True,
            "depends_on": {"log-router": "START"},
            "cpu": 128,
            "memory": 256,
            "memory_reservation": 128,
            "log_driver": "awsfirelens",
            "log_options": {"Name": "datadog"},
            "log_secret_options": {"apikey": DD_API_KEY},
            "user": "dd-agent",
            "readonly_root_filesystem": True,
            "writable_paths": ["/opt/datadog-agent/run"],
        },
        "proxy": {
            "repository": ECR_REPOSITORY + "-proxy",
            "image_tag_parameter": "/app/dev/proxy-tag",
            "essential": False,
            "cpu": 64,
            "memory_reservation": 128,
        },
        "log-router": {
            "image": "public.ecr.aws/aws-observability/aws-for-fluent-bit:2.32.4",
            "firelens": {"type": "fluentbit", "options": {"enable-ecs-log-metadata": "true"}},
            "readonly_root_filesystem": False,
            "cpu": 64,
            "memory": 128,
        },
    }


def full_config() -> dict[str, Any]:
    """Every field set to a valid value somewhere."""
    kms = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    return {
        "project": {"name": "demo"},
        "terraform": {"null_provider_version": ">= 2.1.2, < 4.0.0"},
        "services": {
            "api": {
                "repository": ECR_REPOSITORY,
                "cpu": 512,
                "memory": 1024,
                "desired_count": 2,
                "container_port": 8080,
                "environment": {"LOG_LEVEL": "info"},
                "command": ["serve", "--port", "8080"],
                "entry_point": ["/bin/app"],
                "health_check": {
                    "command": ["CMD-SHELL", "curl -f http://localhost:8080/health"],
                    "interval": 30,
                    "timeout": 5,
                    "retries": 3,
                    "start_period": 10,
                },
                "image_tag_parameter": "/app/dev/tag",
                "image_strategy": "ssm-tag",
                "secrets": {
                    "DB_PASSWORD": "arn:aws:ssm:us-east-1:123456789012:parameter/app/db-password",
                    "API_TOKEN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/token-AbCdEf",
                },
                "secrets_kms_key_arn": kms,
                "readonly_root_filesystem": True,
                "writable_paths": ["/tmp", "/var/cache/app"],
                "user": "1000:1000",
                # the app container's further fields: it logs through the router, after the agent
                "port_mappings": [{"container_port": 9090, "protocol": "udp"}],
                "depends_on": {"log-router": "START", "datadog": "HEALTHY"},
                "log_driver": "awsfirelens",
                "log_options": {"Name": "datadog", "Host": "http-intake.logs.datadoghq.com"},
                "log_secret_options": {"apikey": DD_API_KEY},
                "containers": full_containers(),
                "deployment": {
                    "minimum_healthy_percent": 50,
                    "maximum_percent": 200,
                    "circuit_breaker": True,
                    "rollback": True,
                    "alarm_names": ["api-5xx"],
                },
                "load_balancer": {
                    "container": "api",
                    "path_patterns": ["/api/*"],
                    "host_headers": ["api.example.com"],
                    "priority": 10,
                    "health_check_path": "/health",
                    "health_check_grace_period_seconds": 30,
                    "deregistration_delay_seconds": 10,
                },
                "autoscaling": {
                    "min_capacity": 1,
                    "max_capacity": 4,
                    "cpu_target_percent": 60,
                    "memory_target_percent": 70,
                    "scale_in_cooldown_seconds": 300,
                    "scale_out_cooldown_seconds": 60,
                },
            },
            "worker": {
                "repository": ECR_REPOSITORY,
                "image_strategy": "digest",
                "image_tag": "1.2.3",
                "readonly_root_filesystem": False,
                # from SSM under 'digest': resolved through ECR like the app's image
                "containers": {
                    "helper": {"repository": ECR_REPOSITORY, "image_tag_parameter": "/app/worker/helper-tag"}
                },
            },
        },
        "environments": {
            "dev": {
                "region": "us-east-1",
                "emulator_endpoint": "http://127.0.0.1:4566",
                "network": {
                    "subnet_ids": ["subnet-0123456789abcdef0"],
                    "vpc_id": "vpc-0123456789abcdef0",
                    "security_group_ids": ["sg-0123456789abcdef0"],
                    "assign_public_ip": False,
                },
                "state": {
                    "backend": "s3",
                    "bucket": "tf-state-bucket",
                    "key": "demo/dev.tfstate",
                    "region": "us-east-1",
                    "encrypt": True,
                    "use_lockfile": True,
                    "lock_timeout_seconds": 300,
                },
                "log_retention_days": 14,
                "redeploy_command": [
                    "aws",
                    "ecs",
                    "update-service",
                    "--cluster",
                    "{cluster}",
                    "--region",
                    "{region}",
                ],
                "stack_per_service": False,
                "wait_for_steady_state": True,
                "log_kms_key_arn": kms,
                "load_balancer": {
                    "listener_arn": "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/demo/"
                    "0123456789abcdef/0123456789abcdef",
                    "security_group_id": "sg-0123456789abcdef0",
                },
                "services": {
                    "api": {
                        "desired_count": 3,
                        "memory": 2048,
                        "environment": {"FEATURE_X": "on"},
                        "containers": {"datadog": {"cpu": 64, "environment": {"DD_ENV": "dev"}}},
                    },
                },
            },
            "prod": {
                "region": "eu-west-1",
                # a KMS key is used only in its region: prod's own
                "services": {"api": {"secrets_kms_key_arn": KMS_EU}},
                "network": {"use_default_vpc": True, "assign_public_ip": True},
                "state": {"backend": "local", "path": "prod.tfstate", "lock_timeout_seconds": 0},
                "load_balancer": {
                    "create": True,
                    "internal": False,
                    "certificate_arn": "arn:aws:acm:eu-west-1:123456789012:certificate/"
                    "12345678-1234-1234-1234-123456789012",
                    "ingress_cidr_blocks": ["10.0.0.0/8"],
                    "deletion_protection": False,
                    "access_logs_bucket": "alb-logs-bucket",
                    "web_acl_arn": "arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/demo/"
                    "12345678-1234-1234-1234-123456789012",
                },
            },
        },
    }


Path = tuple[str | int, ...]


def dotted(path: Path) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def leaves(node: Any, path: Path = ()) -> Iterator[Path]:
    """Paths of every scalar, every list and every list item."""
    if isinstance(node, Mapping):
        for key, value in node.items():
            yield from leaves(value, (*path, key))
    elif isinstance(node, list):
        yield path
        for i, _ in enumerate(node):
            yield (*path, i)
    else:
        yield path


def get(node: Any, path: Path) -> Any:
    for part in path:
        node = node[part]
    return node


def replaced(config: dict[str, Any], path: Path, value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(config)
    get(changed, path[:-1])[path[-1]] = value
    return changed


FULL_LEAVES = sorted(set(leaves(full_config())), key=dotted)
MINIMAL_LEAVES = sorted(set(leaves(minimal_config())), key=dotted)


@dataclass(frozen=True)
class Big:
    """Stands for the int sign * 2**bits, which ``materialize`` puts in its place.

    Ints of more than 4300 decimal digits cannot be repr()'d (Python's limit), so Hypothesis
    could not print a failing example holding one; a TOML hex literal has no such limit.
    """

    sign: int
    bits: int


def materialize(value: Any) -> Any:
    if isinstance(value, Big):
        return value.sign * 2**value.bits
    if isinstance(value, list):
        return [materialize(v) for v in value]
    if isinstance(value, dict):
        return {k: materialize(v) for k, v in value.items()}
    return value


# 2**14300 and more have over 4300 decimal digits.
big_ints = st.builds(Big, st.sampled_from([1, -1]), st.sampled_from([63, 64, 65, 200, 14300, 16000]))

# Values the loader may meet: TOML (and JSON) values, including ints far beyond 64 bits (TOML
# hex literals have no digit limit) and strings with newlines.
small_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from(["", " ", "\n", "a\nb", "é", "\x00", "us-east-1\n", "{", "root", "00"])
)


def json_like(leaf: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.recursive(
        leaf,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
        max_leaves=8,
    )


json_values = json_like(small_scalars | big_ints)
# without ints past 64 bits, for tests about something else than how values are shown
small_json_values = json_like(small_scalars)


@contextlib.contextmanager
def int_repr_noise_ignored() -> Iterator[None]:
    """pydantic-core repr()s a discriminator tag for its message and, when that fails (an int
    past 4300 digits), reports it through sys.unraisablehook instead of raising; pytest's
    hook then fails to repr the same int. That noise is not the loader's outcome: drop it."""
    previous = sys.unraisablehook

    def hook(args: Any) -> None:
        if not (
            isinstance(args.exc_value, ValueError) and "integer string conversion" in str(args.exc_value)
        ):
            previous(args)

    sys.unraisablehook = hook
    try:
        yield
    finally:
        sys.unraisablehook = previous


def load(raw: Mapping[str, Any]) -> ConfigError | None:
    """Load; on ConfigError check every problem is one line naming the file, and return it."""
    try:
        with int_repr_noise_ignored():
            settings_from_dict(raw, file=FILE)
    except ConfigError as exc:
        assert exc.problems, "ConfigError without problems"
        for line in exc.problems:
            assert isinstance(line, str)
            assert line.startswith(f"{FILE}: "), line
            assert "\n" not in line and len(line.splitlines()) == 1, f"not one line: {line!r}"
        return exc
    return None


def test_the_base_configurations_load() -> None:
    # GIVEN the minimal and the full configuration WHEN loaded THEN both are valid
    assert load(minimal_config()) is None
    assert load(full_config()) is None


@LOADER_RUNS
@given(path=st.sampled_from(FULL_LEAVES + MINIMAL_LEAVES), value=json_values, minimal=st.booleans())
@example(path=("services", "api", "desired_count"), value=Big(1, 16000), minimal=True)
@example(path=("services", "api", "cpu"), value=Big(-1, 16000), minimal=True)
@example(path=("environments", "dev", "state", "backend"), value="a\nb", minimal=True)
# Found by a random run: an explicit null cpu on Fargate once reached an assertion (a traceback).
@example(path=("services", "api", "cpu"), value=None, minimal=False)
@example(path=("services", "api", "memory"), value=None, minimal=True)
def test_any_value_in_any_field_loads_or_is_reported(path: Path, value: Any, minimal: bool) -> None:
    # GIVEN a valid configuration with one leaf replaced by any JSON-like value
    config = minimal_config() if minimal else full_config()
    if not _has(config, path):
        config = full_config()
    changed = replaced(config, path, materialize(value))
    # WHEN loaded THEN it loads or raises ConfigError (nothing else) with one-line problems
    load(changed)


def _has(config: Any, path: Path) -> bool:
    try:
        get(config, path)
    except (KeyError, IndexError):
        return False
    return True


# A value of the wrong type for every leaf: a list for scalars, a table for lists, etc.
wrong_types = st.sampled_from([[[None]], {"": [None]}, [{"x": 1.5}]])


@LOADER_RUNS
@given(path=st.sampled_from(FULL_LEAVES), value=wrong_types)
def test_a_wrongly_typed_value_is_reported_at_its_field(path: Path, value: Any) -> None:
    # GIVEN the full configuration with one leaf of the wrong type
    changed = replaced(full_config(), path, value)
    # WHEN loaded
    error = load(changed)
    # THEN a problem names that field's dotted path (the state table for its `backend` tag)
    assert error is not None
    where = dotted(path[:-1] if path[-1] == "backend" else path)
    assert any(line.startswith(f"{FILE}: {where}") for line in error.problems), (where, error.problems)


# Strings governed by a rule of ASCII characters, with the phrase the problem must carry.
RULED_STRINGS: list[tuple[Path, str]] = [
    (("project", "name"), "a project name must be"),
    (("services", "api", "repository"), "a repository must be"),
    (("services", "api", "image_tag_parameter"), "an SSM parameter name must"),
    (("services", "worker", "image_tag"), "an image tag must match"),
    (("services", "api", "secrets", "DB_PASSWORD"), "a secret must be the full ARN"),
    (("services", "api", "secrets", "API_TOKEN"), "a secret must be the full ARN"),
    (("services", "api", "secrets_kms_key_arn"), "a KMS key must be a key ARN"),
    (("services", "api", "user"), "a container user must be"),
    (("services", "api", "writable_paths", 1), "a container path must be absolute"),
    (("services", "api", "load_balancer", "path_patterns", 0), "a path pattern must start with '/'"),
    (("services", "api", "load_balancer", "host_headers", 0), "a host header must be"),
    (("services", "api", "load_balancer", "health_check_path"), "a path pattern must start with '/'"),
    (("environments", "dev", "region"), "a region must look like"),
    (("environments", "dev", "log_kms_key_arn"), "a KMS key must be a key ARN"),
    (("environments", "dev", "load_balancer", "listener_arn"), "a listener must be an ALB listener ARN"),
    (("environments", "dev", "load_balancer", "security_group_id"), "pattern"),
    (("environments", "dev", "network", "vpc_id"), "pattern"),
    (("environments", "dev", "network", "subnet_ids", 0), "pattern"),
    (("environments", "dev", "network", "security_group_ids", 0), "pattern"),
    (("environments", "dev", "state", "bucket"), "an S3 bucket name must"),
    (("environments", "dev", "state", "region"), "a region must look like"),
    (("environments", "prod", "load_balancer", "certificate_arn"), "pattern"),
    (("environments", "prod", "load_balancer", "ingress_cidr_blocks", 0), "pattern"),
    (("environments", "prod", "load_balancer", "access_logs_bucket"), "an S3 bucket name must"),
    (("environments", "prod", "load_balancer", "web_acl_arn"), "pattern"),
    (("services", "api", "load_balancer", "container"), "a container name must be"),
    (("services", "api", "log_secret_options", "apikey"), "a secret must be the full ARN"),
    (("services", "api", "containers", "datadog", "image"), "an image reference must be"),
    (("services", "api", "containers", "datadog", "secrets", "DD_API_KEY"), "a secret must be the full ARN"),
    (
        ("services", "api", "containers", "datadog", "log_secret_options", "apikey"),
        "a secret must be the full ARN",
    ),
    (("services", "api", "containers", "datadog", "user"), "a container user must be"),
    (("services", "api", "containers", "datadog", "writable_paths", 0), "a container path must be absolute"),
    (("services", "api", "containers", "proxy", "repository"), "a repository must be"),
    (("services", "api", "containers", "proxy", "image_tag_parameter"), "an SSM parameter name must"),
    (("services", "worker", "containers", "helper", "image_tag_parameter"), "an SSM parameter name must"),
]


@LOADER_RUNS
@given(data=st.data(), field=st.sampled_from(RULED_STRINGS))
@example(data=None, field=(("environments", "dev", "region"), "us-east-\uff11"))
@example(
    data=None, field=(("environments", "prod", "load_balancer", "ingress_cidr_blocks", 0), "1\uff10.0.0.0/8")
)
def test_an_invalid_string_is_reported_with_field_value_and_rule(data: Any, field: Any) -> None:
    # GIVEN the full configuration with one ruled string given a foreign character (or, in the
    # explicit examples, a given invalid value)
    if data is None:
        path, value = field
        phrase = next(p for f, p in RULED_STRINGS if f == path)
    else:
        path, phrase = field
        value = data.draw(with_foreign_character(st.just(get(full_config(), path))), label="value")
    # WHEN loaded
    error = load(replaced(full_config(), path, value))
    # THEN one problem reads '<file>: <field> = <value>: <what is allowed>', but for a value
    # written in a table of secrets, which may be the secret itself: it is never shown
    assert error is not None, f"{dotted(path)} = {value!r} was accepted"
    hidden = any(part in ("secrets", "log_secret_options") for part in path)
    prefix = f"{FILE}: {dotted(path)}: " if hidden else f"{FILE}: {dotted(path)} = {value!r}: "
    assert any(line.startswith(prefix) and phrase in line for line in error.problems), error.problems
    if hidden:
        assert all(value not in line and repr(value) not in line for line in error.problems), error.problems


@LOADER_RUNS
@given(value=with_foreign_character(st.just("http://127.0.0.1:4566"), alphabet=WHITESPACE + ASCII_CONTROLS))
@example(value="http://127.0.0.1:4566\n")
def test_an_emulator_endpoint_with_whitespace_or_control_characters_is_reported(value: str) -> None:
    # GIVEN an endpoint URL with whitespace or a control character anywhere
    error = load(replaced(full_config(), ("environments", "dev", "emulator_endpoint"), value))
    # WHEN loaded THEN the field is reported (URL parsing silently drops some of them)
    assert error is not None, f"{value!r} was accepted"
    assert any(
        line.startswith(f"{FILE}: environments.dev.emulator_endpoint = {value!r}: an endpoint must be")
        for line in error.problems
    ), error.problems


# Dictionaries whose keys the user chooses: replacing a key must never crash.
FREE_KEYS: list[Path] = [
    ("services", "api"),
    ("services", "worker"),
    ("environments", "dev"),
    ("environments", "prod"),
    ("services", "api", "environment", "LOG_LEVEL"),
    ("services", "api", "secrets", "DB_PASSWORD"),
    ("environments", "dev", "services", "api"),
    ("environments", "dev", "services", "api", "environment", "FEATURE_X"),
    ("services", "api", "containers", "datadog"),
    ("services", "api", "containers", "datadog", "environment", "DD_SITE"),
    ("services", "api", "depends_on", "datadog"),
    ("environments", "dev", "services", "api", "containers", "datadog"),
]


@LOADER_RUNS
@given(path=st.sampled_from(FREE_KEYS), key=st.text(max_size=12) | st.sampled_from(["a\nb", "\n", "API_KEY"]))
@example(path=("services", "api", "environment", "LOG_LEVEL"), key="A\nB")
@example(path=("services", "api"), key="a\nb")
def test_any_key_in_a_user_named_table_loads_or_is_reported(path: Path, key: str) -> None:
    # GIVEN the full configuration with a user-chosen name (service, environment, variable) renamed
    config = full_config()
    table = get(config, path[:-1])
    table[key] = table.pop(path[-1])
    # WHEN loaded THEN it loads or raises ConfigError of one-line problems
    error = load(config)
    # and a name its rule rejects is reported under its table
    checks: dict[Path, Callable[[str], str]] = {
        ("services",): aws_formats.validate_service_name,
        ("environments",): aws_formats.validate_environment_name,
        ("services", "api", "environment"): aws_formats.validate_env_var_name,
        ("services", "api", "secrets"): aws_formats.validate_env_var_name,
        ("environments", "dev", "services", "api", "environment"): aws_formats.validate_env_var_name,
        ("services", "api", "containers"): aws_formats.validate_container_name,
        ("services", "api", "containers", "datadog", "environment"): aws_formats.validate_env_var_name,
        ("services", "api", "depends_on"): aws_formats.validate_container_name,
    }
    check = checks.get(path[:-1])
    if check is not None:
        try:
            check(key)
        except ValueError:
            assert error is not None
            assert any(line.startswith(f"{FILE}: {dotted(path[:-1])}.") for line in error.problems)


def fields(model: Any) -> frozenset[str]:
    return frozenset(model.model_fields)


# Every table with a fixed set of fields, with the fields it allows and how an unknown one is called.
ENVIRONMENT_FIELDS = frozenset(
    {
        "region",
        "emulator_endpoint",
        "network",
        "state",
        "log_retention_days",
        "redeploy_command",
        "stack_per_service",
        "wait_for_steady_state",
        "log_kms_key_arn",
        "load_balancer",
        "services",
        "aws",
        "tags",
    }
)
# Every field of a service (issue 13), and enabled.
OVERRIDABLE = frozenset(
    {
        "enabled",
        "tags",
        "container_port",
        "repository",
        "cpu",
        "memory",
        "desired_count",
        "environment",
        "image_tag_parameter",
        "image_strategy",
        "image_tag",
        "secrets",
        "secrets_kms_key_arn",
        "deployment",
        "load_balancer",
        "autoscaling",
        "pre_deploy",
        "schedule",
        # the app container's fields and the other containers
        "command",
        "entry_point",
        "health_check",
        "user",
        "readonly_root_filesystem",
        "writable_paths",
        "port_mappings",
        "depends_on",
        "log_driver",
        "log_options",
        "log_secret_options",
        "containers",
    }
)
# A [services.<svc>.containers.<name>] table: ContainerProps' fields but the name (the table's
# key) and the image (a value the loader builds), plus the keys that say where the image is from.
CONTAINER_FIELDS = (fields(ContainerProps) - {"name", "image"}) | {
    "image",
    "repository",
    "image_tag_parameter",
}
# Every container table of the full configuration (a service's and an environment's override).
CONTAINER_TABLES: list[Path] = [
    ("services", "api", "containers", "datadog"),
    ("services", "api", "containers", "proxy"),
    ("services", "api", "containers", "log-router"),
    ("services", "worker", "containers", "helper"),
    ("environments", "dev", "services", "api", "containers", "datadog"),
]
UNKNOWN = "is not a known"
FIXED_TABLES: list[tuple[Path, frozenset[str], str]] = [
    ((), frozenset({"project", "terraform", "services", "environments"}), UNKNOWN),
    (("project",), frozenset({"name", "tags"}), UNKNOWN),
    (("terraform",), frozenset({"null_provider_version"}), UNKNOWN),
    (("services", "api"), fields(ServiceFile) - {"name"} | {"enabled"}, UNKNOWN),
    (("services", "worker"), fields(ServiceFile) - {"name"} | {"enabled"}, UNKNOWN),
    (("services", "api", "health_check"), fields(HealthCheckSettings), UNKNOWN),
    (("services", "api", "deployment"), fields(DeploymentSettings), UNKNOWN),
    (("services", "api", "load_balancer"), fields(ServiceLoadBalancerSettings), UNKNOWN),
    (("services", "api", "autoscaling"), fields(AutoscalingSettings), UNKNOWN),
    (("environments", "dev"), ENVIRONMENT_FIELDS, UNKNOWN),
    (("environments", "prod"), ENVIRONMENT_FIELDS, UNKNOWN),
    (("environments", "dev", "network"), fields(NetworkSettings), UNKNOWN),
    (("environments", "dev", "state"), fields(S3State), UNKNOWN),
    (("environments", "prod", "state"), fields(LocalState), UNKNOWN),
    (("environments", "dev", "load_balancer"), fields(LoadBalancerSettings), UNKNOWN),
    (("environments", "prod", "load_balancer"), fields(LoadBalancerSettings), UNKNOWN),
    (("environments", "dev", "services", "api"), OVERRIDABLE, "cannot be overridden per environment"),
    *((table, CONTAINER_FIELDS, UNKNOWN) for table in CONTAINER_TABLES),
    (("services", "api", "port_mappings", 0), fields(PortMapping), UNKNOWN),
    (("services", "api", "containers", "datadog", "port_mappings", 0), fields(PortMapping), UNKNOWN),
    (("services", "api", "containers", "datadog", "health_check"), fields(HealthCheckSettings), UNKNOWN),
    (("services", "api", "containers", "log-router", "firelens"), fields(Firelens), UNKNOWN),
]


def key_forms(key: str) -> tuple[str, ...]:
    """How a key may appear in a problem: as written, escaped or quoted."""
    escaped = "".join(c if c.isprintable() else repr(c)[1:-1] for c in key)
    return (key, escaped, repr(key), repr(key)[1:-1], json.dumps(key), json.dumps(key, ensure_ascii=False))


@LOADER_RUNS
@given(table=st.sampled_from(FIXED_TABLES), key=st.text(max_size=12), value=small_json_values)
@example(table=FIXED_TABLES[0], key="x\ny", value=1)
@example(table=FIXED_TABLES[3], key="a\nb", value=1)
@example(table=FIXED_TABLES[3], key="[key]", value=1)
def test_unknown_keys_anywhere_are_reported_as_unknown_fields(
    table: tuple[Path, frozenset[str], str], key: str, value: Any
) -> None:
    # GIVEN the full configuration with an unknown key added to a table of fixed fields
    path, known, phrase = table
    if key in known:
        return
    config = full_config()
    get(config, path)[key] = value
    # WHEN loaded
    error = load(config)
    # THEN a one-line problem under that table names the key and calls it unknown
    assert error is not None, f"{dotted((*path, key))} was accepted"
    prefix = f"{FILE}: {dotted(path)}." if path else f"{FILE}: "
    assert any(
        line.startswith(prefix) and phrase in line and any(form in line for form in key_forms(key))
        for line in error.problems
    ), error.problems


@LOADER_RUNS
@given(
    env=slugs(12) | st.just("state"),
    service=slugs(28) | st.just("state"),
    key=st.sampled_from(["local", "s3", "[key]", "state"]) | st.text(max_size=8),
    in_service=st.booleans(),
)
@example(env="state", service="api", key="local", in_service=False)
@example(env="dev", service="state", key="s3", in_service=True)
def test_unknown_keys_are_reported_whatever_the_user_named_tables(
    env: str, service: str, key: str, in_service: bool
) -> None:
    # GIVEN a minimal configuration whose environment and service have any valid names (also
    # 'state', the name of a field) and an unknown key in one of them
    config = minimal_config()
    config["services"] = {service: config["services"]["api"]}
    config["environments"] = {env: config["environments"]["dev"]}
    table = ("services", service) if in_service else ("environments", env)
    known = fields(ServiceFile) - {"name"} if in_service else ENVIRONMENT_FIELDS
    if key in known:
        return
    get(config, table)[key] = 1
    # WHEN loaded
    error = load(config)
    # THEN the problem names '<table>.<key>', not the table alone or another path
    assert error is not None
    prefix = f"{FILE}: {dotted(table)}."
    assert any(
        line.startswith(prefix) and UNKNOWN in line and any(form in line for form in key_forms(key))
        for line in error.problems
    ), error.problems


# --- containers: any value in any field, any name, unknown keys --------------------------------------


@LOADER_RUNS
@given(
    table=st.sampled_from(CONTAINER_TABLES),
    field=st.sampled_from(sorted(CONTAINER_FIELDS | {"name"})),
    value=json_values,
)
@example(table=CONTAINER_TABLES[0], field="cpu", value=Big(1, 16000))
@example(table=CONTAINER_TABLES[0], field="image", value=Big(-1, 16000))
@example(table=CONTAINER_TABLES[1], field="repository", value=Big(1, 16000))
@example(table=CONTAINER_TABLES[2], field="firelens", value=None)
@example(table=CONTAINER_TABLES[4], field="memory", value=Big(1, 14300))
@example(table=CONTAINER_TABLES[0], field="depends_on", value={"": "START"})
def test_any_value_in_any_container_field_loads_or_is_reported(table: Path, field: str, value: Any) -> None:
    # GIVEN the full configuration with one field of a container table (set or not, a table
    # field such as health_check or firelens as a whole) given any JSON-like value
    config = full_config()
    get(config, table)[field] = materialize(value)
    # WHEN loaded THEN it loads or raises ConfigError (nothing else) with one-line problems
    load(config)


CONTAINER_NODES: list[Path] = [
    ("services", "api", "containers"),
    ("services", "worker", "containers"),
    ("environments", "dev", "services", "api", "containers"),
    *CONTAINER_TABLES,
]


@LOADER_RUNS
@given(node=st.sampled_from(CONTAINER_NODES), value=json_values)
@example(node=CONTAINER_NODES[0], value={"api": {}})
@example(node=CONTAINER_NODES[3], value=[])
def test_any_value_for_a_containers_table_loads_or_is_reported(node: Path, value: Any) -> None:
    # GIVEN the full configuration with `containers` or one container table replaced by any value
    # WHEN loaded THEN it loads or raises ConfigError of one-line problems
    load(replaced(full_config(), node, materialize(value)))


container_names = ecs_names | st.sampled_from(
    ["state", "image", "name", "containers", "local", "s3", "api-v2"]
)


@LOADER_RUNS
@given(
    name=container_names.filter(lambda n: n != "api"),
    key=st.sampled_from(["colour", "[key]", "state", "Name", "images"]) | st.text(max_size=8),
    in_override=st.booleans(),
)
@example(name="image", key="colour", in_override=False)
@example(name="name", key="[key]", in_override=True)
def test_unknown_keys_are_reported_whatever_the_user_named_containers(
    name: str, key: str, in_override: bool
) -> None:
    # GIVEN a minimal configuration with a sidecar of any valid name (also names of fields) and an
    # unknown key in its table, or in an environment's override of it
    if key in CONTAINER_FIELDS:
        return
    config = minimal_config()
    config["services"]["api"]["containers"] = {name: {"image": "busybox:1.36"}}
    if in_override:
        table: Path = ("environments", "dev", "services", "api", "containers", name)
        config["environments"]["dev"]["services"] = {"api": {"containers": {name: {key: 1}}}}
    else:
        table = ("services", "api", "containers", name)
        config["services"]["api"]["containers"][name][key] = 1
    # WHEN loaded
    error = load(config)
    # THEN the problem names '<table>.<key>' and calls the key unknown
    assert error is not None
    prefix = f"{FILE}: {dotted(table)}."
    assert any(
        line.startswith(prefix) and UNKNOWN in line and any(form in line for form in key_forms(key))
        for line in error.problems
    ), error.problems


def test_a_name_field_in_a_service_table_is_reported() -> None:
    # GIVEN a service table with `name` (not a field of the file: the table's key is the name)
    config = minimal_config()
    config["services"]["api"]["name"] = "web"
    # WHEN loaded THEN it is reported as unknown rather than silently ignored
    error = load(config)
    assert error is not None, "services.api.name = 'web' was silently ignored"
    assert any(line.startswith(f"{FILE}: services.api.name") and UNKNOWN in line for line in error.problems)


# --- the Fargate table through the loader ---------------------------------------------------------

ALL_PAIRS = sorted(AWS_FARGATE_TABLE)


@pytest.mark.parametrize("override", [False, True], ids=["service", "environment-override"])
def test_every_fargate_pair_loads(override: bool) -> None:
    # GIVEN each (cpu, memory) pair of AWS's table, in the service or in an environment override
    for cpu, memory in ALL_PAIRS:
        config = minimal_config()
        target = config["services"]["api"]
        if override:
            target = config["environments"]["dev"].setdefault("services", {}).setdefault("api", {})
        target.update(cpu=cpu, memory=memory)
        # WHEN loaded THEN the service has that size
        assert load(config) is None, (cpu, memory)
        loaded = settings_from_dict(config, file=FILE)
        service = loaded.environments["dev"].service("api")
        assert (service.task.cpu, service.task.memory) == (cpu, memory)


@LOADER_RUNS
@given(cpu=near_cpus, memory=near_memories, memory_in_override=st.booleans())
def test_fargate_pairs_outside_the_table_are_reported(
    cpu: int, memory: int, memory_in_override: bool
) -> None:
    # GIVEN a service whose (cpu, memory) is near but not in AWS's table, memory possibly
    # set by the environment
    config = minimal_config()
    config["services"]["api"]["cpu"] = cpu
    if memory_in_override:
        config["environments"]["dev"]["services"] = {"api": {"memory": memory}}
    else:
        config["services"]["api"]["memory"] = memory
    # WHEN loaded
    error = load(config)
    if (cpu, memory) in AWS_FARGATE_TABLE:
        assert error is None
        return
    # THEN the problem names cpu (with the allowed cpus) or memory (with the allowed memories)
    assert error is not None
    if cpu not in task_sizes.FARGATE_CPU_MEMORY:
        expected = f"{FILE}: services.api.cpu = {cpu!r}: Fargate cpu must be one of {TABLE_CPUS}"
    else:
        where = "environments.dev.services.api" if memory_in_override else "services.api"
        allowed = list(task_sizes.FARGATE_CPU_MEMORY[cpu])
        expected = (
            f"{FILE}: {where}.memory = {memory!r}: Fargate memory for cpu {cpu} must be one of {allowed}"
        )
    assert any(line.startswith(expected) for line in error.problems), (expected, error.problems)


# --- AWS's limits: regions, ARNs in the environment's region, network, listener rules, tasks ------


def test_the_region_list_is_aws_list() -> None:
    # GIVEN the regions in aws_formats WHEN compared with AWS's (commercial, China, GovCloud)
    # THEN they are the same, each in its partition
    assert dict(aws_regions.REGIONS) == PARTITION_OF


@VALIDATOR_RUNS
@given(region=unknown_regions)
def test_a_well_formed_region_aws_does_not_have_is_rejected(region: str) -> None:
    # GIVEN a name shaped like a region that is none of AWS's WHEN validated THEN it is rejected
    assert_rejected(aws_regions.validate_region, region, "one of AWS's regions")


@VALIDATOR_RUNS
@given(data=st.data(), key_region=regions, partition=partitions, account=accounts, key=kms_key_ids)
def test_an_arn_is_accepted_only_in_the_environments_region_and_partition(
    data: st.DataObject, key_region: str, partition: str, account: str, key: str
) -> None:
    # GIVEN a KMS key ARN and an environment's region (often the key's)
    env_region = data.draw(st.just(key_region) | regions, label="environment region")
    arn = f"arn:{partition}:kms:{key_region}:{account}:key/{key}"
    # WHEN checked against the environment's region
    # THEN it is accepted exactly when region and partition are the environment's
    if key_region == env_region and partition == PARTITION_OF[env_region]:
        assert aws_regions.validate_arn_in_region(arn, env_region) == arn
    else:
        assert_rejected(
            lambda value: aws_regions.validate_arn_in_region(value, env_region),
            arn,
            f"the environment's region ({env_region}) and partition ({PARTITION_OF[env_region]})",
        )


@LOADER_RUNS
@given(groups=st.integers(0, 8), subnets=st.integers(1, 20))
@example(groups=4, subnets=16)
@example(groups=5, subnets=17)
def test_security_groups_and_subnets_load_within_ecs_limits(groups: int, subnets: int) -> None:
    # GIVEN an environment listing some security groups (each service adds its own) and subnets
    config = full_config()
    network = config["environments"]["dev"]["network"]
    network["security_group_ids"] = [f"sg-{i:017x}" for i in range(groups)]
    network["subnet_ids"] = [f"subnet-{i:017x}" for i in range(subnets)]
    # WHEN loaded
    error = load(config)
    # THEN it loads exactly when ECS's limits per service hold (5 groups with the own, 16 subnets)
    expected = []
    if groups + 1 > aws_formats.MAX_SERVICE_SECURITY_GROUPS:
        expected.append(("security_group_ids", "at most 4 security groups"))
    if subnets > aws_formats.MAX_SERVICE_SUBNETS:
        expected.append(("subnet_ids", "at most 16 subnets"))
    if not expected:
        assert error is None
        return
    assert error is not None
    for field, phrase in expected:
        prefix = f"{FILE}: environments.dev.network.{field} = ["
        assert any(line.startswith(prefix) and phrase in line for line in error.problems), error.problems


rule_path_patterns = st.sampled_from(["/a", "/b/*", "/c?", "/*/d/*", "/e"]) | path_patterns_of_length(8)
rule_host_headers = st.sampled_from(["a.example.com", "*.example.com", "b?.example.org", "c"])


@VALIDATOR_RUNS
@given(
    patterns=st.lists(rule_path_patterns, max_size=5, unique=True),
    hosts=st.lists(rule_host_headers, max_size=4, unique=True),
)
def test_a_listener_rule_has_at_most_5_condition_values_and_5_wildcards(
    patterns: list[str], hosts: list[str]
) -> None:
    # GIVEN path patterns and host headers for one rule (each list valid on its own)
    values = patterns + hosts
    wildcards = sum(v.count("*") + v.count("?") for v in values)
    if not values:
        return
    # WHEN the rule is built THEN it is accepted exactly within AWS's quotas per rule
    if len(values) <= 5 and wildcards <= 5:
        ListenerRule(priority=1, path_patterns=patterns, host_headers=hosts)
    else:
        phrase = "condition values" if len(values) > 5 else "wildcards"
        with pytest.raises(ValueError, match=f"a listener rule allows at most 5 {phrase}"):
            ListenerRule(priority=1, path_patterns=patterns, host_headers=hosts)


health_check_parts = st.sampled_from(["CMD", "CMD-SHELL", "NONE", "", " ", "curl -f x", "/bin/check", "-f"])


@settings(max_examples=150, deadline=None)
@given(command=st.lists(health_check_parts | st.text(max_size=4), max_size=4))
@example(command=["CMD-SHELL"])
@example(command=["CMD", "", "x"])
@example(command=["NONE"])
def test_a_health_check_command_has_what_its_kind_runs(command: list[str]) -> None:
    # GIVEN any list of strings as a health check command
    kind = command[0] if command else None
    ok = (
        kind in ("CMD", "CMD-SHELL", "NONE")
        and (kind != "CMD-SHELL" or any(part.strip() for part in command[1:]))
        and (kind != "CMD" or (len(command) > 1 and bool(command[1].strip())))
    )
    # WHEN validated THEN CMD needs an executable, CMD-SHELL a command, and nothing else is a kind
    if ok:
        assert aws_formats.validate_health_check_command(command) == command
        assert HealthCheckSettings(command=tuple(command)).command == tuple(command)
    else:
        phrases = ("the first item must be", "'CMD-SHELL' needs", "'CMD' needs", "at least 1 item")
        assert_rejected(aws_formats.validate_health_check_command, command, *phrases)
        with pytest.raises(ValueError):
            HealthCheckSettings(command=tuple(command))


plain_values = st.text(st.characters(codec="utf-8"), max_size=300).filter(
    lambda v: not credentials.holds_password("VALUE", v)
)


@VALIDATOR_RUNS
@given(repository=repositories(), tag=tags, value=plain_values)
def test_the_size_estimate_bounds_the_definitions_for_every_tag_ssm_may_hold(
    repository: str, tag: str, value: str
) -> None:
    # GIVEN a container whose image tag is read from SSM at plan time
    container = ContainerProps(
        name="app",
        image=SsmTag(repository=repository, parameter_name="/app/tag"),
        environment={"VALUE": value},
        writable_paths=("/tmp",),
    )
    estimate = definitions_size((container,), region="us-east-1", log_group_name="/ecs/p/e/app")
    # WHEN its definitions are rendered with any tag SSM may hold
    rendered = container_definition(
        container,
        image=f"{repository}:{tag}",
        log_group="/ecs/p/e/app",
        region="us-east-1",
        volumes={"/tmp": "tmp"},
    )
    size = len(json.dumps([rendered], separators=(",", ":"), ensure_ascii=False).encode())
    # THEN the estimate is never smaller, and exact for the longest tag
    assert size <= estimate
    assert len(tag) < aws_formats.IMAGE_TAG_MAX or size == estimate


@LOADER_RUNS
@given(length=st.integers(64_800, 65_600))
@example(length=65_336)
def test_the_loader_and_the_task_props_agree_on_the_64_kib_limit(length: int) -> None:
    # GIVEN a service whose one environment variable brings its definitions near 64 KiB
    config = minimal_config()
    config["services"]["api"]["environment"] = {"BIG": "x" * length}
    # WHEN loaded, and when the same task is built as props
    error = load(config)
    app = ContainerProps(
        name="api",
        image=SsmTag(repository=ECR_REPOSITORY, parameter_name=names.image_tag_parameter("api", "dev")),
        environment={"BIG": "x" * length},
    )
    try:
        TaskDefinitionProps(
            family="demo-dev-api",
            containers=(app,),
            region="us-east-1",
            log_group_name=names.log_group_name("demo", "dev", "api"),
            execution_role_name="demo-dev-api-exec",
            task_role_name="demo-dev-api-task",
        )
    except ValueError as exc:
        assert "64 KiB" in str(exc)
        props_ok = False
    else:
        props_ok = True
    # THEN both accept or both refuse, the loader at the service
    assert (error is None) == props_ok
    if error is not None:
        assert [line for line in error.problems if "64 KiB" in line] == [
            line for line in error.problems if line.startswith(f"{FILE}: services.api: ")
        ]


STATE_KEYS = ["x/dev.tfstate", "x/dev/api.tfstate", "x/dev", "x/dev/worker.tfstate", "x/prod.tfstate"]


@LOADER_RUNS
@given(
    key_dev=st.sampled_from(STATE_KEYS),
    key_prod=st.sampled_from(STATE_KEYS),
    split_dev=st.booleans(),
    split_prod=st.booleans(),
    same_bucket=st.booleans(),
)
@example(
    key_dev="x/dev.tfstate", key_prod="x/dev/api.tfstate", split_dev=True, split_prod=False, same_bucket=True
)
def test_two_environments_load_only_on_separate_states(
    key_dev: str, key_prod: str, split_dev: bool, split_prod: bool, same_bucket: bool
) -> None:
    # GIVEN two environments of two services on S3 state, each split per service or not
    config = minimal_config()
    config["services"]["worker"] = {"repository": ECR_REPOSITORY}
    dev = config["environments"]["dev"]
    dev["state"] = {"backend": "s3", "bucket": "tf-state", "key": key_dev, "region": "us-east-1"}
    dev["stack_per_service"] = split_dev
    prod = copy.deepcopy(dev)
    prod["state"].update(key=key_prod, bucket="tf-state" if same_bucket else "tf-state-prod")
    prod["stack_per_service"] = split_prod
    config["environments"]["prod"] = prod

    def keys(key: str, split: bool) -> set[str]:
        return {key} | ({names.service_state_key(key, s) for s in ("api", "worker")} if split else set())

    # WHEN loaded
    error = load(config)
    # THEN it loads exactly when no state object is the other environment's too
    if same_bucket and keys(key_dev, split_dev) & keys(key_prod, split_prod):
        assert error is not None
        prefix = f"{FILE}: environments.prod.state.key = {key_prod!r}: "
        assert any(
            line.startswith(prefix) and "is also the state of environments.dev" in line
            for line in error.problems
        ), error.problems
    else:
        assert error is None, error.problems


constraint_versions = st.builds(
    lambda parts, suffix: ".".join(map(str, parts)) + suffix,
    st.lists(st.integers(0, 120), min_size=1, max_size=3),
    st.sampled_from(["", "", "-beta1", "-rc.1", "+build.5"]),
)
constraint_conditions = st.builds(
    lambda op, space, version: op + space + version,
    st.sampled_from(["", "=", "!=", ">", ">=", "<", "<=", "~>"]),
    st.sampled_from(["", " "]),
    constraint_versions,
)
constraints = st.lists(constraint_conditions, min_size=1, max_size=3).map(", ".join)


@LOADER_RUNS
@given(constraint=constraints)
@example(constraint=">= 2.1.2, < 4.0.0")
def test_terraform_version_constraints_load(constraint: str) -> None:
    # GIVEN a null provider constraint of Terraform's grammar WHEN loaded THEN it is taken as is
    config = minimal_config()
    config["terraform"] = {"null_provider_version": constraint}
    assert load(config) is None
    assert settings_from_dict(config, file=FILE).null_provider_version == constraint


@LOADER_RUNS
@given(
    constraint=st.sampled_from(
        [
            "latest",
            "",
            " ",
            "*",
            ">=",
            "3.x",
            "1.2.3.4",
            "=> 1.0",
            "1.0,",
            ",1.0",
            ">= 1.0 < 2.0",
            "~> 3 ~> 4",
        ]
    )
    | with_inserted(constraints, '"\\\n{}$*@')
)
def test_anything_else_as_a_version_constraint_is_reported(constraint: str) -> None:
    # GIVEN a null provider constraint outside Terraform's grammar
    config = minimal_config()
    config["terraform"] = {"null_provider_version": constraint}
    # WHEN loaded THEN it is reported with what is allowed
    error = load(config)
    assert error is not None, f"{constraint!r} was accepted"
    prefix = (
        f"{FILE}: terraform.null_provider_version = {constraint!r}: must be a Terraform version constraint"
    )
    assert any(line.startswith(prefix) for line in error.problems), error.problems


# --- credentials in values -----------------------------------------------------------------------


@VALIDATOR_RUNS
@given(
    scheme=st.sampled_from(["postgres", "https", "redis", "amqp", "mysql+pymysql", "mongodb+srv"]),
    user=st.text(ALNUM + "._-", max_size=10),
    password=st.text(ALNUM + "._-~!$&'()*+,;=%:", min_size=1, max_size=20),
    host=registry_hosts(),
    name=env_var_names,
)
def test_a_url_with_a_password_is_a_credential_and_is_masked(
    scheme: str, user: str, password: str, host: str, name: str
) -> None:
    # GIVEN a URL with a password, anywhere in any variable's value
    url = f"{scheme}://{user}:{password}@{host}/db"
    # WHEN checked THEN it holds a password, and masking leaves everything but the password
    assert credentials.holds_password(name, url)
    assert credentials.holds_password(name, f"primary={url}; fallback=none")
    assert credentials.redact_passwords(f"value {url}!") == f"value {scheme}://{user}:***@{host}/db!"
    # and the same URL without a password is none
    assert not credentials.holds_password(name, f"{scheme}://{user}@{host}/db")


# --- credentials are never shown, wherever they are refused (issue 26) ----------------------------

access_key_ids = st.builds(
    lambda prefix, rest: prefix + rest,
    st.sampled_from(["AKIA", "ASIA"]),
    exactly(string.ascii_uppercase + DIGITS, 16),
)
private_keys = st.builds(
    lambda kind, body, newline: (
        f"-----BEGIN {kind}PRIVATE KEY-----{newline}{newline.join(body)}{newline}"
        f"-----END {kind}PRIVATE KEY-----"
    ),
    st.sampled_from(["", "RSA ", "EC ", "OPENSSH ", "ENCRYPTED "]),
    st.lists(exactly(ALNUM + "+/", 64), min_size=1, max_size=2),
    st.sampled_from(["\n", "\r\n"]),
)
# Where a credential may be written and refused: as a tag's value or key in every table of tags,
# and in fields that refuse it for another reason (pydantic's check, or the loader's own).
CREDENTIAL_PLACES: list[tuple[Path, Callable[[str], Any]]] = [
    (("project", "tags"), lambda v: {"Note": v}),
    (("project", "tags"), lambda v: {v: "x"}),
    (("environments", "dev", "tags"), lambda v: {"Note": v}),
    (("services", "api", "tags"), lambda v: {v: v}),
    (("environments", "dev", "services"), lambda v: {"api": {"tags": {"Note": v}}}),
    (("services", "api", "repository"), lambda v: v),
    (("services", "api", "environment"), lambda v: {"NOTE": [v]}),
    (("environments", "dev", "redeploy_command"), lambda v: ["{x}", v]),
]


def secret_parts(credential: str) -> list[str]:
    """Every 8 characters of the secret part of ``credential`` (the key id after its prefix, the
    key's body lines)."""
    lines = credential.splitlines()[1:-1] if credential.startswith("-----BEGIN") else [credential[4:]]
    return [line[i : i + 8] for line in lines for i in range(len(line) - 7)]


@LOADER_RUNS
@given(
    credential=access_key_ids | private_keys,
    place=st.sampled_from(range(len(CREDENTIAL_PLACES))),
    around=st.sampled_from(["{}", "note {} end"]),
)
def test_a_refused_credential_is_never_shown_in_a_problem(credential: str, place: int, around: str) -> None:
    # GIVEN an access key id or a private key, alone or within text, where it is refused
    path, written = CREDENTIAL_PLACES[place]
    config = replaced(minimal_config(), path, written(around.format(credential)))
    # WHEN loaded THEN it is refused, and no 8 characters of its secret part are in any line
    error = load(config)
    assert error is not None
    for part in secret_parts(credential):
        assert all(part not in line for line in error.problems), (part, error.problems)


# --- ECS's rules of dependencies, capacity providers, partitions and containers (issue 26) ------

CONDITIONS = ("START", "COMPLETE", "SUCCESS", "HEALTHY")
HEALTH_CHECKS: tuple[list[str] | None, ...] = (None, ["CMD", "/bin/true"], ["CMD-SHELL", "true"], ["NONE"])


@LOADER_RUNS
@given(
    condition=st.sampled_from(CONDITIONS),
    essential=st.booleans(),
    check=st.sampled_from(HEALTH_CHECKS),
    app_waits=st.booleans(),
)
def test_a_dependency_condition_is_accepted_exactly_when_ecs_can_meet_it(
    condition: str, essential: bool, check: list[str] | None, app_waits: bool
) -> None:
    # GIVEN the app waiting for a sidecar with `condition`, or a sidecar waiting for the app (which
    # is always essential); the awaited container essential or not, with a health check or not
    awaited_essential = essential if app_waits else True
    allowed = not (condition == "HEALTHY" and (check is None or check[0] == "NONE")) and not (
        condition in ("COMPLETE", "SUCCESS") and awaited_essential
    )
    waiter, awaited = ("api", "side") if app_waits else ("side", "api")
    health_check = HealthCheckSettings(command=tuple(check)) if check else None
    image = Fixed(reference="busybox:1.36")
    fields: dict[str, dict[str, Any]] = {"api": {}, "side": {"essential": essential}}
    fields[waiter]["depends_on"] = {awaited: condition}
    fields[awaited]["health_check"] = health_check
    # WHEN built as task props
    try:
        TaskDefinitionProps(
            family="demo-dev-api",
            containers=tuple(ContainerProps(name=n, image=image, **fields[n]) for n in ("api", "side")),
            region="us-east-1",
            log_group_name=names.log_group_name("demo", "dev", "api"),
            execution_role_name="demo-dev-api-exec",
            task_role_name="demo-dev-api-task",
        )
    except ValueError as exc:
        assert f"containers.{waiter}.depends_on.{awaited}: " in str(exc)
        props_ok = False
    else:
        props_ok = True
    # AND loaded from a configuration
    config = minimal_config()
    service = config["services"]["api"]
    side: dict[str, Any] = {"image": "busybox:1.36", "essential": essential}
    service["containers"] = {"side": side}
    (service if app_waits else side)["depends_on"] = {awaited: condition}
    if check is not None:
        (side if app_waits else service)["health_check"] = {"command": check}
    error = load(config)
    # THEN both accept it exactly when ECS can wait for it; the loader refuses it at its field
    assert props_ok == allowed
    field = "services.api.depends_on.side" if app_waits else "services.api.containers.side.depends_on.api"
    lines = [line for line in error.problems if line.startswith(f"{FILE}: {field} = ")] if error else []
    assert (error is None) == allowed
    assert len(lines) == (0 if allowed else 1), lines


reserved_provider_names = st.builds(
    lambda prefix, rest: prefix + rest,
    st.sampled_from(["aws", "ecs", "fargate"]).flatmap(random_case),
    st.text(ECS_CHARS, max_size=20),
)
free_provider_names = st.text(ECS_CHARS, min_size=1, max_size=40).filter(
    lambda name: not name.lower().startswith(("aws", "ecs", "fargate"))
)


@VALIDATOR_RUNS
@given(name=reserved_provider_names | free_provider_names | st.sampled_from(["FARGATE", "FARGATE_SPOT"]))
@example(name="FARGATE-SPOT")
@example(name="fargate_spot")
def test_a_strategy_names_fargate_as_written_or_a_provider_a_user_may_create(name: str) -> None:
    reserved = name.lower().startswith(("aws", "ecs", "fargate"))
    strategy = {"capacity_provider_strategy": [{"capacity_provider": name}]}
    # GIVEN any provider name WHEN a strategy names it THEN it is accepted exactly when it is
    # Fargate's as written or a name ECS lets a user create
    if name in ("FARGATE", "FARGATE_SPOT") or not reserved:
        assert Compute.model_validate(strategy).capacity_provider_strategy[0].capacity_provider == name
    else:
        assert_rejected(Compute.model_validate, strategy, "written exactly FARGATE or FARGATE_SPOT")
    # AND a provider the user creates never has a reserved name, Fargate's own included
    if reserved:
        assert_rejected(
            lambda n: Ec2CapacityProps(instance_type="t3.small", name=n),
            name,
            "must not start with 'aws', 'ecs' or 'fargate'",
        )
    else:
        assert Ec2CapacityProps(instance_type="t3.small", name=name).name == name


@LOADER_RUNS
@given(region=regions, partition=partitions, account=accounts)
def test_a_role_is_accepted_only_in_the_partition_of_the_environments_region(
    region: str, partition: str, account: str
) -> None:
    # GIVEN an environment in any region, assuming a role of any partition
    arn = f"arn:{partition}:iam::{account}:role/deployer"
    config = minimal_config()
    config["environments"]["dev"].update(region=region, aws={"role_arn": arn})
    # WHEN loaded THEN the role is refused, at its field, exactly when its partition is another
    error = load(config)
    field = f"{FILE}: environments.dev.aws.role_arn = '{arn}': "
    lines = [line for line in error.problems if line.startswith(field)] if error else []
    expected = PARTITION_OF[region]
    if partition == expected:
        assert lines == []
        assert aws_regions.validate_arn_partition(arn, region) == arn
    else:
        assert len(lines) == 1, error
        assert f"partition of the environment's region ({region}: {expected}), not {partition}" in lines[0]


@LOADER_RUNS
@given(sidecars=st.integers(0, 14))
@example(sidecars=9)
@example(sidecars=10)
def test_the_loader_and_the_task_props_agree_on_ecs_limit_of_10_containers(sidecars: int) -> None:
    # GIVEN the app and any number of sidecars
    config = minimal_config()
    config["services"]["api"]["containers"] = {
        f"s{i}": {"image": "busybox:1.36", "essential": False} for i in range(sidecars)
    }
    image = Fixed(reference="busybox:1.36")
    containers = (
        ContainerProps(name="api", image=image),
        *(ContainerProps(name=f"s{i}", image=image, essential=False) for i in range(sidecars)),
    )
    # WHEN loaded, and when built as task props
    error = load(config)
    try:
        TaskDefinitionProps(
            family="demo-dev-api",
            containers=containers,
            region="us-east-1",
            log_group_name=names.log_group_name("demo", "dev", "api"),
            execution_role_name="demo-dev-api-exec",
            task_role_name="demo-dev-api-task",
        )
    except ValueError as exc:
        assert "ECS allows at most 10 per task definition" in str(exc)
        props_ok = False
    else:
        props_ok = True
    # THEN both accept exactly up to 10 containers; the loader refuses more in one line at the field
    assert props_ok == (error is None) == (len(containers) <= 10)
    if error is not None:
        assert error.problems == (
            f"{FILE}: services.api.containers: the task would have {len(containers)} containers (every one "
            "counts, the app's too): ECS allows at most 10 per task definition",
        )
