"""The sandbox is no kinder than real Notion: every shape a recorded Notion response has, over HTTP.

Dates (offsets, minute precision, `time_zone: null`), realistic nulls and empties, bot users, place and
button properties, user mentions in titles, page-level fields and pages outside every database.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from ppm_sandbox import DEFAULT_TOKEN, FaultSpec, NotionConfig, SandboxConfig, SandboxServer

from .conftest import ANNOTATIONS, QueryAll

DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:00\.000[+-]\d{2}:\d{2}$")  # minutes; seconds, ms zero
DEMO = ("programs", "projects", "budget_lines", "risks", "actions")
Pages = Callable[[str], list[dict[str, Any]]]


@pytest.fixture
def pages(query_all: QueryAll, db_id: Callable[[str], str]) -> Pages:
    """Every live page of a demo database, as a 2022-06-28 query returns it."""
    return lambda key: query_all(db_id(key))


def values(pages: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [p["properties"][name] for p in pages]


def share(items: list[Any], test: Callable[[Any], bool]) -> float:
    return sum(1 for item in items if test(item)) / len(items)


# ------------------------------------------------------------------------------------------ dates


def _date_values(page: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every date object of a page: date properties, formula/rollup dates, rollup items, date mentions."""
    for prop in page["properties"].values():
        value = prop[prop["type"]]
        if prop["type"] == "date" and value:
            yield value
        elif prop["type"] in ("formula", "rollup") and value.get("type") == "date" and value["date"]:
            yield value["date"]
        if prop["type"] == "rollup" and value["type"] == "array":
            yield from (item["date"] for item in value["array"] if item["type"] == "date" and item["date"])
        if prop["type"] in ("title", "rich_text"):
            for item in value:
                if item["type"] == "mention" and item["mention"]["type"] == "date":
                    yield item["mention"]["date"]


def _well_formed(when: dict[str, Any]) -> bool:
    ends = [when["start"]] + ([when["end"]] if when["end"] else [])
    return (
        when.keys() == {"start", "end", "time_zone"}
        and when["time_zone"] is None
        and all(DATE_ONLY.match(v) or DATETIME.match(v) for v in ends)
    )


@pytest.mark.parametrize("key", DEMO)
def test_every_date_has_an_offset_minute_precision_and_no_time_zone(pages: Pages, key: str) -> None:
    dates = [when for page in pages(key) for when in _date_values(page)]
    assert dates
    bad = [when for when in dates if not _well_formed(when)]
    assert not bad, bad[:3]


def test_datetime_ranges_carry_the_offset_of_the_zone_they_were_entered_in(pages: Pages) -> None:
    reviews = [v["date"] for v in values(pages("programs"), "Steering Review")]
    assert all(DATETIME.match(r["start"]) and DATETIME.match(r["end"]) for r in reviews)
    offsets = {r["start"][-6:] for r in reviews}
    assert "+08:00" in offsets and "+00:00" in offsets and offsets & {"+01:00", "+02:00"}
    assert {r["start"][14:16] for r in reviews} - {"00"}  # not only whole hours


@pytest.mark.parametrize(
    ("written", "answered"),
    [
        ({"start": "2026-01-15T09:05:37", "time_zone": "Asia/Manila"}, "2026-01-15T09:05:00.000+08:00"),
        ({"start": "2026-07-01T09:05:59.999", "time_zone": "Europe/Berlin"}, "2026-07-01T09:05:00.000+02:00"),
        ({"start": "2026-01-15T01:05:00Z", "time_zone": "Asia/Manila"}, "2026-01-15T09:05:00.000+08:00"),
        ({"start": "2026-01-15T09:05:12+08:00"}, "2026-01-15T09:05:00.000+08:00"),
        ({"start": "2026-01-15T09:05:12"}, "2026-01-15T09:05:00.000+00:00"),
        ({"start": "2026-01-15"}, "2026-01-15"),
    ],
)
def test_written_dates_come_back_as_notion_answers_them(
    clean_sandbox: SandboxServer,
    api: httpx.Client,
    db_id: Callable[[str], str],
    written: dict[str, Any],
    answered: str,
) -> None:
    store = clean_sandbox.notion
    target = store.model.page_id(store.database("projects").ordinal, 3)
    body = {"properties": {"Start Date": {"date": written}}}
    patched = api.patch(f"/v1/pages/{target}", json=body)
    assert patched.status_code == 200, patched.text
    expected = {"start": answered, "end": None, "time_zone": None}
    assert patched.json()["properties"]["Start Date"]["date"] == expected
    assert api.get(f"/v1/pages/{target}").json()["properties"]["Start Date"]["date"] == expected
    created = api.post(
        "/v1/pages",
        json={
            "parent": {"database_id": db_id("actions")},
            "properties": {
                "Title": {"title": [{"text": {"content": "dated"}}]},
                "Due Date": {"date": written},
            },
        },
    )
    assert created.status_code == 200, created.text
    assert created.json()["properties"]["Due Date"]["date"] == expected


def test_a_date_range_written_with_a_time_zone(clean_sandbox: SandboxServer, api: httpx.Client) -> None:
    store = clean_sandbox.notion
    target = store.model.page_id(store.database("programs").ordinal, 1)
    when = {"start": "2026-03-28T23:30:45", "end": "2026-03-29T03:10:00", "time_zone": "Europe/Berlin"}
    body = {"properties": {"Steering Review": {"date": when}}}
    review = api.patch(f"/v1/pages/{target}", json=body).json()["properties"]["Steering Review"]["date"]
    # the clocks go forward in between: each end keeps the offset of its own instant
    assert review == {
        "start": "2026-03-28T23:30:00.000+01:00",
        "end": "2026-03-29T03:10:00.000+02:00",
        "time_zone": None,
    }


def test_sandbox_edits_store_dates_the_way_notion_returns_them(
    clean_sandbox: SandboxServer, api: httpx.Client
) -> None:
    store = clean_sandbox.notion
    target = store.model.page_id(store.database("projects").ordinal, 2)
    store.edit_page(target, {"End Date": "2026-05-05T10:11:12+02:00"})
    end = api.get(f"/v1/pages/{target}").json()["properties"]["End Date"]["date"]
    assert end == {"start": "2026-05-05T10:11:00.000+02:00", "end": None, "time_zone": None}
    truth = next(p for p in store.truth("projects") if p["id"] == target)
    assert truth["properties"]["End Date"] == end["start"]


# ------------------------------------------------------------------------------- nulls and empties


def test_nulls_and_empties_on_program_properties(pages: Pages) -> None:
    programs = pages("programs")
    for name, kind in (("Website", "url"), ("Sponsor Email", "email"), ("Hotline", "phone_number")):
        found = values(programs, name)
        assert any(v[kind] is None for v in found), name
        assert all(v[kind] is None or (isinstance(v[kind], str) and v[kind]) for v in found), name
    for name, kind in (("Tags", "multi_select"), ("Charter", "files")):
        found = values(programs, name)
        assert any(v[kind] == [] for v in found) and any(v[kind] for v in found), name


def test_select_null_and_status_present(pages: Pages) -> None:
    categories = values(pages("risks"), "Category")
    assert 0.15 <= share(categories, lambda v: v["select"] is None) <= 0.45
    assert all(v["select"] is None or v["select"].keys() == {"id", "name", "color"} for v in categories)
    statuses = values(pages("actions"), "Status")
    assert all(v["type"] == "status" and v["status"]["name"] for v in statuses)


def test_empty_relations_and_people(pages: Pages) -> None:
    blocked = values(pages("actions"), "Blocked By")
    assert 0.7 <= share(blocked, lambda v: v["relation"] == []) <= 0.95
    assert all(v["has_more"] is False for v in blocked)
    reviewers = values(pages("risks"), "Reviewers")
    assert 0.35 <= share(reviewers, lambda v: v["people"] == []) <= 0.65


def test_formula_string_null(pages: Pages) -> None:
    risks = pages("risks")
    escalation = values(risks, "Escalation")
    assert {"type": "string", "string": None} in [v["formula"] for v in escalation]
    for risk, value in zip(risks, escalation, strict=True):
        critical = risk["properties"]["Severity"]["select"]["name"] == "Critical"
        assert value["formula"] == {"type": "string", "string": "Escalate to steering" if critical else None}


def test_rollup_nulls_and_empty_arrays(pages: Pages) -> None:
    projects = pages("projects")
    assert {"type": "number", "number": None, "function": "average"} in [
        v["rollup"] for v in values(projects, "Average Actual")
    ]
    assert {"type": "date", "date": None, "function": "latest_date"} in [
        v["rollup"] for v in values(projects, "Last Paid")
    ]
    risks = pages("risks")
    status = values(risks, "Project Status")
    empty = [r for r, v in zip(risks, status, strict=True) if v["rollup"]["array"] == []]
    assert empty and len(empty) < len(risks) * 0.05  # the orphaned risks (their project is gone)
    assert all(v["rollup"] == {"type": "date", "date": None, "function": "latest_date"} for v in [
        r["properties"]["Project End"] for r in empty
    ])  # fmt: skip
    full = next(v["rollup"] for v in status if v["rollup"]["array"])
    assert full["function"] == "show_original"
    assert full["array"][0]["type"] == "select" and full["array"][0]["select"].keys() == {
        "id",
        "name",
        "color",
    }


def test_rollup_arrays_of_titles_dates_and_numbers(sandbox: SandboxServer, api: httpx.Client) -> None:
    flagship = sandbox.notion.model.page_id(sandbox.notion.database("projects").ordinal, 0)
    project = api.get(f"/v1/pages/{flagship}").json()["properties"]
    names, dates, amounts = (project[n]["rollup"] for n in ("Line Names", "Paid Dates", "Line Amounts"))
    assert len(names["array"]) == len(dates["array"]) == len(amounts["array"]) == 60
    for rollup in (names, dates, amounts):
        assert rollup["type"] == "array" and rollup["function"] == "show_original"
    title = next(item for item in names["array"] if item["title"])
    assert title.keys() == {"type", "title"} and title["type"] == "title"
    assert title["title"][0] == {
        "type": "text",
        "text": {"content": title["title"][0]["plain_text"], "link": None},
        "annotations": ANNOTATIONS,
        "plain_text": title["title"][0]["plain_text"],
        "href": None,
    }
    assert all(item.keys() == {"type", "date"} and item["type"] == "date" for item in dates["array"])
    assert {"type": "date", "date": None} in dates["array"]  # unpaid lines
    paid = [item["date"] for item in dates["array"] if item["date"]]
    assert paid and all(d == {"start": d["start"], "end": None, "time_zone": None} for d in paid)
    assert all(
        item["type"] == "number" and isinstance(item["number"], int | float) for item in amounts["array"]
    )


def test_unique_id_without_a_prefix() -> None:
    config = SandboxConfig(
        notion=NotionConfig(bench_pages=12, bench_databases=1), faults=FaultSpec.unlimited()
    )
    with SandboxServer(config) as server:
        headers = {"Authorization": f"Bearer {DEFAULT_TOKEN}", "Notion-Version": "2022-06-28"}
        with httpx.Client(base_url=server.notion_url, headers=headers, timeout=10) as client:
            db = server.notion.database("Bench 1")
            schema = client.get(f"/v1/databases/{db.id}").json()["properties"]["Line ID"]
            assert schema["unique_id"] == {"prefix": None}
            results = client.post(f"/v1/databases/{db.id}/query", json={}).json()["results"]
    assert sorted((p["properties"]["Line ID"]["unique_id"] for p in results), key=lambda u: u["number"]) == [
        {"prefix": None, "number": n} for n in range(1, 13)
    ]


# ------------------------------------------------------------------------------------- bot users


def test_bots_create_and_edit_pages(sandbox: SandboxServer, pages: Pages) -> None:
    bot = sandbox.notion.model.bot.id
    for key in ("budget_lines", "risks", "actions"):
        found = pages(key)
        assert all(p["created_by"].keys() == {"object", "id"} for p in found)  # page level: object + id only
        assert all(p["last_edited_by"].keys() == {"object", "id"} for p in found)
        assert 0.1 <= share(found, lambda p: p["created_by"]["id"] == bot) <= 0.3, key
        assert 0.05 <= share(found, lambda p: p["last_edited_by"]["id"] == bot) <= 0.25, key


def test_bot_users_in_people_and_created_by_properties(sandbox: SandboxServer, pages: Pages) -> None:
    bot_id = sandbox.notion.model.bot.id
    programs = pages("programs")
    made_by_bot = [p for p in programs if p["created_by"]["id"] == bot_id]
    assert made_by_bot
    bot = made_by_bot[0]["properties"]["Created By"]["created_by"]
    assert bot == {
        "object": "user",
        "id": bot_id,
        "name": bot["name"],
        "avatar_url": None,
        "type": "bot",
        "bot": {},
    }
    assert "person" not in bot
    reviewers = [u for v in values(pages("risks"), "Reviewers") for u in v["people"]]
    bots = [u for u in reviewers if u["type"] == "bot"]
    people = [u for u in reviewers if u["type"] == "person"]
    assert bots and people and all(u == bot for u in bots)
    assert all(u["person"]["email"] for u in people)


# --------------------------------------------------------------------------------- place and button


def test_place_and_button_properties(sandbox: SandboxServer, api: httpx.Client, pages: Pages) -> None:
    schema = api.get(f"/v1/databases/{sandbox.notion.database('programs').id}").json()["properties"]
    assert schema["Location"] == {
        "id": schema["Location"]["id"],
        "name": "Location",
        "type": "place",
        "description": None,
        "place": {},
    }
    assert schema["Request Review"]["type"] == "button" and schema["Request Review"]["button"] == {}
    programs = pages("programs")
    assert all(
        v == {"id": v["id"], "type": "button", "button": {}} for v in values(programs, "Request Review")
    )
    places = [v["place"] for v in values(programs, "Location")]
    assert None in places
    present = [p for p in places if p is not None]
    assert present and all(
        p.keys() == {"lat", "lon", "name", "address", "aws_place_id", "google_place_id"}
        and isinstance(p["lat"], float)
        and isinstance(p["lon"], float)
        for p in present
    )


# ------------------------------------------------------------------------------- mentions in titles


def test_titles_with_user_mentions(sandbox: SandboxServer, api: httpx.Client, pages: Pages) -> None:
    actions = pages("actions")
    titled = [v["title"] for v in values(actions, "Title") if any(i["type"] == "mention" for i in v["title"])]
    assert 0.05 <= len(titled) / len(actions) <= 0.2
    for title in titled:
        mention = title[-1]
        user = api.get(f"/v1/users/{mention['mention']['user']['id']}").json()
        assert mention == {
            "type": "mention",
            "mention": {"type": "user", "user": {"object": "user", "id": user["id"]}},
            "annotations": ANNOTATIONS,
            "plain_text": f"@{user['name']}",
            "href": None,
        }
        assert title[0]["type"] == "text" and title[0]["plain_text"].endswith(" for ")
    # the mention's text is part of the title Notion filters on
    db = sandbox.notion.database("actions").id
    name = titled[0][-1]["plain_text"]
    found = api.post(
        f"/v1/databases/{db}/query", json={"filter": {"property": "Title", "title": {"contains": name}}}
    ).json()["results"]
    assert found and all(
        name in "".join(i["plain_text"] for i in p["properties"]["Title"]["title"]) for p in found
    )


# -------------------------------------------------------------------------------- page-level fields


@pytest.mark.parametrize("version", ["2022-06-28", "2025-09-03"])
def test_page_level_fields(sandbox: SandboxServer, version: str) -> None:
    store = sandbox.notion
    headers = {"Authorization": f"Bearer {DEFAULT_TOKEN}", "Notion-Version": version}
    icons: Counter[str] = Counter()
    covers: Counter[str] = Counter()
    locked = 0
    with httpx.Client(base_url=sandbox.notion_url, headers=headers, timeout=10) as client:
        for key in ("programs", "projects", "risks"):
            db = store.database(key)
            path = (
                f"/v1/data_sources/{db.data_source_id}/query"
                if version == "2025-09-03"
                else f"/v1/databases/{db.id}/query"
            )
            for page in client.post(path, json={"page_size": 100}).json()["results"]:
                assert page["archived"] is False and page["in_trash"] is False
                assert page["public_url"] is None
                if version == "2025-09-03":
                    assert isinstance(page["is_locked"], bool)
                    locked += page["is_locked"]
                else:
                    assert "is_locked" not in page
                icon, cover = page["icon"], page["cover"]
                icons["null" if icon is None else icon["type"]] += 1
                covers["null" if cover is None else cover["type"]] += 1
                if icon is not None:
                    assert icon in ({"type": "emoji", "emoji": icon.get("emoji")}, {
                        "type": "external", "external": {"url": icon.get("external", {}).get("url")}
                    })  # fmt: skip
                if cover is not None:
                    assert cover == {"type": "external", "external": {"url": cover["external"]["url"]}}
    assert set(icons) == {"emoji", "external", "null"} and set(covers) == {"external", "null"}
    assert icons["null"] > icons["emoji"] > icons["external"] and covers["null"] > covers["external"]
    if version == "2025-09-03":
        assert 0 < locked < 20


def test_trashed_pages_say_so_in_both_fields(clean_sandbox: SandboxServer, api25: httpx.Client) -> None:
    store = clean_sandbox.notion
    target = store.model.page_id(store.database("risks").ordinal, 4)
    trashed = api25.patch(f"/v1/pages/{target}", json={"in_trash": True}).json()
    assert trashed["in_trash"] is True and trashed["archived"] is True and trashed["is_locked"] is False


def test_pages_outside_databases(
    sandbox: SandboxServer, api: httpx.Client, api25: httpx.Client, query_all: QueryAll
) -> None:
    store = sandbox.notion
    loose = list(store.loose_pages.values())
    handbook = loose[0]
    for client in (api, api25):
        top = client.get(f"/v1/pages/{handbook.id}").json()
        assert top["object"] == "page" and top["parent"] == {"type": "workspace", "workspace": True}
        assert top["icon"] == {"type": "emoji", "emoji": "📘"} and top["cover"]["type"] == "external"
        assert top["properties"] == {
            "title": {
                "id": "title",
                "type": "title",
                "title": [
                    {
                        "type": "text",
                        "text": {"content": "PPM Handbook", "link": None},
                        "annotations": ANNOTATIONS,
                        "plain_text": "PPM Handbook",
                        "href": None,
                    }
                ],
            }
        }
        child = client.get(f"/v1/pages/{loose[1].id}").json()
        assert child["parent"] == {"type": "page_id", "page_id": handbook.id}
        title = child["properties"]["title"]["title"]
        assert title[-1]["type"] == "mention" and title[-1]["plain_text"] == f"@{store.model.people[0].name}"
        assert child["last_edited_by"] == {"object": "user", "id": store.model.bot.id}
        assert child["url"].startswith("https://www.notion.so/Steering-committee-notes-with-")
    assert "is_locked" in api25.get(f"/v1/pages/{handbook.id}").json()
    queried = {p["id"] for db in store.databases for p in query_all(db.id)}
    assert not queried & {p.id for p in loose}
    assert api.patch(f"/v1/pages/{handbook.id}", json={"in_trash": True}).status_code == 404
