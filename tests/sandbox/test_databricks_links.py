"""EXTERNAL_LINKS: Arrow IPC chunks behind presigned links that refuse the workspace token and expire."""

import json
from decimal import Decimal

import httpx
import pyarrow as pa
from databricks.sdk.service.sql import Disposition, Format

from tests.sandbox.databricks_conftest_helpers import Workspace, workspace_fixture

LINKS = {"disposition": Disposition.EXTERNAL_LINKS, "format": Format.ARROW_STREAM}


ws = workspace_fixture(link_chunk_rows=10)


def read_link(url: str) -> pa.Table:
    response = httpx.get(url)  # no Authorization header, as for a presigned cloud URL
    assert response.status_code == 200, response.text
    return pa.ipc.open_stream(response.content).read_all()


def test_arrow_chunks_keep_the_engines_types(ws: Workspace) -> None:
    response = ws.ok(
        "SELECT id, CAST(id / 4 AS DECIMAL(12,3)) AS amount, CAST(id AS STRING) AS label "
        "FROM range(25) AS t(id) ORDER BY id",
        **LINKS,
    )
    manifest, result = response.manifest, response.result
    assert manifest.format == Format.ARROW_STREAM and manifest.total_chunk_count == 3
    assert [(c.row_offset, c.row_count) for c in manifest.chunks] == [(0, 10), (10, 10), (20, 5)]
    first = result.external_links[0]
    assert (first.chunk_index, first.row_count, first.next_chunk_index) == (0, 10, 1)
    assert first.next_chunk_internal_link.endswith("/result/chunks/1")
    assert first.external_link.startswith(ws.host + "/")
    assert first.expiration.endswith("Z")
    tables = [read_link(first.external_link)]
    for index in (1, 2):
        chunk = ws.client.statement_execution.get_statement_result_chunk_n(response.statement_id, index)
        link = chunk.external_links[0]
        assert link.byte_count == manifest.chunks[index].byte_count
        tables.append(read_link(link.external_link))
    table = pa.concat_tables(tables)
    assert table.num_rows == 25
    amount = table.schema.field("amount").type
    assert amount == pa.decimal128(12, 3)
    assert table.column("amount")[5].as_py() == Decimal("1.250")
    assert table.column("id").to_pylist() == list(range(25))
    decimal_column = next(c for c in manifest.schema.columns if c.name == "amount")
    assert (decimal_column.type_text, decimal_column.type_precision, decimal_column.type_scale) == (
        "decimal(12,3)",
        12,
        3,
    )


def test_zero_rows_have_no_links_but_a_schema(ws: Workspace) -> None:
    response = ws.ok("SELECT 1 AS a, 'x' AS b WHERE false", **LINKS)
    assert response.manifest.total_chunk_count == 0 and response.manifest.total_row_count == 0
    assert response.result is None
    assert [c.name for c in response.manifest.schema.columns] == ["a", "b"]


def test_links_refuse_the_workspace_token(ws: Workspace) -> None:
    link = ws.ok("SELECT 1 AS a", **LINKS).result.external_links[0].external_link
    refused = httpx.get(link, headers={"Authorization": "Bearer dapi-sandbox-token"})
    assert refused.status_code == 400
    assert "<Code>InvalidArgument</Code>" in refused.text
    assert httpx.get(link.replace("signature=", "signature=0")).status_code == 403


def test_links_expire_on_the_sandbox_clock(clean: Workspace) -> None:
    response = clean.ok("SELECT 1 AS a", **LINKS)
    link = response.result.external_links[0].external_link
    assert read_link(link).num_rows == 1
    clean.server.clock.advance(901)
    expired = httpx.get(link)
    assert expired.status_code == 403 and "expired" in expired.text
    # Fetching the chunk again gives a fresh link.
    fresh = clean.client.statement_execution.get_statement_result_chunk_n(response.statement_id, 0)
    assert read_link(fresh.external_links[0].external_link).num_rows == 1


def test_json_array_links_serve_compact_json(ws: Workspace) -> None:
    response = ws.ok(
        "SELECT id, CAST(id AS DECIMAL(4,1)) AS d FROM range(12) AS t(id) ORDER BY id",
        disposition=Disposition.EXTERNAL_LINKS,
    )
    assert response.manifest.format == Format.JSON_ARRAY and response.manifest.total_chunk_count == 2
    body = httpx.get(response.result.external_links[0].external_link).content
    assert json.loads(body)[:2] == [["0", "0.0"], ["1", "1.0"]]
    assert b" " not in body


def test_links_of_a_reset_statement_are_gone(clean: Workspace) -> None:
    link = clean.ok("SELECT 1 AS a", **LINKS).result.external_links[0].external_link
    clean.reset()
    assert httpx.get(link).status_code == 404
