"""Queries: pagination, timestamp and property filters, compound filters, sorts, versions, search."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from ppm_sandbox import SandboxServer

QueryAll = Any  # the `query_all` fixture: (database_id, body) -> every page, cursors followed


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


_TRUTH: dict[tuple[str, int], dict[str, dict[str, Any]]] = {}


def truth_by_id(sandbox: SandboxServer, database: str) -> dict[str, dict[str, Any]]:
    """The workspace's truth, computed once per database and store state."""
    key = (database, sandbox.notion.version)
    if key not in _TRUTH:
        _TRUTH[key] = {page["id"]: page for page in sandbox.notion.truth(database)}
    return _TRUTH[key]


def test_pagination_walks_every_live_page_once(
    sandbox: SandboxServer, db_id: Any, query_all: QueryAll
) -> None:
    pages = query_all(db_id("budget_lines"), {"page_size": 100})
    ids = [p["id"] for p in pages]
    assert len(ids) == 1500 == len(set(ids))
    assert set(ids) == set(truth_by_id(sandbox, "budget_lines"))


def test_pagination_with_small_pages_and_cursor_shape(
    api: httpx.Client, db_id: Any, query_all: QueryAll
) -> None:
    first = api.post(f"/v1/databases/{db_id('risks')}/query", json={"page_size": 7}).json()
    assert (
        first["object"] == "list" and first["type"] == "page_or_database" and first["page_or_database"] == {}
    )
    assert len(first["results"]) == 7 and first["has_more"] is True
    assert isinstance(first["next_cursor"], str) and len(first["next_cursor"]) > 16
    assert all(p["object"] == "page" for p in first["results"])
    pages = query_all(db_id("risks"), {"page_size": 7})
    assert len(pages) == len({p["id"] for p in pages}) == 200


def test_default_order_is_last_edited_descending(api: httpx.Client, db_id: Any) -> None:
    results = api.post(f"/v1/databases/{db_id('actions')}/query", json={"page_size": 100}).json()["results"]
    edited = [p["last_edited_time"] for p in results]
    assert edited == sorted(edited, reverse=True)


def test_trashed_project_never_returned(sandbox: SandboxServer, db_id: Any, query_all: QueryAll) -> None:
    pages = query_all(db_id("projects"))
    assert len(pages) == 59
    trashed = sandbox.notion.model.page_id(sandbox.notion.database("projects").ordinal, 59)
    assert trashed not in {p["id"] for p in pages}
    assert all(p["in_trash"] is False and p["archived"] is False for p in pages)


@pytest.mark.parametrize("field", ["last_edited_time", "created_time"])
@pytest.mark.parametrize("operator", ["on_or_after", "after", "before", "on_or_before", "equals"])
def test_timestamp_filter_operators(
    sandbox: SandboxServer, db_id: Any, query_all: QueryAll, field: str, operator: str
) -> None:
    truth = list(truth_by_id(sandbox, "budget_lines").values())
    pivot = parse(sorted(p[field] for p in truth)[700])  # a minute some pages share
    value = iso(pivot)
    checks = {
        "on_or_after": lambda t: t >= pivot,
        "after": lambda t: t > pivot,
        "before": lambda t: t < pivot,
        "on_or_before": lambda t: t <= pivot,
        "equals": lambda t: t == pivot,
    }
    expected = {p["id"] for p in truth if checks[operator](parse(p[field]))}
    body = {"filter": {"timestamp": field, field: {operator: value}}}
    got = {p["id"] for p in query_all(db_id("budget_lines"), body)}
    assert got == expected
    assert expected  # the pivot itself is a page's time: no operator is vacuous here
    if operator == "equals":
        assert len(expected) >= 1


def test_timestamp_filter_with_seconds_and_date_only(
    sandbox: SandboxServer, db_id: Any, query_all: QueryAll
) -> None:
    truth = list(truth_by_id(sandbox, "budget_lines").values())
    pivot = parse(sorted(p["last_edited_time"] for p in truth)[300])
    inside = iso(pivot + timedelta(seconds=30))  # pages are at :00, so "after :30" excludes the pivot minute
    after = {
        p["id"]
        for p in query_all(
            db_id("budget_lines"),
            {"filter": {"timestamp": "last_edited_time", "last_edited_time": {"after": inside}}},
        )
    }
    assert after == {p["id"] for p in truth if parse(p["last_edited_time"]) > pivot}
    day = pivot.date().isoformat()
    same_day = {
        p["id"]
        for p in query_all(
            db_id("budget_lines"),
            {"filter": {"timestamp": "last_edited_time", "last_edited_time": {"equals": day}}},
        )
    }
    assert same_day == {p["id"] for p in truth if p["last_edited_time"].startswith(day)}
    after_day = {
        p["id"]
        for p in query_all(
            db_id("budget_lines"),
            {"filter": {"timestamp": "last_edited_time", "last_edited_time": {"after": day}}},
        )
    }
    assert after_day == {p["id"] for p in truth if p["last_edited_time"][:10] > day}


def test_compound_filters_nested(sandbox: SandboxServer, db_id: Any, query_all: QueryAll) -> None:
    truth = list(truth_by_id(sandbox, "budget_lines").values())
    times = sorted(p["last_edited_time"] for p in truth)
    low, high = times[200], times[900]
    body = {
        "filter": {
            "or": [
                {
                    "and": [
                        {"timestamp": "last_edited_time", "last_edited_time": {"on_or_after": low}},
                        {"timestamp": "last_edited_time", "last_edited_time": {"before": high}},
                        {
                            "or": [
                                {"property": "Category", "select": {"equals": "CapEx"}},
                                {"property": "Amount", "number": {"greater_than": 200000}},
                            ]
                        },
                    ]
                },
                {"property": "Currency", "select": {"equals": "XXX"}},
            ]
        },
        "sorts": [{"timestamp": "last_edited_time", "direction": "ascending"}],
    }
    got = query_all(db_id("budget_lines"), body)

    def match(p: dict[str, Any]) -> bool:
        props = p["properties"]
        in_window = low <= p["last_edited_time"] < high
        inner = props["Category"] == "CapEx" or (props["Amount"] or 0) > 200000
        return (in_window and inner) or props["Currency"] == "XXX"

    assert {p["id"] for p in got} == {p["id"] for p in truth if match(p)}
    assert [p["last_edited_time"] for p in got] == sorted(p["last_edited_time"] for p in got)


@pytest.mark.parametrize(
    ("database", "condition", "predicate"),
    [
        (
            "budget_lines",
            {"property": "Vendor", "rich_text": {"equals": "Microsoft"}},
            lambda v: v["Vendor"] == "Microsoft",
        ),
        (
            "budget_lines",
            {"property": "Vendor", "rich_text": {"contains": "tele"}},
            lambda v: "tele" in v["Vendor"].lower(),
        ),
        (
            "budget_lines",
            {"property": "Name", "title": {"equals": "SAP - Training"}},
            lambda v: v["Name"] == "SAP - Training",
        ),
        ("budget_lines", {"property": "Name", "title": {"is_empty": True}}, lambda v: v["Name"] == ""),
        (
            "budget_lines",
            {"property": "Category", "select": {"equals": "CapEx"}},
            lambda v: v["Category"] == "CapEx",
        ),
        (
            "budget_lines",
            {"property": "Currency", "select": {"does_not_equal": "USD"}},
            lambda v: v["Currency"] != "USD",
        ),
        (
            "budget_lines",
            {"property": "Amount", "number": {"greater_than": 100000}},
            lambda v: v["Amount"] > 100000,
        ),
        (
            "budget_lines",
            {"property": "Amount", "number": {"less_than_or_equal_to": 0}},
            lambda v: v["Amount"] <= 0,
        ),
        (
            "budget_lines",
            {"property": "Actual Amount", "number": {"is_empty": True}},
            lambda v: v["Actual Amount"] is None,
        ),
        (
            "budget_lines",
            {"property": "Paid Date", "date": {"on_or_after": "2026-09-01"}},
            lambda v: (v["Paid Date"] or "") >= "2026-09-01",
        ),
        (
            "budget_lines",
            {"property": "Variance", "formula": {"number": {"less_than": 0}}},
            lambda v: v["Variance"] is not None and v["Variance"] < 0,
        ),
        ("programs", {"property": "Approved", "checkbox": {"equals": True}}, lambda v: v["Approved"] is True),
        (
            "programs",
            {"property": "Tags", "multi_select": {"contains": "Growth"}},
            lambda v: "Growth" in v["Tags"],
        ),
        ("actions", {"property": "Status", "status": {"equals": "Done"}}, lambda v: v["Status"] == "Done"),
        (
            "actions",
            {"property": "Source ID", "rich_text": {"starts_with": "advisor:"}},
            lambda v: v["Source ID"].startswith("advisor:"),
        ),
        (
            "projects",
            {"property": "Project ID", "unique_id": {"less_than": 10}},
            lambda v: v["Project ID"] < 10,
        ),
        (
            "projects",
            {"property": "Over Budget", "formula": {"checkbox": {"equals": True}}},
            lambda v: v["Over Budget"] is True,
        ),
        (
            "projects",
            {"property": "Spent", "rollup": {"number": {"greater_than": 1000000}}},
            lambda v: v["Spent"] > 1000000,
        ),
    ],
)
def test_property_filters(
    sandbox: SandboxServer,
    db_id: Any,
    query_all: QueryAll,
    database: str,
    condition: dict[str, Any],
    predicate: Any,
) -> None:
    truth = list(truth_by_id(sandbox, database).values())
    expected = {p["id"] for p in truth if predicate(p["properties"])}
    got = {p["id"] for p in query_all(db_id(database), {"filter": condition})}
    assert got == expected
    assert 0 < len(expected) < len(truth)  # the case discriminates


def test_source_id_lookup_is_exact(sandbox: SandboxServer, api: httpx.Client, db_id: Any) -> None:
    target = next(p for p in sandbox.notion.truth("actions") if p["properties"]["Source ID"])
    body = {"filter": {"property": "Source ID", "rich_text": {"equals": target["properties"]["Source ID"]}}}
    results = api.post(f"/v1/databases/{db_id('actions')}/query", json=body).json()["results"]
    assert [p["id"] for p in results] == [target["id"]]


def test_relation_contains(sandbox: SandboxServer, db_id: Any, query_all: QueryAll) -> None:
    project = sandbox.notion.model.page_id(sandbox.notion.database("projects").ordinal, 3)
    got = {
        p["id"]
        for p in query_all(
            db_id("risks"), {"filter": {"property": "Project", "relation": {"contains": project}}}
        )
    }
    assert got == {p["id"] for p in sandbox.notion.truth("risks") if project in p["properties"]["Project"]}
    assert got


@pytest.mark.parametrize("direction", ["ascending", "descending"])
@pytest.mark.parametrize("timestamp", ["last_edited_time", "created_time"])
def test_timestamp_sorts(db_id: Any, query_all: QueryAll, direction: str, timestamp: str) -> None:
    pages = query_all(
        db_id("risks"), {"sorts": [{"timestamp": timestamp, "direction": direction}], "page_size": 30}
    )
    values = [p[timestamp] for p in pages]
    assert values == sorted(values, reverse=direction == "descending")
    assert len(pages) == 200


def test_property_sorts(sandbox: SandboxServer, db_id: Any, query_all: QueryAll) -> None:
    pages = query_all(
        db_id("budget_lines"),
        {"sorts": [{"property": "Actual Amount", "direction": "descending"}], "page_size": 100},
    )
    amounts = [p["properties"]["Actual Amount"]["number"] for p in pages]
    filled = [a for a in amounts if a is not None]
    assert amounts[: len(filled)] == sorted(filled, reverse=True)
    assert all(a is None for a in amounts[len(filled) :])  # empties last
    assert len(pages) == 1500

    risks = query_all(
        db_id("risks"),
        {
            "sorts": [
                {"property": "Severity", "direction": "ascending"},
                {"property": "Title", "direction": "descending"},
            ]
        },
    )
    order = ["Critical", "High", "Medium", "Low"]  # option order, not alphabetical
    severities = [order.index(p["properties"]["Severity"]["select"]["name"]) for p in risks]
    assert severities == sorted(severities)
    first_group = [
        p["properties"]["Title"]["title"]
        for p in risks
        if p["properties"]["Severity"]["select"]["name"] == "Critical"
    ]
    titles = [t[0]["plain_text"].casefold() if t else "" for t in first_group]
    non_empty = [t for t in titles if t]
    assert non_empty == sorted(non_empty, reverse=True)


def test_both_api_versions_return_the_same_pages(
    sandbox: SandboxServer, api25: httpx.Client, db_id: Any, query_all: QueryAll
) -> None:
    db = sandbox.notion.database("budget_lines")
    body = {"sorts": [{"timestamp": "last_edited_time", "direction": "ascending"}], "page_size": 100}
    old = query_all(db.id, body)
    new: list[dict[str, Any]] = []
    request = dict(body)
    while True:
        data = api25.post(f"/v1/data_sources/{db.data_source_id}/query", json=request).json()
        assert data["type"] == "page_or_data_source"
        new += data["results"]
        if not data["has_more"]:
            break
        request["start_cursor"] = data["next_cursor"]
    assert [p["id"] for p in old] == [p["id"] for p in new]
    assert old[0]["parent"] == {"type": "database_id", "database_id": db.id}
    assert new[0]["parent"] == {
        "type": "data_source_id",
        "data_source_id": db.data_source_id,
        "database_id": db.id,
    }
    assert [p["properties"] for p in old] == [p["properties"] for p in new]


def test_filter_properties_parameter(api: httpx.Client, sandbox: SandboxServer) -> None:
    db = sandbox.notion.database("budget_lines")
    amount = db.schema.by_name("Amount").id
    response = api.post(
        f"/v1/databases/{db.id}/query",
        params=[("filter_properties", amount), ("filter_properties", "title")],
        json={"page_size": 3},
    )
    assert response.status_code == 200
    assert all(set(p["properties"]) == {"Amount", "Name"} for p in response.json()["results"])


def test_search_by_title_and_object(api: httpx.Client, api25: httpx.Client, sandbox: SandboxServer) -> None:
    found = api.post(
        "/v1/search", json={"query": "budget", "filter": {"property": "object", "value": "database"}}
    ).json()
    assert [r["id"] for r in found["results"]] == [sandbox.notion.database("budget_lines").id]
    found = api25.post(
        "/v1/search", json={"query": "budget", "filter": {"property": "object", "value": "data_source"}}
    ).json()
    assert [r["object"] for r in found["results"]] == ["data_source"]
    pages = api.post(
        "/v1/search", json={"query": "Digital Core", "filter": {"property": "object", "value": "page"}}
    ).json()
    assert [r["properties"]["Name"]["title"][0]["plain_text"] for r in pages["results"]] == ["Digital Core"]
    bad = api25.post("/v1/search", json={"filter": {"property": "object", "value": "database"}})
    assert bad.status_code == 400 and bad.json()["code"] == "validation_error"


def test_search_paginates_across_databases(api: httpx.Client) -> None:
    seen: list[str] = []
    body: dict[str, Any] = {
        "query": "microsoft",
        "page_size": 40,
        "sort": {"timestamp": "last_edited_time", "direction": "ascending"},
    }
    times: list[str] = []
    while True:
        data = api.post("/v1/search", json=body).json()
        seen += [r["id"] for r in data["results"]]
        times += [r["last_edited_time"] for r in data["results"]]
        if not data["has_more"]:
            break
        body["start_cursor"] = data["next_cursor"]
    assert len(seen) == len(set(seen)) > 40
    assert times == sorted(times)


def test_now_relative_filter(sandbox: SandboxServer, db_id: Any, query_all: QueryAll) -> None:
    # Generated edits end at the anchor (2026-11-01), so "past_week" relative to a clock set there
    # is exactly the last seven days of generated edits.
    anchor = sandbox.notion.config.anchor
    sandbox.clock.freeze(anchor)
    try:
        got = query_all(
            db_id("budget_lines"),
            {"filter": {"timestamp": "last_edited_time", "last_edited_time": {"past_week": {}}}},
        )
    finally:
        sandbox.clock.real()
    low = iso(anchor - timedelta(days=7))
    expected = {p["id"] for p in sandbox.notion.truth("budget_lines") if p["last_edited_time"] >= low}
    assert {p["id"] for p in got} == expected and expected
    assert datetime.now(UTC) > anchor
