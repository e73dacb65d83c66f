"""`config/notion_mapping.yaml`: which Notion databases are synced and how they become silver columns."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from ppm_resources.paths import config_dir

#: Notion property types whose flattened value is one text (bronze `properties`); the list types go to
#: `property_lists`. Formulas and rollups can be either (a rollup of an array is a list).
SCALAR_NOTION_TYPES = frozenset(
    {
        "title", "rich_text", "number", "select", "status", "date", "checkbox", "url", "email", "phone_number",
        "unique_id", "formula", "rollup", "created_time", "last_edited_time", "created_by", "last_edited_by",
        "verification", "place", "button",
    }
)  # fmt: skip


@dataclass(frozen=True)
class ColumnKind:
    """What a mapping `column_type` means: where silver reads it from and how it is typed.

    The one definition of the column-type vocabulary: silver SQL, the mapping's validation and the DQ rules all
    read these flags instead of keeping their own lists of type names.
    """

    multi_valued: bool = False  # read from bronze `property_lists` (relation ids, people, options, file urls)
    single_item: bool = False  # of a multi-valued property, only the first item (one parent, one owner)
    sql_type: str | None = None  # typed with TRY_CAST to this, so a value can be unparseable
    numeric: bool = False
    temporal: bool = False
    # The Notion property types that can feed the column: another type (a property re-created with a new type)
    # leaves it NULL, so the drift check fails on it like on a rename.
    notion_types: frozenset[str] = SCALAR_NOTION_TYPES

    @property
    def parsed(self) -> bool:
        """Silver converts the text, so a value Notion sent can fail to parse (a `dq_flags` entry)."""
        return self.sql_type is not None


_NUMERIC = frozenset({"number", "formula", "rollup"})
_TEMPORAL = frozenset({"date", "formula", "rollup", "created_time", "last_edited_time"})

COLUMN_KINDS: dict[str, ColumnKind] = {
    "string": ColumnKind(),
    "number": ColumnKind(sql_type="DOUBLE", numeric=True, notion_types=_NUMERIC),
    "decimal": ColumnKind(sql_type="DECIMAL(18, 2)", numeric=True, notion_types=_NUMERIC),
    "integer": ColumnKind(sql_type="BIGINT", numeric=True, notion_types=_NUMERIC | {"unique_id"}),
    "boolean": ColumnKind(sql_type="BOOLEAN", notion_types=frozenset({"checkbox", "formula"})),
    # the start of a Notion date or range
    "date": ColumnKind(sql_type="DATE", temporal=True, notion_types=_TEMPORAL),
    "date_end": ColumnKind(sql_type="DATE", temporal=True, notion_types=_TEMPORAL),  # the end of a range
    "timestamp": ColumnKind(sql_type="TIMESTAMP", temporal=True, notion_types=_TEMPORAL),
    "relation": ColumnKind(
        multi_valued=True, single_item=True, notion_types=frozenset({"relation", "rollup"})
    ),
    "relations": ColumnKind(multi_valued=True, notion_types=frozenset({"relation", "rollup"})),
    "person": ColumnKind(multi_valued=True, single_item=True, notion_types=frozenset({"people", "rollup"})),
    "people": ColumnKind(multi_valued=True, notion_types=frozenset({"people", "rollup"})),
    "multi_select": ColumnKind(multi_valued=True, notion_types=frozenset({"multi_select", "rollup"})),
    "files": ColumnKind(multi_valued=True, notion_types=frozenset({"files", "rollup"})),
}

# Built from COLUMN_KINDS so the names exist once; pydantic validates against it and names the choices.
ColumnType = Literal[tuple(COLUMN_KINDS)]  # type: ignore[valid-type]


def column_kind(column_type: str) -> ColumnKind:
    return COLUMN_KINDS[column_type]


#: Columns every silver Notion table has besides the mapped ones.
STANDARD_COLUMNS = (
    "page_id",
    "notion_url",
    "created_time",
    "last_edited_time",
    "is_archived",
    "dq_flags",
    "synced_at",
)

_SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")


class ColumnMapping(BaseModel):
    model_config = {"extra": "forbid", "frozen": True}

    notion_property: str = Field(min_length=1)
    column_name: str
    column_type: ColumnType
    required: bool = False
    line: int | None = Field(default=None, exclude=True, description="Line in the YAML file, for messages.")

    @field_validator("column_name")
    @classmethod
    def _snake_case(cls, value: str) -> str:
        if not _SNAKE.match(value):
            raise ValueError(f"column_name {value!r} must be lower snake case, e.g. budget_total")
        if value in STANDARD_COLUMNS:
            raise ValueError(f"column_name {value!r} is reserved for a standard column")
        return value

    @property
    def kind(self) -> ColumnKind:
        return COLUMN_KINDS[self.column_type]


class DatabaseMapping(BaseModel):
    model_config = {"extra": "forbid", "frozen": True}

    title: str = Field(min_length=1)
    id_env: str = Field(pattern=r"^[A-Z][A-Z0-9_]*$")
    silver_table: str
    columns: tuple[ColumnMapping, ...] = Field(min_length=1)

    @field_validator("silver_table")
    @classmethod
    def _table_name(cls, value: str) -> str:
        if not _SNAKE.match(value):
            raise ValueError(f"silver_table {value!r} must be lower snake case")
        return value

    @model_validator(mode="after")
    def _unique_columns(self) -> DatabaseMapping:
        names = [c.column_name for c in self.columns]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"duplicate column_name {', '.join(duplicates)}")
        return self

    @property
    def silver_table_name(self) -> str:
        return f"silver.{self.silver_table}"


class NotionMapping(BaseModel):
    model_config = {"extra": "forbid", "frozen": True}

    databases: dict[str, DatabaseMapping] = Field(min_length=1)
    source: str = Field(default="config/notion_mapping.yaml", exclude=True)

    @field_validator("databases")
    @classmethod
    def _partition_keys(cls, value: dict[str, DatabaseMapping]) -> dict[str, DatabaseMapping]:
        for name in value:
            if not _SNAKE.match(name):
                raise ValueError(f"database name {name!r} must be lower snake case (it is a partition key)")
        tables = [db.silver_table for db in value.values()]
        if len(set(tables)) != len(tables):
            raise ValueError("two databases map to the same silver_table")
        return value

    @property
    def names(self) -> list[str]:
        return list(self.databases)

    def database(self, name: str) -> DatabaseMapping:
        try:
            return self.databases[name]
        except KeyError:
            raise KeyError(
                f"no Notion database {name!r} in {self.source}; known: {', '.join(self.databases)}"
            ) from None


class MappingError(ValueError):
    """The mapping file is unreadable or invalid; the message names the file and the entry."""


def _with_line_numbers(text: str) -> dict:
    """Parse YAML, recording each column entry's line so drift warnings can point at it."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
    finally:
        loader.dispose()
    if node is None:
        return {}
    document = yaml.SafeLoader("").construct_document(node)
    for db_key, db_node in getattr(node, "value", []):
        if db_key.value != "databases":
            continue
        for name_node, database_node in db_node.value:
            for field_key, field_node in database_node.value:
                if field_key.value == "columns":
                    for index, column_node in enumerate(field_node.value):
                        document["databases"][name_node.value]["columns"][index]["line"] = (
                            column_node.start_mark.line + 1
                        )
    return document


def parse_notion_mapping(text: str, source: str = "config/notion_mapping.yaml") -> NotionMapping:
    try:
        document = _with_line_numbers(text)
    except yaml.YAMLError as error:
        raise MappingError(f"{source}: not valid YAML: {error}") from error
    try:
        return NotionMapping.model_validate({**document, "source": source})
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in item['loc'])}: {item['msg'].removeprefix('Value error, ')}"
            for item in error.errors()
        )
        raise MappingError(f"{source}: {problems}") from error


@cache
def _load(path: Path, mtime: float) -> NotionMapping:
    return parse_notion_mapping(path.read_text(encoding="utf-8"), source=f"config/{path.name}")


def load_notion_mapping(path: Path | None = None) -> NotionMapping:
    """The mapping file (cached until the file changes)."""
    path = path or config_dir() / "notion_mapping.yaml"
    if not path.is_file():
        raise MappingError(f"{path} does not exist")
    return _load(path, path.stat().st_mtime)
