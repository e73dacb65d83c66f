"""Benchmark: deletion lag, from a project trashed in Notion until it is gone from silver and from gold.

Everything runs as in production, on this machine, like `bench/freshness_lag.py`: the Notion sandbox at
Notion's 3 requests/s, a fresh lakehouse and Dagster instance, one `ppm materialize` so bronze, silver and gold
exist (setup, rate limit lifted), then the Dagster daemon. Once the first tick's runs are done and the instance
is quiet, a live project that has budget lines is trashed through the sandbox's control endpoint (t0). Then:

- silver_lag_s: until `silver.projects` shows the page archived. The change sensor's id listing sees the page
  missing (at most one listing interval: every 30-s cycle for the demo workspace), its run retrieves the page
  and writes the tombstone, and rebuilds silver.
- gold_lag_s: until the project is in neither `gold.project_health` nor `gold.budget_vs_actual`: the
  `gold_after_notion_deletions` sensor requests both gold jobs when the sync run succeeds.

Target (docs/architecture.md): one sensor cycle plus the runs. `critical_path_s` splits silver_lag_s as
freshness_lag does; `runs` lists every run since t0. Prints one JSON object; progress goes to stderr.

    .venv/bin/python bench/deletion_lag.py [--timeout 600] [--settle 5] [--log-dir DIR]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import dagster as dg
import httpx
from freshness_lag import (
    BenchError,
    breakdown,
    check_alive,
    daemon_running,
    initial_sync,
    log,
    production_like,
    rounded,
    run_bench,
    run_records,
    sensor_ticks,
    status_counts,
    tail,
    tick_spacing,
    wait_run_end,
    wait_until_quiet,
    writer_run,
)

from ppm_resources.lakehouse import LocalLakehouse

SENSOR = "notion_change_sensor"
SILVER_KEY = dg.AssetKey(["silver", "projects"])
GOLD_KEY = dg.AssetKey(["gold", "project_health"])
CHECKS = {
    "silver": "SELECT count(*) AS n FROM silver.projects WHERE page_id = :page_id AND NOT is_archived",
    "gold.project_health": "SELECT count(*) AS n FROM gold.project_health WHERE project_page_id = :page_id",
    "gold.budget_vs_actual": "SELECT count(*) AS n FROM gold.budget_vs_actual "
    "WHERE dimension = 'project' AND dimension_key = :page_id",
}


def pick_project(lakehouse: LocalLakehouse) -> str:
    """A live project in gold with budget lines: its removal shows in both gold tables."""
    rows = lakehouse.query(
        "SELECT h.project_page_id AS page_id FROM gold.project_health h "
        "JOIN gold.budget_vs_actual b ON b.dimension = 'project' AND b.dimension_key = h.project_page_id "
        "GROUP BY h.project_page_id ORDER BY h.project_page_id LIMIT 1"
    ).to_pylist()
    if not rows:
        raise BenchError("no project with budget lines in gold after the setup")
    return str(rows[0]["page_id"])


def trash(sandbox_url: str, page_id: str) -> None:
    response = httpx.post(f"{sandbox_url}/_sandbox/notion/pages/{page_id}/trash", timeout=30)
    response.raise_for_status()


def wait_gone(
    lakehouse: LocalLakehouse,
    page_id: str,
    *,
    instance: dg.DagsterInstance,
    daemon: Any,
    log_path: Path,
    t0: float,
    timeout_s: float,
) -> dict[str, float]:
    """Seconds after t0 at which each of CHECKS first counted 0 rows for the page."""
    gone: dict[str, float] = {}
    last_report = time.monotonic()
    while len(gone) < len(CHECKS):
        for name, sql in CHECKS.items():
            if (
                name not in gone
                and lakehouse.query(sql, params={"page_id": page_id}).to_pylist()[0]["n"] == 0
            ):
                gone[name] = time.time() - t0
                log(f"gone from {name} after {gone[name]:.1f} s")
        now = time.monotonic()
        if now - last_report >= 10:
            last_report = now
            check_alive(daemon, log_path)
            log(
                f"still there after {time.time() - t0:.0f} s: runs {status_counts(run_records(instance, t0 - 1))}"
            )
        if time.time() - t0 > timeout_s:
            missing = sorted(set(CHECKS) - set(gone))
            raise BenchError(
                f"the trashed project is still in {', '.join(missing)} {timeout_s:.0f} s later; runs since: "
                f"{status_counts(run_records(instance, t0 - 1))}; daemon log ({log_path}):\n{tail(log_path)}"
            )
        time.sleep(0.5)
    return gone


def measure(args: argparse.Namespace, root: Path) -> dict[str, Any]:
    with production_like(args, root) as setup:
        sandbox, lakehouse, daemon_log = setup.sandbox, setup.lakehouse, setup.daemon_log
        setup_s = initial_sync(sandbox, setup.env, "materialize")
        log(f"initial ppm materialize done in {setup_s:.1f} s")
        page_id = pick_project(lakehouse)
        with daemon_running(setup) as (daemon, instance):
            wait_until_quiet(instance, daemon, daemon_log, settle_s=args.settle, timeout_s=args.setup_timeout)
            setup_runs = run_records(instance)

            t0 = time.time()
            trash(sandbox.url, page_id)
            log(f"trashed project {page_id}")
            gone = wait_gone(
                lakehouse,
                page_id,
                instance=instance,
                daemon=daemon,
                log_path=daemon_log,
                t0=t0,
                timeout_s=args.timeout,
            )
            for table in (SILVER_KEY, GOLD_KEY):
                writer = writer_run(instance, run_records(instance, t0 - 1), table)
                if writer is not None:
                    wait_run_end(instance, writer.dagster_run.run_id, args.drain)
            details = breakdown(instance, t0, t0 + gone["silver"], SILVER_KEY)
            spacing = tick_spacing(sensor_ticks(instance, SENSOR))
            log("stopping dagster-daemon")

    gold_lag = max(gone["gold.project_health"], gone["gold.budget_vs_actual"])
    details.pop("pipeline_s", None)
    return {
        "benchmark": "deletion_lag",
        "silver_lag_s": round(gone["silver"], 2),
        "gold_lag_s": round(gold_lag, 2),
        "gone_after_s": {name: round(value, 2) for name, value in gone.items()},
        "sensor": SENSOR,
        "sensor_tick_spacing_s": rounded(spacing),
        **details,
        "setup": {"initial_materialize_s": round(setup_s, 1), "runs_before_trash": status_counts(setup_runs)},
    }


def main() -> None:
    run_bench("deletion_lag", __doc__, "the project to leave gold", measure)


if __name__ == "__main__":
    main()
