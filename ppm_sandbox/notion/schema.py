"""Database schemas: property definitions as the emulator keeps them (mutable for schema drift).

Values of a page are keyed by property *id*, which never changes, so renaming a property is a
schema-only operation and dropping one simply hides its values.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

PROPERTY_TYPES: frozenset[str] = frozenset(
    {
        "title",
        "rich_text",
        "number",
        "select",
        "multi_select",
        "status",
        "date",
        "people",
        "relation",
        "rollup",
        "formula",
        "checkbox",
        "url",
        "email",
        "phone_number",
        "files",
        "unique_id",
        "created_time",
        "created_by",
        "last_edited_time",
        "last_edited_by",
        "verification",
        "place",
        "button",
    }
)

#: Types whose values Notion computes; writes to them are rejected. (`place` is writable in Notion's
#: app; the sandbox does not emulate writing one.)
READ_ONLY_TYPES: frozenset[str] = frozenset(
    {
        "rollup",
        "formula",
        "unique_id",
        "created_time",
        "created_by",
        "last_edited_time",
        "last_edited_by",
        "verification",
        "place",
        "button",
    }
)

#: Types paginated by the property-item endpoint (the others return one `property_item`).
LIST_ITEM_TYPES: frozenset[str] = frozenset({"title", "rich_text", "relation", "people", "rollup"})

COLORS: tuple[str, ...] = (
    "default",
    "gray",
    "brown",
    "orange",
    "yellow",
    "green",
    "blue",
    "purple",
    "pink",
    "red",
)


@dataclass
class SelectOption:
    id: str
    name: str
    color: str = "default"
    description: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "color": self.color, "description": self.description}

    def to_value(self) -> dict[str, Any]:
        """The shape inside a page's select/status value (no description)."""
        return {"id": self.id, "name": self.name, "color": self.color}


@dataclass
class StatusGroup:
    id: str
    name: str
    color: str
    option_names: list[str]


@dataclass
class RelationConfig:
    """A relation to `target` (a database key).

    `computed` marks the synced (dual) side whose values are derived from the stored side,
    `dual` names the property on the other side.
    """

    target: str
    dual: str | None = None
    computed: bool = False
    dual_id: str | None = None  # resolved once every schema of the workspace exists


@dataclass
class RollupConfig:
    relation: str  # property name on this database (resolved to an id when the schema is built)
    target: str  # property name on the related database
    function: str  # count, count_values, sum, average, min, max, latest_date, earliest_date, show_original


FormulaFn = Callable[["FormulaInputs"], Any]


@dataclass
class FormulaConfig:
    expression: str
    result: str  # string | number | boolean | date
    compute: FormulaFn


class FormulaInputs:
    """What a formula may read: other properties of the same page, by name, as plain values."""

    def __init__(self, getter: Callable[[str], Any]) -> None:
        self._get = getter

    def number(self, name: str) -> float | None:
        value = self._get(name)
        return value if isinstance(value, int | float) and not isinstance(value, bool) else None

    def text(self, name: str) -> str:
        value = self._get(name)
        return value if isinstance(value, str) else ""

    def date(self, name: str) -> str | None:
        value = self._get(name)
        return value if isinstance(value, str) and value else None


@dataclass
class PropertySpec:
    id: str
    name: str
    type: str
    options: list[SelectOption] = field(default_factory=list)
    groups: list[StatusGroup] = field(default_factory=list)
    number_format: str = "number"
    prefix: str | None = None
    relation: RelationConfig | None = None
    rollup: RollupConfig | None = None
    formula: FormulaConfig | None = None
    rollup_ids: tuple[str, str] | None = None  # (relation property id, target property id)

    def option(self, name: str) -> SelectOption | None:
        for option in self.options:
            if option.name == name:
                return option
        return None

    def option_by_id(self, option_id: str) -> SelectOption | None:
        for option in self.options:
            if option.id == option_id:
                return option
        return None


class DatabaseSchema:
    """Ordered properties of one database, addressable by id or by name."""

    def __init__(self, properties: list[PropertySpec]) -> None:
        self._by_id: dict[str, PropertySpec] = {p.id: p for p in properties}
        self.version = 0

    def __iter__(self) -> Iterator[PropertySpec]:
        return iter(list(self._by_id.values()))

    def __len__(self) -> int:
        return len(self._by_id)

    def get(self, key: str) -> PropertySpec | None:
        """Look a property up by id (raw or percent-decoded) or by name."""
        spec = self._by_id.get(key)
        if spec is not None:
            return spec
        for candidate in self._by_id.values():
            if candidate.name == key:
                return candidate
        for candidate in self._by_id.values():
            if unquote(candidate.id) == key:
                return candidate
        return None

    def by_name(self, name: str) -> PropertySpec | None:
        for candidate in self._by_id.values():
            if candidate.name == name:
                return candidate
        return None

    def id_of(self, name: str) -> str:
        spec = self.by_name(name)
        if spec is None:
            raise KeyError(name)
        return spec.id

    @property
    def title(self) -> PropertySpec:
        return next(p for p in self._by_id.values() if p.type == "title")

    def add(self, spec: PropertySpec) -> None:
        if spec.id in self._by_id or self.by_name(spec.name) is not None:
            raise ValueError(f"property {spec.name!r} already exists")
        self._by_id[spec.id] = spec
        self.version += 1

    def rename(self, key: str, new_name: str) -> PropertySpec:
        spec = self._require(key)
        clash = self.by_name(new_name)
        if clash is not None and clash is not spec:
            raise ValueError(f"property {new_name!r} already exists")
        spec.name = new_name
        self.version += 1
        return spec

    def drop(self, key: str) -> PropertySpec:
        spec = self._require(key)
        if spec.type == "title":
            raise ValueError("the title property cannot be dropped")
        del self._by_id[spec.id]
        self.version += 1
        return spec

    def _require(self, key: str) -> PropertySpec:
        spec = self.get(key)
        if spec is None:
            raise KeyError(key)
        return spec
