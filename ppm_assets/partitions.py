"""Partition definitions shared by assets, sensors and jobs."""

import dagster as dg

from ppm_resources.notion_mapping import NotionMapping


def notion_database_partitions(mapping: NotionMapping) -> dg.StaticPartitionsDefinition:
    """One partition per Notion database of the mapping (keys are the mapping's names)."""
    return dg.StaticPartitionsDefinition(mapping.names)
