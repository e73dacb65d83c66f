"""Partition definitions shared by assets, sensors and jobs, and the run tags that select a range of them."""

import dagster as dg

from ppm_resources.notion.mapping import NotionMapping


def notion_database_partitions(mapping: NotionMapping) -> dg.StaticPartitionsDefinition:
    """One partition per Notion database of the mapping (keys are the mapping's names)."""
    return dg.StaticPartitionsDefinition(mapping.names)


# Azure bronze: one partition per subscription (lowercase dashed id), added and removed by the discovery sensor.
azure_subscriptions = dg.DynamicPartitionsDefinition(name="azure_subscriptions")

# gold/budget_vs_actual: one partition per month since the first budget year, up to the current month.
monthly_periods = dg.MonthlyPartitionsDefinition(start_date="2024-01-01", end_offset=1)

# A run over a range of partitions (what a single-run backfill launches): every key from first to last.
RANGE_START = "dagster/asset_partition_range_start"
RANGE_END = "dagster/asset_partition_range_end"


def range_tags(first: str, last: str) -> dict[str, str]:
    return {RANGE_START: first, RANGE_END: last}


def partition_statuses(
    instance: dg.DagsterInstance, key: dg.AssetKey, partitions_def: dg.PartitionsDefinition
) -> dict[str, dg.AssetPartitionStatus | None]:
    """Every partition of `key` with its latest status in `instance` (None: never materialized)."""
    keys = partitions_def.get_partition_keys(dynamic_partitions_store=instance)
    status = instance.get_status_by_partition(key, keys, partitions_def) or {}
    return {k: status.get(k) for k in keys}
