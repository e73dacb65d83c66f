"""Mutations through the Notion API, the Python store API and the control endpoints."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from ppm_sandbox import SandboxServer

NOON = datetime(2026, 11, 21, 10, 42, 37, tzinfo=UTC)


def page_id(sandbox: SandboxServer, database: str, index: int) -> str:
    store = sandbox.notion
    return store.model.page_id(store.database(database).ordinal, index)


def edited_since(api: httpx.Client, database_id: str, since: str) -> list[dict[str, Any]]:
    body = {
        "filter": {"timestamp": "last_edited_time", "last_edited_time": {"on_or_after": since}},
        "sorts": [{"timestamp": "last_edited_time", "direction": "ascending"}],
    }
    response = api.post(f"/v1/databases/{database_id}/query", json=body)
    assert response.status_code == 200, response.text
    return response.json()["results"]


def test_edit_bumps_last_edited_time_rounded_to_the_minute(
    clean_sandbox: SandboxServer, api: httpx.Client
) -> None:
    clean_sandbox.clock.freeze(NOON)
    target = page_id(clean_sandbox, "budget_lines", 10)
    before = api.get(f"/v1/pages/{target}").json()
    clean_sandbox.notion.edit_page(target, {"Amount": 1234.5, "Vendor": "Acme"})
    after = api.get(f"/v1/pages/{target}").json()
    assert after["last_edited_time"] == "2026-11-21T10:42:00.000Z"
    assert after["created_time"] == before["created_time"]
    assert after["properties"]["Amount"]["number"] == 1234.5
    assert after["properties"]["Vendor"]["rich_text"][0]["plain_text"] == "Acme"
    assert after["properties"]["Category"] == before["properties"]["Category"]  # untouched values stay
    changed = edited_since(api, clean_sandbox.notion.database("budget_lines").id, "2026-11-21T10:42:00Z")
    assert [p["id"] for p in changed] == [target]


def test_several_edits_in_one_minute_then_later(clean_sandbox: SandboxServer, api: httpx.Client) -> None:
    clock, store = clean_sandbox.clock, clean_sandbox.notion
    clock.freeze(NOON)
    first, second = page_id(clean_sandbox, "actions", 1), page_id(clean_sandbox, "actions", 2)
    store.edit_page(first, {"Status": "Done"})
    clock.advance(20)  # 10:42:57: still the same minute
    store.edit_page(second, {"Status": "Done"})
    db = store.database("actions").id
    same_minute = edited_since(api, db, "2026-11-21T10:42:00Z")
    assert {p["last_edited_time"] for p in same_minute} == {"2026-11-21T10:42:00.000Z"}
    assert {p["id"] for p in same_minute} == {first, second}
    clock.advance(120)
    store.edit_page(first, {"Priority": "High"})
    later = edited_since(api, db, "2026-11-21T10:43:00Z")
    assert [(p["id"], p["last_edited_time"]) for p in later] == [(first, "2026-11-21T10:44:00.000Z")]
    assert later[0]["properties"]["Status"]["status"]["name"] == "Done"


def test_patch_page_through_the_api(clean_sandbox: SandboxServer, api: httpx.Client) -> None:
    clean_sandbox.clock.freeze(NOON)
    target = page_id(clean_sandbox, "projects", 5)
    body = {
        "properties": {
            "Budget Total": {"number": 99000},
            "Status": {"select": {"name": "Completed"}},
            "Name": {"title": [{"text": {"content": "Renamed project"}}]},
            "Start Date": {"date": {"start": "2026-01-15T09:00:00", "time_zone": "Asia/Manila"}},
        }
    }
    response = api.patch(f"/v1/pages/{target}", json=body)
    assert response.status_code == 200, response.text
    props = response.json()["properties"]
    assert props["Budget Total"]["number"] == 99000
    assert props["Status"]["select"]["name"] == "Completed"
    assert props["Name"]["title"][0]["plain_text"] == "Renamed project"
    assert props["Start Date"]["date"] == {  # Notion folds the written time zone into the offset
        "start": "2026-01-15T09:00:00.000+08:00",
        "end": None,
        "time_zone": None,
    }
    assert response.json()["last_edited_by"]["id"] == clean_sandbox.notion.model.bot.id
    by_name = api.post(
        f"/v1/databases/{clean_sandbox.notion.database('projects').id}/query",
        json={"filter": {"property": "Name", "title": {"equals": "Renamed project"}}},
    ).json()["results"]
    assert [p["id"] for p in by_name] == [target]


@pytest.mark.parametrize(
    ("properties", "fragment"),
    [
        ({"Nope": {"number": 1}}, "Nope is not a property that exists."),
        ({"Budget Total": {"rich_text": []}}, "Budget Total is expected to be number."),
        ({"Budget Total": {"number": "12"}}, "should be a number"),
        ({"Spent": {"rollup": {}}}, "cannot be updated"),
        ({"Project ID": {"unique_id": {"number": 3}}}, "cannot be updated"),
        ({"Name": {"title": [{"text": {"content": "x" * 2001}}]}}, "length should be ≤ `2000`"),
        ({"Program": {"relation": [{"id": "nope"}]}}, "should be a valid uuid"),
        ({"Start Date": {"date": {"start": "tomorrow"}}}, "valid ISO 8601"),
    ],
)
def test_patch_validation(
    sandbox: SandboxServer, api: httpx.Client, properties: dict[str, Any], fragment: str
) -> None:
    response = api.patch(f"/v1/pages/{page_id(sandbox, 'projects', 4)}", json={"properties": properties})
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "validation_error"
    assert fragment in response.json()["message"]


def test_trash_untrash_and_legacy_archived(clean_sandbox: SandboxServer, api: httpx.Client) -> None:
    clean_sandbox.clock.freeze(NOON)
    store = clean_sandbox.notion
    target = page_id(clean_sandbox, "risks", 7)
    db = store.database("risks").id
    trashed = api.patch(f"/v1/pages/{target}", json={"in_trash": True}).json()
    assert trashed["in_trash"] is True and trashed["archived"] is True
    assert trashed["last_edited_time"] == "2026-11-21T10:42:00.000Z"
    assert target not in {p["id"] for p in edited_since(api, db, "2020-01-01")}
    assert api.get(f"/v1/pages/{target}").json()["in_trash"] is True  # still retrievable
    blocked = api.patch(
        f"/v1/pages/{target}", json={"properties": {"Status": {"select": {"name": "Closed"}}}}
    )
    assert blocked.status_code == 400 and "archived" in blocked.json()["message"]
    restored = api.patch(f"/v1/pages/{target}", json={"archived": False}).json()
    assert restored["in_trash"] is False
    assert target in {p["id"] for p in edited_since(api, db, "2026-11-21")}
    store.trash_page(target)
    assert store.count_live("risks") == 199
    store.untrash_page(target)
    assert store.count_live("risks") == 200


def test_delete_makes_a_page_404(clean_sandbox: SandboxServer, api: httpx.Client, query_all: Any) -> None:
    target = page_id(clean_sandbox, "risks", 3)
    clean_sandbox.notion.delete_page(target)
    response = api.get(f"/v1/pages/{target}")
    assert response.status_code == 404 and response.json()["code"] == "object_not_found"
    assert api.patch(f"/v1/pages/{target}", json={"in_trash": False}).status_code == 404
    assert target not in {p["id"] for p in query_all(clean_sandbox.notion.database("risks").id)}
    assert target not in {p["id"] for p in clean_sandbox.notion.truth("risks")}


def test_unshare_page_and_database(
    clean_sandbox: SandboxServer, api: httpx.Client, api25: httpx.Client
) -> None:
    store = clean_sandbox.notion
    target = page_id(clean_sandbox, "actions", 9)
    store.unshare(target)
    assert api.get(f"/v1/pages/{target}").status_code == 404
    store.share(target)
    assert api.get(f"/v1/pages/{target}").status_code == 200
    db = store.database("actions")
    store.unshare(db.id)
    for response in (
        api.get(f"/v1/databases/{db.id}"),
        api.post(f"/v1/databases/{db.id}/query", json={}),
        api.get(f"/v1/pages/{target}"),
        api25.post(f"/v1/data_sources/{db.data_source_id}/query", json={}),
    ):
        assert response.status_code == 404
        assert response.json()["code"] == "object_not_found"
    assert "Actions" not in [
        r["title"][0]["plain_text"]
        for r in api.post("/v1/search", json={"filter": {"property": "object", "value": "database"}}).json()[
            "results"
        ]
    ]
    store.share(db.id)
    assert api.get(f"/v1/databases/{db.id}").status_code == 200


def test_schema_drift_rename_drop_add(clean_sandbox: SandboxServer, api: httpx.Client) -> None:
    store = clean_sandbox.notion
    db = store.database("budget_lines")
    vendor_id = db.schema.by_name("Vendor").id
    store.rename_property("Budget Lines", "Vendor", "Supplier")
    schema = api.get(f"/v1/databases/{db.id}").json()["properties"]
    assert "Vendor" not in schema and schema["Supplier"]["id"] == vendor_id
    first = api.post(f"/v1/databases/{db.id}/query", json={"page_size": 1}).json()["results"][0]
    assert first["properties"]["Supplier"]["rich_text"][0]["plain_text"]
    old = api.post(
        f"/v1/databases/{db.id}/query",
        json={"filter": {"property": "Vendor", "rich_text": {"equals": "SAP"}}},
    )
    assert old.status_code == 400
    by_id = api.post(
        f"/v1/databases/{db.id}/query",
        json={"filter": {"property": vendor_id, "rich_text": {"equals": "SAP"}}},
    )
    assert by_id.status_code == 200 and by_id.json()["results"]

    store.drop_property("budget_lines", "Invoice Date")
    page = api.post(f"/v1/databases/{db.id}/query", json={"page_size": 1}).json()["results"][0]
    assert "Invoice Date" not in page["properties"]

    added = store.add_property("budget_lines", "Region", "select", options=["EU", "APAC"])
    page = api.post(f"/v1/databases/{db.id}/query", json={"page_size": 1}).json()["results"][0]
    assert page["properties"]["Region"] == {"id": added.id, "type": "select", "select": None}
    store.edit_page(page["id"], {"Region": "EU"})
    assert api.get(f"/v1/pages/{page['id']}").json()["properties"]["Region"]["select"]["name"] == "EU"
    assert api.get(f"/v1/databases/{db.id}").json()["last_edited_time"] >= page["last_edited_time"][:10]


def test_create_page_via_api_and_lookup_by_source_id(
    clean_sandbox: SandboxServer, api: httpx.Client, api25: httpx.Client
) -> None:
    clean_sandbox.clock.freeze(NOON)
    store = clean_sandbox.notion
    actions = store.database("actions")
    project = page_id(clean_sandbox, "projects", 2)
    body = {
        "parent": {"database_id": actions.id},
        "properties": {
            "Title": {"title": [{"text": {"content": "Right-size VM ppm-web-01"}}]},
            "Project": {"relation": [{"id": project}]},
            "Source": {"select": {"name": "Advisor"}},
            "Source ID": {"rich_text": [{"text": {"content": "advisor:abc123"}}]},
            "Status": {"status": {"name": "Not started"}},
            "Due Date": {"date": {"start": "2026-12-01"}},
        },
    }
    created = api.post("/v1/pages", json=body)
    assert created.status_code == 200, created.text
    page = created.json()
    assert page["created_time"] == page["last_edited_time"] == "2026-11-21T10:42:00.000Z"
    assert page["created_by"]["id"] == store.model.bot.id
    assert page["properties"]["Action ID"]["unique_id"] == {"prefix": "ACT", "number": 301}
    assert page["properties"]["Project"]["relation"] == [{"id": project}]
    lookup = api.post(
        f"/v1/databases/{actions.id}/query",
        json={"filter": {"property": "Source ID", "rich_text": {"equals": "advisor:abc123"}}},
    ).json()["results"]
    assert [p["id"] for p in lookup] == [page["id"]]
    assert api.get(f"/v1/pages/{page['id']}").json()["id"] == page["id"]
    # 2025-09-03 creates under the data source
    body["parent"] = {"type": "data_source_id", "data_source_id": actions.data_source_id}
    body["properties"]["Source ID"] = {"rich_text": [{"text": {"content": "advisor:def456"}}]}
    second = api25.post("/v1/pages", json=body).json()
    assert second["parent"]["data_source_id"] == actions.data_source_id
    assert store.count_live("actions") == 302
    bad_status = dict(body, properties={"Status": {"status": {"name": "Blocked"}}})
    assert api25.post("/v1/pages", json=bad_status).status_code == 400


def test_back_relation_follows_edits(clean_sandbox: SandboxServer, api: httpx.Client) -> None:
    store = clean_sandbox.notion
    project = page_id(clean_sandbox, "projects", 0)
    other = page_id(clean_sandbox, "projects", 1)
    line = store.truth("budget_lines")
    mine = next(p for p in line if project in p["properties"]["Project"])
    store.edit_page(mine["id"], {"Project": [other]})
    truth = {p["id"]: p for p in store.truth("projects")}
    assert mine["id"] not in truth[project]["properties"]["Budget Lines"]
    assert mine["id"] in truth[other]["properties"]["Budget Lines"]
    assert len(truth[project]["properties"]["Budget Lines"]) == 59


def test_control_endpoints(clean_sandbox: SandboxServer, api: httpx.Client) -> None:
    base = f"{clean_sandbox.url}/_sandbox/notion"
    databases = httpx.get(f"{base}/databases").json()["databases"]
    assert [d["title"] for d in databases] == ["Programs", "Projects", "Budget Lines", "Risks", "Actions"]
    target = page_id(clean_sandbox, "budget_lines", 20)
    edited = httpx.patch(f"{base}/pages/{target}", json={"properties": {"Amount": 42}})
    assert edited.status_code == 200 and edited.json()["properties"]["Amount"]["number"] == 42
    assert httpx.post(f"{base}/pages/{target}/trash").status_code == 200
    assert api.get(f"/v1/pages/{target}").json()["in_trash"] is True
    assert httpx.post(f"{base}/pages/{target}/untrash").status_code == 200
    assert httpx.post(f"{base}/pages/{target}/unshare").status_code == 200
    assert api.get(f"/v1/pages/{target}").status_code == 404
    assert httpx.post(f"{base}/pages/{target}/share").status_code == 200
    assert httpx.delete(f"{base}/pages/{target}").status_code == 200
    assert api.get(f"/v1/pages/{target}").status_code == 404
    created = httpx.post(
        f"{base}/databases/Actions/pages",
        json={"properties": {"Title": "From control", "Source ID": "dq:x:1"}},
    )
    assert (
        created.status_code == 200
        and created.json()["properties"]["Title"]["title"][0]["plain_text"] == "From control"
    )
    assert (
        httpx.post(
            f"{base}/databases/actions/properties",
            json={"name": "Region", "type": "select", "options": ["EU"]},
        ).status_code
        == 200
    )
    assert (
        httpx.patch(f"{base}/databases/actions/properties/Region", json={"name": "Zone"}).json()["name"]
        == "Zone"
    )
    assert httpx.delete(f"{base}/databases/actions/properties/Zone").json()["dropped"] is True
    assert httpx.post(f"{base}/databases/actions/unshare").status_code == 200
    assert api.get(f"/v1/databases/{clean_sandbox.notion.database('actions').id}").status_code == 404
    assert httpx.post(f"{base}/databases/actions/share").status_code == 200
    truth = httpx.get(f"{base}/databases/Budget Lines/truth", params={"limit": 5}).json()
    assert truth["total"] == 1499 and len(truth["pages"]) == 5
    assert httpx.patch(f"{base}/pages/{target}", json={"properties": {"Amount": 1}}).status_code == 404
    assert httpx.post(f"{base}/databases/nope/pages", json={}).status_code == 404
    assert httpx.post(f"{base}/reset").status_code == 200
    assert api.get(f"/v1/pages/{target}").status_code == 200


def test_truth_matches_the_api(sandbox: SandboxServer, api: httpx.Client) -> None:
    truth = sandbox.notion.truth("risks")
    assert len(truth) == 200
    first = truth[0]
    page = api.get(f"/v1/pages/{first['id']}").json()
    assert page["last_edited_time"] == first["last_edited_time"]
    assert (
        page["properties"]["Title"]["title"][0]["plain_text"] == first["properties"]["Title"]
        or first["properties"]["Title"] == ""
    )
    assert page["properties"]["Severity"]["select"]["name"] == first["properties"]["Severity"]
    assert [r["id"] for r in page["properties"]["Project"]["relation"]] == first["properties"]["Project"]
