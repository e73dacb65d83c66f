"""Two syncs of the same databases at once (a `notion_api` pool raised to 2, or two Dagster instances sharing one
lakehouse) store every page version once: appends are idempotent per (page, content hash) under the
lakehouse's own write lock."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from ppm_resources.lakehouse import LocalLakehouse
from ppm_resources.lakehouse.errors import LakehouseError

from .conftest import Pipeline

DUPLICATES = """
SELECT page_id, content_hash, count(*) AS n FROM bronze.notion_raw_pages
GROUP BY page_id, content_hash HAVING count(*) > 1
"""


def _concurrently(*jobs) -> None:
    errors: list[BaseException] = []

    def run(job) -> None:
        try:
            job()
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors


@pytest.mark.parametrize("batch_rows", [7, 50, 5_000])
def test_two_full_syncs_at_once_store_each_version_once(
    pipeline: Pipeline, tmp_path: Path, batch_rows: int
) -> None:
    root = str(tmp_path / "shared")
    # Two lakehouse resources on one directory: what two instances (or two run workers) hold.
    first, second = LocalLakehouse(root=root), LocalLakehouse(root=root)
    names = ["risks", "actions"]
    _concurrently(
        lambda: pipeline.sync(names, lakehouse=first, full_sync=True, batch_rows=batch_rows),
        lambda: pipeline.sync(names, lakehouse=second, full_sync=True, batch_rows=batch_rows),
    )
    assert first.query(DUPLICATES).num_rows == 0
    stored = first.query("SELECT count(DISTINCT page_id) AS n, count(*) AS rows FROM bronze.notion_raw_pages")
    live = len(pipeline.sandbox.notion.truth("risks")) + len(pipeline.sandbox.notion.truth("actions"))
    assert stored.to_pylist() == [{"n": live, "rows": live}]
    pipeline.lakehouse = first  # silver built from the shared lakehouse equals the sandbox
    pipeline.build_silver(names)
    pipeline.assert_silver_matches_truth("risks")
    pipeline.assert_silver_matches_truth("actions")


def test_a_writer_waits_for_the_lock_then_fails_naming_the_holder(tmp_path: Path) -> None:
    holder = LocalLakehouse(root=str(tmp_path))
    waiter = LocalLakehouse(root=str(tmp_path), lock_timeout_s=0.3)
    held = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with holder.write_lock("bronze.notion_raw_pages"):
            held.set()
            release.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        held.wait(10)
        message = r"another writer has held the write lock for more than .* \(pid \d+ on "
        with pytest.raises(LakehouseError, match=message), waiter.write_lock("bronze.notion_raw_pages"):
            pass
    finally:
        release.set()
        thread.join()
    with waiter.write_lock("bronze.notion_raw_pages"):  # released with its holder
        pass
