"""Lakehouse errors: each names the table and/or the SQL source it concerns."""

from __future__ import annotations


class LakehouseError(Exception):
    """Base class; `table` and `source` say what was being read or written."""

    def __init__(self, message: str, *, table: str | None = None, source: str | None = None) -> None:
        self.table = table
        self.source = source
        context = []
        if table:
            context.append(f"table {table}")
        if source:
            context.append(f"sql {source}")
        prefix = f"[{', '.join(context)}] " if context else ""
        super().__init__(prefix + message)


class TableNotFoundError(LakehouseError):
    """A table that has never been written (or was dropped) was read."""


class SqlError(LakehouseError):
    """SQL that does not parse, transpile or execute."""


class InvalidTableNameError(LakehouseError, ValueError):
    """A table name that is not `schema.table` in lower-case snake case."""
