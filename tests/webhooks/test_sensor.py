"""The webhook sensor: stored events -> one sync run per mapped database, and those runs make silver right.

Everything over real HTTP: the sandbox sends signed events to the receiver, the sensor reads the receiver's
store and maps parents through the Notion resource (the sandbox), the runs retrieve the named pages.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import dagster as dg
import pytest

from ppm_assets.definitions import defs
from ppm_resources.lakehouse import LocalLakehouse
from ppm_resources.notion.mapping import load_notion_mapping
from ppm_resources.notion.resource import NotionResource
from ppm_resources.notion.webhook_resource import NotionWebhookInbox
from ppm_resources.notion.webhooks import parse_event
from ppm_sandbox import SandboxServer
from ppm_sensors.notion.jobs import BRONZE_OP
from ppm_sensors.notion.webhooks import WEBHOOK_TRIGGER, build_notion_webhook_sensor
from tests.notion_sync.conftest import Pipeline

from .conftest import Receiver, notion_event

sensor = build_notion_webhook_sensor(load_notion_mapping())


def _tick(
    pipeline: Pipeline, store: Path, cursor: str | None, notion: NotionResource | None = None
) -> tuple[dict[str, dg.RunRequest], str | None, str | None]:
    context = dg.build_sensor_context(
        resources={
            "notion": notion or pipeline.resource,
            "lakehouse": pipeline.lakehouse,
            "notion_webhook_inbox": NotionWebhookInbox(path=str(store)),
        },
        cursor=cursor,
        repository_def=defs.get_repository_def(),
    )
    result = sensor.evaluate_tick(context)
    requests = {r.partition_key: r for r in result.run_requests or []}
    assert len(requests) == len(result.run_requests or [])  # one run per database
    return requests, result.skip_message, result.cursor


def _page_ids(request: dg.RunRequest) -> list[str]:
    return request.run_config["ops"][BRONZE_OP]["config"]["page_ids"]


@pytest.fixture
def pipeline(clean_sandbox: SandboxServer, tmp_path: Path) -> Pipeline:
    pipeline = Pipeline(
        clean_sandbox,
        LocalLakehouse(root=str(tmp_path / "lakehouse")),
        load_notion_mapping(),
        token=f"secret_webhooks_{uuid.uuid4().hex}",
    )
    pipeline.sync()
    pipeline.build_silver()
    return pipeline


def test_without_an_event_store_the_sensor_skips_and_says_why(pipeline: Pipeline, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "notion_webhooks.sqlite"
    requests, skip, cursor = _tick(pipeline, missing, None)
    assert requests == {} and cursor is None
    assert skip is not None and str(missing) in skip and "ppm serve-webhooks" in skip
    assert not missing.exists()  # reading never creates the store


def test_edits_trash_deletes_and_moves_become_one_run_per_database_then_silver_matches_notion(
    pipeline: Pipeline, subscribed: Receiver
) -> None:
    store = pipeline.sandbox.notion
    edited = store.truth("budget_lines")[0]["id"]
    edited_twice = store.truth("budget_lines")[7]["id"]
    trashed = store.truth("risks")[3]["id"]
    deleted = store.truth("actions")[5]["id"]
    moved = store.truth("risks")[1]["id"]
    store.edit_page(edited, {"Amount": 12.5})
    store.edit_page(edited_twice, {"Amount": 1.0})
    store.edit_page(edited_twice, {"Amount": 2.0})
    store.trash_page(trashed)
    store.delete_page(deleted)
    store.move_page(moved, "actions")
    assert store.webhooks.wait_idle()
    sequences = {(e.type, e.entity_id): e.sequence for e in subscribed.inbox.read_after(0)}
    last = subscribed.inbox.last_sequence()
    assert last == 6

    requests, skip, cursor = _tick(pipeline, subscribed.store, None)
    assert skip is None and cursor == str(last)
    assert set(requests) == {"budget_lines", "risks", "actions"}
    assert _page_ids(requests["budget_lines"]) == sorted([edited, edited_twice])  # unique, sorted
    # The moved page: in the run of its new database (the event's parent) and of the one it left (silver had it).
    assert _page_ids(requests["risks"]) == sorted([trashed, moved])
    assert _page_ids(requests["actions"]) == sorted([deleted, moved])
    move = sequences[("page.moved", moved)]
    assert (
        requests["budget_lines"].run_key
        == f"budget_lines:webhook:{sequences[('page.properties_updated', edited_twice)]}"
    )
    assert requests["risks"].run_key == f"risks:webhook:{move}"
    assert requests["actions"].run_key == f"actions:webhook:{move}"
    for name, request in requests.items():
        assert request.tags["ppm/trigger"] == WEBHOOK_TRIGGER
        assert {k.to_user_string() for k in request.asset_selection or []} == {
            "bronze/notion_raw_pages",
            "bronze/notion_sync_watermarks",
            f"silver/{name}",
        }

    again, skip, same = _tick(pipeline, subscribed.store, cursor)
    assert again == {} and skip is not None and f"after sequence {last}" in skip
    assert same == cursor

    # The runs the sensor asked for, as asked: each database's partition with the sensor's run config.
    for name, request in requests.items():
        result = pipeline.materialize_bronze([name], **request.run_config["ops"][BRONZE_OP]["config"])
        assert result.success, name
    pipeline.build_silver(list(requests))
    for name in requests:
        pipeline.assert_silver_matches_truth(name)
    assert (
        pipeline.silver("risks")[moved]["is_archived"]
        and not pipeline.silver("actions")[moved]["is_archived"]
    )
    assert (
        pipeline.silver("risks")[trashed]["is_archived"]
        and pipeline.silver("actions")[deleted]["is_archived"]
    )
    assert pipeline.silver("budget_lines")[edited]["amount"] == pytest.approx(12.5)


def test_events_the_sync_has_no_use_for_are_skipped_and_the_cursor_passes_them(
    pipeline: Pipeline, receiver: Receiver
) -> None:
    inbox = receiver.inbox
    elsewhere = notion_event("page.created", parent={"id": str(uuid.uuid4()), "type": "database"})
    in_a_page = notion_event("page.created", parent={"id": str(uuid.uuid4()), "type": "page"})
    comment = {**notion_event("comment.created"), "entity": {"id": str(uuid.uuid4()), "type": "comment"}}
    schema = {
        **notion_event("database.schema_updated"),
        "entity": {"id": str(uuid.uuid4()), "type": "database"},
    }
    for event in [elsewhere, in_a_page, comment, schema]:
        assert inbox.append(parse_event(event), json.dumps(event))

    requests, skip, cursor = _tick(pipeline, receiver.store, "0")
    assert requests == {} and cursor == "4"
    assert skip is not None and "none naming a page of a mapped database" in skip


def test_a_parent_named_by_its_data_source_maps_to_its_database(
    pipeline: Pipeline, receiver: Receiver
) -> None:
    """API 2025-09-03: a page's parent may be its data source; the sensor asks Notion which database has it."""
    database = pipeline.sandbox.notion.database("risks")
    page_id = pipeline.sandbox.notion.truth("risks")[2]["id"]
    event = notion_event(
        "page.content_updated", page_id=page_id, parent={"id": database.data_source_id, "type": "data_source"}
    )
    receiver.inbox.append(parse_event(event), json.dumps(event))

    requests, skip, cursor = _tick(pipeline, receiver.store, None)
    assert skip is None and cursor == "1"
    assert list(requests) == ["risks"] and _page_ids(requests["risks"]) == [page_id]


def test_when_parents_cannot_be_mapped_the_cursor_stays_for_the_next_tick(
    pipeline: Pipeline, receiver: Receiver
) -> None:
    database = pipeline.sandbox.notion.database("actions")
    event = notion_event(parent={"id": database.id, "type": "database"})
    receiver.inbox.append(parse_event(event), json.dumps(event))
    # Real Notion without the database ids configured: nothing can be resolved (no request is even made).
    unconfigured = NotionResource(base_url=pipeline.sandbox.notion_url, token=pipeline.token)

    requests, skip, cursor = _tick(pipeline, receiver.store, "0", unconfigured)
    assert requests == {} and cursor == "0"
    assert skip is not None and "retried next tick" in skip and "NOTION_ACTIONS_DB_ID" in skip

    requests, skip, cursor = _tick(pipeline, receiver.store, cursor)
    assert list(requests) == ["actions"] and cursor == "1"


def test_a_recreated_store_is_read_from_its_start(pipeline: Pipeline, receiver: Receiver) -> None:
    """The store file deleted and created anew numbers from 1: a cursor beyond its end starts over."""
    page_id = pipeline.sandbox.notion.truth("programs")[0]["id"]
    event = notion_event(
        page_id=page_id, parent={"id": pipeline.sandbox.notion.database("programs").id, "type": "database"}
    )
    receiver.inbox.append(parse_event(event), json.dumps(event))

    requests, skip, cursor = _tick(pipeline, receiver.store, "41")
    assert skip is None and cursor == "1"
    assert requests["programs"].run_key == "programs:webhook:1" and _page_ids(requests["programs"]) == [
        page_id
    ]
