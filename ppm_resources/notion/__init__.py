"""The Notion API client and the scans built on it. Pages leave this package as they came: what bronze stores
(flattening, rows, hashes) is decided in ``ppm_assets.notion``.

Layers, each depending only on those below it (no cycles: ``client`` imports no scanning module):

    scan        scan_databases(source, scans): the entry point for reading pages of one or many databases
    slicing     concurrent adaptive time slices of every target under one concurrency budget
    pagination  one cursor over a last_edited_time range, cursor-expiry recovery
    source      PageSource: the protocol the three above read through (NotionClient satisfies it)
    client      NotionClient: transport (rate limit, retries, breaker, errors, token scrubbing) + endpoints
    queries     last_edited_time filters, sorts and the newest-page probe (pure; client and scanners)
    models, errors, stats, ids, times   value objects, error types, counters, id and timestamp helpers

Beside them, imported directly and not re-exported here: ``mapping`` (config/notion_mapping.yaml) and
``resource`` (the Dagster resource that builds clients). Generic rate limiting, retries and the circuit
breaker live in ``ppm_resources.resilience``.

    config = NotionClientConfig(token=settings.notion_token, base_url=settings.notion_base_url,
                                api_version=..., rate_limit_rps=3, rate_limit_burst=3)
    async with NotionClient(config) as notion:
        # change check: newest last_edited_time (one small request per data source; None = no pages)
        newest = await notion.newest_edit(db_id)
        # incremental: pages edited since the watermark (minus an overlap: edit times are minute-rounded)
        scans = [DatabaseScan(db_id, since=wm - overlap, name="projects")]
        async for batch in scan_databases(notion, scans, split=False):
            write(batch.pages)              # batch.complete_before / batch.complete: safe watermark
        # full sync: since=None; big databases are read in concurrent time slices at the rate limit
        # reconciliation: retrieve_page(id, missing_ok=True): None = deleted/unshared
        print(notion.stats.as_metadata())   # requests, 429s, retries... for run metadata
"""

from ppm_resources.notion.client import NOTION_API_URL, NotionClient, NotionClientConfig
from ppm_resources.notion.errors import (
    CircuitOpenError,
    NotionAmbiguousWriteError,
    NotionAPIError,
    NotionAuthError,
    NotionBadRequestError,
    NotionCursorExpiredError,
    NotionError,
    NotionForbiddenError,
    NotionNotFoundError,
    NotionTransientError,
    RetriesExhaustedError,
)
from ppm_resources.notion.models import API_VERSIONS, ApiVersion, DatabaseScan, PageBatch, QueryTarget
from ppm_resources.notion.scan import scan_databases
from ppm_resources.notion.source import PageSource
from ppm_resources.notion.stats import NotionStats

__all__ = [
    "API_VERSIONS",
    "NOTION_API_URL",
    "ApiVersion",
    "CircuitOpenError",
    "DatabaseScan",
    "NotionAPIError",
    "NotionAmbiguousWriteError",
    "NotionAuthError",
    "NotionBadRequestError",
    "NotionClient",
    "NotionClientConfig",
    "NotionCursorExpiredError",
    "NotionError",
    "NotionForbiddenError",
    "NotionNotFoundError",
    "NotionStats",
    "NotionTransientError",
    "PageBatch",
    "PageSource",
    "QueryTarget",
    "RetriesExhaustedError",
    "scan_databases",
]
