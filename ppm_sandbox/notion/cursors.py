"""Opaque, signed, expiring pagination cursors.

A cursor carries the sort position to resume after (keyset pagination, so concurrent edits
never shift later pages), the scope it was issued for (database + sort order) and its issue time
on the sandbox clock. Nothing is stored server-side. A cursor is rejected with Notion's
400 `validation_error` when it was tampered with, belongs to another query, is older than the
TTL, predates `expire_all()`, or while the `expire_next(n)` fault switch is armed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from typing import Any

from ppm_sandbox.clock import SandboxClock
from ppm_sandbox.notion.errors import NotionError, validation_error


class CursorCodec:
    """Issues and redeems cursors for one workspace."""

    def __init__(self, secret: bytes, clock: SandboxClock, ttl_s: float) -> None:
        self._secret = secret
        self._clock = clock
        self._lock = threading.Lock()
        self.ttl_s = ttl_s
        self._generation = 0
        self._fail_next = 0

    def issue(self, scope: str, position: Any) -> str:
        payload = json.dumps(
            [self._generation, round(self._clock.timestamp(), 3), scope, position], separators=(",", ":")
        ).encode()
        body = base64.urlsafe_b64encode(payload).rstrip(b"=")
        return (body + b"." + self._sign(body)).decode()

    def redeem(self, token: Any, scope: str) -> Any:
        """The position stored in `token`, or a `validation_error` NotionError."""
        if not isinstance(token, str) or not token:
            raise validation_error(
                f"body failed validation: body.start_cursor should be a string, instead was `{token!r}`."
            )
        with self._lock:
            if self._fail_next > 0:
                self._fail_next -= 1
                raise self._invalid(token)
        try:
            body, signature = token.encode().split(b".", 1)
            if not hmac.compare_digest(signature, self._sign(body)):
                raise ValueError("bad signature")
            generation, issued_at, cursor_scope, position = json.loads(
                base64.urlsafe_b64decode(body + b"=" * (-len(body) % 4))
            )
        except (ValueError, TypeError) as exc:
            raise self._invalid(token) from exc
        if generation != self._generation or cursor_scope != scope:
            raise self._invalid(token)
        if self._clock.timestamp() - issued_at > self.ttl_s:
            raise self._invalid(token)
        return position

    def expire_next(self, count: int = 1) -> None:
        """Fault switch: the next `count` cursor uses fail, whatever the cursor."""
        with self._lock:
            self._fail_next += max(0, count)

    def expire_all(self) -> None:
        """Invalidate every cursor issued so far."""
        with self._lock:
            self._generation += 1

    def clear_faults(self) -> None:
        with self._lock:
            self._fail_next = 0

    @property
    def pending_failures(self) -> int:
        return self._fail_next

    def _sign(self, body: bytes) -> bytes:
        digest = hmac.new(self._secret, body, hashlib.sha256).digest()[:12]
        return base64.urlsafe_b64encode(digest).rstrip(b"=")

    @staticmethod
    def _invalid(token: str) -> NotionError:
        return validation_error(f"The start_cursor provided is invalid: {token}")
