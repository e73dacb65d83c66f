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


class DamagedTableError(LakehouseError):
    """A table whose Delta log or data files are damaged: says what, and the command that recovers it.

    `readable_version` is the newest version that still loads with all its data files (None: none does);
    `unreadable_from` the first version the log cannot load (None: the log loads); `recovery` is what to run,
    for people (one line).
    """

    def __init__(
        self,
        damage: str,
        *,
        table: str,
        recovery: str,
        readable_version: int | None = None,
        unreadable_from: int | None = None,
    ) -> None:
        self.damage = damage
        self.recovery = recovery
        self.readable_version = readable_version
        self.unreadable_from = unreadable_from
        super().__init__(f"damaged Delta table: {damage}\n  to recover: {recovery}", table=table)


class NotWritableError(LakehouseError):
    """The lakehouse directory (or a table in it) cannot be written: a read-only mount or missing permissions."""

    def __init__(self, directory: str, reason: str, *, table: str | None = None) -> None:
        self.directory = directory
        self.reason = reason
        super().__init__(
            f"the lakehouse directory is not writable: {directory} ({reason}); reads still work, but writes "
            "need PPM_LAKEHOUSE_DIR to be a directory this user can write",
            table=table,
        )
