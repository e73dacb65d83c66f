"""The SQLite inbox: one row per event id, read in order after a sequence, shared by threads and processes."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from ppm_resources.notion.webhooks import WebhookInbox, parse_event

from .conftest import notion_event


def test_readers_see_nothing_and_create_nothing_until_the_first_event(tmp_path: Path) -> None:
    inbox = WebhookInbox(tmp_path / "state" / "events.sqlite")
    assert (inbox.read_after(0), inbox.count(), inbox.last_sequence(), inbox.exists()) == ([], 0, 0, False)
    assert not (tmp_path / "state").exists()
    event = notion_event()
    assert inbox.append(parse_event(event), json.dumps(event))
    assert inbox.exists() and inbox.last_sequence() == 1
    with sqlite3.connect(inbox.path) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)


@settings(max_examples=25, deadline=None)
@given(
    ids=st.lists(st.sampled_from("abcdefgh"), max_size=30), after=st.integers(0, 35), limit=st.integers(1, 10)
)
def test_each_id_is_stored_once_and_read_in_arrival_order(
    tmp_path_factory, ids: list[str], after: int, limit: int
) -> None:
    inbox = WebhookInbox(tmp_path_factory.mktemp("inbox") / "events.sqlite")
    stored = [inbox.append(parse_event(notion_event(event_id=i))) for i in ids]
    first_seen = list(dict.fromkeys(ids))
    assert stored == [i not in ids[:n] for n, i in enumerate(ids)]
    rows = inbox.read_after(0, limit=100)
    assert [r.event_id for r in rows] == first_seen
    assert [r.sequence for r in rows] == sorted(r.sequence for r in rows)
    assert [r.event_id for r in inbox.read_after(after, limit)] == [
        r.event_id for r in rows if r.sequence > after
    ][:limit]


def test_concurrent_appends_from_threads_all_land_once(tmp_path: Path) -> None:
    inbox = WebhookInbox(tmp_path / "events.sqlite")
    events = [notion_event() for _ in range(40)]
    with ThreadPoolExecutor(8) as pool:
        # every event twice, as Notion's retries would race with the first delivery
        results = list(pool.map(lambda e: inbox.append(parse_event(e), json.dumps(e)), events + events))
    assert results.count(True) == 40
    assert sorted(r.event_id for r in inbox.read_after(0)) == sorted(e["id"] for e in events)


def test_another_process_reads_what_was_committed(tmp_path: Path) -> None:
    """The sensor runs in Dagster's process, the receiver in its own: a commit is visible at once."""
    inbox = WebhookInbox(tmp_path / "events.sqlite")
    event = notion_event("page.moved")
    inbox.append(parse_event(event), json.dumps(event))
    script = (
        "import sys; from ppm_resources.notion.webhooks import WebhookInbox; "
        "print(*[(e.sequence, e.event_id, e.type) for e in WebhookInbox(sys.argv[1]).read_after(0)])"
    )
    output = subprocess.run(
        [sys.executable, "-c", script, str(inbox.path)], capture_output=True, text=True, check=True
    ).stdout
    assert output.strip() == str((1, event["id"], "page.moved"))
