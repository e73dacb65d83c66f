"""The sandbox as Notion: a handshake, then a signed event per page mutation, over real HTTP to the receiver."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx

from ppm_sandbox import SandboxServer

from .conftest import Receiver


def _delivered(sandbox: SandboxServer) -> None:
    assert sandbox.notion.webhooks.wait_idle(), sandbox.notion.webhooks.describe()


def test_edit_trash_delete_and_move_reach_the_receiver_signed_and_stored(
    clean_sandbox: SandboxServer, subscribed: Receiver
) -> None:
    store = clean_sandbox.notion
    edited = store.truth("budget_lines")[0]["id"]
    trashed = store.truth("risks")[3]["id"]
    deleted = store.truth("actions")[5]["id"]
    moved = store.truth("risks")[1]["id"]
    store.edit_page(edited, {"Amount": 12.5})
    store.trash_page(trashed)
    store.delete_page(deleted)
    store.move_page(moved, "actions")
    _delivered(clean_sandbox)

    events = subscribed.inbox.read_after(0)
    assert [(e.type, e.entity_id) for e in events] == [
        ("page.properties_updated", edited),
        ("page.deleted", trashed),
        ("page.deleted", deleted),
        ("page.moved", moved),
    ]
    parents = [(e.parent_type, e.parent_id) for e in events]
    assert parents == [
        ("database", store.database(name).id) for name in ["budget_lines", "risks", "actions", "actions"]
    ]  # a moved page names its new parent
    first = events[0].event()
    amount = store.database("budget_lines").schema.get("Amount")
    assert amount is not None and first.data.updated_properties == [amount.id]
    assert first.attempt_number == 1 and first.authors[0].type == "person"
    assert len({e.event_id for e in events}) == 4
    assert clean_sandbox.notion.webhooks.describe()["delivered"] == 4


def test_the_handshake_token_is_the_one_events_are_signed_with(
    clean_sandbox: SandboxServer, receiver: Receiver
) -> None:
    response = httpx.post(
        f"{clean_sandbox.url}/_sandbox/notion/webhooks", json={"url": receiver.webhook_url}, timeout=30
    )
    assert response.status_code == 200
    token = response.json()["verification_token"]
    assert token.startswith("secret_") and receiver.token_file.read_text() == token
    listed = httpx.get(f"{clean_sandbox.url}/_sandbox/notion/webhooks").json()
    assert [s["url"] for s in listed["subscriptions"]] == [receiver.webhook_url]
    assert token not in json.dumps(listed)


def test_created_and_restored_pages_and_api_writes_are_events_too(
    clean_sandbox: SandboxServer, subscribed: Receiver, notion_headers: dict[str, str]
) -> None:
    store = clean_sandbox.notion
    created = store.create_page("actions", {"Title": "Call the vendor"}).id
    page = store.truth("risks")[0]["id"]
    with httpx.Client(base_url=clean_sandbox.notion_url, headers=notion_headers) as api:
        assert api.patch(f"/v1/pages/{page}", json={"in_trash": True}).status_code == 200
        assert api.patch(f"/v1/pages/{page}", json={"in_trash": False}).status_code == 200
    _delivered(clean_sandbox)
    events = subscribed.inbox.read_after(0)
    assert [(e.type, e.entity_id) for e in events] == [
        ("page.created", created),
        ("page.deleted", page),
        ("page.undeleted", page),
    ]
    assert {e.event().authors[0].type for e in events} == {"bot"}  # the integration did all three


def test_under_api_2025_the_parent_also_names_the_data_source(
    clean_sandbox: SandboxServer, receiver: Receiver
) -> None:
    body = {"url": receiver.webhook_url, "api_version": "2025-09-03"}
    assert (
        httpx.post(f"{clean_sandbox.url}/_sandbox/notion/webhooks", json=body, timeout=30).status_code == 200
    )
    database = clean_sandbox.notion.database("risks")
    clean_sandbox.notion.edit_page(clean_sandbox.notion.truth("risks")[0]["id"], {"Title": "Renamed"})
    _delivered(clean_sandbox)
    [event] = receiver.inbox.read_after(0)
    parent = event.event().parent
    assert parent is not None
    assert (parent.id, parent.type, parent.data_source_id) == (
        database.id,
        "database",
        database.data_source_id,
    )


def test_after_unsubscribing_nothing_is_sent_and_without_a_subscription_nothing_is_queued(
    clean_sandbox: SandboxServer, subscribed: Receiver
) -> None:
    control = f"{clean_sandbox.url}/_sandbox/notion/webhooks"
    assert httpx.request("DELETE", control, json={"url": subscribed.webhook_url}).json()["removed"] == 1
    assert httpx.request("DELETE", control, json={"url": subscribed.webhook_url}).status_code == 404
    assert not clean_sandbox.notion.webhooks.active
    clean_sandbox.notion.edit_page(clean_sandbox.notion.truth("risks")[0]["id"], {"Title": "Unseen"})
    assert clean_sandbox.notion.webhooks.describe()["pending"] == 0
    _delivered(clean_sandbox)
    assert subscribed.inbox.count() == 0


def test_a_refused_handshake_makes_no_subscription(
    clean_sandbox: SandboxServer, start_receiver: Callable[..., Receiver]
) -> None:
    receiver = start_receiver(env_token="secret_configured")
    body = {"url": receiver.webhook_url, "verification_token": "secret_different"}
    response = httpx.post(f"{clean_sandbox.url}/_sandbox/notion/webhooks", json=body, timeout=30)
    assert response.status_code == 502 and "409" in response.json()["message"]
    assert not clean_sandbox.notion.webhooks.active


def test_a_delivery_that_keeps_failing_is_retried_then_dropped_and_counted(
    clean_sandbox: SandboxServer, subscribed: Receiver
) -> None:
    subscribed.token_file.unlink()  # the receiver now has no token: it answers 503 to every event
    clean_sandbox.notion.edit_page(clean_sandbox.notion.truth("risks")[0]["id"], {"Title": "Lost"})
    _delivered(clean_sandbox)
    counters = clean_sandbox.notion.webhooks.describe()
    assert (counters["delivered"], counters["retried"], counters["dropped"]) == (0, 3, 1)
    assert subscribed.inbox.count() == 0
    # a reset drops subscriptions with the rest of the workspace state
    clean_sandbox.notion.reset()
    assert not clean_sandbox.notion.webhooks.active
