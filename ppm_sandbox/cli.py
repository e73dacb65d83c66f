"""`ppm-sandbox`: serve the sandbox, or print the demo workspace's ids.

    ppm-sandbox serve --port 8765 --seed 42 --scale 1 --rate 3 --burst 10 --latency-ms 0
    ppm-sandbox serve --port 0 --rate 30 --latency-ms 200 --bench-pages 30000 --bench-databases 5
    ppm-sandbox databases --seed 42

`serve` prints one line `PPM_SANDBOX_READY {"url": ..., "notion_url": ..., "services": {...}, "pid": ...,
"databases": {...}, "ca_cert": ..., "tls_port": ..., "azure": {...}, "databricks": {...}}` to stdout once it
accepts connections (what `SandboxProcess` waits for), then serves until SIGINT/SIGTERM. `services` maps every
registered service to its base URL (Azure's is `https://127.0.0.1:<tls port>`, its certificate is `ca_cert`);
`azure` names the demo tenant, principal and subscriptions; `databricks` the workspace URL, token, warehouse id,
catalogs, volumes, engine and storage directory. `--tls-port` / `--tls-dir` place the HTTPS listener and its
certificate; `--azure-*` options size the Azure tenant and its Resource Graph quota; `--databricks-*` options
give the Databricks emulator its table engine, storage directory, token and volumes.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import click
import uvicorn

from ppm_sandbox.app import Sandbox, SandboxConfig, build_app
from ppm_sandbox.azure.config import AzureConfig
from ppm_sandbox.azure.service import AzureService
from ppm_sandbox.databricks.config import DEFAULT_TOKEN as DATABRICKS_TOKEN
from ppm_sandbox.databricks.config import DatabricksConfig
from ppm_sandbox.databricks.service import DatabricksService
from ppm_sandbox.faults import FaultSpec
from ppm_sandbox.notion.workspace import DEFAULT_ANCHOR, DEFAULT_TOKEN, NotionConfig
from ppm_sandbox.server import READY_PREFIX, bind_socket, make_uvicorn, start_tls_listeners


def _parse_rate(_ctx: click.Context, _param: click.Parameter, value: str) -> float | None:
    if value.lower() in ("unlimited", "none", "0", "inf"):
        return None
    try:
        rate = float(value)
    except ValueError as exc:
        raise click.BadParameter("a number of requests per second, or 'unlimited'") from exc
    if rate <= 0:
        raise click.BadParameter("must be > 0 (or 'unlimited')")
    return rate


def _parse_anchor(_ctx: click.Context, _param: click.Parameter, value: str | None) -> datetime:
    if value is None:
        return DEFAULT_ANCHOR
    if value == "today":
        return datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise click.BadParameter("an ISO date/datetime or 'today'") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _parse_counts(_ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]) -> dict[str, int]:
    counts = {}
    for item in values:
        key, sep, number = item.partition("=")
        if not sep or not number.isdigit():
            raise click.BadParameter(f"expected KEY=N (e.g. budget_lines=1000000), got {item!r}")
        counts[key] = int(number)
    return counts


def _notion_options(fn: click.decorators.FC) -> click.decorators.FC:
    options = [
        click.option(
            "--seed", default=42, show_default=True, type=int, help="Generator seed (ids and values)."
        ),
        click.option(
            "--scale", default=1.0, show_default=True, type=float, help="Multiply the demo page counts."
        ),
        click.option(
            "--count",
            "counts",
            multiple=True,
            callback=_parse_counts,
            help="Override one database's size: KEY=N (programs, projects, budget_lines, risks, actions).",
        ),
        click.option(
            "--bench-pages", default=0, show_default=True, type=int, help="Pages in extra 'Bench' databases."
        ),
        click.option(
            "--bench-databases", default=0, show_default=True, type=int, help="How many 'Bench' databases."
        ),
        click.option(
            "--anchor",
            default=None,
            callback=_parse_anchor,
            help="Generated times end here (ISO or 'today').",
        ),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _notion_config(
    seed: int,
    scale: float,
    counts: dict[str, int],
    bench_pages: int,
    bench_databases: int,
    anchor: datetime,
    **extra: object,
) -> NotionConfig:
    if bench_pages and not bench_databases:
        bench_databases = 1
    return NotionConfig(
        seed=seed,
        scale=scale,
        counts=counts,
        bench_pages=bench_pages,
        bench_databases=bench_databases,
        anchor=anchor,
        **extra,  # type: ignore[arg-type]
    )


@click.group()
def main() -> None:
    """Local emulators of the project's sources (Notion, Azure, Databricks) for the demo, tests and benchmarks."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8765, show_default=True, type=int, help="0 picks a free port.")
@_notion_options
@click.option(
    "--rate",
    default="3",
    show_default=True,
    callback=_parse_rate,
    help="Requests/s per token, or 'unlimited'.",
)
@click.option("--burst", default=10, show_default=True, type=int, help="Token bucket capacity.")
@click.option("--latency-ms", default=0.0, show_default=True, type=float, help="Added to every API response.")
@click.option(
    "--jitter-ms", default=0.0, show_default=True, type=float, help="Uniform extra latency in [0, jitter]."
)
@click.option(
    "--error-rate", default=0.0, show_default=True, type=float, help="Share of requests answered 5xx."
)
@click.option("--retry-after", default=None, type=int, help="Force this Retry-After (seconds) on 429s.")
@click.option(
    "--cursor-ttl", default=900.0, show_default=True, type=float, help="Seconds a start_cursor stays valid."
)
@click.option(
    "--token", "tokens", multiple=True, help="Accepted bearer tokens (default: any secret_*/ntn_* token)."
)
@click.option(
    "--tls-port", default=0, show_default=True, type=int, help="HTTPS port of Azure; 0 picks a free one."
)
@click.option(
    "--tls-dir",
    default=None,
    type=click.Path(file_okay=False, path_type=Path),
    help="Keep the self-signed certificate and key here (reused while valid). Default: a temporary directory.",
)
@click.option("--azure-seed", default=None, type=int, help="Azure generator seed (default: --seed).")
@click.option(
    "--azure-resources",
    default=2000,
    show_default=True,
    type=int,
    help="Azure resources over 3 subscriptions.",
)
@click.option(
    "--azure-bench-resources",
    default=0,
    show_default=True,
    type=int,
    help="Benchmark: this many resources, all in the first subscription (e.g. 100000).",
)
@click.option(
    "--azure-recommendations", default=300, show_default=True, type=int, help="Advisor recommendations."
)
@click.option(
    "--azure-quota",
    default=15,
    show_default=True,
    type=int,
    help="Resource Graph queries per window per principal.",
)
@click.option(
    "--azure-quota-window",
    default=5.0,
    show_default=True,
    type=float,
    help="Resource Graph quota window (s).",
)
@click.option(
    "--azure-retry-after/--azure-no-retry-after",
    default=True,
    show_default=True,
    help="Whether Resource Graph's 429 carries Retry-After (besides x-ms-user-quota-resets-after).",
)
@click.option(
    "--azure-deny",
    "azure_denied",
    multiple=True,
    help="A subscription id the demo principal cannot read (repeatable).",
)
@click.option(
    "--databricks-engine",
    default=None,
    metavar="MODULE:ATTR",
    help="Table engine factory of the Databricks emulator, called with root=<dir> per catalog "
    "(e.g. ppm_resources.lakehouse.local:LocalLakehouse). Without one every statement fails.",
)
@click.option(
    "--databricks-dir",
    default=None,
    type=click.Path(file_okay=False, path_type=Path),
    help="Where Databricks tables, volumes and the catalog live (kept). Default: a temporary directory.",
)
@click.option(
    "--databricks-token",
    default=DATABRICKS_TOKEN,
    show_default=True,
    help="Accepted Databricks personal access token (any dapi-sandbox* token is accepted too).",
)
@click.option(
    "--databricks-volume",
    "databricks_volumes",
    multiple=True,
    metavar="C.S.V",
    help="A Unity Catalog volume (and its schema) to create at start-up (repeatable).",
)
@click.option("--log-level", default="warning", show_default=True)
@click.option(
    "--exit-with-parent", is_flag=True, help="Stop when the launching process dies (SandboxProcess)."
)
def serve(
    host: str,
    port: int,
    seed: int,
    scale: float,
    counts: dict[str, int],
    bench_pages: int,
    bench_databases: int,
    anchor: datetime,
    rate: float | None,
    burst: int,
    latency_ms: float,
    jitter_ms: float,
    error_rate: float,
    retry_after: int | None,
    cursor_ttl: float,
    tokens: tuple[str, ...],
    tls_port: int,
    tls_dir: Path | None,
    azure_seed: int | None,
    azure_resources: int,
    azure_bench_resources: int,
    azure_recommendations: int,
    azure_quota: int,
    azure_quota_window: float,
    azure_retry_after: bool,
    azure_denied: tuple[str, ...],
    databricks_engine: str | None,
    databricks_dir: Path | None,
    databricks_token: str,
    databricks_volumes: tuple[str, ...],
    log_level: str,
    exit_with_parent: bool,
) -> None:
    """Serve the sandbox until interrupted."""
    notion = _notion_config(
        seed,
        scale,
        counts,
        bench_pages,
        bench_databases,
        anchor,
        cursor_ttl_s=cursor_ttl,
        tokens=tokens or None,
    )
    faults = FaultSpec(
        rate=rate,
        burst=burst,
        latency_ms=latency_ms,
        jitter_ms=jitter_ms,
        error_rate=error_rate,
        retry_after_s=retry_after,
    )
    azure = AzureConfig(
        seed=seed if azure_seed is None else azure_seed,
        resources=azure_resources,
        bench_resources=azure_bench_resources,
        recommendations=azure_recommendations,
        quota=azure_quota,
        quota_window_s=azure_quota_window,
        retry_after=azure_retry_after,
        denied_subscriptions=azure_denied,
    )
    # Without --databricks-dir the tables live in a temporary directory removed when serve exits (below: a
    # SIGTERM ends the process without running exit handlers).
    databricks_temp = (
        None if databricks_dir is not None else tempfile.TemporaryDirectory(prefix="ppm-sandbox-databricks-")
    )
    databricks = DatabricksConfig(
        engine=databricks_engine,
        storage_dir=str(databricks_dir) if databricks_temp is None else databricks_temp.name,
        token=databricks_token,
        volumes=tuple(v.lower() for v in databricks_volumes),
    )
    try:
        faults.validate()
        azure.validate()
        databricks.validate()
        sandbox = Sandbox(
            SandboxConfig(notion=notion, faults=faults, services={"azure": azure, "databricks": databricks})
        )
    except ValueError as exc:
        if databricks_temp is not None:
            databricks_temp.cleanup()
        raise click.UsageError(str(exc)) from exc
    app = build_app(sandbox=sandbox)
    sock = bind_socket(host, port)
    bound_port = sock.getsockname()[1]
    server = make_uvicorn(app, log_level=log_level)
    url = f"http://{host}:{bound_port}"
    # Without --tls-dir the certificate lives in a temporary directory removed when serve exits.
    temp_dir = None if tls_dir is not None else tempfile.TemporaryDirectory(prefix="ppm-sandbox-tls-")
    directory = tls_dir if temp_dir is None else Path(temp_dir.name)
    assert directory is not None
    listeners, tls_files = start_tls_listeners(sandbox, host, tls_port, directory, log_level=log_level)
    service_urls = {
        name: f"https://{host}:{listeners[name].port}" if service.tls else f"{url}{service.prefix}"
        for name, service in sandbox.services.items()
    }

    original_startup = server.startup

    async def startup_then_announce(sockets: list | None = None) -> None:
        await original_startup(sockets=sockets)
        info: dict[str, object] = {
            "url": url,
            "notion_url": f"{url}{sandbox.service('notion').prefix}",
            "services": service_urls,
            "pid": os.getpid(),
            "token_hint": DEFAULT_TOKEN,
            "databases": {
                d["key"]: {
                    "title": d["title"],
                    "database_id": d["database_id"],
                    "data_source_id": d["data_source_id"],
                }
                for d in sandbox.notion.describe()
            },
            "ca_cert": None if tls_files is None else str(tls_files.cert),
            "tls_port": next((listener.port for listener in listeners.values()), 0),
        }
        if "azure" in sandbox.services:
            info["azure"] = sandbox.service("azure", AzureService).describe()
        if "databricks" in sandbox.services:
            described = sandbox.service("databricks", DatabricksService).describe()
            info["databricks"] = {"url": service_urls["databricks"], **described}
        sys.stdout.write(READY_PREFIX + json.dumps(info) + "\n")
        sys.stdout.flush()

    original_shutdown = server.shutdown

    async def shutdown_then_clean(sockets: list | None = None) -> None:
        # Here, not after run(): uvicorn re-raises SIGTERM once it has shut down, which ends the process.
        await original_shutdown(sockets=sockets)
        for listener in listeners.values():
            listener.stop()
        if temp_dir is not None:
            temp_dir.cleanup()
        if databricks_temp is not None:
            databricks_temp.cleanup()

    server.startup = startup_then_announce  # type: ignore[method-assign]
    server.shutdown = shutdown_then_clean  # type: ignore[method-assign]
    if exit_with_parent:
        _exit_with_parent(server)
    server.run(sockets=[sock])


def _exit_with_parent(server: uvicorn.Server) -> None:
    """A benchmark killed mid-run must not leave its sandbox serving forever."""
    parent = os.getppid()

    def watch() -> None:
        while not server.should_exit:
            if os.getppid() != parent:
                server.should_exit = True
                return
            time.sleep(0.5)

    threading.Thread(target=watch, name="ppm-sandbox:parent-watch", daemon=True).start()


@main.command()
@_notion_options
def databases(
    seed: int, scale: float, counts: dict[str, int], bench_pages: int, bench_databases: int, anchor: datetime
) -> None:
    """Print the workspace's databases (ids, sizes) as JSON without serving."""
    from ppm_sandbox.notion.store import NotionStore

    store = NotionStore(_notion_config(seed, scale, counts, bench_pages, bench_databases, anchor))
    click.echo(json.dumps({"databases": store.describe(), "defects": len(store.defects())}, indent=2))


if __name__ == "__main__":
    main()
