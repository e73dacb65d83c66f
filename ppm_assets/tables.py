"""The table registry: every lakehouse table with its asset key, its area and where its rows come from.

One entry per table, so a table's name, asset key and op name are written once: assets, checks, sensors, the
`ppm` command and (later) the engines' parity test all look tables up here. The silver Notion tables come from
`config/notion_mapping.yaml` (adding a database there adds its table here); the others are listed below.

This module depends on nothing but the mapping's types, so every area, check and sensor may import it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import dagster as dg

from ppm_resources.notion.mapping import NotionMapping

Area = Literal["notion", "finance", "quality", "control_room", "azure", "writeback"]


@dataclass(frozen=True)
class Table:
    """One lakehouse table and the asset that materializes it.

    `sql` is the file under `sql/` whose SELECT builds the table, when one does; `built_from` says what builds
    it otherwise (the Notion API, a config file, generated SQL, the Dagster instance).
    """

    name: str  # schema.table
    area: Area
    sql: str | None = None
    built_from: str | None = None

    @property
    def schema(self) -> str:
        return self.name.split(".", 1)[0]

    @property
    def table(self) -> str:
        return self.name.split(".", 1)[1]

    @property
    def key(self) -> dg.AssetKey:
        """Asset keys are `[schema, table]`."""
        return dg.AssetKey([self.schema, self.table])

    @property
    def op_name(self) -> str:
        """The asset's op name in run config (`ops: {<op_name>: {config: ...}}`)."""
        return f"{self.schema}__{self.table}"

    @property
    def path(self) -> str:
        """The asset key as the UI and the `ppm` command write it (`silver/projects`)."""
        return f"{self.schema}/{self.table}"


NOTION_RAW_PAGES = Table("bronze.notion_raw_pages", "notion", built_from="the Notion API")
NOTION_SYNC_WATERMARKS = Table(
    "bronze.notion_sync_watermarks", "notion", sql="bronze/notion_sync_watermarks.sql"
)
FX_RATES = Table("silver.fx_rates", "finance", built_from="config/fx_rates.yaml")
BUDGET_VS_ACTUAL = Table("gold.budget_vs_actual", "finance", sql="gold/budget_vs_actual.sql")
PROJECT_HEALTH = Table("gold.project_health", "finance", sql="gold/project_health.sql")
FORECAST = Table("gold.forecast", "finance", sql="gold/forecast.sql")
DATA_QUALITY_ISSUES = Table(
    "gold.data_quality_issues", "quality", built_from="config/dq_rules.yaml evaluated on silver and gold"
)
CONTROL_ROOM_STATUS = Table("gold.control_room_status", "control_room", built_from="the Dagster instance")
AZURE_RESOURCES_RAW = Table("bronze.azure_resources", "azure", built_from="Azure Resource Graph")
AZURE_ADVISOR_RAW = Table("bronze.azure_advisor", "azure", built_from="Azure Advisor")
AZURE_RESOURCES = Table("silver.azure_resources", "azure", sql="silver/azure_resources.sql")
ADVISOR_RECOMMENDATIONS = Table(
    "silver.advisor_recommendations", "azure", sql="silver/advisor_recommendations.sql"
)
ADVISOR_SUMMARY = Table("gold.advisor_summary", "azure", sql="gold/advisor_summary.sql")
NOTION_WRITEBACKS = Table(
    "bronze.notion_writebacks", "writeback", built_from="the Notion write-back (Action pages it sent)"
)

#: Every table that is not generated from the Notion mapping.
FIXED_TABLES = (
    NOTION_RAW_PAGES,
    NOTION_SYNC_WATERMARKS,
    FX_RATES,
    BUDGET_VS_ACTUAL,
    PROJECT_HEALTH,
    FORECAST,
    DATA_QUALITY_ISSUES,
    CONTROL_ROOM_STATUS,
    AZURE_RESOURCES_RAW,
    AZURE_ADVISOR_RAW,
    AZURE_RESOURCES,
    ADVISOR_RECOMMENDATIONS,
    ADVISOR_SUMMARY,
    NOTION_WRITEBACKS,
)


def notion_silver_table(database_name: str, mapping: NotionMapping) -> Table:
    """The silver table of one database of the mapping (its SELECT is generated from the mapping)."""
    database = mapping.database(database_name)
    return Table(
        database.silver_table_name,
        "notion",
        built_from=f"SQL generated from {mapping.source} ({database_name})",
    )


def all_tables(mapping: NotionMapping) -> list[Table]:
    """Every table of the code location: the fixed ones and one silver table per database of `mapping`."""
    return [*FIXED_TABLES, *(notion_silver_table(name, mapping) for name in mapping.names)]
