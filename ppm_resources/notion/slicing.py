"""Concurrent, adaptively time-sliced scans of one or many databases (DESIGN §4.1).

With one cursor a database is read at 1/latency requests per second, whatever the rate limit. So each
target starts as one slice ``[since, +inf)``; a slice still paging after ``split_after_pages`` responses,
while the concurrency budget has room, hands the upper part of its remaining range to new slices:

    [lo ............ last_seen ...................................... hi)
                         ^ progress    ^ p1          ^ p2          ^ p3
    keeps [lo, p1)  ->   new slices [p1, p2) [p2, p3) [p3, hi)

Split points are whole minutes strictly after the last minute seen: timestamps are minute-rounded and a
page belongs to exactly one of ``on_or_after p`` / ``before p``, so slices neither overlap nor leave gaps,
however many pages share a minute. The open upper end of the last slice is estimated with one probe
(newest page first) and stays open, so pages edited during the scan are not missed. Page ids already
delivered are dropped (a page edited mid-scan can show up in two slices).

All slices of all targets share ``max_concurrency`` and, through the client behind the source, the token's
rate limiter. Like :mod:`.pagination`, this module only knows the
:class:`~ppm_resources.notion.source.PageSource` protocol; :func:`ppm_resources.notion.scan.scan_databases` is
the entry point, sized by ``source.config``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ppm_resources.notion.models import PageBatch, QueryTarget
from ppm_resources.notion.pagination import RangeReader, SeenPages, latest_edit
from ppm_resources.notion.source import PageSource

logger = logging.getLogger("ppm_resources.notion")

MINUTE = timedelta(minutes=1)
#: A split must leave each new slice about this many full responses of work (else it is not worth it).
MIN_PAGES_PER_SLICE = 1


def floor_minute(value: datetime) -> datetime:
    return value.replace(second=0, microsecond=0)


def split_points(lo: datetime, hi: datetime, parts: int) -> list[datetime]:
    """Up to ``parts - 1`` increasing whole minutes in ``(lo, hi)`` cutting it into near-equal spans."""
    first = floor_minute(lo) + MINUTE  # the first boundary that leaves lo's own minute in the left part
    if parts < 2 or first >= hi:
        return []
    points: list[datetime] = []
    for i in range(1, parts):
        point = max(first, floor_minute(lo + (hi - lo) * i / parts))
        if point >= hi:
            break
        if not points or point > points[-1]:
            points.append(point)
    return points


@dataclass(frozen=True)
class ScanSpec:
    """One target of a scan: pages of ``target`` edited at or after ``since`` matching ``extra_filter``."""

    target: QueryTarget
    name: str
    since: datetime | None = None
    extra_filter: dict[str, Any] | None = None


@dataclass(eq=False)
class _TargetState:
    spec: ScanSpec
    seen: SeenPages = field(default_factory=SeenPages)
    slices: set[_Slice] = field(default_factory=set)
    newest: datetime | None = None  # from the probe; upper end for splitting open-ended slices
    probe: asyncio.Task[None] | None = None

    def complete_before(self, sending: _Slice) -> datetime | None:
        """Everything edited before this has been handed out once ``sending``'s batch is (None: no bound yet).

        Other slices count with what they have *handed out*, not what they have read: a slice may hold a
        response while it completes truncated relations.
        """
        frontiers = [s.reader.last_seen if s is sending else s.delivered for s in self.slices]
        if not frontiers or any(f is None for f in frontiers):
            return None
        return min(f for f in frontiers if f is not None)


@dataclass(eq=False)
class _Slice:
    state: _TargetState
    reader: RangeReader
    responses: int = 0
    delivered: datetime | None = None  # pages edited before this were handed to the consumer

    def __post_init__(self) -> None:
        self.delivered = self.reader.lo


_DONE = object()


class _Scan:
    """Runs the slices of every target as tasks and funnels their batches into one bounded queue."""

    def __init__(
        self,
        source: PageSource,
        specs: Sequence[ScanSpec],
        *,
        max_concurrency: int,
        page_size: int,
        split: bool,
        split_after_pages: int,
        complete_truncated: bool,
        filter_properties: Sequence[str] | None,
    ) -> None:
        self.source = source
        self.specs = specs
        self.max_concurrency = max_concurrency
        self.page_size = page_size
        self.split = split and max_concurrency > 1
        self.split_after_pages = split_after_pages
        self.complete_truncated = complete_truncated
        self.filter_properties = filter_properties
        # Bounded: a slow consumer (writing to the lakehouse) slows the scan instead of growing memory.
        self.out: asyncio.Queue[Any] = asyncio.Queue(maxsize=2 * max_concurrency)
        self.running = asyncio.Semaphore(max_concurrency)
        self.tasks: set[asyncio.Task[None]] = set()
        self.unfinished = 0  # slices created and not finished

    async def batches(self) -> AsyncGenerator[PageBatch, None]:
        if not self.specs:
            return
        for spec in self.specs:
            state = _TargetState(spec)
            self._start_slice(state, spec.since, None)
            if self.split and spec.since is None:
                self._start_probe(state)  # a full scan will split: learn its upper end right away
        try:
            while True:
                item = await self.out.get()
                if item is _DONE:
                    return
                if isinstance(item, BaseException):
                    raise item
                # Queue.get() does not suspend when items are waiting: without this, a consumer busy with
                # a backlog of batches would starve the slices' paced sends, which then leave in a bunch.
                await asyncio.sleep(0)
                yield item
        finally:
            for task in list(self.tasks):
                task.cancel()
            for task in list(self.tasks):
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    def _spawn(self, coro: Any) -> asyncio.Task[None]:
        task = asyncio.create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    def _start_slice(self, state: _TargetState, lo: datetime | None, hi: datetime | None) -> None:
        spec = state.spec
        reader = RangeReader(
            self.source,
            spec.target,
            lo=lo,
            hi=hi,
            seen=state.seen,
            extra_filter=spec.extra_filter,
            page_size=self.page_size,
            filter_properties=self.filter_properties,
        )
        piece = _Slice(state, reader)
        state.slices.add(piece)
        self.unfinished += 1
        self.source.stats.slices += 1
        self._spawn(self._run(piece))

    def _start_probe(self, state: _TargetState) -> None:
        async def probe() -> None:
            try:
                state.newest = await latest_edit(
                    self.source, state.spec.target, lo=state.spec.since, extra_filter=state.spec.extra_filter
                )
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # splitting is an optimisation: log and read sequentially
                logger.warning(
                    "could not probe %s for slicing (%s); reading it unsliced", state.spec.name, exc
                )

        state.probe = self._spawn(probe())

    async def _run(self, piece: _Slice) -> None:
        state = piece.state
        try:
            async with self.running:
                while (pages := await piece.reader.next_batch()) is not None:
                    piece.responses += 1
                    if not piece.reader.done:
                        self._maybe_split(piece)
                    if pages:
                        if self.complete_truncated:
                            await asyncio.gather(*(self.source.complete_truncated(p) for p in pages))
                        self.source.stats.pages += len(pages)
                        await self.out.put(self._batch(state, pages, sender=piece))
                    piece.delivered = piece.reader.last_seen or piece.delivered
            state.slices.discard(piece)
            if not state.slices:
                await self.out.put(self._batch(state, [], sender=None))
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            await self.out.put(exc)
            return
        self.unfinished -= 1
        if self.unfinished == 0:
            await self.out.put(_DONE)

    def _batch(self, state: _TargetState, pages: list[dict[str, Any]], *, sender: _Slice | None) -> PageBatch:
        """A batch of ``sender``'s pages, or (sender None) the closing batch of a fully read target."""
        target = state.spec.target
        return PageBatch(
            name=state.spec.name,
            database_id=target.database_id,
            data_source_id=target.data_source_id,
            pages=pages,
            complete_before=state.complete_before(sender) if sender else None,
            complete=sender is None,
        )

    def _maybe_split(self, piece: _Slice) -> None:
        """Hand part of this slice's remaining range to new slices when concurrency has room."""
        if not self.split or piece.responses < self.split_after_pages:
            return
        spare = self.max_concurrency - self.unfinished
        if spare <= 0:
            return
        state, reader = piece.state, piece.reader
        progress = reader.last_seen or reader.lo
        if progress is None:
            return
        if reader.hi is not None:
            upper = reader.hi
        elif state.newest is not None:
            upper = floor_minute(state.newest) + MINUTE
        else:
            if state.probe is None:
                self._start_probe(state)
            return  # split on a later response, once the probe has answered
        pieces = min(spare + 1, self._worthwhile_pieces(reader, progress, upper))
        points = split_points(progress, upper, pieces)
        if not points:
            return
        old_hi = reader.hi
        reader.hi = points[0]
        for lo, hi in zip(points, [*points[1:], old_hi], strict=True):
            self._start_slice(state, lo, hi)
        logger.debug("split %s at %s into %d more slices", state.spec.name, progress, len(points))

    def _worthwhile_pieces(self, reader: RangeReader, progress: datetime, upper: datetime) -> int:
        """How many slices the rest of the range deserves, at >= MIN_PAGES_PER_SLICE responses each.

        Every slice ends with a part-filled response, so tiny slices cost requests for nothing; the page
        density seen so far estimates how many pages remain.
        """
        start = reader.first_seen or reader.lo or progress
        span = (progress - start).total_seconds()
        if span <= 0:
            return self.max_concurrency  # everything so far in one minute: no estimate, assume dense
        remaining = reader.pages_read / span * (upper - progress).total_seconds()
        return int(remaining // (MIN_PAGES_PER_SLICE * self.page_size))


async def scan_targets(
    source: PageSource,
    specs: Sequence[ScanSpec],
    *,
    max_concurrency: int = 8,
    page_size: int = 100,
    split: bool = True,
    split_after_pages: int = 1,
    complete_truncated: bool = True,
    filter_properties: Sequence[str] | None = None,
) -> AsyncGenerator[PageBatch, None]:
    """Batches from every target, read concurrently (each version of a page of a target once)."""
    scan = _Scan(
        source,
        specs,
        max_concurrency=max_concurrency,
        page_size=page_size,
        split=split,
        split_after_pages=split_after_pages,
        complete_truncated=complete_truncated,
        filter_properties=filter_properties,
    )
    batches = scan.batches()
    async with contextlib.aclosing(batches):  # closing the scan cancels its slices now, not at GC
        async for batch in batches:
            yield batch
