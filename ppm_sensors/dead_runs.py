"""Runs left in flight by a `ppm` process that died: marked failed and their pool slots freed, every minute.

The daemon's run monitoring only watches runs it launched; a killed `ppm sync` would otherwise keep its
`notion_api` slot and stall every sensor and schedule run behind it (`ppm_resources.run_liveness`).
"""

import dagster as dg

from ppm_resources.run_liveness import HOST_TAG, PID_TAG, release_dead_runs


@dg.sensor(
    name="dead_cli_runs",
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Marks failed the runs whose ppm process (on this host) died without finishing them, and frees "
    "their pool slots, so no later run waits for a slot nobody will give back.",
)
def dead_cli_runs(context: dg.SensorEvaluationContext) -> dg.SkipReason:
    released = release_dead_runs(context.instance)
    for run in released:
        context.log.warning(
            f"run {run.run_id} ({run.job_name}) was left in flight by ppm process {run.tags.get(PID_TAG)} on "
            f"{run.tags.get(HOST_TAG)}, which is gone: marked failed, pool slots freed"
        )
    if released:
        return dg.SkipReason(f"released {len(released)} run(s) of dead ppm processes")
    return dg.SkipReason("no run of a dead ppm process")
