"""Query filters: validate a Notion filter object and compile it to a predicate plus time bounds.

Besides the predicate, compilation derives, for `last_edited_time` and `created_time`, a minute
interval that every matching page lies in (intersection through `and`, hull through `or`). The
query planner turns those intervals into index ranges of the generated pages, which is what
keeps a time-sliced query over a million pages at O(page_size + log n).

Timestamp semantics: a date-only value ("2026-05-01") means that whole UTC day (so `after` a
date is from the next day on); a datetime value is an instant and pages (whose times are
minute-rounded) compare against it directly; `equals` with a datetime means "in that minute".
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from ppm_sandbox.notion.errors import validation_error
from ppm_sandbox.notion.ids import normalize_uuid
from ppm_sandbox.notion.properties import date_start_seconds, parse_iso
from ppm_sandbox.notion.schema import DatabaseSchema, PropertySpec

MAX_NESTING = 2  # compound filters may nest two levels below the top-level one

Interval = tuple[int | None, int | None]  # half-open [low, high); None = unbounded
UNBOUNDED: Interval = (None, None)
EMPTY: Interval = (0, 0)

TEXT_OPS = frozenset(
    {
        "equals",
        "does_not_equal",
        "contains",
        "does_not_contain",
        "starts_with",
        "ends_with",
        "is_empty",
        "is_not_empty",
    }
)
NUMBER_OPS = frozenset(
    {
        "equals",
        "does_not_equal",
        "greater_than",
        "less_than",
        "greater_than_or_equal_to",
        "less_than_or_equal_to",
        "is_empty",
        "is_not_empty",
    }
)
DATE_OPS = frozenset(
    {
        "equals",
        "before",
        "after",
        "on_or_before",
        "on_or_after",
        "is_empty",
        "is_not_empty",
        "past_week",
        "past_month",
        "past_year",
        "next_week",
        "next_month",
        "next_year",
        "this_week",
    }
)
RELATIVE_DAYS = {
    "past_week": -7,
    "past_month": -30,
    "past_year": -365,
    "next_week": 7,
    "next_month": 30,
    "next_year": 365,
}
SELECT_OPS = frozenset({"equals", "does_not_equal", "is_empty", "is_not_empty"})
CONTAINS_OPS = frozenset({"contains", "does_not_contain", "is_empty", "is_not_empty"})
CHECKBOX_OPS = frozenset({"equals", "does_not_equal"})

# filter key accepted for each property type
FILTER_KEYS: dict[str, tuple[str, ...]] = {
    "title": ("title", "rich_text"),
    "rich_text": ("rich_text", "text"),
    "url": ("url", "rich_text"),
    "email": ("email", "rich_text"),
    "phone_number": ("phone_number", "rich_text"),
    "number": ("number",),
    "checkbox": ("checkbox",),
    "select": ("select",),
    "multi_select": ("multi_select",),
    "status": ("status",),
    "date": ("date",),
    "people": ("people",),
    "created_by": ("created_by", "people"),
    "last_edited_by": ("last_edited_by", "people"),
    "relation": ("relation",),
    "files": ("files",),
    "formula": ("formula",),
    "rollup": ("rollup",),
    "unique_id": ("unique_id",),
    "created_time": ("created_time", "date"),
    "last_edited_time": ("last_edited_time", "date"),
    "verification": ("verification",),
}


class FilterablePage(Protocol):
    edited_minute: int
    created_minute: int

    def plain(self, spec: PropertySpec) -> Any: ...


Predicate = Callable[[FilterablePage], bool]


@dataclass(frozen=True)
class CompiledFilter:
    test: Predicate
    edited: Interval = UNBOUNDED
    created: Interval = UNBOUNDED


MATCH_ALL = CompiledFilter(lambda page: True)


def compile_filter(raw: Any, schema: DatabaseSchema, now: datetime) -> CompiledFilter:
    """Validate `raw` (a query's `filter`) against `schema`; None/absent means match all."""
    if raw is None:
        return MATCH_ALL
    return _compile(raw, schema, now, "body.filter", 0)


def _compile(raw: Any, schema: DatabaseSchema, now: datetime, where: str, depth: int) -> CompiledFilter:
    if not isinstance(raw, Mapping):
        raise validation_error(f"body failed validation: {where} should be an object, instead was `{raw!r}`.")
    if "and" in raw or "or" in raw:
        if len(raw) != 1:
            raise validation_error(f"body failed validation: {where} should have exactly one of `and`, `or`.")
        op = "and" if "and" in raw else "or"
        children = raw[op]
        if not isinstance(children, list):
            raise validation_error(f"body failed validation: {where}.{op} should be an array.")
        if depth > MAX_NESTING:
            raise validation_error(
                f"body failed validation: {where} nests compound filters more than {MAX_NESTING} levels deep."
            )
        compiled = [_compile(c, schema, now, f"{where}.{op}[{i}]", depth + 1) for i, c in enumerate(children)]
        return _combine(op, compiled)
    if "timestamp" in raw:
        return _timestamp_filter(raw, now, where)
    if "property" in raw:
        return _property_filter(raw, schema, now, where)
    raise validation_error(
        f"body failed validation. Fix one: {where}.or should be defined, instead was `undefined`. "
        f"{where}.and should be defined, instead was `undefined`. "
        f"{where}.property should be defined, instead was `undefined`. "
        f"{where}.timestamp should be defined, instead was `undefined`."
    )


def _combine(op: str, children: list[CompiledFilter]) -> CompiledFilter:
    tests = [c.test for c in children]
    if op == "and":
        edited, created = UNBOUNDED, UNBOUNDED
        for c in children:
            edited, created = intersect(edited, c.edited), intersect(created, c.created)
        return CompiledFilter(lambda page: all(t(page) for t in tests), edited, created)
    if not children:  # an empty `or` matches nothing
        return CompiledFilter(lambda page: False, EMPTY, EMPTY)
    edited, created = children[0].edited, children[0].created
    for c in children[1:]:
        edited, created = hull(edited, c.edited), hull(created, c.created)
    return CompiledFilter(lambda page: any(t(page) for t in tests), edited, created)


def intersect(a: Interval, b: Interval) -> Interval:
    low = b[0] if a[0] is None else a[0] if b[0] is None else max(a[0], b[0])
    high = b[1] if a[1] is None else a[1] if b[1] is None else min(a[1], b[1])
    return (low, high)


def hull(a: Interval, b: Interval) -> Interval:
    if is_empty(a):
        return b
    if is_empty(b):
        return a
    low = None if a[0] is None or b[0] is None else min(a[0], b[0])
    high = None if a[1] is None or b[1] is None else max(a[1], b[1])
    return (low, high)


def is_empty(a: Interval) -> bool:
    return a[0] is not None and a[1] is not None and a[0] >= a[1]


def _single_condition(raw: Any, allowed: frozenset[str], where: str) -> tuple[str, Any]:
    if not isinstance(raw, Mapping) or len(raw) != 1:
        raise validation_error(f"body failed validation: {where} should have exactly one condition.")
    op, value = next(iter(raw.items()))
    if op not in allowed:
        raise validation_error(
            f"body failed validation: {where}.{op} is not a supported condition; expected one of {sorted(allowed)}."
        )
    if op in ("is_empty", "is_not_empty") and value is not True:
        raise validation_error(
            f"body failed validation: {where}.{op} should be `true`, instead was `{value!r}`."
        )
    return op, value


# ------------------------------------------------------------------------------- timestamps


def seconds_interval(op: str, value: Any, now: datetime, where: str) -> Interval:
    """Integer-second half-open interval of instants matching a date condition."""
    if op == "is_empty":
        return EMPTY
    if op == "is_not_empty":
        return UNBOUNDED
    if op in RELATIVE_DAYS or op == "this_week":
        if value not in ({}, None):
            raise validation_error(f"body failed validation: {where}.{op} should be an empty object.")
        moment = int(now.timestamp())
        if op == "this_week":
            monday = (now - timedelta(days=now.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
            start = int(monday.timestamp())
            return (start, start + 7 * 86400)
        days = RELATIVE_DAYS[op]
        return (moment + days * 86400, moment + 1) if days < 0 else (moment, moment + days * 86400 + 1)
    if not isinstance(value, str):
        raise validation_error(
            f"body failed validation: {where}.{op} should be a string, instead was `{value!r}`."
        )
    try:
        moment_dt = parse_iso(value)
    except ValueError as exc:
        raise validation_error(
            f"body failed validation: {where}.{op} should be a valid ISO 8601 date string, instead was `{value!r}`."
        ) from exc
    if moment_dt.tzinfo is None:
        moment_dt = moment_dt.replace(tzinfo=UTC)
    instant = moment_dt.timestamp()
    if len(value.strip()) == 10:
        start = int(instant)
        end = start + 86400
        return {
            "equals": (start, end),
            "before": (None, start),
            "after": (end, None),
            "on_or_before": (None, end),
            "on_or_after": (start, None),
        }[op]
    minute = math.floor(instant / 60) * 60
    return {
        "equals": (minute, minute + 60),
        "before": (None, math.ceil(instant)),
        "after": (math.floor(instant) + 1, None),
        "on_or_before": (None, math.floor(instant) + 1),
        "on_or_after": (math.ceil(instant), None),
    }[op]


def minutes_of(interval: Interval) -> Interval:
    """Seconds interval -> the interval of whole minutes m with 60*m inside it."""
    low, high = interval
    return (None if low is None else -(-low // 60), None if high is None else -(-high // 60))


def _timestamp_filter(raw: Mapping[str, Any], now: datetime, where: str) -> CompiledFilter:
    field = raw["timestamp"]
    if field not in ("last_edited_time", "created_time"):
        raise validation_error(
            f"body failed validation: {where}.timestamp should be `created_time` or `last_edited_time`, "
            f"instead was `{field!r}`."
        )
    extra = set(raw) - {"timestamp", field, "type"}
    if field not in raw or extra:
        raise validation_error(
            f"body failed validation: {where}.{field} should be defined, instead was `undefined`."
        )
    return _time_field_filter(field, raw[field], now, f"{where}.{field}")


def _time_field_filter(field: str, condition: Any, now: datetime, where: str) -> CompiledFilter:
    op, value = _single_condition(condition, DATE_OPS, where)
    low, high = minutes_of(seconds_interval(op, value, now, where))
    attr = "edited_minute" if field == "last_edited_time" else "created_minute"

    def test(page: FilterablePage) -> bool:
        minute = getattr(page, attr)
        return (low is None or minute >= low) and (high is None or minute < high)

    interval = (low, high)
    if field == "last_edited_time":
        return CompiledFilter(test, edited=interval)
    return CompiledFilter(test, created=interval)


# ------------------------------------------------------------------------------- properties


def _property_filter(
    raw: Mapping[str, Any], schema: DatabaseSchema, now: datetime, where: str
) -> CompiledFilter:
    name = raw["property"]
    spec = schema.get(name) if isinstance(name, str) else None
    if spec is None:
        raise validation_error(f"Could not find property with name or id: {name}")
    keys = [k for k in raw if k not in ("property", "type")]
    allowed = FILTER_KEYS.get(spec.type, (spec.type,))
    if len(keys) != 1:
        raise validation_error(f"body failed validation: {where} should have exactly one of {list(allowed)}.")
    key = keys[0]
    if key not in allowed:
        raise validation_error(
            f"body failed validation: {where}.{key} does not match the type of property {spec.name!r} "
            f"({spec.type}); use {allowed[0]!r}."
        )
    condition = raw[key]
    cond_where = f"{where}.{key}"
    if spec.type in ("created_time", "last_edited_time"):
        return _time_field_filter(spec.type, condition, now, cond_where)
    if spec.type == "formula":
        return CompiledFilter(_formula_test(spec, condition, now, cond_where))
    if spec.type == "rollup":
        return CompiledFilter(_rollup_test(spec, condition, now, cond_where))
    value_test = _value_test(spec.type, condition, now, cond_where)
    plain = _plain_getter(spec)
    return CompiledFilter(lambda page: value_test(plain(page)))


def _plain_getter(spec: PropertySpec) -> Callable[[FilterablePage], Any]:
    return lambda page: page.plain(spec)


ValueTest = Callable[[Any], bool]


def _value_test(type_: str, condition: Any, now: datetime, where: str) -> ValueTest:
    if type_ in ("title", "rich_text", "url", "email", "phone_number"):
        return _text_test(condition, where)
    if type_ in ("number", "unique_id"):
        return _number_test(condition, where)
    if type_ == "checkbox":
        op, value = _single_condition(condition, CHECKBOX_OPS, where)
        if not isinstance(value, bool):
            raise validation_error(f"body failed validation: {where}.{op} should be a boolean.")
        return (lambda v: bool(v) == value) if op == "equals" else (lambda v: bool(v) != value)
    if type_ in ("select", "status"):
        op, value = _single_condition(condition, SELECT_OPS, where)
        if op == "is_empty":
            return lambda v: not v
        if op == "is_not_empty":
            return lambda v: bool(v)
        if not isinstance(value, str):
            raise validation_error(f"body failed validation: {where}.{op} should be a string.")
        return (lambda v: v == value) if op == "equals" else (lambda v: v != value)
    if type_ == "multi_select":
        op, value = _single_condition(condition, CONTAINS_OPS, where)
        return _contains_test(op, value, where, normalize=False)
    if type_ in ("people", "relation", "created_by", "last_edited_by"):
        op, value = _single_condition(condition, CONTAINS_OPS, where)
        return _contains_test(op, value, where, normalize=True)
    if type_ == "date":
        return _date_test(condition, now, where)
    if type_ == "files":
        op, _ = _single_condition(condition, frozenset({"is_empty", "is_not_empty"}), where)
        return (lambda v: not v) if op == "is_empty" else (lambda v: bool(v))
    if type_ == "verification":
        op, value = _single_condition(condition, frozenset({"status"}), where)
        if value not in ("verified", "unverified", "expired"):
            raise validation_error(
                f"body failed validation: {where}.status should be verified, unverified or expired."
            )
        return lambda v: v == value
    raise validation_error(f"Filtering on {type_} properties is not supported.")


def _text_test(condition: Any, where: str) -> ValueTest:
    op, value = _single_condition(condition, TEXT_OPS, where)
    if op == "is_empty":
        return lambda v: not v
    if op == "is_not_empty":
        return lambda v: bool(v)
    if not isinstance(value, str):
        raise validation_error(
            f"body failed validation: {where}.{op} should be a string, instead was `{value!r}`."
        )
    needle = value.casefold()
    tests: dict[str, ValueTest] = {
        "equals": lambda v: (v or "") == value,
        "does_not_equal": lambda v: (v or "") != value,
        "contains": lambda v: needle in (v or "").casefold(),
        "does_not_contain": lambda v: needle not in (v or "").casefold(),
        "starts_with": lambda v: (v or "").casefold().startswith(needle),
        "ends_with": lambda v: (v or "").casefold().endswith(needle),
    }
    return tests[op]


def _number_test(condition: Any, where: str) -> ValueTest:
    op, value = _single_condition(condition, NUMBER_OPS, where)
    if op == "is_empty":
        return lambda v: v is None
    if op == "is_not_empty":
        return lambda v: v is not None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise validation_error(
            f"body failed validation: {where}.{op} should be a number, instead was `{value!r}`."
        )
    tests: dict[str, ValueTest] = {
        "equals": lambda v: v is not None and v == value,
        "does_not_equal": lambda v: v is None or v != value,
        "greater_than": lambda v: v is not None and v > value,
        "less_than": lambda v: v is not None and v < value,
        "greater_than_or_equal_to": lambda v: v is not None and v >= value,
        "less_than_or_equal_to": lambda v: v is not None and v <= value,
    }
    return tests[op]


def _contains_test(op: str, value: Any, where: str, *, normalize: bool) -> ValueTest:
    if op == "is_empty":
        return lambda v: not v
    if op == "is_not_empty":
        return lambda v: bool(v)
    if not isinstance(value, str):
        raise validation_error(f"body failed validation: {where}.{op} should be a string.")
    needle = value
    if normalize:
        normalized = normalize_uuid(value)
        if normalized is None:
            raise validation_error(
                f"body failed validation: {where}.{op} should be a valid uuid, instead was `{value!r}`."
            )
        needle = normalized
    if op == "contains":
        return lambda v: needle in (v or ())
    return lambda v: needle not in (v or ())


def _date_test(condition: Any, now: datetime, where: str) -> ValueTest:
    op, value = _single_condition(condition, DATE_OPS, where)
    low, high = seconds_interval(op, value, now, where)
    if op == "is_empty":
        return lambda v: not v
    if op == "is_not_empty":
        return lambda v: bool(v)

    def test(v: Any) -> bool:
        seconds = date_start_seconds(v)
        if seconds is None:
            return False
        t = math.floor(seconds)
        return (low is None or t >= low) and (high is None or t < high)

    return test


def _formula_test(spec: PropertySpec, condition: Any, now: datetime, where: str) -> Predicate:
    if not isinstance(condition, Mapping) or len(condition) != 1:
        raise validation_error(
            f"body failed validation: {where} should have one of string, number, checkbox, date."
        )
    kind, inner = next(iter(condition.items()))
    types = {"string": "rich_text", "number": "number", "checkbox": "checkbox", "date": "date"}
    if kind not in types:
        raise validation_error(f"body failed validation: {where}.{kind} is not a formula condition.")
    value_test = _value_test(types[kind], inner, now, f"{where}.{kind}")
    return lambda page: value_test(page.plain(spec))


def _rollup_test(spec: PropertySpec, condition: Any, now: datetime, where: str) -> Predicate:
    if not isinstance(condition, Mapping) or len(condition) != 1:
        raise validation_error(
            f"body failed validation: {where} should have one of number, date, any, every, none."
        )
    kind, inner = next(iter(condition.items()))
    if kind in ("number", "date"):
        value_test = _value_test(kind, inner, now, f"{where}.{kind}")
        return lambda page: value_test(page.plain(spec))
    if kind in ("any", "every", "none"):
        if not isinstance(inner, Mapping) or len(inner) != 1:
            raise validation_error(f"body failed validation: {where}.{kind} should have one condition.")
        item_type, item_condition = next(iter(inner.items()))
        item_test = _value_test(item_type, item_condition, now, f"{where}.{kind}.{item_type}")

        def test(page: FilterablePage) -> bool:
            items = page.plain(spec)
            items = items if isinstance(items, list) else [items]
            if kind == "any":
                return any(item_test(i) for i in items)
            if kind == "every":
                return all(item_test(i) for i in items)
            return not any(item_test(i) for i in items)

        return test
    raise validation_error(f"body failed validation: {where}.{kind} is not a rollup condition.")
