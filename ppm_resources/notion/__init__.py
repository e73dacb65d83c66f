"""Notion API client, pagination and time-sliced scans, and flattening of pages to bronze rows.

Modules: ``client`` (NotionClient: requests, retries, breaker, page/database calls), ``pagination`` (one
cursor over a last_edited_time range, cursor-expiry recovery), ``slicing`` (concurrent adaptive time
slices over one or many databases), ``flatten`` + ``rows`` (pure: pages -> bronze rows), ``errors``,
``models``, ``stats``, ``ids``, ``blocking`` (sync facade). Generic rate limiting, retries and the circuit
breaker live in ``ppm_resources.resilience``.

    config = NotionClientConfig(token=settings.notion_token, base_url=settings.notion_base_url,
                                api_version=..., rate_limit_rps=3, rate_limit_burst=3)
    async with NotionClient(config) as notion:
        # incremental: pages edited since the watermark (minus an overlap: edit times are minute-rounded)
        async for batch in notion.iter_many([DatabaseScan(db_id, since=wm - overlap, name="projects")]):
            append(batch.rows())            # batch.complete_before / batch.complete: safe watermark
        # full sync: since=None; big databases are read in concurrent time slices at the rate limit
        # reconciliation: ids that vanished -> retrieve_page(id, missing_ok=True): None = deleted/unshared
        live = await notion.list_page_ids(db_id)
        print(notion.stats.as_metadata())   # requests, 429s, retries... for run metadata
"""

from ppm_resources.notion.blocking import BlockingNotionClient
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
from ppm_resources.notion.flatten import flatten_properties, flatten_property
from ppm_resources.notion.models import API_VERSIONS, ApiVersion, DatabaseScan, PageBatch, QueryTarget
from ppm_resources.notion.rows import BRONZE_COLUMNS, bronze_row, content_hash, tombstone_row
from ppm_resources.notion.stats import NotionStats

__all__ = [
    "API_VERSIONS",
    "BRONZE_COLUMNS",
    "NOTION_API_URL",
    "ApiVersion",
    "BlockingNotionClient",
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
    "QueryTarget",
    "RetriesExhaustedError",
    "bronze_row",
    "content_hash",
    "flatten_properties",
    "flatten_property",
    "tombstone_row",
]
