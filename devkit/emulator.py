"""The moto server as a local AWS emulator on 127.0.0.1, on a free port, owned by us."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any

from ecs_cd.toolchain.errors import ToolError

REGION = "us-east-1"
# moto accepts any credentials; fixed ones keep every client on the same account.
ACCESS_KEY = "emulator"
SECRET_KEY = "emulator"
ACCOUNT_ID = "123456789012"  # moto's default account


class Emulator:
    """Starts ``moto_server`` on 127.0.0.1 and stops it on exit.

    ``running_count`` (default 1) sets ``MOTO_ECS_SERVICE_RUNNING``: moto runs no real
    tasks, so without it every ECS service reports 0 running tasks and never reaches
    steady state. ``log_path`` (default: discard) receives the server's output. ``fills``
    (default True) installs ``devkit.moto_server``'s fills; False runs moto as released, for
    tests showing that stock moto still has a gap. ``switch_interval`` (default: Python's 5 ms)
    is the server's thread switch interval: tests of races shrink it so that request threads
    interleave as on a loaded machine, on every run.
    """

    def __init__(
        self,
        *,
        running_count: int = 1,
        log_path: Path | None = None,
        fills: bool = True,
        switch_interval: float | None = None,
    ) -> None:
        self.running_count = running_count
        self.log_path = log_path
        self.fills = fills
        self.switch_interval = switch_interval
        self.port: int | None = None
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        if self.port is None:
            raise RuntimeError("the emulator is not running")
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> Emulator:
        try:
            import moto.server  # noqa: F401  (fail with a clear message, not in a subprocess)
        except ImportError:
            raise ToolError(
                "moto is not installed in this environment: run `make test` or `make demo` "
                "(they run `pipenv install --dev`)"
            ) from None
        env = {**os.environ, "MOTO_ECS_SERVICE_RUNNING": str(self.running_count)}
        # devkit.moto_server (moto plus the APIs it lacks) must import from any working directory.
        project = str(Path(__file__).resolve().parent.parent)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (project, env.get("PYTHONPATH", "")) if p)
        # Bound and listening here, handed to the server: the port cannot be taken by anyone else
        # between choosing it and serving on it (see devkit.moto_server.serve_on).
        listening = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            listening.bind(("127.0.0.1", 0))
            listening.listen(128)
            port = int(listening.getsockname()[1])
            command = [sys.executable, "-m", "devkit.moto_server", "--listen-fd", str(listening.fileno())]
            if not self.fills:
                command.append("--stock")
            if self.switch_interval is not None:
                command += ["--switch-interval", str(self.switch_interval)]
            log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
            try:
                self._process = subprocess.Popen(
                    command,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=env,
                    pass_fds=(listening.fileno(),),
                )
            finally:
                if log is not subprocess.DEVNULL:
                    log.close()  # type: ignore[union-attr]
        finally:
            listening.close()  # the server holds its own copy
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                last_error = f"moto_server exited with code {self._process.returncode}"
                break
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/moto-api/", timeout=2):
                    self.port = port
                    return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.2)
        else:
            last_error = f"moto_server did not answer on 127.0.0.1:{port} within {timeout:.0f} s"
        self.stop()
        raise ToolError(f"could not start the AWS emulator: {last_error}")

    def stop(self) -> None:
        process, self._process = self._process, None
        self.port = None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def aws_environment(self) -> dict[str, str]:
        """Variables that point boto3, the AWS CLI and Terraform's local-exec at the emulator."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
        }

    def client(self, service: str, region: str = REGION) -> Any:
        import boto3

        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=region,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
        )


def main(argv: list[str] | None = None) -> int:
    """`python -m devkit.emulator`: run the emulator in the foreground until Ctrl-C."""
    import argparse
    import signal

    parser = argparse.ArgumentParser(prog="python -m devkit.emulator", description=main.__doc__)
    parser.add_argument("--running-count", type=int, default=1, help="MOTO_ECS_SERVICE_RUNNING (default 1)")
    args = parser.parse_args(argv)
    stop = False

    def _stop(*_: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, _stop)
    try:
        with Emulator(running_count=args.running_count) as emulator:
            print("AWS emulator (moto) running. In another terminal, run:", flush=True)
            print(f"export ECS_CD_EMULATOR_ENDPOINT={emulator.endpoint}", flush=True)
            while not stop and emulator._process is not None and emulator._process.poll() is None:
                time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    except ToolError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
