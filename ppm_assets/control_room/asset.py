"""`gold/control_room_status`, rebuilt every 15 minutes by the `control_room` schedule."""

import dagster as dg
import pyarrow.compute as pc

from ppm_assets.control_room.status import NEVER_RUN, collect_status, to_arrow
from ppm_assets.metadata import markdown_preview, table_metadata
from ppm_assets.tables import CONTROL_ROOM_STATUS
from ppm_resources.code_location import CodeLocation
from ppm_resources.lakehouse import Lakehouse

TABLE = CONTROL_ROOM_STATUS.name


@dg.asset(
    key=CONTROL_ROOM_STATUS.key,
    group_name="control_room",
    kinds={"dagster", "delta"},
    owners=["team:data-platform"],
    description=(
        "Per job, asset, schedule and sensor: last run id, status, start, end, duration, next scheduled tick, "
        "running schedules and the root-cause error of a failed run, read from the Dagster instance "
        "(one snapshot, replaced on every materialization)."
    ),
)
def control_room_status(
    context: dg.AssetExecutionContext, lakehouse: Lakehouse, code_location: CodeLocation
) -> dg.MaterializeResult:
    # The whole code location, also when this asset runs in a job or in-process run that holds only itself.
    repository = code_location.repository()
    rows = collect_status(context.instance, repository, exclude_run_id=context.run.run_id)
    table = to_arrow(rows)
    write = lakehouse.replace(TABLE, table)

    def count(object_type: str, status: str) -> int:
        return sum(1 for row in rows if row.object_type == object_type and row.status == status)

    failed_jobs, failed_assets = count("job", "FAILURE"), count("asset", "FAILURE")
    context.log.info(
        "%s: %d rows; the last run failed for %d jobs and %d assets",
        TABLE,
        len(rows),
        failed_jobs,
        failed_assets,
    )
    problems = table.filter(pc.is_valid(table["error"])).select(["object_type", "name", "status", "error"])
    return dg.MaterializeResult(
        metadata={
            **table_metadata(lakehouse, TABLE, write),
            "failed_jobs": dg.MetadataValue.int(failed_jobs),
            "failed_assets": dg.MetadataValue.int(failed_assets),
            "never_run_jobs": dg.MetadataValue.int(count("job", NEVER_RUN)),
            "problems": markdown_preview(problems, limit=20),
        }
    )
