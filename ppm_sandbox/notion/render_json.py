"""Page objects written straight to JSON text: the hot path of database queries.

A 100-page query answered through dicts + `json.dumps` costs ~6 ms of Python for Budget-Lines
pages; most of it is building and re-encoding the same small structures (option objects,
annotations, `{"id": ...}` wrappers). Here each property compiles to a function that returns its
JSON text, with constant parts pre-encoded, so a page costs a string join. Types without a
specialised writer fall back to `json.dumps` of the dict renderer, which stays the reference:
`tests/sandbox` checks `json.loads(page_json(...)) == render_page(...)` for every database.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from json.encoder import encode_basestring  # C-accelerated, keeps non-ASCII as is
from typing import Any

from ppm_sandbox.notion.properties import ANNOTATIONS, RELATION_PAGE_LIMIT, render_formula, render_rich_text
from ppm_sandbox.notion.render import V2025, page_url, render_property
from ppm_sandbox.notion.schema import FormulaInputs, PropertySpec
from ppm_sandbox.notion.store import Database, NotionStore, PageView, minute_iso

PropertyWriter = Callable[[PageView], str]
_ANNOTATIONS = json.dumps(ANNOTATIONS, separators=(",", ":"))


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def page_writer(
    store: NotionStore, db: Database, version: str, only: set[str] | None = None
) -> Callable[[PageView], str]:
    """JSON text writer for pages of `db` (cached per schema version, API version and selection)."""
    key = ("json", db.ordinal, db.schema.version, version, frozenset(only) if only is not None else None)
    cache = store.renderers
    writer = cache.get(key)
    if writer is None:
        if len(cache) > 256:
            cache.clear()
        writer = cache[key] = _compile_page(store, db, version, only)
    return writer


def _compile_page(
    store: NotionStore, db: Database, version: str, only: set[str] | None
) -> Callable[[PageView], str]:
    writers = [
        (encode_basestring(spec.name) + ":", _compile_property(store, db, spec))
        for spec in db.schema
        if only is None or spec.id in only
    ]
    if version == V2025:
        parent = dumps({"type": "data_source_id", "data_source_id": db.data_source_id, "database_id": db.id})
    else:
        parent = dumps({"type": "database_id", "database_id": db.id})
    after_parent = ',"archived":'
    locked_key = ',"is_locked":' if version == V2025 else None

    def write(view: PageView) -> str:
        page_id = view.id
        trashed = "true" if view.in_trash else "false"
        icon, cover, locked = view.decor
        middle = (
            '"},"cover":'
            + ("null" if cover is None else dumps(cover))
            + ',"icon":'
            + ("null" if icon is None else dumps(icon))
            + ',"parent":'
            + parent
            + after_parent
        )
        if locked_key is not None:
            trashed_tail = trashed + locked_key + ("true" if locked else "false")
        else:
            trashed_tail = trashed
        properties = ",".join([name + fn(view) for name, fn in writers])
        return (
            '{"object":"page","id":"'
            + page_id
            + '","created_time":"'
            + minute_iso(view.created_minute)
            + '","last_edited_time":"'
            + minute_iso(view.edited_minute)
            + '","created_by":{"object":"user","id":"'
            + view.created_by
            + '"},"last_edited_by":{"object":"user","id":"'
            + view.edited_by
            + middle
            + trashed
            + ',"in_trash":'
            + trashed_tail
            + ',"properties":{'
            + properties
            + '},"url":'
            + encode_basestring(page_url(view.title, page_id))
            + ',"public_url":null}'
        )

    return write


def _text_items(text: str) -> str:
    quoted = encode_basestring(text)
    return (
        '[{"type":"text","text":{"content":'
        + quoted
        + ',"link":null},"annotations":'
        + _ANNOTATIONS
        + ',"plain_text":'
        + quoted
        + ',"href":null}]'
    )


def _number(value: Any) -> str:
    if value is None:
        return "null"
    if value.__class__ is float:
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if value.__class__ is int:
        return str(value)
    return dumps(value)


def _compile_property(store: NotionStore, db: Database, spec: PropertySpec) -> PropertyWriter:
    pid, t = spec.id, spec.type
    head = '{"id":' + encode_basestring(pid) + ',"type":"' + t + '","' + t + '":'
    if t in ("title", "rich_text"):

        def text(view: PageView) -> str:
            raw = view.values.get(pid)
            if raw.__class__ is str:
                return head + (_text_items(raw) if raw else "[]") + "}"
            return head + dumps(render_rich_text(raw, store)) + "}"

        return text
    if t == "number":
        return lambda view: head + _number(view.values.get(pid)) + "}"
    if t in ("select", "status"):
        known: dict[str, str] = {}

        def option(view: PageView) -> str:
            name = view.values.get(pid)
            if not name:
                return head + "null}"
            text = known.get(name)
            if text is None:
                text = dumps(render_property(store, view, spec))
                if spec.option(name) is not None:  # options can be added at run time
                    known[name] = text
            return text

        return option
    if t == "date":
        tail = '","end":null,"time_zone":null}}'

        def when(view: PageView) -> str:
            raw = view.values.get(pid)
            if raw.__class__ is str and len(raw) == 10:
                return head + '{"start":"' + raw + tail
            if raw is None:
                return head + "null}"
            return dumps(render_property(store, view, spec))

        return when
    if t == "relation" and spec.relation is not None and not spec.relation.computed:

        def relation(view: PageView) -> str:
            ids = view.values.get(pid) or ()
            shown = ",".join(['{"id":"' + x + '"}' for x in ids[:RELATION_PAGE_LIMIT]])
            more = "true" if len(ids) > RELATION_PAGE_LIMIT else "false"
            return head + "[" + shown + '],"has_more":' + more + "}"

        return relation
    if t == "unique_id":
        prefix = '{"prefix":' + dumps(spec.prefix) + ',"number":'
        return lambda view: head + prefix + _number(view.values.get(pid)) + "}}"
    if t == "checkbox":
        return lambda view: head + ("true" if view.values.get(pid) else "false") + "}"
    if t == "formula" and spec.formula is not None:
        return _compile_formula(store, db, spec, head)
    return lambda view: dumps(render_property(store, view, spec))


def _plain_reader(store: NotionStore, prop: PropertySpec) -> Callable[[PageView], Any]:
    """Reads one property's plain value; stored scalar types without the generic dispatch."""
    pid, t = prop.id, prop.type
    if t in ("number", "select", "status", "checkbox", "url", "email", "phone_number"):
        return lambda view: view.values.get(pid)
    if t == "date":

        def start(view: PageView) -> Any:
            raw = view.values.get(pid)
            return raw if raw is None or raw.__class__ is str else raw.get("start")

        return start
    return lambda view: store.plain_value(view, prop)


def _compile_formula(store: NotionStore, db: Database, spec: PropertySpec, head: str) -> PropertyWriter:
    """Formulas read siblings by declared name (stable under renames); resolved once here."""
    assert spec.formula is not None
    result, compute = spec.formula.result, spec.formula.compute
    readers: dict[str, Callable[[PageView], Any]] = {}
    for name, prop_id in db.generator.ids.items():
        prop = db.schema.get(prop_id)
        if prop is not None:
            readers[name] = _plain_reader(store, prop)
    missing: Callable[[PageView], Any] = lambda view: None  # noqa: E731 - a dropped input reads as empty

    def formula(view: PageView) -> str:
        value = compute(FormulaInputs(lambda name: readers.get(name, missing)(view)))
        if result == "number":
            text = '{"type":"number","number":' + _number(value) + "}"
        elif result == "boolean":
            text = (
                '{"type":"boolean","boolean":'
                + ("null" if value is None else "true" if value else "false")
                + "}"
            )
        elif result == "string":
            text = (
                '{"type":"string","string":' + ("null" if value is None else encode_basestring(value)) + "}"
            )
        elif value is None:
            text = '{"type":"date","date":null}'
        elif value.__class__ is str and len(value) == 10:
            text = '{"type":"date","date":{"start":"' + value + '","end":null,"time_zone":null}}'
        else:
            text = dumps(render_formula(result, value))
        return head + text + "}"

    return formula


def list_json(results: list[str], next_cursor: str | None, kind: str, request_id: str) -> bytes:
    """A Notion list response around pre-encoded result objects."""
    return (
        '{"object":"list","results":['
        + ",".join(results)
        + '],"next_cursor":'
        + ("null" if next_cursor is None else encode_basestring(next_cursor))
        + ',"has_more":'
        + ("false" if next_cursor is None else "true")
        + ',"type":"'
        + kind
        + '","'
        + kind
        + '":{},"request_id":"'
        + request_id
        + '"}'
    ).encode()
