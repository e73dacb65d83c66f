"""Notion webhooks from the sandbox: subscriptions, the handshake, and one signed event per page mutation.

As Notion does: subscribing POSTs `{"verification_token": "secret_..."}` to the URL (the handshake); from then on
each page mutation (`page.created`, `page.properties_updated`, `page.deleted` for a trash or a deletion,
`page.undeleted`, `page.moved`) is POSTed as JSON with `X-Notion-Signature: sha256=<HMAC-SHA256 of the body keyed
with the token>`. The store only queues events (cheap, under its lock, and nothing at all without a
subscription); one background thread delivers them in order, retrying a failed delivery a few times with backoff
(`attempt_number` counts up, as Notion's does) before dropping and counting it.

    sender.subscribe(url)                    -> Subscription (handshake done; raises WebhookError if refused)
    sender.unsubscribe(url) / clear() / reset()
    sender.wait_idle()                       every queued event delivered or dropped
    sender.describe()                        subscriptions and counters (delivered, retried, dropped)
"""

from __future__ import annotations

import hashlib
import hmac
import json
import queue
import secrets
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from ppm_sandbox.clock import SandboxClock

V2022 = "2022-06-28"
V2025 = "2025-09-03"
VERSIONS = (V2022, V2025)


class WebhookError(Exception):
    """A subscription that could not be made (the handshake was not acknowledged)."""


@dataclass(frozen=True)
class Subscription:
    id: str
    url: str
    token: str
    api_version: str

    def to_json(self) -> dict[str, Any]:
        # The token is the receiver's secret: it is returned once, by `subscribe`, never listed.
        return {"subscription_id": self.id, "url": self.url, "api_version": self.api_version}


@dataclass(frozen=True)
class PageEvent:
    """A mutation as the store saw it: which page, where it lives now, who did it."""

    type: str
    page_id: str
    database_id: str
    data_source_id: str
    author_id: str
    author_type: str  # "person" or "bot"
    updated_properties: tuple[str, ...] = ()


def signature(body: bytes, token: str) -> str:
    return "sha256=" + hmac.new(token.encode(), body, hashlib.sha256).hexdigest()


class WebhookSender:
    """Subscriptions of one workspace and the thread that delivers their events."""

    def __init__(
        self,
        clock: SandboxClock,
        *,
        workspace_id: str,
        integration_id: str,
        attempts: int = 4,
        backoff_s: float = 0.2,
        timeout_s: float = 5.0,
    ) -> None:
        self.clock = clock
        self.workspace_id = workspace_id
        self.integration_id = integration_id
        self.attempts = attempts
        self.backoff_s = backoff_s
        self.timeout_s = timeout_s
        # url -> subscription; replaced, never changed in place, so the store's threads read it without a lock
        self._subscriptions: dict[str, Subscription] = {}
        self._queue: queue.Queue[tuple[Subscription, dict[str, Any]]] = queue.Queue()
        self._idle = threading.Condition()
        self._pending = 0
        self._thread: threading.Thread | None = None
        self.delivered = 0
        self.retried = 0
        self.dropped = 0

    @classmethod
    def for_workspace(cls, clock: SandboxClock, seed: int) -> WebhookSender:
        """A sender whose events name the workspace and integration of `seed` (stable ids, like Notion's)."""
        return cls(
            clock,
            workspace_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"ppm-sandbox/notion/{seed}/workspace")),
            integration_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"ppm-sandbox/notion/{seed}/integration")),
        )

    @property
    def active(self) -> bool:
        """Whether any URL is subscribed (the store's hooks check this first, so they cost nothing otherwise)."""
        return bool(self._subscriptions)

    # ---------------------------------------------------------------------------------------- subscriptions

    def subscribe(self, url: str, token: str | None = None, api_version: str = V2022) -> Subscription:
        """Handshake with `url` (blocking; never call it holding the store lock), then deliver events to it."""
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"url should be an http(s) URL, instead was {url!r}")
        if api_version not in VERSIONS:
            raise ValueError(f"api_version must be one of {VERSIONS}")
        subscription = Subscription(
            id=str(uuid.uuid4()),
            url=url,
            token=token or f"secret_{secrets.token_urlsafe(32)}",
            api_version=api_version,
        )
        try:
            with httpx.Client(timeout=self.timeout_s, trust_env=False) as client:
                response = client.post(url, json={"verification_token": subscription.token})
        except httpx.HTTPError as error:
            raise WebhookError(f"handshake with {url} failed: {type(error).__name__}: {error}") from None
        if not response.is_success:
            raise WebhookError(f"handshake with {url} answered {response.status_code}: {response.text[:200]}")
        self._start()
        self._subscriptions = {**self._subscriptions, url: subscription}
        return subscription

    def unsubscribe(self, url: str) -> bool:
        found = url in self._subscriptions
        self._subscriptions = {u: s for u, s in self._subscriptions.items() if u != url}
        return found

    def clear(self) -> None:
        """No subscription any more (queued events for them are discarded)."""
        self._subscriptions = {}

    def reset(self) -> None:
        """Back to start-up: no subscription, counters at zero (the workspace's `reset`)."""
        self.clear()
        self.delivered = self.retried = self.dropped = 0

    def subscriptions(self) -> list[Subscription]:
        return list(self._subscriptions.values())

    # ------------------------------------------------------------------------------------------- events

    def publish(self, change: PageEvent) -> None:
        """Queue one event per subscription; returns at once (the store calls this under its lock)."""
        subscriptions = list(self._subscriptions.values())
        if not subscriptions:
            return
        now = self.clock.now()
        timestamp = now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"
        with self._idle:
            self._pending += len(subscriptions)
        for subscription in subscriptions:
            self._queue.put((subscription, self._event(subscription, change, timestamp)))

    def _event(self, subscription: Subscription, change: PageEvent, timestamp: str) -> dict[str, Any]:
        parent: dict[str, Any] = {"id": change.database_id, "type": "database"}
        if subscription.api_version == V2025:
            parent["data_source_id"] = change.data_source_id  # the page's data source, beside its database
        data: dict[str, Any] = {"parent": parent}
        if change.type == "page.properties_updated":
            data["updated_properties"] = list(change.updated_properties)
        return {
            "id": str(uuid.uuid4()),
            "timestamp": timestamp,
            "workspace_id": self.workspace_id,
            "workspace_name": "PPM Sandbox",
            "subscription_id": subscription.id,
            "integration_id": self.integration_id,
            "authors": [{"id": change.author_id, "type": change.author_type}],
            "attempt_number": 1,
            "type": change.type,
            "entity": {"id": change.page_id, "type": "page"},
            "data": data,
        }

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Wait until every queued event was delivered or dropped; False if still busy after `timeout`."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._pending:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._idle.wait(remaining)
        return True

    def describe(self) -> dict[str, Any]:
        return {
            "subscriptions": [s.to_json() for s in self._subscriptions.values()],
            "pending": self._pending,
            "delivered": self.delivered,
            "retried": self.retried,
            "dropped": self.dropped,
        }

    # --------------------------------------------------------------------------------------- delivery

    def _start(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(
                target=self._deliver_forever, name="ppm-sandbox-webhooks", daemon=True
            )
            self._thread.start()

    def _deliver_forever(self) -> None:
        with httpx.Client(timeout=self.timeout_s, trust_env=False) as client:
            while True:
                subscription, event = self._queue.get()
                try:
                    self._deliver(client, subscription, event)
                except Exception:  # a bug must not stop every later delivery: this one is lost, and counted
                    self.dropped += 1
                finally:
                    with self._idle:
                        self._pending -= 1
                        self._idle.notify_all()

    def _deliver(self, client: httpx.Client, subscription: Subscription, event: dict[str, Any]) -> None:
        for attempt in range(1, self.attempts + 1):
            if self._subscriptions.get(subscription.url) is not subscription:
                return  # unsubscribed (or reset) meanwhile: nobody wants it any more
            event["attempt_number"] = attempt
            body = json.dumps(event, separators=(",", ":")).encode()
            headers = {
                "Content-Type": "application/json",
                "X-Notion-Signature": signature(body, subscription.token),
            }
            try:
                if client.post(subscription.url, content=body, headers=headers).is_success:
                    self.delivered += 1
                    return
            except httpx.HTTPError:
                pass  # unreachable or timed out: retried like a refusal
            if attempt < self.attempts:
                self.retried += 1
                time.sleep(self.backoff_s * 2 ** (attempt - 1))
        self.dropped += 1
