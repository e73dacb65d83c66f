"""Run the sandbox: in a background thread (tests) or in a child process (benchmarks).

with SandboxServer(SandboxConfig(faults=FaultSpec.unlimited())) as sandbox:
    httpx.post(f"{sandbox.notion_url}/v1/databases/{db_id}/query", ...)
    sandbox.notion.edit_page(page_id, {"Amount": 10})      # live state, same process
    sandbox.faults.set(rate=30, latency_ms=200)             # the Notion gate
    sandbox.stats.snapshot()
    sandbox.service_url("notion"), sandbox.service("notion"), sandbox.fault_controller("notion")

with SandboxProcess(rate=30, latency_ms=200, bench_pages=30_000, bench_databases=1) as proc:
    ...                                                     # client RSS measured alone
    proc.set_faults(fail_next=[{"status": 503, "count": 2}]); proc.stats()

`notion_url`, `notion` and `faults` are shortcuts for the Notion service; `service_url(name)`,
`service(name)` and `fault_controller(name)` reach any registered service the same way.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, overload

import httpx
import uvicorn

from ppm_sandbox.app import Sandbox, SandboxApp, SandboxConfig, build_app
from ppm_sandbox.clock import SandboxClock
from ppm_sandbox.faults import FaultController, Stats
from ppm_sandbox.notion.store import NotionStore
from ppm_sandbox.services import SandboxService, ServiceRegistry, ServiceT

READY_PREFIX = "PPM_SANDBOX_READY "


def bind_socket(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """A listening TCP socket; port 0 picks a free one (read it back from getsockname)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.setblocking(False)
    return sock


def make_uvicorn(app: SandboxApp, *, log_level: str = "warning") -> uvicorn.Server:
    config = uvicorn.Config(
        app,
        log_level=log_level,
        access_log=False,
        date_header=False,  # the app sends the sandbox clock's time instead
        lifespan="off",
        timeout_graceful_shutdown=2,
        timeout_keep_alive=30,
        backlog=2048,
    )
    return uvicorn.Server(config)


class SandboxServer:
    """The sandbox served by uvicorn in a daemon thread on 127.0.0.1 (context manager)."""

    def __init__(
        self,
        config: SandboxConfig | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        log_level: str = "warning",
        services: ServiceRegistry | None = None,
    ) -> None:
        """`services`: the registry to build from (default `ppm_sandbox.registry.SERVICES`)."""
        self.sandbox = Sandbox(config, services=services)
        self.app = build_app(sandbox=self.sandbox)
        self.host = host
        self._requested_port = port
        self._log_level = log_level
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    # lifecycle ---------------------------------------------------------------------
    def start(self, timeout: float = 15.0) -> SandboxServer:
        if self._thread is not None:
            return self
        sock = bind_socket(self.host, self._requested_port)
        self.port = sock.getsockname()[1]
        self._server = make_uvicorn(self.app, log_level=self._log_level)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name=f"ppm-sandbox:{self.port}", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"sandbox server on port {self.port} did not start")
            time.sleep(0.01)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout)
        self._server = None
        self._thread = None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # addresses ---------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def service_url(self, name: str) -> str:
        """Base URL of a registered service's API (`{url}/notion`)."""
        return f"{self.url}{self.sandbox.service(name).prefix}"

    @property
    def notion_url(self) -> str:
        return self.service_url("notion")

    # live state --------------------------------------------------------------------
    @overload
    def service(self, name: str) -> SandboxService: ...
    @overload
    def service(self, name: str, kind: type[ServiceT]) -> ServiceT: ...
    def service(self, name: str, kind: type[SandboxService] | None = None) -> SandboxService:
        """The live service registered as `name` (see `Sandbox.service`)."""
        return self.sandbox.service(name) if kind is None else self.sandbox.service(name, kind)

    def fault_controller(self, name: str) -> FaultController:
        """The fault controller of one service's gate (rate limit, latency, fail_next, ...)."""
        return self.sandbox.fault_controller(name)

    @property
    def notion(self) -> NotionStore:
        return self.sandbox.notion

    @property
    def faults(self) -> FaultController:
        """The Notion service's fault controller (rate limit, latency, fail_next, ...)."""
        return self.fault_controller("notion")

    @property
    def stats(self) -> Stats:
        return self.sandbox.stats

    @property
    def clock(self) -> SandboxClock:
        return self.sandbox.clock

    def set_faults(self, **changes: Any) -> dict[str, Any]:
        """Same as `POST /_sandbox/faults` (every service; a service's own keys, like cursor_*, go to it)."""
        return self.sandbox.apply_faults(changes)

    def reset(self) -> None:
        """Start-up faults, zeroed stats, real clock: what tests call between cases."""
        self.sandbox.reset_faults()
        self.sandbox.stats.reset()
        self.sandbox.clock.real()


class SandboxProcess:
    """`ppm-sandbox serve` in a child process, for benchmarks that measure the client alone."""

    def __init__(
        self,
        *,
        port: int = 0,
        seed: int = 42,
        scale: float = 1.0,
        counts: Mapping[str, int] | None = None,
        bench_pages: int = 0,
        bench_databases: int = 0,
        rate: float | None = 3.0,
        burst: int = 10,
        latency_ms: float = 0.0,
        jitter_ms: float = 0.0,
        anchor: str | None = None,
        extra_args: Sequence[str] = (),
        startup_timeout: float = 60.0,
    ) -> None:
        args = [
            sys.executable,
            "-m",
            "ppm_sandbox.cli",
            "serve",
            "--port",
            str(port),
            "--seed",
            str(seed),
            "--scale",
            str(scale),
            "--rate",
            "unlimited" if rate is None else str(rate),
            "--burst",
            str(burst),
            "--latency-ms",
            str(latency_ms),
            "--jitter-ms",
            str(jitter_ms),
            "--bench-pages",
            str(bench_pages),
            "--bench-databases",
            str(bench_databases),
            "--exit-with-parent",
        ]
        for key, count in (counts or {}).items():
            args += ["--count", f"{key}={count}"]
        if anchor:
            args += ["--anchor", anchor]
        self.args = [*args, *extra_args]
        self.startup_timeout = startup_timeout
        self.process: subprocess.Popen[str] | None = None
        self.info: dict[str, Any] = {}

    def start(self) -> SandboxProcess:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(self.args, stdout=subprocess.PIPE, text=True, env=env)
        assert self.process.stdout is not None
        deadline = time.monotonic() + self.startup_timeout
        ready: list[str] = []

        def read_ready() -> None:
            assert self.process is not None and self.process.stdout is not None
            for line in self.process.stdout:
                if line.startswith(READY_PREFIX):
                    ready.append(line[len(READY_PREFIX) :])
                    return

        reader = threading.Thread(target=read_ready, daemon=True)
        reader.start()
        reader.join(max(0.0, deadline - time.monotonic()))
        if not ready:
            self.stop()
            raise RuntimeError(f"sandbox process did not report ready: {' '.join(self.args)}")
        self.info = json.loads(ready[0])
        return self

    def stop(self, timeout: float = 10.0) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        if self.process.stdout is not None:
            self.process.stdout.close()
        self.process = None

    def __enter__(self) -> SandboxProcess:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def pid(self) -> int:
        return int(self.info["pid"])

    @property
    def url(self) -> str:
        return str(self.info["url"])

    def service_url(self, name: str) -> str:
        """Base URL of a service's API, from the ready line (KeyError if not registered)."""
        return str(self.info["services"][name])

    @property
    def notion_url(self) -> str:
        return str(self.info["notion_url"])

    @property
    def databases(self) -> dict[str, dict[str, str]]:
        """Database key -> {title, database_id, data_source_id}."""
        return dict(self.info.get("databases", {}))

    # control plane over HTTP -------------------------------------------------------
    def _control(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> Any:
        response = httpx.request(method, f"{self.url}/_sandbox{path}", json=body, timeout=30)
        response.raise_for_status()
        return response.json()

    def set_faults(self, **changes: Any) -> dict[str, Any]:
        return self._control("POST", "/faults", changes)

    def reset_faults(self) -> dict[str, Any]:
        return self._control("DELETE", "/faults")

    def stats(self) -> dict[str, Any]:
        return self._control("GET", "/stats")

    def reset_stats(self) -> dict[str, Any]:
        return self._control("POST", "/stats/reset")

    def rss_bytes(self) -> int | None:
        """Resident set size of the sandbox process (Linux /proc), or None."""
        with contextlib.suppress(OSError, ValueError, IndexError):
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        return None
