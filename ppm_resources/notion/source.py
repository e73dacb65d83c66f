"""``PageSource``: what the scanners need from a Notion client, and nothing more.

The scanners (:mod:`.pagination`, :mod:`.slicing`, :mod:`.scan`) depend on this protocol instead of on
:class:`~ppm_resources.notion.client.NotionClient`, so the client never has to know about scanning and
there is no import cycle between them. ``NotionClient`` satisfies it structurally (no inheritance); a test
double only has to implement these few members.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from ppm_resources.notion.models import QueryTarget
from ppm_resources.notion.stats import NotionStats


class ScanOptions(Protocol):
    """How a scan is sized (``NotionClientConfig`` has these fields)."""

    @property
    def max_concurrency(self) -> int:
        """Requests in flight, shared by every slice of every database of a scan."""
        ...

    @property
    def page_size(self) -> int:
        """Pages per query response (Notion allows at most 100)."""
        ...

    @property
    def split_after_pages(self) -> int:
        """Responses a slice reads before it may hand part of its range to new slices."""
        ...


@runtime_checkable
class PageSource(Protocol):
    """A queryable Notion workspace: query targets, raw query responses, truncated-list completion."""

    @property
    def config(self) -> ScanOptions: ...

    @property
    def stats(self) -> NotionStats:
        """Counters the scanners add to (pages, slices, cursor recoveries)."""
        ...

    async def query_targets(self, database_id: str) -> list[QueryTarget]:
        """What to query for a database: itself, or each of its data sources."""
        ...

    async def query(
        self,
        target: QueryTarget,
        body: Mapping[str, Any],
        *,
        filter_properties: Sequence[str] | None = None,
    ) -> dict[str, Any]:
        """One query request; the raw ``{results, next_cursor, has_more}`` answer."""
        ...

    async def complete_truncated(self, page: dict[str, Any]) -> dict[str, Any]:
        """The page with its truncated relation/people lists replaced by the full lists."""
        ...
