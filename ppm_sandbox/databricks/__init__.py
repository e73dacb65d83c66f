"""Databricks emulator: SQL Statement Execution API over a given table engine, Unity Catalog volumes and the
Files API, mounted under `/databricks`."""

from ppm_sandbox.databricks.config import (
    DEFAULT_CATALOG,
    DEFAULT_TOKEN,
    DEFAULT_WAREHOUSE_ID,
    DatabricksConfig,
)
from ppm_sandbox.databricks.engine import TableEngine

__all__ = ["DEFAULT_CATALOG", "DEFAULT_TOKEN", "DEFAULT_WAREHOUSE_ID", "DatabricksConfig", "TableEngine"]
