"""The Notion workspace state: generated pages plus an overlay of everything that changed.

Generated pages are never stored; a page enters the overlay (`PageRecord`) the first time it is
edited, trashed, deleted, unshared or created. Each database keeps its overlay keys sorted by
(last_edited minute, index) and (created minute, index) so queries can merge overlay pages with
the index-ordered generated ones. All public methods are thread-safe (the server thread reads,
tests mutate from theirs).

Python API (the HTTP control endpoints under `/_sandbox/notion` call the same methods):
    store.database("Projects") / store.databases           lookup by key, title or id
    store.edit_page(page_id, {"Amount": 12.5})             plain values; bumps last_edited_time
    store.create_page("Actions", {"Title": "x"})           -> PageView (.id)
    store.trash_page / untrash_page / delete_page(page_id)
    store.unshare(object_id) / share(object_id)            page or database
    store.rename_property / drop_property / add_property(database, ...)
    store.truth("Budget Lines")                            live pages as plain values
    store.defects()                                        the injected defects
    store.cursors.expire_next(n) / expire_all()            cursor faults
    store.webhooks.subscribe(url)                          signed Notion webhook events per page mutation
"""

from __future__ import annotations

import bisect
import hashlib
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from ppm_sandbox.clock import SandboxClock
from ppm_sandbox.notion.cursors import CursorCodec
from ppm_sandbox.notion.errors import not_found, validation_error
from ppm_sandbox.notion.generator import Defect, PageGenerator, WorkspaceModel, make_generator
from ppm_sandbox.notion.ids import Kind, normalize_uuid, property_id
from ppm_sandbox.notion.loose import build_loose_pages
from ppm_sandbox.notion.properties import (
    coerce_simple,
    date_start_seconds,
    number_value,
    parse_write,
    plain_text,
    render_date,
    render_value,
    simple_value,
)
from ppm_sandbox.notion.schema import (
    PROPERTY_TYPES,
    DatabaseSchema,
    FormulaInputs,
    PropertySpec,
    RelationConfig,
    SelectOption,
)
from ppm_sandbox.notion.webhooks import PageEvent, WebhookSender
from ppm_sandbox.notion.workspace import DatabasePlan, NotionConfig, build_schema, plan_databases


@lru_cache(maxsize=131_072)
def minute_iso(minute: int) -> str:
    """Notion's timestamp form, rounded down to the minute: `2026-11-21T10:42:00.000Z`."""
    return datetime.fromtimestamp(minute * 60, UTC).strftime("%Y-%m-%dT%H:%M:00.000Z")


# Property types whose values a database computes or numbers itself: a moved page does not bring them along.
_COMPUTED_TYPES = frozenset(
    {
        "relation",
        "rollup",
        "formula",
        "unique_id",
        "created_time",
        "last_edited_time",
        "created_by",
        "last_edited_by",
        "button",
    }
)


@dataclass(slots=True)
class PageRecord:
    """Overlay state of a page that differs from (or is absent in) the generated workspace."""

    index: int
    created_minute: int
    edited_minute: int
    created_by: str
    edited_by: str
    values: dict[str, Any]
    in_trash: bool = False
    deleted: bool = False
    unshared: bool = False
    # A page moved here from another database keeps its id (Notion ids never change).
    page_id: str | None = None

    @property
    def live(self) -> bool:
        return not (self.in_trash or self.deleted or self.unshared)


class Database:
    """One database (and its single data source) of the workspace."""

    def __init__(self, plan: DatabasePlan, model: WorkspaceModel, schema: DatabaseSchema) -> None:
        self.plan = plan
        self.key = plan.key
        self.title = plan.title
        self.ordinal = plan.ordinal
        self.id = model.codec.encode(Kind.DATABASE, plan.ordinal, 0)
        self.data_source_id = model.codec.encode(Kind.DATA_SOURCE, plan.ordinal, 0)
        self.schema = schema
        self.generator: PageGenerator = make_generator(model, plan, schema)
        self.count = plan.count
        self.next_index = plan.count
        self.overlay: dict[int, PageRecord] = {}
        self.by_edited: list[tuple[int, int]] = []
        self.by_created: list[tuple[int, int]] = []
        self.unshared = False
        self.created_minute = model.anchor_minute - 420 * 1440
        self.edited_minute = model.anchor_minute - 2 * 1440

    def put(self, record: PageRecord, previous: tuple[int, int] | None) -> None:
        """Store `record`, keeping the sorted overlay keys right (`previous` = old (edited, created))."""
        if previous is not None:
            _discard(self.by_edited, (previous[0], record.index))
            _discard(self.by_created, (previous[1], record.index))
        self.overlay[record.index] = record
        bisect.insort(self.by_edited, (record.edited_minute, record.index))
        bisect.insort(self.by_created, (record.created_minute, record.index))


def _discard(keys: list[tuple[int, int]], key: tuple[int, int]) -> None:
    pos = bisect.bisect_left(keys, key)
    if pos < len(keys) and keys[pos] == key:
        del keys[pos]


class PageView:
    """A page as seen by one request: generated or overlaid, values computed at most once."""

    __slots__ = ("_values", "created_minute", "db", "edited_minute", "index", "record", "store")

    def __init__(self, store: NotionStore, db: Database, index: int, record: PageRecord | None) -> None:
        self.store = store
        self.db = db
        self.index = index
        self.record = record
        self._values: dict[str, Any] | None = None
        if record is not None:
            self.edited_minute = record.edited_minute
            self.created_minute = record.created_minute
        else:
            timeline = db.generator.timeline
            self.edited_minute = timeline.edited(index)
            self.created_minute = timeline.created(index)

    @property
    def id(self) -> str:
        if self.record is not None and self.record.page_id is not None:
            return self.record.page_id
        return self.store.model.page_id(self.db.ordinal, self.index)

    @property
    def values(self) -> dict[str, Any]:
        if self._values is None:
            self._values = (
                self.record.values if self.record is not None else self.db.generator.values(self.index)
            )
        return self._values

    @property
    def in_trash(self) -> bool:
        return self.record is not None and self.record.in_trash

    @property
    def created_by(self) -> str:
        return self.record.created_by if self.record is not None else self.db.generator.author(self.index)

    @property
    def edited_by(self) -> str:
        return self.record.edited_by if self.record is not None else self.db.generator.editor(self.index)

    @property
    def title(self) -> str:
        return plain_text(self.values.get("title"))

    @property
    def decor(self) -> tuple[dict[str, Any] | None, dict[str, Any] | None, bool]:
        """(icon, cover, is_locked): generated pages have their own; created pages have none."""
        if self.index >= self.db.count:
            return None, None, False
        return self.db.generator.decor(self.index)

    def plain(self, spec: PropertySpec) -> Any:
        return self.store.plain_value(self, spec)


class NotionStore:
    """In-memory Notion workspace, generated lazily from a `NotionConfig`."""

    def __init__(self, config: NotionConfig | None = None, *, clock: SandboxClock | None = None) -> None:
        self.config = config or NotionConfig()
        self.clock = clock or SandboxClock()
        self.lock = threading.RLock()
        secret = hashlib.sha256(f"ppm-sandbox-cursors:{self.config.seed}".encode()).digest()
        self.cursors = CursorCodec(secret, self.clock, self.config.cursor_ttl_s)
        self.webhooks = WebhookSender.for_workspace(self.clock, self.config.seed)
        self._build()

    # --------------------------------------------------------------------------- building

    def _build(self) -> None:
        plans = plan_databases(self.config)
        self.model = WorkspaceModel(self.config, plans)
        self.databases: list[Database] = [
            Database(p, self.model, build_schema(self.config.seed, p)) for p in plans
        ]
        self._by_key = {db.key: db for db in self.databases}
        self._by_ordinal = {db.ordinal: db for db in self.databases}
        self._by_id = {db.id: db for db in self.databases}
        self._by_data_source = {db.data_source_id: db for db in self.databases}
        self._moved: dict[str, tuple[Database, int]] = {}  # page id -> where a move put it
        self._users = {u.id: u.to_json() for u in [self.model.bot, *self.model.people]}
        self.loose_pages = build_loose_pages(self.model)
        self._version = getattr(self, "_version", -1) + 1  # keeps growing across reset()
        self._cache: dict[tuple[Any, ...], tuple[int, Any]] = {}
        self.renderers: dict[tuple[Any, ...], Any] = {}
        for db in self.databases:
            for spec in db.schema:
                self._resolve(db, spec)
        trashed = self.model.trashed_project
        if trashed is not None:
            projects = self._by_key["projects"]
            view = PageView(self, projects, trashed, None)
            record = self._materialize(view)
            record.in_trash = True
            projects.put(record, (view.edited_minute, view.created_minute))

    def _resolve(self, db: Database, spec: PropertySpec) -> None:
        """Turn name references (dual relation, rollup) into ids once all schemas exist."""
        if spec.relation is not None and spec.relation.dual:
            target = self._by_key[spec.relation.target]
            dual = target.schema.by_name(spec.relation.dual)
            spec.relation.dual_id = dual.id if dual else None
        if spec.rollup is not None:
            relation = db.schema.by_name(spec.rollup.relation)
            if relation is None or relation.relation is None:
                raise ValueError(f"rollup {spec.name!r} needs a relation property {spec.rollup.relation!r}")
            target = self._by_key[relation.relation.target].schema.by_name(spec.rollup.target)
            if target is None:
                raise ValueError(
                    f"rollup {spec.name!r}: no property {spec.rollup.target!r} on the related database"
                )
            spec.rollup_ids = (relation.id, target.id)

    def reset(self) -> None:
        """Back to the freshly generated workspace (cursors issued before become invalid)."""
        with self.lock:
            self._build()
            self.cursors.expire_all()
            self.cursors.clear_faults()
            self.webhooks.reset()

    # --------------------------------------------------------------------------- lookups

    def database(self, ref: str) -> Database:
        """A database by key ("budget_lines"), title ("Budget Lines"), id or data source id."""
        db = self._by_key.get(ref)
        if db is not None:
            return db
        for candidate in self.databases:
            if candidate.title == ref:
                return candidate
        normalized = normalize_uuid(ref)
        if normalized is not None:
            db = self._by_id.get(normalized) or self._by_data_source.get(normalized)
            if db is not None:
                return db
        raise KeyError(f"no database {ref!r}; known: {[d.title for d in self.databases]}")

    def database_by_id(self, object_id: str, *, data_source: bool = False) -> Database | None:
        """The database behind an API id, or None (also when unshared)."""
        table = self._by_data_source if data_source else self._by_id
        db = table.get(object_id)
        return None if db is None or db.unshared else db

    def view(self, page_id: str, *, hidden: bool = False) -> PageView | None:
        """The page behind `page_id` (trashed pages included), or None when unknown or deleted.

        Unshared pages (or pages of an unshared database) are None unless `hidden`.
        """
        moved = self._moved.get(page_id)
        if moved is not None:
            db, index = moved
        else:
            decoded = self.model.codec.decode(page_id)
            if decoded is None or decoded.kind != Kind.PAGE:
                return None
            found = self._by_ordinal.get(decoded.database)
            if found is None:
                return None
            db, index = found, decoded.index
        record = db.overlay.get(index)
        if record is None and index >= db.count:
            return None
        if record is not None and record.deleted:
            return None
        if not hidden and (db.unshared or (record is not None and record.unshared)):
            return None
        return PageView(self, db, index, record)

    def generated_view(self, db: Database, index: int) -> PageView:
        return PageView(self, db, index, db.overlay.get(index))

    def require_view(self, page_id: str, *, hidden: bool = False) -> PageView:
        normalized = normalize_uuid(page_id) or page_id
        view = self.view(normalized, hidden=hidden)
        if view is None:
            raise not_found("page", normalized)
        return view

    def live_views(self, db: Database) -> Iterator[PageView]:
        """Pages the integration sees in queries (not trashed/deleted/unshared), creation order."""
        if db.unshared:
            return
        overlay = db.overlay
        for index in range(db.count):
            record = overlay.get(index)
            if record is None:
                yield PageView(self, db, index, None)
            elif record.live:
                yield PageView(self, db, index, record)
        for index in sorted(i for i in overlay if i >= db.count):
            record = overlay[index]
            if record.live:
                yield PageView(self, db, index, record)

    # ------------------------------------------------------------------- computed values

    def now_minute(self) -> int:
        return int(self.clock.timestamp()) // 60

    def user_json(self, user_id: str) -> dict[str, Any]:
        return self._users.get(user_id) or {"object": "user", "id": user_id}

    def mention_title(self, page_id: str) -> str:
        view = self.view(page_id)
        if view is None:
            db = self._by_id.get(page_id)
            return db.title if db else "Untitled"
        return view.title or "Untitled"

    def page_url(self, page_id: str) -> str:
        return f"https://www.notion.so/{page_id.replace('-', '')}"

    def file_expiry(self) -> str:
        return (self.clock.now() + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")

    def relation_ids(self, view: PageView, spec: PropertySpec) -> list[str]:
        """All related page ids (untruncated) of a relation property."""
        assert spec.relation is not None
        if not spec.relation.computed:
            return list(view.values.get(spec.id) or ())
        return self._cached(
            ("back", view.db.ordinal, spec.id, view.index), lambda: self._back_relation(view, spec)
        )

    def _back_relation(self, view: PageView, spec: PropertySpec) -> list[str]:
        assert spec.relation is not None
        source = self._by_key[spec.relation.target]
        source_prop = spec.relation.dual_id
        if source_prop is None or source.schema.get(source_prop) is None:
            return []
        target_id = view.id
        indices: list[int] = []
        if view.index < view.db.count and source_prop in source.generator.relations:
            overlay = source.overlay
            indices = [i for i in source.generator.children_of(source_prop, view.index) if i not in overlay]
        for record in source.overlay.values():
            if record.live and target_id in (record.values.get(source_prop) or ()):
                indices.append(record.index)
        indices.sort()
        page_id = self.model.page_id
        return [page_id(source.ordinal, i) for i in indices]

    def rollup(self, view: PageView, spec: PropertySpec) -> tuple[dict[str, Any], Any]:
        """(the `rollup` JSON value, its plain value) of a rollup property."""
        return self._cached(
            ("rollup", view.db.ordinal, spec.id, view.index), lambda: self._rollup(view, spec)
        )

    def _rollup(self, view: PageView, spec: PropertySpec) -> tuple[dict[str, Any], Any]:
        assert spec.rollup is not None and spec.rollup_ids is not None
        function = spec.rollup.function
        relation_spec = view.db.schema.get(spec.rollup_ids[0])
        related: list[PageView] = []
        target_spec: PropertySpec | None = None
        if relation_spec is not None and relation_spec.relation is not None:
            target_db = self._by_key[relation_spec.relation.target]
            target_spec = target_db.schema.get(spec.rollup_ids[1])
            for page_id in self.relation_ids(view, relation_spec):
                other = self.view(page_id)
                if other is not None and not other.in_trash:
                    related.append(other)
        if function == "show_original":
            # Each item is the related page's property value as Notion sends it (`{type, <type>}`);
            # the plain value keeps the non-empty ones (integral numbers as ints), as bronze does.
            items = []
            plains = []
            if target_spec is not None:
                for other in related:
                    raw = other.values.get(target_spec.id)
                    items.append(
                        {"type": target_spec.type, target_spec.type: render_value(target_spec, raw, self)}
                    )
                    plain = simple_value(target_spec, raw)
                    if plain is None or plain == "" or plain == []:
                        continue
                    plains.append(number_value(plain) if target_spec.type == "number" else plain)
            return {"type": "array", "array": items, "function": function}, plains
        values = [] if target_spec is None else [other.plain(target_spec) for other in related]
        if function in ("latest_date", "earliest_date"):
            dated = [(date_start_seconds(v), v) for v in values if v]
            dated = [(s, v) for s, v in dated if s is not None]
            pick = (max if function == "latest_date" else min)(dated, default=None, key=lambda p: p[0])
            value = pick[1] if pick else None
            return {
                "type": "date",
                "date": render_date(value) if value else None,
                "function": function,
            }, value
        numbers = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
        result: float | int | None
        if function == "count":
            result = len(related)
        elif function == "count_values":
            result = sum(1 for v in values if v not in (None, "", []))
        elif function == "sum":
            result = round(sum(numbers), 2)
        elif function == "average":
            result = round(sum(numbers) / len(numbers), 2) if numbers else None
        elif function == "min":
            result = min(numbers, default=None)
        elif function == "max":
            result = max(numbers, default=None)
        else:
            raise ValueError(f"unsupported rollup function {function!r}")
        if isinstance(result, float) and result.is_integer():
            result = int(result)
        return {"type": "number", "number": result, "function": function}, result

    def formula(self, view: PageView, spec: PropertySpec) -> Any:
        assert spec.formula is not None
        declared = view.db.generator.ids
        schema = view.db.schema

        def get(name: str) -> Any:
            prop = schema.get(declared.get(name, name))
            return None if prop is None else self.plain_value(view, prop)

        return spec.formula.compute(FormulaInputs(get))

    def plain_value(self, view: PageView, spec: PropertySpec) -> Any:
        """Plain value of any property, computed ones included (filters, sorts, truth)."""
        t = spec.type
        if t == "relation":
            return self.relation_ids(view, spec)
        if t == "rollup":
            return self.rollup(view, spec)[1]
        if t == "formula":
            return self.formula(view, spec)
        if t == "created_time":
            return minute_iso(view.created_minute)
        if t == "last_edited_time":
            return minute_iso(view.edited_minute)
        if t == "created_by":
            return [view.created_by]
        if t == "last_edited_by":
            return [view.edited_by]
        return simple_value(spec, view.values.get(spec.id))

    def _cached(self, key: tuple[Any, ...], compute: Any) -> Any:
        hit = self._cache.get(key)
        if hit is not None and hit[0] == self._version:
            return hit[1]
        value = compute()
        if len(self._cache) > 200_000:
            self._cache.clear()
        self._cache[key] = (self._version, value)
        return value

    def _touch(self) -> None:
        self._version += 1

    @property
    def version(self) -> int:
        """Mutation counter: changes whenever a page, a schema or sharing changes."""
        return self._version

    # ------------------------------------------------------------------------- mutations

    def _materialize(self, view: PageView) -> PageRecord:
        """The overlay record of `view` (copying generated values on first change)."""
        if view.record is not None:
            return view.record
        return PageRecord(
            index=view.index,
            created_minute=view.created_minute,
            edited_minute=view.edited_minute,
            created_by=view.created_by,
            edited_by=view.edited_by,
            values=dict(view.values),
        )

    def _notify(self, kind: str, view: PageView, author: str, updated: Iterable[str] = ()) -> None:
        """Queue a webhook event for `view` where it lives now; the sender's thread POSTs it, outside the lock.

        Callers check `self.webhooks.active` first: without a subscription a mutation pays one attribute read.
        """
        self.webhooks.publish(
            PageEvent(
                type=kind,
                page_id=view.id,
                database_id=view.db.id,
                data_source_id=view.db.data_source_id,
                author_id=author,
                author_type="bot" if author == self.model.bot.id else "person",
                updated_properties=tuple(sorted(updated)),
            )
        )

    def _commit(self, view: PageView, record: PageRecord, *, bump: bool, by: str | None) -> None:
        """Store a changed record; `bump` moves last_edited_time to the clock's minute.

        Sandbox edits default to a person (someone edited in Notion); API writes pass the bot.
        """
        # A generated page entering the overlay has no sorted keys to remove yet.
        previous = (view.edited_minute, view.created_minute) if view.record is not None else None
        if bump:
            record.edited_minute = self.now_minute()
            record.edited_by = by or self.model.people_ids[0]
        view.db.put(record, previous)
        self._touch()

    def update_page(
        self,
        page_id: str,
        properties: Mapping[str, Any] | None = None,
        *,
        in_trash: bool | None = None,
        by: str | None = None,
        simple: bool = False,
    ) -> PageView:
        """Change properties and/or trash state of a page, as `PATCH /v1/pages/{id}` does.

        `simple=True` accepts plain Python values (`{"Amount": 12.5, "Status": "Done"}`).
        """
        with self.lock:
            view = self.require_view(page_id)
            if properties and view.in_trash and in_trash is not False:
                raise validation_error(
                    "Can't edit block that is archived. You must unarchive the block before editing."
                )
            parsed = self._parse_properties(view.db, properties or {}, simple=simple)
            was_trashed = view.in_trash
            record = self._materialize(view)
            record.values = {**record.values, **parsed}
            if in_trash is not None:
                record.in_trash = in_trash
            self._commit(view, record, bump=bool(parsed) or in_trash is not None, by=by)
            updated = PageView(self, view.db, view.index, record)
            if self.webhooks.active:
                if parsed:
                    self._notify("page.properties_updated", updated, record.edited_by, parsed)
                if in_trash is not None and in_trash != was_trashed:  # Notion's names for trash and restore
                    self._notify("page.deleted" if in_trash else "page.undeleted", updated, record.edited_by)
            return updated

    def edit_page(self, page_id: str, values: Mapping[str, Any], *, by: str | None = None) -> PageView:
        """Sandbox edit with plain values; bumps last_edited_time to the clock's minute."""
        return self.update_page(page_id, values, by=by, simple=True)

    def create_page(
        self,
        database: str,
        properties: Mapping[str, Any] | None = None,
        *,
        by: str | None = None,
        simple: bool = True,
    ) -> PageView:
        """A new page in `database` (key, title or id); created/edited now."""
        with self.lock:
            db = self.database(database)
            parsed = self._parse_properties(db, properties or {}, simple=simple)
            index = db.next_index
            db.next_index += 1
            for spec in db.schema:
                if spec.type == "unique_id":
                    parsed[spec.id] = index + 1
            now = self.now_minute()
            author = by or self.model.bot.id
            record = PageRecord(index, now, now, author, author, parsed)
            db.put(record, None)
            self._touch()
            created = PageView(self, db, index, record)
            if self.webhooks.active:
                self._notify("page.created", created, author)
            return created

    def _parse_properties(
        self, db: Database, properties: Mapping[str, Any], *, simple: bool
    ) -> dict[str, Any]:
        if not isinstance(properties, Mapping):
            raise validation_error("body failed validation: body.properties should be an object.")
        parsed: dict[str, Any] = {}
        for key, value in properties.items():
            spec = db.schema.get(key)
            if spec is None:
                raise validation_error(f"{key} is not a property that exists.")
            if simple:
                parsed[spec.id] = coerce_simple(spec, value)
            else:
                parsed[spec.id] = parse_write(spec, value, field=f"body.properties.{key}")
            if spec.type == "title" and parsed[spec.id] is None:
                parsed[spec.id] = ""
        return parsed

    def trash_page(self, page_id: str) -> PageView:
        return self.update_page(page_id, in_trash=True)

    def untrash_page(self, page_id: str) -> PageView:
        return self.update_page(page_id, in_trash=False)

    def delete_page(self, page_id: str) -> None:
        """Permanently delete: 404 afterwards, gone from queries and truth."""
        with self.lock:
            view = self.require_view(page_id, hidden=True)
            record = self._materialize(view)
            record.deleted = True
            self._commit(view, record, bump=False, by=None)
            if self.webhooks.active:
                self._notify("page.deleted", view, self.model.people_ids[0])

    def move_page(self, page_id: str, database: str, *, by: str | None = None) -> PageView:
        """Move a page into another database, as Notion's move does: same id, new parent, a new edit time.

        Values of properties the target database has by the same name and type come along (the title always);
        the others are dropped, as Notion drops properties the new parent does not define.
        """
        with self.lock:
            view = self.require_view(page_id)
            target = self.database(database)
            if target is view.db:
                raise validation_error(f"page {view.id} is already in {target.title}")
            source_types = {spec.id: (spec.name, spec.type) for spec in view.db.schema}
            values: dict[str, Any] = {}
            for spec_id, value in view.values.items():
                name, kind = source_types.get(spec_id, (None, None))
                spec = target.schema.get("title") if kind == "title" else target.schema.get(name or "")
                if spec is not None and spec.type == kind and kind not in _COMPUTED_TYPES:
                    values[spec.id] = value
            moved_id = view.id
            old = self._materialize(view)
            old.deleted = True  # gone from the source: 404 through the old address is never used (same id)
            self._commit(view, old, bump=False, by=None)
            index = target.next_index
            target.next_index += 1
            for spec in target.schema:
                if spec.type == "unique_id":
                    values[spec.id] = index + 1  # numbered in its new database
            record = PageRecord(
                index,
                view.created_minute,
                self.now_minute(),
                view.created_by,
                by or self.model.people_ids[0],
                values,
            )
            record.page_id = moved_id
            self._moved[moved_id] = (target, index)
            target.put(record, None)
            self._touch()
            moved = PageView(self, target, index, record)
            if self.webhooks.active:
                self._notify("page.moved", moved, record.edited_by)
            return moved

    def unshare(self, object_id: str) -> None:
        """Revoke the integration's access to a page or a database (404 from then on)."""
        self._set_shared(object_id, shared=False)

    def share(self, object_id: str) -> None:
        self._set_shared(object_id, shared=True)

    def _set_shared(self, object_id: str, *, shared: bool) -> None:
        with self.lock:
            normalized = normalize_uuid(object_id) or object_id
            db = self._by_id.get(normalized) or self._by_data_source.get(normalized)
            if db is None:
                try:
                    db = self.database(object_id)
                except KeyError:
                    db = None
            if db is not None:
                db.unshared = not shared
                self._touch()
                return
            view = self.require_view(normalized, hidden=True)
            record = self._materialize(view)
            record.unshared = not shared
            self._commit(view, record, bump=False, by=None)

    def rename_property(self, database: str, old: str, new: str) -> PropertySpec:
        with self.lock:
            db = self.database(database)
            try:
                spec = db.schema.rename(old, new)
            except KeyError as exc:
                raise validation_error(f"{old} is not a property that exists.") from exc
            except ValueError as exc:
                raise validation_error(str(exc)) from exc
            self._schema_changed(db)
            return spec

    def drop_property(self, database: str, name: str) -> PropertySpec:
        with self.lock:
            db = self.database(database)
            try:
                spec = db.schema.drop(name)
            except KeyError as exc:
                raise validation_error(f"{name} is not a property that exists.") from exc
            except ValueError as exc:
                raise validation_error(str(exc)) from exc
            self._schema_changed(db)
            return spec

    def add_property(
        self,
        database: str,
        name: str,
        type_: str,
        *,
        options: list[str] | None = None,
        prefix: str | None = None,
        target: str | None = None,
    ) -> PropertySpec:
        """Add a property (existing pages have no value for it)."""
        with self.lock:
            db = self.database(database)
            if type_ not in PROPERTY_TYPES or type_ in ("title", "rollup", "formula"):
                raise validation_error(f"cannot add a property of type {type_!r}")
            taken = {p.id for p in db.schema}
            spec = PropertySpec(
                id=property_id(self.config.seed, f"{db.key}/added", name, taken),
                name=name,
                type=type_,
                options=[SelectOption(f"opt{i}", o, "default") for i, o in enumerate(options or [])],
                prefix=prefix,
                relation=RelationConfig(self.database(target).key)
                if type_ == "relation" and target
                else None,
            )
            if type_ == "relation" and spec.relation is None:
                raise validation_error("a relation property needs a target database")
            try:
                db.schema.add(spec)
            except ValueError as exc:
                raise validation_error(str(exc)) from exc
            self._schema_changed(db)
            return spec

    def _schema_changed(self, db: Database) -> None:
        db.edited_minute = self.now_minute()
        self._touch()

    # ------------------------------------------------------------------------ inspection

    def truth(self, database: str) -> list[dict[str, Any]]:
        """Current state of every page the integration can query, as plain values.

        Relations are complete (not truncated at 25); rollups and formulas are evaluated now.
        """
        return list(self.iter_truth(database))

    def iter_truth(self, database: str, *, chunk: int = 1000) -> Iterator[dict[str, Any]]:
        """`truth` lazily, for huge databases; the lock is held per chunk, never across a yield."""
        db = self.database(database)
        indices = self._live_indices(db)
        for start in range(0, len(indices), chunk):
            with self.lock:
                specs = list(db.schema)
                batch = []
                for index in indices[start : start + chunk]:
                    record = db.overlay.get(index)
                    if record is not None and not record.live:
                        continue  # changed since the listing
                    view = PageView(self, db, index, record)
                    batch.append(
                        {
                            "id": view.id,
                            "created_time": minute_iso(view.created_minute),
                            "last_edited_time": minute_iso(view.edited_minute),
                            "properties": {spec.name: self.plain_value(view, spec) for spec in specs},
                        }
                    )
            yield from batch

    def _live_indices(self, db: Database) -> range | list[int]:
        with self.lock:
            if db.unshared:
                return []
            hidden = any(i < db.count and not r.live for i, r in db.overlay.items())
            created = sorted(i for i, r in db.overlay.items() if i >= db.count and r.live)
            if not hidden and not created:
                return range(db.count)  # no list of a million ints when nothing changed
            return [v.index for v in self.live_views(db)]

    def count_live(self, database: str) -> int:
        with self.lock:
            db = self.database(database)
            hidden = sum(1 for i, r in db.overlay.items() if i < db.count and not r.live)
            extra = sum(1 for i, r in db.overlay.items() if i >= db.count and r.live)
            return 0 if db.unshared else db.count - hidden + extra

    def defects(self, database: str | None = None) -> list[Defect]:
        """The deliberate defects of the generated workspace (mutations do not update this)."""
        dbs = [self.database(database)] if database else self.databases
        return [d for db in dbs for d in db.generator.defect_list()]

    def describe(self) -> list[dict[str, Any]]:
        """Databases with ids and sizes (for the control endpoint and the CLI)."""
        return [
            {
                "key": db.key,
                "title": db.title,
                "database_id": db.id,
                "data_source_id": db.data_source_id,
                "generated_pages": db.count,
                "overlay_pages": len(db.overlay),
                "unshared": db.unshared,
            }
            for db in self.databases
        ]


def require_database(store: NotionStore, object_id: str, *, data_source: bool) -> Database:
    """The database for an API path id, or Notion's 404."""
    normalized = normalize_uuid(object_id)
    if normalized is None:
        name = "data_source_id" if data_source else "database_id"
        raise validation_error(
            f'path failed validation: path.{name} should be a valid uuid, instead was `"{object_id}"`.'
        )
    db = store.database_by_id(normalized, data_source=data_source)
    if db is None:
        raise not_found("data source" if data_source else "database", normalized)
    return db


__all__ = [
    "Database",
    "NotionStore",
    "PageRecord",
    "PageView",
    "minute_iso",
    "require_database",
]
