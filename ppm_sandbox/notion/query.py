"""Database/data-source queries and search, planned on the generated pages' time index.

Fast path (no sorts, or one timestamp sort): the filter's time bounds become an index range of the
generated pages (binary search on the monotonic timeline), the cursor becomes a start position
(keyset: the (minute, index) of the last page served), and generated pages are merged with the
sorted overlay keys. Work per request is O(page_size + log n + pages the filter rejects).

General path (property sorts, several sorts): every matching page is collected and sorted in
memory, the cursor carries (offset, last index). Meant for demo-sized databases.
"""

from __future__ import annotations

import bisect
import heapq
from collections.abc import Iterator, Mapping
from typing import Any

from ppm_sandbox.notion.errors import validation_error
from ppm_sandbox.notion.filters import CompiledFilter, compile_filter, is_empty
from ppm_sandbox.notion.render import V2022, V2025, render_data_source, render_database, render_page
from ppm_sandbox.notion.render_json import list_json, page_writer
from ppm_sandbox.notion.sorts import SortKey, SortPlan, comparable, compile_sorts, sort_in_memory
from ppm_sandbox.notion.store import Database, NotionStore, PageView

MAX_PAGE_SIZE = 100
_BIG = 1 << 62

Key = tuple[int, int]


def page_size_of(raw: Any, where: str = "body.page_size") -> int:
    if raw is None:
        return MAX_PAGE_SIZE
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise validation_error(f"body failed validation: {where} should be a number, instead was `{raw!r}`.")
    if raw < 1 or raw > MAX_PAGE_SIZE:
        bound = f"≤ `{MAX_PAGE_SIZE}`" if raw > MAX_PAGE_SIZE else "≥ `1`"
        raise validation_error(f"body failed validation: {where} should be {bound}, instead was `{raw}`.")
    return raw


def list_response(results: list[dict[str, Any]], next_cursor: str | None, kind: str) -> dict[str, Any]:
    return {
        "object": "list",
        "results": results,
        "next_cursor": next_cursor,
        "has_more": next_cursor is not None,
        "type": kind,
        kind: {},
    }


def _first_index(count: int, greater: Any) -> int:
    """Smallest j in [0, count] with greater(j) true (greater must be monotonic)."""
    low, high = 0, count
    while low < high:
        mid = (low + high) // 2
        if greater(mid):
            high = mid
        else:
            low = mid + 1
    return low


def stream(
    store: NotionStore,
    db: Database,
    flt: CompiledFilter,
    field: str,
    descending: bool,
    after: Key | None,
) -> Iterator[tuple[Key, PageView]]:
    """Matching live pages of `db` in (field minute, index) order, strictly after `after`."""
    if db.unshared or is_empty(flt.edited) or is_empty(flt.created):
        return
    timeline = db.generator.timeline
    minute_of = timeline.edited if field == "edited" else timeline.created
    low, high = 0, db.count
    e_low, e_high = flt.edited
    c_low, c_high = flt.created
    if e_low is not None:
        low = max(low, timeline.first_edited_at_or_after(e_low))
    if e_high is not None:
        high = min(high, timeline.first_edited_at_or_after(e_high))
    if c_low is not None:
        low = max(low, timeline.first_created_at_or_after(c_low))
    if c_high is not None:
        high = min(high, timeline.first_created_at_or_after(c_high))
    if after is not None:
        # keys (minute, index) grow strictly with the index, so the cursor is a binary search away
        if descending:
            high = min(high, _first_index(db.count, lambda j: (minute_of(j), j) >= after))
        else:
            low = max(low, _first_index(db.count, lambda j: (minute_of(j), j) > after))
    overlay = db.overlay
    generated = _generated(minute_of, overlay, low, high, descending)
    f_low, f_high = flt.edited if field == "edited" else flt.created
    keys = db.by_edited if field == "edited" else db.by_created
    overlaid = _overlaid(keys, f_low, f_high, after, descending)
    test = flt.test
    for key in heapq.merge(generated, overlaid, reverse=descending):
        record = overlay.get(key[1])
        if record is not None and not record.live:
            continue
        view = PageView(store, db, key[1], record)
        if test(view):
            yield key, view


def _generated(
    minute_of: Any, overlay: Mapping[int, Any], low: int, high: int, descending: bool
) -> Iterator[Key]:
    indices = range(high - 1, low - 1, -1) if descending else range(low, high)
    for j in indices:
        if j not in overlay:
            yield (minute_of(j), j)


def _overlaid(
    keys: list[Key], low: int | None, high: int | None, after: Key | None, descending: bool
) -> Iterator[Key]:
    # A slice copy: merging is lazy and the caller may mutate the overlay between pages.
    if not keys:
        return
    start = 0 if low is None else bisect.bisect_left(keys, (low, -1))
    end = len(keys) if high is None else bisect.bisect_left(keys, (high, -1))
    if after is not None:
        if descending:
            end = min(end, bisect.bisect_left(keys, after))
        else:
            start = max(start, bisect.bisect_right(keys, after))
    chunk = keys[start:end]
    yield from (reversed(chunk) if descending else chunk)


def run_query(
    store: NotionStore,
    db: Database,
    body: Mapping[str, Any],
    version: str,
    only: set[str] | None = None,
) -> dict[str, Any]:
    """Answer `POST /v1/databases/{id}/query` or `/v1/data_sources/{id}/query` as a dict."""
    with store.lock:
        views, next_cursor, kind = _select(store, db, body)
        results = [render_page(store, v, version, only) for v in views]
    return list_response(results, next_cursor, kind if version == V2022 else "page_or_data_source")


def run_query_json(
    store: NotionStore,
    db: Database,
    body: Mapping[str, Any],
    version: str,
    request_id: str,
    only: set[str] | None = None,
) -> bytes:
    """The same answer as `run_query`, written straight to JSON bytes (the HTTP hot path)."""
    with store.lock:
        views, next_cursor, kind = _select(store, db, body)
        write = page_writer(store, db, version, only)
        results = [write(v) for v in views]
    return list_json(results, next_cursor, kind if version == V2022 else "page_or_data_source", request_id)


def _select(
    store: NotionStore, db: Database, body: Mapping[str, Any]
) -> tuple[list[PageView], str | None, str]:
    """Validate the query body; return one page of views and the next cursor."""
    size = page_size_of(body.get("page_size"))
    flt = compile_filter(body.get("filter"), db.schema, store.clock.now())
    plan = compile_sorts(body.get("sorts"), db.schema)
    scope = f"q{db.ordinal}:{plan.fingerprint}"
    cursor = body.get("start_cursor")
    after = store.cursors.redeem(cursor, scope) if cursor is not None else None
    fast = plan.fast
    if fast is not None:
        views, position = _fast_page(store, db, flt, fast, after, size)
    else:
        views, position = _general_page(store, db, flt, plan, after, size)
    next_cursor = store.cursors.issue(scope, position) if position is not None else None
    return views, next_cursor, "page_or_database"


def _fast_page(
    store: NotionStore,
    db: Database,
    flt: CompiledFilter,
    fast: tuple[str, bool],
    after: Any,
    size: int,
) -> tuple[list[PageView], Any]:
    field, descending = fast
    if after is not None and not (isinstance(after, list) and len(after) == 2):
        raise validation_error("The start_cursor provided is invalid.")
    views: list[PageView] = []
    last: Key | None = None
    for key, view in stream(store, db, flt, field, descending, tuple(after) if after else None):
        if len(views) == size:
            return views, list(last) if last else None
        views.append(view)
        last = key
    return views, None


def _general_page(
    store: NotionStore,
    db: Database,
    flt: CompiledFilter,
    plan: SortPlan,
    after: Any,
    size: int,
) -> tuple[list[PageView], Any]:
    matches = [view for _, view in stream(store, db, flt, "created", False, None)]

    def value_of(view: PageView, key: SortKey) -> Any:
        if key.timestamp == "last_edited_time":
            return view.edited_minute
        if key.timestamp == "created_time":
            return view.created_minute
        assert key.spec is not None
        return comparable(key.spec, view.plain(key.spec))

    ordered = sort_in_memory(matches, plan, value_of)
    start = 0
    if after is not None:
        if not (isinstance(after, dict) and "o" in after and "i" in after):
            raise validation_error("The start_cursor provided is invalid.")
        start = int(after["o"])
        if not (0 < start <= len(ordered) and ordered[start - 1].index == after["i"]):
            # the last page served moved (edited meanwhile): resume right after it if still there
            positions = [n for n, v in enumerate(ordered) if v.index == after["i"]]
            start = positions[0] + 1 if positions else min(start, len(ordered))
    chunk = ordered[start : start + size]
    has_more = start + size < len(ordered)
    return chunk, ({"o": start + size, "i": chunk[-1].index} if has_more and chunk else None)


# ------------------------------------------------------------------------------------ search


def run_search(store: NotionStore, body: Mapping[str, Any], version: str) -> dict[str, Any]:
    """`POST /v1/search`: pages and databases (or data sources) whose title contains `query`.

    Results are ordered by last_edited_time (descending unless `sort.direction` is ascending).
    """
    with store.lock:
        size = page_size_of(body.get("page_size"))
        query = body.get("query") or ""
        if not isinstance(query, str):
            raise validation_error("body failed validation: body.query should be a string.")
        kinds = _search_kinds(body.get("filter"), version)
        descending = _search_descending(body.get("sort"))
        scope = f"s:{query}:{','.join(sorted(kinds))}:{descending}"
        cursor = body.get("start_cursor")
        after = store.cursors.redeem(cursor, scope) if cursor is not None else None
        if after is not None and not (isinstance(after, list) and len(after) == 3):
            raise validation_error("The start_cursor provided is invalid.")
        needle = query.casefold()
        streams = []
        container_kind = "data_source" if version == V2025 else "database"
        if container_kind in kinds:
            streams.append(_database_stream(store, needle, after, descending))
        if "page" in kinds:
            streams.extend(_page_stream(store, db, needle, after, descending) for db in store.databases)
        results: list[dict[str, Any]] = []
        position: list[int] | None = None
        for key, item in heapq.merge(*streams, reverse=descending):
            if len(results) == size:
                break
            if isinstance(item, PageView):
                results.append(render_page(store, item, version))
            elif version == V2025:
                results.append(render_data_source(store, item))
            else:
                results.append(render_database(store, item, V2022))
            position = list(key)
        else:
            position = None
        next_cursor = store.cursors.issue(scope, position) if position is not None else None
    return list_response(
        results, next_cursor, "page_or_data_source" if version == V2025 else "page_or_database"
    )


def _search_kinds(raw: Any, version: str) -> set[str]:
    container = "data_source" if version == V2025 else "database"
    if raw is None:
        return {"page", container}
    if not isinstance(raw, Mapping) or raw.get("property") != "object":
        raise validation_error("body failed validation: body.filter.property should be `object`.")
    value = raw.get("value")
    if value not in ("page", container):
        raise validation_error(
            f"body failed validation: body.filter.value should be `page` or `{container}`, instead was `{value!r}`."
        )
    return {value}


def _search_descending(raw: Any) -> bool:
    if raw is None:
        return True
    if not isinstance(raw, Mapping) or raw.get("timestamp") != "last_edited_time":
        raise validation_error("body failed validation: body.sort.timestamp should be `last_edited_time`.")
    direction = raw.get("direction", "descending")
    if direction not in ("ascending", "descending"):
        raise validation_error(
            "body failed validation: body.sort.direction should be `ascending` or `descending`."
        )
    return direction == "descending"


def _after_for(ordinal: int, after: list[int] | None, descending: bool) -> Key | None:
    """Translate a global (minute, ordinal, index) cursor into one database's (minute, index)."""
    if after is None:
        return None
    minute, at_ordinal, index = after
    if ordinal == at_ordinal:
        return (minute, index)
    if descending:
        return (minute, _BIG) if ordinal < at_ordinal else (minute, -1)
    return (minute, _BIG) if ordinal < at_ordinal else (minute - 1, _BIG)


def _page_stream(
    store: NotionStore, db: Database, needle: str, after: list[int] | None, descending: bool
) -> Iterator[tuple[tuple[int, int, int], PageView]]:
    flt = (
        CompiledFilter(lambda page: needle in page.title.casefold())
        if needle
        else CompiledFilter(lambda p: True)
    )
    for (minute, index), view in stream(
        store, db, flt, "edited", descending, _after_for(db.ordinal, after, descending)
    ):
        yield (minute, db.ordinal, index), view


def _database_stream(
    store: NotionStore, needle: str, after: list[int] | None, descending: bool
) -> Iterator[tuple[tuple[int, int, int], Database]]:
    items = [
        ((db.edited_minute, db.ordinal, -1), db)
        for db in store.databases
        if not db.unshared and needle in db.title.casefold()
    ]
    items.sort(key=lambda kv: kv[0], reverse=descending)
    for key, db in items:
        if after is not None and (key <= tuple(after) if not descending else key >= tuple(after)):
            continue
        yield key, db


def retrieve_database(store: NotionStore, db: Database, version: str) -> dict[str, Any]:
    with store.lock:
        return render_database(store, db, version)


def retrieve_data_source(store: NotionStore, db: Database) -> dict[str, Any]:
    with store.lock:
        return render_data_source(store, db)


__all__ = [
    "V2022",
    "V2025",
    "retrieve_data_source",
    "retrieve_database",
    "run_query",
    "run_query_json",
    "run_search",
]
