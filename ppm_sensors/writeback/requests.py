"""Drafts -> run requests of `create_notion_action`: one run per Source ID (its run key), never one for a
draft the ledger already shows with a page, and a bounded number per tick (the rest wait for the next)."""

from collections.abc import Sequence
from dataclasses import dataclass

import dagster as dg

from ppm_assets.tables import NOTION_WRITEBACKS
from ppm_resources.lakehouse import Lakehouse
from ppm_resources.writeback.drafts import ActionDraft, done_source_ids
from ppm_sensors.writeback.jobs import JOB_NAME, writeback_config

#: Runs one tick may request: each is a process and every one waits for the `notion_api` pool, so a burst of
#: drafts (a first Advisor ingestion) drains over a few ticks instead of flooding the run queue.
MAX_RUNS_PER_TICK = 10


@dataclass(frozen=True)
class WritebackPlan:
    requests: list[dg.RunRequest]
    requested: list[ActionDraft]
    done: list[ActionDraft]  # already have a page in the ledger: nothing to send
    backlog: list[ActionDraft]  # left for the next tick

    @property
    def handled(self) -> list[str]:
        """Source ids this tick dealt with (requested or done): a cursor remembers them."""
        return [d.source_id for d in (*self.requested, *self.done)]


def plan_writebacks(lakehouse: Lakehouse, drafts: Sequence[ActionDraft]) -> WritebackPlan:
    done_ids = done_source_ids(lakehouse, NOTION_WRITEBACKS.name, [d.source_id for d in drafts])
    done = [d for d in drafts if d.source_id in done_ids]
    pending = [d for d in drafts if d.source_id not in done_ids]
    now, later = pending[:MAX_RUNS_PER_TICK], pending[MAX_RUNS_PER_TICK:]
    requests = [
        dg.RunRequest(
            run_key=draft.source_id,
            job_name=JOB_NAME,
            run_config=writeback_config(source_ids=[draft.source_id]),
            tags={"ppm/action_source": draft.source},
        )
        for draft in now
    ]
    return WritebackPlan(requests, now, done, later)
