"""The Statement Execution API's wire: request bodies checked (`execute_request`), and responses
`{statement_id, status, manifest?, result?}` (`statement_json`).

A SUCCEEDED statement carries its manifest and its first chunk: rows (`data_array`) for INLINE, one fresh
presigned link (`external_links`) for EXTERNAL_LINKS; each carries `next_chunk_index` and
`next_chunk_internal_link` while more chunks follow. A result without rows has no chunk and no `result`.
"""

import re
from collections.abc import Mapping
from typing import Any

from ppm_sandbox.databricks.errors import ApiError, StatementError, invalid_parameter
from ppm_sandbox.databricks.links import LinkSigner
from ppm_sandbox.databricks.params import parse_parameters
from ppm_sandbox.databricks.results import Chunk, ResultSet, inline_chunk_json, next_chunk
from ppm_sandbox.databricks.statements import SUCCEEDED, ExecuteRequest, Statement


def status_json(state: str, error: StatementError | None) -> dict[str, Any]:
    status: dict[str, Any] = {"state": state}
    if error is not None:
        status["error"] = error.to_json()
        if error.sql_state:
            status["sql_state"] = error.sql_state
    return status


def link_json(
    result: ResultSet, chunk: Chunk, statement_id: str, base: str, signer: LinkSigner
) -> dict[str, Any]:
    url, expiration = signer.link(base, statement_id, chunk.index)
    return {
        **chunk.info(),
        "external_link": url,
        "expiration": expiration,
        **next_chunk(result, chunk, statement_id),
    }


def chunk_json(
    result: ResultSet, chunk: Chunk, statement_id: str, base: str, signer: LinkSigner
) -> dict[str, Any]:
    """The `result` object for one chunk (also what `.../result/chunks/{n}` answers)."""
    if result.disposition == "INLINE":
        return inline_chunk_json(result, chunk, statement_id)
    return {"external_links": [link_json(result, chunk, statement_id, base, signer)]}


def statement_json(statement: Statement, base: str, signer: LinkSigner) -> dict[str, Any]:
    state, error, result = statement.snapshot()
    body: dict[str, Any] = {"statement_id": statement.id, "status": status_json(state, error)}
    if state == SUCCEEDED and result is not None:
        body["manifest"] = result.manifest()
        if result.chunks:
            body["result"] = chunk_json(result, result.chunks[0], statement.id, base, signer)
    return body


def chunk_response(statement: Statement, index: int, base: str, signer: LinkSigner) -> dict[str, Any]:
    """`GET .../result/chunks/{n}`."""
    state, _, result = statement.snapshot()
    if state != SUCCEEDED or result is None:
        raise ApiError(
            400,
            "INVALID_STATE",
            f"Statement {statement.id} is {state}: results are available once it SUCCEEDED.",
        )
    if not 0 <= index < len(result.chunks):
        raise ApiError(
            400,
            "INVALID_PARAMETER_VALUE",
            f"Chunk index {index} is out of range: the result has {len(result.chunks)} chunks.",
        )
    return chunk_json(result, result.chunks[index], statement.id, base, signer)


# -- requests -----------------------------------------------------------------------------------------------
DISPOSITIONS = ("INLINE", "EXTERNAL_LINKS")
FORMATS = ("JSON_ARRAY", "ARROW_STREAM", "CSV")
ON_WAIT_TIMEOUT = ("CONTINUE", "CANCEL")
_WAIT_TIMEOUT = re.compile(r"^(\d+)s$")


def _choice(body: Mapping[str, Any], key: str, choices: tuple[str, ...], default: str) -> str:
    value = body.get(key)
    if value is None:
        return default
    if not isinstance(value, str) or value.upper() not in choices:
        raise invalid_parameter(f"{key} must be one of {', '.join(choices)}, got {value!r}")
    return value.upper()


def _limit(body: Mapping[str, Any], key: str) -> int | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise invalid_parameter(f"{key} must be a non-negative integer, got {value!r}")
    return value


def wait_timeout_seconds(raw: Any) -> int:
    """`"0s"` or `"5s"`..`"50s"` (default 10 s)."""
    if raw is None:
        return 10
    match = _WAIT_TIMEOUT.match(raw) if isinstance(raw, str) else None
    seconds = int(match.group(1)) if match else -1
    if seconds != 0 and not 5 <= seconds <= 50:
        raise invalid_parameter(f"wait_timeout must be 0s (asynchronous) or between 5s and 50s, got {raw!r}")
    return seconds


def execute_request(body: Any) -> ExecuteRequest:
    """The statement request in `body`, validated as Databricks validates it (400 INVALID_PARAMETER_VALUE)."""
    if not isinstance(body, dict):
        raise invalid_parameter("The request body must be a JSON object.")
    statement = body.get("statement")
    if not isinstance(statement, str) or not statement.strip():
        raise invalid_parameter("statement is required")
    warehouse_id = body.get("warehouse_id")
    if not isinstance(warehouse_id, str) or not warehouse_id:
        raise invalid_parameter("warehouse_id is required")
    disposition = _choice(body, "disposition", DISPOSITIONS, "INLINE")
    fmt = _choice(body, "format", FORMATS, "JSON_ARRAY")
    if fmt != "JSON_ARRAY" and disposition == "INLINE":
        raise invalid_parameter(f"{fmt} format is only supported with EXTERNAL_LINKS disposition")
    if fmt == "CSV":
        raise invalid_parameter(
            "CSV format is not supported by the Databricks sandbox: use ARROW_STREAM or JSON_ARRAY"
        )
    for key in ("catalog", "schema"):
        if body.get(key) is not None and not isinstance(body[key], str):
            raise invalid_parameter(f"{key} must be a string")
    return ExecuteRequest(
        statement=statement,
        warehouse_id=warehouse_id,
        catalog=body.get("catalog") or None,
        schema=body.get("schema") or None,
        parameters=parse_parameters(body.get("parameters")),
        disposition=disposition,
        format=fmt,
        wait_timeout_s=wait_timeout_seconds(body.get("wait_timeout")),
        on_wait_timeout=_choice(body, "on_wait_timeout", ON_WAIT_TIMEOUT, "CONTINUE"),
        row_limit=_limit(body, "row_limit"),
        byte_limit=_limit(body, "byte_limit"),
    )
