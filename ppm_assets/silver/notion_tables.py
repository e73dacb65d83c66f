"""Silver Notion tables, one asset per database of `config/notion_mapping.yaml` (no code per database)."""

import dagster as dg

from ppm_assets.metadata import table_metadata
from ppm_assets.silver.notion_sql import BRONZE_TABLE, silver_select_sql
from ppm_resources.lakehouse import Lakehouse, SqlSource
from ppm_resources.notion_mapping import DatabaseMapping, NotionMapping, load_notion_mapping

BRONZE_KEY = dg.AssetKey(["bronze", "notion_raw_pages"])


def notion_silver_asset(database_name: str, database: DatabaseMapping, source: str) -> dg.AssetsDefinition:
    table = database.silver_table_name

    @dg.asset(
        key=["silver", database.silver_table],
        deps=[
            dg.AssetDep(BRONZE_KEY, partition_mapping=dg.SpecificPartitionsPartitionMapping([database_name]))
        ],
        group_name="notion",
        kinds={"notion", "delta", "sql"},
        owners=["team:data-platform"],
        description=(
            f"Current state of the Notion database {database.title!r}: one row per page (latest "
            f"observation in {BRONZE_TABLE}), typed per {source}; trashed or deleted pages have "
            "is_archived = true; row-level defects are listed in dq_flags."
        ),
        metadata={"notion_database": database_name, "mapping": source},
        # Rebuilt whenever its bronze partition changes (a sync run rebuilds it anyway; this covers bronze-only runs).
        automation_condition=dg.AutomationCondition.eager(),
    )
    def _silver_table(context: dg.AssetExecutionContext, lakehouse: Lakehouse) -> dg.MaterializeResult:
        sql = SqlSource(silver_select_sql(database_name, database), origin=f"{source} ({database_name})")
        write = lakehouse.replace(table, sql)
        summary = lakehouse.query(
            f"SELECT count_if(NOT is_archived) AS live, count_if(is_archived) AS archived, "
            f"count_if(size(dq_flags) > 0) AS flagged FROM {table}"
        ).to_pylist()[0]
        context.log.info(
            "%s: %d live rows, %d archived, %d with dq_flags",
            table,
            summary["live"],
            summary["archived"],
            summary["flagged"],
        )
        return dg.MaterializeResult(
            metadata={
                **table_metadata(lakehouse, table, write),
                "live_rows": dg.MetadataValue.int(summary["live"]),
                "archived_rows": dg.MetadataValue.int(summary["archived"]),
                "flagged_rows": dg.MetadataValue.int(summary["flagged"]),
            }
        )

    return _silver_table


def notion_silver_assets(mapping: NotionMapping | None = None) -> list[dg.AssetsDefinition]:
    mapping = mapping or load_notion_mapping()
    return [notion_silver_asset(name, db, mapping.source) for name, db in mapping.databases.items()]
