"""Result sets as the Statement Execution API returns them (pure): manifest, JSON_ARRAY rows, Arrow IPC chunks.

`build_result(table, ...)` cuts an engine result into chunks once, when the statement finishes: INLINE chunks
hold rows rendered as Databricks renders values in JSON_ARRAY (every value a string, NULL a JSON null);
EXTERNAL_LINKS chunks hold the bytes a link serves (an Arrow IPC stream with the engine's schema unchanged,
or compact JSON). Arrow types map to Databricks' `type_name` / `type_text` in `column_info`.
"""

import base64
import json
import math
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

import pyarrow as pa

from ppm_sandbox.databricks.errors import StatementError

Row = list[str | None]


# -- types --------------------------------------------------------------------------------------------------
def type_text(arrow_type: pa.DataType) -> str:
    """Databricks' type text: `bigint`, `decimal(10,2)`, `array<string>`, `struct<a:int,b:string>`."""
    return _type_name_and_text(arrow_type)[1]


_SIMPLE: dict[Any, tuple[str, str]] = {
    pa.string(): ("STRING", "string"),
    pa.large_string(): ("STRING", "string"),
    pa.int64(): ("LONG", "bigint"),
    pa.int32(): ("INT", "int"),
    pa.int16(): ("SHORT", "smallint"),
    pa.int8(): ("BYTE", "tinyint"),
    pa.uint8(): ("SHORT", "smallint"),
    pa.uint16(): ("INT", "int"),
    pa.uint32(): ("LONG", "bigint"),
    pa.uint64(): ("DECIMAL", "decimal(20,0)"),
    pa.float64(): ("DOUBLE", "double"),
    pa.float32(): ("FLOAT", "float"),
    pa.float16(): ("FLOAT", "float"),
    pa.bool_(): ("BOOLEAN", "boolean"),
    pa.date32(): ("DATE", "date"),
    pa.date64(): ("DATE", "date"),
    pa.binary(): ("BINARY", "binary"),
    pa.large_binary(): ("BINARY", "binary"),
    pa.null(): ("NULL", "void"),
}


def _type_name_and_text(arrow_type: pa.DataType) -> tuple[str, str]:
    if arrow_type in _SIMPLE:
        return _SIMPLE[arrow_type]
    if pa.types.is_dictionary(arrow_type):
        return _type_name_and_text(arrow_type.value_type)
    if pa.types.is_string_view(arrow_type):
        return "STRING", "string"
    if pa.types.is_decimal(arrow_type):
        return "DECIMAL", f"decimal({arrow_type.precision},{arrow_type.scale})"
    if pa.types.is_timestamp(arrow_type):
        return ("TIMESTAMP", "timestamp") if arrow_type.tz else ("TIMESTAMP_NTZ", "timestamp_ntz")
    if _is_list(arrow_type):
        return "ARRAY", f"array<{type_text(arrow_type.value_type)}>"
    if pa.types.is_map(arrow_type):
        return "MAP", f"map<{type_text(arrow_type.key_type)},{type_text(arrow_type.item_type)}>"
    if pa.types.is_struct(arrow_type):
        fields = ",".join(f"{f.name}:{type_text(f.type)}" for f in arrow_type)
        return "STRUCT", f"struct<{fields}>"
    if pa.types.is_fixed_size_binary(arrow_type):
        return "BINARY", "binary"
    # Times of day, durations and intervals have no Databricks column type the emulator reproduces.
    return "STRING", "string"


def column_info(field: pa.Field, position: int) -> dict[str, Any]:
    name, text = _type_name_and_text(field.type)
    info: dict[str, Any] = {"name": field.name, "position": position, "type_name": name, "type_text": text}
    if pa.types.is_decimal(field.type):
        info["type_precision"] = field.type.precision
        info["type_scale"] = field.type.scale
    return info


def schema_json(schema: pa.Schema) -> dict[str, Any]:
    return {
        "column_count": len(schema),
        "columns": [column_info(field, position) for position, field in enumerate(schema)],
    }


# -- JSON_ARRAY values --------------------------------------------------------------------------------------
def _scientific(digits: str, exponent: int, negative: bool) -> str:
    mantissa = digits[0] + "." + (digits[1:] or "0")
    return f"{'-' if negative else ''}{mantissa}E{exponent}"


def spark_double(value: float, shortest: str | None = None) -> str:
    """A double as Spark casts it to a string (Java's `Double.toString`): `1.0`, `0.001`, `1.0E7`, `1.0E-4`."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    sign, digit_tuple, exponent = Decimal(shortest or repr(value)).normalize().as_tuple()
    digits = "".join(map(str, digit_tuple))
    assert isinstance(exponent, int)
    magnitude = len(digits) - 1 + exponent  # power of ten of the first digit
    if 1e-3 <= abs(value) < 1e7:
        if exponent >= 0:
            text = digits + "0" * exponent + ".0"
        elif -exponent >= len(digits):
            text = "0." + "0" * (-exponent - len(digits)) + digits
        else:
            text = digits[:exponent] + "." + digits[exponent:]
        return ("-" if sign else "") + text
    return _scientific(digits, magnitude, bool(sign))


def spark_float(value: float) -> str:
    """A float (32-bit) with the fewest digits that read back as the same float, as Java prints it."""
    if math.isnan(value) or math.isinf(value) or value == 0:
        return spark_double(value)
    target = struct.unpack("f", struct.pack("f", value))[0]
    for precision in range(1, 10):
        text = f"{target:.{precision}g}"
        if struct.unpack("f", struct.pack("f", float(text)))[0] == target:
            return spark_double(float(text), text)
    return spark_double(target)


def _timestamp_text(value: datetime) -> str:
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    fraction = f"{value.microsecond:06d}"
    fraction = fraction[:3] if fraction.endswith("000") else fraction
    return value.strftime("%Y-%m-%dT%H:%M:%S") + "." + fraction


def _is_list(arrow_type: pa.DataType) -> bool:
    return (
        pa.types.is_list(arrow_type)
        or pa.types.is_large_list(arrow_type)
        or pa.types.is_fixed_size_list(arrow_type)
    )


def json_text(value: Any, arrow_type: pa.DataType) -> str:
    """A value inside an array, map or struct as JSON text, as Spark's `to_json` writes it: numbers stay
    numbers (a decimal keeps its scale, `12.30`), dates and timestamps are strings."""
    if value is None:
        return "null"
    if pa.types.is_dictionary(arrow_type):
        return json_text(value, arrow_type.value_type)
    if _is_list(arrow_type):
        return "[" + ",".join(json_text(item, arrow_type.value_type) for item in value) + "]"
    if pa.types.is_map(arrow_type):
        items = (
            json.dumps(render_value(k, arrow_type.key_type), ensure_ascii=False)
            + ":"
            + json_text(v, arrow_type.item_type)
            for k, v in value
        )
        return "{" + ",".join(items) + "}"
    if pa.types.is_struct(arrow_type):
        fields = (
            json.dumps(f.name, ensure_ascii=False) + ":" + json_text(value.get(f.name), f.type)
            for f in arrow_type
        )
        return "{" + ",".join(fields) + "}"
    if isinstance(value, bool | int | Decimal) or (isinstance(value, float) and math.isfinite(value)):
        text = render_value(value, arrow_type)
        assert text is not None
        return text
    return json.dumps(render_value(value, arrow_type), ensure_ascii=False)


def render_value(value: Any, arrow_type: pa.DataType) -> str | None:
    """One value as a JSON_ARRAY string, as Databricks renders it (None for NULL)."""
    if value is None:
        return None
    if pa.types.is_dictionary(arrow_type):
        return render_value(value, arrow_type.value_type)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return spark_float(value) if pa.types.is_float32(arrow_type) else spark_double(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        text = _timestamp_text(value)
        return text + "Z" if value.tzinfo is not None else text
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, str):
        return value
    if isinstance(value, list | tuple | dict):
        return json_text(value, arrow_type)
    return str(value)


def _plain_column(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Nanosecond timestamps to microseconds, so that `to_pylist` gives datetimes."""
    if pa.types.is_timestamp(column.type) and column.type.unit == "ns":
        return column.cast(pa.timestamp("us", column.type.tz), safe=False)
    return column


def render_rows(table: pa.Table) -> list[Row]:
    """Every row of `table` as JSON_ARRAY strings."""
    columns = [
        [render_value(v, field.type) for v in _plain_column(table.column(i)).to_pylist()]
        for i, field in enumerate(table.schema)
    ]
    return (
        [list(row) for row in zip(*columns, strict=True)] if columns else [[] for _ in range(table.num_rows)]
    )


def rows_bytes(rows: Sequence[Row]) -> int:
    return len(json.dumps(rows, separators=(",", ":"), ensure_ascii=False).encode())


def arrow_stream(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


# -- chunks and manifest ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Chunk:
    index: int
    row_offset: int
    row_count: int
    byte_count: int
    rows: list[Row] | None = None  # INLINE
    payload: bytes | None = None  # EXTERNAL_LINKS: what the link serves

    def info(self) -> dict[str, Any]:
        return {
            "chunk_index": self.index,
            "row_offset": self.row_offset,
            "row_count": self.row_count,
            "byte_count": self.byte_count,
        }


@dataclass(frozen=True)
class ResultSet:
    schema: pa.Schema
    format: str
    disposition: str
    chunks: tuple[Chunk, ...]
    total_row_count: int
    truncated: bool

    def manifest(self) -> dict[str, Any]:
        manifest: dict[str, Any] = {
            "format": self.format,
            "schema": schema_json(self.schema),
            "total_chunk_count": len(self.chunks),
            "total_row_count": self.total_row_count,
            "total_byte_count": sum(c.byte_count for c in self.chunks),
            "truncated": self.truncated,
        }
        if self.chunks:  # Databricks leaves `chunks` out of a result without rows
            manifest["chunks"] = [c.info() for c in self.chunks]
        return manifest


@dataclass(frozen=True)
class ResultLimits:
    inline_chunk_rows: int
    link_chunk_rows: int
    inline_limit_bytes: int
    row_limit: int | None = None
    byte_limit: int | None = None


def _rows_within(rows: list[Row], byte_limit: int) -> int:
    """How many leading rows fit in `byte_limit` bytes of JSON."""
    total = 2
    for n, row in enumerate(rows):
        total += rows_bytes([row]) - 1
        if total > byte_limit:
            return n
    return len(rows)


def inline_limit_error(size: int, limit: int) -> StatementError:
    return StatementError(
        f"Inline byte limit exceeded: the result is {size} bytes, more than the {limit} bytes a statement "
        "with disposition INLINE may return. Use disposition EXTERNAL_LINKS to fetch large results.",
        error_code="BAD_REQUEST",
    )


def build_result(table: pa.Table, disposition: str, fmt: str, limits: ResultLimits) -> ResultSet:
    """Cut `table` into the chunks clients fetch; fails (inline limit) as Databricks would."""
    truncated = False
    if limits.row_limit is not None and table.num_rows > limits.row_limit:
        table, truncated = table.slice(0, limits.row_limit), True
    rows = render_rows(table) if fmt == "JSON_ARRAY" else None
    if limits.byte_limit is not None:
        # Databricks counts bytes of its internal representation; the rendered JSON is the emulator's measure.
        keep = _rows_within(rows if rows is not None else render_rows(table), limits.byte_limit)
        if keep < table.num_rows:
            table, truncated = table.slice(0, keep), True
            rows = rows[:keep] if rows is not None else None
    if disposition == "INLINE":
        assert rows is not None
        size = rows_bytes(rows)
        if size > limits.inline_limit_bytes:
            raise inline_limit_error(size, limits.inline_limit_bytes)
        step = limits.inline_chunk_rows
        chunks = tuple(
            Chunk(n, offset, len(part), rows_bytes(part), rows=part)
            for n, offset in enumerate(range(0, len(rows), step))
            for part in [rows[offset : offset + step]]
        )
    else:
        step = limits.link_chunk_rows
        parts = [(offset, table.slice(offset, step)) for offset in range(0, table.num_rows, step)]
        chunks = tuple(
            Chunk(n, offset, part.num_rows, len(payload), payload=payload)
            for n, (offset, part) in enumerate(parts)
            for payload in [_link_payload(part, fmt, rows, offset)]
        )
    return ResultSet(table.schema, fmt, disposition, chunks, table.num_rows, truncated)


def _link_payload(part: pa.Table, fmt: str, rows: list[Row] | None, offset: int) -> bytes:
    if fmt == "ARROW_STREAM":
        return arrow_stream(part)
    assert rows is not None
    return json.dumps(
        rows[offset : offset + part.num_rows], separators=(",", ":"), ensure_ascii=False
    ).encode()


def inline_chunk_json(result: ResultSet, chunk: Chunk, statement_id: str) -> dict[str, Any]:
    """`result` (or a chunk fetched by index) of an INLINE JSON_ARRAY result."""
    data: dict[str, Any] = {
        "chunk_index": chunk.index,
        "row_offset": chunk.row_offset,
        "row_count": chunk.row_count,
        "data_array": chunk.rows,
    }
    data.update(next_chunk(result, chunk, statement_id))
    return data


def next_chunk(result: ResultSet, chunk: Chunk, statement_id: str) -> dict[str, Any]:
    following = chunk.index + 1
    if following >= len(result.chunks):
        return {}
    return {
        "next_chunk_index": following,
        "next_chunk_internal_link": f"/api/2.0/sql/statements/{statement_id}/result/chunks/{following}",
    }
