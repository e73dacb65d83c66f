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

Services with `tls = True` (Azure) get their own HTTPS listener (a second uvicorn server in its own
thread), serving their API at `/`: `service_url("azure")` is `https://127.0.0.1:<tls_port>` and `ca_cert`
the PEM of the self-signed certificate made at start-up (`tls.py`) that clients must trust
(`connection_verify=str(sandbox.ca_cert)` for the Azure SDKs, `verify=` for httpx).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, overload

import httpx
import uvicorn
from starlette.types import ASGIApp

from ppm_sandbox.app import Sandbox, SandboxConfig, build_app, build_tls_app
from ppm_sandbox.clock import SandboxClock
from ppm_sandbox.faults import FaultController, Stats
from ppm_sandbox.notion.store import NotionStore
from ppm_sandbox.services import SandboxService, ServiceRegistry, ServiceT
from ppm_sandbox.tls import TlsFiles, ensure_certificate

READY_PREFIX = "PPM_SANDBOX_READY "


def bind_socket(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """A listening TCP socket; port 0 picks a free one (read it back from getsockname)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.setblocking(False)
    return sock


def make_uvicorn(app: ASGIApp, *, log_level: str = "warning", tls: TlsFiles | None = None) -> uvicorn.Server:
    config = uvicorn.Config(
        app,
        log_level=log_level,
        access_log=False,
        date_header=False,  # the app sends the sandbox clock's time instead
        lifespan="off",
        timeout_graceful_shutdown=2,
        timeout_keep_alive=30,
        backlog=2048,
        ssl_certfile=None if tls is None else str(tls.cert),
        ssl_keyfile=None if tls is None else str(tls.key),
    )
    return uvicorn.Server(config)


class Listener:
    """One uvicorn server on an already bound socket, run in a daemon thread."""

    def __init__(
        self, app: ASGIApp, sock: socket.socket, *, log_level: str, tls: TlsFiles | None = None
    ) -> None:
        self.sock = sock
        self.tls = tls is not None
        self.port: int = sock.getsockname()[1]
        self.server = make_uvicorn(app, log_level=log_level, tls=tls)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [sock]}, name=f"ppm-sandbox:{self.port}", daemon=True
        )

    def start(self, timeout: float = 15.0) -> Listener:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"sandbox listener on port {self.port} did not start")
            time.sleep(0.01)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self.server.should_exit = True
        if self.tls:
            # Clients keep idle TLS connections in their pools; closing one gracefully waits for a
            # close_notify they never send, which would hold the shutdown for its whole grace period.
            deadline = time.monotonic() + timeout
            while self.thread.is_alive() and time.monotonic() < deadline:
                for protocol in list(self.server.server_state.connections):
                    transport = getattr(protocol, "transport", None)
                    loop = getattr(protocol, "loop", None)
                    if transport is not None and loop is not None and not loop.is_closed():
                        with contextlib.suppress(RuntimeError):
                            loop.call_soon_threadsafe(transport.abort)
                self.thread.join(0.05)
        if self.thread.is_alive():
            self.thread.join(timeout)


def start_tls_listeners(
    sandbox: Sandbox, host: str, tls_port: int, tls_dir: Path, *, log_level: str = "warning"
) -> tuple[dict[str, Listener], TlsFiles | None]:
    """An HTTPS listener per `tls` service (the first on `tls_port`, the others on free ports), all with
    the certificate kept in `tls_dir`; returns them started, and the certificate (None without tls services)."""
    names = sandbox.tls_services
    if not names:
        return {}, None
    files = ensure_certificate(tls_dir, [host])
    listeners: dict[str, Listener] = {}
    try:
        for n, name in enumerate(names):
            sock = bind_socket(host, tls_port if n == 0 else 0)
            listeners[name] = Listener(
                build_tls_app(sandbox, name), sock, log_level=log_level, tls=files
            ).start()
    except BaseException:
        for listener in listeners.values():
            listener.stop()
        raise
    return listeners, files


class SandboxServer:
    """The sandbox served by uvicorn in daemon threads on 127.0.0.1 (context manager): the HTTP app, and an
    HTTPS listener per `tls` service (Azure)."""

    def __init__(
        self,
        config: SandboxConfig | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        log_level: str = "warning",
        services: ServiceRegistry | None = None,
        tls_port: int = 0,
        tls_dir: Path | str | None = None,
    ) -> None:
        """`services`: the registry to build from (default `ppm_sandbox.registry.SERVICES`); `tls_port`: port of
        the (first) HTTPS listener, 0 = free; `tls_dir`: where the certificate and key are kept (reused while
        valid), default a temporary directory removed on `stop()`."""
        self.sandbox = Sandbox(config, services=services)
        self.app = build_app(sandbox=self.sandbox)
        self.host = host
        self._requested_port = port
        self._requested_tls_port = tls_port
        self._tls_dir = None if tls_dir is None else Path(tls_dir)
        self._temp_dir: tempfile.TemporaryDirectory[str] | None = None
        self._log_level = log_level
        self._http: Listener | None = None
        self._tls: dict[str, Listener] = {}
        self._tls_files: TlsFiles | None = None
        self.port = 0

    # lifecycle ---------------------------------------------------------------------
    def start(self, timeout: float = 15.0) -> SandboxServer:
        if self._http is not None:
            return self
        http = Listener(self.app, bind_socket(self.host, self._requested_port), log_level=self._log_level)
        self.port = http.port
        http.start(timeout)
        self._http = http
        try:
            directory = self._tls_dir
            if directory is None and self.sandbox.tls_services:
                self._temp_dir = tempfile.TemporaryDirectory(prefix="ppm-sandbox-tls-")
                directory = Path(self._temp_dir.name)
            if directory is not None:
                self._tls, self._tls_files = start_tls_listeners(
                    self.sandbox, self.host, self._requested_tls_port, directory, log_level=self._log_level
                )
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self, timeout: float = 10.0) -> None:
        for listener in [*self._tls.values(), *([self._http] if self._http else [])]:
            listener.stop(timeout)
        self._http = None
        self._tls = {}
        self._tls_files = None
        if self._temp_dir is not None:
            self._temp_dir.cleanup()
            self._temp_dir = None

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
        """Base URL of a registered service's API: `{url}/notion`, or `https://127.0.0.1:<port>` for a tls
        service (available once started)."""
        service = self.sandbox.service(name)
        if service.tls:
            listener = self._tls.get(name)
            if listener is None:
                raise RuntimeError(f"the sandbox is not started: no https listener for {name!r} yet")
            return f"https://{self.host}:{listener.port}"
        return f"{self.url}{service.prefix}"

    @property
    def notion_url(self) -> str:
        return self.service_url("notion")

    @property
    def tls_ports(self) -> dict[str, int]:
        """Port of each tls service's HTTPS listener."""
        return {name: listener.port for name, listener in self._tls.items()}

    @property
    def tls_port(self) -> int:
        """Port of the first tls service's HTTPS listener (0 when there is none)."""
        return next(iter(self.tls_ports.values()), 0)

    @property
    def ca_cert(self) -> Path:
        """PEM of the HTTPS listeners' self-signed certificate: the CA file clients must trust."""
        if self._tls_files is None:
            raise RuntimeError("no https listener: the sandbox is not started or has no tls service")
        return self._tls_files.cert

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
        tls_port: int = 0,
        tls_dir: Path | str | None = None,
        extra_args: Sequence[str] = (),
        startup_timeout: float = 60.0,
    ) -> None:
        """`tls_port` / `tls_dir`: the HTTPS listener's port (0 = free) and certificate directory (default:
        a temporary one the child removes when it exits); `extra_args` go to `ppm-sandbox serve` as they are
        (e.g. `["--azure-quota-window", "1"]`)."""
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
            "--tls-port",
            str(tls_port),
            "--exit-with-parent",
        ]
        if tls_dir is not None:
            args += ["--tls-dir", str(tls_dir)]
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
    def ca_cert(self) -> Path:
        """PEM of the child's HTTPS certificate (what Azure clients must trust)."""
        return Path(self.info["ca_cert"])

    @property
    def tls_port(self) -> int:
        return int(self.info["tls_port"])

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
