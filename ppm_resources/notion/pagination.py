"""Cursor pagination over one ``last_edited_time`` range, surviving expired cursors.

A :class:`RangeReader` reads the pages of ``[lo, hi)`` sorted ascending. When Notion rejects a
``start_cursor`` it re-queries ``on_or_after`` the last ``last_edited_time`` it saw and drops the pages it
already delivered, so nothing is lost (timestamps are minute-rounded: the re-query must include the last
minute again) and nothing is delivered twice.

Reads go through a :class:`~ppm_resources.notion.source.PageSource`, never the client class, so this module
works (and is tested) with any source and the client does not depend on it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from ppm_resources.notion.errors import NotionCursorExpiredError, NotionError
from ppm_resources.notion.ids import id_key
from ppm_resources.notion.models import QueryTarget
from ppm_resources.notion.queries import (
    ASCENDING,
    TITLE_ONLY,
    edited_range_filter,
    first_edit_time,
    newest_first_body,
)
from ppm_resources.notion.source import PageSource
from ppm_resources.notion.times import parse_time

logger = logging.getLogger("ppm_resources.notion")

#: Consecutive cursor recoveries that deliver nothing new before giving up (guards against a loop).
MAX_STALLED_RECOVERIES = 5


class SeenPages:
    """The version of each page one scan has delivered, so a page read twice is dropped only when unchanged.

    A page edited while the scan runs moves to the end of the timeline and is read again. Dropping it by id
    would lose the new version while the watermark moves past its edit; so the version (``last_edited_time``
    and the trash flag) is kept, and a later version is delivered again. Keys are 16 bytes and versions
    epoch milliseconds, so a million pages stay in the tens of MB.
    """

    def __init__(self) -> None:
        self._versions: dict[bytes | str, int] = {}

    def add(self, page: dict[str, Any]) -> bool:
        """Remember ``page``'s version; False when this version, or a newer one, was already delivered."""
        key = id_key(page["id"])
        edited = parse_time(page.get("last_edited_time"))
        # One int per page (edit time in ms, then the trash flag as the lowest bit): no tuple per entry.
        version = (int(edited.timestamp() * 1000) if edited is not None else -1) * 2 + bool(
            page.get("in_trash") or page.get("archived")
        )
        previous = self._versions.get(key)
        # An older version read after a newer one (a slice behind another) must not be delivered last.
        if previous is not None and (previous == version or previous // 2 > version // 2):
            return False
        self._versions[key] = version
        return True

    def __len__(self) -> int:
        return len(self._versions)


class RangeReader:
    """Reads ``lo <= last_edited_time < hi`` of one target, one response at a time.

    ``hi`` may shrink while reading (the scanner hands the upper part to another slice): pages at or after
    the new ``hi`` are then left for that slice and the reader stops.
    """

    def __init__(
        self,
        source: PageSource,
        target: QueryTarget,
        *,
        lo: datetime | None,
        hi: datetime | None,
        seen: SeenPages,
        extra_filter: dict[str, Any] | None = None,
        page_size: int = 100,
        filter_properties: Sequence[str] | None = None,
    ) -> None:
        self.source = source
        self.target = target
        self.lo = lo
        self.hi = hi
        self.seen = seen
        self.extra_filter = extra_filter
        self.page_size = page_size
        self.filter_properties = filter_properties
        self.first_seen: datetime | None = None  # least last_edited_time read (for density estimates)
        self.last_seen: datetime | None = None  # greatest last_edited_time read so far
        self.pages_read = 0  # pages of the range read so far, duplicates included
        self.done = False
        self.responses = 0
        self._query_lo = lo
        self._query_hi = hi
        self._cursor: str | None = None
        self._stalled = 0

    async def next_batch(self) -> list[dict[str, Any]] | None:
        """The new pages of the next response ([] if all were duplicates); None once the range is read."""
        while not self.done:
            body: dict[str, Any] = {"page_size": self.page_size, "sorts": ASCENDING}
            query_filter = edited_range_filter(self._query_lo, self._query_hi, self.extra_filter)
            if query_filter is not None:
                body["filter"] = query_filter
            if self._cursor is not None:
                body["start_cursor"] = self._cursor
            try:
                response = await self.source.query(
                    self.target, body, filter_properties=self.filter_properties
                )
            except NotionCursorExpiredError:
                if self._cursor is None:
                    raise  # not about a cursor after all
                self._restart()
                continue
            self.responses += 1
            return self._accept(response)
        return None

    def _accept(self, response: dict[str, Any]) -> list[dict[str, Any]]:
        fresh: list[dict[str, Any]] = []
        for page in response.get("results") or []:
            edited = parse_time(page.get("last_edited_time"))
            if edited is not None:
                if self.hi is not None and edited >= self.hi:
                    self.done = True  # the rest belongs to the slice that took over [hi, ...)
                    break
                if self.last_seen is None or edited > self.last_seen:
                    self.last_seen = edited
                if self.first_seen is None:
                    self.first_seen = edited
            self.pages_read += 1
            if self.seen.add(page):
                fresh.append(page)
        if fresh:
            self._stalled = 0
        if not self.done:
            self._cursor = response.get("next_cursor") if response.get("has_more") else None
            self.done = self._cursor is None
        return fresh

    def _restart(self) -> None:
        """Re-query from the last minute seen; SeenPages drops what was already delivered."""
        self._stalled += 1
        if self._stalled > MAX_STALLED_RECOVERIES:
            raise NotionError(
                f"pagination of {self.target.query_path} keeps failing with expired cursors at "
                f"last_edited_time {self.last_seen} without progress; re-run the sync later"
            )
        self.source.stats.cursor_recoveries += 1
        logger.warning(
            "Notion rejected the pagination cursor of %s; re-querying from last_edited_time >= %s",
            self.target.query_path,
            self.last_seen or self._query_lo or "the start",
        )
        if self.last_seen is not None:
            self._query_lo = self.last_seen
        self._query_hi = self.hi
        self._cursor = None


async def latest_edit(
    source: PageSource,
    target: QueryTarget,
    *,
    lo: datetime | None,
    extra_filter: dict[str, Any] | None = None,
) -> datetime | None:
    """The greatest ``last_edited_time`` at or after ``lo`` (one request, page_size 1, sorted descending)."""
    response = await source.query(target, newest_first_body(lo, extra_filter), filter_properties=TITLE_ONLY)
    return first_edit_time(response)
