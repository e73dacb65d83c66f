"""The quality area: `gold/data_quality_issues`, every failed data-quality rule per evaluation and the DQ score.

The rules themselves (and the checks on each table) are `ppm_checks`; this area records their results as a table.
"""

import dagster as dg

from ppm_assets.quality.data_quality_issues import build_data_quality_issues
from ppm_resources.notion.mapping import NotionMapping


def build_defs(mapping: NotionMapping) -> dg.Definitions:
    return dg.Definitions(assets=[build_data_quality_issues(mapping)])
