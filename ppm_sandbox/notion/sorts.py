"""Query sorts: validation, the fast timestamp path, and comparable keys for property sorts.

Without `sorts` the emulator orders by `last_edited_time` descending (most recently edited
first); ties (pages edited in the same minute) are broken by creation order. A single timestamp
sort (or a sort on a created/last-edited-time property) runs on the index; anything else sorts
the matching pages in memory (fine for demo-sized databases, O(n log n) on huge ones).
Empty values sort last in both directions; selects sort by the schema's option order, as in Notion.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ppm_sandbox.notion.errors import validation_error
from ppm_sandbox.notion.properties import date_start_seconds
from ppm_sandbox.notion.schema import DatabaseSchema, PropertySpec

DIRECTIONS = ("ascending", "descending")


@dataclass(frozen=True)
class SortKey:
    timestamp: str | None  # "last_edited_time" | "created_time" for timestamp sorts
    spec: PropertySpec | None
    descending: bool


@dataclass(frozen=True)
class SortPlan:
    keys: tuple[SortKey, ...]

    @property
    def fast(self) -> tuple[str, bool] | None:
        """("edited" | "created", descending) when the index can serve this order."""
        if not self.keys:
            return ("edited", True)
        if len(self.keys) != 1:
            return None
        key = self.keys[0]
        field = key.timestamp or (key.spec.type if key.spec else None)
        if field == "last_edited_time":
            return ("edited", key.descending)
        if field == "created_time":
            return ("created", key.descending)
        return None

    @property
    def fingerprint(self) -> str:
        return "|".join(
            f"{k.timestamp or (k.spec.id if k.spec else '')}:{'d' if k.descending else 'a'}"
            for k in self.keys
        )


DEFAULT_SORT = SortPlan(())


def compile_sorts(raw: Any, schema: DatabaseSchema) -> SortPlan:
    if raw is None:
        return DEFAULT_SORT
    if not isinstance(raw, list):
        raise validation_error(
            f"body failed validation: body.sorts should be an array, instead was `{raw!r}`."
        )
    keys = []
    for i, item in enumerate(raw):
        where = f"body.sorts[{i}]"
        if not isinstance(item, Mapping):
            raise validation_error(f"body failed validation: {where} should be an object.")
        direction = item.get("direction", "ascending")
        if direction not in DIRECTIONS:
            raise validation_error(
                f"body failed validation: {where}.direction should be `ascending` or `descending`, "
                f"instead was `{direction!r}`."
            )
        descending = direction == "descending"
        if "timestamp" in item:
            if item["timestamp"] not in ("created_time", "last_edited_time"):
                raise validation_error(
                    f"body failed validation: {where}.timestamp should be `created_time` or `last_edited_time`."
                )
            keys.append(SortKey(item["timestamp"], None, descending))
        elif "property" in item:
            spec = schema.get(item["property"]) if isinstance(item["property"], str) else None
            if spec is None:
                raise validation_error(f"Could not find sort property with name or id: {item['property']}")
            keys.append(SortKey(None, spec, descending))
        else:
            raise validation_error(
                f"body failed validation: {where}.property or {where}.timestamp should be defined."
            )
    return SortPlan(tuple(keys))


def comparable(spec: PropertySpec, value: Any) -> Any:
    """A value that orders like Notion orders this property type (None when empty)."""
    if value is None or value == "" or value == []:
        return None
    t = spec.type
    if t in ("select", "status"):
        names = [o.name for o in spec.options]
        return names.index(value) if value in names else len(names)
    if t == "multi_select":
        return comparable(spec.__class__(spec.id, spec.name, "select", spec.options), value[0])
    if t in ("date",):
        seconds = date_start_seconds(value)
        return None if seconds is None else seconds
    if t in ("title", "rich_text", "url", "email", "phone_number"):
        return str(value).casefold()
    if t == "checkbox":
        return int(bool(value))
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float):
        return value if not (isinstance(value, float) and math.isnan(value)) else None
    if isinstance(value, list):
        return str(value[0]).casefold()
    return str(value).casefold()


def sort_in_memory(
    items: list[Any],
    plan: SortPlan,
    value_of: Callable[[Any, SortKey], Any],
) -> list[Any]:
    """Stable multi-key sort with empties last regardless of direction."""
    ordered = list(items)
    for key in reversed(plan.keys):
        if key.descending:
            ordered.sort(key=lambda it, k=key: _desc_key(value_of(it, k)), reverse=True)
        else:
            ordered.sort(key=lambda it, k=key: _asc_key(value_of(it, k)))
    return ordered


def _asc_key(value: Any) -> tuple[bool, Any]:
    return (value is None, 0 if value is None else value)


def _desc_key(value: Any) -> tuple[bool, Any]:
    return (value is not None, 0 if value is None else value)
