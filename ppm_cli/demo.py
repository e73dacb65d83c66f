"""`ppm demo`: sandbox + a first materialization + `dagster dev`, stopped together with Ctrl-C."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import httpx

from ppm_resources.paths import project_root

BIN = Path(sys.executable).parent


def wait_for_http(url: str, timeout_s: float, process: subprocess.Popen[bytes] | None = None) -> None:
    """Poll `url` until it answers 200; fail early if `process` exits first."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(
                f"{process.args[0]} exited with code {process.returncode} before {url} answered"
            )
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2).status_code == 200:
                return
        time.sleep(0.5)
    raise TimeoutError(f"{url} did not answer within {timeout_s:.0f} s")


_interrupted: set[int] = set()


def interrupt(*processes: subprocess.Popen[bytes]) -> None:
    """SIGINT each process group once (what `dagster dev` expects), so several children stop in parallel."""
    for process in processes:
        if process.poll() is None and process.pid not in _interrupted:
            _interrupted.add(process.pid)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGINT)


def stop(process: subprocess.Popen[bytes], timeout_s: float = 30) -> None:
    """Interrupt the process group, then escalate to SIGTERM and SIGKILL if it lingers."""
    interrupt(process)
    for sig, wait in ((None, timeout_s), (signal.SIGTERM, 5), (signal.SIGKILL, 5)):
        if sig is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, sig)
        try:
            process.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue


@contextlib.contextmanager
def background(args: Sequence[str], env: dict[str, str], log_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Run a child in its own session (so SIGINT reaches it even from a non-interactive shell)."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            list(args),
            env=env,
            cwd=project_root(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield process
        finally:
            stop(process)


#: What the sandbox's Databricks emulator executes statements on: the local engine (given by name, because the
#: sandbox imports nothing of the product).
SANDBOX_SQL_ENGINE = "ppm_resources.lakehouse.local:LocalLakehouse"


def sandbox_command(port: int, tls_port: int, tls_dir: Path) -> list[str]:
    """The sandbox: Notion, Databricks and the control plane over HTTP on `port`, Azure over HTTPS on `tls_port`
    with a certificate written to `tls_dir` (`ca.pem`), which the Azure clients trust; the Databricks emulator's
    tables and volumes are kept in `tls_dir/databricks`, so they outlive a restart like the local lakehouse."""
    return [
        str(BIN / "ppm-sandbox"),
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--tls-port",
        str(tls_port),
        "--tls-dir",
        str(tls_dir),
        "--databricks-engine",
        SANDBOX_SQL_ENGINE,
        "--databricks-dir",
        str(tls_dir / "databricks"),
    ]


def dagster_dev_command(port: int) -> list[str]:
    return [
        str(BIN / "dagster"),
        "dev",
        "-w",
        str(project_root() / "workspace.yaml"),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
