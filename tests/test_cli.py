"""`ppm` commands: headless materialization into a Dagster instance, health, and lakehouse maintenance."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from ppm_cli.cli import main
from ppm_resources.lakehouse import LocalLakehouse

PPM = str(Path(sys.executable).parent / "ppm")


@pytest.fixture(scope="module")
def materialized(tmp_path_factory, sandbox, sandbox_env) -> dict[str, str]:
    """A lakehouse and an instance after one `ppm materialize` against the sandbox."""
    base = tmp_path_factory.mktemp("cli")
    env = {
        **os.environ,
        "DAGSTER_HOME": str(base / "dagster_home"),
        "PPM_LAKEHOUSE_DIR": str(base / "lakehouse"),
        **sandbox_env(sandbox),
        "NOTION_RATE_LIMIT_RPS": "200",
    }
    result = subprocess.run([PPM, "materialize"], env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "succeeded" in result.stdout, result.stdout + result.stderr
    from ppm_assets.definitions import defs

    every_asset = len(defs.resolve_asset_graph().get_all_asset_keys())
    assert f"{every_asset} assets materialized" in result.stdout
    return env


def test_materialize_records_the_run_in_the_instance(materialized):
    from dagster import DagsterInstance

    os.environ["DAGSTER_HOME"] = materialized["DAGSTER_HOME"]
    try:
        with DagsterInstance.get() as instance:
            runs = instance.get_runs()
            # one run per Azure subscription (3 in the sandbox), the Notion-partitioned part, then the
            # month-partitioned gold and what follows it (the unpartitioned rest, Azure silver and gold included)
            assert len(runs) == 5 and all(run.is_success for run in runs)
            partitions = sorted(run.tags.get("dagster/partition", "") for run in runs)
            assert len([p for p in partitions if p]) == 3
    finally:
        del os.environ["DAGSTER_HOME"]
    assert (Path(materialized["DAGSTER_HOME"]) / "dagster.yaml").is_file()


def test_materialize_fails_with_the_settings_message(tmp_path):
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path), "PPM_ENV": "staging"}
    result = subprocess.run([PPM, "materialize"], env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 1
    assert "PPM_ENV='staging': Input should be 'local' or 'databricks'" in result.stderr
    assert "Traceback" not in result.stderr


def test_lakehouse_maintenance_commands(materialized, monkeypatch):
    for name in (
        "PPM_LAKEHOUSE_DIR",
        "PPM_SANDBOX_URL",
        "PPM_SANDBOX_AZURE_URL",
        "PPM_SANDBOX_CA_CERT",
        "NOTION_RATE_LIMIT_RPS",
    ):
        monkeypatch.setenv(name, materialized[name])
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(main, list(args), catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    assert "silver.fx_rates" in run("lakehouse", "tables")
    assert "ok" in run("health")
    assert "WRITE" in run("lakehouse", "history", "silver.fx_rates")
    lakehouse = LocalLakehouse(root=materialized["PPM_LAKEHOUSE_DIR"])
    lakehouse.replace("silver.fx_rates", "SELECT * FROM silver.fx_rates WHERE currency = 'EUR'")
    assert "current version is now 2" in run("lakehouse", "restore", "silver.fx_rates", "0")
    # every (currency, to_currency) pair of the three configured currencies, 48 months
    assert lakehouse.info("silver.fx_rates").num_rows == 3 * 3 * 48
    assert "would delete 0 files" in run("lakehouse", "vacuum", "silver.fx_rates", "--dry-run")
    assert "numFilesAdded" in run("lakehouse", "optimize", "silver.fx_rates")


def run_ppm(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PPM, *args], env=env, capture_output=True, text=True, check=False)


def test_sync_commands_run_the_assets_and_record_runs(materialized):
    incremental = run_ppm(materialized, "sync")
    assert incremental.returncode == 0, incremental.stderr
    assert "incremental sync of every Notion database" in incremental.stdout
    assert "7 assets materialized (11 partitions)" in incremental.stdout  # bronze (5), watermarks, 5 silver
    one = run_ppm(materialized, "sync-database", "risks", "--full-sync")
    assert one.returncode == 0, one.stderr
    assert "3 assets materialized" in one.stdout  # bronze, the watermarks table (no longer stale), silver
    assert "risks: 200 fetched, 0 new, 200 unchanged" in one.stderr + one.stdout
    dry = run_ppm(materialized, "sync", "--dry-run")
    assert dry.returncode == 0 and "0 assets materialized" in dry.stdout
    unknown = run_ppm(materialized, "sync-database", "invoices")
    assert unknown.returncode == 1
    assert "no Notion database 'invoices' in config/notion_mapping.yaml; known: programs" in unknown.stderr


def test_sync_database_records_the_fate_of_named_and_vanished_pages(materialized, clean_sandbox, tmp_path):
    """`--page-id` and `--list-pages`: what on-call runs when a trashed page is still in silver."""
    env = {**materialized, "PPM_LAKEHOUSE_DIR": str(tmp_path / "lakehouse")}
    assert run_ppm(env, "sync-database", "risks").returncode == 0
    trashed, deleted = (page["id"] for page in clean_sandbox.notion.truth("risks")[:2])
    clean_sandbox.notion.trash_page(trashed)
    clean_sandbox.notion.delete_page(deleted)
    named = run_ppm(env, "sync-database", "risks", "--page-id", trashed)
    assert named.returncode == 0, named.stderr
    listed = run_ppm(env, "sync-database", "risks", "--list-pages")
    assert listed.returncode == 0, listed.stderr
    lakehouse = LocalLakehouse(root=env["PPM_LAKEHOUSE_DIR"])
    archived = lakehouse.query("SELECT page_id FROM silver.risks WHERE is_archived").column("page_id")
    assert sorted(archived.to_pylist()) == sorted([trashed, deleted])


def test_a_dry_run_does_not_hide_a_failed_sync_from_status(materialized, clean_sandbox, tmp_path):
    env = {**materialized, "PPM_LAKEHOUSE_DIR": str(tmp_path / "lakehouse")}
    clean_sandbox.faults.set(fail_next=[{"status": 401, "count": 5, "path": "/query"}])
    try:
        failed = run_ppm(env, "sync-database", "risks")
    finally:
        clean_sandbox.faults.set(fail_next=[])
    assert failed.returncode == 1
    dry = run_ppm(env, "sync-database", "risks", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    problems = run_ppm(env, "status", "--problems")
    assert "bronze/notion_raw_pages" in problems.stdout and "FAILURE" in problems.stdout, problems.stdout


def test_health_checks_every_database(materialized):
    result = run_ppm(materialized, "health")
    assert result.returncode == 0, result.stderr
    for name in ("programs", "projects", "budget_lines", "risks", "actions"):
        assert f"notion: {name}: ok" in result.stdout
    assert "notion write-back: ok (Action pages found by 'Source ID')" in result.stdout


def test_health_names_a_missing_write_back_property(materialized, clean_sandbox):
    clean_sandbox.notion.rename_property("actions", "Source ID", "External ID")
    result = run_ppm(materialized, "health")
    assert result.returncode == 1
    assert "has no property 'Source ID' (mapped to source_id)" in result.stderr, result.stderr


def test_health_fails_fast_on_a_bad_token_without_showing_it(materialized, sandbox):
    ids = {f"NOTION_{name.upper()}_DB_ID": sandbox.notion.database(name).id
           for name in ("programs", "projects", "budget_lines", "risks", "actions")}  # fmt: skip
    env = {
        **materialized,
        **ids,
        "NOTION_TOKEN": "not-a-notion-token-4711",
        "NOTION_API_URL": sandbox.notion_url,
    }
    result = run_ppm(env, "health")
    assert result.returncode == 1
    assert "invalid token" in result.stderr.lower()
    assert "not-a-notion-token-4711" not in result.stdout + result.stderr
