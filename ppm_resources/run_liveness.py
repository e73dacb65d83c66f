"""Runs whose process died without a word (a `kill -9`, a hang-up): found and released.

Runs started by `ppm` (sync, backfill, job, ...) execute inside the `ppm` process itself, so the daemon's run
monitoring, which watches run workers it launched, never looks at them: killed, such a run stayed STARTED and
kept its `notion_api` pool slot, and every later sync waited forever. Each `ppm` run is tagged with its process
(pid, host and the process's start time, so a reused pid is not mistaken for it); a run still in flight whose
process is gone from this host is marked failed and its pool slots freed. The `ppm` commands do it before they
start a run, and the `dead_cli_runs` sensor every minute.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import dagster as dg

PID_TAG = "ppm/pid"
HOST_TAG = "ppm/host"
PROCESS_START_TAG = "ppm/process_start"
IN_FLIGHT = [
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]


def process_start(pid: int) -> str | None:
    """The kernel's start time of process `pid` (clock ticks since boot), or None when there is no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: count fields after its closing ")".
    return stat.rsplit(")", 1)[1].split()[19]


def owner_tags() -> dict[str, str]:
    """Tags naming this process as the one executing a run."""
    pid = os.getpid()
    return {PID_TAG: str(pid), HOST_TAG: socket.gethostname(), PROCESS_START_TAG: process_start(pid) or ""}


def owner_alive(tags: dict[str, str]) -> bool | None:
    """Whether the process a run's tags name still runs; None when it cannot be told (no tags, another host)."""
    pid = tags.get(PID_TAG)
    if not pid or not pid.isdigit() or tags.get(HOST_TAG) != socket.gethostname():
        return None
    started = process_start(int(pid))
    return started is not None and started == tags.get(PROCESS_START_TAG, started)


def dead_runs(instance: dg.DagsterInstance) -> list[dg.DagsterRun]:
    """Runs in flight whose `ppm` process on this host is gone."""
    runs = instance.get_runs(filters=dg.RunsFilter(statuses=IN_FLIGHT, tags={HOST_TAG: socket.gethostname()}))
    return [run for run in runs if owner_alive(dict(run.tags)) is False]


def release_dead_runs(instance: dg.DagsterInstance) -> list[dg.DagsterRun]:
    """Mark each dead run failed (with the reason) and free its pool slots; the runs released."""
    released = dead_runs(instance)
    for run in released:
        instance.report_run_failed(
            run,
            f"the ppm process that ran it (pid {run.tags.get(PID_TAG)} on {run.tags.get(HOST_TAG)}) ended without "
            "finishing it (killed or hung up); marked failed so its pool slots are free. Re-run it, or re-execute "
            "it from failure.",
        )
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
    return released


def pool_holders(instance: dg.DagsterInstance, pool: str) -> list[str]:
    """Runs holding every slot of `pool` (empty when a slot is free, or the pool was never used)."""
    info = instance.event_log_storage.get_concurrency_info(pool)
    if info.slot_count <= 0 or info.active_slot_count < info.slot_count:
        return []
    return sorted(info.active_run_ids)
