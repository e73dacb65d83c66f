"""Budget lines left out of the gold marts, and why: `sql/gold/budget_vs_actual_exclusions.sql` lists them.

`gold/budget_vs_actual` counts them per month in its metadata; `gold/data_quality_issues` records them as issues.
"""

EXCLUSIONS_SQL = "gold/budget_vs_actual_exclusions.sql"

#: Each `reason` the exclusions SQL gives, and how people read it.
EXCLUSION_REASONS = {
    "archived": "trashed or deleted in Notion (not a defect; listed for completeness)",
    "orphan_project": "no live project",
    "negative_amount": "a negative amount or actual amount",
    "unknown_currency": "a currency without FX rates",
    "no_fx_rate": "no FX rate for the committed or paid month",
    "no_program": "the project has no live program",
}
