"""`create_notion_action`: raise an Action in Notion by hand (Launchpad form), or send the pending drafts."""

import dagster as dg

from ppm_assets.tables import NOTION_WRITEBACKS
from ppm_sensors.retries import RETRY_TAGS

JOB_NAME = "create_notion_action"


def writeback_config(**fields: object) -> dict:
    """Run config of the write-back op (the fields of the Launchpad form, or `source_ids`)."""
    return {"ops": {NOTION_WRITEBACKS.op_name: {"config": fields}}}


create_notion_action_job = dg.define_asset_job(
    name=JOB_NAME,
    selection=dg.AssetSelection.assets(NOTION_WRITEBACKS.key),
    # A failed write is retried by the run (the writer finds a page a lost answer created; nothing doubles); a bad
    # form fails without retries (`allow_retries=False`).
    tags=RETRY_TAGS,
    description="Create an Action page in the Notion Actions database: fill in project_id, title, assignee, "
    "due_date (and source, source_id) to raise one by hand; leave the title empty to send every pending draft "
    "(critical DQ issues, High-impact Advisor recommendations). One page per Source ID, never two; every result "
    f"is recorded in {NOTION_WRITEBACKS.name}.",
)
