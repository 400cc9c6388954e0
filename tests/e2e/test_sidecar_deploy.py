"""The sidecar example (examples/sidecar/ecs-cd.toml) deployed to the emulator through the real
`ecs-release deploy local --wait`: an app whose tag CI writes to SSM, a pinned Datadog agent
and a FireLens log router (fluent-bit) the app logs through.

One emulator and one chain of deploys for the module. Each fixture deploys once and records
what the CLI, the emulator and (where it matters) a plain `terraform plan` said right then;
the tests only read those records, so no test depends on another having run:

  first     CI released 1.0.0; the example deploys
  injected  the SSM tag parameter holds a value crafted to break out of the JSON string; the
            deploy must refuse it and leave the service as it was
  second    CI released 1.0.1 (a valid tag again); the example deploys; then `terraform plan`
  literal   a copy whose app environment holds template-looking text deploys
  digest    a copy with image_strategy = "digest" deploys; then `terraform plan`
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from devkit.emulator import Emulator
from devkit.fake_ci import create_secrets, push_image, write_tag
from devkit.load_balancer import ExistingLoadBalancer, attach
from devkit.terraform import Run, Terraform
from ecs_cd.core import names
from ecs_cd.release.errors import DEPLOY_FAILED
from ecs_cd.toolchain.cdktf_cli import PROJECT_DIR, tool_environment
from ecs_cd.toolchain.terraform_offline import TerraformSetup
from tests.release_helpers import ProcessRun, run_release_process

pytestmark = pytest.mark.e2e

EXAMPLE = PROJECT_DIR / "examples" / "sidecar" / "ecs-cd.toml"
SPEC: dict[str, Any] = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
PROJECT = SPEC["project"]["name"]
API: dict[str, Any] = SPEC["services"]["api"]
SIDECARS: dict[str, Any] = API["containers"]
REPOSITORY: str = API["repository"]
REPOSITORY_NAME = REPOSITORY.split("/", 1)[1]
CLUSTER = names.cluster_name(PROJECT, "local")
FAMILY = names.task_family(PROJECT, "local", "api")
PARAMETER = names.image_tag_parameter("api", "local")

# The value of the requirement: a "tag" that, pasted into the definitions' JSON text, would end
# the image string and add an image, a command and a working directory of its own.
INJECTION = (
    '1.0.2","image":"evil.example.com/backdoor:1","command":["sh","-c","echo pwned"],"workingDirectory":"'
)
EVIL_IMAGE = "evil.example.com/backdoor:1"
REFUSAL = (
    f"The SSM parameter {PARAMETER} must hold an image tag ([A-Za-z0-9_][A-Za-z0-9_.-]{{0,127}}); "
    "its value is refused, nothing was deployed."
)
# Terraform's template syntax, which must reach ECS as text.
LITERAL = "${path.cwd} %{ if true }x%{ endif }"


def _copy(text: str, old: str, new: str) -> str:
    """``text`` with the one occurrence of ``old`` replaced (a changed example fails here, loudly)."""
    assert text.count(old) == 1, f"the example no longer has exactly one {old!r}"
    return text.replace(old, new)


def _plain(output: str) -> str:
    """Terraform's output as cdktf relays it, without colours, stack prefixes, boxes and line wraps."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", output)
    lines = [re.sub(r"^local  ", "", line).replace("│", " ") for line in text.splitlines()]
    return " ".join(" ".join(lines).split())


@dataclass(frozen=True)
class Observed:
    """The service and the task definition it runs, as the emulator describes them."""

    service: dict[str, Any]
    task: dict[str, Any]
    revisions: tuple[str, ...]  # every registered revision of the family

    @property
    def task_definition_arn(self) -> str:
        return str(self.service["taskDefinition"])

    @property
    def revision(self) -> int:
        return int(self.task["revision"])

    @property
    def containers(self) -> list[dict[str, Any]]:
        return list(self.task["containerDefinitions"])

    def container(self, name: str) -> dict[str, Any]:
        (found,) = [c for c in self.containers if c["name"] == name]
        return found


@dataclass(frozen=True)
class Deployed:
    """One `ecs-release deploy local --wait`: its run, what it left, and a plan where one was made."""

    run: ProcessRun
    observed: Observed
    plan: Run | None = None

    @property
    def output(self) -> str:
        return self.run.stdout + self.run.stderr


@dataclass
class Lab:
    emulator: Emulator
    setup: TerraformSetup
    workdir: Path
    example: Path  # the example, its local environment behind a load balancer that already exists
    durations: dict[str, float] = field(default_factory=dict)

    @property
    def outdir(self) -> Path:
        # One output directory for every deploy: the local state lives next to the stack.
        return self.workdir / "cdktf.out"

    def release(self, tag: str) -> str:
        """What CI does: push the app image and write its tag to SSM; returns the digest."""
        digest = push_image(self.emulator.client("ecr"), REPOSITORY_NAME, tag)
        write_tag(self.emulator.client("ssm"), PARAMETER, tag)
        return digest

    def config(self, name: str, text: str) -> Path:
        path = self.workdir / name
        path.write_text(text, encoding="utf-8")
        return path

    def deploy(self, label: str, config: Path | None = None, *extra: str) -> ProcessRun:
        config = config or self.example
        # The endpoint reaches the CLI as it reaches every other e2e run: ECS_CD_EMULATOR_ENDPOINT.
        env = {"ECS_CD_CONFIG": str(config), "ECS_CD_EMULATOR_ENDPOINT": self.emulator.endpoint}
        # Terraform's debug log of the deploy: this module's first deploy failed now and then
        # (PriorityInUse, InvalidPermission.NotFound): the provider retried requests the emulator had
        # carried out, after responses that arrived in two parts (filled in devkit/moto_server.py).
        # If it fails again, `observe` shows which AWS calls the provider made and their attempts.
        env |= {"TF_LOG": "DEBUG", "TF_LOG_PATH": str(self.workdir / "terraform-debug.log")}
        run = run_release_process(
            env, "deploy", "local", "--wait", "--poll", "0.2", "--output", str(self.outdir), *extra
        )
        self.durations[f"deploy {label}"] = run.ended - run.started
        return run

    def plan(self, label: str) -> Run:
        """A plain `terraform plan -detailed-exitcode` of the stack the last deploy synthesized."""
        tf = Terraform(
            self.outdir / "stacks" / "local",
            tool_environment(self.setup, emulator_endpoint=self.emulator.endpoint),
        )
        run = tf.plan_exit_code()
        self.durations[f"plan {label}"] = run.seconds
        return run

    def observe(self, after: ProcessRun) -> Observed:
        ecs = self.emulator.client("ecs")
        described = ecs.describe_services(cluster=CLUSTER, services=["api"])
        # A deploy that left no service fails here with what the deploy itself said.
        assert len(described["services"]) == 1, (
            f"no service api in {CLUSTER} after a deploy that exited {after.returncode}: "
            f"{described.get('failures')}\n{(after.stdout + after.stderr)[-8000:]}\n"
            f"the provider's AWS calls and answers:\n{self.aws_calls()}"
        )
        (service,) = described["services"]
        task = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]
        revisions = ecs.list_task_definitions(familyPrefix=FAMILY)["taskDefinitionArns"]
        return Observed(dict(service), dict(task), tuple(revisions))

    def aws_calls(self) -> str:
        """One line per AWS request and response in Terraform's debug log (method, status, error)."""
        log = self.workdir / "terraform-debug.log"
        if not log.exists():
            return "(no Terraform debug log)"
        wanted = re.compile(
            r"rpc\.method=\w+|http\.status_code=\d+|http\.request\.header\.amz_sdk_request=\"[^\"]*\"|<Code>\w+</Code>"
        )
        lines = []
        for line in log.read_text(errors="replace").splitlines():
            if "HTTP Request Sent" in line or "HTTP Response Received" in line or "<Code>" in line:
                found = wanted.findall(line)
                if found:
                    lines.append(f"{line[:24]} {' '.join(dict.fromkeys(found))}")
        return "\n".join(lines[-300:])

    def images_ever_registered(self) -> set[str]:
        ecs = self.emulator.client("ecs")
        images: set[str] = set()
        for arn in ecs.list_task_definitions(familyPrefix=FAMILY)["taskDefinitionArns"]:
            task = ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]
            images |= {c["image"] for c in task["containerDefinitions"]}
        return images


@pytest.fixture(scope="module")
def lab(
    emulator: Emulator,
    tf_setup: TerraformSetup,
    existing_lb: ExistingLoadBalancer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Lab:
    # The account has the Datadog API key the example names (`deploy` verifies that it exists).
    create_secrets(lambda region: emulator.client("ssm", region), [API["log_secret_options"]["apikey"]])
    workdir = tmp_path_factory.mktemp("sidecar")
    # The load balancer is not this module's subject: the example's rule goes on an existing listener.
    example = workdir / "example.toml"
    example.write_text(attach(EXAMPLE.read_text(encoding="utf-8"), "local", existing_lb), encoding="utf-8")
    return Lab(emulator, tf_setup, workdir, example)


@pytest.fixture(scope="module")
def first(lab: Lab) -> Deployed:
    lab.release("1.0.0")
    run = lab.deploy("1: the example, tag 1.0.0")
    return Deployed(run, lab.observe(run))


@dataclass(frozen=True)
class Injected:
    stored: str  # what the parameter held during the deploy
    run: ProcessRun
    observed: Observed
    images: set[str]


@pytest.fixture(scope="module")
def injected(lab: Lab, first: Deployed) -> Injected:
    # Written with boto3 directly: fake_ci.write_tag (rightly) refuses it.
    ssm = lab.emulator.client("ssm")
    ssm.put_parameter(Name=PARAMETER, Value=INJECTION, Type="String", Overwrite=True)
    stored = ssm.get_parameter(Name=PARAMETER)["Parameter"]["Value"]
    # `verify` would refuse the value before Terraform runs; the point here is that the
    # synthesized configuration itself refuses it, as it does for `cdktf deploy` by hand.
    run = lab.deploy("2: injected tag (refused)", lab.example, "--no-verify")
    return Injected(stored, run, lab.observe(run), lab.images_ever_registered())


@pytest.fixture(scope="module")
def second(lab: Lab, injected: Injected) -> Deployed:
    lab.release("1.0.1")
    run = lab.deploy("3: the example, tag 1.0.1")
    observed = lab.observe(run)
    return Deployed(run, observed, lab.plan("the example (ssm-tag) after deploy 3"))


@pytest.fixture(scope="module")
def literal(lab: Lab, second: Deployed) -> Deployed:
    text = lab.example.read_text(encoding="utf-8")
    app_environment = "environment = { DD_SERVICE = "
    config = lab.config(
        "literal.toml",
        _copy(text, app_environment, f"environment = {{ LITERAL = '{LITERAL}', DD_SERVICE = "),
    )
    run = lab.deploy("4: copy with a template-looking literal", config)
    return Deployed(run, lab.observe(run))


@dataclass(frozen=True)
class DigestDeployed(Deployed):
    digest: str = ""


@pytest.fixture(scope="module")
def digest(lab: Lab, literal: Deployed) -> DigestDeployed:
    text = lab.example.read_text(encoding="utf-8")
    config = lab.config("digest.toml", _copy(text, 'image_strategy = "ssm-tag"', 'image_strategy = "digest"'))
    # The app repository is ECR's (the example's); the tag in SSM is 1.0.1, pushed by `second`.
    pushed = lab.release("1.0.1")
    run = lab.deploy("5: copy with image_strategy = digest", config)
    observed = lab.observe(run)
    return DigestDeployed(run, observed, lab.plan("the digest copy after deploy 5"), digest=pushed)


def _succeeded(deployed: Deployed) -> None:
    assert deployed.run.returncode == 0, deployed.output[-6000:]
    (rollout,) = deployed.run.json["rollouts"]
    assert (rollout["service"], rollout["outcome"]) == ("api", "COMPLETED")


def _runs(observed: Observed, deployed_arn: str) -> None:
    """The service runs ``deployed_arn``, at its desired count."""
    service = observed.service
    assert service["taskDefinition"] == deployed_arn
    assert service["status"] == "ACTIVE"
    assert service["runningCount"] == service["desiredCount"] == 1


def test_the_example_deploys_the_app_and_its_pinned_sidecars(first: Deployed) -> None:
    # GIVEN CI pushed 1.0.0 and wrote it to the parameter WHEN `ecs-release deploy local --wait` ran
    # THEN it exited 0 after the rollout completed, and the service runs the first revision
    _succeeded(first)
    seen = first.observed
    assert seen.task_definition_arn.endswith(f"task-definition/{FAMILY}:1")
    _runs(seen, seen.task_definition_arn)
    (attachment,) = seen.service["loadBalancers"]
    assert (attachment["containerName"], attachment["containerPort"]) == ("api", API["container_port"])
    # AND the task has the three containers, the app first, with the released and the pinned images
    assert [c["name"] for c in seen.containers] == ["api", *SIDECARS]
    assert seen.container("api")["image"] == f"{REPOSITORY}:1.0.0"
    for name, sidecar in SIDECARS.items():
        assert seen.container(name)["image"] == sidecar["image"]
    # AND the app waits for the router to start and the agent to be healthy
    app = seen.container("api")
    assert len(app["dependsOn"]) == len(API["depends_on"])
    assert {d["containerName"]: d["condition"] for d in app["dependsOn"]} == API["depends_on"]
    # AND it logs through FireLens, with the destination's key as a secret option
    assert app["logConfiguration"] == {
        "logDriver": "awsfirelens",
        "options": API["log_options"],
        "secretOptions": [
            {"name": name, "valueFrom": arn} for name, arn in API["log_secret_options"].items()
        ],
    }
    # AND the router is the task's FireLens router, logging itself to the task's log group
    router = seen.container("log-router")
    assert router["firelensConfiguration"] == SIDECARS["log-router"]["firelens"]
    assert router["logConfiguration"]["logDriver"] == "awslogs"
    assert [c["name"] for c in seen.containers if "firelensConfiguration" in c] == ["log-router"]
    # AND the agent keeps its health check, ports and secret
    agent = seen.container("datadog")
    check = SIDECARS["datadog"]["health_check"]
    assert agent["healthCheck"] == {
        "command": check["command"],
        "interval": check["interval"],
        "timeout": check["timeout"],
        "retries": check["retries"],
        "startPeriod": check["start_period"],
    }
    assert [(p["containerPort"], p["protocol"]) for p in agent["portMappings"]] == [
        (p["container_port"], p.get("protocol", "tcp")) for p in SIDECARS["datadog"]["port_mappings"]
    ]
    assert agent["secrets"] == [
        {"name": name, "valueFrom": arn} for name, arn in SIDECARS["datadog"]["secrets"].items()
    ]


def test_a_new_tag_gives_a_new_revision_with_the_same_sidecars(first: Deployed, second: Deployed) -> None:
    # GIVEN CI wrote 1.0.1 WHEN deployed again
    _succeeded(second)
    before, after = first.observed, second.observed
    # THEN a new revision (the refused deploy in between registered none) carries the new tag ...
    assert after.revision == before.revision + 1
    assert after.container("api")["image"] == f"{REPOSITORY}:1.0.1"
    # ... and nothing else changed: the sidecars' definitions are identical, and so is the app's
    # but for its image
    assert after.containers[1:] == before.containers[1:]
    assert {**after.container("api"), "image": None} == {**before.container("api"), "image": None}
    # AND the service runs it
    _runs(after, after.task_definition_arn)
    assert after.task_definition_arn.endswith(f"task-definition/{FAMILY}:{after.revision}")


def test_plain_plan_of_the_shipped_example_has_no_changes(second: Deployed) -> None:
    # GIVEN the example (ssm-tag) deployed WHEN Terraform plans its synthesized stack again
    assert second.plan is not None
    # THEN nothing would change: the emulator gives back what the definitions asked for
    assert second.plan.returncode == 0, second.plan.output[-4000:]
    assert "No changes." in second.plan.output


def test_plain_plan_of_the_digest_copy_has_no_changes(digest: DigestDeployed, second: Deployed) -> None:
    # GIVEN a copy of the example with image_strategy = "digest", deployed after CI pushed 1.0.1
    _succeeded(digest)
    # THEN the app runs the image pinned by its ECR digest, the sidecars as they were
    assert digest.observed.container("api")["image"] == f"{REPOSITORY}@{digest.digest}"
    assert digest.observed.containers[1:] == second.observed.containers[1:]
    _runs(digest.observed, digest.observed.task_definition_arn)
    # AND Terraform plans no changes for its synthesized stack
    assert digest.plan is not None
    assert digest.plan.returncode == 0, digest.plan.output[-4000:]
    assert "No changes." in digest.plan.output


def test_a_tag_that_breaks_out_of_the_json_is_refused(
    first: Deployed, injected: Injected, second: Deployed
) -> None:
    # GIVEN the tag parameter holds a value that would end the image string and add fields
    assert injected.stored == INJECTION
    # WHEN deployed THEN the deploy fails, with the postcondition's message naming the parameter
    assert injected.run.returncode == DEPLOY_FAILED, injected.run.stdout + injected.run.stderr[-4000:]
    assert injected.run.json["ok"] is False
    plain = _plain(injected.run.stderr)
    assert "Resource postcondition failed" in plain
    assert REFUSAL in plain, plain[-3000:]
    # AND nothing was registered: the service still runs the first revision, on the released image
    after = injected.observed
    assert after.revisions == first.observed.revisions
    _runs(after, first.observed.task_definition_arn)
    assert after.container("api")["image"] == f"{REPOSITORY}:1.0.0"
    assert EVIL_IMAGE not in injected.images
    assert all("workingDirectory" not in c and "command" not in c for c in after.containers)
    # AND a later deploy with a valid tag works again
    _succeeded(second)
    assert second.observed.container("api")["image"] == f"{REPOSITORY}:1.0.1"


def test_template_syntax_in_a_value_reaches_ecs_as_text(second: Deployed, literal: Deployed) -> None:
    # GIVEN a copy of the example whose app environment holds Terraform template syntax
    # WHEN deployed
    _succeeded(literal)
    # THEN a new revision holds the value exactly as written, not evaluated
    assert literal.observed.revision == second.observed.revision + 1
    environment = {e["name"]: e["value"] for e in literal.observed.container("api")["environment"]}
    assert environment == {**API["environment"], "LITERAL": LITERAL}
    # AND nothing else about the task changed
    assert literal.observed.containers[1:] == second.observed.containers[1:]
    _runs(literal.observed, literal.observed.task_definition_arn)


def test_the_module_reports_its_durations(
    lab: Lab, digest: DigestDeployed, capsys: pytest.CaptureFixture[str]
) -> None:
    # Five deploys (one refused before apply) and two plans. Shown, not asserted: speed is measured
    # in benchmarks (make bench), never by a timed test.
    with capsys.disabled():
        print("\nsidecar e2e durations so far:")
        for label, seconds in lab.durations.items():
            print(f"  {label:<45}  {seconds:6.1f} s")
    assert lab.durations, "no deploy or plan was recorded"
