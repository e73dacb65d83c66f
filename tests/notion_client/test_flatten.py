"""Flattening of every Notion property type to the bronze shape (pure functions, no server)."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ppm_assets.notion.bronze_rows import bronze_row, content_hash, tombstone_row
from ppm_assets.notion.flatten import LIST_PROPERTY_TYPES, flatten_properties, flatten_property, format_number
from ppm_resources.notion.client import is_truncated

U1 = "8a0d2f5e-1c1b-4c5e-9b0a-2f3d4e5f6a7b"
U2 = "0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9"
PAGE = "3f2e1d0c-b9a8-4776-8554-433221100fed"


def text(content: str, **extra: object) -> dict[str, object]:
    return {"type": "text", "text": {"content": content, "link": None}, "plain_text": content, **extra}


def user(uid: str) -> dict[str, object]:
    return {"object": "user", "id": uid}


def bot(uid: str, name: str = "Import Bot") -> dict[str, object]:
    """A bot user as people / created_by properties carry it: no `person`, no email."""
    return {"object": "user", "id": uid, "type": "bot", "name": name, "avatar_url": None, "bot": {}}


def full_person(uid: str) -> dict[str, object]:
    return {
        "object": "user",
        "id": uid,
        "type": "person",
        "name": "Ava Reyes",
        "avatar_url": None,
        "person": {"email": "ava@example.com"},
    }


# (property value, expected flat value) for every type: the table of docs/data-dictionary.md, "Notion property flattening".
CASES: dict[str, tuple[dict[str, object], object]] = {
    "title": ({"type": "title", "title": [text("Cloud "), text("migration")]}, "Cloud migration"),
    "title_empty": ({"type": "title", "title": []}, None),
    "rich_text_mention": (
        {
            "type": "rich_text",
            "rich_text": [
                text("Owner: "),
                {"type": "mention", "mention": {"type": "user", "user": user(U1)}, "plain_text": "@Ana"},
                {"type": "equation", "equation": {"expression": "E=mc^2"}, "plain_text": "E=mc^2"},
            ],
        },
        "Owner: @AnaE=mc^2",
    ),
    "number_int": ({"type": "number", "number": 1200}, "1200"),
    "number_integral_float": ({"type": "number", "number": 12.0}, "12"),
    "number_float": ({"type": "number", "number": -0.125}, "-0.125"),
    "number_null": ({"type": "number", "number": None}, None),
    "select": ({"type": "select", "select": {"id": "a", "name": "High", "color": "red"}}, "High"),
    "select_null": ({"type": "select", "select": None}, None),
    "status": (
        {"type": "status", "status": {"id": "b", "name": "In progress", "color": "blue"}},
        "In progress",
    ),
    "multi_select": (
        {
            "type": "multi_select",
            "multi_select": [{"id": "1", "name": "FinOps"}, {"id": "2", "name": "Azure"}],
        },
        ["FinOps", "Azure"],
    ),
    "multi_select_empty": ({"type": "multi_select", "multi_select": []}, []),
    "date": ({"type": "date", "date": {"start": "2025-03-01", "end": None, "time_zone": None}}, "2025-03-01"),
    "date_range": (
        {
            "type": "date",
            "date": {"start": "2025-03-01T09:00:00.000+00:00", "end": "2025-03-31", "time_zone": None},
        },
        "2025-03-01T09:00:00.000+00:00/2025-03-31",
    ),
    "date_null": ({"type": "date", "date": None}, None),
    "checkbox_true": ({"type": "checkbox", "checkbox": True}, "true"),
    "checkbox_false": ({"type": "checkbox", "checkbox": False}, "false"),
    "url": ({"type": "url", "url": "https://example.com/x"}, "https://example.com/x"),
    "email": ({"type": "email", "email": "pmo@example.com"}, "pmo@example.com"),
    "phone_number": ({"type": "phone_number", "phone_number": "+63 2 8888 0000"}, "+63 2 8888 0000"),
    "url_null": ({"type": "url", "url": None}, None),
    "people": ({"type": "people", "people": [user(U1), user(U2)]}, [U1, U2]),
    "relation": ({"type": "relation", "relation": [{"id": U1}, {"id": U2}], "has_more": False}, [U1, U2]),
    "files": (
        {
            "type": "files",
            "files": [
                {
                    "name": "sow.pdf",
                    "type": "file",
                    "file": {
                        "url": "https://files.example.com/ws/abc/sow.pdf?X-Amz-Signature=1&X-Amz-Expires=3600",
                        "expiry_time": "2025-01-01T00:00:00.000Z",
                    },
                },
                {"name": "spec", "type": "external", "external": {"url": "https://example.com/spec?v=2"}},
            ],
        },
        ["https://files.example.com/ws/abc/sow.pdf", "https://example.com/spec?v=2"],
    ),
    "unique_id": ({"type": "unique_id", "unique_id": {"prefix": "PRJ", "number": 12}}, "PRJ-12"),
    "unique_id_no_prefix": ({"type": "unique_id", "unique_id": {"prefix": None, "number": 7}}, "7"),
    "formula_string": ({"type": "formula", "formula": {"type": "string", "string": "Red"}}, "Red"),
    "formula_number": ({"type": "formula", "formula": {"type": "number", "number": 0.5}}, "0.5"),
    "formula_boolean": ({"type": "formula", "formula": {"type": "boolean", "boolean": True}}, "true"),
    "formula_date": (
        {"type": "formula", "formula": {"type": "date", "date": {"start": "2025-06-30", "end": None}}},
        "2025-06-30",
    ),
    "formula_null": ({"type": "formula", "formula": {"type": "string", "string": None}}, None),
    "rollup_number": (
        {"type": "rollup", "rollup": {"type": "number", "number": 1500.25, "function": "sum"}},
        "1500.25",
    ),
    "rollup_date": (
        {
            "type": "rollup",
            "rollup": {"type": "date", "date": {"start": "2025-01-31"}, "function": "latest_date"},
        },
        "2025-01-31",
    ),
    "rollup_array": (
        {
            "type": "rollup",
            "rollup": {
                "type": "array",
                "function": "show_original",
                "array": [
                    {"type": "title", "title": [text("Line A")]},
                    {"type": "number", "number": 3},
                    {"type": "number", "number": None},
                    {"type": "relation", "relation": [{"id": U1}]},
                ],
            },
        },
        ["Line A", "3", U1],
    ),
    "rollup_incomplete": ({"type": "rollup", "rollup": {"type": "incomplete", "function": "sum"}}, None),
    "created_time": (
        {"type": "created_time", "created_time": "2024-11-02T08:15:00.000Z"},
        "2024-11-02T08:15:00.000Z",
    ),
    "last_edited_time": (
        {"type": "last_edited_time", "last_edited_time": "2025-01-05T10:31:00.000Z"},
        "2025-01-05T10:31:00.000Z",
    ),
    "created_by": ({"type": "created_by", "created_by": user(U1)}, U1),
    "last_edited_by": ({"type": "last_edited_by", "last_edited_by": user(U2)}, U2),
    "verification": (
        {
            "type": "verification",
            "verification": {"state": "verified", "verified_by": user(U1), "date": None},
        },
        "verified",
    ),
    "button": ({"type": "button", "button": {}}, None),
    "place": (
        {
            "type": "place",
            "place": {
                "lat": 14.5547,
                "lon": 121.0244,
                "name": "PPM Head Office",
                "address": "6750 Ayala Avenue, Makati City",
                "aws_place_id": None,
                "google_place_id": "ChIJ0123",
            },
        },
        "PPM Head Office, 6750 Ayala Avenue, Makati City",
    ),
    "place_pin": (
        {
            "type": "place",
            "place": {"lat": 14.5, "lon": 121.0, "name": None, "address": None, "google_place_id": None},
        },
        "14.5,121.0",
    ),
    "place_null": ({"type": "place", "place": None}, None),
    "title_user_mention": (
        {
            "type": "title",
            "title": [
                text("Review budget #3 for "),
                {
                    "type": "mention",
                    "mention": {"type": "user", "user": user(U1)},
                    "annotations": {"bold": False, "color": "default"},
                    "plain_text": "@Ava Reyes",
                    "href": None,
                },
            ],
        },
        "Review budget #3 for @Ava Reyes",
    ),
    "title_mention_without_plain_text": (
        {"type": "title", "title": [{"type": "mention", "mention": {"type": "user", "user": bot(U2)}}]},
        "@Import Bot",
    ),
    "status_null": ({"type": "status", "status": None}, None),
    "email_null": ({"type": "email", "email": None}, None),
    "phone_number_null": ({"type": "phone_number", "phone_number": None}, None),
    "formula_empty_string": ({"type": "formula", "formula": {"type": "string", "string": ""}}, None),
    "formula_date_null": ({"type": "formula", "formula": {"type": "date", "date": None}}, None),
    "rollup_number_null": (
        {"type": "rollup", "rollup": {"type": "number", "number": None, "function": "average"}},
        None,
    ),
    "rollup_date_null": (
        {"type": "rollup", "rollup": {"type": "date", "date": None, "function": "latest_date"}},
        None,
    ),
    "rollup_array_empty": (
        {"type": "rollup", "rollup": {"type": "array", "array": [], "function": "show_original"}},
        [],
    ),
    "rollup_array_of_dates_and_selects": (
        {
            "type": "rollup",
            "rollup": {
                "type": "array",
                "function": "show_original",
                "array": [
                    {"type": "date", "date": {"start": "2026-03-04", "end": None, "time_zone": None}},
                    {"type": "date", "date": None},
                    {
                        "type": "date",
                        "date": {"start": "2026-03-04T09:30:00.000+08:00", "end": None, "time_zone": None},
                    },
                    {"type": "select", "select": {"id": "a", "name": "Open", "color": "red"}},
                    {"type": "select", "select": None},
                    {"type": "title", "title": []},
                    {"type": "number", "number": 12.0},
                ],
            },
        },
        ["2026-03-04", "2026-03-04T09:30:00.000+08:00", "Open", "12"],
    ),
    "people_with_bot": ({"type": "people", "people": [bot(U2), full_person(U1)]}, [U2, U1]),
    "people_empty": ({"type": "people", "people": []}, []),
    "relation_empty": ({"type": "relation", "relation": [], "has_more": False}, []),
    "files_empty": ({"type": "files", "files": []}, []),
    "created_by_bot": ({"type": "created_by", "created_by": bot(U2)}, U2),
    "last_edited_by_partial_user": ({"type": "last_edited_by", "last_edited_by": user(U1)}, U1),
    "unknown_future_type": (
        {"type": "ai_summary", "ai_summary": {"text": "Quarterly", "score": 0.5}},
        '{"score":0.5,"text":"Quarterly"}',
    ),
    "unknown_future_type_null": ({"type": "ai_summary", "ai_summary": None}, None),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_flatten_property(case: str) -> None:
    prop, expected = CASES[case]
    assert flatten_property(prop) == expected


def test_flatten_properties_splits_scalars_and_lists() -> None:
    props = {name: prop for name, (prop, _) in CASES.items()}
    scalars, lists = flatten_properties(props)
    assert set(scalars) | set(lists) == set(props)
    assert not set(scalars) & set(lists)
    for name, (_, expected) in CASES.items():
        assert (lists if isinstance(expected, list) else scalars)[name] == expected
    assert {CASES[n][0]["type"] for n in lists} <= LIST_PROPERTY_TYPES | {"rollup"}


def page(properties: dict[str, object], **overrides: object) -> dict[str, object]:
    base = {
        "object": "page",
        "id": PAGE,
        "created_time": "2024-11-02T08:15:00.000Z",
        "last_edited_time": "2025-01-05T10:31:00.000Z",
        "in_trash": False,
        "archived": False,
        "parent": {"type": "database_id", "database_id": U2},
        "properties": properties,
    }
    return {**base, **overrides}


def test_bronze_row_shape() -> None:
    props = {"Name": CASES["title"][0], "Tags": CASES["multi_select"][0], "Budget": CASES["number_int"][0]}
    row = bronze_row(page(props), database_name="projects")
    assert row["page_id"] == PAGE
    assert row["database_id"] == U2
    assert row["data_source_id"] is None
    assert row["created_time"] == datetime(2024, 11, 2, 8, 15, tzinfo=UTC)
    assert row["last_edited_time"] == datetime(2025, 1, 5, 10, 31, tzinfo=UTC)
    assert row["in_trash"] is False and row["deleted"] is False
    assert row["properties"] == {"Name": "Cloud migration", "Budget": "1200"}
    assert row["property_lists"] == {"Tags": ["FinOps", "Azure"]}
    assert json.loads(row["raw_payload"])["id"] == PAGE
    assert len(row["content_hash"]) == 64


def test_bronze_row_reads_2025_parent_and_trash() -> None:
    ds = "11111111-2222-4333-8444-555555555555"
    payload = page(
        {}, in_trash=True, parent={"type": "data_source_id", "data_source_id": ds, "database_id": U2}
    )
    payload.pop("archived")
    row = bronze_row(payload, database_name="projects")
    assert (row["database_id"], row["data_source_id"], row["in_trash"]) == (U2, ds, True)


def test_content_hash_ignores_key_order_signatures_and_labels() -> None:
    files_a = CASES["files"][0]
    files_b = json.loads(json.dumps(files_a).replace("X-Amz-Signature=1", "X-Amz-Signature=2"))
    a = page({"Name": CASES["title"][0], "Files": files_a, "Tags": CASES["multi_select"][0]})
    b = page({"Tags": CASES["multi_select"][0], "Files": files_b, "Name": CASES["title"][0]})
    b = dict(reversed(list(b.items())))
    row_a = bronze_row(a, database_name="projects")
    row_b = bronze_row(b, database_name="renamed", data_source_id="11111111-2222-4333-8444-555555555555")
    assert row_a["raw_payload"] != row_b["raw_payload"]
    assert row_a["content_hash"] == row_b["content_hash"]


def test_content_hash_changes_with_content_edit_time_and_trash() -> None:
    base = bronze_row(page({"Budget": CASES["number_int"][0]}), database_name="p")["content_hash"]
    changed = page({"Budget": {"type": "number", "number": 1300}})
    assert bronze_row(changed, database_name="p")["content_hash"] != base
    touched = page({"Budget": CASES["number_int"][0]}, last_edited_time="2025-01-05T10:32:00.000Z")
    assert bronze_row(touched, database_name="p")["content_hash"] != base
    trashed = page({"Budget": CASES["number_int"][0]}, in_trash=True)
    assert bronze_row(trashed, database_name="p")["content_hash"] != base


def test_tombstone_row() -> None:
    gone = tombstone_row(PAGE, database_name="projects", database_id=U2, deleted=True)
    assert gone["deleted"] is True and gone["in_trash"] is False
    assert gone["properties"] == {} and gone["property_lists"] == {}
    trashed = tombstone_row(PAGE, database_name="projects", database_id=U2, deleted=False)
    assert trashed["in_trash"] is True and trashed["content_hash"] != gone["content_hash"]


# ------------------------------------------------------------------------------------------ properties


_text = st.text(max_size=30)
_uuid = st.uuids().map(str)
_rich = st.lists(_text.map(text), max_size=4)
_date = st.one_of(
    st.none(),
    st.builds(
        lambda s, e: {"start": s.isoformat(), "end": e.isoformat() if e else None, "time_zone": None},
        st.dates(),
        st.one_of(st.none(), st.dates()),
    ),
)
_number = st.one_of(
    st.none(), st.integers(-(10**12), 10**12), st.floats(allow_nan=False, allow_infinity=False, width=64)
)
_option = st.builds(lambda n: {"id": "x", "name": n, "color": "default"}, _text)
_scalar_value = st.one_of(
    st.builds(lambda v: {"type": "title", "title": v}, _rich),
    st.builds(lambda v: {"type": "rich_text", "rich_text": v}, _rich),
    st.builds(lambda v: {"type": "number", "number": v}, _number),
    st.builds(lambda v: {"type": "select", "select": v}, st.one_of(st.none(), _option)),
    st.builds(lambda v: {"type": "status", "status": v}, st.one_of(st.none(), _option)),
    st.builds(lambda v: {"type": "date", "date": v}, _date),
    st.builds(lambda v: {"type": "checkbox", "checkbox": v}, st.booleans()),
    st.builds(lambda v: {"type": "url", "url": v}, st.one_of(st.none(), _text)),
    st.builds(
        lambda p, n: {"type": "unique_id", "unique_id": {"prefix": p, "number": n}},
        st.one_of(st.none(), st.sampled_from(["PRJ", "BL"])),
        st.integers(0, 10**6),
    ),
    st.builds(
        lambda v: {"type": "formula", "formula": {"type": "number", "number": v}},
        _number,
    ),
    st.builds(lambda v: {"type": "formula", "formula": {"type": "string", "string": v}}, _text),
    st.builds(lambda v: {"type": "rollup", "rollup": {"type": "number", "number": v}}, _number),
    st.builds(lambda v: {"type": "created_by", "created_by": {"object": "user", "id": v}}, _uuid),
)
_list_value = st.one_of(
    st.builds(lambda v: {"type": "multi_select", "multi_select": v}, st.lists(_option, max_size=5)),
    st.builds(
        lambda v: {"type": "relation", "relation": [{"id": i} for i in v], "has_more": False},
        st.lists(_uuid, max_size=30),
    ),
    st.builds(lambda v: {"type": "people", "people": [user(i) for i in v]}, st.lists(_uuid, max_size=5)),
    st.builds(
        lambda v: {"type": "rollup", "rollup": {"type": "array", "array": v}},
        st.lists(_scalar_value, max_size=5),
    ),
)
_properties = st.dictionaries(_text, st.one_of(_scalar_value, _list_value), max_size=12)


@given(_scalar_value)
def test_scalar_types_flatten_to_text_or_none(prop: dict[str, object]) -> None:
    assert flatten_property(prop) is None or isinstance(flatten_property(prop), str)


@given(_list_value)
def test_list_types_flatten_to_lists_of_text(prop: dict[str, object]) -> None:
    flat = flatten_property(prop)
    assert isinstance(flat, list) and all(isinstance(v, str) for v in flat)


@given(_number)
def test_number_text_round_trips(value: float | int | None) -> None:
    flat = format_number(value)
    if value is None:
        assert flat is None
    else:
        assert flat is not None and math.isclose(float(flat), value, rel_tol=0, abs_tol=0)


@given(_rich)
def test_plain_text_is_the_concatenation(rich: list[dict[str, object]]) -> None:
    expected = "".join(item["plain_text"] for item in rich) or None  # type: ignore[misc]
    assert flatten_property({"type": "rich_text", "rich_text": rich}) == expected


@given(_properties, st.randoms())
def test_flattening_and_hash_ignore_property_order(props: dict[str, dict[str, object]], rnd) -> None:
    shuffled_items = list(props.items())
    rnd.shuffle(shuffled_items)
    shuffled = dict(shuffled_items)
    scalars, lists = flatten_properties(props)
    assert (scalars, lists) == flatten_properties(shuffled)
    assert set(scalars).isdisjoint(lists) and set(scalars) | set(lists) == set(props)
    a = bronze_row(page(props), database_name="x")
    b = bronze_row(page(shuffled), database_name="x")
    assert a["content_hash"] == b["content_hash"]
    assert a["content_hash"] == content_hash(
        page_id=PAGE,
        created_time=a["created_time"],
        last_edited_time=a["last_edited_time"],
        in_trash=False,
        deleted=False,
        properties=dict(reversed(list(scalars.items()))),
        property_lists=lists,
    )


def test_truncation_detection() -> None:
    assert is_truncated({"type": "relation", "relation": [{"id": U1}] * 25, "has_more": True})
    assert not is_truncated({"type": "relation", "relation": [{"id": U1}] * 25, "has_more": False})
    # people lists are cut at 25 without a flag: 25 means "maybe more", fewer means complete
    assert is_truncated({"type": "people", "people": [user(U1)] * 25})
    assert not is_truncated({"type": "people", "people": [user(U1)] * 24})
    assert not is_truncated({"type": "multi_select", "multi_select": [{"name": "x"}] * 30})


# ----------------------------------------------------------------- every type, as real Notion sends it
# Each strategy draws (property value, expected flat value) for one type, nulls, empties, mentions and bot
# users included; the expectation is built alongside the value, not by calling the code under test.

_ANNOTATIONS = {
    "bold": False,
    "italic": False,
    "strikethrough": False,
    "underline": False,
    "code": False,
    "color": "default",
}
_word = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=12)
_person = st.builds(
    lambda uid, name, email: {
        "object": "user",
        "id": uid,
        "type": "person",
        "name": name,
        "avatar_url": None,
        "person": {"email": email},
    },
    _uuid,
    _word,
    st.emails(),
)
_any_user = st.one_of(_uuid.map(user), _person, st.builds(bot, _uuid, _word))
_Case = tuple[dict[str, object], object]


def _item(item_type: str, body: dict[str, object], plain: str) -> dict[str, object]:
    return {"type": item_type, **body, "annotations": _ANNOTATIONS, "plain_text": plain, "href": None}


_rich_item = st.one_of(
    _word.map(lambda t: _item("text", {"text": {"content": t, "link": None}}, t)),
    st.builds(
        lambda u, name: _item(
            "mention", {"mention": {"type": "user", "user": {"object": "user", "id": u}}}, f"@{name}"
        ),
        _uuid,
        _word,
    ),
    st.dates().map(
        lambda d: _item(
            "mention",
            {"mention": {"type": "date", "date": {"start": d.isoformat(), "end": None, "time_zone": None}}},
            d.isoformat(),
        )
    ),
    _word.map(lambda e: _item("equation", {"equation": {"expression": e}}, e)),
)
_rich_case = st.lists(_rich_item, max_size=4).map(
    lambda items: (items, "".join(str(i["plain_text"]) for i in items) or None)
)
_offset = st.sampled_from(["+00:00", "+08:00", "+01:00", "+02:00", "-05:00"])
_minute_datetime = st.builds(
    lambda dt, off: dt.strftime("%Y-%m-%dT%H:%M:00.000") + off,
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)),
    _offset,
)
_date_text = st.one_of(st.dates().map(lambda d: d.isoformat()), _minute_datetime)
_date_case = st.one_of(
    st.just((None, None)),
    st.builds(
        lambda start, end: (
            {"start": start, "end": end, "time_zone": None},
            f"{start}/{end}" if end else start,
        ),
        _date_text,
        st.one_of(st.none(), _date_text),
    ),
)
_exact_number = st.one_of(
    st.integers(-(10**9), 10**9).map(lambda n: (n, str(n))),
    st.integers(-(10**9), 10**9).map(lambda n: (float(n), str(n))),  # 12.0 prints as 12
    st.integers(-(10**6), 10**6).map(lambda n: (n + 0.25, repr(n + 0.25))),
)
_option_case = st.one_of(
    st.just((None, None)), _word.map(lambda n: ({"id": "x", "name": n, "color": "default"}, n))
)


def _value(kind: str) -> object:
    """`(value, expected)` strategy -> `(property value object, expected)` strategy."""
    return lambda pair: ({"id": "p", "type": kind, kind: pair[0]}, pair[1])


_place_case = st.one_of(
    st.just((None, None)),
    st.builds(
        lambda lat, lon, name, address: (
            {
                "lat": lat,
                "lon": lon,
                "name": name,
                "address": address,
                "aws_place_id": None,
                "google_place_id": None,
            },
            ", ".join(p for p in (name, address) if p) or f"{lat},{lon}",
        ),
        st.floats(-90, 90, allow_nan=False),
        st.floats(-180, 180, allow_nan=False),
        st.one_of(st.none(), _word),
        st.one_of(st.none(), _word),
    ),
)
_formula_case = st.one_of(
    st.one_of(st.none(), _word).map(lambda v: ({"type": "string", "string": v}, v)),
    st.one_of(st.just((None, None)), _exact_number).map(lambda p: ({"type": "number", "number": p[0]}, p[1])),
    st.one_of(st.none(), st.booleans()).map(
        lambda v: ({"type": "boolean", "boolean": v}, None if v is None else "true" if v else "false")
    ),
    _date_case.map(lambda p: ({"type": "date", "date": p[0]}, p[1])),
)
# Rollup array items are property values themselves (no id): titles, dates, numbers, selects, people.
_array_item = st.one_of(
    _rich_case.map(lambda p: ({"type": "title", "title": p[0]}, p[1])),
    _rich_case.map(lambda p: ({"type": "rich_text", "rich_text": p[0]}, p[1])),
    _date_case.map(lambda p: ({"type": "date", "date": p[0]}, p[1])),
    st.one_of(st.just((None, None)), _exact_number).map(lambda p: ({"type": "number", "number": p[0]}, p[1])),
    _option_case.map(lambda p: ({"type": "select", "select": p[0]}, p[1])),
    st.lists(_any_user, max_size=3).map(lambda us: ({"type": "people", "people": us}, [u["id"] for u in us])),
)


def _splice(expected: list[object]) -> list[str]:
    out: list[str] = []
    for value in expected:
        if isinstance(value, list):
            out.extend(value)
        elif value is not None:
            out.append(str(value))
    return out


_rollup_case = st.one_of(
    st.one_of(st.just((None, None)), _exact_number).map(
        lambda p: ({"type": "number", "number": p[0], "function": "sum"}, p[1])
    ),
    _date_case.map(lambda p: ({"type": "date", "date": p[0], "function": "latest_date"}, p[1])),
    st.lists(_array_item, max_size=6).map(
        lambda items: (
            {"type": "array", "array": [i for i, _ in items], "function": "show_original"},
            _splice([e for _, e in items]),
        )
    ),
    st.just(({"type": "incomplete", "incomplete": {}, "function": "sum"}, None)),
)
_minute_z = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)).map(
    lambda dt: dt.strftime("%Y-%m-%dT%H:%M:00.000Z")
)
_ANY_TYPE: dict[str, st.SearchStrategy[_Case]] = {
    "title": _rich_case.map(_value("title")),
    "rich_text": _rich_case.map(_value("rich_text")),
    "number": st.one_of(st.just((None, None)), _exact_number).map(_value("number")),
    "select": _option_case.map(_value("select")),
    "status": _option_case.map(_value("status")),
    "multi_select": st.lists(_option_case.filter(lambda p: p[0] is not None), max_size=4)
    .map(lambda ps: ([o for o, _ in ps], [n for _, n in ps]))
    .map(_value("multi_select")),
    "date": _date_case.map(_value("date")),
    "people": st.lists(_any_user, max_size=4)
    .map(lambda us: (us, [u["id"] for u in us]))
    .map(_value("people")),
    "relation": st.lists(_uuid, max_size=5).map(
        lambda ids: (
            {"id": "p", "type": "relation", "relation": [{"id": i} for i in ids], "has_more": False},
            ids,
        )
    ),
    "files": st.lists(_word, max_size=3)
    .map(
        lambda names: (
            [
                {"name": n, "type": "external", "external": {"url": f"https://example.com/{i}"}}
                for i, n in enumerate(names)
            ],
            [f"https://example.com/{i}" for i in range(len(names))],
        )
    )
    .map(_value("files")),
    "checkbox": st.booleans().map(lambda b: (b, "true" if b else "false")).map(_value("checkbox")),
    "url": st.one_of(st.none(), _word).map(lambda v: (v, v)).map(_value("url")),
    "email": st.one_of(st.none(), st.emails()).map(lambda v: (v, v)).map(_value("email")),
    "phone_number": st.one_of(st.none(), _word).map(lambda v: (v, v)).map(_value("phone_number")),
    "formula": _formula_case.map(_value("formula")),
    "rollup": _rollup_case.map(_value("rollup")),
    "unique_id": st.builds(
        lambda prefix, n: ({"prefix": prefix, "number": n}, f"{prefix}-{n}" if prefix else str(n)),
        st.one_of(st.none(), st.sampled_from(["PRJ", "BL", "ACT"])),
        st.integers(1, 10**6),
    ).map(_value("unique_id")),
    "created_time": _minute_z.map(lambda v: (v, v)).map(_value("created_time")),
    "last_edited_time": _minute_z.map(lambda v: (v, v)).map(_value("last_edited_time")),
    "created_by": _any_user.map(lambda u: (u, u["id"])).map(_value("created_by")),
    "last_edited_by": _any_user.map(lambda u: (u, u["id"])).map(_value("last_edited_by")),
    "verification": st.one_of(
        st.just(({"state": "unverified", "verified_by": None, "date": None}, "unverified")),
        st.builds(
            lambda u, d: ({"state": "verified", "verified_by": u, "date": d[0]}, "verified"),
            _any_user,
            _date_case,
        ),
    ).map(_value("verification")),
    "place": _place_case.map(_value("place")),
    "button": st.just(({}, None)).map(_value("button")),
}
_any_case = st.one_of(*_ANY_TYPE.values())


def test_the_strategies_cover_every_property_type() -> None:
    assert set(_ANY_TYPE) == {
        "title", "rich_text", "number", "select", "status", "multi_select", "date", "people", "relation", "files",
        "checkbox", "url", "email", "phone_number", "formula", "rollup", "unique_id", "created_time",
        "last_edited_time", "created_by", "last_edited_by", "verification", "place", "button",
    }  # fmt: skip


@given(_any_case)
def test_every_type_flattens_to_its_expected_value(case: _Case) -> None:
    prop, expected = case
    flat = flatten_property(prop)
    assert flat == expected
    if isinstance(flat, list):
        assert all(isinstance(v, str) for v in flat)
    else:
        assert flat is None or isinstance(flat, str)


@given(st.dictionaries(_word, _any_case, max_size=10))
def test_nulls_stay_null_and_lists_stay_lists(cases: dict[str, _Case]) -> None:
    props = {name: prop for name, (prop, _) in cases.items()}
    scalars, lists = flatten_properties(props)
    for name, (prop, expected) in cases.items():
        if prop["type"] in LIST_PROPERTY_TYPES or (
            prop["type"] == "rollup" and prop["rollup"]["type"] == "array"  # type: ignore[index]
        ):
            assert lists[name] == expected and name not in scalars
        else:
            assert scalars[name] == expected and name not in lists
            if expected is None:
                assert scalars[name] is None  # NULL, never the text "None"
