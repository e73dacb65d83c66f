"""COPY INTO from a volume: files uploaded with the Files API, loaded once (a persisted ledger), into a
schemaless placeholder made by CREATE TABLE IF NOT EXISTS."""

import io
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.sandbox.databricks_conftest_helpers import Workspace, databricks_workspace, workspace_fixture

VOLUME = "/Volumes/main/raw/landing"
COPY = (
    f"COPY INTO main.raw.events FROM '{VOLUME}/events' FILEFORMAT = PARQUET "
    "FORMAT_OPTIONS ('mergeSchema' = 'true') COPY_OPTIONS ('mergeSchema' = 'true')"
)


ws = workspace_fixture(volumes=("main.raw.landing",))


@pytest.fixture
def clean(ws: Workspace) -> Iterator[Workspace]:
    ws.reset()
    ws.ok("CREATE TABLE IF NOT EXISTS main.raw.events")
    yield ws
    ws.reset()


def upload(ws: Workspace, name: str, table: pa.Table) -> None:
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    buffer.seek(0)
    ws.client.files.upload(f"{VOLUME}/events/{name}", buffer, overwrite=True)


def events(ids: list[int], **extra: list[object]) -> pa.Table:
    return pa.table({"id": pa.array(ids, pa.int64()), **extra})


def loaded(ws: Workspace, statement: str = COPY) -> list[str]:
    response = ws.ok(statement)
    assert [c.name for c in response.manifest.schema.columns] == [
        "num_affected_rows",
        "num_inserted_rows",
        "num_skipped_corrupt_files",
    ]
    return response.result.data_array[0]


def test_copy_into_loads_new_files_once(clean: Workspace) -> None:
    assert clean.rows("SHOW TABLES IN main.raw") == [["raw", "events", "false"]]
    upload(clean, "a.parquet", events([1, 2]))
    upload(clean, "b.parquet", events([3], label=["x"]))
    assert loaded(clean) == ["3", "3", "0"]
    assert clean.rows("SELECT id, label FROM main.raw.events ORDER BY id") == [
        ["1", None],
        ["2", None],
        ["3", "x"],
    ]
    # A re-run loads nothing: both files are in the table's ledger.
    assert loaded(clean) == ["0", "0", "0"]
    upload(clean, "c.parquet", events([4]))
    assert loaded(clean) == ["1", "1", "0"]
    assert clean.rows("SELECT count(*) FROM main.raw.events") == [["4"]]
    forced = COPY.replace("'mergeSchema' = 'true')", "'mergeSchema' = 'true', 'force' = 'true')")
    assert loaded(clean, forced) == ["4", "4", "0"]
    ledger = clean.control.get("/catalog").json()["loaded_files"]["main.raw.events"]
    assert ledger == [f"{VOLUME}/events/{name}" for name in ("a.parquet", "b.parquet", "c.parquet")]


def test_files_and_pattern_choose_the_files(clean: Workspace) -> None:
    for name, ids in [("2026-01.parquet", [1]), ("2026-02.parquet", [2]), ("2027-01.parquet", [3])]:
        upload(clean, name, events(ids))
    head = f"COPY INTO main.raw.events FROM '{VOLUME}/events' FILEFORMAT = PARQUET"
    merge = "COPY_OPTIONS ('mergeSchema' = 'true')"
    assert loaded(clean, f"{head} FILES = ('2027-01.parquet') {merge}") == ["1", "1", "0"]
    assert loaded(clean, f"{head} PATTERN = '2026-*.parquet' {merge}") == ["2", "2", "0"]
    assert loaded(clean, f"{head} {merge}") == ["0", "0", "0"]


def test_missing_files_and_schema_changes_fail(clean: Workspace) -> None:
    upload(clean, "a.parquet", events([1]))
    head = f"COPY INTO main.raw.events FROM '{VOLUME}/events' FILEFORMAT = PARQUET"
    message = clean.failure(f"{head} FILES = ('missing.parquet') COPY_OPTIONS ('mergeSchema' = 'true')")
    assert message.startswith("[PATH_NOT_FOUND]") and "missing.parquet" in message
    assert clean.failure(
        f"COPY INTO main.raw.events FROM '{VOLUME}/nowhere' FILEFORMAT = PARQUET"
    ).startswith("[PATH_NOT_FOUND]")
    # Without mergeSchema the placeholder (no columns) cannot take the files' columns.
    assert clean.failure(head).startswith("[COPY_INTO_SCHEMA_MISMATCH_WITH_TARGET_TABLE]")
    assert loaded(clean) == ["1", "1", "0"]
    upload(clean, "b.parquet", events([2], extra=["new column"]))
    assert clean.failure(head).startswith("[COPY_INTO_SCHEMA_MISMATCH_WITH_TARGET_TABLE]")
    assert clean.failure(f"{head.replace('main.raw.events', 'main.raw.nope')}").startswith(
        "[TABLE_OR_VIEW_NOT_FOUND]"
    )
    assert clean.failure(head.replace("PARQUET", "CSV")).startswith("[PARSE_SYNTAX_ERROR]")


def test_corrupt_files_fail_unless_ignored(clean: Workspace) -> None:
    clean.client.files.upload(f"{VOLUME}/events/bad.parquet", io.BytesIO(b"not parquet"), overwrite=True)
    upload(clean, "good.parquet", events([1]))
    assert clean.failure(COPY).startswith("[FAILED_READ_FILE.NO_HINT]")
    ignoring = COPY.replace("FORMAT_OPTIONS (", "FORMAT_OPTIONS ('ignoreCorruptFiles' = 'true', ")
    assert loaded(clean, ignoring) == ["1", "1", "1"]


def test_the_ledger_survives_a_restart(tmp_path: Path) -> None:
    with databricks_workspace(tmp_path, volumes=("main.raw.landing",)) as first:
        first.ok("CREATE TABLE IF NOT EXISTS main.raw.events")
        upload(first, "a.parquet", events([1, 2]))
        assert loaded(first) == ["2", "2", "0"]
    with databricks_workspace(tmp_path, volumes=("main.raw.landing",)) as second:
        assert loaded(second) == ["0", "0", "0"]
        assert second.rows("SELECT count(*) FROM main.raw.events") == [["2"]]
