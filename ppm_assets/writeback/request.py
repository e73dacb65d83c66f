"""The Launchpad form of a write-back run, and its validation into drafts (before any write).

The form has the seed's fields (`POST /api/notion/actions`: project_id, title, assignee, due_date, source,
source_id). Filled in, it raises one Action by hand. Left without a title, the run sends the pending drafts: the
critical DQ issues and High-impact Advisor recommendations with no page yet (`source_ids` narrows them; the
sensors set it to the one item a run is for).
"""

import re
from dataclasses import dataclass
from datetime import date

import dagster as dg
from pydantic import Field

from ppm_resources.lakehouse import Lakehouse
from ppm_resources.notion.ids import InvalidNotionIdError, normalize_id
from ppm_resources.notion.text import clean_text
from ppm_resources.writeback.drafts import (
    ACTION_SOURCES,
    ActionDraft,
    DraftError,
    check_source_id,
    manual_source_id,
)

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class NotionActionConfig(dg.Config):
    """Run configuration of `create_notion_action` (the Launchpad shows these fields)."""

    project_id: str = Field(
        default="",
        description="The project: its Project ID (e.g. PRJ-12) or its Notion page id or URL. It must exist in "
        "silver.projects. Empty: an Action without a project.",
    )
    title: str = Field(
        default="",
        description="The Action's title. Empty: send the pending drafts (critical DQ issues and High-impact Advisor "
        "recommendations that have no Action page yet) instead of one Action.",
    )
    assignee: str = Field(
        default="", description="A Notion user: id, e-mail or exact name. Empty: unassigned."
    )
    due_date: str = Field(default="", description="YYYY-MM-DD. Empty: no due date.")
    source: str = Field(default="manual", description="manual, dq or advisor.")
    source_id: str = Field(
        default="",
        description="The page's Source ID: one page per Source ID, ever. Empty for a manual Action: derived from "
        "the project and the title, so launching the same Action twice makes one page.",
    )
    detail: str = Field(default="", description="Text of the page body.")
    priority: str = Field(default="", description="High, Medium or Low. Empty: none.")
    source_ids: list[str] = Field(
        default_factory=list,
        description="Pending mode only (no title): send only the drafts with these Source IDs.",
    )


class RequestError(ValueError):
    """The form cannot be sent as filled in; the message names the field and what to write."""


@dataclass(frozen=True)
class Project:
    page_id: str
    code: str | None
    name: str | None


def find_project(lakehouse: Lakehouse, projects_table: str, project_id: str) -> Project:
    """The live project named by its code or its Notion page id/URL, from silver; RequestError otherwise."""
    wanted = clean_text(project_id, single_line=True)
    page_id: str | None
    try:
        page_id = normalize_id(wanted, "project page")
    except InvalidNotionIdError:
        page_id = None
    if not lakehouse.exists(projects_table):
        raise RequestError(f"project_id: {projects_table} does not exist yet; sync Notion first (`ppm sync`)")
    rows = lakehouse.query(
        f"SELECT page_id, project_code, name, is_archived FROM {projects_table} "
        "WHERE page_id = :page_id OR upper(project_code) = upper(:code)",
        params={"page_id": page_id or "", "code": wanted},
    ).to_pylist()
    live = [row for row in rows if not row["is_archived"]]
    if not live:
        state = " (archived in Notion)" if rows else ""
        raise RequestError(
            f"project_id: no project {wanted!r} in {projects_table}{state}; give a Project ID such as PRJ-12 "
            "or the project's Notion page id or URL"
        )
    if len(live) > 1:
        raise RequestError(
            f"project_id: {wanted!r} names {len(live)} projects in {projects_table}; use the page id instead"
        )
    row = live[0]
    return Project(row["page_id"], row["project_code"], row["name"])


def parse_due_date(value: str) -> date | None:
    text = value.strip()
    if not text:
        return None
    try:
        if not _ISO_DATE.match(text):
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        raise RequestError(
            f"due_date: {value!r} is not a date; write it as YYYY-MM-DD (e.g. 2026-12-31)"
        ) from None


def form_draft(
    config: NotionActionConfig, lakehouse: Lakehouse, projects_table: str, *, assignee_id: str | None
) -> ActionDraft:
    """The one Action of a filled-in form (the assignee already resolved); RequestError on bad input."""
    source = config.source.strip().lower()
    if source not in ACTION_SOURCES:
        raise RequestError(f"source: {config.source!r} is not one of {', '.join(ACTION_SOURCES)}")
    title = clean_text(config.title, single_line=True)
    due = parse_due_date(config.due_date)
    project = (
        find_project(lakehouse, projects_table, config.project_id) if config.project_id.strip() else None
    )
    source_id = config.source_id.strip()
    if not source_id:
        if source != "manual":
            raise RequestError(f"source_id: required for a {source} Action (e.g. {source}:<item id>)")
        source_id = manual_source_id(project.code or project.page_id if project else "none", title)
    try:
        return ActionDraft(
            source=source,  # type: ignore[arg-type]  # checked against ACTION_SOURCES above
            source_id=check_source_id(source_id, source),
            title=title,
            detail=config.detail,
            asset="the Launchpad" if source == "manual" else "",
            project_page_id=project.page_id if project else None,
            assignee_id=assignee_id,
            due_date=due,
            priority=clean_text(config.priority, single_line=True) or None,
            requested_by="manual",
        )
    except DraftError as exc:
        raise RequestError(str(exc)) from None


def resolve_assignee(value: str, users: list[dict]) -> str | None:
    """The user id for an id, e-mail or exact name among the workspace's people; RequestError otherwise."""
    wanted = value.strip()
    if not wanted:
        return None
    people = [u for u in users if u.get("type") == "person" or (u.get("object") == "user" and "person" in u)]
    try:
        user_id = normalize_id(wanted, "user")
    except InvalidNotionIdError:
        user_id = None
    for user in people:
        if user_id and normalize_id(str(user.get("id")), "user") == user_id:
            return user_id
    by_email = [
        u for u in people if str((u.get("person") or {}).get("email", "")).casefold() == wanted.casefold()
    ]
    by_name = [u for u in people if str(u.get("name") or "").casefold() == wanted.casefold()]
    for matches in (by_email, by_name):
        if len(matches) == 1:
            return normalize_id(str(matches[0]["id"]), "user")
        if len(matches) > 1:
            raise RequestError(f"assignee: {wanted!r} names {len(matches)} users; give the user id or e-mail")
    known = ", ".join(sorted(str(u.get("name")) for u in people)[:10])
    raise RequestError(
        f"assignee: {wanted!r} is not a person of the Notion workspace; give a user id, e-mail or exact name "
        f"(e.g. {known})"
    )
