"""Statement parameters (pure): the request's `[{name, value, type}]` to Python values the engine binds.

Databricks casts each string value to its `type` (STRING when omitted) as `cast` would; a value that does
not cast fails the statement (`CAST_INVALID_INPUT`), a marker without a parameter too (`UNBOUND_SQL_PARAMETER`).
The engine binds the values itself (`params={name: value}`), so they stay typed: a DECIMAL is a `Decimal`, a
TIMESTAMP an aware UTC datetime, a TIMESTAMP_NTZ a naive one.
"""

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from ppm_sandbox.databricks.errors import StatementError, invalid_parameter, sql_error

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_DECIMAL = re.compile(r"^(?:DECIMAL|DEC|NUMERIC)\s*(?:\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\))?$")
_INTEGERS = {
    "TINYINT": 8,
    "BYTE": 8,
    "SMALLINT": 16,
    "SHORT": 16,
    "INT": 32,
    "INTEGER": 32,
    "BIGINT": 64,
    "LONG": 64,
}


@dataclass(frozen=True)
class Parameter:
    """One request parameter as sent: `value` None is SQL NULL."""

    name: str
    value: str | None
    type: str = "STRING"

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "value": self.value, "type": self.type}


def parse_parameters(raw: Any) -> tuple[Parameter, ...]:
    """The request's `parameters`, checked for shape (a bad shape is a 400, not a failed statement)."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise invalid_parameter("parameters must be a list of {name, value, type} objects")
    out: list[Parameter] = []
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise invalid_parameter("each parameter needs a string 'name'")
        if not _NAME.match(item["name"]):
            raise invalid_parameter(f"invalid parameter name {item['name']!r}")
        value = item.get("value")
        if value is not None and not isinstance(value, str):
            raise invalid_parameter(f"parameter {item['name']!r}: value must be a string or null")
        kind = item.get("type") or "STRING"
        if not isinstance(kind, str):
            raise invalid_parameter(f"parameter {item['name']!r}: type must be a string")
        out.append(Parameter(item["name"], value, kind.strip().upper()))
    return tuple(out)


def _cast_error(value: str, kind: str) -> StatementError:
    return sql_error(
        "CAST_INVALID_INPUT",
        f'The value \'{value}\' of the type "STRING" cannot be cast to "{kind}" because it is malformed. '
        "Correct the value as per the syntax, or change its target type. Use `try_cast` to tolerate malformed "
        "input and return NULL instead.",
        "22018",
    )


def _integer(value: str, bits: int) -> int:
    number = int(value.strip())
    if not -(2 ** (bits - 1)) <= number < 2 ** (bits - 1):
        raise ValueError("out of range")
    return number


def _decimal(value: str, precision: int, scale: int) -> Decimal:
    number = Decimal(value.strip())
    if not number.is_finite():
        raise ValueError("not finite")
    quantized = number.quantize(Decimal(1).scaleb(-scale))
    if len(quantized.as_tuple().digits) > precision and quantized != 0:
        raise ValueError("too many digits")
    return quantized


def _boolean(value: str) -> bool:
    text = value.strip().lower()
    if text in ("true", "t", "yes", "y", "1"):
        return True
    if text in ("false", "f", "no", "n", "0"):
        return False
    raise ValueError("not a boolean")


def _datetime(value: str) -> datetime:
    return datetime.fromisoformat(value.strip().replace(" ", "T", 1).replace("Z", "+00:00"))


def _timestamp(value: str) -> datetime:
    # The session time zone is UTC: a time without an offset is a UTC time.
    parsed = _datetime(value)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _timestamp_ntz(value: str) -> datetime:
    return _datetime(value).replace(tzinfo=None)


def _converter(kind: str) -> Callable[[str], Any]:
    if kind in ("STRING", "VARCHAR", "CHAR"):
        return str
    if kind in _INTEGERS:
        bits = _INTEGERS[kind]
        return lambda value: _integer(value, bits)
    if kind in ("DOUBLE", "FLOAT", "REAL"):
        return lambda value: float(value.strip())
    if kind == "BOOLEAN":
        return _boolean
    if kind == "DATE":
        return lambda value: date.fromisoformat(value.strip()[:10])
    if kind == "TIMESTAMP":
        return _timestamp
    if kind == "TIMESTAMP_NTZ":
        return _timestamp_ntz
    if match := _DECIMAL.match(kind):
        precision = int(match.group(1) or 10)
        scale = int(match.group(2) or 0)
        return lambda value: _decimal(value, precision, scale)
    raise sql_error("UNSUPPORTED_DATATYPE", f'Unsupported data type "{kind}".', "0A000")


def convert(parameter: Parameter) -> Any:
    """The typed value of one parameter (None for NULL)."""
    converter = _converter(parameter.type)
    if parameter.value is None:
        return None
    try:
        return converter(parameter.value)
    except (ValueError, ArithmeticError, InvalidOperation):
        raise _cast_error(parameter.value, parameter.type) from None


def bind(markers: Iterable[str], parameters: Sequence[Parameter]) -> dict[str, Any]:
    """Typed values of the parameters `markers` use; a marker without a parameter fails the statement.

    Only the used parameters are passed on: an engine may refuse names its statement does not bind.
    """
    by_name: Mapping[str, Parameter] = {p.name: p for p in parameters}
    values: dict[str, Any] = {}
    for marker in markers:
        parameter = by_name.get(marker)
        if parameter is None:
            raise sql_error(
                "UNBOUND_SQL_PARAMETER",
                f"Found the unbound parameter: {marker}. Please, fix `args` and provide a mapping of the "
                "parameter to either a SQL literal or collection constructor functions such as `map()`, "
                "`array()`, `struct()`.",
                "42P02",
            )
        values[marker] = convert(parameter)
    return values
