"""Notion webhooks: signature verification, event parsing, the verification token file and the event inbox.

Notion POSTs one JSON event per change to the subscription's URL. The first POST of a new subscription is the
unsigned handshake `{"verification_token": "secret_..."}`; the operator pastes that token into the integration's
Webhooks tab, and from then on every event carries `X-Notion-Signature: sha256=<hex>`, the HMAC-SHA256 of the raw
body keyed with the token. Events are signals, not data: the sync retrieves each named page and stores what
became of it.

`WebhookInbox` is the durable hand-over between the receiver (`ppm serve-webhooks`, which appends) and the
webhook sensor (which reads after its cursor): one SQLite file in WAL mode, so the sensor reads while the
receiver writes, one row per event, the event id UNIQUE so a redelivery is stored once.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

SIGNATURE_HEADER = "X-Notion-Signature"
SIGNATURE_PREFIX = "sha256="
#: The HMAC covers the body only, so a captured delivery stays validly signed forever: older events are refused.
MAX_EVENT_AGE = timedelta(hours=1)

#: Page events the sync acts on: each names a page whose current state the sync should retrieve.
PAGE_EVENT_TYPES = frozenset(
    {
        "page.created",
        "page.properties_updated",
        "page.content_updated",
        "page.deleted",
        "page.undeleted",
        "page.moved",
    }
)


# ------------------------------------------------------------------------------------------------ signatures


def sign(body: bytes, token: str) -> str:
    """The `X-Notion-Signature` value Notion sends for `body` under `token`."""
    digest = hmac.new(token.encode(), body, hashlib.sha256).hexdigest()
    return f"{SIGNATURE_PREFIX}{digest}"


def verify_signature(body: bytes, signature: str | None, token: str) -> bool:
    """Whether `signature` (the header's value) is the HMAC of the raw `body` under `token`, in constant time."""
    if not signature or not token:
        return False
    return hmac.compare_digest(sign(body, token).encode(), signature.strip().encode())


# ------------------------------------------------------------------------------------------------- events


class InvalidEventError(ValueError):
    """A body that is not a Notion webhook event (malformed JSON or a missing field)."""


class _Open(BaseModel):
    # Notion adds fields over time (workspace_name, accessible_by, ...): keep them, require only what we use.
    model_config = ConfigDict(extra="allow", frozen=True)


class WebhookEntity(_Open):
    id: str = Field(min_length=1, max_length=200)
    type: str = Field(min_length=1, max_length=100)


class WebhookAuthor(_Open):
    id: str
    type: str


class WebhookParent(_Open):
    """Where the entity lives: a database (`type: database`), a data source, a page, the workspace...

    Under API version 2025-09-03 a page of a database may also name its data source (`data_source_id`).
    """

    id: str | None = None
    type: str | None = None
    data_source_id: str | None = None
    database_id: str | None = None

    def ids(self) -> list[str]:
        """Every id this parent names, the parent's own first."""
        return [i for i in (self.id, self.database_id, self.data_source_id) if i]


class WebhookEventData(_Open):
    parent: WebhookParent | None = None
    updated_properties: list[str] | None = None


class WebhookEvent(_Open):
    """One Notion webhook event (the fields every event type shares)."""

    id: str = Field(min_length=1, max_length=200)
    timestamp: datetime
    type: str = Field(min_length=1, max_length=100)
    entity: WebhookEntity
    workspace_id: str | None = None
    subscription_id: str | None = None
    integration_id: str | None = None
    authors: list[WebhookAuthor] = Field(default_factory=list)
    attempt_number: int | None = None
    data: WebhookEventData = Field(default_factory=WebhookEventData)

    @field_validator("timestamp")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    @property
    def parent(self) -> WebhookParent | None:
        return self.data.parent


def parse_event(body: bytes | str | object) -> WebhookEvent:
    """A webhook event from its raw body (or the decoded JSON); InvalidEventError naming what is wrong."""
    payload = _decode(body) if isinstance(body, bytes | str) else body
    try:
        return WebhookEvent.model_validate(payload)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in item['loc']) or 'body'}: {item['msg']}"
            for item in error.errors()
        )
        raise InvalidEventError(f"not a Notion webhook event: {problems}") from None


def _decode(body: bytes | str) -> object:
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InvalidEventError(f"malformed JSON: {error}") from None


def handshake_token(payload: object) -> str | None:
    """The token of a subscription handshake (`{"verification_token": ...}` and nothing else), else None."""
    if isinstance(payload, dict) and set(payload) == {"verification_token"}:
        token = payload["verification_token"]
        if isinstance(token, str) and token.strip():
            return token.strip()
    return None


def is_stale(event: WebhookEvent, now: datetime, max_age: timedelta = MAX_EVENT_AGE) -> bool:
    """Whether the event happened longer than `max_age` before `now` (a replayed capture, or a late retry)."""
    return now - event.timestamp > max_age


# ------------------------------------------------------------------------------------ verification token file


def token_path(store: str | Path) -> Path:
    """Where the handshake's token is kept: next to the event store (`notion_webhooks.verification_token`)."""
    path = Path(store)
    return path.with_name(f"{path.stem}.verification_token")


def read_token(path: str | Path) -> str | None:
    """The stored verification token, or None when there is none yet."""
    try:
        token = Path(path).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return token or None


def write_token(path: str | Path, token: str) -> None:
    """Store the token durably, readable by the owner only (mode 0600), replacing any earlier one atomically."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(token)
        handle.flush()
        os.fsync(handle.fileno())
    temporary.chmod(0o600)  # O_CREAT's mode applies only to a new file
    temporary.replace(target)


# ----------------------------------------------------------------------------------------------- the inbox

_SCHEMA = """
CREATE TABLE IF NOT EXISTS notion_webhook_events (
    sequence    INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id    TEXT NOT NULL UNIQUE,
    type        TEXT NOT NULL,
    entity_id   TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    parent_id   TEXT,
    parent_type TEXT,
    timestamp   TEXT NOT NULL,
    received_at TEXT NOT NULL,
    raw         TEXT NOT NULL
)
"""
_COLUMNS = (
    "sequence, event_id, type, entity_id, entity_type, parent_id, parent_type, timestamp, received_at, raw"
)


@dataclass(frozen=True)
class StoredEvent:
    """One row of the inbox: the event's key fields, and the body exactly as Notion sent it."""

    sequence: int
    event_id: str
    type: str
    entity_id: str
    entity_type: str
    parent_id: str | None
    parent_type: str | None
    timestamp: datetime
    received_at: datetime
    raw: str

    def event(self) -> WebhookEvent:
        return parse_event(self.raw)


class WebhookInbox:
    """The SQLite event store; one short connection per call, so the receiver's threads and the sensor share it.

    Nothing is created until the first `append`: a reader of a store that does not exist sees no events.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._created = False

    def exists(self) -> bool:
        return self.path.is_file()

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        with closing(sqlite3.connect(self.path, timeout=30, isolation_level=None)) as connection:
            yield connection

    def _create(self) -> None:
        """The file, WAL mode and the table, once per instance (every statement is idempotent)."""
        if self._created:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as connection:
            connection.execute("PRAGMA journal_mode=WAL")  # persistent: readers never block the writer
            connection.execute(_SCHEMA)
        self._created = True

    def _select(self, sql: str, parameters: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Rows of a read; none when the store or its table does not exist yet (nothing was received)."""
        if not self.exists():
            return []
        with self._connect() as connection:
            try:
                return connection.execute(sql, parameters).fetchall()
            except sqlite3.OperationalError as error:
                if "no such table" in str(error):
                    return []
                raise

    def append(
        self, event: WebhookEvent, raw: bytes | str | None = None, *, received_at: datetime | None = None
    ) -> bool:
        """Commit one event (durably, before returning); False when its id is already stored (a redelivery)."""
        self._create()
        text = raw.decode() if isinstance(raw, bytes) else raw
        parent = event.parent
        row = (
            event.id,
            event.type,
            event.entity.id,
            event.entity.type,
            parent.id if parent else None,
            parent.type if parent else None,
            event.timestamp.isoformat(),
            (received_at or datetime.now(UTC)).isoformat(),
            text if text is not None else event.model_dump_json(),
        )
        with self._connect() as connection:
            # FULL: the commit is on disk when the receiver answers 200 (Notion will not send the event again).
            connection.execute("PRAGMA synchronous=FULL")
            cursor = connection.execute(
                "INSERT OR IGNORE INTO notion_webhook_events "
                "(event_id, type, entity_id, entity_type, parent_id, parent_type, timestamp, received_at, raw) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )
            return cursor.rowcount == 1

    def read_after(self, sequence: int, limit: int = 1000) -> list[StoredEvent]:
        """Events stored after `sequence`, oldest first, at most `limit`."""
        rows = self._select(
            f"SELECT {_COLUMNS} FROM notion_webhook_events WHERE sequence > ? ORDER BY sequence LIMIT ?",
            (sequence, limit),
        )
        return [_stored(row) for row in rows]

    def last_sequence(self) -> int:
        """The newest event's sequence number (0 when empty)."""
        rows = self._select("SELECT coalesce(max(sequence), 0) FROM notion_webhook_events")
        return int(rows[0][0]) if rows else 0

    def count(self) -> int:
        rows = self._select("SELECT count(*) FROM notion_webhook_events")
        return int(rows[0][0]) if rows else 0


def _stored(row: tuple[Any, ...]) -> StoredEvent:
    sequence, event_id, type_, entity_id, entity_type, parent_id, parent_type, timestamp, received, raw = row
    return StoredEvent(
        sequence=int(sequence),
        event_id=event_id,
        type=type_,
        entity_id=entity_id,
        entity_type=entity_type,
        parent_id=parent_id,
        parent_type=parent_type,
        timestamp=datetime.fromisoformat(timestamp),
        received_at=datetime.fromisoformat(received),
        raw=raw,
    )
