"""End to end against the sandbox: a sync on a damaged bronze table fails with the damage, and the recovery
command it prints, run as printed, brings bronze and silver back."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from deltalake import DeltaTable

from ppm_resources.lakehouse import LocalLakehouse
from ppm_sandbox import SandboxServer

BIN = Path(sys.executable).parent
BRONZE = "bronze.notion_raw_pages"
LATEST_PAGES = f"SELECT count(DISTINCT page_id) AS pages FROM {BRONZE}"


def ppm(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([BIN / "ppm", *args], env=env, capture_output=True, text=True, check=False)


def test_the_printed_recovery_rebuilds_bronze_after_its_first_data_file_is_truncated(
    tmp_path: Path, sandbox: SandboxServer, sandbox_env
) -> None:
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
        "PPM_LAKEHOUSE_DIR": str(tmp_path / "lakehouse"),
        **sandbox_env(sandbox),
        "NOTION_RATE_LIMIT_RPS": "200",
    }
    first = ppm(env, "sync")
    assert first.returncode == 0, first.stdout + first.stderr
    lakehouse = LocalLakehouse(root=env["PPM_LAKEHOUSE_DIR"])
    pages = lakehouse.query(LATEST_PAGES).to_pylist()
    tables = lakehouse.tables()
    damaged = Path(DeltaTable(str(lakehouse.path(BRONZE)), version=0).file_uris()[0])
    damaged.write_bytes(damaged.read_bytes()[:100])

    failed = ppm(env, "sync")
    assert failed.returncode == 1
    assert f"[table {BRONZE}] damaged Delta table: data file {damaged} is truncated" in failed.stderr
    assert "Traceback" not in failed.stderr
    # the step's log and the run summary both show it
    (recovery,) = {line for line in failed.stderr.splitlines() if line.startswith("  to recover: ")}
    command = recovery.removeprefix("  to recover: ")
    assert command.endswith("&& ppm sync --full-sync")

    recovered = subprocess.run(command, shell=True, env=env, capture_output=True, text=True, check=False)
    assert recovered.returncode == 0, recovered.stdout + recovered.stderr
    assert lakehouse.query(LATEST_PAGES).to_pylist() == pages
    assert Path(f"{lakehouse.path(BRONZE)}.damaged").is_dir()  # kept for inspection
    assert lakehouse.tables() == tables
    for table in lakehouse.tables():  # every table reads again
        lakehouse.info(table)
