"""Every property type's value shape, minute-rounded timestamps, relation truncation, property items."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from ppm_sandbox import SandboxServer

from .conftest import ANNOTATIONS

MINUTE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:00\.000Z$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def page(sandbox: SandboxServer, api: httpx.Client, database: str, index: int) -> dict[str, Any]:
    store = sandbox.notion
    page_id = store.model.page_id(store.database(database).ordinal, index)
    response = api.get(f"/v1/pages/{page_id}")
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def program(sandbox: SandboxServer, api: httpx.Client) -> dict[str, Any]:
    return page(sandbox, api, "programs", 0)


@pytest.fixture
def project(sandbox: SandboxServer, api: httpx.Client) -> dict[str, Any]:
    return page(sandbox, api, "projects", 0)


def test_page_object_shape(sandbox: SandboxServer, program: dict[str, Any]) -> None:
    db = sandbox.notion.database("programs")
    assert list(program)[:4] == ["object", "id", "created_time", "last_edited_time"]
    assert program["object"] == "page"
    assert UUID.match(program["id"])
    assert MINUTE.match(program["created_time"]) and MINUTE.match(program["last_edited_time"])
    assert program["created_time"] <= program["last_edited_time"]
    assert program["created_by"].keys() == {"object", "id"} and program["created_by"]["object"] == "user"
    assert program["last_edited_by"]["object"] == "user"
    assert program["parent"] == {"type": "database_id", "database_id": db.id}
    assert program["in_trash"] is False and program["archived"] is False
    assert program["url"] == f"https://www.notion.so/Digital-Core-{program['id'].replace('-', '')}"
    assert program["public_url"] is None
    assert program["icon"] == {"type": "emoji", "emoji": program["icon"]["emoji"]}  # Programs all have icons
    assert program["cover"] is None or program["cover"]["type"] == "external"
    assert "is_locked" not in program  # a 2025-09-03 field
    assert "request_id" in program


def test_every_property_type_appears(sandbox: SandboxServer, api: httpx.Client) -> None:
    types: set[str] = set()
    for database in ("programs", "projects", "budget_lines", "risks", "actions"):
        body = api.post(
            f"/v1/databases/{sandbox.notion.database(database).id}/query", json={"page_size": 1}
        ).json()
        types |= {p["type"] for p in body["results"][0]["properties"].values()}
    assert types == {
        "title", "rich_text", "number", "select", "multi_select", "status", "date", "people", "relation", "rollup",
        "formula", "checkbox", "url", "email", "phone_number", "files", "unique_id", "created_time", "created_by",
        "last_edited_time", "last_edited_by", "verification", "place", "button",
    }  # fmt: skip


def test_title_rich_text_and_mentions(sandbox: SandboxServer, program: dict[str, Any]) -> None:
    title = program["properties"]["Name"]
    assert title == {
        "id": "title",
        "type": "title",
        "title": [
            {
                "type": "text",
                "text": {"content": "Digital Core", "link": None},
                "annotations": ANNOTATIONS,
                "plain_text": "Digital Core",
                "href": None,
            }
        ],
    }
    items = program["properties"]["Description"]["rich_text"]
    kinds = [(i["type"], i.get("mention", {}).get("type")) for i in items]
    assert ("mention", "user") in kinds and ("mention", "date") in kinds and ("mention", "page") in kinds
    user = next(i for i in items if i.get("mention", {}).get("type") == "user")
    assert user["mention"]["user"]["object"] == "user" and user["plain_text"].startswith("@")
    when = next(i for i in items if i.get("mention", {}).get("type") == "date")
    assert when["mention"]["date"] == {"start": when["plain_text"], "end": None, "time_zone": None}
    mention = next(i for i in items if i.get("mention", {}).get("type") == "page")
    flagship = sandbox.notion.view(mention["mention"]["page"]["id"])
    assert flagship is not None and mention["plain_text"] == flagship.title
    assert mention["href"] == f"https://www.notion.so/{flagship.id.replace('-', '')}"
    linked = items[-1]
    assert linked["text"]["link"] == {"url": linked["href"]} and linked["href"].startswith("https://")


def test_scalar_shapes(program: dict[str, Any]) -> None:
    props = program["properties"]
    assert props["Program ID"]["unique_id"] == {"prefix": "PRG", "number": 1}
    assert props["Status"]["select"].keys() == {"id", "name", "color"}
    assert props["Status"]["select"]["name"] in {"Active", "On Hold", "Completed"}
    assert all(o.keys() == {"id", "name", "color"} for o in props["Tags"]["multi_select"])
    assert isinstance(props["Approved"]["checkbox"], bool)
    # nullable on some programs (see test_sandbox_shapes): here program 0 has no website and no sponsor
    assert props["Website"] == {"id": props["Website"]["id"], "type": "url", "url": None}
    assert props["Sponsor Email"]["email"] is None
    assert props["Hotline"]["phone_number"].startswith("+63")
    assert re.match(r"^\d{4}-\d{2}-\d{2}$", props["Start Date"]["date"]["start"])
    assert props["Start Date"]["date"]["end"] is None and props["Start Date"]["date"]["time_zone"] is None
    owner = props["Owner"]["people"][0]
    assert owner.keys() == {"object", "id", "name", "avatar_url", "type", "person"}
    assert owner["person"]["email"].endswith("@ppm-sandbox.example")


def test_date_range_with_time_zone(sandbox: SandboxServer, api: httpx.Client) -> None:
    """Entered in Berlin / Manila / UTC: Notion answers with the offset, minute precision, time_zone null."""
    minute = r"^\d{4}-\d{2}-\d{2}T\d{2}:(00|15|30|45):00\.000"
    berlin = page(sandbox, api, "programs", 0)["properties"]["Steering Review"]["date"]
    assert berlin["time_zone"] is None
    assert re.match(minute + r"\+0[12]:00$", berlin["start"])
    assert berlin["end"] > berlin["start"]
    manila = page(sandbox, api, "programs", 1)["properties"]["Steering Review"]["date"]
    assert manila["time_zone"] is None and re.match(minute + r"\+08:00$", manila["end"])
    utc = page(sandbox, api, "programs", 2)["properties"]["Steering Review"]["date"]
    assert utc["time_zone"] is None and re.match(minute + r"\+00:00$", utc["start"])


def test_files_and_verification(sandbox: SandboxServer, api: httpx.Client, program: dict[str, Any]) -> None:
    assert program["properties"]["Charter"]["files"] == []  # program 0 has no charter attached
    files = page(sandbox, api, "programs", 1)["properties"]["Charter"]["files"]
    assert files[0] == {
        "name": "charter.pdf",
        "type": "external",
        "external": {"url": files[0]["external"]["url"]},
    }
    hosted = files[1]
    assert hosted["type"] == "file" and hosted["file"].keys() == {"url", "expiry_time"}
    assert re.match(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.000Z$", hosted["file"]["expiry_time"])
    verification = program["properties"]["Verification"]["verification"]
    assert verification.keys() == {"state", "verified_by", "date"}
    if verification["state"] == "verified":
        assert verification["verified_by"]["object"] == "user" and verification["date"]["start"]
    else:
        assert verification["verified_by"] is None and verification["date"] is None


def test_created_and_edited_properties(program: dict[str, Any]) -> None:
    props = program["properties"]
    assert props["Created"]["created_time"] == program["created_time"]
    assert props["Last Edited"]["last_edited_time"] == program["last_edited_time"]
    assert props["Created By"]["created_by"]["id"] == program["created_by"]["id"]
    assert props["Created By"]["created_by"]["type"] == "person"
    assert props["Last Edited By"]["last_edited_by"]["id"] == program["last_edited_by"]["id"]


def test_rollups_and_formulas(sandbox: SandboxServer, project: dict[str, Any]) -> None:
    props = project["properties"]
    truth = next(
        p for p in sandbox.notion.truth("budget_lines") if project["id"] in p["properties"]["Project"]
    )
    assert truth  # the flagship has budget lines
    lines = [p for p in sandbox.notion.truth("budget_lines") if project["id"] in p["properties"]["Project"]]
    total = round(sum(p["properties"]["Amount"] for p in lines), 2)
    assert props["Total Budget Lines"]["rollup"] == {
        "type": "number",
        "number": pytest.approx(total),
        "function": "sum",
    }
    spent = round(sum(p["properties"]["Actual Amount"] or 0 for p in lines), 2)
    assert props["Spent"]["rollup"]["number"] == pytest.approx(spent)
    last_paid = max(p["properties"]["Paid Date"] for p in lines if p["properties"]["Paid Date"])
    assert props["Last Paid"]["rollup"] == {
        "type": "date",
        "date": {"start": last_paid, "end": None, "time_zone": None},
        "function": "latest_date",
    }
    vendors = props["Vendors"]["rollup"]
    assert vendors["type"] == "array" and vendors["function"] == "show_original"
    assert len(vendors["array"]) == len(lines) == 60
    assert (
        vendors["array"][0]["type"] == "rich_text" and vendors["array"][0]["rich_text"][0]["type"] == "text"
    )
    budget = props["Budget Total"]["number"]
    assert props["Over Budget"]["formula"] == {"type": "boolean", "boolean": spent > budget}
    assert props["Remaining"]["formula"] == {
        "type": "number",
        "number": pytest.approx(round(budget - spent, 2)),
    }
    label = props["Budget Label"]["formula"]
    assert label["type"] == "string" and label["string"].startswith(props["Currency"]["select"]["name"])


def test_budget_line_formulas(sandbox: SandboxServer, api: httpx.Client) -> None:
    lines = api.post(
        f"/v1/databases/{sandbox.notion.database('budget_lines').id}/query",
        json={"filter": {"property": "Actual Amount", "number": {"is_not_empty": True}}, "page_size": 5},
    ).json()["results"]
    for line in lines:
        props = line["properties"]
        assert props["Variance"]["formula"]["number"] == pytest.approx(
            props["Amount"]["number"] - props["Actual Amount"]["number"], abs=0.01
        )
        month = props["Committed Month"]["formula"]
        assert (
            month["type"] == "date"
            and month["date"]["start"] == props["Committed Date"]["date"]["start"][:8] + "01"
        )


def test_status_property(sandbox: SandboxServer, api: httpx.Client) -> None:
    action = page(sandbox, api, "actions", 0)["properties"]["Status"]
    assert action["type"] == "status" and action["status"]["name"] in {"Not started", "In progress", "Done"}


def test_relation_truncated_at_25(project: dict[str, Any], sandbox: SandboxServer) -> None:
    relation = project["properties"]["Budget Lines"]
    assert relation["type"] == "relation" and relation["has_more"] is True
    assert len(relation["relation"]) == 25 and all(r.keys() == {"id"} for r in relation["relation"])
    small = project["properties"]["Program"]
    assert small["has_more"] is False and len(small["relation"]) == 1
    program = page(
        sandbox,
        httpx.Client(
            base_url=sandbox.notion_url,
            headers={"Authorization": "Bearer secret_x12345678", "Notion-Version": "2022-06-28"},
        ),
        "programs",
        0,
    )
    projects = program["properties"]["Projects"]
    assert projects["has_more"] is True and len(projects["relation"]) == 25


def test_property_item_pagination_of_60_relation(
    sandbox: SandboxServer, api: httpx.Client, project: dict[str, Any]
) -> None:
    prop_id = project["properties"]["Budget Lines"]["id"]
    assert "%" in prop_id or prop_id.isalnum()
    url = f"/v1/pages/{project['id']}/properties/{prop_id}"
    ids: list[str] = []
    params: dict[str, Any] = {"page_size": 25}
    pages = 0
    while True:
        body = api.get(url, params=params).json()
        pages += 1
        assert body["object"] == "list" and body["type"] == "property_item"
        assert body["property_item"]["type"] == "relation" and body["property_item"]["id"] == prop_id
        assert all(
            r
            == {
                "object": "property_item",
                "id": prop_id,
                "type": "relation",
                "relation": {"id": r["relation"]["id"]},
            }
            for r in body["results"]
        )
        ids += [r["relation"]["id"] for r in body["results"]]
        if not body["has_more"]:
            assert body["property_item"]["next_url"] is None
            break
        assert body["property_item"]["next_url"].endswith(f"start_cursor={body['next_cursor']}&page_size=25")
        params["start_cursor"] = body["next_cursor"]
    assert pages == 3 and len(ids) == len(set(ids)) == 60
    truth = next(p for p in sandbox.notion.truth("projects") if p["id"] == project["id"])
    assert ids == truth["properties"]["Budget Lines"]
    assert ids[:25] == [r["id"] for r in project["properties"]["Budget Lines"]["relation"]]
    # the decoded form of the id is accepted as well
    assert api.get(f"/v1/pages/{project['id']}/properties/{quote(prop_id, safe='%')}").status_code == 200


def test_property_items_other_types(
    sandbox: SandboxServer, api: httpx.Client, program: dict[str, Any]
) -> None:
    title = api.get(f"/v1/pages/{program['id']}/properties/title").json()
    assert (
        title["results"][0]["type"] == "title"
        and title["results"][0]["title"]["plain_text"] == "Digital Core"
    )
    status_id = program["properties"]["Status"]["id"]
    single = api.get(f"/v1/pages/{program['id']}/properties/{status_id}").json()
    assert single["object"] == "property_item" and single["type"] == "select" and single["select"]["name"]
    people = api.get(f"/v1/pages/{program['id']}/properties/{program['properties']['Owner']['id']}").json()
    assert people["results"][0]["type"] == "people" and people["results"][0]["people"]["object"] == "user"
    count_id = program["properties"]["Project Count"]["id"]
    rollup = api.get(f"/v1/pages/{program['id']}/properties/{count_id}").json()
    live = [p for p in sandbox.notion.truth("projects") if program["id"] in p["properties"]["Program"]]
    assert len(live) > 25
    assert rollup["property_item"]["rollup"] == {"type": "number", "number": len(live), "function": "count"}
    assert rollup["has_more"] is False and len(rollup["results"]) == len(live)
    missing = api.get(f"/v1/pages/{program['id']}/properties/nope")
    assert missing.status_code == 404 and missing.json()["code"] == "object_not_found"
    too_big = api.get(f"/v1/pages/{program['id']}/properties/title", params={"page_size": 101})
    assert too_big.status_code == 400 and too_big.json()["code"] == "validation_error"


def test_timestamps_are_minute_rounded_everywhere(sandbox: SandboxServer, api: httpx.Client) -> None:
    body = api.post(f"/v1/databases/{sandbox.notion.database('actions').id}/query", json={}).json()
    for p in body["results"]:
        assert MINUTE.match(p["created_time"]) and MINUTE.match(p["last_edited_time"])
    distinct = {p["last_edited_time"] for p in body["results"]}
    assert 40 <= len(distinct) < len(body["results"])  # spread over many minutes, some shared
