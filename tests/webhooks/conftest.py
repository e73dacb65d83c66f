"""Fixtures for the Notion webhooks: the receiver served by uvicorn on a free port, signed Notion-shaped events.

start_receiver   factory: start_receiver(env_token=None, now=None) -> Receiver, each over its own temporary store
receiver         one receiver with no token yet (the handshake stores one)
subscribed       the clean sandbox subscribed to `receiver` (handshake done): page mutations arrive as events
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from ppm_resources.notion.webhook_app import WEBHOOK_PATH, build_webhook_app
from ppm_resources.notion.webhooks import SIGNATURE_HEADER, WebhookInbox, sign, token_path
from ppm_sandbox import SandboxServer
from ppm_sandbox.server import bind_socket


@dataclass
class Receiver:
    url: str
    store: Path

    @property
    def webhook_url(self) -> str:
        return f"{self.url}{WEBHOOK_PATH}"

    @property
    def inbox(self) -> WebhookInbox:
        return WebhookInbox(self.store)

    @property
    def token_file(self) -> Path:
        return token_path(self.store)

    def post(
        self, body: bytes, *, token: str | None = None, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        """POST `body` as Notion does: signed with `token` when one is given."""
        sent = {"Content-Type": "application/json", **(headers or {})}
        if token is not None:
            sent[SIGNATURE_HEADER] = sign(body, token)
        return httpx.post(self.webhook_url, content=body, headers=sent, timeout=10, trust_env=False)


def notion_event(
    kind: str = "page.properties_updated",
    *,
    page_id: str | None = None,
    parent: dict[str, Any] | None = None,
    timestamp: datetime | None = None,
    event_id: str | None = None,
) -> dict[str, Any]:
    """An event shaped as Notion documents it (every shared field)."""
    return {
        "id": event_id or str(uuid.uuid4()),
        "timestamp": (timestamp or datetime.now(UTC))
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z"),
        "workspace_id": str(uuid.uuid4()),
        "workspace_name": "Finance",
        "subscription_id": str(uuid.uuid4()),
        "integration_id": str(uuid.uuid4()),
        "type": kind,
        "authors": [{"id": str(uuid.uuid4()), "type": "person"}],
        "attempt_number": 1,
        "entity": {"id": page_id or str(uuid.uuid4()), "type": "page"},
        "data": {
            "parent": parent or {"id": str(uuid.uuid4()), "type": "database"},
            **({"updated_properties": ["title", "XGe%40"]} if kind == "page.properties_updated" else {}),
        },
    }


class _Served:
    """An ASGI app served by uvicorn in a daemon thread on 127.0.0.1, on a free port."""

    def __init__(self, app: Any) -> None:
        sock = bind_socket()
        self.port = sock.getsockname()[1]
        self.server = uvicorn.Server(
            uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
        )
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [sock]}, daemon=True)
        self.thread.start()
        while not self.server.started:
            if not self.thread.is_alive():
                raise RuntimeError("the webhook receiver did not start")
            threading.Event().wait(0.01)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join()


@pytest.fixture
def start_receiver(tmp_path: Path) -> Iterator[Callable[..., Receiver]]:
    served: list[_Served] = []

    def start(*, env_token: str | None = None, now: Callable[[], datetime] | None = None) -> Receiver:
        store = tmp_path / f"receiver{len(served)}" / "state" / "notion_webhooks.sqlite"
        options: dict[str, Any] = {"env_token": env_token}
        if now is not None:
            options["now"] = now
        server = _Served(build_webhook_app(store, **options))
        served.append(server)
        return Receiver(f"http://127.0.0.1:{server.port}", store)

    yield start
    for server in served:
        server.stop()


@pytest.fixture
def receiver(start_receiver: Callable[..., Receiver]) -> Receiver:
    return start_receiver()


@pytest.fixture
def subscribed(clean_sandbox: SandboxServer, receiver: Receiver) -> Receiver:
    """The sandbox sends this receiver a signed event per page mutation (the reset after the test unsubscribes)."""
    response = httpx.post(
        f"{clean_sandbox.url}/_sandbox/notion/webhooks", json={"url": receiver.webhook_url}, timeout=30
    )
    assert response.status_code == 200, response.text
    return receiver
