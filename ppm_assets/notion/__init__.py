"""The Notion area: bronze pages synced from Notion, their watermarks, and one silver table per mapped database.

raw_pages.py      `bronze/notion_raw_pages`, partitioned by database (the sync run's Dagster face)
sync.py           the incremental / full sync into bronze (watermark derived from bronze, tombstones)
bronze_rows.py    the bronze row contract: Arrow schema, rows from plain pages, content hash
flatten.py        Notion property values -> bronze maps (pure)
watermarks.py     `bronze/notion_sync_watermarks`
silver_sql.py     silver SELECTs generated from config/notion_mapping.yaml (pure)
silver_tables.py  one silver asset per mapped database
"""

import dagster as dg

from ppm_assets.notion.raw_pages import build_notion_raw_pages
from ppm_assets.notion.silver_tables import notion_silver_assets
from ppm_assets.notion.watermarks import notion_sync_watermarks
from ppm_resources.notion.mapping import NotionMapping


def build_defs(mapping: NotionMapping) -> dg.Definitions:
    """The area's assets for the databases of `mapping`."""
    return dg.Definitions(
        assets=[build_notion_raw_pages(mapping), notion_sync_watermarks, *notion_silver_assets(mapping)]
    )
