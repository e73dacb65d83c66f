"""Wire-level basics of the Notion emulator: headers, auth, errors, validation."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest

from ppm_sandbox import DEFAULT_TOKEN, SandboxServer

REQUEST_ID = re.compile(r"^[0-9a-f-]{36}$")


def assert_error(
    response: httpx.Response, status: int, code: str, message: str | None = None
) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"object", "status", "code", "message", "request_id"}
    assert body["object"] == "error"
    assert body["status"] == status
    assert body["code"] == code
    assert REQUEST_ID.match(body["request_id"])
    if message is not None:
        assert message in body["message"]
    return body


def test_healthz(sandbox: SandboxServer) -> None:
    response = httpx.get(f"{sandbox.url}/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "services": ["notion", "azure", "databricks"]}


def test_urls(sandbox: SandboxServer) -> None:
    assert re.match(r"^http://127\.0\.0\.1:\d+$", sandbox.url)
    assert sandbox.notion_url == sandbox.url + "/notion"


def test_missing_version_header(sandbox: SandboxServer, db_id: Any) -> None:
    response = httpx.get(
        f"{sandbox.notion_url}/v1/databases/{db_id('projects')}",
        headers={"Authorization": f"Bearer {DEFAULT_TOKEN}"},
    )
    assert_error(response, 400, "missing_version")


def test_unsupported_version(api: httpx.Client, db_id: Any) -> None:
    response = api.get(f"/v1/databases/{db_id('projects')}", headers={"Notion-Version": "2021-05-13"})
    assert_error(response, 400, "validation_error", "2021-05-13")


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer", "Bearer not-a-notion-token", "Basic c2VjcmV0X3g6", f"Token {DEFAULT_TOKEN}"],
)
def test_bad_token_is_401(sandbox: SandboxServer, db_id: Any, authorization: str | None) -> None:
    headers = {"Notion-Version": "2022-06-28"}
    if authorization:
        headers["Authorization"] = authorization
    response = httpx.get(f"{sandbox.notion_url}/v1/databases/{db_id('projects')}", headers=headers)
    assert_error(response, 401, "unauthorized", "API token is invalid.")


def test_any_notion_shaped_token_is_accepted(sandbox: SandboxServer, db_id: Any) -> None:
    for token in ("secret_abc123456789", "ntn_1234567890abcdef"):
        headers = {"Authorization": f"Bearer {token}", "Notion-Version": "2022-06-28"}
        assert (
            httpx.get(f"{sandbox.notion_url}/v1/databases/{db_id('projects')}", headers=headers).status_code
            == 200
        )


def test_unknown_ids_are_404(api: httpx.Client, api25: httpx.Client) -> None:
    missing = str(uuid.uuid4())
    assert_error(api.get(f"/v1/databases/{missing}"), 404, "object_not_found", "shared with your integration")
    assert_error(api.post(f"/v1/databases/{missing}/query", json={}), 404, "object_not_found")
    assert_error(
        api.get(f"/v1/pages/{missing}"), 404, "object_not_found", f"Could not find page with ID: {missing}"
    )
    assert_error(api25.get(f"/v1/data_sources/{missing}"), 404, "object_not_found")


def test_ids_without_dashes_are_accepted(api: httpx.Client, db_id: Any) -> None:
    response = api.get(f"/v1/databases/{db_id('projects').replace('-', '')}")
    assert response.status_code == 200
    assert response.json()["id"] == db_id("projects")


def test_malformed_path_id_is_validation_error(api: httpx.Client) -> None:
    assert_error(
        api.get("/v1/databases/not-a-uuid"),
        400,
        "validation_error",
        "path.database_id should be a valid uuid",
    )
    assert_error(api.get("/v1/pages/123"), 400, "validation_error", "path.page_id")


def test_unknown_url_is_invalid_request_url(api: httpx.Client) -> None:
    assert_error(api.get("/v1/blocks/xyz/children/extra"), 400, "invalid_request_url")
    assert_error(api.delete("/v1/pages/" + str(uuid.uuid4())), 400, "invalid_request_url")


def test_invalid_json_body(api: httpx.Client, db_id: Any) -> None:
    response = api.post(
        f"/v1/databases/{db_id('projects')}/query",
        content=b"{not json",
        headers={"content-type": "application/json"},
    )
    assert_error(response, 400, "invalid_json", "Error parsing JSON body.")
    assert_error(api.post(f"/v1/databases/{db_id('projects')}/query", json=[1, 2]), 400, "validation_error")


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"page_size": 101}, "page_size should be ≤ `100`"),
        ({"page_size": 0}, "page_size should be ≥ `1`"),
        ({"page_size": "10"}, "page_size should be a number"),
        (
            {"filter": {"property": "Nope", "number": {"equals": 1}}},
            "Could not find property with name or id: Nope",
        ),
        ({"filter": {"foo": "bar"}}, "body.filter.or should be defined"),
        ({"filter": "Status = Active"}, "body.filter should be an object"),
        ({"filter": {"property": "Budget Total", "rich_text": {"equals": "x"}}}, "does not match the type"),
        ({"filter": {"property": "Budget Total", "number": {"equals": "12"}}}, "should be a number"),
        ({"filter": {"property": "Budget Total", "number": {"bigger": 1}}}, "not a supported condition"),
        (
            {"filter": {"property": "Budget Total", "number": {"equals": 1, "less_than": 3}}},
            "exactly one condition",
        ),
        ({"filter": {"and": {"property": "Name"}}}, "body.filter.and should be an array"),
        ({"filter": {"timestamp": "edited", "edited": {}}}, "body.filter.timestamp should be"),
        (
            {"filter": {"timestamp": "last_edited_time", "last_edited_time": {"after": "yesterday"}}},
            "valid ISO 8601 date string",
        ),
        (
            {
                "filter": {
                    "and": [{"or": [{"and": [{"or": [{"property": "Name", "title": {"is_empty": True}}]}]}]}]
                }
            },
            "more than 2 levels",
        ),
        ({"sorts": [{"property": "Nope", "direction": "ascending"}]}, "Could not find sort property"),
        ({"sorts": [{"property": "Name", "direction": "up"}]}, "direction should be"),
        ({"sorts": {"property": "Name"}}, "body.sorts should be an array"),
        ({"start_cursor": 12}, "start_cursor should be a string"),
    ],
)
def test_query_validation_errors(api: httpx.Client, db_id: Any, body: dict[str, Any], fragment: str) -> None:
    assert_error(
        api.post(f"/v1/databases/{db_id('projects')}/query", json=body), 400, "validation_error", fragment
    )


def test_versions_gate_their_endpoints(
    api: httpx.Client, api25: httpx.Client, sandbox: SandboxServer
) -> None:
    db = sandbox.notion.database("projects")
    assert_error(
        api25.post(f"/v1/databases/{db.id}/query", json={}), 400, "invalid_request_url", "data_sources"
    )
    assert_error(api.get(f"/v1/data_sources/{db.data_source_id}"), 400, "invalid_request_url")
    assert_error(api.post(f"/v1/data_sources/{db.data_source_id}/query", json={}), 400, "invalid_request_url")


def test_database_object_2022(api: httpx.Client, sandbox: SandboxServer) -> None:
    db = sandbox.notion.database("projects")
    body = api.get(f"/v1/databases/{db.id}").json()
    assert body["object"] == "database"
    assert body["id"] == db.id
    assert body["title"][0]["plain_text"] == "Projects"
    assert body["in_trash"] is False and body["archived"] is False
    props = body["properties"]
    assert props["Name"] == {"id": "title", "name": "Name", "type": "title", "description": None, "title": {}}
    assert props["Currency"]["select"]["options"][0].keys() == {"id", "name", "color", "description"}
    assert [o["name"] for o in props["Status"]["select"]["options"]] == [
        "Planning",
        "In Progress",
        "Completed",
        "On Hold",
    ]
    assert props["Project ID"]["unique_id"] == {"prefix": "PRJ"}
    program = props["Program"]["relation"]
    assert program["database_id"] == sandbox.notion.database("programs").id
    assert program["type"] == "dual_property"
    assert program["dual_property"]["synced_property_name"] == "Projects"
    rollup = props["Total Budget Lines"]["rollup"]
    assert rollup["function"] == "sum"
    assert rollup["relation_property_name"] == "Budget Lines"
    assert rollup["rollup_property_name"] == "Amount"
    assert props["Over Budget"]["formula"]["expression"].startswith('prop("Spent")')
    assert "data_sources" not in body


def test_database_and_data_source_2025(api25: httpx.Client, sandbox: SandboxServer) -> None:
    db = sandbox.notion.database("actions")
    body = api25.get(f"/v1/databases/{db.id}").json()
    assert body["data_sources"] == [{"id": db.data_source_id, "name": "Actions"}]
    assert "properties" not in body
    source = api25.get(f"/v1/data_sources/{db.data_source_id}").json()
    assert source["object"] == "data_source"
    assert source["parent"] == {"type": "database_id", "database_id": db.id}
    status = source["properties"]["Status"]
    assert status["type"] == "status"
    assert [g["name"] for g in status["status"]["groups"]] == ["To-do", "In progress", "Complete"]
    relation = source["properties"]["Project"]["relation"]
    assert relation["data_source_id"] == sandbox.notion.database("projects").data_source_id
    assert relation["type"] == "single_property"


def test_users_endpoints(api: httpx.Client) -> None:
    me = api.get("/v1/users/me").json()
    assert me["type"] == "bot" and me["object"] == "user"
    users = api.get("/v1/users").json()["results"]
    people = [u for u in users if u["type"] == "person"]
    assert len(people) == 12
    assert api.get(f"/v1/users/{people[0]['id']}").json()["name"] == people[0]["name"]
