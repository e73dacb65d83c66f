"""The table engine the emulator is given, and how it is found.

The sandbox imports nothing of the product (an import contract), so it cannot build the product's local
lakehouse itself: `DatabricksConfig.engine` names a factory instead. `TableEngine` lists exactly the methods
of the product's `Lakehouse` interface the emulator calls; table names are `schema.table` (lower-case) and
SQL is Databricks dialect, passed as received (the engine transpiles it and ignores the catalog part of
3-part names, since each catalog gets its own engine). Engine errors are recognised by class name
(`errors.engine_error`), never imported.
"""

import importlib
import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa


class WriteResultLike(Protocol):
    version: int
    rows_written: int


class TableInfoLike(Protocol):
    version: int
    num_rows: int
    schema: pa.Schema
    location: str


class TableVersionLike(Protocol):
    version: int
    timestamp: datetime | None
    operation: str
    parameters: Mapping[str, Any]
    metrics: Mapping[str, Any]


ArrowData = pa.Table | pa.RecordBatchReader | Iterable[pa.RecordBatch]


class TableEngine(Protocol):
    """What the emulator needs of an engine (a subset of the product's `Lakehouse`)."""

    def query(self, sql: str, *, params: Mapping[str, Any] | None = None) -> pa.Table: ...

    def replace(
        self,
        table: str,
        data: str | ArrowData,
        *,
        params: Mapping[str, Any] | None = None,
        partition_by: list[str] | None = None,
    ) -> WriteResultLike: ...

    def replace_partition(
        self,
        table: str,
        column: str,
        value: Any,
        data: str | ArrowData,
        *,
        params: Mapping[str, Any] | None = None,
    ) -> WriteResultLike: ...

    def append(
        self, table: str, data: ArrowData, *, partition_by: list[str] | None = None
    ) -> WriteResultLike: ...

    def exists(self, table: str) -> bool: ...

    def version(self, table: str) -> int | None: ...

    def info(self, table: str) -> TableInfoLike: ...

    def history(self, table: str, limit: int | None = None) -> list[TableVersionLike]: ...

    def restore(self, table: str, version: int) -> TableVersionLike: ...

    def vacuum(self, table: str, retention_hours: int = 168, dry_run: bool = False) -> list[str]: ...

    def optimize(self, table: str) -> Mapping[str, Any]: ...

    def tables(self) -> list[str]: ...


EngineFactory = Callable[..., TableEngine]


def resolve_factory(spec: Callable[..., Any] | str | None) -> EngineFactory | None:
    """The factory `spec` names: a callable as is, `"module:attribute"` imported now, None for none.

    Raises ValueError with the reason when the string does not name a callable, so that a typo in
    `--databricks-engine` stops the sandbox at start-up instead of failing every statement later.
    """
    if spec is None or callable(spec):
        return spec
    module_name, sep, attribute = spec.partition(":")
    if not sep or not module_name or not attribute:
        raise ValueError(f"databricks engine {spec!r}: expected 'module:attribute'")
    try:
        target: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise ValueError(f"databricks engine {spec!r}: cannot import {module_name!r}: {exc}") from exc
    for part in attribute.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise ValueError(f"databricks engine {spec!r}: {module_name!r} has no {attribute!r}") from None
    if not callable(target):
        raise ValueError(f"databricks engine {spec!r} is not callable")
    return target


class Engines:
    """One engine per catalog, made on first use with `root=<storage_dir>/<catalog>`."""

    def __init__(self, factory: EngineFactory | None, storage_dir: Path) -> None:
        self.factory = factory
        self.storage_dir = storage_dir
        self._engines: dict[str, TableEngine] = {}
        self._lock = threading.Lock()

    @property
    def configured(self) -> bool:
        return self.factory is not None

    def root(self, catalog: str) -> Path:
        return self.storage_dir / catalog

    def get(self, catalog: str) -> TableEngine:
        """The engine of `catalog` (the caller checked that the catalog exists and an engine was given)."""
        if self.factory is None:
            raise RuntimeError("no engine factory")
        with self._lock:
            engine = self._engines.get(catalog)
            if engine is None:
                root = self.root(catalog)
                root.mkdir(parents=True, exist_ok=True)
                engine = self._engines[catalog] = self.factory(root=str(root))
            return engine

    def clear(self) -> None:
        """Forget every engine (after a reset removed their files; new ones are made on next use)."""
        with self._lock:
            self._engines.clear()
