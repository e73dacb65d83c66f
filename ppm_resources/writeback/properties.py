"""An `ActionDraft` as the properties and body of a Notion page (pure functions).

Which Notion property holds what comes from `config/notion_mapping.yaml` (the `actions` database: the same
mapping the sync reads, so a created page becomes a silver `actions` row after the next sync). How a value is
written depends on the property's type in the live schema (a `Status` may be a status or a select property;
option names are matched case-insensitively, so `dq` is written as the database's `DQ` option).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ppm_resources.notion.ids import normalize_id
from ppm_resources.notion.mapping import DatabaseMapping
from ppm_resources.notion.text import cut, plain_text, rich_text
from ppm_resources.writeback.drafts import ActionDraft

#: The database of config/notion_mapping.yaml that Action pages are written to.
ACTIONS_DATABASE = "actions"
#: The Actions columns the write-back fills (silver column names of the mapping); `title` and `source_id` are
#: required, the others are written when the mapping has them.
WRITTEN_COLUMNS = (
    "title",
    "source_id",
    "source",
    "project_page_id",
    "assignee_id",
    "due_date",
    "status",
    "priority",
)
REQUIRED_COLUMNS = ("title", "source_id")
#: Property types that can hold each column (the first is what the seed's Actions database uses).
COLUMN_TYPES: dict[str, tuple[str, ...]] = {
    "title": ("title",),
    "source_id": ("rich_text",),
    "source": ("select", "rich_text"),
    "project_page_id": ("relation",),
    "assignee_id": ("people",),
    "due_date": ("date",),
    "status": ("status", "select"),
    "priority": ("select", "rich_text"),
}
#: How each source is labelled when the database has no matching option (Notion then adds the option).
SOURCE_LABELS = {"dq": "DQ", "advisor": "Advisor", "manual": "Manual"}
#: A new Action starts in the first option of the status group named so (Notion's default groups).
INITIAL_STATUS_GROUP = "To-do"
#: Paragraph blocks of a page body, and sample links listed under it.
MAX_BODY_BLOCKS = 100
MAX_SAMPLE_LINKS = 20


class SchemaError(ValueError):
    """The Actions database lacks a property the write-back needs, or has it with an unusable type."""


@dataclass(frozen=True)
class ActionFields:
    """The Actions database's properties the write-back uses: column name -> (property name, type, schema)."""

    names: Mapping[str, str]
    schema: Mapping[str, Mapping[str, Any]]

    @classmethod
    def resolve(cls, mapping: DatabaseMapping, schema: Mapping[str, Mapping[str, Any]]) -> ActionFields:
        """Check the live schema against the mapping; SchemaError naming the property and what to do."""
        names = {
            c.column_name: c.notion_property for c in mapping.columns if c.column_name in WRITTEN_COLUMNS
        }
        for column in REQUIRED_COLUMNS:
            if column not in names:
                raise SchemaError(
                    f"config/notion_mapping.yaml maps no property of {mapping.title!r} to column {column!r}: the "
                    "write-back needs it"
                )
        for column, name in names.items():
            prop = schema.get(name)
            if prop is None:
                raise SchemaError(
                    f"the Notion database {mapping.title!r} has no property {name!r} (mapped to {column}): add "
                    f"it as {' or '.join(COLUMN_TYPES[column])}, or fix config/notion_mapping.yaml"
                )
            if prop.get("type") not in COLUMN_TYPES[column]:
                raise SchemaError(
                    f"property {name!r} of {mapping.title!r} is {prop.get('type')}; the write-back writes "
                    f"{column} as {' or '.join(COLUMN_TYPES[column])}"
                )
        return cls(names, schema)

    def name(self, column: str) -> str:
        return self.names[column]

    def type(self, column: str) -> str:
        return str(self.schema[self.names[column]]["type"])

    def source_id_filter(self, source_id: str) -> dict[str, Any]:
        """The query filter finding pages whose Source ID is exactly ``source_id``."""
        return {"property": self.name("source_id"), self.type("source_id"): {"equals": source_id}}

    def source_id_of(self, page: Mapping[str, Any]) -> str:
        prop = (page.get("properties") or {}).get(self.name("source_id")) or {}
        return plain_text(prop.get(prop.get("type") or "rich_text"))

    # ------------------------------------------------------------------------------------------ values

    def options(self, column: str) -> list[dict[str, Any]]:
        prop = self.schema[self.names[column]]
        return list((prop.get(prop.get("type")) or {}).get("options") or [])

    def option(self, column: str, wanted: str) -> str:
        """The database's option name matching ``wanted`` case-insensitively, else ``wanted`` itself."""
        for option in self.options(column):
            if str(option.get("name", "")).casefold() == wanted.casefold():
                return str(option["name"])
        return wanted

    def initial_status(self) -> str | None:
        """The status a new Action starts in: the first option of the To-do group, else the first option."""
        prop = self.schema[self.names["status"]]
        config = prop.get(prop.get("type")) or {}
        options = {o.get("id"): o.get("name") for o in config.get("options") or []}
        for group in config.get("groups") or []:
            if str(group.get("name", "")).casefold() == INITIAL_STATUS_GROUP.casefold():
                for option_id in group.get("option_ids") or []:
                    if options.get(option_id):
                        return str(options[option_id])
        first = next(iter(options.values()), None)
        return str(first) if first else None

    def _choice(self, column: str, value: str) -> dict[str, Any]:
        kind = self.type(column)
        if kind == "rich_text":
            return {"rich_text": rich_text(value, single_line=True)}
        return {kind: {"name": cut(self.option(column, value), 100).replace(",", " ")}}

    def page_properties(self, draft: ActionDraft) -> dict[str, Any]:
        """The `properties` of the page creating ``draft`` (ids validated, text cleaned and cut)."""
        props: dict[str, Any] = {
            self.name("title"): {"title": rich_text(draft.title, single_line=True, max_chars=2000)},
            self.name("source_id"): {self.type("source_id"): rich_text(draft.source_id, single_line=True)},
        }
        if "source" in self.names:
            props[self.name("source")] = self._choice("source", SOURCE_LABELS[draft.source])
        if "project_page_id" in self.names and draft.project_page_id:
            props[self.name("project_page_id")] = {
                "relation": [{"id": normalize_id(draft.project_page_id, "project page")}]
            }
        if "assignee_id" in self.names and draft.assignee_id:
            props[self.name("assignee_id")] = {
                "people": [{"object": "user", "id": normalize_id(draft.assignee_id, "user")}]
            }
        if "due_date" in self.names and draft.due_date:
            props[self.name("due_date")] = {"date": {"start": draft.due_date.isoformat()}}
        if "status" in self.names and (status := self.initial_status()):
            props[self.name("status")] = {self.type("status"): {"name": status}}
        if "priority" in self.names and draft.priority:
            props[self.name("priority")] = self._choice("priority", draft.priority)
        return props


def page_body(draft: ActionDraft) -> list[dict[str, Any]]:
    """The page's blocks: the detail as paragraphs, then the sample links (what a reader acts on)."""
    blocks: list[dict[str, Any]] = []
    for paragraph in (p for p in draft.detail.split("\n\n") if p.strip()):
        blocks.append(_paragraph(paragraph))
    if draft.asset:
        blocks.append(_paragraph(f"Raised by the PPM lakehouse from {draft.asset} ({draft.source_id})."))
    for url in draft.sample_urls[:MAX_SAMPLE_LINKS]:
        text = rich_text(url, single_line=True, max_chars=2000)
        if len(text) == 1 and text[0]["text"]["content"] == url and url.startswith(("https://", "http://")):
            text[0]["text"]["link"] = {"url": text[0]["text"]["content"]}
        blocks.append(
            {"object": "block", "type": "bulleted_list_item", "bulleted_list_item": {"rich_text": text}}
        )
    return blocks[:MAX_BODY_BLOCKS]


def _paragraph(text: str) -> dict[str, Any]:
    return {"object": "block", "type": "paragraph", "paragraph": {"rich_text": rich_text(text)}}
