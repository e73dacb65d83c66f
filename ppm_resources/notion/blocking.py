"""A synchronous facade for code that is not async (Dagster ops, scripts, the sandbox CLI).

It runs one :class:`NotionClient` on a private event loop in a daemon thread. ``asyncio.run`` per call
would not do: the httpx connection pool belongs to the loop that created it.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Awaitable, Iterable, Iterator
from datetime import datetime
from typing import Any, Self, TypeVar

from ppm_resources.notion.client import NotionClient, NotionClientConfig
from ppm_resources.notion.models import DatabaseScan, PageBatch
from ppm_resources.notion.stats import NotionStats

T = TypeVar("T")


class BlockingNotionClient:
    """Blocking twin of :class:`NotionClient` (same constructor); use as a context manager or ``close()``."""

    def __init__(self, config: NotionClientConfig | None = None, /, **options: Any) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="notion-client", daemon=True)
        self._thread.start()
        self.client = NotionClient(config, **options)

    def __repr__(self) -> str:
        return f"Blocking{self.client!r}"

    @property
    def stats(self) -> NotionStats:
        return self.client.stats

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        if self._loop.is_closed():
            return
        self.run(self.client.aclose())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()

    def run(self, awaitable: Awaitable[T]) -> T:
        """Run a coroutine of the wrapped client on its loop and return its result."""

        async def wrapper() -> T:
            return await awaitable

        return asyncio.run_coroutine_threadsafe(wrapper(), self._loop).result()

    def iterate(self, iterator: AsyncIterator[T]) -> Iterator[T]:
        """Drive an async iterator of the client from this thread (closed if the caller stops early)."""
        try:
            while True:
                try:
                    yield self.run(iterator.__anext__())
                except StopAsyncIteration:
                    return
        finally:
            aclose = getattr(iterator, "aclose", None)
            if aclose is not None and not self._loop.is_closed():
                self.run(aclose())

    def iter_pages(
        self, database_id: str, *, since: datetime | None = None, **kwargs: Any
    ) -> Iterator[PageBatch]:
        return self.iterate(self.client.iter_pages(database_id, since=since, **kwargs))

    def iter_many(self, scans: Iterable[DatabaseScan], **kwargs: Any) -> Iterator[PageBatch]:
        return self.iterate(self.client.iter_many(list(scans), **kwargs))

    def list_page_ids(self, database_id: str) -> set[str]:
        return self.run(self.client.list_page_ids(database_id))

    def retrieve_database(self, database_id: str) -> dict[str, Any]:
        return self.run(self.client.retrieve_database(database_id))

    def retrieve_page(self, page_id: str, *, missing_ok: bool = False) -> dict[str, Any] | None:
        return self.run(self.client.retrieve_page(page_id, missing_ok=missing_ok))

    def create_page(self, database_id: str, properties: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        return self.run(self.client.create_page(database_id, properties, **kwargs))

    def update_page(self, page_id: str, **kwargs: Any) -> dict[str, Any]:
        return self.run(self.client.update_page(page_id, **kwargs))
