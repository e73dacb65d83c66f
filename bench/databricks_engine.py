"""Benchmark: the demo's full materialization on the local engine and on the Databricks engine (DESIGN §3, §9).

One sandbox process (`ppm-sandbox serve`, demo workspace, no Notion rate limit) serves Notion, Azure and the
Databricks emulator, which executes what it receives on the local engine in a temporary directory. The whole asset
graph is materialized in process (what `ppm materialize` runs) twice from the same source data, with the resources
`build_resources` makes (as the demo does): once with `PPM_ENV=local`, once with `PPM_ENV=databricks` (the real
SDK over HTTP); the Notion workspace is reset in between, so both runs read the same pages. Reported per run:
total seconds and seconds per asset step, and for Databricks the statements each asset issued (the emulator's
statement log, attributed by step start/end times). Prints one JSON object.

    .venv/bin/python bench/databricks_engine.py
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import dagster as dg
import httpx

from ppm_assets.definitions import defs as product_defs
from ppm_cli.demo import SANDBOX_SQL_ENGINE
from ppm_cli.materialize import materialize_all
from ppm_resources.resources import build_resources
from ppm_resources.settings import load_settings
from ppm_sandbox import SandboxProcess


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def step_windows(instance: dg.DagsterInstance) -> list[tuple[str, float, float]]:
    """(step key, start, end) of every step of every run in `instance`, as epoch seconds."""
    windows = []
    for run in instance.get_runs():
        for stats in instance.get_run_step_stats(run.run_id):
            if stats.start_time and stats.end_time:
                windows.append((stats.step_key, stats.start_time, stats.end_time))
    return windows


def run_graph(engine: str, home: Path) -> tuple[float, dict[str, float], list]:
    """Materialize everything with `PPM_ENV=engine`, resources from `build_resources` as the demo makes them."""
    os.environ["PPM_ENV"] = engine
    defs = dg.Definitions(
        assets=product_defs.assets,
        asset_checks=product_defs.asset_checks,
        resources=build_resources(load_settings(env_file=None)),
    )
    home.mkdir(parents=True)
    with dg.instance_for_test(temp_dir=str(home)) as instance:
        started = time.perf_counter()
        summary = materialize_all(defs, instance, log_level="WARNING")
        total = time.perf_counter() - started
        if not summary.success:
            raise SystemExit(f"materialization failed: {summary.errors}")
        windows = step_windows(instance)
    per_step: Counter[str] = Counter()
    for step, start, end in windows:
        per_step[step] += end - start
    return total, {k: round(v, 2) for k, v in sorted(per_step.items())}, windows


def attribute(statements: list[dict[str, Any]], windows: list[tuple[str, float, float]]) -> Counter[str]:
    """Statements per step: each statement goes to the step running when it was submitted."""
    counts: Counter[str] = Counter()
    for statement in statements:
        at = _epoch(statement["submitted_at"])
        step = next((s for s, start, end in windows if start - 0.05 <= at <= end + 0.05), "(outside a step)")
        counts[step] += 1
    return counts


def _epoch(value: Any) -> float:
    if isinstance(value, int | float):
        return float(value)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="ppm-bench-databricks-") as tmp:
        base = Path(tmp)
        extra = ["--databricks-engine", SANDBOX_SQL_ENGINE, "--databricks-dir", str(base / "emulator")]
        with SandboxProcess(rate=None, extra_args=extra) as sandbox:
            control = f"{sandbox.info['url']}/_sandbox"
            os.chdir(base)  # the write locks go under ./.state
            os.environ.update(
                {
                    "PPM_SANDBOX_URL": sandbox.info["url"],
                    "PPM_SANDBOX_AZURE_URL": sandbox.service_url("azure"),
                    "PPM_SANDBOX_CA_CERT": str(sandbox.ca_cert),
                    "PPM_LAKEHOUSE_DIR": str(base / "local"),
                    # The sandbox has no Notion rate limit here: the engines are measured, not Notion's 3 req/s.
                    "NOTION_RATE_LIMIT_RPS": "500",
                    "NOTION_RATE_LIMIT_BURST": "100",
                }
            )
            log("materializing on the local engine ...")
            local_s, local_steps, _ = run_graph("local", base / "home-local")
            log(f"local: {local_s:.1f} s")
            httpx.post(f"{control}/notion/reset", timeout=60).raise_for_status()  # the same pages again
            log("materializing on the Databricks engine (the sandbox's emulator) ...")
            db_s, db_steps, windows = run_graph("databricks", base / "home-databricks")
            log(f"databricks: {db_s:.1f} s")
            listed = httpx.get(f"{control}/databricks/statements", timeout=60).json()
            statements = listed["statements"] if isinstance(listed, dict) else listed
    per_step = attribute(statements, windows)
    print(
        json.dumps(
            {
                "benchmark": "databricks_engine",
                "local": {"total_s": round(local_s, 1), "seconds_per_step": local_steps},
                "databricks_emulator": {
                    "total_s": round(db_s, 1),
                    "seconds_per_step": db_steps,
                    "statements_total": len(statements),
                    "statements_per_step": dict(sorted(per_step.items())),
                },
                "ratio_databricks_to_local": round(db_s / local_s, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
