"""Databricks error shapes: REST errors `{"error_code", "message"}` and failed statements' errors.

A REST error (`ApiError`) is an HTTP status with a body; a statement that fails is HTTP 200 with
`status.state = "FAILED"` and `status.error = {"error_code": "BAD_REQUEST", "message": "[ERROR_CLASS] ..."}`
(`StatementError`), never a 500. Engine exceptions are mapped by class name and message (`engine_error`): the
sandbox does not import the engine, and keeps the engine's own text (it names the table and the SQL origin).
"""

import json
import re

#: Gate-made errors (429, injected 5xx, timeouts): Databricks' code and wording per HTTP status.
GATE_ERRORS: dict[int, tuple[str, str]] = {
    400: ("BAD_REQUEST", "The request is malformed."),
    401: ("UNAUTHENTICATED", "Credential was not sent or was of an unsupported type for this API."),
    403: ("PERMISSION_DENIED", "Invalid access token."),
    404: ("NOT_FOUND", "The requested resource does not exist."),
    409: ("RESOURCE_CONFLICT", "The request conflicts with the current state of the resource."),
    429: ("REQUEST_LIMIT_EXCEEDED", "Too many requests. Please wait a moment and try again."),
    500: ("INTERNAL_ERROR", "Internal error. Please try again later."),
    502: ("TEMPORARILY_UNAVAILABLE", "Bad gateway. The service is temporarily unavailable."),
    503: ("TEMPORARILY_UNAVAILABLE", "The service is temporarily unavailable. Please try again later."),
    504: ("DEADLINE_EXCEEDED", "The request timed out. Please try again later."),
}


class ApiError(Exception):
    """A REST error response: raised by handlers, rendered by the app."""

    def __init__(self, status: int, error_code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error_code = error_code
        self.message = message

    def body(self) -> dict[str, str]:
        return {"error_code": self.error_code, "message": self.message}


def invalid_parameter(message: str) -> ApiError:
    return ApiError(400, "INVALID_PARAMETER_VALUE", message)


def error_body(status: int, code: str | None = None, message: str | None = None) -> dict[str, str]:
    default_code, default_message = GATE_ERRORS.get(status, GATE_ERRORS[500])
    return {"error_code": code or default_code, "message": message or default_message}


def render_gate_error(status: int, code: str | None) -> bytes:
    """Body of a gate-made error; the gate's own codes (`rate_limited`, ...) are not Databricks codes."""
    error_code = "DEADLINE_EXCEEDED" if code == "gateway_timeout" else None
    return json.dumps(error_body(status, error_code)).encode()


class StatementError(Exception):
    """Why a statement ended FAILED: `error_code` (BAD_REQUEST for SQL errors) and the message clients see."""

    def __init__(
        self, message: str, *, error_code: str = "BAD_REQUEST", sql_state: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.error_code = error_code
        self.sql_state = sql_state

    def to_json(self) -> dict[str, str]:
        return {"error_code": self.error_code, "message": self.message}


def sql_error(error_class: str, message: str, sql_state: str | None = None) -> StatementError:
    """A Spark-style error: `[ERROR_CLASS] message SQLSTATE: xxxxx`."""
    suffix = f" SQLSTATE: {sql_state}" if sql_state else ""
    return StatementError(f"[{error_class}] {message}{suffix}", sql_state=sql_state)


def quoted(*parts: str) -> str:
    """`main`.`bronze`.`pages`, as Databricks names objects in its messages."""
    return ".".join(f"`{part}`" for part in parts)


def table_not_found(catalog: str, schema: str, table: str, detail: str = "") -> StatementError:
    extra = f" ({detail})" if detail else ""
    return sql_error(
        "TABLE_OR_VIEW_NOT_FOUND",
        f"The table or view {quoted(catalog, schema, table)} cannot be found. Verify the spelling and "
        "correctness of the schema and catalog. If you did not qualify the name with a schema, verify the "
        "current_schema() output, or qualify the name with the correct schema and catalog." + extra,
        "42P01",
    )


def schema_not_found(catalog: str, schema: str) -> StatementError:
    return sql_error(
        "SCHEMA_NOT_FOUND",
        f"The schema {quoted(catalog, schema)} cannot be found. Verify the spelling and correctness of the "
        "schema and catalog. If you did not qualify the name with a catalog, verify the current_schema() "
        "output, or qualify the name with the correct catalog.",
        "42704",
    )


def no_such_catalog(catalog: str) -> StatementError:
    return sql_error(
        "NO_SUCH_CATALOG_EXCEPTION",
        f"The catalog '{catalog}' was not found. Please verify the catalog name and then retry the query "
        "or command again.",
        "42704",
    )


def table_already_exists(catalog: str, schema: str, table: str) -> StatementError:
    return sql_error(
        "TABLE_OR_VIEW_ALREADY_EXISTS",
        f"Cannot create table or view {quoted(catalog, schema, table)} because it already exists. Choose a "
        "different name, drop the existing object, add the IF NOT EXISTS clause to tolerate pre-existing "
        "objects, or add the OR REPLACE clause to replace the existing object.",
        "42P07",
    )


def parse_error(message: str) -> StatementError:
    return sql_error("PARSE_SYNTAX_ERROR", message, "42601")


def unsupported(what: str) -> StatementError:
    """A statement or clause the emulator does not run (the README lists what it does run)."""
    return sql_error(
        "PARSE_SYNTAX_ERROR",
        f"Syntax error or statement not supported by the Databricks sandbox: {what}.",
        "42601",
    )


#: Engine (DuckDB) failure texts -> Spark error class and SQLSTATE, first match wins.
_ENGINE_PATTERNS: tuple[tuple[re.Pattern[str], str, str], ...] = (
    (
        re.compile(r"cannot parse|Parser Error|ParserException|syntax error", re.I),
        "PARSE_SYNTAX_ERROR",
        "42601",
    ),
    (re.compile(r"Table with name .* does not exist", re.I), "TABLE_OR_VIEW_NOT_FOUND", "42P01"),
    (re.compile(r"Referenced column .* not found", re.I), "UNRESOLVED_COLUMN.WITH_SUGGESTION", "42703"),
    (re.compile(r"Function with name .* does not exist", re.I), "UNRESOLVED_ROUTINE", "42883"),
    (re.compile(r"Division by zero", re.I), "DIVIDE_BY_ZERO", "22012"),
    (
        re.compile(r"Conversion Error|Could not convert|ConversionException", re.I),
        "CAST_INVALID_INPUT",
        "22018",
    ),
    (re.compile(r"Out of Range|OutOfRange|overflow", re.I), "ARITHMETIC_OVERFLOW", "22003"),
    (re.compile(r"Binder Error|BinderException", re.I), "DATATYPE_MISMATCH", "42K09"),
)


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def engine_error(exc: BaseException, catalog: str | None = None) -> StatementError | None:
    """The statement error for an engine exception, or None when `exc` is not the engine's.

    `catalog` completes the engine's `schema.table` names, so that "not found" names the table as Databricks
    would (`main`.`bronze`.`pages`).
    """
    classes = {cls.__name__ for cls in type(exc).__mro__}
    if "LakehouseError" not in classes:
        return None
    text = _ANSI.sub("", str(exc))
    if "TableNotFoundError" in classes:
        parts = str(getattr(exc, "table", "") or "").split(".")
        if len(parts) == 2 and catalog:
            return table_not_found(catalog, parts[0], parts[1], f"engine: {text}")
        return sql_error(
            "TABLE_OR_VIEW_NOT_FOUND", f"The table or view cannot be found (engine: {text}).", "42P01"
        )
    if "InvalidTableNameError" in classes:
        return sql_error("INVALID_IDENTIFIER", f"The identifier is invalid (engine: {text}).", "42602")
    for pattern, error_class, sql_state in _ENGINE_PATTERNS:
        if pattern.search(text):
            return sql_error(error_class, text, sql_state)
    return sql_error("INTERNAL_ERROR", f"The SQL engine failed: {text}", "XX000")
