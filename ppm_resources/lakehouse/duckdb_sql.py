"""Databricks -> DuckDB transpilation for the local engine (sqlglot), cached per statement text.

Two rewrites on the sqlglot tree:

* each `schema.table` (optionally `catalog.schema.table`, optionally `VERSION AS OF n` /
  `TIMESTAMP AS OF ts`) becomes a plain identifier that the engine binds to that Delta table's Arrow
  dataset, so time travel works in SQL on both engines;
* Spark's `date_add`/`date_sub`/`trunc` return DATE where DuckDB gives a TIMESTAMP: cast back to DATE;
  Spark's truncation unit aliases ('MM', 'YY', ...) become DuckDB's names.

Transpiled text is cached by source text, so a query run every few minutes is parsed once per process.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError

from ppm_resources.lakehouse.errors import SqlError
from ppm_resources.lakehouse.sql import SOURCE_DIALECT, SqlLike, as_source


@dataclass(frozen=True)
class TableRef:
    """A lakehouse table referenced by a query, at the latest version or a time-travel point."""

    schema: str
    table: str
    version: int | None = None
    timestamp: str | None = None

    @property
    def name(self) -> str:
        return f"{self.schema}.{self.table}"

    def __str__(self) -> str:
        if self.version is not None:
            return f"{self.name} VERSION AS OF {self.version}"
        if self.timestamp is not None:
            return f"{self.name} TIMESTAMP AS OF '{self.timestamp}'"
        return self.name

    @property
    def binding(self) -> str:
        """The identifier the local engine registers this table (at this point in time) under."""
        suffix = ""
        if self.version is not None:
            suffix = f"__v{self.version}"
        elif self.timestamp is not None:
            suffix = "__ts" + "".join(c if c.isalnum() else "_" for c in self.timestamp)
        return f"__lh__{self.schema}__{self.table}{suffix}"


@dataclass(frozen=True)
class TranspiledSql:
    text: str
    tables: tuple[TableRef, ...]


def _table_ref(node: exp.Table, origin: str) -> TableRef | None:
    schema = node.db
    if not schema:
        return None  # a CTE or an unqualified name: left for DuckDB to resolve
    version = timestamp = None
    travel = node.args.get("version")
    if travel is not None:
        kind = str(travel.this).upper()
        value = travel.expression
        if kind == "VERSION":
            try:
                version = int(value.name)
            except ValueError:
                raise SqlError(
                    f"VERSION AS OF needs an integer, got {value.sql()!r}", source=origin
                ) from None
        else:
            timestamp = value.name
    return TableRef(schema=schema.lower(), table=node.name.lower(), version=version, timestamp=timestamp)


def _bind_tables(tree: exp.Expression, origin: str) -> tuple[TableRef, ...]:
    refs: dict[TableRef, None] = {}
    for node in list(tree.find_all(exp.Table)):
        ref = _table_ref(node, origin)
        if ref is None:
            continue
        refs[ref] = None
        alias = node.args.get("alias")
        replacement = exp.Table(this=exp.to_identifier(ref.binding, quoted=True))
        # Keep the name people wrote as the alias, so `bronze.pages.col` style references still work.
        replacement.set("alias", alias or exp.TableAlias(this=exp.to_identifier(ref.table)))
        node.replace(replacement)
    return tuple(refs)


# Spark's truncation unit aliases, as DuckDB names them.
_TRUNC_UNITS = {
    "YYYY": "YEAR", "YY": "YEAR", "YEAR": "YEAR", "QUARTER": "QUARTER",
    "MM": "MONTH", "MON": "MONTH", "MONTH": "MONTH", "WEEK": "WEEK",
    "DD": "DAY", "DAY": "DAY", "HOUR": "HOUR", "MINUTE": "MINUTE", "SECOND": "SECOND",
}  # fmt: skip


def _spark_date_semantics(tree: exp.Expression) -> None:
    """Spark results DuckDB does not share: `date_add`/`date_sub`/`trunc` give DATE, `count_if` a BIGINT (0 on no rows)."""
    for node in list(tree.find_all(exp.DateTrunc, exp.TimestampTrunc)):
        unit = node.args.get("unit")
        if unit is not None and unit.name.upper() in _TRUNC_UNITS:
            node.set("unit", exp.Literal.string(_TRUNC_UNITS[unit.name.upper()]))
    for node in list(tree.find_all(exp.TsOrDsAdd, exp.DateTrunc)):
        node.replace(exp.cast(node.copy(), exp.DataType.Type.DATE))
    for node in list(tree.find_all(exp.CountIf)):  # Spark: BIGINT, 0 over no rows; DuckDB: HUGEINT, NULL
        node.replace(
            exp.cast(exp.func("coalesce", node.copy(), exp.Literal.number(0)), exp.DataType.Type.BIGINT)
        )


@functools.lru_cache(maxsize=1024)
def _transpile(text: str, origin: str) -> TranspiledSql:
    try:
        statements = sqlglot.parse(text, read=SOURCE_DIALECT)
    except ParseError as error:
        raise SqlError(f"cannot parse Databricks SQL: {error}", source=origin) from error
    statements = [s for s in statements if s is not None]
    if len(statements) != 1:
        raise SqlError(f"expected exactly one SQL statement, found {len(statements)}", source=origin)
    tree = statements[0]
    tables = _bind_tables(tree, origin)
    _spark_date_semantics(tree)
    return TranspiledSql(text=tree.sql(dialect="duckdb"), tables=tables)


def to_duckdb(sql: SqlLike) -> TranspiledSql:
    """Transpile one Databricks-dialect statement to DuckDB, with its lakehouse tables bound (cached)."""
    source = as_source(sql)
    return _transpile(source.text, source.origin)
