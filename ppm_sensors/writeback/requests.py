"""Drafts -> run requests of `create_notion_action`: one run per Source ID, none for a draft the ledger already
shows with a page, none while a run for it is in flight, and a bounded number per tick.

Runs carry the draft's Source ID as a tag, so the sensor sees what became of earlier runs. The run key is the
Source ID for the first run; Dagster never starts a second run under a run key it has seen, whatever became of
the first, so once runs for an item have ended without a page (failed, canceled, crashed), the next request's
key is `<source id>#<n>`, one past the highest `n` its earlier runs used. The writer's lookup by Source ID keeps any of this from making a second page.
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
#: Set by Dagster on a failed run that its run retries will re-execute, and once the retry run exists.
WILL_RETRY_TAG = "dagster/will_retry"
AUTO_RETRY_TAG = "dagster/auto_retry_run_id"
RUN_KEY_TAG = "dagster/run_key"


def earlier_runs(instance: dg.DagsterInstance, source_id: str) -> tuple[str | None, bool]:
    """The run key of the next request for ``source_id`` (None: no earlier run, use the Source ID), and whether a
    run for it is still in flight (queued, running, or failed with a retry Dagster has not made yet)."""
    runs = instance.get_runs(dg.RunsFilter(job_name=JOB_NAME, tags={SOURCE_ID_TAG: source_id}))
    in_flight = any(
        not run.is_finished or (run.tags.get(WILL_RETRY_TAG) == "true" and AUTO_RETRY_TAG not in run.tags)
        for run in runs
    )
    if not runs:
        return None, in_flight
    # One past the highest key used: a deleted run record can never make a key Dagster has already seen.
    used = [_key_number(run.tags.get(RUN_KEY_TAG, ""), source_id) for run in runs]
    return f"{source_id}#{max(used) + 1}", in_flight


def _key_number(key: str, source_id: str) -> int:
    suffix = key[len(source_id) + 1 :] if key.startswith(f"{source_id}#") else ""
    return int(suffix) if suffix.isdigit() else 0


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
        key, running = earlier_runs(instance, draft.source_id)
        if running:
            in_flight.append(draft)
        else:
            keys[draft.source_id] = key or draft.source_id
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
