"""The lakehouse: one interface (`Lakehouse`), engines behind it, SQL written in the Databricks dialect.

base.py        the interface every engine implements (and all the CLI and assets may use)
sql.py         engine-neutral SQL text: `sql/` files with includes, literals, origins
duckdb_sql.py  Databricks -> DuckDB transpilation (local engine only)
local.py       Delta Lake files (delta-rs) + DuckDB
"""

from ppm_resources.lakehouse.base import Lakehouse, TableInfo, TableVersion, WriteResult, parse_table_name
from ppm_resources.lakehouse.duckdb_sql import to_duckdb
from ppm_resources.lakehouse.errors import LakehouseError, SqlError, TableNotFoundError
from ppm_resources.lakehouse.local import LocalLakehouse
from ppm_resources.lakehouse.sql import SqlSource, load_sql, sql_string

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
