"""The webhook receiver: `POST /notion/webhooks` (Notion's handshake and signed events), `GET /health`.

Each event is verified (HMAC of the raw body), parsed, checked for age and committed to the inbox before the
200 goes back; Notion retries what is not acknowledged. Neither the token nor a signature is ever logged or
echoed: responses and log lines say only whether one is configured and where it is stored.
"""

from __future__ import annotations

import hmac
import json
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from ppm_resources.notion.webhooks import (
    MAX_EVENT_AGE,
    SIGNATURE_HEADER,
    InvalidEventError,
    WebhookInbox,
    handshake_token,
    is_stale,
    parse_event,
    read_token,
    token_path,
    verify_signature,
    write_token,
)

WEBHOOK_PATH = "/notion/webhooks"
#: Notion's events are a few hundred bytes; anything far larger is not one of them.
MAX_BODY_BYTES = 1 << 20
TOKEN_VARIABLE = "NOTION_WEBHOOK_VERIFICATION_TOKEN"

log = logging.getLogger("ppm.webhooks")


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"ok": False, "error": message}, status)


def build_webhook_app(
    store: str | Path,
    *,
    env_token: str | None = None,
    max_age: timedelta = MAX_EVENT_AGE,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Starlette:
    """The receiver over the inbox at `store`; `env_token` (NOTION_WEBHOOK_VERIFICATION_TOKEN) wins over the
    token stored by the handshake."""
    inbox = WebhookInbox(store)
    token_file = token_path(store)
    handshakes = threading.Lock()  # two handshakes at once: the second sees the first's token

    def current_token() -> str | None:
        return env_token or read_token(token_file)

    async def receive(request: Request) -> JSONResponse:
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            return _error(413, f"body larger than {MAX_BODY_BYTES} bytes")
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            return _error(413, f"body larger than {MAX_BODY_BYTES} bytes")
        try:
            payload = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError):
            return _error(400, "malformed JSON")
        offered = handshake_token(payload)
        if offered is not None:
            return await run_in_threadpool(handshake, offered)
        token = current_token()
        if token is None:
            return _error(
                503,
                f"no verification token yet: Notion's subscription handshake stores one in {token_file}, "
                f"or set {TOKEN_VARIABLE}",
            )
        if not verify_signature(body, request.headers.get(SIGNATURE_HEADER), token):
            log.warning("refused a webhook request with a missing or wrong %s header", SIGNATURE_HEADER)
            return _error(401, f"missing or invalid {SIGNATURE_HEADER}")
        try:
            event = parse_event(payload)
        except InvalidEventError as error:
            return _error(400, str(error))
        if is_stale(event, now(), max_age):
            log.warning(
                "refused event %s (%s): it happened at %s, over %s ago",
                event.id,
                event.type,
                event.timestamp,
                max_age,
            )
            return _error(400, f"event older than {max_age}: refused (a replayed delivery)")
        stored = await run_in_threadpool(inbox.append, event, body)
        if stored:
            log.info("stored %s of %s %s", event.type, event.entity.type, event.entity.id)
        else:
            log.info("event %s was already stored (a redelivery): acknowledged", event.id)
        return JSONResponse({"ok": True, "stored": stored})

    def handshake(offered: str) -> JSONResponse:
        """Keep the first token; a different one later is refused, so an unsigned POST cannot replace it."""
        with handshakes:
            return _handshake(offered)

    def _handshake(offered: str) -> JSONResponse:
        known = current_token()
        if known is not None:
            if hmac.compare_digest(known.encode(), offered.encode()):
                return JSONResponse({"ok": True})  # Notion's "resend token": nothing changes
            source = TOKEN_VARIABLE if env_token else str(token_file)
            log.warning(
                "refused a subscription handshake: a different verification token is set (%s)", source
            )
            return _error(
                409,
                f"a verification token is already set ({source}); to subscribe anew, remove it and let Notion "
                "send the handshake again",
            )
        write_token(token_file, offered)
        log.warning(
            "Notion webhook subscription handshake received: its verification token is stored in %s (mode 0600). "
            "Paste the file's content into the Notion integration's Webhooks tab (Verify subscription) to start "
            "the events",
            token_file.resolve(),
        )
        return JSONResponse({"ok": True})

    async def health(request: Request) -> JSONResponse:
        token = "environment" if env_token else ("stored" if read_token(token_file) else "missing")
        events = await run_in_threadpool(inbox.count)
        return JSONResponse(
            {"ok": True, "store": str(inbox.path), "events": events, "verification_token": token}
        )

    return Starlette(
        routes=[
            Route(WEBHOOK_PATH, receive, methods=["POST"]),
            Route("/health", health, methods=["GET"]),
        ]
    )
