"""Statements: the store of every statement received, and their asynchronous execution in a worker pool.

A statement is PENDING until a worker takes it, `min_pending_s` has passed and the warehouse runs; RUNNING
while the engine works; then SUCCEEDED, FAILED or CANCELED. A cancel of a PENDING statement is immediate; a
RUNNING one cannot be interrupted (the engine call completes, its writes stay) and ends CANCELED with its
result dropped. Workers are daemon threads, so that a statement waiting for a stopped warehouse never holds
the process at exit. Results stay in memory until `reset` (no CLOSED state).
"""

import queue
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ppm_sandbox.clock import SandboxClock
from ppm_sandbox.databricks.config import DEFAULT_CATALOG
from ppm_sandbox.databricks.dialect import classify
from ppm_sandbox.databricks.errors import StatementError, engine_error, sql_error
from ppm_sandbox.databricks.executor import Executor, Scope
from ppm_sandbox.databricks.params import Parameter
from ppm_sandbox.databricks.results import ResultLimits, ResultSet, build_result
from ppm_sandbox.databricks.warehouse import RUNNING as WAREHOUSE_RUNNING
from ppm_sandbox.databricks.warehouse import Warehouse

PENDING = "PENDING"
RUNNING = "RUNNING"
SUCCEEDED = "SUCCEEDED"
FAILED = "FAILED"
CANCELED = "CANCELED"
TERMINAL = frozenset({SUCCEEDED, FAILED, CANCELED})
_POLL_S = 0.05


@dataclass(frozen=True)
class ExecuteRequest:
    """A validated `POST /api/2.0/sql/statements` body."""

    statement: str
    warehouse_id: str
    catalog: str | None = None
    schema: str | None = None
    parameters: tuple[Parameter, ...] = ()
    disposition: str = "INLINE"
    format: str = "JSON_ARRAY"
    wait_timeout_s: int = 10
    on_wait_timeout: str = "CONTINUE"
    row_limit: int | None = None
    byte_limit: int | None = None

    def scope(self) -> Scope:
        return Scope(
            catalog=(self.catalog or DEFAULT_CATALOG).lower(),
            schema=self.schema.lower() if self.schema else None,
            parameters=self.parameters,
        )


class Statement:
    """One statement and its progress; fields change under `lock` (workers write, requests read)."""

    def __init__(
        self, request: ExecuteRequest, submitted_at: datetime, injected: StatementError | None
    ) -> None:
        self.id = str(uuid.uuid4())
        self.request = request
        self.submitted_at = submitted_at
        self.injected = injected
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.state = PENDING
        self.error: StatementError | None = None
        self.result: ResultSet | None = None
        self.cancel_requested = False
        self.created = time.monotonic()
        self.finished: float | None = None

    def finish(
        self, state: str, error: StatementError | None = None, result: ResultSet | None = None
    ) -> None:
        with self.lock:
            if self.state in TERMINAL:
                return
            self.state, self.error, self.result = state, error, result
            self.finished = time.monotonic()
        self.done.set()

    def snapshot(self) -> tuple[str, StatementError | None, ResultSet | None]:
        with self.lock:
            return self.state, self.error, self.result

    def record(self) -> dict[str, Any]:
        """What `GET /_sandbox/databricks/statements` lists."""
        state, error, _ = self.snapshot()
        duration = None if self.finished is None else round((self.finished - self.created) * 1000, 3)
        request = self.request
        return {
            "id": self.id,
            "statement": request.statement,
            "state": state,
            "error": None if error is None else {**error.to_json(), "sql_state": error.sql_state},
            "parameters": [p.to_json() for p in request.parameters],
            "catalog": request.catalog,
            "schema": request.schema,
            "disposition": request.disposition,
            "format": request.format,
            "submitted_at": self.submitted_at.isoformat().replace("+00:00", "Z"),
            "duration_ms": duration,
        }


class StatementStore:
    """Every statement received (in order) and the pool that runs them."""

    def __init__(
        self,
        executor: Executor,
        warehouse: Warehouse,
        clock: SandboxClock,
        limits: ResultLimits,
        *,
        min_pending_s: float,
        workers: int,
    ) -> None:
        self.executor = executor
        self.warehouse = warehouse
        self.clock = clock
        self.limits = limits
        self.min_pending_s = min_pending_s
        self.workers = workers
        self._lock = threading.Lock()
        self._statements: dict[str, Statement] = {}
        self._queue: queue.Queue[Statement] = queue.Queue()
        self._threads: list[threading.Thread] = []

    # -- submission and look-up ---------------------------------------------------------------------------
    def submit(self, request: ExecuteRequest, injected: StatementError | None = None) -> Statement:
        statement = Statement(request, self.clock.now(), injected)
        with self._lock:
            self._statements[statement.id] = statement
            if len(self._threads) < self.workers:
                thread = threading.Thread(
                    target=self._work, name=f"ppm-sandbox:databricks-{len(self._threads)}", daemon=True
                )
                self._threads.append(thread)
                thread.start()
        self._queue.put(statement)
        return statement

    def get(self, statement_id: str) -> Statement:
        with self._lock:
            return self._statements[statement_id]

    def cancel(self, statement: Statement) -> None:
        with statement.lock:
            statement.cancel_requested = True
            pending = statement.state == PENDING
        if pending:
            statement.finish(CANCELED)
        self.warehouse.wake()

    def records(self) -> list[dict[str, Any]]:
        with self._lock:
            statements = list(self._statements.values())
        return [s.record() for s in statements]

    def reset(self, timeout: float = 30.0) -> None:
        """Cancel everything, wait for running statements to end (their engine calls cannot be cut), forget all."""
        with self._lock:
            statements = list(self._statements.values())
        for statement in statements:
            self.cancel(statement)
        deadline = time.monotonic() + timeout
        for statement in statements:
            statement.done.wait(max(0.0, deadline - time.monotonic()))
        with self._lock:
            self._statements.clear()

    # -- execution ----------------------------------------------------------------------------------------
    def _work(self) -> None:
        while True:
            statement = self._queue.get()
            try:
                self._run(statement)
            except BaseException as exc:  # a worker must survive anything a statement does
                statement.finish(FAILED, StatementError(f"[INTERNAL_ERROR] {type(exc).__name__}: {exc}"))

    def _wait_until_runnable(self, statement: Statement) -> bool:
        """Hold the statement PENDING (`min_pending_s`, stopped warehouse); False if it was canceled."""
        ready_at = statement.created + self.min_pending_s
        while True:
            if statement.cancel_requested:
                return False
            remaining = ready_at - time.monotonic()
            if remaining <= 0 and self.warehouse.state == WAREHOUSE_RUNNING:
                return True
            timeout = _POLL_S if remaining <= 0 else min(_POLL_S, remaining)
            self.warehouse.wait(lambda: statement.cancel_requested, timeout)

    def _run(self, statement: Statement) -> None:
        if not self._wait_until_runnable(statement):
            statement.finish(CANCELED)
            return
        with statement.lock:
            if statement.cancel_requested or statement.state in TERMINAL:
                return
            statement.state = RUNNING
        state, error, result = self._execute(statement)
        if statement.cancel_requested:
            statement.finish(CANCELED)
        else:
            statement.finish(state, error, result)

    def _execute(self, statement: Statement) -> tuple[str, StatementError | None, ResultSet | None]:
        request = statement.request
        scope = request.scope()
        if statement.injected is not None:
            return FAILED, statement.injected, None
        try:
            table = self.executor.run(classify(request.statement), scope)
            limits = ResultLimits(
                self.limits.inline_chunk_rows,
                self.limits.link_chunk_rows,
                self.limits.inline_limit_bytes,
                request.row_limit,
                request.byte_limit,
            )
            return SUCCEEDED, None, build_result(table, request.disposition, request.format, limits)
        except StatementError as exc:
            return FAILED, exc, None
        except Exception as exc:
            mapped = engine_error(exc, scope.catalog)
            if mapped is None:
                mapped = sql_error("INTERNAL_ERROR", f"{type(exc).__name__}: {exc}", "XX000")
            return FAILED, mapped, None
