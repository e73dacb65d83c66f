"""The write-back ledger's invariant as an asset check: a Source ID names one Action page, whatever the runs."""

import dagster as dg

from ppm_assets.tables import NOTION_WRITEBACKS
from ppm_checks.factories import counted_result
from ppm_checks.rules import SAMPLE_LIMIT
from ppm_resources.lakehouse import Lakehouse
from ppm_resources.writeback.drafts import DONE_OUTCOMES

#: Source IDs whose successful rows name no page, or more than one page (a second page was made for one item).
ONE_PAGE_SQL = f"""
WITH per_source AS (
  SELECT source_id, count(DISTINCT page_id) AS pages, count_if(page_id IS NULL) AS without_page
  FROM {NOTION_WRITEBACKS.name}
  WHERE outcome IN ({", ".join(f"'{o}'" for o in DONE_OUTCOMES)})
  GROUP BY source_id
)
SELECT
  count_if(pages <> 1 OR without_page > 0) AS failing_rows,
  count(*) AS total_rows,
  slice(array_sort(collect_list(CASE WHEN pages <> 1 OR without_page > 0 THEN source_id END)), 1, {SAMPLE_LIMIT}) AS samples
FROM per_source
"""


@dg.asset_check(
    asset=NOTION_WRITEBACKS.key,
    name="one_page_per_source_id",
    description="Every Source ID the ledger shows as created or existed names exactly one Action page, in every "
    "run: a second page for one item would show here.",
)
def one_page_per_source_id(lakehouse: Lakehouse) -> dg.AssetCheckResult:
    if not lakehouse.exists(NOTION_WRITEBACKS.name):
        return dg.AssetCheckResult(passed=True, description="nothing written back yet")
    return counted_result(
        lakehouse.query(ONE_PAGE_SQL).to_pylist()[0],
        lambda failing, total: (
            f"{failing} of {total} Source IDs name no page or several pages in "
            f"{NOTION_WRITEBACKS.name}: open the pages in Notion and trash the later duplicates (runbook, Notion "
            "write-back)"
        ),
    )


def writeback_checks() -> list[dg.AssetChecksDefinition]:
    return [one_page_per_source_id]
