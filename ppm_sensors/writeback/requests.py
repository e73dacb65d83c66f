"""Drafts -> run requests of `create_notion_action`: one run per Source ID, none for a draft the ledger already
shows with a page, none while a run for it is in flight, and a bounded number per tick.

Runs carry the draft's Source ID as a tag, so the sensor sees what became of earlier runs. The run key is the
Source ID for the first run; Dagster never starts a second run under a run key it has seen, whatever became of
the first, so once runs for an item have ended without a page (failed, canceled, crashed), the next request's
key is `<source id>#<runs so far>`. The writer's lookup by Source ID keeps any of this from making a second page.
"""

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
#: The run tag naming the one draft a sensor's run sends.
SOURCE_ID_TAG = "ppm/source_id"
#: Set by Dagster on a failed run that its run retries will re-execute.
WILL_RETRY_TAG = "dagster/will_retry"


def earlier_runs(instance: dg.DagsterInstance, source_id: str) -> tuple[int, bool]:
    """How many write-back runs were requested for ``source_id``, and whether one is still in flight (queued,
    running, or failed with a retry to come)."""
    runs = instance.get_runs(dg.RunsFilter(job_name=JOB_NAME, tags={SOURCE_ID_TAG: source_id}))
    in_flight = any(not run.is_finished or run.tags.get(WILL_RETRY_TAG) == "true" for run in runs)
    return len(runs), in_flight


def run_key(source_id: str, earlier: int) -> str:
    return source_id if earlier == 0 else f"{source_id}#{earlier}"


@dataclass(frozen=True)
class WritebackPlan:
    requests: list[dg.RunRequest]
    requested: list[ActionDraft]
    done: list[ActionDraft]  # have a page in the ledger: nothing to send
    in_flight: list[ActionDraft]  # a run for it is queued, running or about to be retried
    backlog: list[ActionDraft]  # left for the next tick


def plan_writebacks(
    lakehouse: Lakehouse, instance: dg.DagsterInstance, drafts: Sequence[ActionDraft]
) -> WritebackPlan:
    """What to request for the current ``drafts`` (in order; at most MAX_RUNS_PER_TICK)."""
    done_ids = done_source_ids(lakehouse, NOTION_WRITEBACKS.name, [d.source_id for d in drafts])
    done, in_flight, pending = [], [], []
    keys: dict[str, str] = {}
    for draft in drafts:
        if draft.source_id in done_ids:
            done.append(draft)
            continue
        if len(pending) >= MAX_RUNS_PER_TICK:  # the backlog's runs are looked up on a later tick
            pending.append(draft)
            continue
        earlier, running = earlier_runs(instance, draft.source_id)
        if running:
            in_flight.append(draft)
        else:
            keys[draft.source_id] = run_key(draft.source_id, earlier)
            pending.append(draft)
    now, later = pending[:MAX_RUNS_PER_TICK], pending[MAX_RUNS_PER_TICK:]
    requests = [
        dg.RunRequest(
            run_key=keys[draft.source_id],
            job_name=JOB_NAME,
            run_config=writeback_config(source_ids=[draft.source_id]),
            tags={SOURCE_ID_TAG: draft.source_id, "ppm/action_source": draft.source},
        )
        for draft in now
    ]
    return WritebackPlan(requests, now, done, in_flight, later)
