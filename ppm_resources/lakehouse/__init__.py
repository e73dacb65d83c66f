"""The lakehouse: one interface (`Lakehouse`), engines behind it, SQL written in the Databricks dialect."""

from ppm_resources.lakehouse.base import Lakehouse, TableInfo, TableVersion, WriteResult, parse_table_name
from ppm_resources.lakehouse.errors import LakehouseError, SqlError, TableNotFoundError
from ppm_resources.lakehouse.local import LocalLakehouse
from ppm_resources.lakehouse.sql import SqlSource, load_sql, sql_string, to_duckdb

__all__ = [
    "Lakehouse",
    "LakehouseError",
    "LocalLakehouse",
    "SqlError",
    "SqlSource",
    "TableInfo",
    "TableNotFoundError",
    "TableVersion",
    "WriteResult",
    "load_sql",
    "parse_table_name",
    "sql_string",
    "to_duckdb",
]
