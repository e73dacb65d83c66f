"""A 1,000,000-page database served without enumerating it; the subprocess server and the CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from ppm_sandbox import DEFAULT_TOKEN, FaultSpec, NotionConfig, SandboxConfig, SandboxProcess, SandboxServer
from ppm_sandbox.cli import main
from ppm_sandbox.notion.store import minute_iso

MILLION = 1_000_000


@pytest.fixture(scope="module")
def big() -> Iterator[SandboxServer]:
    config = SandboxConfig(
        notion=NotionConfig(counts={"budget_lines": MILLION}), faults=FaultSpec.unlimited()
    )
    with SandboxServer(config) as server:
        yield server


@pytest.fixture
def big_api(big: SandboxServer) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {DEFAULT_TOKEN}", "Notion-Version": "2022-06-28"}
    with httpx.Client(base_url=big.notion_url, headers=headers, timeout=30) as client:
        yield client


def test_million_page_time_slices(big: SandboxServer, big_api: httpx.Client) -> None:
    db = big.notion.database("budget_lines")
    timeline = db.generator.timeline
    assert db.count == MILLION
    # a slice in the middle of the year, ascending, followed for a few cursors
    low, high = timeline.edited(400_000), timeline.edited(400_600)
    body: dict[str, Any] = {
        "filter": {
            "and": [
                {"timestamp": "last_edited_time", "last_edited_time": {"on_or_after": minute_iso(low)}},
                {"timestamp": "last_edited_time", "last_edited_time": {"before": minute_iso(high)}},
            ]
        },
        "sorts": [{"timestamp": "last_edited_time", "direction": "ascending"}],
        "page_size": 100,
    }
    seen: list[dict[str, Any]] = []
    while True:
        data = big_api.post(f"/v1/databases/{db.id}/query", json=body).json()
        seen += data["results"]
        if not data["has_more"]:
            break
        body["start_cursor"] = data["next_cursor"]
    expected = [big.notion.model.page_id(db.ordinal, i) for i in range(400_000, 400_600)]
    assert [p["id"] for p in seen] == expected
    times = [p["last_edited_time"] for p in seen]
    assert times == sorted(times) and minute_iso(low) <= times[0] and times[-1] < minute_iso(high)


def test_million_page_newest_first_and_edits(big: SandboxServer, big_api: httpx.Client) -> None:
    db = big.notion.database("budget_lines")
    newest = big_api.post(f"/v1/databases/{db.id}/query", json={"page_size": 100}).json()
    ids = [p["id"] for p in newest["results"]]
    assert ids[0] == big.notion.model.page_id(db.ordinal, MILLION - 1)
    assert newest["has_more"] is True
    last = big.notion.model.page_id(db.ordinal, MILLION - 1)
    assert big_api.get(f"/v1/pages/{last}").json()["properties"]["Line ID"]["unique_id"]["number"] == MILLION
    # an edited page jumps to the newest end of the timeline
    old = big.notion.model.page_id(db.ordinal, 17)
    big.notion.edit_page(old, {"Amount": 1.5})
    again = big_api.post(
        f"/v1/databases/{db.id}/query",
        json={"page_size": 3, "sorts": [{"timestamp": "last_edited_time", "direction": "descending"}]},
    ).json()
    assert again["results"][0]["id"] == old
    since = big_api.post(
        f"/v1/databases/{db.id}/query",
        json={
            "filter": {
                "timestamp": "last_edited_time",
                "last_edited_time": {"on_or_after": again["results"][0]["last_edited_time"]},
            }
        },
    ).json()
    assert [p["id"] for p in since["results"]] == [old]


def test_million_page_property_filter_within_a_slice(big: SandboxServer, big_api: httpx.Client) -> None:
    db = big.notion.database("budget_lines")
    timeline = db.generator.timeline
    body = {
        "filter": {
            "and": [
                {
                    "timestamp": "created_time",
                    "created_time": {"on_or_after": minute_iso(timeline.created(700_000))},
                },
                {"property": "Category", "select": {"equals": "CapEx"}},
            ]
        },
        "sorts": [{"timestamp": "created_time", "direction": "ascending"}],
        "page_size": 50,
    }
    data = big_api.post(f"/v1/databases/{db.id}/query", json=body).json()
    assert len(data["results"]) == 50 and data["has_more"] is True
    assert all(p["properties"]["Category"]["select"]["name"] == "CapEx" for p in data["results"])
    assert data["results"][0]["created_time"] >= minute_iso(timeline.created(700_000))


def test_subprocess_server_and_control(tmp_path: Any) -> None:
    with SandboxProcess(rate=None, counts={"budget_lines": 2_000}, latency_ms=0) as proc:
        assert proc.url.startswith("http://127.0.0.1:")
        assert proc.databases["budget_lines"]["title"] == "Budget Lines"
        headers = {"Authorization": f"Bearer {DEFAULT_TOKEN}", "Notion-Version": "2022-06-28"}
        db = proc.databases["budget_lines"]["database_id"]
        data = httpx.post(
            f"{proc.notion_url}/v1/databases/{db}/query", headers=headers, json={"page_size": 10}
        ).json()
        assert len(data["results"]) == 10
        proc.set_faults(fail_next=[{"status": 503, "count": 1}])
        failed = httpx.post(f"{proc.notion_url}/v1/databases/{db}/query", headers=headers, json={})
        assert failed.status_code == 503
        stats = proc.stats()
        assert stats["total_requests"] == 2 and stats["by_status"] == {"200": 1, "503": 1}
        assert proc.reset_stats()["total_requests"] == 0
        rss = proc.rss_bytes()
        assert rss is None or rss > 10_000_000
        pid = proc.pid
    assert proc.process is None and pid > 0


def test_cli_databases_command() -> None:
    result = CliRunner().invoke(main, ["databases", "--seed", "42", "--count", "budget_lines=100"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [d["key"] for d in data["databases"]] == [
        "programs",
        "projects",
        "budget_lines",
        "risks",
        "actions",
    ]
    assert data["databases"][2]["generated_pages"] == 100
    bad = CliRunner().invoke(main, ["serve", "--rate", "fast"])
    assert bad.exit_code != 0 and "unlimited" in bad.output
