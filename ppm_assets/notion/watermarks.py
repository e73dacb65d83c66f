"""`bronze/notion_sync_watermarks`: where each database's incremental sync stands (for people, not the sync).

The sync itself always derives its watermark from `bronze.notion_raw_pages`, so this table can never
disagree with the data it describes: it is a view materialized for the UI and for alerting.
"""

import dagster as dg

from ppm_assets.metadata import markdown_preview, table_metadata
from ppm_assets.tables import NOTION_RAW_PAGES, NOTION_SYNC_WATERMARKS
from ppm_resources.lakehouse import Lakehouse, load_sql

TABLE = NOTION_SYNC_WATERMARKS.name


@dg.asset(
    key=NOTION_SYNC_WATERMARKS.key,
    deps=[NOTION_RAW_PAGES.key],
    group_name="notion",
    kinds={"notion", "delta", "sql"},
    owners=["team:data-platform"],
    description="Per Notion database: sync watermark, newest edit seen, rows, pages, last sync run.",
)
def notion_sync_watermarks(lakehouse: Lakehouse) -> dg.MaterializeResult:
    write = lakehouse.replace(TABLE, load_sql(NOTION_SYNC_WATERMARKS.sql))
    rows = lakehouse.query(f"SELECT database_name, watermark, bronze_rows, pages_seen FROM {TABLE}")
    return dg.MaterializeResult(
        metadata={**table_metadata(lakehouse, TABLE, write), "preview": markdown_preview(rows, limit=50)}
    )
