"""Check factories: one function per rule family, producing Dagster asset checks that query the lakehouse."""

from collections.abc import Callable, Sequence

import dagster as dg

from ppm_checks.rules import notion_url
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
        sample_keys = sorted(row["sample_keys"] or [])
        metadata = {
            "failing_rows": dg.MetadataValue.int(failing),
            "total_rows": dg.MetadataValue.int(int(row["total_rows"])),
            "sample_keys": dg.MetadataValue.json(sample_keys),
        }
        if key_columns == ["page_id"]:  # Notion pages: link the samples
            metadata["sample_urls"] = dg.MetadataValue.json(
                [notion_url(key) for key in sample_keys if key != "<null>"]
            )
        return dg.AssetCheckResult(
            passed=failing == 0,
            severity=dg.AssetCheckSeverity.ERROR,
            description=(
                f"{failing} rows of {table} have a NULL or duplicated ({', '.join(key_columns)}): downstream "
                "assets of this run were not materialized."
                if failing
                else None
            ),
            metadata=metadata,
        )

    return _check


def counted_result(
    row: dict,
    failure: Callable[[int, int], str],
    severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR,
) -> dg.AssetCheckResult:
    """The result of a check whose SQL returns `failing_rows`, `total_rows` and `samples` (sample keys);
    `failure(failing, total)` says what failed."""
    failing, total = int(row["failing_rows"] or 0), int(row["total_rows"] or 0)
    return dg.AssetCheckResult(
        passed=failing == 0,
        severity=severity,
        description=failure(failing, total) if failing else None,
        metadata={
            "failing_rows": dg.MetadataValue.int(failing),
            "total_rows": dg.MetadataValue.int(total),
            "sample_keys": dg.MetadataValue.json(list(row["samples"] or [])),
        },
    )
