"""Silver Notion tables, one asset per database of `config/notion_mapping.yaml` (no code per database)."""

import dagster as dg

from ppm_assets.metadata import table_metadata
from ppm_assets.notion.silver_sql import silver_select_sql
from ppm_assets.tables import NOTION_RAW_PAGES, notion_silver_table
from ppm_resources.lakehouse import Lakehouse, SqlSource
from ppm_resources.notion.mapping import NotionMapping


def notion_silver_asset(database_name: str, mapping: NotionMapping) -> dg.AssetsDefinition:
    database, source = mapping.database(database_name), mapping.source
    silver = notion_silver_table(database_name, mapping)
    table = silver.name

    @dg.asset(
        key=silver.key,
        deps=[
            dg.AssetDep(
                NOTION_RAW_PAGES.key, partition_mapping=dg.SpecificPartitionsPartitionMapping([database_name])
            )
        ],
        group_name="notion",
        kinds={"notion", "delta", "sql"},
        owners=["team:data-platform"],
        description=(
            f"Current state of the Notion database {database.title!r}: one row per page (latest "
            f"observation in {NOTION_RAW_PAGES.name}), typed per {source}; trashed or deleted pages have "
            "is_archived = true; row-level defects are listed in dq_flags."
        ),
        metadata={"notion_database": database_name, "mapping": source},
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


def notion_silver_assets(mapping: NotionMapping) -> list[dg.AssetsDefinition]:
    return [notion_silver_asset(name, mapping) for name in mapping.names]
