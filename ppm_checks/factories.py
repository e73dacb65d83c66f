"""Check factories: one function per rule family, producing Dagster asset checks that query the lakehouse."""

from collections.abc import Sequence

import dagster as dg

from ppm_checks.sql import key_violations_sql
from ppm_resources.lakehouse import Lakehouse


def key_unique_not_null_check(
    asset_key: Sequence[str], table: str, key_columns: list[str]
) -> dg.AssetChecksDefinition:
    """Blocking ERROR check: every row has a non-null key and no two rows share it."""
    sql = key_violations_sql(table, key_columns)
    name = "key_" + "_".join(key_columns) + "_unique_not_null"

    @dg.asset_check(
        asset=dg.AssetKey(list(asset_key)),
        name=name,
        blocking=True,
        description=f"({', '.join(key_columns)}) is not null and unique in {table}.",
    )
    def _check(lakehouse: Lakehouse) -> dg.AssetCheckResult:
        row = lakehouse.query(sql).to_pylist()[0]
        failing = int(row["failing_rows"])
        return dg.AssetCheckResult(
            passed=failing == 0,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={
                "failing_rows": dg.MetadataValue.int(failing),
                "total_rows": dg.MetadataValue.int(int(row["total_rows"])),
                "sample_keys": dg.MetadataValue.json(list(row["sample_keys"] or [])),
            },
        )

    return _check
