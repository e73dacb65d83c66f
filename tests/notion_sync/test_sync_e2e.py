"""Notion -> bronze -> silver end to end against the sandbox over real HTTP."""

import math
from collections import Counter

import pytest

from ppm_resources.lakehouse import LakehouseError, LocalLakehouse


def test_first_sync_equals_the_sandbox_truth_row_for_row(pipeline):
    result = pipeline.materialize_bronze()
    assert result.success
    metadata = result.asset_materializations_for_node("bronze__notion_raw_pages")[0].metadata
    assert metadata["pages_written"].value == sum(
        pipeline.sandbox.notion.count_live(n) for n in pipeline.mapping.names
    )
    assert metadata["notion_429s"].value == 0
    assert pipeline.materialize_silver().success
    for name in pipeline.mapping.names:
        pipeline.assert_silver_matches_truth(name)


def test_incremental_sync_without_changes_makes_one_query_per_database(pipeline):
    assert pipeline.materialize_bronze().success
    pipeline.sandbox.stats.reset()
    result = pipeline.materialize_bronze()
    assert result.success
    assert pipeline.query_requests() == len(pipeline.mapping.names)
    metadata = result.asset_materializations_for_node("bronze__notion_raw_pages")[0].metadata
    assert metadata["pages_written"].value == 0


def test_incremental_sync_of_k_changes_reads_only_them(pipeline):
    pipeline.sync(["budget_lines"])
    store = pipeline.sandbox.notion
    k = 150
    changed = [page["id"] for page in store.truth("budget_lines")[:k]]
    for index, page_id in enumerate(changed):
        store.edit_page(page_id, {"Amount": 1000 + index})
    pipeline.sandbox.stats.reset()
    report = pipeline.sync(["budget_lines"])
    assert pipeline.query_requests() <= math.ceil(k / 100) + 1
    assert report.databases["budget_lines"].written == k
    pipeline.build_silver(["budget_lines"])
    pipeline.assert_silver_matches_truth("budget_lines")


def test_trash_delete_and_unshare_become_archived_rows_on_reconciliation(pipeline):
    pipeline.sync()
    store = pipeline.sandbox.notion
    trashed, deleted, unshared, kept = (page["id"] for page in store.truth("risks")[:4])
    store.trash_page(trashed)
    store.delete_page(deleted)
    store.unshare(unshared)
    incremental = pipeline.sync(["risks"])
    assert incremental.databases["risks"].tombstones == 0  # queries do not return trashed pages
    full = pipeline.sync(["risks"], full_sync=True)
    assert full.databases["risks"].tombstones == 3
    pipeline.build_silver(["risks"])
    silver = pipeline.silver("risks")
    assert [silver[p]["is_archived"] for p in (trashed, deleted, unshared, kept)] == [True, True, True, False]
    assert silver[trashed]["title"] is not None  # a trashed page keeps its last values
    pipeline.assert_silver_matches_truth("risks")
    assert pipeline.sync(["risks"], full_sync=True).databases["risks"].tombstones == 0  # recorded once


class CrashingLakehouse(LocalLakehouse):
    """Fails the Nth append, like a process killed mid-sync (earlier commits stay, later never happen)."""

    crash_on_append: int = 3
    appends: int = 0

    def append(self, table, data, *, partition_by=None):
        object.__setattr__(self, "appends", self.appends + 1)
        if self.appends == self.crash_on_append:
            raise LakehouseError("simulated crash", table=table)
        return super().append(table, data, partition_by=partition_by)


def test_a_crash_after_n_batches_then_a_rerun_leaves_no_gap_and_no_duplicate(pipeline):
    crashing = CrashingLakehouse(root=pipeline.lakehouse.root)
    with pytest.raises(LakehouseError, match="simulated crash"):
        pipeline.sync(["budget_lines"], batch_rows=200, lakehouse=crashing)
    committed = pipeline.lakehouse.info("bronze.notion_raw_pages").num_rows
    assert 0 < committed < pipeline.sandbox.notion.count_live("budget_lines")
    pipeline.sync(["budget_lines"], batch_rows=200)
    rows = pipeline.lakehouse.query(
        "SELECT page_id, content_hash FROM bronze.notion_raw_pages WHERE database_name = 'budget_lines'"
    ).to_pylist()
    duplicates = [key for key, n in Counter((r["page_id"], r["content_hash"]) for r in rows).items() if n > 1]
    assert duplicates == []
    pipeline.build_silver(["budget_lines"])
    pipeline.assert_silver_matches_truth("budget_lines")


def test_a_dry_run_writes_nothing_and_reports_counts(pipeline):
    result = pipeline.materialize_bronze(["programs", "projects"], dry_run=True)
    assert result.success
    assert not pipeline.lakehouse.exists("bronze.notion_raw_pages")
    assert result.asset_materializations_for_node("bronze__notion_raw_pages") == []
    observations = [
        event.event_specific_data.asset_observation
        for event in result.all_events
        if event.event_type_value == "ASSET_OBSERVATION"
    ]
    assert sorted(o.partition for o in observations) == ["programs", "projects"]
    expected = pipeline.sandbox.notion.count_live("programs") + pipeline.sandbox.notion.count_live("projects")
    assert observations[0].metadata["pages_written"].value == expected


def test_watermarks_table_shows_where_each_sync_stands(pipeline):
    import dagster as dg

    from ppm_assets.notion.watermarks import notion_sync_watermarks

    assert pipeline.materialize_bronze().success
    assert dg.materialize([notion_sync_watermarks], resources={"lakehouse": pipeline.lakehouse}).success
    rows = {
        r["database_name"]: r
        for r in pipeline.lakehouse.query("SELECT * FROM bronze.notion_sync_watermarks").to_pylist()
    }
    assert set(rows) == set(pipeline.mapping.names)
    for name, row in rows.items():
        truth = pipeline.sandbox.notion.truth(name)
        assert row["pages_seen"] == len(truth)
        # a complete scan has handed out everything up to the newest edit
        assert row["watermark"].isoformat()[:16] == max(p["last_edited_time"] for p in truth)[:16]
