"""The demo workspace generator: sizes, determinism, defects, and the arithmetic it relies on."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ppm_sandbox import NotionConfig
from ppm_sandbox.notion.ids import IdCodec, Kind
from ppm_sandbox.notion.layout import Assignment, DefectPlan, Timeline
from ppm_sandbox.notion.store import NotionStore

EXPECTED_DEFECTS = {
    ("Budget Lines", "orphan_missing"): 6,
    ("Budget Lines", "orphan_trashed"): 6,
    ("Budget Lines", "unknown_currency"): 6,
    ("Budget Lines", "negative_amount"): 6,
    ("Budget Lines", "blank_name"): 6,
    ("Programs", "blank_name"): 1,
    ("Projects", "unknown_currency"): 1,
    ("Projects", "negative_amount"): 1,
    ("Risks", "orphan_missing"): 2,
    ("Risks", "orphan_trashed"): 1,
    ("Risks", "blank_name"): 1,
    ("Actions", "orphan_missing"): 2,
    ("Actions", "orphan_trashed"): 2,
    ("Actions", "blank_name"): 2,
}


@pytest.fixture(scope="module")
def store() -> NotionStore:
    return NotionStore()


def test_default_sizes(store: NotionStore) -> None:
    sizes = {d["title"]: d["generated_pages"] for d in store.describe()}
    assert sizes == {"Programs": 8, "Projects": 60, "Budget Lines": 1500, "Risks": 200, "Actions": 300}
    assert store.count_live("projects") == 59  # the last project starts in the trash


def test_same_seed_same_workspace() -> None:
    a, b = NotionStore(NotionConfig(seed=42)), NotionStore(NotionConfig(seed=42))
    assert a.describe() == b.describe()
    for database in ("programs", "projects", "budget_lines"):
        assert a.truth(database) == b.truth(database)
    assert [d.to_json() for d in a.defects()] == [d.to_json() for d in b.defects()]
    assert [p.id for p in a.database("projects").schema] == [p.id for p in b.database("projects").schema]


def test_other_seed_other_ids_and_values() -> None:
    a, b = NotionStore(NotionConfig(seed=42)), NotionStore(NotionConfig(seed=43))
    assert {d["database_id"] for d in a.describe()}.isdisjoint({d["database_id"] for d in b.describe()})
    amounts_a = [p["properties"]["Amount"] for p in a.truth("budget_lines")[:50]]
    amounts_b = [p["properties"]["Amount"] for p in b.truth("budget_lines")[:50]]
    assert amounts_a != amounts_b


def test_anchor_moves_times_not_ids() -> None:
    a = NotionStore(NotionConfig(anchor=datetime(2026, 11, 1, tzinfo=UTC)))
    b = NotionStore(NotionConfig(anchor=datetime(2027, 3, 1, tzinfo=UTC)))
    ta, tb = a.truth("risks"), b.truth("risks")
    assert [p["id"] for p in ta] == [p["id"] for p in tb]
    assert ta[0]["last_edited_time"] < tb[0]["last_edited_time"]
    assert max(p["last_edited_time"] for p in ta) < "2026-11-01"


def test_defect_counts(store: NotionStore) -> None:
    defects = store.defects()
    assert Counter((d.database, d.kind) for d in defects) == EXPECTED_DEFECTS
    assert len(defects) == 43
    total = sum(d["generated_pages"] for d in store.describe())
    assert 0.015 < len(defects) / total < 0.025
    assert len({d.page_id for d in defects}) == 43
    assert store.defects("risks") == [d for d in defects if d.database == "Risks"]


def test_defects_are_visible_in_the_data(store: NotionStore) -> None:
    projects = {p["id"]: p for p in store.truth("projects")}
    trashed = store.model.page_id(store.database("projects").ordinal, 59)
    pages = {
        p["id"]: p
        for key in ("programs", "projects", "budget_lines", "risks", "actions")
        for p in store.truth(key)
    }
    for defect in store.defects():
        page = pages[defect.page_id]
        value = page["properties"][defect.property]
        if defect.kind == "blank_name":
            assert value == ""
        elif defect.kind == "unknown_currency":
            assert value in ("GBP", "XXX") and value == defect.value
        elif defect.kind == "negative_amount":
            assert value < 0 and value == defect.value
        elif defect.kind == "orphan_missing":
            assert value[0] not in projects and value[0] != trashed
            assert store.view(value[0]) is None  # 404
        else:
            assert value == [trashed]
            view = store.view(trashed)
            assert view is not None and view.in_trash
    clean = [
        p
        for p in store.truth("budget_lines")
        if p["id"] not in {d.page_id for d in store.defects("budget_lines")}
    ]
    assert all(p["properties"]["Currency"] in ("USD", "EUR", "PHP") for p in clean)
    assert all(p["properties"]["Amount"] > 0 and p["properties"]["Name"] for p in clean)
    assert all(p["properties"]["Project"][0] in projects for p in clean)


def test_currencies_and_relations_are_plausible(store: NotionStore) -> None:
    lines = store.truth("budget_lines")
    assert Counter(p["properties"]["Currency"] for p in lines).keys() >= {"USD", "EUR", "PHP"}
    flagship = store.model.page_id(store.database("projects").ordinal, 0)
    assert sum(flagship in p["properties"]["Project"] for p in lines) == 60
    # paid lines have actuals and dates in order
    for p in lines:
        props = p["properties"]
        if props["Paid Date"]:
            assert props["Actual Amount"] is not None
            assert props["Committed Date"] < props["Invoice Date"] < props["Paid Date"]


def test_scale_and_explicit_counts() -> None:
    scaled = NotionStore(NotionConfig(scale=0.1))
    sizes = {d["key"]: d["generated_pages"] for d in scaled.describe()}
    assert sizes == {"programs": 1, "projects": 6, "budget_lines": 150, "risks": 20, "actions": 30}
    explicit = NotionStore(NotionConfig(counts={"budget_lines": 10, "risks": 0}))
    assert explicit.count_live("budget_lines") == 10 and explicit.truth("risks") == []
    with pytest.raises(ValueError, match="unknown database keys"):
        NotionStore(NotionConfig(counts={"nope": 1}))


def test_bench_mode_spreads_pages() -> None:
    store = NotionStore(NotionConfig(bench_pages=30_001, bench_databases=5))
    bench = [d for d in store.describe() if d["key"].startswith("bench_")]
    assert [d["title"] for d in bench] == [f"Bench {i}" for i in range(1, 6)]
    assert sum(d["generated_pages"] for d in bench) == 30_001
    assert {d["generated_pages"] for d in bench} == {6000, 6001}
    schema = {p.name for p in store.database("bench_1").schema}
    assert {"Name", "Project", "Amount", "Currency"} <= schema


def test_generated_times_spread_over_the_year(store: NotionStore) -> None:
    edited = [p["last_edited_time"] for p in store.truth("budget_lines")]
    assert len(set(edited)) == 750  # two pages share each minute
    assert min(edited) >= "2025-11-01" and max(edited) < "2026-11-01"
    months = Counter(t[:7] for t in edited)
    assert len(months) >= 12


# ----------------------------------------------------------------------- layout arithmetic


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=1, max_value=5000), st.integers(min_value=0, max_value=2**40))
def test_timeline_is_monotonic_and_searchable(count: int, minute: int) -> None:
    timeline = Timeline(count, 29_000_000)
    indices = sorted({0, count - 1, count // 2, count // 3})
    edited = [timeline.edited(i) for i in indices]
    assert edited == sorted(edited)
    assert all(timeline.created(i) <= timeline.edited(i) for i in indices)
    probe = timeline.edited_start + minute % (timeline.edited_span + 2)
    first = timeline.first_edited_at_or_after(probe)
    assert first == count or timeline.edited(first) >= probe
    assert first == 0 or timeline.edited(first - 1) < probe


@settings(max_examples=60, deadline=None)
@given(
    st.integers(min_value=1, max_value=3000),
    st.lists(st.floats(min_value=0.0, max_value=5.0), min_size=1, max_size=40).filter(lambda w: sum(w) > 0),
    st.integers(min_value=0, max_value=2**62),
)
def test_assignment_inverse(count: int, weights: list[float], key: int) -> None:
    assignment = Assignment(count, weights, key)
    children = [assignment.sources(t) for t in range(len(weights))]
    flat = sorted(i for group in children for i in group)
    assert flat == list(range(count))  # a partition of the children
    for target, group in enumerate(children):
        assert all(assignment.target(i) == target for i in group)
        if weights[target] == 0:
            assert group == []


@settings(max_examples=40, deadline=None)
@given(
    st.integers(min_value=0, max_value=20_000),
    st.integers(min_value=1, max_value=100),
    st.integers(min_value=0, max_value=2**62),
)
def test_defect_plan_is_exact(count: int, period: int, key: int) -> None:
    plan = DefectPlan(count, period, ("a", "b", "c"), key)
    listed = dict(plan)
    assert len(listed) == (count + period - 1) // period
    sample = range(0, count, max(1, count // 200))
    assert all(plan.kind(i) == listed.get(i) for i in sample)


@settings(max_examples=100, deadline=None)
@given(
    st.integers(min_value=0, max_value=2**31),
    st.sampled_from(list(Kind)),
    st.integers(0, 255),
    st.integers(0, 2**36 - 1),
)
def test_id_codec_roundtrip(seed: int, kind: Kind, database: int, index: int) -> None:
    codec = IdCodec(seed)
    value = codec.encode(kind, database, index)
    decoded = codec.decode(value)
    assert decoded is not None and (decoded.kind, decoded.database, decoded.index) == (kind, database, index)
    assert codec.decode(value.replace("-", "")) == decoded
    assert IdCodec(seed + 1).decode(value) is None  # another workspace does not recognise it
