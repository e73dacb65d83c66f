"""`config/notion_mapping.yaml`: which Notion databases are synced and how they become silver columns."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from ppm_resources.paths import config_dir

ColumnType = Literal[
    "string",
    "number",
    "decimal",
    "integer",
    "boolean",
    "date",
    "date_end",
    "timestamp",
    "relation",
    "relations",
    "person",
    "people",
    "multi_select",
    "files",
]
#: Column types read from `property_lists` (multi-valued properties); the rest read `properties`.
LIST_TYPES: frozenset[str] = frozenset({"relation", "relations", "person", "people", "multi_select", "files"})

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
