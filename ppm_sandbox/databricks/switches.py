"""Fault switches only the Databricks emulator has (`POST /_sandbox/databricks/faults`), beside its gate's.

    fail_statements       [{"match": "copy into", "count": 1, "error_code"?: ..., "message"?: ...}]: the next
                          `count` statements whose text contains `match` (any case) end FAILED with that error,
                          without running
    after_execute_status  {"status": 503, "count": 1, "match"?: ...} (or a list): the statement runs to its end,
                          then the POST that submitted it is answered with that status and a Databricks error
                          body: the lost answer after which a client's retry submits the statement again
    warehouse_state       "RUNNING" | "STOPPED": statements stay PENDING while the warehouse is stopped

A list given for `fail_statements` or `after_execute_status` replaces the queued rules (null or [] clears them).
"""

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ppm_sandbox.databricks.errors import StatementError
from ppm_sandbox.databricks.warehouse import RUNNING, Warehouse

AFTER_STATUSES = (429, 500, 502, 503, 504)
_FAIL_KEYS = frozenset({"match", "count", "error_code", "message"})
_AFTER_KEYS = frozenset({"status", "count", "match"})


@dataclass
class FailRule:
    match: str
    count: int
    error_code: str = "INTERNAL_ERROR"
    message: str | None = None

    def error(self) -> StatementError:
        message = self.message or (
            f"[{self.error_code}] Sandbox fault: the statement failed (fail_statements match '{self.match}')."
        )
        return StatementError(message, error_code=self.error_code)

    def to_json(self) -> dict[str, Any]:
        return {
            "match": self.match,
            "count": self.count,
            "error_code": self.error_code,
            "message": self.message,
        }


@dataclass
class AfterRule:
    status: int
    count: int
    match: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status, "count": self.count, "match": self.match}


def _count(item: Mapping[str, Any]) -> int:
    count = int(item.get("count", 1))
    if count < 1:
        raise ValueError("count must be >= 1")
    return count


def _fail_rules(raw: Any) -> list[FailRule]:
    if raw is None:
        return []
    items = [raw] if isinstance(raw, dict) else raw
    if not isinstance(items, list):
        raise TypeError("fail_statements must be a list of {match, count, error_code?, message?}")
    rules = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("match"), str):
            raise ValueError("each fail_statements rule needs a string 'match'")
        if unknown := set(item) - _FAIL_KEYS:
            raise ValueError(f"unknown fail_statements keys {sorted(unknown)}")
        rules.append(
            FailRule(
                item["match"],
                _count(item),
                str(item.get("error_code") or "INTERNAL_ERROR"),
                item.get("message"),
            )
        )
    return rules


def _after_rules(raw: Any) -> list[AfterRule]:
    if raw is None:
        return []
    items = [raw] if isinstance(raw, dict) else raw
    if not isinstance(items, list):
        raise TypeError("after_execute_status must be {status, count, match?} or a list of them")
    rules = []
    for item in items:
        if not isinstance(item, dict):
            raise ValueError("after_execute_status rules are objects")
        if unknown := set(item) - _AFTER_KEYS:
            raise ValueError(f"unknown after_execute_status keys {sorted(unknown)}")
        status = int(item.get("status", 503))
        if status not in AFTER_STATUSES:
            raise ValueError(f"after_execute_status status must be one of {AFTER_STATUSES}")
        match = item.get("match")
        if match is not None and not isinstance(match, str):
            raise ValueError("after_execute_status match must be a string")
        rules.append(AfterRule(status, _count(item), match))
    return rules


def _take(rules: list[Any], text: str) -> Any:
    """The first rule whose `match` is in `text` (any case), with one use consumed."""
    lowered = text.lower()
    for rule in rules:
        if rule.match is None or rule.match.lower() in lowered:
            rule.count -= 1
            if rule.count <= 0:
                rules.remove(rule)
            return rule
    return None


class DatabricksFaults:
    """`FaultSwitches` of the Databricks service."""

    keys: tuple[str, ...] = ("fail_statements", "after_execute_status", "warehouse_state")

    def __init__(self, warehouse: Warehouse) -> None:
        self.warehouse = warehouse
        self._lock = threading.Lock()
        self._fail: list[FailRule] = []
        self._after: list[AfterRule] = []

    def check(self, changes: Mapping[str, Any]) -> None:
        _fail_rules(changes.get("fail_statements"))
        _after_rules(changes.get("after_execute_status"))
        state = changes.get("warehouse_state")
        if state is not None and str(state).upper() not in ("RUNNING", "STOPPED"):
            raise ValueError(f"warehouse_state must be RUNNING or STOPPED, got {state!r}")

    def apply(self, changes: Mapping[str, Any]) -> None:
        with self._lock:
            if "fail_statements" in changes:
                self._fail = _fail_rules(changes["fail_statements"])
            if "after_execute_status" in changes:
                self._after = _after_rules(changes["after_execute_status"])
        if changes.get("warehouse_state") is not None:
            self.warehouse.set_state(str(changes["warehouse_state"]).upper())

    def describe(self) -> dict[str, Any]:
        with self._lock:
            return {
                "fail_statements": [rule.to_json() for rule in self._fail],
                "after_execute_status": [rule.to_json() for rule in self._after],
                "warehouse_state": self.warehouse.state,
            }

    def reset(self) -> None:
        with self._lock:
            self._fail, self._after = [], []
        self.warehouse.set_state(RUNNING)

    def take_failure(self, text: str) -> StatementError | None:
        """The injected error of the statement `text`, if a rule matches (one use consumed)."""
        with self._lock:
            rule = _take(self._fail, text)
        return None if rule is None else rule.error()

    def take_after_status(self, text: str) -> int | None:
        """The status the POST submitting `text` must be answered with, if a rule matches."""
        with self._lock:
            rule = _take(self._after, text)
        return None if rule is None else rule.status
