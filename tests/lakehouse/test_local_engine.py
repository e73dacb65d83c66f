"""Every LocalLakehouse operation on real Delta files under a temporary directory."""

from collections.abc import Iterator
from datetime import date

import pyarrow as pa
import pytest

from ppm_resources.lakehouse import LakehouseError, LocalLakehouse, SqlError, SqlSource, TableNotFoundError
from ppm_resources.lakehouse.duckdb_sql import _transpile, to_duckdb
from ppm_resources.lakehouse.errors import InvalidTableNameError


@pytest.fixture
def lakehouse(tmp_path) -> LocalLakehouse:
    return LocalLakehouse(root=str(tmp_path / "lakehouse"))


def pages(ids: list[str], db: str, amount: list[float]) -> pa.Table:
    return pa.table({"page_id": ids, "database_name": [db] * len(ids), "amount": amount})


def rows(lakehouse: LocalLakehouse, sql: str) -> list[dict]:
    return lakehouse.query(sql).to_pylist()


def test_append_creates_then_adds_rows_and_merges_new_columns(lakehouse):
    first = lakehouse.append(
        "bronze.pages", pages(["a", "b"], "projects", [1.0, 2.0]), partition_by=["database_name"]
    )
    assert (first.version, first.rows_written, first.operation) == (0, 2, "append")
    widened = pages(["c"], "risks", [3.0]).append_column("owner", pa.array(["ana"]))
    second = lakehouse.append("bronze.pages", widened)
    assert (second.version, second.rows_written) == (1, 1)
    assert rows(lakehouse, "SELECT page_id, owner FROM bronze.pages ORDER BY page_id") == [
        {"page_id": "a", "owner": None},
        {"page_id": "b", "owner": None},
        {"page_id": "c", "owner": "ana"},
    ]
    assert (lakehouse.path("bronze.pages") / "database_name=risks").is_dir()


def test_append_streams_a_batch_iterator(lakehouse):
    batches = (pages([f"p{i}"], "projects", [float(i)]).to_batches()[0] for i in range(5))
    result = lakehouse.append("bronze.pages", batches)
    assert result.rows_written == 5
    assert rows(lakehouse, "SELECT sum(amount) AS total FROM bronze.pages") == [{"total": 10.0}]


def test_replace_with_sql_and_with_arrow(lakehouse):
    lakehouse.append("bronze.pages", pages(["a", "b", "c"], "projects", [1.0, 2.0, 3.0]))
    result = lakehouse.replace(
        "silver.big",
        "SELECT page_id, amount * 10 AS amount FROM bronze.pages WHERE amount >= :minimum",
        params={"minimum": 2},
    )
    assert (result.rows_written, result.version) == (2, 0)
    assert rows(lakehouse, "SELECT * FROM silver.big ORDER BY page_id") == [
        {"page_id": "b", "amount": 20.0},
        {"page_id": "c", "amount": 30.0},
    ]
    lakehouse.replace("silver.big", pa.table({"other": [1]}))  # the schema may change on replace
    assert rows(lakehouse, "SELECT * FROM silver.big") == [{"other": 1}]
    assert lakehouse.info("silver.big").version == 1


def test_replace_partition_touches_only_its_partition(lakehouse):
    def month(day: str, value: int) -> str:
        return f"SELECT DATE'{day}' AS period, {value} AS value"

    lakehouse.replace_partition("gold.kpis", "period", "2024-01-01", month("2024-01-01", 1))
    lakehouse.replace_partition("gold.kpis", "period", "2024-02-01", month("2024-02-01", 2))
    lakehouse.replace_partition("gold.kpis", "period", date(2024, 1, 1), month("2024-01-01", 10))
    assert rows(lakehouse, "SELECT * FROM gold.kpis ORDER BY period") == [
        {"period": date(2024, 1, 1), "value": 10},
        {"period": date(2024, 2, 1), "value": 2},
    ]
    with pytest.raises(LakehouseError, match=r"table gold.kpis.*replace_partition failed"):
        lakehouse.replace_partition("gold.kpis", "period", "2024-01-01", month("2024-03-01", 3))
    assert lakehouse.info("gold.kpis").num_rows == 2


def test_history_time_travel_and_restore(lakehouse):
    lakehouse.replace("silver.t", pa.table({"v": [1]}))
    lakehouse.replace("silver.t", pa.table({"v": [2]}))
    lakehouse.append("silver.t", pa.table({"v": [3]}))
    history = lakehouse.history("silver.t")
    assert [entry.version for entry in history] == [2, 1, 0]
    assert history[0].operation == "WRITE" and history[0].timestamp is not None

    assert rows(lakehouse, "SELECT v FROM silver.t VERSION AS OF 0") == [{"v": 1}]
    assert rows(lakehouse, "SELECT count(*) AS n FROM silver.t VERSION AS OF 2") == [{"n": 2}]
    # a join of a table with an earlier version of itself, by alias
    assert rows(
        lakehouse,
        "SELECT now.v AS now_v, was.v AS was_v FROM silver.t VERSION AS OF 1 now, silver.t VERSION AS OF 0 was",
    ) == [{"now_v": 2, "was_v": 1}]
    stamp = history[1].timestamp.isoformat()
    assert rows(lakehouse, f"SELECT v FROM silver.t TIMESTAMP AS OF '{stamp}'") == [{"v": 2}]

    restored = lakehouse.restore("silver.t", 0)
    assert restored.version == 3 and restored.operation == "RESTORE"
    assert rows(lakehouse, "SELECT v FROM silver.t") == [{"v": 1}]
    with pytest.raises(LakehouseError, match="already at version 3"):
        lakehouse.restore("silver.t", 3)
    with pytest.raises(LakehouseError, match="version 9 does not exist"):
        lakehouse.restore("silver.t", 9)


def test_vacuum_removes_unreferenced_files_only(lakehouse):
    lakehouse.replace("silver.t", pa.table({"v": [1]}))
    lakehouse.replace("silver.t", pa.table({"v": [2]}))
    assert lakehouse.vacuum("silver.t", retention_hours=0, dry_run=True)
    data_files = {f.name for f in lakehouse.path("silver.t").glob("*.parquet")}
    deleted = lakehouse.vacuum("silver.t", retention_hours=0)
    assert len(deleted) == 1 and len(data_files) == 2
    assert {f.name for f in lakehouse.path("silver.t").glob("*.parquet")} == data_files - {
        deleted[0].rsplit("/", 1)[-1]
    }
    assert rows(lakehouse, "SELECT v FROM silver.t") == [{"v": 2}]
    with pytest.raises(LakehouseError, match=r"\[table silver\.t VERSION AS OF 0, sql <inline sql>\]"):
        lakehouse.query("SELECT v FROM silver.t VERSION AS OF 0")


def test_optimize_compacts_small_files(lakehouse):
    for i in range(4):
        lakehouse.append("bronze.pages", pages([f"p{i}"], "projects", [float(i)]))
    metrics = lakehouse.optimize("bronze.pages")
    assert metrics["numFilesRemoved"] == 4 and metrics["numFilesAdded"] == 1
    assert lakehouse.info("bronze.pages").num_rows == 4


def test_failed_writes_leave_the_table_as_it_was(lakehouse):
    lakehouse.replace("silver.t", pa.table({"v": [1, 2]}))

    def breaks_after_first_batch() -> Iterator[pa.RecordBatch]:
        yield pa.table({"v": [3]}).to_batches()[0]
        raise RuntimeError("source went away")

    with pytest.raises(LakehouseError, match=r"table silver\.t"):
        lakehouse.replace("silver.t", breaks_after_first_batch())
    with pytest.raises(SqlError):
        lakehouse.replace("silver.t", "SELECT CAST('not a number' AS INT) AS v")
    info = lakehouse.info("silver.t")
    assert (info.version, info.num_rows) == (0, 2)


def test_errors_name_the_table_and_the_sql_source(lakehouse):
    source = SqlSource("SELECT * FROM silver.projects", origin="sql/silver/example.sql")
    with pytest.raises(TableNotFoundError) as missing:
        lakehouse.query(source)
    assert "table silver.projects" in str(missing.value) and "sql/silver/example.sql" in str(missing.value)
    lakehouse.replace("silver.projects", pa.table({"id": [1]}))
    with pytest.raises(SqlError, match=r"sql/silver/bad.sql.*nope"):
        lakehouse.query(SqlSource("SELECT nope FROM silver.projects", origin="sql/silver/bad.sql"))
    with pytest.raises(SqlError, match="exactly one SQL statement"):
        lakehouse.query("SELECT 1; SELECT 2")
    with pytest.raises(InvalidTableNameError, match=r"schema\.table"):
        lakehouse.append("Projects", pa.table({"id": [1]}))
    with pytest.raises(TableNotFoundError, match=r"silver\.none"):
        lakehouse.info("silver.none")


def test_info_and_table_listing(lakehouse):
    assert lakehouse.tables() == [] and not lakehouse.exists("silver.t")
    lakehouse.replace("silver.t", pa.table({"v": pa.array([1, 2, 3], pa.uint32()), "s": [None, None, None]}))
    info = lakehouse.info("silver.t")
    assert info.num_rows == 3
    # Delta has no unsigned or null-typed columns: they are widened on write.
    assert info.schema.field("v").type == pa.int64() and info.schema.field("s").type == pa.string()
    assert lakehouse.tables() == ["silver.t"] and lakehouse.exists("silver.t")


def test_transpiled_text_is_cached():
    sql = "SELECT page_id FROM bronze.pages QUALIFY row_number() OVER (PARTITION BY page_id ORDER BY ts) = 1"
    before = _transpile.cache_info().hits
    first = to_duckdb(sql)
    second = to_duckdb(sql)
    assert first is second
    assert _transpile.cache_info().hits >= before + 1
    assert [t.name for t in first.tables] == ["bronze.pages"]


def test_sql_includes_expand_and_cycles_are_refused(tmp_path, lakehouse):
    from ppm_resources.lakehouse import load_sql

    (tmp_path / "parts").mkdir()
    (tmp_path / "parts" / "numbers.sql").write_text("numbers AS (SELECT 1 AS n UNION ALL SELECT 2)\n")
    (tmp_path / "total.sql").write_text(
        "WITH\n-- include: parts/numbers.sql\nSELECT sum(n) AS total FROM numbers\n"
    )
    source = load_sql("total.sql", root=tmp_path)
    assert source.origin == "sql/total.sql"
    assert lakehouse.query(source).to_pylist() == [{"total": 3}]
    (tmp_path / "loop.sql").write_text("-- include: loop.sql\n")
    with pytest.raises(ValueError, match=r"include cycle: loop\.sql -> loop\.sql"):
        load_sql("loop.sql", root=tmp_path)
    (tmp_path / "broken.sql").write_text("-- include: parts/missing.sql\n")
    with pytest.raises(FileNotFoundError, match=r"included by sql/broken\.sql"):
        load_sql("broken.sql", root=tmp_path)
