"""Deletions between full syncs: the change sensor's id listing names vanished pages; the sync run stores their fate.

Everything over real HTTP against the sandbox: trash, restore, hard delete, move to another database, and an
unshared database (which must fail loudly, never tombstone every page).
"""

from __future__ import annotations

import tempfile
from datetime import timedelta
from typing import Any

import dagster as dg
import pytest

from ppm_assets.definitions import defs
from ppm_assets.notion.sync import MassDisappearanceError
from ppm_resources.notion.errors import NotionNotFoundError
from ppm_resources.notion.resource import NotionResource
from ppm_sensors.gold_hourly import gold_after_notion_deletions
from ppm_sensors.notion.deletions import TRIGGER, build_notion_deletion_sensor, parse_listing_cursor
from ppm_sensors.notion.jobs import BRONZE_OP

from .conftest import Pipeline


def _tick(
    pipeline: Pipeline, cursor: str | None, notion: NotionResource | None = None
) -> tuple[list[dg.RunRequest], str | None, str | None]:
    sensor = build_notion_deletion_sensor(pipeline.mapping)
    context = dg.build_sensor_context(
        resources={"notion": notion or pipeline.resource, "lakehouse": pipeline.lakehouse},
        cursor=cursor,
        repository_def=defs.get_repository_def(),
    )
    result = sensor.evaluate_tick(context)
    return list(result.run_requests or []), result.skip_message, result.cursor


def _listing_due(cursor: str | None) -> str:
    """The cursor one listing interval later (the sensor lists at most once per 30-s cycle)."""
    state = parse_listing_cursor(cursor)
    state.listed_at = {name: at - timedelta(seconds=30) for name, at in state.listed_at.items()}
    return state.dumps()


def _bronze_rows(pipeline: Pipeline, page_id: str) -> list[dict[str, Any]]:
    return pipeline.lakehouse.query(
        "SELECT database_name, in_trash, deleted, properties FROM bronze.notion_raw_pages "
        f"WHERE page_id = '{page_id}' ORDER BY synced_at"
    ).to_pylist()


def _synced(pipeline: Pipeline) -> str | None:
    """Bronze and silver built, and the sensor's first tick done (it lists every database once)."""
    pipeline.sync()
    pipeline.build_silver()
    requests, skip, cursor = _tick(pipeline, None)
    assert requests == [] and skip is not None and "no page vanished" in skip
    assert set(parse_listing_cursor(cursor).listed_at) == set(pipeline.mapping.names)
    assert parse_listing_cursor(cursor).pages["budget_lines"] == len(
        pipeline.sandbox.notion.truth("budget_lines")
    )
    return cursor


def test_a_trashed_page_leaves_silver_after_one_tick_and_one_run(pipeline: Pipeline) -> None:
    cursor = _synced(pipeline)
    store = pipeline.sandbox.notion
    trashed = store.truth("risks")[3]["id"]
    store.trash_page(trashed)

    requests, skip, cursor = _tick(pipeline, _listing_due(cursor))
    assert skip is None
    [request] = requests
    assert request.partition_key == "risks"
    assert request.tags["ppm/trigger"] == TRIGGER
    assert request.run_config["ops"][BRONZE_OP]["config"] == {"page_ids": [trashed]}
    again, _, _ = _tick(pipeline, _listing_due(cursor))
    assert [r.run_key for r in again] == [request.run_key]  # the same deletion, the same run key: one run

    result = pipeline.materialize_bronze(["risks"], page_ids=[trashed])
    assert result.success
    [materialization] = result.asset_materializations_for_node(BRONZE_OP)
    assert materialization.metadata["tombstones"].value == 1
    pipeline.build_silver(["risks"])
    row = pipeline.silver("risks")[trashed]
    assert row["is_archived"] and row["title"] is not None  # a trashed page keeps its last values
    pipeline.assert_silver_matches_truth("risks")

    after, skip, _ = _tick(pipeline, _listing_due(cursor))
    assert after == [] and skip is not None  # gone from silver: nothing vanished any more


def test_restored_page_comes_back_with_the_next_incremental_sync(pipeline: Pipeline) -> None:
    pipeline.sync()
    store = pipeline.sandbox.notion
    page_id = store.truth("actions")[0]["id"]
    store.trash_page(page_id)
    assert pipeline.sync(["actions"], page_ids=[page_id]).databases["actions"].tombstones == 1
    pipeline.sandbox.clock.advance(61)
    store.untrash_page(page_id)  # a restore is an edit: the incremental query returns the page again
    report = pipeline.sync(["actions"])
    assert report.databases["actions"].written == 1
    assert [r["in_trash"] for r in _bronze_rows(pipeline, page_id)] == [False, True, False]
    pipeline.build_silver(["actions"])
    assert not pipeline.silver("actions")[page_id]["is_archived"]
    pipeline.assert_silver_matches_truth("actions")


def test_hard_delete_is_a_deleted_tombstone_and_is_recorded_once(pipeline: Pipeline) -> None:
    pipeline.sync()
    store = pipeline.sandbox.notion
    page_id = store.truth("budget_lines")[5]["id"]
    store.delete_page(page_id)
    report = pipeline.sync(["budget_lines"], page_ids=[page_id])
    assert report.databases["budget_lines"].tombstones == 1
    assert _bronze_rows(pipeline, page_id)[-1] | {"properties": None} == {
        "database_name": "budget_lines",
        "in_trash": False,
        "deleted": True,
        "properties": None,
    }
    again = pipeline.sync(["budget_lines"], page_ids=[page_id])
    assert again.databases["budget_lines"].written == 0  # already tombstoned: nothing more
    pipeline.build_silver(["budget_lines"])
    pipeline.assert_silver_matches_truth("budget_lines")


def test_a_page_moved_to_another_database_leaves_the_first_and_joins_the_second(pipeline: Pipeline) -> None:
    pipeline.sync()
    store = pipeline.sandbox.notion
    page_id = store.truth("risks")[1]["id"]
    title = store.truth("risks")[1]["properties"]["Title"]
    pipeline.sandbox.clock.advance(61)
    store.move_page(page_id, "actions")
    assert page_id in {page["id"] for page in store.truth("actions")}

    report = pipeline.sync(["risks", "actions"], page_ids=[page_id])
    assert report.databases["risks"].tombstones == 1
    fate = [(r["database_name"], r["in_trash"], r["deleted"]) for r in _bronze_rows(pipeline, page_id)]
    assert ("risks", True, False) in fate  # gone from risks, but not deleted
    assert ("actions", False, False) in fate
    pipeline.build_silver(["risks", "actions"])
    assert pipeline.silver("risks")[page_id]["is_archived"]
    moved = pipeline.silver("actions")[page_id]
    assert not moved["is_archived"] and moved["title"] == title
    pipeline.assert_silver_matches_truth("risks")
    pipeline.assert_silver_matches_truth("actions")


def test_an_unshared_database_fails_loudly_and_tombstones_nothing(pipeline: Pipeline) -> None:
    cursor = _synced(pipeline)
    store = pipeline.sandbox.notion
    before = pipeline.lakehouse.query("SELECT count(*) AS n FROM bronze.notion_raw_pages").column("n")[0]
    page_ids = [page["id"] for page in store.truth("risks")[:3]]
    # Configured database ids, as with real Notion (the sandbox's look-up by title would fail at once).
    configured = NotionResource(
        base_url=pipeline.sandbox.notion_url,
        token=pipeline.token,
        database_ids={db.key: db.id for db in store.databases},
        rate_limit_rps=500,
        rate_limit_burst=100,
    )
    store.unshare(store.database("risks").id)

    requests, _, _ = _tick(pipeline, _listing_due(cursor), configured)
    # The listing of risks fails (logged, and the change sensor's probe and heartbeat sync fail loudly too):
    # no deletion run, and the listing is retried next tick.
    assert requests == []
    risks_id = store.database("risks").id
    with pytest.raises(NotionNotFoundError, match=risks_id):
        pipeline.sync(["risks"], resource=configured, page_ids=page_ids)
    with pytest.raises(NotionNotFoundError, match=risks_id):
        pipeline.sync(["risks"], resource=configured, list_pages=True)
    after = pipeline.lakehouse.query("SELECT count(*) AS n FROM bronze.notion_raw_pages").column("n")[0]
    assert after == before


def test_a_run_listing_a_database_itself_finds_what_vanished(pipeline: Pipeline) -> None:
    """`list_pages`: the path of databases too large to list within a sensor tick."""
    pipeline.sync()
    store = pipeline.sandbox.notion
    trashed, deleted = (page["id"] for page in store.truth("risks")[:2])
    store.trash_page(trashed)
    store.delete_page(deleted)
    queries = pipeline.query_requests()
    report = pipeline.sync(["risks"], list_pages=True)
    assert report.databases["risks"].tombstones == 2
    # one incremental query, then the listing: 198 live risks at 100 per request
    assert pipeline.query_requests() - queries == 1 + 2
    pipeline.build_silver(["risks"])
    pipeline.assert_silver_matches_truth("risks")


def test_pages_of_databases_outside_the_run_are_ignored(pipeline: Pipeline) -> None:
    pipeline.sync()
    store = pipeline.sandbox.notion
    page_id = store.truth("actions")[2]["id"]
    store.trash_page(page_id)
    report = pipeline.sync(["risks"], page_ids=[page_id])
    assert report.totals["written"] == 0
    assert [r["in_trash"] for r in _bronze_rows(pipeline, page_id)] == [False]


def test_gold_is_rebuilt_after_a_run_that_removed_pages(pipeline: Pipeline) -> None:
    pipeline.sync()
    store = pipeline.sandbox.notion
    with dg.DagsterInstance.ephemeral(tempfile.mkdtemp()) as instance:
        quiet = pipeline.materialize_bronze(["risks"], instance=instance)
        page_id = store.truth("risks")[0]["id"]
        store.trash_page(page_id)
        removing = pipeline.materialize_bronze(["risks"], instance=instance, page_ids=[page_id])
        assert quiet.success and removing.success

        def evaluate(result: dg.ExecuteInProcessResult) -> list[Any]:
            context = dg.build_run_status_sensor_context(
                sensor_name=gold_after_notion_deletions.name,
                dagster_instance=instance,
                dagster_run=result.dagster_run,
                dagster_event=result.get_run_success_event(),
            )
            return list(gold_after_notion_deletions(context) or [])

        assert all(isinstance(item, dg.SkipReason) for item in evaluate(quiet))
        requests = evaluate(removing)
        assert {r.job_name for r in requests} == {"gold_hourly", "budget_vs_actual"}
        assert all(r.run_key.endswith(removing.dagster_run.run_id) for r in requests)
        [monthly] = [r for r in requests if r.job_name == "budget_vs_actual"]
        assert (
            monthly.tags["dagster/asset_partition_range_start"]
            < monthly.tags["dagster/asset_partition_range_end"]
        )


def test_listing_spends_at_most_its_share_of_the_rate_limit() -> None:
    from ppm_sensors.notion.deletions import listing_interval, listing_requests

    demo = {"programs": 8, "projects": 60, "budget_lines": 1500, "risks": 200, "actions": 300}
    assert sum(listing_requests(n) for n in demo.values()) == 1 + 1 + 15 + 2 + 3
    cycle = timedelta(seconds=30)
    # 22 requests at 0.25 x 3 requests/s take 29.3 s: the demo workspace is listed every cycle
    assert listing_interval(demo, demo, share=0.25, rate_limit_rps=3, cycle=cycle) == cycle
    big = {**demo, "budget_lines": 20_000}
    interval = listing_interval(big, big, share=0.25, rate_limit_rps=3, cycle=cycle)
    assert interval == timedelta(seconds=(1 + 1 + 200 + 2 + 3) / 0.75)
    with pytest.raises(ValueError, match="share"):
        listing_interval(demo, demo, share=0, rate_limit_rps=3, cycle=cycle)


@pytest.mark.parametrize(
    "cursor", [None, "", "not json", "[1]", '{"listed_at": {"risks": 3}, "pages": {"x": "y"}}']
)
def test_an_unreadable_cursor_lists_every_database_again(cursor: str | None) -> None:
    state = parse_listing_cursor(cursor)
    assert state.listed_at == {} and state.pages == {}


def test_nothing_is_listed_before_silver_exists(pipeline: Pipeline) -> None:
    requests, skip, _ = _tick(pipeline, None)
    assert requests == [] and skip is not None and "no database due" in skip
    assert pipeline.query_requests() == 0


def test_a_database_too_large_for_a_tick_is_listed_by_its_run(pipeline: Pipeline) -> None:
    pipeline.sync()
    pipeline.build_silver()
    huge = pipeline.mapping.database("budget_lines").silver_table_name
    extra = ", ".join(f"('00000000-0000-4000-8000-{n:012d}')" for n in range(4_600))
    pipeline.lakehouse.replace(
        huge,
        f"SELECT page_id, false AS is_archived FROM {huge} UNION ALL SELECT * FROM (VALUES {extra}) AS t(page_id), (SELECT false)",
    )
    requests, _, cursor = _tick(pipeline, None)
    [request] = [r for r in requests if r.partition_key == "budget_lines"]
    assert request.run_config["ops"][BRONZE_OP]["config"] == {"list_pages": True}
    assert parse_listing_cursor(cursor).pages["budget_lines"] > 4_500


def test_a_mass_disappearance_is_refused_until_confirmed(pipeline: Pipeline) -> None:
    """Most of a still-shared database gone at once: nothing tombstoned, a message naming the way forward."""
    pipeline.sync()
    store = pipeline.sandbox.notion
    risks = [page["id"] for page in store.truth("risks")]
    for page_id in risks[:150]:
        store.trash_page(page_id)
    with pytest.raises(MassDisappearanceError, match=r"risks: 150 of 200 live pages .*--allow-mass-delete"):
        pipeline.sync(["risks"], list_pages=True)
    assert pipeline.sync(["risks"], page_ids=risks[:19]).databases["risks"].tombstones == 19  # under 20: fine
    confirmed = pipeline.sync(["risks"], list_pages=True, allow_mass_delete=True)
    assert confirmed.databases["risks"].tombstones == 131
    pipeline.build_silver(["risks"])
    pipeline.assert_silver_matches_truth("risks")
