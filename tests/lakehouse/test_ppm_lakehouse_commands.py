"""`ppm lakehouse tables|history|restore` and `ppm query` on damaged tables and on hostile page content: a
message and the recovery command (exit 1, no traceback), and text that cannot drive the terminal."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pyarrow as pa
import pytest
from click.testing import CliRunner, Result
from deltalake import DeltaTable

from ppm_cli.cli import main
from ppm_resources.lakehouse import LocalLakehouse

BRONZE = "bronze.notion_raw_pages"
# C0 and C1 controls, DEL, and the bidi and zero-width characters that make text read other than it is.
FORBIDDEN = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200b\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]"
)
HOSTILE = "\x1b[2J\x1b]52;c;cHduZWQ=\x07Budget\rFY25 \u202egpj.exe\u200b"
FRIENDLY = "Café Zürich 東京 🎉 👩\u200d💻"


@pytest.fixture
def lakehouse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LocalLakehouse:
    """Five bronze appends and a healthy silver table, the lakehouse of `ppm`."""
    lakehouse = LocalLakehouse(root=str(tmp_path / "lakehouse"))
    for sync in range(5):
        rows = pa.table({"database_name": ["projects"], "page_id": [f"page-{sync}"]})
        lakehouse.append(BRONZE, rows, partition_by=["database_name"])
    lakehouse.replace("silver.projects", pa.table({"page_id": ["p1", "p2"], "name": [HOSTILE, FRIENDLY]}))
    monkeypatch.setenv("PPM_LAKEHOUSE_DIR", lakehouse.root)
    return lakehouse


def ppm(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def assert_failed_cleanly(result: Result) -> None:
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)  # `_fail`, not an exception escaping the command
    assert "Traceback" not in result.output


def delete_log_commit(lakehouse: LocalLakehouse, version: int) -> None:
    (lakehouse.path(BRONZE) / "_delta_log" / f"{version:020d}.json").unlink()


# -- damaged tables ------------------------------------------------------------------------------------------
def test_tables_lists_every_table_and_marks_the_damaged_one(lakehouse):
    delete_log_commit(lakehouse, 2)
    result = ppm("lakehouse", "tables")
    assert_failed_cleanly(result)
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"{BRONZE:40} DAMAGED: log version 2 is missing")
    assert lines[0].endswith(f"to recover: ppm lakehouse restore {BRONZE} 1 && ppm sync --full-sync")
    assert re.match(r"silver\.projects +version +0  rows +2$", lines[1])
    assert f"1 damaged: {BRONZE}" in result.stderr


def test_history_and_restore_after_a_deleted_log_commit(lakehouse, caplog):
    delete_log_commit(lakehouse, 2)
    history = ppm("lakehouse", "history", BRONZE)
    assert_failed_cleanly(history)
    assert history.stderr.splitlines() == [
        f"[table {BRONZE}] damaged Delta table: log version 2 is missing (_delta_log/00000000000000000002.json), "
        "so versions 2 to 4 cannot be loaded; version 1 is the newest readable",
        f"  to recover: ppm lakehouse restore {BRONZE} 1 && ppm sync --full-sync",
    ]
    too_new = ppm("lakehouse", "restore", BRONZE, "3")
    assert_failed_cleanly(too_new)
    assert "cannot restore version 3: log version 2 is missing" in too_new.stderr

    restored = ppm("lakehouse", "restore", BRONZE, "1")
    assert restored.exit_code == 0, restored.output
    assert f"restored {BRONZE} to version 1; current version is now 1" in restored.stdout
    # a warning (printed by `ppm`, whose logging is not configured) says where the unloadable commits went
    aside = Path(lakehouse.root) / "_damaged"
    assert f"versions 2 and later could not be loaded; their log entries were moved to {aside}" in caplog.text
    assert [line.split()[0] for line in ppm("lakehouse", "history", BRONZE).stdout.splitlines()] == ["1", "0"]
    assert "2 rows" in ppm("query", f"SELECT * FROM {BRONZE}").stderr


def test_a_truncated_first_data_file_is_named_with_the_rebuild(lakehouse):
    damaged = Path(DeltaTable(str(lakehouse.path(BRONZE)), version=0).file_uris()[0])
    damaged.write_bytes(damaged.read_bytes()[:20])
    path = lakehouse.path(BRONZE)
    rebuild = f"to recover: mv {path} {path}.damaged && ppm sync --full-sync"

    tables = ppm("lakehouse", "tables")
    assert_failed_cleanly(tables)
    assert f"DAMAGED: data file {damaged} is truncated or not Parquet" in tables.stdout
    assert "silver.projects" in tables.stdout
    restore = ppm("lakehouse", "restore", BRONZE, "3")
    assert_failed_cleanly(restore)
    assert "cannot restore version 3: data file" in restore.stderr and rebuild in restore.stderr
    query = ppm("query", f"SELECT count(*) FROM {BRONZE}")
    assert_failed_cleanly(query)
    assert "query failed: [table bronze.notion_raw_pages] damaged Delta table: data file" in query.stderr
    assert rebuild in query.stderr
    history = ppm("lakehouse", "history", BRONZE)  # the log is intact: history still shows every version
    assert history.exit_code == 0 and len(history.stdout.splitlines()) == 5


# -- hostile page content ------------------------------------------------------------------------------------
def test_query_escapes_control_and_bidi_characters_and_keeps_other_text(lakehouse):
    result = ppm("query", "SELECT name FROM silver.projects ORDER BY page_id")
    assert result.exit_code == 0, result.output
    assert not FORBIDDEN.search(result.stdout)
    assert result.stdout.splitlines() == [
        "name",
        "\\x1b[2J\\x1b]52;c;cHduZWQ=\\x07Budget\\rFY25 \\u202egpj.exe\\u200b",
        FRIENDLY,
    ]


def test_query_json_escapes_them_too_and_stays_exact(lakehouse):
    result = ppm("query", "--json", 'SELECT page_id, name AS "ti\u202etle" FROM silver.projects ORDER BY 1')
    assert result.exit_code == 0, result.output
    assert not FORBIDDEN.search(result.stdout)
    assert [json.loads(line) for line in result.stdout.splitlines()] == [
        {"page_id": "p1", "ti\u202etle": HOSTILE},
        {"page_id": "p2", "ti\u202etle": FRIENDLY},
    ]


def test_failure_messages_quoting_page_content_are_escaped(lakehouse):
    result = ppm("query", "SELECT CAST(name AS INT) FROM silver.projects WHERE page_id = 'p1'")
    assert_failed_cleanly(result)
    assert "\\x1b[2J" in result.stderr and not FORBIDDEN.search(result.stderr)


def test_history_escapes_what_a_writer_put_in_the_commit(lakehouse):
    commit = lakehouse.path("silver.projects") / "_delta_log" / f"{0:020d}.json"
    commit.write_text(
        commit.read_text().replace('"operation":"WRITE"', '"operation":"WRITE\\u001b[2J\\u202e"')
    )
    result = ppm("lakehouse", "history", "silver.projects")
    assert result.exit_code == 0, result.output
    assert "WRITE\\x1b[2J\\u202e" in result.stdout and not FORBIDDEN.search(result.stdout)
