"""Schemas, tables and Delta's table commands, run through the real SDK on the local lakehouse."""

from tests.sandbox.databricks_conftest_helpers import Workspace, workspace_fixture

ws = workspace_fixture(catalogs=("main", "lab"))


def make_projects(ws: Workspace) -> None:
    ws.ok("CREATE SCHEMA IF NOT EXISTS main.silver")
    ws.ok(
        "CREATE OR REPLACE TABLE main.silver.projects PARTITIONED BY (region) AS "
        "SELECT * FROM VALUES (1, 'eu', CAST(10.50 AS DECIMAL(10,2))), (2, 'us', CAST(7.25 AS DECIMAL(10,2))) "
        "AS t(id, region, budget)"
    )


def test_create_table_as_select_and_read_it_back(clean: Workspace) -> None:
    clean.ok("CREATE SCHEMA main.silver")
    response = clean.ok(
        "CREATE TABLE main.silver.projects PARTITIONED BY (region) AS "
        "SELECT * FROM VALUES (1, 'eu'), (2, 'us'), (3, 'eu') AS t(id, region) WHERE id >= :low",
        parameters=[("low", "1", "INT")],
    )
    assert [c.name for c in response.manifest.schema.columns] == ["num_affected_rows", "num_inserted_rows"]
    assert [c.type_text for c in response.manifest.schema.columns] == ["bigint", "bigint"]
    assert response.result.data_array == [["3", "3"]]
    assert clean.rows("SELECT id FROM main.silver.projects WHERE region = 'eu' ORDER BY id") == [["1"], ["3"]]
    # The request's catalog and schema complete shorter names.
    assert clean.rows("SELECT count(*) FROM projects", schema="silver") == [["3"]]
    assert clean.rows("SELECT count(*) FROM silver.projects", catalog="main") == [["3"]]
    detail = clean.rows("DESCRIBE DETAIL main.silver.projects")[0]
    assert detail[0] == "delta" and detail[2] == "main.silver.projects"
    assert detail[7] == '["region"]'


def test_create_table_conflicts(clean: Workspace) -> None:
    make_projects(clean)
    message = clean.failure("CREATE TABLE main.silver.projects AS SELECT 1 AS id")
    assert message.startswith(
        "[TABLE_OR_VIEW_ALREADY_EXISTS] Cannot create table or view `main`.`silver`.`projects`"
    )
    assert not clean.ok("CREATE TABLE IF NOT EXISTS main.silver.projects AS SELECT 1 AS id").result
    assert clean.rows("SELECT count(*) FROM main.silver.projects") == [["2"]]
    assert clean.failure("CREATE TABLE main.nowhere.t AS SELECT 1 AS id").startswith("[SCHEMA_NOT_FOUND]")
    assert clean.failure("CREATE TABLE other.s.t AS SELECT 1 AS id").startswith("[NO_SUCH_CATALOG_EXCEPTION]")
    assert clean.failure("CREATE SCHEMA main.silver").startswith("[SCHEMA_ALREADY_EXISTS]")


def test_insert_replace_where_and_append(clean: Workspace) -> None:
    make_projects(clean)
    replaced = clean.rows(
        "INSERT INTO main.silver.projects REPLACE WHERE region = :region "
        "SELECT 5 AS id, 'eu' AS region, CAST(1 AS DECIMAL(10,2)) AS budget",
        parameters=[("region", "eu")],
    )
    assert replaced == [["1", "1"]]
    assert clean.rows("SELECT id, region FROM main.silver.projects ORDER BY id") == [["2", "us"], ["5", "eu"]]
    assert clean.rows("INSERT INTO main.silver.projects VALUES (9, 'eu', 3.5)") == [["1", "1"]]
    assert clean.rows("SELECT budget FROM main.silver.projects WHERE id = 9") == [["3.50"]]
    assert clean.failure("INSERT INTO main.silver.projects VALUES (1, 'eu')").startswith(
        "[INSERT_COLUMN_ARITY_MISMATCH.NOT_ENOUGH_DATA_COLUMNS]"
    )
    assert clean.failure("INSERT INTO main.silver.missing SELECT 1").startswith("[TABLE_OR_VIEW_NOT_FOUND]")


def test_history_restore_and_time_travel(clean: Workspace) -> None:
    make_projects(clean)
    clean.ok("INSERT INTO main.silver.projects VALUES (3, 'eu', 1.00)")
    response = clean.ok("DESCRIBE HISTORY main.silver.projects")
    names = [c.name for c in response.manifest.schema.columns]
    assert names == [
        "version",
        "timestamp",
        "userId",
        "userName",
        "operation",
        "operationParameters",
        "readVersion",
        "isolationLevel",
        "isBlindAppend",
        "operationMetrics",
        "userMetadata",
        "engineInfo",
    ]
    types = {c.name: c.type_text for c in response.manifest.schema.columns}
    assert types["version"] == "bigint" and types["operationParameters"] == "map<string,string>"
    history = response.result.data_array
    assert [row[0] for row in history] == ["1", "0"]  # newest first
    assert history[0][8] == "true" and history[0][1].endswith("Z")
    assert clean.rows("DESCRIBE HISTORY main.silver.projects LIMIT 1")[0][0] == "1"
    assert clean.rows("SELECT count(*) FROM main.silver.projects VERSION AS OF 0") == [["2"]]
    restored = clean.ok("RESTORE TABLE main.silver.projects TO VERSION AS OF 0")
    assert [c.name for c in restored.manifest.schema.columns] == [
        "table_size_after_restore",
        "num_of_files_after_restore",
        "num_removed_files",
        "num_restored_files",
        "removed_files_size",
        "restored_files_size",
    ]
    assert clean.rows("SELECT count(*) FROM main.silver.projects") == [["2"]]
    assert clean.failure("RESTORE main.silver.projects TO VERSION AS OF 99").startswith(
        "[DELTA_CANNOT_RESTORE_TABLE_VERSION]"
    )


def test_vacuum_and_optimize(clean: Workspace) -> None:
    make_projects(clean)
    message = clean.failure("VACUUM main.silver.projects RETAIN 0 HOURS")
    assert message.startswith(
        "requirement failed: Are you sure you would like to vacuum files with such a low"
    )
    assert clean.rows("VACUUM main.silver.projects DRY RUN") == []
    location = clean.rows("VACUUM main.silver.projects RETAIN 200 HOURS")[0][0]
    assert location.endswith("/main/silver/projects")
    response = clean.ok("OPTIMIZE main.silver.projects")
    assert [c.name for c in response.manifest.schema.columns] == ["path", "metrics"]
    assert response.manifest.schema.columns[1].type_text.startswith("struct<")
    assert response.result.data_array[0][1].startswith("{")


def test_show_schemas_tables_and_drop(clean: Workspace) -> None:
    make_projects(clean)
    clean.ok("CREATE SCHEMA main.gold")
    clean.ok("CREATE TABLE IF NOT EXISTS main.gold.placeholder")
    assert clean.rows("SHOW SCHEMAS IN main") == [["gold"], ["silver"]]
    assert clean.rows("SHOW SCHEMAS IN main LIKE 's*'") == [["silver"]]
    response = clean.ok("SHOW TABLES IN main.gold")
    assert [c.name for c in response.manifest.schema.columns] == ["database", "tableName", "isTemporary"]
    assert response.result.data_array == [["gold", "placeholder", "false"]]
    assert clean.failure("SHOW TABLES IN main.nowhere").startswith("[SCHEMA_NOT_FOUND]")
    clean.ok("DROP TABLE main.silver.projects")
    assert clean.failure("SELECT * FROM main.silver.projects").startswith("[TABLE_OR_VIEW_NOT_FOUND]")
    assert clean.failure("DROP TABLE main.silver.projects").startswith("[TABLE_OR_VIEW_NOT_FOUND]")
    clean.ok("DROP TABLE IF EXISTS main.silver.projects")


def test_catalogs_have_their_own_tables(clean: Workspace) -> None:
    make_projects(clean)
    clean.ok("CREATE SCHEMA lab.silver")
    clean.ok("CREATE TABLE lab.silver.projects AS SELECT 1 AS id")
    assert clean.rows("SELECT count(*) FROM lab.silver.projects") == [["1"]]
    assert clean.rows("SELECT count(*) FROM silver.projects", catalog="lab") == [["1"]]
    assert clean.rows("SELECT count(*) FROM main.silver.projects") == [["2"]]
    assert clean.failure("SELECT * FROM main.silver.projects JOIN lab.silver.projects USING (id)").startswith(
        "[PARSE_SYNTAX_ERROR]"
    )
