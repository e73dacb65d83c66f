"""The Notion change sensor against the sandbox over real HTTP: one probe per database, changed partitions only."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import dagster as dg
import pytest

from ppm_assets.definitions import defs
from ppm_assets.partitions import RANGE_END, RANGE_START
from ppm_resources.notion.mapping import load_notion_mapping
from ppm_resources.notion.resource import NotionResource
from ppm_sandbox import SandboxServer
from ppm_sensors.notion.change_sensor import (
    HEARTBEAT,
    SensorCursor,
    build_notion_change_sensor,
    parse_cursor,
)

notion_change_sensor = build_notion_change_sensor(load_notion_mapping())


def _evaluate(
    notion: NotionResource, cursor: str | None
) -> tuple[list[dg.RunRequest], dg.SkipReason | None, str | None]:
    context = dg.build_sensor_context(
        resources={"notion": notion}, cursor=cursor, repository_def=defs.get_repository_def()
    )
    result = notion_change_sensor.evaluate_tick(context)
    skip = result.skip_message
    return list(result.run_requests or []), skip, result.cursor


def test_first_tick_syncs_every_database_in_one_run_then_skips_until_a_page_changes(
    clean_sandbox: SandboxServer,
    notion_resource: NotionResource,
) -> None:
    names = load_notion_mapping().names
    assert len(names) == 5

    requests, skip, cursor = _evaluate(notion_resource, None)
    assert skip is None
    [first] = requests  # one range run: bronze syncs all five under one rate limiter, silver is built once
    assert (first.tags[RANGE_START], first.tags[RANGE_END]) == (names[0], names[-1])
    assert first.partition_key is None and first.asset_selection is None
    assert first.tags.get("ppm/trigger") == "notion_change"
    assert set(parse_cursor(cursor).newest_edit) == set(names)
    assert set(parse_cursor(cursor).requested_at) == set(names)

    again, skip, same_cursor = _evaluate(notion_resource, cursor)
    assert again == []
    assert skip is not None and "no Notion database changed" in skip
    assert same_cursor == cursor  # a skip keeps the cursor

    clean_sandbox.clock.freeze()
    clean_sandbox.clock.advance(61)  # last_edited_time has minute resolution: make the edit's minute new
    page_id = clean_sandbox.notion.truth("budget_lines")[0]["id"]
    clean_sandbox.notion.edit_page(page_id, {"Amount": 1})

    changed, skip, new_cursor = _evaluate(notion_resource, cursor)
    assert skip is None
    assert [r.partition_key for r in changed] == ["budget_lines"]
    before, after = parse_cursor(cursor).newest_edit, parse_cursor(new_cursor).newest_edit
    assert after["budget_lines"] > before["budget_lines"]
    assert {k: v for k, v in after.items() if k != "budget_lines"} == {
        k: v for k, v in before.items() if k != "budget_lines"
    }
    assert changed[0].run_key == f"budget_lines:{after['budget_lines']}"
    assert changed[0].tags["ppm/trigger"] == "notion_change"
    requested_before, requested_after = (
        parse_cursor(cursor).requested_at,
        parse_cursor(new_cursor).requested_at,
    )
    assert requested_after["budget_lines"] > requested_before["budget_lines"]
    assert requested_after["risks"] == requested_before["risks"]
    # the run rebuilds the changed database's silver table only
    assert {k.to_user_string() for k in changed[0].asset_selection or []} == {
        "bronze/notion_raw_pages",
        "bronze/notion_sync_watermarks",
        "silver/budget_lines",
    }


def test_quiet_workspace_gets_a_heartbeat_sync(
    clean_sandbox: SandboxServer, notion_resource: NotionResource
) -> None:
    """No edit for HEARTBEAT: one incremental sync of everything, so bronze freshness means "the sync works"."""
    _, _, cursor = _evaluate(notion_resource, None)
    state = parse_cursor(cursor)
    state.requested_at = {name: at - HEARTBEAT for name, at in state.requested_at.items()}
    requests, skip, new_cursor = _evaluate(notion_resource, state.dumps())
    assert skip is None
    [heartbeat] = requests
    assert heartbeat.tags["ppm/trigger"] == "notion_heartbeat"
    assert heartbeat.tags[RANGE_START] == load_notion_mapping().names[0]
    assert parse_cursor(new_cursor).newest_edit == state.newest_edit
    assert all(parse_cursor(new_cursor).requested_at[n] > at for n, at in state.requested_at.items())


def test_a_quiet_database_gets_its_heartbeat_while_others_change(
    clean_sandbox: SandboxServer, notion_resource: NotionResource
) -> None:
    """One busy database must not keep the heartbeat from the others (their silver freshness is 45 min)."""
    _, _, cursor = _evaluate(notion_resource, None)
    state = parse_cursor(cursor)
    state.requested_at["risks"] -= HEARTBEAT
    clean_sandbox.clock.freeze()
    clean_sandbox.clock.advance(61)
    clean_sandbox.notion.edit_page(clean_sandbox.notion.truth("budget_lines")[0]["id"], {"Amount": 2})

    requests, skip, _ = _evaluate(notion_resource, state.dumps())
    assert skip is None
    by_partition = {r.partition_key: r for r in requests}
    assert set(by_partition) == {"budget_lines", "risks"}
    assert by_partition["budget_lines"].tags["ppm/trigger"] == "notion_change"
    assert by_partition["risks"].tags["ppm/trigger"] == "notion_heartbeat"
    assert {k.to_user_string() for k in by_partition["risks"].asset_selection or []} == {
        "bronze/notion_raw_pages",
        "bronze/notion_sync_watermarks",
        "silver/risks",
    }


def test_probe_is_one_small_query_per_database(
    clean_sandbox: SandboxServer, notion_resource: NotionResource
) -> None:
    """The probe stays cheap: five query requests (plus title look-ups in the sandbox), no paging."""
    _evaluate(notion_resource, None)
    queries = sum(n for endpoint, n in clean_sandbox.stats.by_endpoint.items() if "query" in endpoint)
    assert queries == 5, dict(clean_sandbox.stats.by_endpoint)


@pytest.mark.parametrize(
    "cursor",
    [
        None,
        "",
        "not json",
        "[1, 2]",
        '{"risks": "2026-01-01T00:00:00.000Z"}',
        '{"requested_at": {"risks": 3}}',
    ],
)
def test_unreadable_cursor_starts_over(cursor: str | None) -> None:
    assert parse_cursor(cursor) == SensorCursor()


def test_cursor_round_trip() -> None:
    cursor = SensorCursor(
        {"risks": "2026-01-01T00:00:00.000Z"}, {"risks": datetime(2026, 1, 1, 0, 5, tzinfo=UTC)}
    )
    assert parse_cursor(cursor.dumps()) == cursor
    assert json.loads(cursor.dumps())["newest_edit"] == {"risks": "2026-01-01T00:00:00.000Z"}
