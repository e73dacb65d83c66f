"""Signature verification and event parsing, over arbitrary bodies, tokens and extra fields."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ppm_resources.notion.webhooks import (
    InvalidEventError,
    handshake_token,
    is_stale,
    parse_event,
    sign,
    verify_signature,
)

from .conftest import notion_event

bodies = st.binary(max_size=2048)
tokens = st.text(min_size=1, max_size=80).filter(lambda t: t.strip() == t and t)
EVENT_FIELDS = set(notion_event())


def reference_signature(body: bytes, token: str) -> str:
    """What Notion's documentation describes, written independently of `sign`."""
    return "sha256=" + hmac.new(token.encode("utf-8"), body, hashlib.sha256).hexdigest()


@given(bodies, tokens)
def test_the_signature_of_a_body_verifies_and_is_notions(body: bytes, token: str) -> None:
    assert sign(body, token) == reference_signature(body, token)
    assert verify_signature(body, reference_signature(body, token), token)


@given(bodies, tokens, st.data())
def test_an_altered_body_fails(body: bytes, token: str, data: st.DataObject) -> None:
    altered = data.draw(bodies.filter(lambda other: other != body))
    assert not verify_signature(altered, sign(body, token), token)


@given(bodies, tokens, tokens)
def test_another_token_fails(body: bytes, token: str, other: str) -> None:
    if other != token:
        assert not verify_signature(body, sign(body, other), token)


@given(bodies, tokens, st.text(max_size=80))
def test_a_forged_or_missing_header_fails(body: bytes, token: str, header: str) -> None:
    if header.strip() != sign(body, token):
        assert not verify_signature(body, header, token)
    assert not verify_signature(body, None, token)
    assert not verify_signature(body, "", token)
    assert not verify_signature(body, sign(body, token), "")


@given(
    st.dictionaries(
        st.text(min_size=1, max_size=20).filter(lambda k: k not in EVENT_FIELDS),
        st.none() | st.integers() | st.text(max_size=20),
        max_size=5,
    )
)
def test_fields_notion_adds_later_keep_an_event_parseable(extra: dict) -> None:
    body = {**notion_event("page.moved"), **extra}
    event = parse_event(json.dumps(body).encode())
    assert event.id == body["id"] and event.type == "page.moved"
    assert event.entity.id == body["entity"]["id"]
    assert event.parent is not None and event.parent.id == body["data"]["parent"]["id"]
    assert event.timestamp.tzinfo is not None


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"\xff\xfe",
        b"[]",
        b'{"id": "x"}',
        json.dumps({**notion_event(), "entity": None}).encode(),
    ],
)
def test_what_is_not_an_event_is_refused_with_a_reason(body: bytes) -> None:
    with pytest.raises(InvalidEventError, match=r"malformed JSON|not a Notion webhook event"):
        parse_event(body)


def test_a_handshake_is_a_token_and_nothing_else() -> None:
    assert handshake_token({"verification_token": "secret_abc"}) == "secret_abc"
    for other in [
        {"verification_token": ""},
        {"verification_token": 3},
        {**notion_event(), "verification_token": "x"},
        [],
    ]:
        assert handshake_token(other) is None


def test_an_event_older_than_an_hour_is_stale() -> None:
    now = datetime(2026, 11, 21, 12, tzinfo=UTC)
    fresh = parse_event(notion_event(timestamp=now - timedelta(minutes=59)))
    old = parse_event(notion_event(timestamp=now - timedelta(minutes=61)))
    assert not is_stale(fresh, now) and is_stale(old, now)
