"""What a pipeline does on a fresh runner: a new checkout's `ecs-release deploy local --wait`
against `terraform init` + `terraform apply` of the same synthesized JSON (the floor), on the emulator.

Each round gets a new copy of the committed tree (`git archive HEAD`), with nothing a runner
would not have: no `cdktf.out` (so no synthesis to reuse and no `.terraform`), no `.cache`
beyond the offline null provider mirror, no `__pycache__`. It shares, by symlink, what a runner
installs before the deploy step: `.venv`, `node_modules` and that mirror
(ecs_cd/toolchain/terraform_offline.py).
The shipped configuration is deployed with its `local` state moved to the emulator's S3 (a fresh
checkout has no local state; a pipeline keeps it remote), so every round is the same no-change
deploy. Under `timestamp` the trigger is replaced: a new deployment, followed with `--wait`,
read every 0.2 s as in bench/release.py (the emulator's answer is timed, not the poll interval).
The floor runs in a new directory holding only the `cdk.tf.json` the first deploy synthesized.
Rounds are interleaved (tool, floor, tool, floor, …); each row is a median with min and max, and
the ratio is given both of the medians and as the median of each round's own ratio.
The tool's time is split by when its lines appear on stderr (start-up and verify, synthesis,
until Terraform's first line, `terraform init`, plan and apply, the rollout wait).

Measured, never asserted: `python -m bench ci` prints the table for docs/speed.md.
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from pathlib import Path

from bench.synth import timing_table
from devkit.emulator import Emulator
from devkit.fake_ci import create_secrets, push_image, write_tag
from ecs_cd.toolchain.cdktf_cli import CACHE_DIR, PROJECT_DIR, tool_environment
from ecs_cd.toolchain.terraform_offline import terraform_setup

SECRET = "arn:aws:ssm:us-east-1:123456789012:parameter/demo/local/api/db-password"
BUCKET = "ci-bench-state"
LOCAL_STATE = 'state = { backend = "local", path = "terraform.local.tfstate" }'
REMOTE_STATE = (
    f'state = {{ backend = "s3", bucket = "{BUCKET}", key = "ecs-cd/local.tfstate", region = "us-east-1" }}'
)
# (phase, the stderr line that ends it); the last phase ends when the process exits.
PHASES = (
    ("start-up and verify", re.compile(r"^verified: ")),
    ("synthesis", re.compile(r"^running: terraform apply")),
    ("lock watch and runner start", re.compile(r"^local  ")),  # Terraform's first line
    ("terraform init", re.compile(r"^local  Terraform has been successfully initialized")),
    ("plan and apply", re.compile(r"^local: ")),
    ("rollout wait and exit", None),
)


def remote_state_config(shipped: str) -> str:
    """The shipped configuration with the `local` environment's state in the emulator's S3."""
    if shipped.count(LOCAL_STATE) != 1:
        raise RuntimeError(f"config/ecs-cd.toml no longer holds `{LOCAL_STATE}` once: update bench/ci.py")
    return shipped.replace(LOCAL_STATE, REMOTE_STATE)


def checkout(into: Path) -> None:
    """A new checkout of HEAD, with the runner's installed dependencies linked in."""
    archive = subprocess.run(["git", "archive", "HEAD"], cwd=PROJECT_DIR, capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    for name in (".venv", "node_modules"):
        (into / name).symlink_to(PROJECT_DIR / name)
    (into / ".cache").mkdir()
    (into / ".cache" / "null-mirror").symlink_to(CACHE_DIR / "null-mirror")
    config = into / "config" / "ecs-cd.toml"
    config.write_text(remote_state_config(config.read_text()))


def _run(argv: list[str], cwd: Path, env: Mapping[str, str]) -> None:
    done = subprocess.run(argv, cwd=cwd, env=dict(env), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(argv)} failed ({done.returncode}):\n{(done.stdout + done.stderr)[-3000:]}"
        )


def deploy(project: Path, env: Mapping[str, str]) -> dict[str, float]:
    """`ecs-release --json deploy local --wait` in ``project``: its phases' seconds and the total."""
    argv = [sys.executable, "-m", "ecs_cd.release", "--json", "deploy", "local", "--wait", "--poll", "0.2"]
    marks: list[tuple[float, str]] = []
    began = time.monotonic()
    with subprocess.Popen(
        argv, cwd=project, env=dict(env), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        assert process.stdout is not None and process.stderr is not None
        out: list[str] = []
        reader = threading.Thread(target=lambda s=process.stdout: out.append(s.read()))
        reader.start()
        for line in process.stderr:
            marks.append((time.monotonic() - began, line.rstrip("\n")))
        reader.join()
    total = time.monotonic() - began
    if process.returncode != 0:
        raise RuntimeError(f"deploy failed ({process.returncode}):\n" + "\n".join(m[1] for m in marks[-60:]))
    phases: dict[str, float] = {}
    start = 0.0
    for name, ends in PHASES:
        end = total if ends is None else next((t for t, line in marks if ends.match(line)), None)
        if end is None:
            raise RuntimeError(
                f"no line ends the phase {name!r}; the lines were:\n" + "\n".join(m[1] for m in marks)
            )
        phases[name] = end - start
        start = end
    return {**phases, "total": total}


def _stats(seconds: list[float]) -> dict[str, float]:
    return {
        "median": statistics.median(seconds),
        "min": min(seconds),
        "max": max(seconds),
        "runs": len(seconds),
    }


TOOL = "new checkout: ecs-release deploy local --wait"
FLOOR = "floor: terraform init + terraform apply of the same JSON, new directory"
FIRST = "first deploy of a new checkout (creates everything; once)"
PAIRED = "per round: the tool's time / the floor's just after it"
INIT, APPLY = "terraform init", "terraform apply"


def run(rounds: int = 5) -> list[tuple[str, dict[str, float]]]:
    setup = terraform_setup(CACHE_DIR)
    with tempfile.TemporaryDirectory(dir=CACHE_DIR) as tmp, Emulator(running_count=1) as emu:
        work = Path(tmp)
        ecr, ssm = emu.client("ecr"), emu.client("ssm")
        create_secrets(lambda region: emu.client("ssm", region), [SECRET])
        push_image(ecr, "demo-api", "2.0.0")
        write_tag(ssm, "/api/local/docker-image-tag", "2.0.0")
        release_env = {**os.environ, "CI": "true", "ECS_CD_EMULATOR_ENDPOINT": emu.endpoint}
        for name in ("ECS_CD_CONFIG", "ECS_CD_OUTPUT"):  # the checkout's own config and cdktf.out
            release_env.pop(name, None)
        terraform_env = tool_environment(setup, emulator_endpoint=emu.endpoint, extra=emu.aws_environment())

        def fresh(name: str) -> Path:
            path = work / name
            path.mkdir()
            return path

        first = fresh("first")
        checkout(first)
        _run(
            [sys.executable, "-m", "ecs_cd.release", "bootstrap", "local"], first, release_env
        )  # the state bucket
        first_seconds = deploy(first, release_env)["total"]  # creates everything: not a round
        synthesized = (first / "cdktf.out" / "stacks" / "local" / "cdk.tf.json").read_bytes()
        shutil.rmtree(first)

        rows: dict[str, list[float]] = {}
        for n in range(rounds):
            project = fresh(f"checkout-{n}")
            checkout(project)  # what the runner did before the deploy step: not timed
            for name, seconds in deploy(project, release_env).items():
                rows.setdefault(TOOL if name == "total" else f"  tool: {name}", []).append(seconds)
            shutil.rmtree(project)

            stack = fresh(f"floor-{n}")
            (stack / "cdk.tf.json").write_bytes(synthesized)
            began = time.monotonic()
            for name, args in ((INIT, ["init"]), (APPLY, ["apply", "-auto-approve"])):
                step = time.monotonic()
                _run(["terraform", *args, "-input=false", "-no-color"], stack, terraform_env)
                rows.setdefault(f"  floor: {name}", []).append(time.monotonic() - step)
            rows.setdefault(FLOOR, []).append(time.monotonic() - began)
            rows.setdefault(PAIRED, []).append(rows[TOOL][-1] / rows[FLOOR][-1])
            shutil.rmtree(stack)
        order = [
            TOOL,
            *(f"  tool: {name}" for name, _ in PHASES),
            FLOOR,
            f"  floor: {INIT}",
            f"  floor: {APPLY}",
            PAIRED,
        ]
        return [*((label, _stats(rows[label])) for label in order), (FIRST, _stats([first_seconds]))]


def targets(rows: list[tuple[str, dict[str, float]]]) -> list[str]:
    t = {label: figures["median"] for label, figures in rows}
    synthesis = t["  tool: synthesis"]
    checks = [
        ("new-checkout deploy --wait / init + apply of the same JSON", t[TOOL] / t[FLOOR]),
        ("the same, median of the rounds' own ratios", t[PAIRED]),
        ("the same without the synthesis", (t[TOOL] - synthesis) / t[FLOOR]),
        (
            "the tool's time / its own terraform init + plan and apply",
            t[TOOL] / (t["  tool: terraform init"] + t["  tool: plan and apply"]),
        ),
        ("tool's terraform init / floor's", t["  tool: terraform init"] / t[f"  floor: {INIT}"]),
        (
            "tool's plan and apply / floor's terraform apply",
            t["  tool: plan and apply"] / t[f"  floor: {APPLY}"],
        ),
        ("synthesis, share of the tool's time", synthesis / t[TOOL]),
    ]
    return [f"| {name} | {value:.2f} |  |  |" for name, value in checks]


def table(rows: list[tuple[str, dict[str, float]]]) -> str:
    return timing_table([row for row in rows if row[0] != PAIRED], targets(rows))


if __name__ == "__main__":
    print(table(run(int(sys.argv[1]) if len(sys.argv) > 1 else 5)))
