"""The Databricks engine against the sandbox's Statement Execution + Files emulator, over real HTTP with the
real SDK (dagster-databricks' `DatabricksClientResource` -> `WorkspaceClient`): every interface operation, the
idempotence of writes the SDK may send twice, and failures said for people."""

from __future__ import annotations

import logging
import uuid
from datetime import date, datetime
from decimal import Decimal

import httpx
import pyarrow as pa
import pytest

from ppm_resources.lakehouse import LakehouseError, SqlError, SqlSource, TableNotFoundError
from ppm_resources.lakehouse.databricks_statements import DatabricksUnavailableError
from ppm_sandbox import SandboxServer


@pytest.fixture
def control(sandbox: SandboxServer):
    """The emulator's control routes; its faults are back to start-up after the test."""
    with httpx.Client(base_url=f"{sandbox.url}/_sandbox/databricks", timeout=10) as client:
        try:
            yield client
        finally:
            client.delete("/faults").raise_for_status()


@pytest.fixture
def schema() -> str:
    """A schema of its own per test: tests share the session's emulator."""
    return f"t_{uuid.uuid4().hex[:12]}"


def statements(control: httpx.Client, containing: str) -> list[dict]:
    listed = control.get("/statements").json()
    rows = listed["statements"] if isinstance(listed, dict) else listed
    return [s for s in rows if containing.lower() in s["statement"].lower()]


ROWS = pa.table(
    {
        "id": pa.array([1, 2, 3], pa.int64()),
        "name": ["a", "b", None],
        "amount": pa.array([Decimal("1.10"), Decimal("-2.05"), None], pa.decimal128(18, 2)),
        "day": pa.array([date(2026, 1, 31), date(2026, 2, 28), None], pa.date32()),
    }
)


def test_replace_from_sql_binds_typed_parameters_and_keeps_exact_types(databricks_lakehouse, schema):
    lakehouse = databricks_lakehouse()
    write = lakehouse.replace(
        f"{schema}.params",
        "SELECT CAST(:day AS DATE) AS day, CAST(:amount AS DECIMAL(18,2)) AS amount, :n + 1 AS n, "
        ":name AS name, :missing AS missing",
        params={
            "day": date(2026, 3, 31),
            "amount": Decimal("12.30"),
            "n": 41,
            "name": "it's",
            "missing": None,
        },
    )
    assert (write.version, write.rows_written) == (0, 1)
    rows = lakehouse.query(f"SELECT * FROM {schema}.params")
    assert rows.to_pylist() == [
        {"day": date(2026, 3, 31), "amount": Decimal("12.30"), "n": 42, "name": "it's", "missing": None}
    ]
    assert rows.schema.field("amount").type == pa.decimal128(18, 2)


def test_append_stages_parquet_then_copy_into_and_keeps_every_row_once(databricks_lakehouse, schema, control):
    lakehouse = databricks_lakehouse()
    table = f"{schema}.appended"
    first = lakehouse.append(table, ROWS)
    second = lakehouse.append(table, ROWS.slice(0, 1))
    assert (first.rows_written, second.rows_written) == (3, 1)
    assert second.version > first.version
    assert lakehouse.query(f"SELECT count(*) AS n FROM {table}").column("n")[0].as_py() == 4
    assert lakehouse.query(f"SELECT DISTINCT * FROM {table} ORDER BY id").to_pylist() == ROWS.to_pylist()
    copies = statements(control, f"copy into `main`.`{schema}`.`appended`")
    assert len(copies) == 2 and all("FILES = (" in c["statement"] for c in copies)


def test_copy_into_run_again_loads_no_file_twice(databricks_lakehouse, schema):
    lakehouse = databricks_lakehouse()
    table = f"{schema}.copied"
    lakehouse.append(table, ROWS.slice(0, 1))
    staged = lakehouse._stage(table, ROWS)
    loads = [lakehouse._run(lakehouse.copy_into_statement(table, staged), table=table) for _ in range(2)]
    assert [load.column("num_inserted_rows")[0].as_py() for load in loads] == [3, 0]
    assert lakehouse.query(f"SELECT count(*) AS n FROM {table}").column("n")[0].as_py() == 4


def test_an_execute_answered_503_after_it_ran_is_sent_again_and_writes_once(
    databricks_lakehouse, schema, control, sandbox
):
    lakehouse = databricks_lakehouse()
    table = f"{schema}.retried"
    lakehouse.append(table, ROWS.slice(0, 1))
    answer = control.post(
        "/faults", json={"after_execute_status": {"status": 503, "count": 1, "match": "COPY INTO"}}
    )
    assert answer.status_code == 200, answer.text
    lakehouse.append(table, ROWS.slice(1, 2))
    copies = statements(control, f"copy into `main`.`{schema}`.`retried`")
    assert len(copies) == 3  # the first append, then the one the SDK sent again after the 503
    assert sorted(lakehouse.query(f"SELECT id FROM {table}").column("id").to_pylist()) == [1, 2, 3]
    assert [c["state"] for c in copies] == ["SUCCEEDED"] * 3


def test_replace_with_arrow_rows_and_replace_partition(databricks_lakehouse, schema):
    lakehouse = databricks_lakehouse()
    table = f"{schema}.months"
    months = pa.table(
        {"period": ["2026-01", "2026-01", "2026-02"], "amount": pa.array([1, 2, 3], pa.int64())}
    )
    created = lakehouse.replace_partition(table, "period", "2026-01", months.slice(0, 2))
    lakehouse.replace_partition(table, "period", "2026-02", months.slice(2, 1))
    replaced = lakehouse.replace_partition(
        table, "period", "2026-01", "SELECT '2026-01' AS period, CAST(10 AS BIGINT) AS amount"
    )
    assert created.rows_written == 2 and replaced.version == created.version + 2
    assert lakehouse.query(f"SELECT * FROM {table} ORDER BY period").to_pylist() == [
        {"period": "2026-01", "amount": 10},
        {"period": "2026-02", "amount": 3},
    ]
    whole = lakehouse.replace(f"{schema}.whole", ROWS)
    assert whole.rows_written == 3
    assert lakehouse.query(f"SELECT * FROM {schema}.whole ORDER BY id").to_pylist() == ROWS.to_pylist()


def test_history_restore_time_travel_info_tables_vacuum_optimize(databricks_lakehouse, schema):
    lakehouse = databricks_lakehouse()
    table = f"{schema}.versions"
    lakehouse.replace(table, "SELECT 1 AS v")
    lakehouse.replace(table, "SELECT 2 AS v")
    assert lakehouse.exists(table) and not lakehouse.exists(f"{schema}.never_written")
    assert lakehouse.version(table) == 1
    history = lakehouse.history(table)
    assert [h.version for h in history] == [1, 0]
    assert all(isinstance(h.timestamp, datetime) and h.operation for h in history)
    assert lakehouse.query(f"SELECT v FROM {table} VERSION AS OF 0").column("v").to_pylist() == [1]
    restored = lakehouse.restore(table, 0)
    assert restored.version == 2 and "RESTORE" in restored.operation.upper()
    assert lakehouse.query(f"SELECT v FROM {table}").column("v").to_pylist() == [1]
    info = lakehouse.info(table)
    assert (info.version, info.num_rows, info.schema.names) == (2, 1, ["v"])
    assert info.location == f"main.{table}"
    assert table in lakehouse.tables()
    assert isinstance(lakehouse.vacuum(table, dry_run=True), list)
    assert isinstance(lakehouse.optimize(table), dict)
    with pytest.raises(LakehouseError, match="version 9 does not exist"):
        lakehouse.restore(table, 9)
    with pytest.raises(LakehouseError, match="low retention"):
        lakehouse.vacuum(table, retention_hours=1)


def test_a_failed_statement_names_the_sql_source_and_the_table(databricks_lakehouse, schema):
    lakehouse = databricks_lakehouse()
    with pytest.raises(TableNotFoundError, match=r"sql/gold/missing\.sql"):
        lakehouse.query(SqlSource(f"SELECT * FROM {schema}.nowhere", origin="sql/gold/missing.sql"))
    lakehouse.replace(f"{schema}.present", "SELECT 1 AS a")
    with pytest.raises(SqlError, match=r"sql/silver/bad\.sql") as failed:
        lakehouse.replace(
            f"{schema}.bad",
            SqlSource(f"SELECT no_such_column FROM {schema}.present", origin="sql/silver/bad.sql"),
        )
    assert f"{schema}.bad" in str(failed.value)


def test_an_injected_failed_statement_surfaces_its_error(databricks_lakehouse, schema, control):
    lakehouse = databricks_lakehouse()
    control.post(
        "/faults",
        json={
            "fail_statements": [
                {"match": "SELECT 42", "count": 1, "message": "[INTERNAL_ERROR] disk on fire"}
            ]
        },
    ).raise_for_status()
    with pytest.raises(SqlError, match="disk on fire"):
        lakehouse.query("SELECT 42 AS answer")
    assert lakehouse.query("SELECT 42 AS answer").to_pylist() == [{"answer": 42}]


def test_a_stopped_warehouse_is_said_and_the_statement_cancelled(databricks_lakehouse, control):
    lakehouse = databricks_lakehouse()
    control.post("/faults", json={"warehouse_state": "STOPPED"}).raise_for_status()
    with pytest.raises(DatabricksUnavailableError, match="is STOPPED") as stopped:
        lakehouse.query("SELECT 1 AS one")
    assert "start the warehouse" in str(stopped.value)
    sent = statements(control, "SELECT 1 AS one")[-1]
    assert sent["state"] == "CANCELED"


def test_a_wrong_token_is_said_without_quoting_it(databricks_lakehouse, caplog):
    secret = f"dapi-wrong-{uuid.uuid4().hex}"
    lakehouse = databricks_lakehouse(token=secret)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(DatabricksUnavailableError, match="refused the credentials") as refused:
        lakehouse.query("SELECT 1 AS one")
    assert "DATABRICKS_TOKEN" in str(refused.value)
    assert secret not in str(refused.value) and secret not in caplog.text


def test_an_unreachable_host_is_said(databricks_lakehouse):
    lakehouse = databricks_lakehouse(host="http://127.0.0.1:9", retry_timeout_s=1)
    with pytest.raises(DatabricksUnavailableError, match=r"cannot reach Databricks at http://127\.0\.0\.1:9"):
        lakehouse.query("SELECT 1 AS one")


def test_the_token_of_a_working_lakehouse_appears_in_no_log(databricks_lakehouse, schema, caplog):
    secret = f"dapi-sandbox-{uuid.uuid4().hex}"
    lakehouse = databricks_lakehouse(token=secret)
    caplog.set_level(logging.DEBUG)
    lakehouse.append(f"{schema}.logged", ROWS)
    lakehouse.query(f"SELECT * FROM {schema}.logged")
    assert caplog.text and secret not in caplog.text
    assert secret not in lakehouse.describe()
