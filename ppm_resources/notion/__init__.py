"""Notion API client, pagination and time-sliced scans, and flattening of pages to bronze rows."""

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
