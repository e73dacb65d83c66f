"""The fast JSON writer (query hot path) must produce exactly what the dict renderer produces."""

from __future__ import annotations

import json

import pytest

from ppm_sandbox import NotionConfig
from ppm_sandbox.notion.render import V2022, V2025, render_page
from ppm_sandbox.notion.render_json import page_writer
from ppm_sandbox.notion.store import NotionStore

DATABASES = ("programs", "projects", "budget_lines", "risks", "actions")


@pytest.fixture(scope="module")
def store() -> NotionStore:
    store = NotionStore(NotionConfig(counts={"budget_lines": 400, "risks": 60, "actions": 60}))
    lines = store.database("budget_lines")
    many = [store.model.page_id(lines.ordinal, i) for i in range(30)]
    project = store.model.page_id(store.database("projects").ordinal, 1)
    store.edit_page(
        project, {"Budget Total": 12.5, "Currency": "SGD", "Start Date": "2026-01-02T08:30:00+02:00"}
    )
    store.update_page(
        store.model.page_id(lines.ordinal, 5),
        {
            "Name": {
                "title": [{"text": {"content": 'Ünïcode "quoted" \\ line\n'}, "annotations": {"bold": True}}]
            },
            "Vendor": {
                "rich_text": [{"mention": {"page": {"id": project}}}, {"equation": {"expression": "E=mc^2"}}]
            },
            "Paid Date": {
                "date": {
                    "start": "2026-03-01T10:00:00",
                    "end": "2026-03-02T10:00:00",
                    "time_zone": "Europe/Berlin",
                }
            },
            "Actual Amount": {"number": None},
        },
    )
    store.edit_page(store.model.page_id(lines.ordinal, 6), {"Project": many})  # stored relation over 25
    store.trash_page(store.model.page_id(lines.ordinal, 7))
    store.create_page("actions", {"Title": "new", "Status": "Done", "Source ID": "dq:1"})
    store.add_property("risks", "Flag", "checkbox")
    store.rename_property("risks", "Severity", "Impact")
    return store


@pytest.mark.parametrize("version", [V2022, V2025])
@pytest.mark.parametrize("database", DATABASES)
def test_json_writer_equals_dict_renderer(store: NotionStore, database: str, version: str) -> None:
    db = store.database(database)
    write = page_writer(store, db, version)
    indices = sorted(
        set(range(0, db.next_index, max(1, db.next_index // 40))) | {5, 6, 7} | {db.next_index - 1}
    )
    checked = 0
    for index in indices:
        if index >= db.next_index:
            continue
        view = (
            store.generated_view(db, index)
            if index < db.count
            else store.view(store.model.page_id(db.ordinal, index))
        )
        assert view is not None
        assert json.loads(write(view)) == render_page(store, view, version)
        checked += 1
    assert checked >= 8


def test_json_writer_with_selected_properties(store: NotionStore) -> None:
    db = store.database("budget_lines")
    only = {db.schema.by_name("Amount").id, "title"}
    view = store.generated_view(db, 3)
    assert json.loads(page_writer(store, db, V2022, only)(view)) == render_page(store, view, V2022, only)
