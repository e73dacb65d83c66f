"""Partition definitions shared by assets, sensors and jobs."""

import dagster as dg

from ppm_resources.notion_mapping import NotionMapping


def notion_database_partitions(mapping: NotionMapping) -> dg.StaticPartitionsDefinition:
    """One partition per Notion database of the mapping (keys are the mapping's names)."""
    return dg.StaticPartitionsDefinition(mapping.names)


# gold/budget_vs_actual: one partition per month since the first budget year, up to the current month.
monthly_periods = dg.MonthlyPartitionsDefinition(start_date="2024-01-01", end_offset=1)
