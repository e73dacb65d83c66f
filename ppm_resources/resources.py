"""`build_resources`: the one place that turns settings into Dagster resources for an environment."""

from __future__ import annotations

from typing import Any

from ppm_resources.lakehouse import LocalLakehouse
from ppm_resources.settings import Settings, SettingsError, load_settings


def build_resources(settings: Settings | None = None) -> dict[str, Any]:
    """Resources keyed the same way in every environment (`PPM_ENV` picks the implementations)."""
    settings = settings or load_settings()
    if settings.ppm.env == "local":
        lakehouse = LocalLakehouse(
            root=settings.ppm.lakehouse_dir,
            duckdb_threads=settings.ppm.duckdb_threads,
            duckdb_memory_limit=settings.ppm.duckdb_memory_limit,
        )
    else:
        raise SettingsError(
            "PPM_ENV=databricks: the Databricks SQL-warehouse engine is not part of this release yet; "
            "use PPM_ENV=local (Delta Lake files + DuckDB)"
        )
    return {"lakehouse": lakehouse}
