"""`ActionWriter` against the sandbox: one page per Source ID, whatever the faults (DESIGN §8).

Each fault is played by the sandbox on `POST /v1/pages`; "after" faults let the write happen and lose the answer
(a 502/504, a dropped connection, a timeout, a cut body), which is where a blind retry would make a second page.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ppm_sandbox import SandboxServer
from tests.writeback.conftest import Write, draft, pages_with

POST_PAGES = {"method": "POST", "path": "/v1/pages"}

#: Faults after which the page exists although the client saw a failure.
LOST_ANSWERS = [
    {"status": 502, "when": "after"},
    {"status": 504, "when": "after"},
    {"status": 500, "when": "after"},
    {"status": 409, "when": "after"},
    {"kind": "reset", "when": "after"},
    {"kind": "timeout", "when": "after"},
    {"kind": "malformed"},
]
#: Faults after which nothing was written.
REJECTED = [
    {"status": 409},
    {"status": 502},
    {"status": 503},
    {"kind": "reset"},
    {"kind": "timeout"},
    {"status": 429},
]


def _label(fault: dict[str, Any]) -> str:
    return f"{fault.get('kind', 'status')}-{fault.get('status', '')}-{fault.get('when', 'before')}"


@pytest.mark.parametrize("api_version", ["2022-06-28", "2025-09-03"])
def test_a_draft_becomes_one_page_with_every_mapped_property(
    clean_sandbox: SandboxServer, write: Write, api_version: str
) -> None:
    project = clean_sandbox.notion.truth("projects")[0]["id"]
    person = clean_sandbox.notion.model.people[0].id
    item = draft(
        "advisor:/subscriptions/0b5f/providers/microsoft.advisor/recommendations/abc",
        title="Right-size vm-app-01\x07 (saves 120 USD/month)",
        detail="Resize to D2s_v5.\n\nSee the Advisor page.",
        project_page_id=project,
        assignee_id=person,
        due_date=__import__("datetime").date(2026, 12, 31),
        priority="high",
    )
    [result] = write([item], api_version=api_version)
    assert result.outcome == "created" and result.create_requests == 1, result
    [page] = pages_with(clean_sandbox, item.source_id)
    assert page["id"] == result.page_id
    props = page["properties"]
    assert props["Title"] == "Right-size vm-app-01 (saves 120 USD/month)"  # the bell character is gone
    assert props["Project"] == [project] and props["Assignee"] == [person]
    assert str(props["Due Date"]).startswith("2026-12-31")
    assert (props["Source"], props["Priority"], props["Status"]) == ("Advisor", "High", "Not started")

    [again] = write([item], api_version=api_version)
    assert (again.outcome, again.page_id, again.create_requests) == ("existed", result.page_id, 0)
    assert len(pages_with(clean_sandbox, item.source_id)) == 1


@pytest.mark.parametrize("fault", LOST_ANSWERS, ids=_label)
def test_a_lost_answer_is_found_by_a_re_read_not_created_twice(
    clean_sandbox: SandboxServer, write: Write, fault: dict[str, Any]
) -> None:
    clean_sandbox.faults.set(fail_next=[{**fault, **POST_PAGES}], timeout_s=2.0)
    item = draft(f"dq:lost:{_label(fault)}")
    [result] = write([item], timeout_s=0.5)
    assert result.outcome == "created" and result.create_requests == 1, result
    assert "answer lost" in result.note
    [page] = pages_with(clean_sandbox, item.source_id)
    assert page["id"] == result.page_id


@pytest.mark.parametrize("fault", REJECTED, ids=_label)
def test_a_rejected_create_is_sent_again_and_makes_one_page(
    clean_sandbox: SandboxServer, write: Write, fault: dict[str, Any]
) -> None:
    clean_sandbox.faults.set(fail_next=[{**fault, **POST_PAGES}], timeout_s=2.0)
    item = draft(f"dq:rejected:{_label(fault)}")
    [result] = write([item], timeout_s=0.5)
    assert result.outcome == "created", result
    assert len(pages_with(clean_sandbox, item.source_id)) == 1
    posts = clean_sandbox.stats.snapshot()["by_endpoint"]["POST /notion/v1/pages"]
    assert posts == 2  # the failed create (whatever it was) and the one that worked


def test_a_create_that_keeps_failing_fails_the_draft_without_a_page(
    clean_sandbox: SandboxServer, write: Write
) -> None:
    clean_sandbox.faults.set(fail_next=[{"status": 503, "count": 3, **POST_PAGES}])
    item = draft("dq:down:everything")
    [result] = write([item], max_create_attempts=3)
    assert result.outcome == "failed" and result.page_id is None
    assert "3 create attempts" in (result.error or "")
    assert pages_with(clean_sandbox, item.source_id) == []
    [retried] = write([item])  # the next run sends it again
    assert retried.outcome == "created" and len(pages_with(clean_sandbox, item.source_id)) == 1


def test_rate_limited_writes_wait_and_make_one_page(clean_sandbox: SandboxServer, write: Write) -> None:
    clean_sandbox.faults.set(fail_next=[{"status": 429, "count": 2, **POST_PAGES}], retry_after_s=1)
    item = draft("advisor:rate-limited")
    [result] = write([item])
    assert result.outcome == "created" and result.create_requests == 1  # 429s are retried inside one request
    assert len(pages_with(clean_sandbox, item.source_id)) == 1
    assert clean_sandbox.stats.snapshot()["rate_limited"] == 2


def test_a_bad_request_fails_the_draft_with_notions_reason(
    clean_sandbox: SandboxServer, write: Write
) -> None:
    clean_sandbox.notion.rename_property("actions", "Due Date", "Deadline")
    from datetime import date

    [result] = write([draft("manual:PRJ-1:abc", due_date=date(2026, 1, 1))])
    assert result.outcome == "failed"
    assert "Due Date" in (result.error or "") and "notion_mapping.yaml" in (result.error or "")


def test_text_over_notions_limits_is_cut_not_rejected(clean_sandbox: SandboxServer, write: Write) -> None:
    item = draft("dq:long:text", title="🚨" * 1500, detail=("x" * 2500 + "\n\n") * 150)
    [result] = write([item])
    assert result.outcome == "created", result.error
    [page] = pages_with(clean_sandbox, item.source_id)
    assert page["properties"]["Title"].endswith("…")


def test_two_writers_racing_for_one_item_make_one_page(clean_sandbox: SandboxServer, write: Write) -> None:
    # Latency makes the lookups of both writers happen before either create would land without the lock.
    clean_sandbox.faults.set(latency_ms=150)
    item = draft("advisor:raced")
    results: list[Any] = []
    threads = [threading.Thread(target=lambda: results.extend(write([item]))) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r.outcome for r in results) == ["created", "existed"]
    assert len({r.page_id for r in results}) == 1
    assert len(pages_with(clean_sandbox, item.source_id)) == 1


def test_pages_made_outside_the_write_back_are_found_and_the_oldest_used(
    clean_sandbox: SandboxServer, write: Write
) -> None:
    first = clean_sandbox.notion.create_page("actions", {"Title": "by hand", "Source ID": "dq:twice:x"}).id
    clean_sandbox.notion.create_page("actions", {"Title": "by hand again", "Source ID": "dq:twice:x"})
    [result] = write([draft("dq:twice:x")])
    assert (result.outcome, result.page_id) == ("existed", first)
    assert "2 pages" in result.note


FAULTS = st.sampled_from([*LOST_ANSWERS, *REJECTED])


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plan=st.lists(st.tuples(st.integers(0, 3), st.lists(FAULTS, max_size=3)), min_size=1, max_size=4))
def test_any_fault_history_leaves_exactly_one_page_per_item(
    clean_sandbox: SandboxServer, write: Write, plan: list[tuple[int, list[dict[str, Any]]]]
) -> None:
    """Runs of the writer for a few items under queued faults: afterwards each item has one page, and a run's
    result names that page (or failed, and then a clean run creates it)."""
    run = __import__("uuid").uuid4().hex[:8]
    for item_index, faults in plan:
        item = draft(f"dq:history:{run}-{item_index}")
        clean_sandbox.faults.set(fail_next=[{**f, **POST_PAGES} for f in faults], timeout_s=1.0)
        [result] = write([item], timeout_s=0.3, max_create_attempts=2)
        clean_sandbox.faults.set(fail_next=[])
        pages = pages_with(clean_sandbox, item.source_id)
        assert len(pages) <= 1
        if result.ok:
            assert [p["id"] for p in pages] == [result.page_id]
    for item_index in {i for i, _ in plan}:
        [final] = write([draft(f"dq:history:{run}-{item_index}")])
        assert final.ok and len(pages_with(clean_sandbox, final.draft.source_id)) == 1


def test_the_lock_serialises_holders_of_one_source_id(tmp_path) -> None:
    from ppm_resources.writeback.lock import SourceLocks

    locks = SourceLocks(tmp_path)
    order: list[str] = []

    async def hold(name: str, pause: float) -> None:
        async with locks.hold("dq:x:y"):
            order.append(f"{name}+")
            await asyncio.sleep(pause)
            order.append(f"{name}-")

    async def main() -> None:
        await asyncio.gather(hold("a", 0.2), hold("b", 0.0))

    asyncio.run(main())
    assert order in (["a+", "a-", "b+", "b-"], ["b+", "b-", "a+", "a-"])


@pytest.mark.parametrize("api_version", ["2022-06-28", "2025-09-03"])
def test_a_batch_looks_up_once_and_creates_only_what_is_missing(
    clean_sandbox: SandboxServer, write: Write, api_version: str
) -> None:
    clean_sandbox.notion.create_page("actions", {"Title": "by hand", "Source ID": "advisor:batch-1"})
    items = [draft(f"advisor:batch-{i}") for i in range(8)] + [draft("dq:batch:x")]
    clean_sandbox.faults.set(
        fail_next=[{"status": 502, "when": "after", **POST_PAGES}]
    )  # the first create's answer
    clean_sandbox.stats.reset()
    results = write(items, api_version=api_version, batch=True)
    assert [r.outcome for r in results] == ["created", "existed"] + ["created"] * 7
    for item in items:
        assert len(pages_with(clean_sandbox, item.source_id)) == 1
    calls = clean_sandbox.stats.snapshot()["by_endpoint"]
    assert (
        calls["POST /notion/v1/pages"] == 8
    )  # one per missing draft: the lost answer was found by a re-read
    queries = sum(n for endpoint, n in calls.items() if endpoint.endswith("/query"))
    assert queries == 2 + 1  # one listing per source (advisor:, dq:) and the re-read after the lost answer

    again = write(items, api_version=api_version, batch=True)
    assert {r.outcome for r in again} == {"existed"} and [r.page_id for r in again] == [
        r.page_id for r in results
    ]


def test_a_closed_action_is_found_and_left_closed(clean_sandbox: SandboxServer, write: Write) -> None:
    item = draft("dq:key_unique:silver/projects")
    [first] = write([item])
    clean_sandbox.notion.edit_page(first.page_id, {"Status": "Done"})
    [again] = write([item])  # the issue came back: its Action is found as it is
    assert (again.outcome, again.page_id) == ("existed", first.page_id)
    [page] = pages_with(clean_sandbox, item.source_id)
    assert page["properties"]["Status"] == "Done"
