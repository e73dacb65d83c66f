"""Bronze: raw, append-only history of what the sources said."""

from ppm_assets.bronze.notion_raw_pages import build_notion_raw_pages
from ppm_assets.bronze.notion_sync_watermarks import notion_sync_watermarks
from ppm_resources.notion_mapping import load_notion_mapping

assets = [build_notion_raw_pages(load_notion_mapping()), notion_sync_watermarks]
