"""Pages outside every database: a workspace-level handbook and pages nested under it.

Database queries never return them (they belong to no database), but `GET /v1/pages/{id}` does,
with the parents Notion gives such pages: `{"type": "workspace", "workspace": true}` for a top-level
page and `{"type": "page_id", "page_id": ...}` for a sub-page. Their only property is `title`. The
sandbox serves them read-only (PATCH answers 404, like an unshared page would).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ppm_sandbox.notion.ids import Kind

if TYPE_CHECKING:
    from ppm_sandbox.notion.generator import WorkspaceModel


@dataclass(frozen=True)
class LoosePage:
    id: str
    title: list[dict[str, Any]]  # stored rich text (request form, user mentions with their "@Name")
    plain_title: str
    parent: dict[str, Any]
    created_minute: int
    edited_minute: int
    created_by: str
    edited_by: str
    icon: dict[str, Any] | None
    cover: dict[str, Any] | None


def _text(content: str) -> dict[str, Any]:
    return {"type": "text", "text": {"content": content, "link": None}}


def build_loose_pages(model: WorkspaceModel) -> dict[str, LoosePage]:
    """The loose pages of the workspace, by id (fixed for a seed)."""
    ids = [model.codec.encode(Kind.LOOSE_PAGE, 0, i) for i in range(4)]
    owner = model.people[0]
    base = model.anchor_minute - 400 * 1440
    workspace = {"type": "workspace", "workspace": True}
    under_handbook = {"type": "page_id", "page_id": ids[0]}
    specs: list[tuple[list[dict[str, Any]], dict[str, Any], str, dict[str, Any] | None]] = [
        ([_text("PPM Handbook")], workspace, owner.id, {"type": "emoji", "emoji": "📘"}),
        (
            [
                _text("Steering committee notes with "),
                {
                    "type": "mention",
                    "mention": {"type": "user", "user": {"id": owner.id}},
                    "plain_text": f"@{owner.name}",
                },
            ],
            under_handbook,
            owner.id,
            None,
        ),
        (
            [_text("Budget import log")],
            under_handbook,
            model.bot.id,
            {"type": "external", "external": {"url": "https://ppm-sandbox.example/icons/import.svg"}},
        ),
        ([_text("Scratchpad")], workspace, model.people[1].id, None),
    ]
    pages: dict[str, LoosePage] = {}
    for i, (title, parent, author, icon) in enumerate(specs):
        plain = "".join(item.get("plain_text") or item.get("text", {}).get("content", "") for item in title)
        pages[ids[i]] = LoosePage(
            id=ids[i],
            title=title,
            plain_title=plain,
            parent=parent,
            created_minute=base + i * 1440 + 37 * i,
            edited_minute=base + (i + 30) * 1440 + 11 * i,
            created_by=author,
            edited_by=author if i != 1 else model.bot.id,
            icon=icon,
            cover=(
                {"type": "external", "external": {"url": "https://ppm-sandbox.example/covers/handbook.jpg"}}
                if i == 0
                else None
            ),
        )
    return pages
