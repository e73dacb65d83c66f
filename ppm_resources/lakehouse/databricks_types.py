"""Databricks SQL types <-> Arrow, for the Databricks engine (pure functions).

Results come back two ways: `EXTERNAL_LINKS` + `ARROW_STREAM` chunks carry their own Arrow schema; `INLINE` +
`JSON_ARRAY` chunks are strings, typed only by the manifest's `type_text` (`decimal(18,2)`, `map<string,string>`),
which `arrow_type` turns into the Arrow type the local engine would give. Named parameters go the other way:
`statement_parameter` types a Python value the way the SQL expects it (`DATE`, `DECIMAL(p,s)`, ...), so values
are bound by the warehouse, never interpolated into the text.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pyarrow as pa
from sqlglot import exp
from sqlglot.errors import ParseError

_T = exp.DataType.Type
_SIMPLE: dict[exp.DataType.Type, pa.DataType] = {
    _T.BOOLEAN: pa.bool_(),
    _T.TINYINT: pa.int8(),
    _T.SMALLINT: pa.int16(),
    _T.INT: pa.int32(),
    _T.BIGINT: pa.int64(),
    _T.FLOAT: pa.float32(),
    _T.DOUBLE: pa.float64(),
    _T.DATE: pa.date32(),
    _T.TIMESTAMP: pa.timestamp("us", tz="UTC"),
    _T.TIMESTAMPTZ: pa.timestamp("us", tz="UTC"),
    _T.TIMESTAMPLTZ: pa.timestamp("us", tz="UTC"),
    _T.TIMESTAMPNTZ: pa.timestamp("us"),
    _T.DATETIME: pa.timestamp("us"),
    _T.TEXT: pa.string(),
    _T.VARCHAR: pa.string(),
    _T.CHAR: pa.string(),
    _T.BINARY: pa.binary(),
    _T.VARBINARY: pa.binary(),
    _T.NULL: pa.null(),
    _T.UNKNOWN: pa.null(),
}


class UnknownTypeError(ValueError):
    """A `type_text` this engine cannot map to Arrow."""


def arrow_type(type_text: str) -> pa.DataType:
    """The Arrow type of a Databricks column type (`bigint`, `decimal(18,2)`, `array<struct<a:int>>`, ...)."""
    if type_text.strip().lower() == "void":
        return pa.null()
    try:
        return _from_sqlglot(exp.DataType.build(type_text, dialect="databricks"))
    except (ParseError, ValueError) as error:
        raise UnknownTypeError(f"cannot map Databricks type {type_text!r} to Arrow: {error}") from None


def _from_sqlglot(node: exp.DataType) -> pa.DataType:
    kind = node.this
    if kind in _SIMPLE:
        return _SIMPLE[kind]
    params = list(node.expressions)
    if kind == _T.DECIMAL:
        numbers = [int(p.name) for p in params] or [10, 0]
        precision, scale = ([*numbers, 0])[:2]
        return pa.decimal128(precision, scale)
    if kind == _T.ARRAY:
        return pa.list_(_from_sqlglot(params[0]))
    if kind == _T.MAP:
        return pa.map_(_from_sqlglot(params[0]), _from_sqlglot(params[1]))
    if kind == _T.STRUCT:
        fields = []
        for field in params:  # ColumnDef(name, DataType)
            fields.append(pa.field(field.name, _from_sqlglot(field.args["kind"])))
        return pa.struct(fields)
    raise UnknownTypeError(f"unsupported Databricks type {node.sql(dialect='databricks')!r}")


def arrow_schema(columns: Sequence[Mapping[str, Any]]) -> pa.Schema:
    """The Arrow schema of a result manifest's `schema.columns` (`name`, `type_text`, in `position` order)."""
    ordered = sorted(columns, key=lambda column: int(column.get("position", 0)))
    return pa.schema([pa.field(c["name"], arrow_type(str(c["type_text"]))) for c in ordered])


def _value(text: str | None, type_: pa.DataType) -> Any:
    """One JSON_ARRAY value (a string, or None for NULL) as a Python value of `type_`."""
    if text is None:
        return None
    if pa.types.is_boolean(type_):
        return text.lower() == "true"
    if pa.types.is_integer(type_):
        return int(text)
    if pa.types.is_floating(type_):
        return float(text)
    if pa.types.is_decimal(type_):
        return Decimal(text)
    if pa.types.is_date(type_):
        return date.fromisoformat(text[:10])
    if pa.types.is_timestamp(type_):
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        if type_.tz is None:
            return moment.replace(tzinfo=None)
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    if pa.types.is_binary(type_):
        return text.encode()
    if pa.types.is_list(type_) or pa.types.is_map(type_) or pa.types.is_struct(type_):
        return _nested(json.loads(text), type_)
    return text


def _nested(value: Any, type_: pa.DataType) -> Any:
    """A decoded JSON value of a nested column, with leaves typed (JSON numbers and strings as Arrow wants)."""
    if value is None:
        return None
    if pa.types.is_list(type_):
        return [_nested(item, type_.value_type) for item in value]
    if pa.types.is_map(type_):
        return [(_leaf(k, type_.key_type), _nested(v, type_.item_type)) for k, v in value.items()]
    if pa.types.is_struct(type_):
        return {f.name: _nested(value.get(f.name), f.type) for f in type_}
    return _leaf(value, type_)


def _leaf(value: Any, type_: pa.DataType) -> Any:
    return _value(value if isinstance(value, str) or value is None else json.dumps(value), type_)


def json_rows_table(rows: Sequence[Sequence[str | None]], schema: pa.Schema) -> pa.Table:
    """JSON_ARRAY result rows (lists of strings) as an Arrow table of `schema`."""
    columns = [
        pa.array([_value(row[i], field.type) for row in rows], type=field.type)
        for i, field in enumerate(schema)
    ]
    return pa.Table.from_arrays(columns, schema=schema)


def statement_parameter(name: str, value: Any) -> dict[str, str | None]:
    """A named statement parameter `{name, type, value}`: the value as a string, typed for the warehouse."""
    if value is None:
        return {"name": name, "type": "STRING", "value": None}
    if isinstance(value, bool):
        return {"name": name, "type": "BOOLEAN", "value": "true" if value else "false"}
    if isinstance(value, int):
        return {"name": name, "type": "BIGINT", "value": str(value)}
    if isinstance(value, float):
        return {"name": name, "type": "DOUBLE", "value": repr(value)}
    if isinstance(value, Decimal):
        _sign, digits, exponent = value.as_tuple()
        scale = max(0, -int(exponent))
        precision = max(len(digits), scale, 1)
        return {"name": name, "type": f"DECIMAL({precision},{scale})", "value": str(value)}
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return {"name": name, "type": "TIMESTAMP_NTZ", "value": value.isoformat()}
        return {"name": name, "type": "TIMESTAMP", "value": value.astimezone(UTC).isoformat()}
    if isinstance(value, date):
        return {"name": name, "type": "DATE", "value": value.isoformat()}
    if isinstance(value, str):
        return {"name": name, "type": "STRING", "value": value}
    raise TypeError(f"parameter {name!r}: cannot send a {type(value).__name__} as a statement parameter")
