"""`bronze/notion_writebacks`: Action pages sent to Notion, one ledger row per draft (DESIGN §8).

A run either raises one Action from the Launchpad form (validated before any request: the project exists in
silver, the due date is a date, the assignee is a person of the workspace), or sends the pending drafts (critical
DQ issues and High-impact Advisor recommendations without a page yet; the sensors narrow them to one Source ID
per run). Each draft goes through `ActionWriter.ensure`: one page per Source ID, never two. Every result is
appended to the ledger before the run ends; a failed draft then fails the run, so on-call sees it and a re-run
(or the next pending run) sends it again.
"""

import asyncio
import dataclasses
from collections.abc import Sequence

import dagster as dg

from ppm_assets.metadata import table_metadata
from ppm_assets.tables import ADVISOR_RECOMMENDATIONS, DATA_QUALITY_ISSUES, NOTION_WRITEBACKS
from ppm_assets.writeback.ledger import ledger_rows
from ppm_assets.writeback.request import NotionActionConfig, RequestError, form_draft, resolve_assignee
from ppm_resources.lakehouse import Lakehouse
from ppm_resources.notion.errors import NotionError
from ppm_resources.notion.mapping import NotionMapping
from ppm_resources.notion.resource import NotionResource
from ppm_resources.resilience import CircuitOpenError, RetriesExhaustedError
from ppm_resources.writeback.drafts import (
    ActionDraft,
    done_source_ids,
    high_impact_advisor_drafts,
    latest_dq_drafts,
)
from ppm_resources.writeback.lock import SourceLocks
from ppm_resources.writeback.properties import ACTIONS_DATABASE
from ppm_resources.writeback.writer import ActionResult, ActionWriter, failed, summary

PROJECTS_DATABASE = "projects"
#: A progress line every this many drafts of a pending run.
PROGRESS_EVERY = 10
#: Results listed in the run's markdown metadata.
MAX_LISTED = 50


def pending_drafts(lakehouse: Lakehouse, source_ids: Sequence[str], requested_by: str) -> list[ActionDraft]:
    """Current drafts without a page in the ledger (narrowed to ``source_ids`` when given), by Source ID."""
    _, drafts = latest_dq_drafts(lakehouse, DATA_QUALITY_ISSUES.name)
    drafts |= high_impact_advisor_drafts(
        lakehouse, ADVISOR_RECOMMENDATIONS.name, asset=ADVISOR_RECOMMENDATIONS.path
    )
    wanted = set(source_ids) if source_ids else set(drafts)
    done = done_source_ids(lakehouse, NOTION_WRITEBACKS.name, sorted(wanted & set(drafts)))
    return [
        dataclasses.replace(draft, requested_by=requested_by)
        for key, draft in sorted(drafts.items())
        if key in wanted and key not in done
    ]


def _results_markdown(results: Sequence[ActionResult]) -> str:
    lines = ["| Source ID | outcome | page | note |", "|---|---|---|---|"]
    for r in results[:MAX_LISTED]:
        page = f"[{r.page_id}]({r.url})" if r.url else (r.page_id or "-")
        note = (r.error or r.note or "").replace("|", "/").replace("\n", " ")
        lines.append(f"| {r.draft.source_id} | {r.outcome} | {page} | {note} |")
    if len(results) > MAX_LISTED:
        lines.append(f"| ... {len(results) - MAX_LISTED} more in {NOTION_WRITEBACKS.name} | | | |")
    return "\n".join(lines)


def build_notion_writebacks(mapping: NotionMapping) -> dg.AssetsDefinition:
    """The write-back asset for the Actions database of `mapping` (projects validated against its silver table)."""
    projects_table = mapping.database(PROJECTS_DATABASE).silver_table_name
    projects_key = dg.AssetKey(["silver", mapping.database(PROJECTS_DATABASE).silver_table])

    @dg.asset(
        key=NOTION_WRITEBACKS.key,
        deps=[DATA_QUALITY_ISSUES.key, ADVISOR_RECOMMENDATIONS.key, projects_key],
        pool="notion_api",
        group_name="writeback",
        kinds={"notion", "delta"},
        owners=["team:data-platform"],
        description=(
            "Action pages the write-back sent to the Notion Actions database, one ledger row per draft (append-only): "
            "Source ID, outcome (created / existed / failed), page id and URL, run, time. Materialize with a title in "
            "the config to raise one Action by hand; without one, to send every pending draft (critical DQ issues, "
            "High-impact Advisor recommendations). One page per Source ID, never two."
        ),
    )
    def notion_writebacks(
        context: dg.AssetExecutionContext,
        config: NotionActionConfig,
        lakehouse: Lakehouse,
        notion: NotionResource,
    ) -> dg.MaterializeResult:
        run_id = context.run.run_id
        by_form = bool(config.title.strip())
        try:
            # Everything checkable without Notion is checked before the first request.
            draft = form_draft(config, lakehouse, projects_table, assignee_id=None) if by_form else None
        except RequestError as exc:
            raise dg.Failure(description=f"create_notion_action: {exc}", allow_retries=False) from None
        if draft is None:
            requested_by = context.run.tags.get("dagster/sensor_name", "pending")
            drafts = pending_drafts(lakehouse, config.source_ids, requested_by)
            context.log.info(
                f"{len(drafts)} pending drafts to send"
                + (f" (of {len(config.source_ids)} requested)" if config.source_ids else "")
            )
        else:
            drafts = [draft]

        async def send() -> list[ActionResult]:
            async with notion.client() as client:
                items = drafts
                if by_form and config.assignee.strip():
                    assignee_id = resolve_assignee(config.assignee, await client.list_users())
                    items = [form_draft(config, lakehouse, projects_table, assignee_id=assignee_id)]
                if not items:
                    return []
                [database_id] = (
                    await notion.resolve_database_ids(client, mapping, [ACTIONS_DATABASE])
                ).values()
                writer = ActionWriter(
                    client,
                    database_id,
                    mapping.database(ACTIONS_DATABASE),
                    SourceLocks(notion.writeback_lock_dir),
                )
                sent: list[ActionResult] = []

                def progress(result: ActionResult) -> None:
                    sent.append(result)
                    where = result.url or result.error or ""
                    context.log.info(f"{result.draft.source_id}: {result.outcome} {where}".rstrip())
                    if len(sent) % PROGRESS_EVERY == 0 and len(sent) < len(items):
                        context.log.info(f"{len(sent)}/{len(items)} drafts sent: {dict(summary(sent))}")

                return await writer.ensure_all(items, progress)

        try:
            results = asyncio.run(send())
        except RequestError as exc:
            raise dg.Failure(description=f"create_notion_action: {exc}", allow_retries=False) from None
        except (NotionError, RetriesExhaustedError, CircuitOpenError) as exc:
            # Nothing was sent (the Actions database could not be resolved, Notion is down): the drafts are
            # recorded as failed, so the ledger and the sensors see the attempt.
            if drafts:
                rows = ledger_rows(
                    [failed(d, exc) for d in drafts], run_id=run_id, api_version=notion.api_version
                )
                lakehouse.append(NOTION_WRITEBACKS.name, rows)
            raise dg.Failure(description=f"Notion write-back: {exc}") from None

        write = (
            lakehouse.append(
                NOTION_WRITEBACKS.name, ledger_rows(results, run_id=run_id, api_version=notion.api_version)
            )
            if results
            else None
        )
        counts = summary(results)
        metadata: dict[str, dg.MetadataValue] = {
            "actions_created": dg.MetadataValue.int(counts["created"]),
            "actions_existed": dg.MetadataValue.int(counts["existed"]),
            "actions_failed": dg.MetadataValue.int(counts["failed"]),
            "results": dg.MetadataValue.md(_results_markdown(results) if results else "_nothing to send_"),
        }
        if len(results) == 1 and results[0].page_id:
            metadata["action_page_id"] = dg.MetadataValue.text(results[0].page_id)
            if results[0].url:
                metadata["action_url"] = dg.MetadataValue.url(results[0].url)
        if lakehouse.exists(NOTION_WRITEBACKS.name):
            metadata |= table_metadata(lakehouse, NOTION_WRITEBACKS.name, write)
        not_written = [r for r in results if not r.ok]
        if not_written:
            raise dg.Failure(
                description=f"{len(not_written)} of {len(results)} Action pages not written (recorded in "
                f"{NOTION_WRITEBACKS.name}; a re-run sends them again): "
                + "; ".join(f"{r.draft.source_id}: {r.error}" for r in not_written[:5]),
                metadata=metadata,
            )
        context.log.info(f"write-back done: {dict(counts)}")
        return dg.MaterializeResult(metadata=metadata)

    return notion_writebacks
