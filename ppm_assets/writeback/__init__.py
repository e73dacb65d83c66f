"""The Notion write-back area: Action pages created in Notion, recorded in a ledger (DESIGN §8).

request.py   the Launchpad form (`NotionActionConfig`) and its validation into a draft, before any request
ledger.py    the ledger's Arrow schema and rows (`bronze.notion_writebacks`)
asset.py     `bronze/notion_writebacks`: sends one Action from the form, or the pending drafts

Resources: `lakehouse`, `notion` (`NotionResource`). The writer itself (lookup by Source ID, create, re-read
after an ambiguous failure) is `ppm_resources.writeback`.
"""

import dagster as dg

from ppm_assets.writeback.asset import build_notion_writebacks
from ppm_resources.notion.mapping import NotionMapping


def build_defs(mapping: NotionMapping) -> dg.Definitions:
    return dg.Definitions(assets=[build_notion_writebacks(mapping)])
