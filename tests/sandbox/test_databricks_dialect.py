"""The emulator's pure parts: recognising statements, parameter markers and values, JSON_ARRAY rendering."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pyarrow as pa
import pytest

from ppm_sandbox.databricks.copy_into import _expand_braces
from ppm_sandbox.databricks.dialect import (
    CopyInto,
    CreateEmptyTable,
    CreateSchema,
    CreateTableAs,
    CreateVolume,
    DescribeDetail,
    DescribeHistory,
    DropTable,
    InsertInto,
    InsertReplaceWhere,
    Name,
    Optimize,
    Param,
    Query,
    Restore,
    ShowSchemas,
    ShowTables,
    Vacuum,
    classify,
    like,
    qualify,
    query_tables,
    table_name,
)
from ppm_sandbox.databricks.errors import StatementError
from ppm_sandbox.databricks.params import Parameter, bind, convert
from ppm_sandbox.databricks.results import column_info, render_rows, spark_double, spark_float
from ppm_sandbox.databricks.tokens import parameter_markers


def n(text: str) -> Name:
    return Name(tuple(text.split(".")))


def test_queries_pass_through_as_written() -> None:
    sql = "  WITH a AS (SELECT 1 AS x) SELECT * FROM a -- note\n"
    assert classify(sql) == Query("WITH a AS (SELECT 1 AS x) SELECT * FROM a")
    assert classify("(SELECT 1) UNION ALL (SELECT 2);") == Query("(SELECT 1) UNION ALL (SELECT 2)")
    assert classify("values (1, 2)") == Query("values (1, 2)")


def test_create_statements() -> None:
    assert classify("CREATE SCHEMA IF NOT EXISTS main.bronze") == CreateSchema(n("main.bronze"), True)
    assert classify("create database `Main`.`Silver` COMMENT 'x'") == CreateSchema(n("main.silver"), False)
    assert classify("CREATE VOLUME main.bronze.landing") == CreateVolume(n("main.bronze.landing"), False)
    assert classify(
        "CREATE OR REPLACE TABLE main.s.t USING DELTA PARTITIONED BY (a, `b`) AS SELECT * FROM x.y"
    ) == CreateTableAs(n("main.s.t"), True, False, ("a", "b"), "SELECT * FROM x.y")
    assert classify("CREATE TABLE IF NOT EXISTS s.t") == CreateEmptyTable(n("s.t"), False, True)
    assert classify(
        "CREATE TABLE t TBLPROPERTIES ('delta.appendOnly' = 'false') COMMENT 'c' AS SELECT 1"
    ) == CreateTableAs(n("t"), False, False, (), "SELECT 1")
    assert classify("DROP TABLE IF EXISTS c.s.t") == DropTable(n("c.s.t"), True)


def test_writes_and_table_commands() -> None:
    assert classify("INSERT INTO c.s.t REPLACE WHERE day = :d SELECT * FROM c.s.u") == InsertReplaceWhere(
        n("c.s.t"), "day", Param("d"), "SELECT * FROM c.s.u"
    )
    assert classify("INSERT INTO c.s.t REPLACE WHERE day = DATE '2026-01-31' SELECT 1").value == date(
        2026, 1, 31
    )
    assert classify("INSERT INTO c.s.t REPLACE WHERE n = -3 SELECT 1").value == -3
    assert classify("INSERT INTO TABLE c.s.t (SELECT 1)") == InsertInto(n("c.s.t"), "(SELECT 1)")
    copy = classify(
        "COPY INTO main.b.t FROM '/Volumes/main/b/v/dir' FILEFORMAT = PARQUET FILES = ('a.parquet', 'b.parquet') "
        "FORMAT_OPTIONS ('mergeSchema' = 'true') COPY_OPTIONS ('mergeSchema' = 'true', 'force' = true)"
    )
    assert copy == CopyInto(
        n("main.b.t"),
        "/Volumes/main/b/v/dir",
        "PARQUET",
        ("a.parquet", "b.parquet"),
        None,
        {"mergeschema": "true"},
        {"mergeschema": "true", "force": "true"},
    )
    assert classify("DESCRIBE HISTORY c.s.t LIMIT 5") == DescribeHistory(n("c.s.t"), 5)
    assert classify("desc detail c.s.t") == DescribeDetail(n("c.s.t"))
    assert classify("RESTORE TABLE c.s.t TO VERSION AS OF 3") == Restore(n("c.s.t"), 3)
    assert classify("RESTORE c.s.t VERSION AS OF 0") == Restore(n("c.s.t"), 0)
    assert classify("VACUUM c.s.t RETAIN 200 HOURS DRY RUN") == Vacuum(n("c.s.t"), 200.0, True)
    assert classify("OPTIMIZE c.s.t") == Optimize(n("c.s.t"))
    assert classify("SHOW SCHEMAS IN main LIKE 'b*'") == ShowSchemas("main", "b*")
    assert classify("SHOW TABLES FROM main.bronze") == ShowTables(n("main.bronze"), None)


@pytest.mark.parametrize(
    "statement",
    [
        "MERGE INTO t USING s ON t.a = s.a WHEN MATCHED THEN DELETE",
        "INSERT INTO c.s.t REPLACE WHERE a = 1 AND b = 2 SELECT 1",
        "INSERT OVERWRITE c.s.t SELECT 1",
        "CREATE TABLE c.s.t (a INT)",
        "OPTIMIZE c.s.t ZORDER BY (a)",
        "SELECT 1; SELECT 2",
        "SELECT 'unterminated",
        "",
    ],
)
def test_anything_else_is_a_syntax_error_naming_it(statement: str) -> None:
    with pytest.raises(StatementError) as failure:
        classify(statement)
    assert failure.value.message.startswith("[PARSE_SYNTAX_ERROR]")
    assert failure.value.sql_state == "42601"


def test_names_take_the_request_defaults() -> None:
    assert str(table_name(n("t"), "main", "bronze")) == "main.bronze.t"
    assert str(table_name(n("s.t"), "other", None)) == "other.s.t"
    assert table_name(n("t"), "main", None).schema == "default"
    tables = query_tables(
        "WITH c AS (SELECT 1) SELECT * FROM main.a.b JOIN x.y ON 1 = 1 JOIN c ON 1 = 1 JOIN t"
    )
    assert tables.catalogs == {"main"} and tables.uncatalogued and tables.unqualified
    assert "bronze.t" in qualify("SELECT * FROM t WHERE a = :x", "bronze").replace("`", "")
    assert ":x" in qualify("SELECT * FROM t WHERE a = :x", "bronze")


def test_parameter_markers_skip_strings_comments_casts_and_json_paths() -> None:
    sql = "SELECT :a, ':no', x::int, raw:field, /* :no */ :b -- :no\n, :a"
    assert parameter_markers(sql) == ["a", "b"]


def test_parameters_convert_by_type() -> None:
    def value(raw: str | None, kind: str) -> object:
        return convert(Parameter("p", raw, kind))

    assert value("12", "INT") == 12 and value("-3", "BIGINT") == -3 and value("7", "TINYINT") == 7
    assert value("12.3", "DECIMAL(10,2)") == Decimal("12.30")
    assert value("1.5", "DOUBLE") == 1.5 and value("true", "BOOLEAN") is True
    assert value("2026-01-31", "DATE") == date(2026, 1, 31)
    assert value("2026-01-31T10:00:00+02:00", "TIMESTAMP") == datetime(2026, 1, 31, 8, tzinfo=UTC)
    assert value("2026-01-31 10:00:00", "TIMESTAMP") == datetime(2026, 1, 31, 10, tzinfo=UTC)
    assert value("2026-01-31T10:00:00", "TIMESTAMP_NTZ") == datetime(2026, 1, 31, 10)
    assert value(None, "INT") is None and value("x", "STRING") == "x"
    for raw, kind in [("abc", "INT"), ("300", "TINYINT"), ("123456.7", "DECIMAL(5,2)"), ("maybe", "BOOLEAN")]:
        with pytest.raises(StatementError, match=r"^\[CAST_INVALID_INPUT\]"):
            value(raw, kind)
    with pytest.raises(StatementError, match=r"^\[UNSUPPORTED_DATATYPE\]"):
        value("1", "GEOGRAPHY")
    with pytest.raises(StatementError, match=r"^\[UNBOUND_SQL_PARAMETER\] Found the unbound parameter: b"):
        bind(["a", "b"], [Parameter("a", "1")])


def test_doubles_render_as_spark_does() -> None:
    cases = {
        1.0: "1.0",
        0.1: "0.1",
        123456.789: "123456.789",
        1e7: "1.0E7",
        12345678.9: "1.23456789E7",
        0.001: "0.001",
        0.0001: "1.0E-4",
        -2.5e-10: "-2.5E-10",
        1.5e20: "1.5E20",
        float("nan"): "NaN",
        float("-inf"): "-Infinity",
        -0.0: "-0.0",
    }
    assert {v: spark_double(v) for v in cases} == cases
    assert spark_float(0.1) == "0.1" and spark_float(3.4e38) == "3.4E38"


def test_rows_render_every_type_as_databricks_strings() -> None:
    table = pa.table(
        {
            "i": pa.array([12, None], pa.int64()),
            "d": pa.array([Decimal("12.30"), Decimal("-0.05")], pa.decimal128(10, 2)),
            "b": pa.array([True, False]),
            "day": pa.array([date(2026, 1, 31), None], pa.date32()),
            "ts": pa.array([datetime(2026, 1, 31, 10, tzinfo=UTC), None], pa.timestamp("us", tz="UTC")),
            "ntz": pa.array([datetime(2026, 1, 31, 10, 0, 0, 123456), None], pa.timestamp("us")),
            "arr": pa.array([["a", "b"], []], pa.list_(pa.string())),
            "m": pa.array([[("k", Decimal("1.50"))], None], pa.map_(pa.string(), pa.decimal128(5, 2))),
            "s": pa.array([{"a": 1, "b": "x"}, None], pa.struct([("a", pa.int32()), ("b", pa.string())])),
            "bin": pa.array([b"\x00\x01", None], pa.binary()),
        }
    )
    assert render_rows(table) == [
        [
            "12",
            "12.30",
            "true",
            "2026-01-31",
            "2026-01-31T10:00:00.000Z",
            "2026-01-31T10:00:00.123456",
            '["a","b"]',
            '{"k":1.50}',
            '{"a":1,"b":"x"}',
            "AAE=",
        ],
        [None, "-0.05", "false", None, None, None, "[]", None, None, None],
    ]


def test_arrow_types_map_to_databricks_types() -> None:
    def info(arrow_type: pa.DataType) -> tuple[str, str]:
        column = column_info(pa.field("c", arrow_type), 0)
        return column["type_name"], column["type_text"]

    assert info(pa.string()) == ("STRING", "string")
    assert info(pa.int64()) == ("LONG", "bigint")
    assert info(pa.int32()) == ("INT", "int")
    assert info(pa.int16()) == ("SHORT", "smallint")
    assert info(pa.int8()) == ("BYTE", "tinyint")
    assert info(pa.float64()) == ("DOUBLE", "double")
    assert info(pa.float32()) == ("FLOAT", "float")
    assert info(pa.bool_()) == ("BOOLEAN", "boolean")
    assert info(pa.date32()) == ("DATE", "date")
    assert info(pa.timestamp("us", tz="UTC")) == ("TIMESTAMP", "timestamp")
    assert info(pa.timestamp("us")) == ("TIMESTAMP_NTZ", "timestamp_ntz")
    assert info(pa.list_(pa.int32())) == ("ARRAY", "array<int>")
    assert info(pa.map_(pa.string(), pa.int64())) == ("MAP", "map<string,bigint>")
    assert info(pa.struct([("a", pa.int32()), ("b", pa.string())])) == ("STRUCT", "struct<a:int,b:string>")
    assert info(pa.binary()) == ("BINARY", "binary")
    assert info(pa.null()) == ("NULL", "void")
    decimal = column_info(pa.field("d", pa.decimal128(12, 3)), 4)
    assert decimal == {
        "name": "d",
        "position": 4,
        "type_name": "DECIMAL",
        "type_text": "decimal(12,3)",
        "type_precision": 12,
        "type_scale": 3,
    }


def test_like_patterns_and_glob_alternatives() -> None:
    assert like("b*|gold", "bronze") and like("b*|gold", "GOLD") and not like("b*|gold", "silver")
    assert like(None, "anything")
    assert _expand_braces("2026-{01,02}/*.parquet") == ["2026-01/*.parquet", "2026-02/*.parquet"]
