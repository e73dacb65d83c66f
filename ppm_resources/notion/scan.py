"""``scan_databases``: the one entry point for reading many pages from one or many databases.

Scanning is control (targets, slices, watermarks), not transport, so it lives here on top of a
:class:`~ppm_resources.notion.source.PageSource` (in practice a ``NotionClient``) instead of being a client
method: the client stays a plain set of endpoints and the scanners never import it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Iterable, Sequence
from contextlib import aclosing

from ppm_resources.notion.models import DatabaseScan, PageBatch
from ppm_resources.notion.slicing import ScanSpec, scan_targets
from ppm_resources.notion.source import PageSource


async def scan_databases(
    source: PageSource,
    scans: Iterable[DatabaseScan],
    *,
    split: bool = True,
    complete_truncated: bool = True,
    filter_properties: Sequence[str] | None = None,
) -> AsyncGenerator[PageBatch, None]:
    """Batches of the pages of every scan, read concurrently under the source's one rate limiter.

    Each version of a page comes once (a page edited during the scan comes again, newer); within a slice pages are sorted ascending by last_edited_time.
    A database that keeps paging is split into concurrent time slices (``split=False``: one cursor per
    target). The last batch of each target has ``complete=True``. Sized by ``source.config``
    (``max_concurrency``, ``page_size``, ``split_after_pages``).

    It is an async generator: leaving an ``async for`` early does not stop the slices until it is closed, so
    wrap it in ``contextlib.aclosing`` when you may break out.
    """
    scans = list(scans)
    # Targets first, concurrently: under 2025-09-03 each database costs one retrieve to list its data sources.
    resolved = await asyncio.gather(*(source.query_targets(scan.database_id) for scan in scans))
    specs = [
        ScanSpec(
            target=target, name=scan.name or target.database_id, since=scan.since, extra_filter=scan.filter
        )
        for scan, targets in zip(scans, resolved, strict=True)
        for target in targets
    ]
    options = source.config
    batches = scan_targets(
        source,
        specs,
        max_concurrency=options.max_concurrency,
        page_size=options.page_size,
        split=split,
        split_after_pages=options.split_after_pages,
        complete_truncated=complete_truncated,
        filter_properties=filter_properties,
    )
    # Closing this generator closes the inner one at once (its slices are cancelled), not at GC.
    async with aclosing(batches):
        async for batch in batches:
            yield batch
