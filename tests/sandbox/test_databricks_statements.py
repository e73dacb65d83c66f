"""Statement execution through the real databricks-sdk: values, parameters, INLINE chunks, failures, limits."""

from pathlib import Path

import pytest
from databricks.sdk.errors import NotFound
from databricks.sdk.service.sql import ColumnInfoTypeName, StatementState

from tests.sandbox.databricks_conftest_helpers import Workspace, databricks_workspace, workspace_fixture

ws = workspace_fixture(inline_chunk_rows=10)


def test_select_values_render_as_databricks_strings(ws: Workspace) -> None:
    response = ws.ok(
        "SELECT 12 AS i, CAST(12.3 AS DECIMAL(10,2)) AS d, 0.5D AS dbl, true AS b, DATE '2026-01-31' AS day, "
        "TIMESTAMP '2026-01-31 10:00:00' AS ts, 'x' AS s, NULL AS n, array(1, 2) AS arr, map('k', 1) AS m"
    )
    assert response.result is not None and response.manifest is not None
    assert response.result.data_array == [
        [
            "12",
            "12.30",
            "0.5",
            "true",
            "2026-01-31",
            "2026-01-31T10:00:00.000Z",
            "x",
            None,
            "[1,2]",
            '{"k":1}',
        ]
    ]
    columns = response.manifest.schema.columns
    assert [c.type_text for c in columns] == [
        "int",
        "decimal(10,2)",
        "double",
        "boolean",
        "date",
        "timestamp",
        "string",
        "void",
        "array<int>",
        "map<string,int>",
    ]
    assert columns[1].type_name == ColumnInfoTypeName.DECIMAL
    assert (columns[1].type_precision, columns[1].type_scale) == (10, 2)
    assert [c.position for c in columns] == list(range(10))
    assert response.manifest.total_row_count == 1 and response.manifest.truncated is False


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        ("STRING", "a'b", "a'b"),
        (None, "plain", "plain"),
        ("INT", "42", "42"),
        ("BIGINT", "-9000000000", "-9000000000"),
        ("SMALLINT", "7", "7"),
        ("TINYINT", "-3", "-3"),
        ("DECIMAL(10,2)", "12.3", "12.30"),
        ("DOUBLE", "0.25", "0.25"),
        ("FLOAT", "1.5", "1.5"),
        ("BOOLEAN", "true", "true"),
        ("DATE", "2026-01-31", "2026-01-31"),
        ("TIMESTAMP", "2026-01-31T10:00:00Z", "2026-01-31T10:00:00.000Z"),
        ("TIMESTAMP_NTZ", "2026-01-31T10:00:00", "2026-01-31T10:00:00.000"),
        ("INT", None, None),
    ],
)
def test_parameters_of_each_type_are_bound_typed(
    ws: Workspace, kind: str | None, value: str | None, expected: str | None
) -> None:
    parameters = [("p", value) if kind is None else ("p", value, kind)]
    assert ws.rows("SELECT :p AS v", parameters=parameters) == [[expected]]


def test_typed_parameters_compare_as_their_type(ws: Workspace) -> None:
    rows = ws.rows(
        "SELECT :day + INTERVAL 1 DAY AS next_day, :amount * 2 AS doubled, :n + 1 AS n1",
        parameters=[("day", "2026-01-31", "DATE"), ("amount", "1.25", "DECIMAL(6,2)"), ("n", "41", "INT")],
    )
    assert rows[0][1:] == ["2.50", "42"]
    assert rows[0][0].startswith("2026-02-01")


def test_bad_parameters_fail_the_statement(ws: Workspace) -> None:
    assert ws.failure("SELECT :n", parameters=[("n", "abc", "INT")]).startswith("[CAST_INVALID_INPUT]")
    assert ws.failure("SELECT :missing").startswith(
        "[UNBOUND_SQL_PARAMETER] Found the unbound parameter: missing"
    )
    # Parameters the statement does not use are ignored.
    assert ws.rows("SELECT 1 AS one", parameters=[("unused", "x")]) == [["1"]]


def test_inline_results_come_in_chunks_with_next_links(ws: Workspace) -> None:
    response = ws.ok("SELECT id FROM range(25) AS t(id) ORDER BY id")
    manifest, result = response.manifest, response.result
    assert manifest is not None and result is not None
    assert manifest.total_chunk_count == 3 and manifest.total_row_count == 25
    assert [(c.chunk_index, c.row_offset, c.row_count) for c in manifest.chunks] == [
        (0, 0, 10),
        (1, 10, 10),
        (2, 20, 5),
    ]
    assert result.next_chunk_index == 1
    assert (
        result.next_chunk_internal_link == f"/api/2.0/sql/statements/{response.statement_id}/result/chunks/1"
    )
    last = ws.client.statement_execution.get_statement_result_chunk_n(response.statement_id, 2)
    assert (last.chunk_index, last.row_offset, last.row_count) == (2, 20, 5)
    assert last.next_chunk_index is None and last.next_chunk_internal_link is None
    assert ws.rows("SELECT id FROM range(25) AS t(id) ORDER BY id") == [[str(i)] for i in range(25)]
    # The internal link is relative to the workspace host.
    assert ws.http.get(result.next_chunk_internal_link).json()["data_array"][0] == ["10"]
    out_of_range = ws.http.get(f"/api/2.0/sql/statements/{response.statement_id}/result/chunks/3")
    assert out_of_range.status_code == 400
    assert out_of_range.json()["error_code"] == "INVALID_PARAMETER_VALUE"


def test_row_and_byte_limits_truncate(ws: Workspace) -> None:
    response = ws.ok("SELECT id FROM range(25) AS t(id)", row_limit=3)
    assert response.manifest.truncated is True and response.manifest.total_row_count == 3
    response = ws.ok("SELECT id FROM range(25) AS t(id)", byte_limit=30)
    assert response.manifest.truncated is True and 0 < response.manifest.total_row_count < 25


def test_zero_rows_keep_the_schema_and_have_no_chunks(ws: Workspace) -> None:
    response = ws.ok("SELECT 1 AS a, 'x' AS b WHERE false")
    assert response.manifest.total_chunk_count == 0 and response.manifest.total_row_count == 0
    assert not response.manifest.chunks and response.result is None
    assert [c.name for c in response.manifest.schema.columns] == ["a", "b"]
    body = ws.post({"statement": "SELECT 1 AS a WHERE false"}).json()
    assert "chunks" not in body["manifest"] and "result" not in body


def test_inline_results_over_the_limit_fail(tmp_path: Path) -> None:
    with databricks_workspace(tmp_path, inline_limit_bytes=1000) as small:
        message = small.failure("SELECT repeat('x', 100) AS s FROM range(20)")
        assert "Inline byte limit exceeded" in message and "EXTERNAL_LINKS" in message


def test_failures_are_200_with_an_error_class(ws: Workspace) -> None:
    response = ws.post({"statement": "SELECT * FROM main.nope.missing"})
    assert response.status_code == 200
    body = response.json()
    assert body["status"]["state"] == "FAILED"
    assert body["status"]["error"]["error_code"] == "BAD_REQUEST"
    assert body["status"]["error"]["message"].startswith(
        "[TABLE_OR_VIEW_NOT_FOUND] The table or view `main`.`nope`"
    )
    assert body["status"]["sql_state"] == "42P01"
    assert "manifest" not in body and "result" not in body
    for statement, error_class in [
        ("SELEC 1", "PARSE_SYNTAX_ERROR"),
        ("SELECT FROM WHERE", "PARSE_SYNTAX_ERROR"),
        ("MERGE INTO main.a.b USING main.a.c ON true WHEN MATCHED THEN DELETE", "PARSE_SYNTAX_ERROR"),
        ("SELECT nope FROM range(1)", "UNRESOLVED_COLUMN.WITH_SUGGESTION"),
        ("SELECT * FROM other.a.b", "NO_SUCH_CATALOG_EXCEPTION"),
        ("SELECT * FROM main.a.b JOIN hive_metastore.a.b ON true", "NO_SUCH_CATALOG_EXCEPTION"),
    ]:
        assert ws.failure(statement).startswith(f"[{error_class}]"), statement


def test_statements_are_looked_up_by_id(ws: Workspace) -> None:
    response = ws.ok("SELECT 1 AS one")
    again = ws.client.statement_execution.get_statement(response.statement_id)
    assert again.status.state == StatementState.SUCCEEDED and again.result.data_array == [["1"]]
    with pytest.raises(NotFound):
        ws.client.statement_execution.get_statement("01f00000-0000-0000-0000-000000000000")
    assert ws.http.get("/api/2.0/sql/statements/nope").json()["error_code"] == "NOT_FOUND"


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"statement": "SELECT 1", "wait_timeout": "3s"}, "wait_timeout"),
        ({"statement": "SELECT 1", "wait_timeout": "51s"}, "wait_timeout"),
        ({"statement": "SELECT 1", "wait_timeout": "10"}, "wait_timeout"),
        ({"statement": "SELECT 1", "format": "ARROW_STREAM"}, "EXTERNAL_LINKS"),
        ({"statement": "SELECT 1", "format": "CSV", "disposition": "EXTERNAL_LINKS"}, "CSV"),
        ({"statement": "SELECT 1", "disposition": "SOMEWHERE"}, "disposition"),
        ({"statement": ""}, "statement"),
        ({"statement": "SELECT 1", "parameters": [{"value": "x"}]}, "name"),
    ],
)
def test_invalid_requests_are_400(ws: Workspace, body: dict[str, object], fragment: str) -> None:
    response = ws.post(body)
    assert response.status_code == 400
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert fragment in response.json()["message"]
