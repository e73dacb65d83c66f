"""The Notion emulator as a sandbox service: the API under `/notion`, its control routes under
`/_sandbox/notion`, Notion's error format for gate-made errors, and the cursor fault switches.

Cursor faults live here, not in the generic gate, because only Notion has opaque expiring
cursors: `cursor_expire_next` (the next N cursor uses fail), `cursor_ttl_s` (cursor lifetime) and
`cursor_expire_all` (invalidate every cursor issued so far).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from starlette.routing import BaseRoute
from starlette.types import ASGIApp

from ppm_sandbox.clock import SandboxClock
from ppm_sandbox.notion.app import build_notion_app
from ppm_sandbox.notion.control import control_routes
from ppm_sandbox.notion.cursors import CursorCodec
from ppm_sandbox.notion.errors import render_error
from ppm_sandbox.notion.store import NotionStore
from ppm_sandbox.notion.workspace import NotionConfig
from ppm_sandbox.services import SandboxService, ServiceContext


class CursorFaults:
    """`FaultSwitches` over the workspace's `CursorCodec`."""

    keys: tuple[str, ...] = ("cursor_expire_next", "cursor_ttl_s", "cursor_expire_all")

    def __init__(self, cursors: CursorCodec, ttl_s: float) -> None:
        self.cursors = cursors
        self.initial_ttl_s = ttl_s

    def check(self, changes: Mapping[str, Any]) -> None:
        _parse(changes)

    def apply(self, changes: Mapping[str, Any]) -> None:
        expire_next, ttl_s, expire_all = _parse(changes)
        if expire_next:
            self.cursors.expire_next(expire_next)
        if ttl_s is not None:
            self.cursors.ttl_s = ttl_s
        if expire_all:
            self.cursors.expire_all()

    def describe(self) -> dict[str, Any]:
        return {"cursor_expire_next": self.cursors.pending_failures, "cursor_ttl_s": self.cursors.ttl_s}

    def reset(self) -> None:
        self.cursors.clear_faults()
        self.cursors.ttl_s = self.initial_ttl_s


def _parse(changes: Mapping[str, Any]) -> tuple[int, float | None, bool]:
    """(failures to arm, new TTL or None, expire all?); falsy / null values mean "leave as is"."""
    expire_next = int(changes["cursor_expire_next"]) if changes.get("cursor_expire_next") else 0
    ttl = changes.get("cursor_ttl_s")
    return expire_next, None if ttl is None else float(ttl), bool(changes.get("cursor_expire_all"))


class NotionService(SandboxService):
    """One generated Notion workspace (`store`) served as the Notion API."""

    name: ClassVar[str] = "notion"

    def __init__(self, config: NotionConfig, clock: SandboxClock) -> None:
        self.config = config
        self.store = NotionStore(config, clock=clock)
        self._cursor_faults = CursorFaults(self.store.cursors, config.cursor_ttl_s)

    @classmethod
    def create(cls, context: ServiceContext) -> NotionService:
        """Registry factory: Notion keeps its dedicated `SandboxConfig.notion` field."""
        return cls(context.options(NotionConfig()), context.clock)

    def asgi_app(self) -> ASGIApp:
        return build_notion_app(self.store)

    def render_error(self, status: int, code: str | None) -> bytes:
        return render_error(status, code)

    def control_routes(self) -> Sequence[BaseRoute]:
        return control_routes(self.store)

    def reset(self) -> None:
        self.store.reset()

    @property
    def fault_switches(self) -> CursorFaults:
        return self._cursor_faults
