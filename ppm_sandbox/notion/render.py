"""JSON objects of the Notion API: page, database, data source, property items.

Shapes follow the public API for both supported versions:
- 2022-06-28: page `parent` is `{type: database_id}`; databases carry `properties`.
- 2025-09-03: page `parent` is `{type: data_source_id, data_source_id, database_id}`; a database
  lists its `data_sources` and the schema moves to the data source object.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from ppm_sandbox.notion.loose import LoosePage
from ppm_sandbox.notion.properties import (
    RELATION_PAGE_LIMIT,
    number_value,
    plain_text_item,
    property_object,
    render_date,
    render_formula,
    render_rich_text,
    render_value,
    simple_value,
)
from ppm_sandbox.notion.schema import FormulaInputs, PropertySpec
from ppm_sandbox.notion.store import Database, NotionStore, PageView, minute_iso

V2022 = "2022-06-28"
V2025 = "2025-09-03"
VERSIONS = (V2022, V2025)

_SLUG = re.compile(r"[^0-9A-Za-z]+")


def page_url(title: str, page_id: str) -> str:
    slug = _SLUG.sub("-", title).strip("-")
    hexid = page_id.replace("-", "")
    return f"https://www.notion.so/{slug}-{hexid}" if slug else f"https://www.notion.so/{hexid}"


def user_ref(user_id: str) -> dict[str, str]:
    return {"object": "user", "id": user_id}


def render_property(store: NotionStore, view: PageView, spec: PropertySpec) -> dict[str, Any]:
    """`page.properties[name]` for any property type."""
    t = spec.type
    if t == "relation":
        ids = store.relation_ids(view, spec)
        value = [{"id": pid} for pid in ids[:RELATION_PAGE_LIMIT]]
        return property_object(spec, value, has_more=len(ids) > RELATION_PAGE_LIMIT)
    if t == "rollup":
        return property_object(spec, store.rollup(view, spec)[0])
    if t == "formula":
        assert spec.formula is not None
        return property_object(spec, render_formula(spec.formula.result, store.formula(view, spec)))
    if t == "created_time":
        return property_object(spec, minute_iso(view.created_minute))
    if t == "last_edited_time":
        return property_object(spec, minute_iso(view.edited_minute))
    if t == "created_by":
        return property_object(spec, store.user_json(view.created_by))
    if t == "last_edited_by":
        return property_object(spec, store.user_json(view.edited_by))
    if t == "people":
        # people lists are truncated like relations, without a has_more flag on the value
        raw = view.values.get(spec.id) or ()
        return property_object(spec, [store.user_json(u) for u in list(raw)[:RELATION_PAGE_LIMIT]])
    return property_object(spec, render_value(spec, view.values.get(spec.id), store))


def render_page(
    store: NotionStore,
    view: PageView,
    version: str,
    only: set[str] | None = None,
) -> dict[str, Any]:
    """A page object; `only` limits properties to these ids (the `filter_properties` parameter)."""
    return page_renderer(store, view.db, version, only)(view)


def page_renderer(
    store: NotionStore, db: Database, version: str, only: set[str] | None = None
) -> Callable[[PageView], dict[str, Any]]:
    """A page renderer compiled for the database's current schema (cached per schema version)."""
    key = (db.ordinal, db.schema.version, version, frozenset(only) if only is not None else None)
    cache = store.renderers
    renderer = cache.get(key)
    if renderer is None:
        if len(cache) > 256:
            cache.clear()
        renderer = cache[key] = _compile_page(store, db, version, only)
    return renderer


def _compile_page(
    store: NotionStore, db: Database, version: str, only: set[str] | None
) -> Callable[[PageView], dict[str, Any]]:
    props = [
        (spec.name, _compile_property(store, spec)) for spec in db.schema if only is None or spec.id in only
    ]
    if version == V2025:
        parent: dict[str, Any] = {
            "type": "data_source_id",
            "data_source_id": db.data_source_id,
            "database_id": db.id,
        }
    else:
        parent = {"type": "database_id", "database_id": db.id}

    v2025 = version == V2025

    def render(view: PageView) -> dict[str, Any]:
        page_id = view.id
        trashed = view.in_trash
        icon, cover, locked = view.decor
        page: dict[str, Any] = {
            "object": "page",
            "id": page_id,
            "created_time": minute_iso(view.created_minute),
            "last_edited_time": minute_iso(view.edited_minute),
            "created_by": {"object": "user", "id": view.created_by},
            "last_edited_by": {"object": "user", "id": view.edited_by},
            "cover": cover,
            "icon": icon,
            "parent": parent,
            "archived": trashed,
            "in_trash": trashed,
        }
        if v2025:
            page["is_locked"] = locked
        page["properties"] = {name: fn(view) for name, fn in props}
        page["url"] = page_url(view.title, page_id)
        page["public_url"] = None
        return page

    return render


def render_loose_page(store: NotionStore, page: LoosePage, version: str) -> dict[str, Any]:
    """A page outside every database: its parent is a page or the workspace; `title` is its only property."""
    out: dict[str, Any] = {
        "object": "page",
        "id": page.id,
        "created_time": minute_iso(page.created_minute),
        "last_edited_time": minute_iso(page.edited_minute),
        "created_by": user_ref(page.created_by),
        "last_edited_by": user_ref(page.edited_by),
        "cover": page.cover,
        "icon": page.icon,
        "parent": page.parent,
        "archived": False,
        "in_trash": False,
    }
    if version == V2025:
        out["is_locked"] = False
    out["properties"] = {
        "title": {"id": "title", "type": "title", "title": render_rich_text(page.title, store)}
    }
    out["url"] = page_url(page.plain_title, page.id)
    out["public_url"] = None
    return out


def _compile_property(store: NotionStore, spec: PropertySpec) -> Callable[[PageView], dict[str, Any]]:
    """A fast renderer for one property; specialised on the common, cheap types."""
    pid, t = spec.id, spec.type
    if t in ("title", "rich_text"):

        def text(view: PageView) -> dict[str, Any]:
            raw = view.values.get(pid)
            if raw.__class__ is str:
                items = [plain_text_item(raw)] if raw else []
            else:
                items = render_rich_text(raw, store)
            return {"id": pid, "type": t, t: items}

        return text
    if t == "number":
        return lambda view: {"id": pid, "type": "number", "number": number_value(view.values.get(pid))}
    if t in ("select", "status"):
        options: dict[str, dict[str, Any]] = {}

        def option(view: PageView) -> dict[str, Any]:
            name = view.values.get(pid)
            if not name:
                return {"id": pid, "type": t, t: None}
            value = options.get(name)
            if value is None:  # options may grow at run time (writes create select options)
                value = render_value(spec, name, store)
                if spec.option(name) is not None:
                    options[name] = value
            return {"id": pid, "type": t, t: value}

        return option
    if t == "date":

        def when(view: PageView) -> dict[str, Any]:
            raw = view.values.get(pid)
            if raw.__class__ is str and len(raw) == 10:
                return {"id": pid, "type": "date", "date": {"start": raw, "end": None, "time_zone": None}}
            return {"id": pid, "type": "date", "date": render_date(raw) if raw else None}

        return when
    if t == "relation" and spec.relation is not None and not spec.relation.computed:

        def relation(view: PageView) -> dict[str, Any]:
            ids = view.values.get(pid) or ()
            return {
                "id": pid,
                "type": "relation",
                "relation": [{"id": x} for x in ids[:RELATION_PAGE_LIMIT]],
                "has_more": len(ids) > RELATION_PAGE_LIMIT,
            }

        return relation
    if t == "unique_id":
        prefix = spec.prefix
        return lambda view: {
            "id": pid,
            "type": "unique_id",
            "unique_id": {"prefix": prefix, "number": view.values.get(pid)},
        }
    if t == "formula" and spec.formula is not None:
        return _compile_formula(store, spec)
    return lambda view: render_property(store, view, spec)


_STORED_PLAIN = frozenset(
    {"title", "rich_text", "number", "select", "status", "date", "checkbox", "url", "email"}
)


def _compile_formula(store: NotionStore, spec: PropertySpec) -> Callable[[PageView], dict[str, Any]]:
    """Formulas read sibling properties by their declared names; resolve those once per schema."""
    assert spec.formula is not None
    pid, result, compute = spec.id, spec.formula.result, spec.formula.compute
    resolved: dict[int, dict[str, PropertySpec | None]] = {}

    def formula(view: PageView) -> dict[str, Any]:
        db = view.db
        by_name = resolved.get(db.ordinal)
        if by_name is None:
            by_name = resolved[db.ordinal] = {n: db.schema.get(i) for n, i in db.generator.ids.items()}
        values = view.values

        def get(name: str) -> Any:
            prop = by_name.get(name)
            if prop is None:
                return None
            if prop.type in _STORED_PLAIN:
                return simple_value(prop, values.get(prop.id))
            return store.plain_value(view, prop)

        return {"id": pid, "type": "formula", "formula": render_formula(result, compute(FormulaInputs(get)))}

    return formula


def schema_property(store: NotionStore, db: Database, spec: PropertySpec, version: str) -> dict[str, Any]:
    """A property's schema entry (`database.properties[name]`)."""
    t = spec.type
    config: dict[str, Any] = {}
    if t in ("select", "multi_select"):
        config = {"options": [o.to_json() for o in spec.options]}
    elif t == "status":
        config = {
            "options": [o.to_json() for o in spec.options],
            "groups": [
                {
                    "id": g.id,
                    "name": g.name,
                    "color": g.color,
                    "option_ids": [o.id for o in spec.options if o.name in g.option_names],
                }
                for g in spec.groups
            ],
        }
    elif t == "number":
        config = {"format": spec.number_format}
    elif t == "unique_id":
        config = {"prefix": spec.prefix}
    elif t == "formula":
        assert spec.formula is not None
        config = {"expression": spec.formula.expression}
    elif t == "relation":
        assert spec.relation is not None
        target = store.database(spec.relation.target)
        config = {"database_id": target.id}
        if version == V2025:
            config["data_source_id"] = target.data_source_id
        dual = target.schema.get(spec.relation.dual_id) if spec.relation.dual_id else None
        if dual is not None:
            config["type"] = "dual_property"
            config["dual_property"] = {"synced_property_name": dual.name, "synced_property_id": dual.id}
        else:
            config["type"] = "single_property"
            config["single_property"] = {}
    elif t == "rollup":
        assert spec.rollup is not None and spec.rollup_ids is not None
        relation = db.schema.get(spec.rollup_ids[0])
        target_db = store.database(relation.relation.target) if relation and relation.relation else None
        target = target_db.schema.get(spec.rollup_ids[1]) if target_db else None
        config = {
            "rollup_property_name": target.name if target else None,
            "relation_property_name": relation.name if relation else None,
            "rollup_property_id": spec.rollup_ids[1],
            "relation_property_id": spec.rollup_ids[0],
            "function": spec.rollup.function,
        }
    return {"id": spec.id, "name": spec.name, "type": t, "description": None, t: config}


def _title(db: Database) -> list[dict[str, Any]]:
    return render_rich_text(db.title, None)  # type: ignore[arg-type]  # plain strings need no context


def render_database(store: NotionStore, db: Database, version: str) -> dict[str, Any]:
    base: dict[str, Any] = {
        "object": "database",
        "id": db.id,
        "cover": None,
        "icon": None,
        "created_time": minute_iso(db.created_minute),
        "created_by": user_ref(store.model.people_ids[0]),
        "last_edited_by": user_ref(store.model.people_ids[0]),
        "last_edited_time": minute_iso(db.edited_minute),
        "title": _title(db),
        "description": [],
        "is_inline": False,
        "parent": {"type": "workspace", "workspace": True},
        "url": f"https://www.notion.so/{db.id.replace('-', '')}",
        "public_url": None,
        "archived": False,
        "in_trash": False,
    }
    if version == V2025:
        base["data_sources"] = [{"id": db.data_source_id, "name": db.title}]
        base["is_locked"] = False
    else:
        base["properties"] = {spec.name: schema_property(store, db, spec, version) for spec in db.schema}
    return base


def render_data_source(store: NotionStore, db: Database) -> dict[str, Any]:
    return {
        "object": "data_source",
        "id": db.data_source_id,
        "created_time": minute_iso(db.created_minute),
        "last_edited_time": minute_iso(db.edited_minute),
        "created_by": user_ref(store.model.people_ids[0]),
        "last_edited_by": user_ref(store.model.people_ids[0]),
        "title": _title(db),
        "description": [],
        "parent": {"type": "database_id", "database_id": db.id},
        "database_parent": {"type": "workspace", "workspace": True},
        "is_inline": False,
        "archived": False,
        "in_trash": False,
        "icon": None,
        "cover": None,
        "url": f"https://www.notion.so/{db.data_source_id.replace('-', '')}",
        "public_url": None,
        "properties": {spec.name: schema_property(store, db, spec, V2025) for spec in db.schema},
    }


def property_items(
    store: NotionStore, view: PageView, spec: PropertySpec
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """(list items, extra `property_item` value) for paginated types; ([], None) otherwise."""
    t = spec.type
    if t in ("title", "rich_text"):
        items = render_rich_text(view.values.get(spec.id), store)
        return [_item(spec, t, item) for item in items], None
    if t == "relation":
        return [_item(spec, t, {"id": pid}) for pid in store.relation_ids(view, spec)], None
    if t == "people":
        return [_item(spec, t, store.user_json(u)) for u in view.values.get(spec.id) or ()], None
    if t == "rollup":
        value, _ = store.rollup(view, spec)
        assert spec.rollup_ids is not None
        relation = view.db.schema.get(spec.rollup_ids[0])
        items: list[dict[str, Any]] = []
        if relation is not None and relation.relation is not None:
            target = store.database(relation.relation.target).schema.get(spec.rollup_ids[1])
            for page_id in store.relation_ids(view, relation):
                other = store.view(page_id)
                if other is None or target is None:
                    continue
                items.append({"object": "property_item", **render_property(store, other, target)})
        return items, value
    return [], None


def _item(spec: PropertySpec, type_: str, value: Any) -> dict[str, Any]:
    return {"object": "property_item", "id": spec.id, "type": type_, type_: value}


def single_property_item(store: NotionStore, view: PageView, spec: PropertySpec) -> dict[str, Any]:
    rendered = render_property(store, view, spec)
    rendered.pop("has_more", None)
    return {"object": "property_item", **rendered}
