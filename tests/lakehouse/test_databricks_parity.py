"""The whole demo materialized twice from the same Notion and Azure data: on the local engine, and with
`PPM_ENV=databricks` (what `build_resources` makes) against the sandbox's Databricks emulator. Every silver and
gold table must hold the same rows, money to the cent; no asset may know which engine it ran on."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd
import pytest

from ppm_assets.definitions import defs as product_defs
from ppm_assets.tables import all_tables
from ppm_cli.materialize import materialize_all
from ppm_resources.lakehouse import Lakehouse, LocalLakehouse
from ppm_resources.lakehouse.databricks import DatabricksLakehouse
from ppm_resources.notion.mapping import load_notion_mapping
from ppm_resources.notion.resource import NotionResource
from ppm_resources.resources import build_resources
from ppm_resources.settings import load_settings
from ppm_sandbox import SandboxServer
from tests.conftest import azure_sandbox_resource, reset_sandbox

#: Columns that say when a row was written, not what it says: they differ between any two runs.
WHEN_WRITTEN = {"evaluation_id", "detected_at", "synced_at", "ingested_at", "evaluated_at", "run_id"}


def materialize_on(
    lakehouse: Lakehouse, sandbox: SandboxServer, home: Path
) -> tuple[dg.DagsterInstance, Any]:
    notion = NotionResource(
        base_url=sandbox.notion_url,
        token=f"secret_{uuid.uuid4().hex}",
        lookup_by_title=True,
        rate_limit_rps=500,
        rate_limit_burst=100,
        writeback_lock_dir=str(home / "locks"),
    )
    defs = dg.Definitions(
        assets=product_defs.assets,
        asset_checks=product_defs.asset_checks,
        resources={
            **(product_defs.resources or {}),
            "lakehouse": lakehouse,
            "notion": notion,
            "azure": azure_sandbox_resource(sandbox),
        },
    )
    home.mkdir()
    with dg.instance_for_test(temp_dir=str(home)) as instance:
        summary = materialize_all(defs, instance)
        assert summary.success, summary.errors
        events = [
            str(record.event_log_entry.dagster_event.event_specific_data)
            for record in instance.get_event_records(
                dg.EventRecordsFilter(event_type=dg.DagsterEventType.ASSET_MATERIALIZATION)
            )
        ]
    return summary, events


@pytest.fixture(scope="module")
def engines(
    sandbox: SandboxServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Lakehouse, DatabricksLakehouse, list[str]]]:
    base = tmp_path_factory.mktemp("parity")
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setenv("PPM_ENV", "databricks")
    monkeypatch.setenv("PPM_SANDBOX_URL", sandbox.url)
    monkeypatch.delenv("DATABRICKS_HOST", raising=False)
    monkeypatch.chdir(base)  # the engine's write locks go under ./.state
    try:
        databricks = build_resources(load_settings(env_file=None))["lakehouse"]
        assert isinstance(databricks, DatabricksLakehouse)
        assert databricks.host == sandbox.service_url("databricks")
        local = LocalLakehouse(root=str(base / "lakehouse"))
        reset_sandbox(sandbox)
        materialize_on(local, sandbox, base / "local")
        reset_sandbox(sandbox)  # the same Notion workspace again (the first run's write-back made pages)
        _, events = materialize_on(databricks, sandbox, base / "databricks")
        yield local, databricks, events
    finally:
        reset_sandbox(sandbox)
        monkeypatch.undo()


def frame(lakehouse: Lakehouse, table: str) -> pd.DataFrame:
    rows = lakehouse.query(f"SELECT * FROM {table}").to_pandas()
    rows = rows.drop(columns=[c for c in rows.columns if c in WHEN_WRITTEN])
    # Nested values (lists, maps) are compared by their text; rows in a canonical order.
    rows = rows.map(lambda v: repr(v) if isinstance(v, list | dict | tuple) or hasattr(v, "tolist") else v)
    return rows.sort_values(list(rows.columns), ignore_index=True, na_position="first")


TABLES = [t.name for t in all_tables(load_notion_mapping()) if t.name.split(".")[0] in ("silver", "gold")]


def test_every_silver_and_gold_table_exists_on_both_engines(engines):
    local, databricks, _ = engines
    assert set(TABLES) <= set(local.tables())
    assert set(TABLES) <= set(databricks.tables())


@pytest.mark.parametrize("table", [t for t in TABLES if t != "gold.control_room_status"])
def test_the_same_rows_on_databricks_as_on_the_local_engine(engines, table):
    local, databricks, _ = engines
    expected, actual = frame(local, table), frame(databricks, table)
    assert list(actual.columns) == list(expected.columns)
    assert len(actual) == len(expected) > 0 or table.startswith("gold.data_quality")
    pd.testing.assert_frame_equal(actual, expected, check_dtype=True)


def test_column_types_are_the_same_money_included(engines):
    local, databricks, _ = engines
    for table in TABLES:
        expected = local.query(f"SELECT * FROM {table} LIMIT 0").schema
        actual = databricks.query(f"SELECT * FROM {table} LIMIT 0").schema
        assert [(f.name, f.type) for f in actual] == [(f.name, f.type) for f in expected], table


def test_the_token_is_in_no_materialization_metadata(engines):
    _, databricks, events = engines
    assert events and not any(databricks.token in event for event in events)
