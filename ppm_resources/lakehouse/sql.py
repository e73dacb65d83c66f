"""Engine-neutral SQL text: files under `sql/` with `-- include:` lines, string literals, where SQL came from.

Every silver/gold transform and set-based DQ rule is written once in the Databricks dialect; each engine takes
the text from here (the local engine transpiles it in `duckdb_sql.py`, Databricks and Spark run it as written).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from sqlglot import exp

from ppm_resources.paths import sql_dir

SOURCE_DIALECT = "databricks"


@dataclass(frozen=True)
class SqlSource:
    """SQL text plus where it came from, so errors can name the file."""

    text: str
    origin: str = "<inline sql>"

    def __str__(self) -> str:
        return self.origin


SqlLike = str | SqlSource


def sql_string(value: str) -> str:
    """A string literal in the Databricks dialect (quotes and backslashes escaped as that dialect wants)."""
    return exp.Literal.string(value).sql(dialect=SOURCE_DIALECT)


def as_source(sql: SqlLike) -> SqlSource:
    return sql if isinstance(sql, SqlSource) else SqlSource(sql)


_INCLUDE = re.compile(r"^[ \t]*--[ \t]*include:[ \t]*(?P<path>\S+)[ \t]*$", re.MULTILINE)


def load_sql(relative_path: str, root: Path | None = None) -> SqlSource:
    """Read `sql/<relative_path>` (e.g. `gold/budget_vs_actual.sql`), expanding `-- include: <path>` lines.

    An include line is replaced by that file's text (itself expanded), so common table expressions shared by
    several statements live in one file while every statement stays whole for the engine.
    """
    base = root or sql_dir()
    return SqlSource(_expand(relative_path, base, ()), origin=f"sql/{relative_path}")


def _expand(relative_path: str, base: Path, including: tuple[str, ...]) -> str:
    path = base / relative_path
    if not path.is_file():
        via = f" (included by sql/{including[-1]})" if including else ""
        raise FileNotFoundError(f"SQL file {path} does not exist{via}")
    if relative_path in including:
        raise ValueError(f"SQL include cycle: {' -> '.join((*including, relative_path))}")
    text = path.read_text(encoding="utf-8")
    return _INCLUDE.sub(lambda m: _expand(m["path"], base, (*including, relative_path)).rstrip("\n"), text)
