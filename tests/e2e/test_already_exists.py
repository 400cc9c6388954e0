"""Resources that exist in AWS but not in the state (issues 16 and 26), end to end on the emulator.

A killed first apply leaves exactly this: AWS created them, the state never heard of them, and
every later deploy fails with "already exists" (or a security group rule's
``InvalidPermission.Duplicate``). `ecs-release deploy` must name every one of them, with import
commands that work as printed; after them, the deploy converges.
"""

from __future__ import annotations

import contextlib
import http.client
import http.server
import os
import signal
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devkit.emulator import Emulator
from devkit.fake_ci import push_image, write_tag
from devkit.load_balancer import ExistingLoadBalancer
from ecs_cd.core import names
from ecs_cd.release.errors import DEPLOY_FAILED
from tests.release_helpers import ProcessRun, run_release_process

pytestmark = pytest.mark.e2e

# --- a first create killed at several points (issue 26) -------------------------------------------
# SIGKILLed while the first apply creates the stack, Terraform leaves resources in AWS that its
# state never heard of. The next deploy must name every one of them, security group rules
# included, with import commands that work as printed: after them, the deploy converges.

KILLED_CONFIG = """
[project]
name = "{project}"

[services.api]
repository = "123456789012.dkr.ecr.us-east-1.amazonaws.com/{project}-api"
container_port = 8080
load_balancer = {{ path_patterns = ["/{project}/*"], priority = {priority}, health_check_path = "/health" }}

[environments.local]
region = "us-east-1"
emulator_endpoint = "http://127.0.0.1:5000"
log_retention_days = 1
network = {{ use_default_vpc = true, assign_public_ip = true }}
state = {{ backend = "local", path = "terraform.{project}.tfstate" }}
load_balancer = {balancer}
"""


def _processes_in(directory: Path) -> list[int]:
    """Each process whose working directory is ``directory``: Terraform and its provider plugins."""
    found = []
    for entry in Path("/proc").iterdir():
        with contextlib.suppress(OSError):
            if entry.name.isdigit() and Path(os.readlink(entry / "cwd")) == directory:
                found.append(int(entry.name))
    return found


def _kill_all_in(directory: Path) -> None:
    for pid in _processes_in(directory):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


class KillingProxy:
    """Between Terraform and the emulator. Armed with calls (an Action and a text of the body),
    it passes each on (AWS does it) and holds its answer back; once all were made, every process
    in the stack directory is SIGKILLed: resources AWS created that Terraform never heard of, at
    known points, with no sleep and no race."""

    def __init__(self, target: str) -> None:
        self.target = target.removeprefix("http://")
        self.waiting: list[tuple[str, str]] = []
        self.directory = Path("/nonexistent")
        self.killed = threading.Event()
        self._lock = threading.Lock()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                proxy.forward(self)

            do_GET = do_PUT = do_DELETE = do_HEAD = do_POST

            def log_message(self, *_: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def arm(self, calls: list[tuple[str, str]], directory: Path) -> None:
        if calls:
            self.killed.clear()
        self.waiting, self.directory = list(calls), directory

    def _matched(self, body: bytes) -> bool:
        text = body.decode(errors="replace") + "&"
        with self._lock:
            for call in self.waiting:
                if f"Action={call[0]}&" in text and call[1] in text:
                    self.waiting.remove(call)
                    if not self.waiting:
                        _kill_all_in(self.directory)
                        self.killed.set()
                    return True
        return False

    def forward(self, request: http.server.BaseHTTPRequestHandler) -> None:
        body = request.rfile.read(int(request.headers.get("Content-Length") or 0))
        connection = http.client.HTTPConnection(self.target, timeout=120)
        connection.request(request.command, request.path, body, dict(request.headers))
        answer = connection.getresponse()
        data = answer.read()
        if answer.status < 300 and self._matched(body):
            self.killed.wait(timeout=120)  # the answer never reaches Terraform
            request.close_connection = True
            return
        request.send_response(answer.status)
        for key, value in answer.getheaders():
            if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                request.send_header(key, value)
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        request.wfile.write(data)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def proxy(emulator: Emulator) -> Iterator[KillingProxy]:
    running = KillingProxy(emulator.endpoint)
    yield running
    running.close()


def test_a_first_create_killed_at_several_points_converges_by_the_printed_imports(
    emulator: Emulator, existing_lb: ExistingLoadBalancer, proxy: KillingProxy, tmp_path: Path
) -> None:
    config = tmp_path / "ecs-cd.toml"
    config.write_text(KILLED_CONFIG.format(project="kp", priority=200, balancer=existing_lb.setting))
    push_image(emulator.client("ecr"), "kp-api", "1.0.0")
    write_tag(emulator.client("ssm"), names.image_tag_parameter("api", "local"), "1.0.0")
    outdir = tmp_path / "cdktf.out"
    stack_dir = (outdir / "stacks" / "local").resolve()
    env = {"ECS_CD_CONFIG": str(config), "ECS_CD_EMULATOR_ENDPOINT": proxy.endpoint}

    def deploy(*killed_after: tuple[str, str]) -> ProcessRun:
        proxy.arm(list(killed_after), stack_dir)
        try:
            run = run_release_process(env, "deploy", "local", "--output", str(outdir))
        finally:
            proxy.arm([], stack_dir)
            _kill_all_in(stack_dir)  # plugins a killed Terraform left, if any
        assert proxy.killed.is_set() or not killed_after, (killed_after, run.stdout, run.stderr[-3000:])
        return run

    # GIVEN a first deploy killed once AWS created the tasks' security group and the target group
    killed = deploy(("CreateSecurityGroup", "kp-local-api-tasks"), ("CreateTargetGroup", "kp-local-api"))
    # THEN it fails naming both (and what else was created beside them) with their real IDs, and
    # the allow-all egress AWS gave the group, which Terraform never got to revoke
    found = _named(killed, "; in AWS but not in the Terraform state: ")
    assert {"aws_security_group", "aws_lb_target_group"} <= {f["address"].partition(".")[0] for f in found}
    assert [f["address"].partition(".")[0] for f in found if f.get("revoke")] == ["aws_security_group"]
    _import(found)
    # GIVEN the next deploy killed once AWS created the group's two rules (issue 26's case)
    deploy(("AuthorizeSecurityGroupEgress", "443"), ("AuthorizeSecurityGroupIngress", "8080"))
    # WHEN the one after runs
    failed = deploy()
    # THEN it fails on the duplicate, naming both rules by their sgr- IDs, and says that the
    # failed apply may have applied part of the plan
    found = _named(failed, "already in AWS but not in the Terraform state: ")
    assert "Terraform may have applied part of the plan" in failed.json["error"]
    rules = [f for f in found if f["address"].startswith("aws_vpc_security_group_")]
    assert len(rules) == 2 and all(f["id"].startswith("sgr-") for f in rules), found
    _import(found)
    # THEN after the printed commands the deploy converges, and AWS holds one of each resource (the
    # group exactly its two declared rules)
    again = deploy()
    assert again.returncode == 0, again.stdout + again.stderr[-4000:]
    _assert_one_of_each(emulator, "kp")


def _named(run: ProcessRun, says: str) -> list[dict[str, str]]:
    """What a failed deploy named, each with its import command in the one-line error."""
    assert run.returncode == DEPLOY_FAILED, run.stdout + run.stderr[-4000:]
    error, found = run.json["error"], run.json.get("already_exists", [])
    assert says in error and "\n" not in error, (error, _errors(run))
    assert found and all(f["import"] in error and "<" not in f["id"] for f in found), error
    return list(found)


def _import(found: list[dict[str, str]]) -> None:
    """Every printed command (the imports, and the revoke of a default egress rule a killed create
    left on a group), run in a plain shell as printed."""
    commands = " && ".join([*(f["import"] for f in found), *(f["revoke"] for f in found if f.get("revoke"))])
    imported = subprocess.run(
        ["sh", "-c", commands], env=dict(os.environ), capture_output=True, text=True, timeout=600
    )
    assert imported.returncode == 0, imported.stdout + imported.stderr


def _errors(run: ProcessRun) -> list[str]:
    return [line for line in run.stderr.splitlines() if "rror" in line]


def _assert_one_of_each(emulator: Emulator, project: str) -> None:
    ec2 = emulator.client("ec2")
    name = f"{project}-local-api-tasks"
    (group,) = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": [name]}])[
        "SecurityGroups"
    ]
    rules = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [group["GroupId"]]}])
    made = [
        (r["IsEgress"], r["IpProtocol"], r["FromPort"], r.get("CidrIpv4"))
        for r in rules["SecurityGroupRules"]
    ]
    assert sorted(made, key=str) == sorted(
        [(True, "tcp", 443, "0.0.0.0/0"), (False, "tcp", 8080, None)], key=str
    )
    target_groups = emulator.client("elbv2").describe_target_groups()["TargetGroups"]
    assert len([t for t in target_groups if t["TargetGroupName"].startswith(f"{project}-local-api")]) == 1
    log_groups = emulator.client("logs").describe_log_groups(logGroupNamePrefix=f"/ecs/{project}/")[
        "logGroups"
    ]
    assert len(log_groups) == 1
