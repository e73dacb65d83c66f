"""`bronze/notion_raw_pages`: every observed version of every Notion page, partitioned by database."""

import asyncio
from collections.abc import Iterator

import dagster as dg
from pydantic import Field

from ppm_assets.metadata import table_metadata
from ppm_assets.notion.sync import NotionBronzeSync, SyncReport
from ppm_assets.partitions import notion_database_partitions
from ppm_assets.tables import NOTION_RAW_PAGES
from ppm_resources.lakehouse import Lakehouse
from ppm_resources.notion.mapping import NotionMapping
from ppm_resources.notion.resource import NotionResource


class NotionSyncConfig(dg.Config):
    """Run configuration of a Notion sync (the Launchpad shows these fields)."""

    full_sync: bool = Field(
        default=False,
        description="Ignore the watermark: read every page, and reconcile trashed/deleted pages and "
        "formula/rollup values.",
    )
    dry_run: bool = Field(
        default=False, description="Fetch and validate, write nothing; counts are logged as an observation."
    )
    batch_rows: int = Field(default=5_000, ge=1, description="Rows per Delta commit (bounds memory).")
    page_ids: list[str] = Field(
        default_factory=list,
        description="Pages to check one by one after the scan (the deletion sensor fills this in with pages its id "
        "listing no longer finds; webhooks with pages that changed): each is retrieved and stored as it is now - a "
        "new version, trashed, deleted, or moved to another database. Ids outside the synced databases are ignored.",
    )
    allow_mass_delete: bool = Field(
        default=False,
        description="Tombstone pages even when more than NOTION_MASS_DELETE_SHARE of a database's live pages "
        "vanished at once (otherwise the run fails and nothing is tombstoned).",
    )
    list_pages: bool = Field(
        default=False,
        description="After the scan, list every live page id of each database (100 per request, title only) and "
        "check the pages bronze holds that are no longer listed: deletions without a full sync (the deletion sensor "
        "asks for this for databases too large to list within its tick).",
    )


def _report_metadata(report: SyncReport) -> dict[str, dg.MetadataValue]:
    totals = report.totals
    lines = ["| database | fetched | written | skipped | tombstones | watermark before | watermark after |",
             "|---|---|---|---|---|---|---|"]  # fmt: skip
    for name, db in report.databases.items():
        meta = db.as_metadata()
        lines.append(
            f"| {name} | {db.fetched} | {db.written} | {db.skipped} | {db.tombstones} | "
            f"{meta['watermark_before'] or '-'} | {meta['watermark_after'] or '-'} |"
        )
    metadata: dict[str, dg.MetadataValue] = {
        "pages_fetched": dg.MetadataValue.int(totals["fetched"]),
        "pages_written": dg.MetadataValue.int(totals["written"]),
        "pages_skipped": dg.MetadataValue.int(totals["skipped"]),
        "tombstones": dg.MetadataValue.int(totals["tombstones"]),
        "duration_s": dg.MetadataValue.float(round(report.seconds, 3)),
        "delta_commits": dg.MetadataValue.int(report.commits),
        "full_sync": dg.MetadataValue.bool(report.full_sync),
        "databases": dg.MetadataValue.md("\n".join(lines)),
        "watermarks": dg.MetadataValue.json(
            {name: db.as_metadata() for name, db in report.databases.items()}
        ),
    }
    for key, value in report.client_stats.items():
        metadata[key] = (
            dg.MetadataValue.float(value) if isinstance(value, float) else dg.MetadataValue.int(value)
        )
    return metadata


def build_notion_raw_pages(mapping: NotionMapping) -> dg.AssetsDefinition:
    """The bronze asset for the databases of `mapping` (one partition each)."""

    @dg.asset(
        key=NOTION_RAW_PAGES.key,
        partitions_def=notion_database_partitions(mapping),
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool="notion_api",
        group_name="notion",
        kinds={"notion", "delta"},
        owners=["team:data-platform"],
        output_required=False,
        description=(
            "Append-only history of Notion pages, one partition per database of config/notion_mapping.yaml. "
            "Incremental from a watermark derived from this table; unchanged pages are skipped by content hash."
        ),
    )
    def notion_raw_pages(
        context: dg.AssetExecutionContext,
        config: NotionSyncConfig,
        lakehouse: Lakehouse,
        notion: NotionResource,
    ) -> Iterator[dg.MaterializeResult | dg.AssetObservation]:
        names = list(context.partition_keys)

        async def sync() -> SyncReport:
            async with notion.client() as client:
                database_ids = await notion.resolve_database_ids(client, mapping, names)
                return await NotionBronzeSync(
                    client,
                    lakehouse,
                    database_ids,
                    run_id=context.run.run_id,
                    full_sync=config.full_sync,
                    dry_run=config.dry_run,
                    batch_rows=config.batch_rows,
                    progress=context.log.info,
                    page_ids=config.page_ids,
                    list_pages=config.list_pages,
                    mass_delete_share=notion.mass_delete_share,
                    allow_mass_delete=config.allow_mass_delete,
                ).run()

        mode = "full sync" if config.full_sync else "incremental sync"
        context.log.info(f"{mode}{' (dry run)' if config.dry_run else ''} of {', '.join(names)}")
        report = asyncio.run(sync())
        metadata = _report_metadata(report)
        if config.dry_run:
            context.log.info("dry run: nothing written; %d pages would be written", report.totals["written"])
            for name in names:
                yield dg.AssetObservation(
                    asset_key=context.asset_key, partition=name, metadata={**metadata, "dry_run": True}
                )
            return
        if lakehouse.exists(NOTION_RAW_PAGES.name):
            metadata |= table_metadata(lakehouse, NOTION_RAW_PAGES.name)
        yield dg.MaterializeResult(metadata=metadata)

    return notion_raw_pages
