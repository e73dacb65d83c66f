"""A damaged Delta table (a log commit deleted or cut, a data file truncated or lost) is reported as such, with
the newest version that still reads and the command that recovers it; restore brings it back."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pyarrow as pa
import pytest
from deltalake import DeltaTable

from ppm_assets.notion.watermarks import notion_sync_watermarks
from ppm_resources.lakehouse import LakehouseError, LocalLakehouse
from ppm_resources.lakehouse.damage import rebuild_command
from ppm_resources.lakehouse.errors import DamagedTableError
from ppm_resources.run_errors import root_cause_message

BRONZE = "bronze.notion_raw_pages"
SYNCS = 5  # versions 0..4, one append each, as five sync flushes would leave them


def bronze_rows(sync: int) -> pa.Table:
    """One page per sync, with the columns bronze.notion_sync_watermarks reads."""
    stamp = datetime(2025, 1, 1 + sync, tzinfo=UTC)
    return pa.table(
        {
            "database_name": ["projects"],
            "database_id": ["db-projects"],
            "page_id": [f"page-{sync}"],
            "last_edited_time": [stamp],
            "complete_before": [stamp],
            "deleted": [False],
            "synced_at": [stamp],
            "sync_run_id": [f"run-{sync}"],
        }
    )


@pytest.fixture
def lakehouse(tmp_path: Path) -> LocalLakehouse:
    lakehouse = LocalLakehouse(root=str(tmp_path / "lakehouse"))
    for sync in range(SYNCS):
        lakehouse.append(BRONZE, bronze_rows(sync), partition_by=["database_name"])
    return lakehouse


def log_file(lakehouse: LocalLakehouse, table: str, version: int) -> Path:
    return lakehouse.path(table) / "_delta_log" / f"{version:020d}.json"


def first_data_file(lakehouse: LocalLakehouse, table: str) -> Path:
    return Path(DeltaTable(str(lakehouse.path(table)), version=0).file_uris()[0])


def pages(lakehouse: LocalLakehouse, sql: str = f"SELECT page_id FROM {BRONZE}") -> list[str]:
    return sorted(lakehouse.query(sql).column("page_id").to_pylist())


# -- a missing log commit ------------------------------------------------------------------------------------
def test_a_deleted_middle_log_commit_is_reported_with_the_version_before_it(lakehouse):
    log_file(lakehouse, BRONZE, 2).unlink()
    expected = (
        "log version 2 is missing (_delta_log/00000000000000000002.json), so versions 2 to 4 cannot be "
        "loaded; version 1 is the newest readable"
    )
    for read in (
        lambda: lakehouse.query(f"SELECT count(*) FROM {BRONZE}"),
        lambda: lakehouse.info(BRONZE),
        lambda: lakehouse.history(BRONZE),
        lambda: lakehouse.version(BRONZE),
        lambda: lakehouse.append(BRONZE, bronze_rows(9)),
    ):
        with pytest.raises(DamagedTableError) as caught:
            read()
        assert caught.value.table == BRONZE and expected in str(caught.value)
        assert caught.value.recovery == f"ppm lakehouse restore {BRONZE} 1 && ppm sync --full-sync"
        assert (caught.value.readable_version, caught.value.unreadable_from) == (1, 2)
    # the versions before the gap are still there to inspect
    assert pages(lakehouse, f"SELECT page_id FROM {BRONZE} VERSION AS OF 1") == ["page-0", "page-1"]


def test_restore_across_a_missing_log_commit_moves_the_unloadable_commits_aside(lakehouse):
    log_file(lakehouse, BRONZE, 2).unlink()
    restored = lakehouse.restore(BRONZE, 0)
    # versions 3 and 4 were unloadable: the table went back to 1, then the restore of 0 committed version 2
    assert (restored.version, restored.operation) == (2, "RESTORE")
    assert pages(lakehouse) == ["page-0"]
    aside = list((Path(lakehouse.root) / "_damaged").iterdir())
    assert len(aside) == 1 and aside[0].name.startswith(f"{BRONZE}.")
    assert sorted(p.name for p in aside[0].iterdir()) == [f"{v:020d}.json" for v in (3, 4)]
    assert lakehouse.append(BRONZE, bronze_rows(9)).version == 3  # writable again
    assert lakehouse.tables() == [BRONZE]


def test_restore_to_the_version_before_the_gap_needs_no_new_commit(lakehouse):
    log_file(lakehouse, BRONZE, 3).unlink()
    assert lakehouse.restore(BRONZE, 2).version == 2
    assert pages(lakehouse) == ["page-0", "page-1", "page-2"]


def test_restore_to_a_version_after_the_gap_is_refused_with_the_one_that_works(lakehouse):
    log_file(lakehouse, BRONZE, 2).unlink()
    with pytest.raises(DamagedTableError, match="cannot restore version 3: log version 2 is missing"):
        lakehouse.restore(BRONZE, 3)
    assert log_file(lakehouse, BRONZE, 3).exists()  # nothing was moved


def test_a_cut_log_commit_is_damage_too(lakehouse):
    commit = log_file(lakehouse, BRONZE, 3)
    commit.write_text(commit.read_text()[:40])
    with pytest.raises(DamagedTableError, match=r"log version 3 does not parse .* version 2 is the newest"):
        lakehouse.info(BRONZE)


def test_a_missing_first_commit_leaves_only_a_rebuild(lakehouse):
    log_file(lakehouse, BRONZE, 0).unlink()
    with pytest.raises(DamagedTableError) as caught:
        lakehouse.query(f"SELECT * FROM {BRONZE}")
    path = lakehouse.path(BRONZE)
    assert "versions 0 to 4 cannot be loaded; no version is readable" in str(caught.value)
    assert caught.value.recovery == f"mv {path} {path}.damaged && ppm sync --full-sync"


# -- a damaged data file -------------------------------------------------------------------------------------
def test_a_truncated_data_file_of_the_first_commit_is_named_with_the_rebuild(lakehouse):
    damaged = first_data_file(lakehouse, BRONZE)
    damaged.write_bytes(damaged.read_bytes()[:20])
    for read in (
        lambda: lakehouse.query(f"SELECT count(*) FROM {BRONZE}"),
        lambda: lakehouse.info(BRONZE),
        lambda: lakehouse.restore(BRONZE, 1),  # every version holds the file: nothing to restore
    ):
        with pytest.raises(DamagedTableError) as caught:
            read()
        message = str(caught.value)
        assert f"data file {damaged} is truncated or not Parquet (20 bytes, no Parquet footer)" in message
        assert "no version is readable" in message
        assert caught.value.recovery.endswith("&& ppm sync --full-sync")
    assert [entry.version for entry in lakehouse.history(BRONZE)] == [4, 3, 2, 1, 0]  # the log is intact


def test_moving_the_damaged_table_aside_lets_it_be_written_anew(lakehouse):
    damaged = first_data_file(lakehouse, BRONZE)
    damaged.write_bytes(b"")
    path = lakehouse.path(BRONZE)
    path.rename(f"{path}.damaged")  # the recovery's first command
    assert lakehouse.tables() == []  # what was moved aside is no table
    assert lakehouse.append(BRONZE, bronze_rows(0)).version == 0


def test_a_lost_data_file_of_a_replaced_table_restores_to_the_version_before(tmp_path):
    lakehouse = LocalLakehouse(root=str(tmp_path / "lakehouse"))
    for value in range(4):
        lakehouse.replace("silver.projects", pa.table({"v": [value]}))
    lost = Path(DeltaTable(str(lakehouse.path("silver.projects"))).file_uris()[0])
    lost.unlink()
    with pytest.raises(DamagedTableError) as caught:
        lakehouse.query("SELECT v FROM silver.projects")
    assert f"data file {lost} is missing; version 3 cannot be read; version 2 is the newest" in str(
        caught.value
    )
    assert caught.value.recovery == (
        "ppm lakehouse restore silver.projects 2 && ppm materialize --select 'key:\"silver/projects\"'"
    )
    assert lakehouse.restore("silver.projects", 2).version == 4
    assert lakehouse.query("SELECT v FROM silver.projects").to_pylist() == [{"v": 2}]


def test_a_select_reading_a_damaged_table_fails_the_write_with_the_damage(lakehouse):
    first_data_file(lakehouse, BRONZE).write_bytes(b"PAR1")
    with pytest.raises(DamagedTableError, match=f"table {BRONZE}.*truncated or not Parquet"):
        lakehouse.replace("silver.copy", f"SELECT * FROM {BRONZE}")
    assert not lakehouse.exists("silver.copy")


def test_an_asset_run_reading_a_damaged_table_fails_with_the_damage(lakehouse):
    log_file(lakehouse, BRONZE, 2).unlink()
    result = dg.materialize(
        [notion_sync_watermarks], resources={"lakehouse": lakehouse}, raise_on_error=False
    )
    assert not result.success
    (failure,) = result.get_step_failure_events()
    message = root_cause_message(failure.step_failure_data.error)
    assert f"[table {BRONZE}] damaged Delta table: log version 2 is missing" in message
    assert f"to recover: ppm lakehouse restore {BRONZE} 1 && ppm sync --full-sync" in message


def test_other_failures_are_not_called_damage(lakehouse):
    with pytest.raises(LakehouseError, match="cannot time-travel to 9") as caught:
        lakehouse.query(f"SELECT * FROM {BRONZE} VERSION AS OF 9")
    assert not isinstance(caught.value, DamagedTableError)
    with pytest.raises(LakehouseError, match="no_such_column") as caught:
        lakehouse.query(f"SELECT no_such_column FROM {BRONZE}")
    assert not isinstance(caught.value, DamagedTableError)


def test_the_rebuild_command_follows_the_layer():
    assert rebuild_command(BRONZE) == "ppm sync --full-sync"
    assert rebuild_command("gold.forecast") == "ppm materialize --select 'key:\"gold/forecast\"'"
