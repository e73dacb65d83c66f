"""The receiver over real HTTP: handshake, signatures, replays, refusals; what it stores and what it never says."""

from __future__ import annotations

import json
import logging
import stat
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from ppm_resources.notion.webhooks import SIGNATURE_HEADER, sign

from .conftest import Receiver, notion_event

TOKEN = "secret_9zQp4mXv2LrT7yWc1NbK8sHd3GfJ6aUe"


def _handshake(receiver: Receiver, token: str = TOKEN) -> httpx.Response:
    return receiver.post(json.dumps({"verification_token": token}).encode())


def test_the_handshake_stores_the_token_for_the_owner_only_and_logs_where_not_what(
    receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="ppm.webhooks"):
        response = _handshake(receiver)
    assert response.status_code == 200 and TOKEN not in response.text
    assert receiver.token_file.read_text() == TOKEN
    assert stat.S_IMODE(receiver.token_file.stat().st_mode) == 0o600
    assert receiver.token_file.parent == receiver.store.parent  # next to the event store
    assert str(receiver.token_file.resolve()) in caplog.text and "Webhooks tab" in caplog.text
    assert TOKEN not in caplog.text
    health = httpx.get(f"{receiver.url}/health", trust_env=False).json()
    assert health["verification_token"] == "stored" and TOKEN not in json.dumps(health)


def test_a_resent_token_is_acknowledged_and_another_one_cannot_replace_it(receiver: Receiver) -> None:
    assert _handshake(receiver).status_code == 200
    assert _handshake(receiver).status_code == 200  # Notion's "resend token"
    refused = _handshake(receiver, "secret_attacker")
    assert refused.status_code == 409 and TOKEN not in refused.text
    assert receiver.token_file.read_text() == TOKEN


def test_a_signed_event_is_stored_as_sent(receiver: Receiver) -> None:
    _handshake(receiver)
    body = json.dumps(notion_event("page.created")).encode()
    response = receiver.post(body, token=TOKEN)
    assert response.status_code == 200 and response.json() == {"ok": True, "stored": True}
    [stored] = receiver.inbox.read_after(0)
    event = json.loads(body)
    assert stored.raw == body.decode()  # the body exactly as Notion sent it
    assert (stored.sequence, stored.event_id, stored.type) == (1, event["id"], "page.created")
    assert (stored.entity_id, stored.entity_type) == (event["entity"]["id"], "page")
    assert (stored.parent_id, stored.parent_type) == (event["data"]["parent"]["id"], "database")
    assert stored.timestamp == datetime.fromisoformat(event["timestamp"])
    assert stored.received_at >= stored.timestamp


@pytest.mark.parametrize(
    ("why", "send"),
    [
        ("wrong token", lambda r, body: r.post(body, token="secret_not_the_one")),
        ("missing header", lambda r, body: r.post(body)),
        ("empty header", lambda r, body: r.post(body, headers={SIGNATURE_HEADER: ""})),
        (
            "altered body",
            lambda r, body: r.post(
                body.replace(b"page.created", b"page.deleted"), headers={SIGNATURE_HEADER: sign(body, TOKEN)}
            ),
        ),
        (
            "bare hex",
            lambda r, body: r.post(body, headers={SIGNATURE_HEADER: sign(body, TOKEN).split("=")[1]}),
        ),
    ],
)
def test_an_event_without_a_valid_signature_is_refused_and_not_stored(
    receiver: Receiver,
    why: str,
    send: Callable[[Receiver, bytes], httpx.Response],
    caplog: pytest.LogCaptureFixture,
) -> None:
    _handshake(receiver)
    body = json.dumps(notion_event("page.created")).encode()
    with caplog.at_level(logging.INFO, logger="ppm.webhooks"):
        response = send(receiver, body)
    assert response.status_code == 401, why
    assert receiver.inbox.count() == 0
    assert sign(body, TOKEN) not in caplog.text and sign(body, TOKEN) not in response.text


def test_the_same_event_twice_is_acknowledged_twice_and_stored_once(receiver: Receiver) -> None:
    _handshake(receiver)
    event = notion_event()
    first = receiver.post(json.dumps(event).encode(), token=TOKEN)
    retried = receiver.post(
        json.dumps({**event, "attempt_number": 2}).encode(), token=TOKEN
    )  # Notion's retry
    assert (first.status_code, first.json()["stored"]) == (200, True)
    assert (retried.status_code, retried.json()["stored"]) == (200, False)
    assert [e.event_id for e in receiver.inbox.read_after(0)] == [event["id"]]


def test_a_replayed_old_event_is_refused_though_its_signature_is_valid(receiver: Receiver) -> None:
    _handshake(receiver)
    captured = json.dumps(notion_event(timestamp=datetime.now(UTC) - timedelta(hours=2))).encode()
    response = receiver.post(captured, token=TOKEN)
    assert response.status_code == 400 and "older than" in response.json()["error"]
    assert receiver.inbox.count() == 0


def test_the_age_limit_is_measured_on_the_receivers_clock(start_receiver: Callable[..., Receiver]) -> None:
    at = datetime(2026, 11, 21, 12, tzinfo=UTC)
    receiver = start_receiver(env_token=TOKEN, now=lambda: at)
    recent = json.dumps(notion_event(timestamp=at - timedelta(minutes=59))).encode()
    late = json.dumps(notion_event(timestamp=at - timedelta(minutes=61))).encode()
    assert receiver.post(recent, token=TOKEN).status_code == 200
    assert receiver.post(late, token=TOKEN).status_code == 400
    assert receiver.inbox.count() == 1


@pytest.mark.parametrize("body", [b"{not json", b"[]", b"null", b'{"id": "1", "type": "page.created"}'])
def test_malformed_json_and_non_events_are_bad_requests(receiver: Receiver, body: bytes) -> None:
    _handshake(receiver)
    response = receiver.post(body, token=TOKEN)
    assert response.status_code == 400
    assert receiver.inbox.count() == 0


def test_without_any_token_events_wait_with_503_and_a_clear_message(receiver: Receiver) -> None:
    response = receiver.post(json.dumps(notion_event()).encode(), token=TOKEN)
    assert response.status_code == 503
    assert "NOTION_WEBHOOK_VERIFICATION_TOKEN" in response.json()["error"]
    assert not receiver.inbox.exists()


def test_the_environment_token_wins_and_a_handshake_cannot_change_it(
    start_receiver: Callable[..., Receiver],
) -> None:
    receiver = start_receiver(env_token=TOKEN)
    assert receiver.post(json.dumps(notion_event()).encode(), token=TOKEN).status_code == 200
    assert _handshake(receiver, "secret_other").status_code == 409
    assert _handshake(receiver).status_code == 200
    assert not receiver.token_file.exists()  # the variable is the token: nothing written
    assert httpx.get(f"{receiver.url}/health", trust_env=False).json()["verification_token"] == "environment"
