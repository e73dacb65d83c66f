"""The Notion change sensor against the sandbox over real HTTP: one probe per database, changed partitions only."""

from __future__ import annotations

import json
import uuid

import dagster as dg
import pytest

from ppm_assets.definitions import defs
from ppm_resources.notion_mapping import load_notion_mapping
from ppm_resources.notion_resource import NotionResource
from ppm_sandbox import SandboxServer
from ppm_sensors.notion_change import notion_change_sensor, parse_cursor


def _resources(sandbox: SandboxServer) -> dict[str, NotionResource]:
    return {
        "notion": NotionResource(
            base_url=sandbox.notion_url,
            token=f"secret_{uuid.uuid4().hex}",
            lookup_by_title=True,
            rate_limit_rps=500,
            rate_limit_burst=100,
        )
    }


def _evaluate(
    sandbox: SandboxServer, cursor: str | None
) -> tuple[list[dg.RunRequest], dg.SkipReason | None, str | None]:
    context = dg.build_sensor_context(
        resources=_resources(sandbox), cursor=cursor, repository_def=defs.get_repository_def()
    )
    result = notion_change_sensor.evaluate_tick(context)
    skip = result.skip_message
    return list(result.run_requests or []), skip, result.cursor


def test_first_tick_requests_every_database_then_skips_until_a_page_changes(
    clean_sandbox: SandboxServer,
) -> None:
    names = load_notion_mapping().names
    assert len(names) == 5

    requests, skip, cursor = _evaluate(clean_sandbox, None)
    assert skip is None
    assert sorted(r.partition_key for r in requests) == sorted(names)
    assert all(r.run_key == f"{r.partition_key}:{parse_cursor(cursor)[r.partition_key]}" for r in requests)
    assert all(r.tags.get("ppm/trigger") == "notion_change" for r in requests)
    assert set(parse_cursor(cursor)) == set(names)

    again, skip, same_cursor = _evaluate(clean_sandbox, cursor)
    assert again == []
    assert skip is not None and "no Notion database changed" in skip
    assert same_cursor == cursor  # a skip keeps the cursor

    clean_sandbox.clock.freeze()
    clean_sandbox.clock.advance(61)  # last_edited_time has minute resolution: make the edit's minute new
    page_id = clean_sandbox.notion.truth("budget_lines")[0]["id"]
    clean_sandbox.notion.edit_page(page_id, {"Amount": 1})

    changed, skip, new_cursor = _evaluate(clean_sandbox, cursor)
    assert skip is None
    assert [r.partition_key for r in changed] == ["budget_lines"]
    before, after = parse_cursor(cursor), parse_cursor(new_cursor)
    assert after["budget_lines"] > before["budget_lines"]
    assert {k: v for k, v in after.items() if k != "budget_lines"} == {
        k: v for k, v in before.items() if k != "budget_lines"
    }
    assert changed[0].run_key == f"budget_lines:{after['budget_lines']}"


def test_probe_is_one_small_query_per_database(clean_sandbox: SandboxServer) -> None:
    """The probe stays cheap: five query requests (plus title look-ups in the sandbox), no paging."""
    _evaluate(clean_sandbox, None)
    queries = sum(n for endpoint, n in clean_sandbox.stats.by_endpoint.items() if "query" in endpoint)
    assert queries == 5, dict(clean_sandbox.stats.by_endpoint)


@pytest.mark.parametrize("cursor", [None, "", "not json", "[1, 2]"])
def test_unreadable_cursor_starts_over(cursor: str | None) -> None:
    assert parse_cursor(cursor) == {}


def test_cursor_round_trip() -> None:
    assert parse_cursor(json.dumps({"risks": "2026-01-01T00:00:00.000Z"})) == {
        "risks": "2026-01-01T00:00:00.000Z"
    }
