"""Asset checks (data-quality rules) for the lakehouse tables; `defs` is this package's piece."""

import dagster as dg

from ppm_checks.factories import key_unique_not_null_check

checks = [
    key_unique_not_null_check(["silver", "fx_rates"], "silver.fx_rates", ["currency", "month"]),
]

defs = dg.Definitions(asset_checks=checks)
