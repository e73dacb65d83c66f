"""Databricks-dialect SQL run on the local engine, against values worked out by hand.

Each case states the Databricks semantics it pins; the expected values are Databricks' answers.
"""

from datetime import date, datetime

import pyarrow as pa
import pytest

from ppm_resources.lakehouse import LocalLakehouse

MAP = pa.map_(pa.string(), pa.string())


@pytest.fixture(scope="module")
def lakehouse(tmp_path_factory) -> LocalLakehouse:
    engine = LocalLakehouse(root=str(tmp_path_factory.mktemp("lakehouse")))
    engine.append(
        "bronze.notion_raw_pages",
        pa.table(
            {
                "page_id": ["p1", "p1", "p2", "p3"],
                "last_edited_time": [
                    datetime(2024, 3, 1, 9, 0),
                    datetime(2024, 3, 2, 9, 0),
                    datetime(2024, 3, 1, 9, 0),
                    datetime(2024, 3, 5, 9, 0),
                ],
                "properties": pa.array(
                    [
                        [("Name", "Alpha"), ("Amount", "100")],
                        [("Name", "Alpha v2"), ("Amount", "150.5")],
                        [("Name", "Beta"), ("Amount", "n/a")],
                        [("Name", "Gamma")],
                    ],
                    MAP,
                ),
                "property_lists": pa.array(
                    [
                        [("Tags", ["old"])],
                        [("Tags", ["capex", "cloud", "urgent"])],
                        [("Tags", ["opex"])],
                        [("Tags", [])],
                    ],
                    pa.map_(pa.string(), pa.list_(pa.string())),
                ),
            }
        ),
    )
    return engine


def one(lakehouse: LocalLakehouse, sql: str) -> dict:
    result = lakehouse.query(sql).to_pylist()
    assert len(result) == 1, result
    return result[0]


def test_window_with_qualify_keeps_the_latest_version_per_page(lakehouse):
    result = lakehouse.query(
        """
        SELECT page_id, properties['Name'] AS name
        FROM bronze.notion_raw_pages
        QUALIFY row_number() OVER (PARTITION BY page_id ORDER BY last_edited_time DESC) = 1
        ORDER BY page_id
        """
    ).to_pylist()
    assert result == [
        {"page_id": "p1", "name": "Alpha v2"},
        {"page_id": "p2", "name": "Beta"},
        {"page_id": "p3", "name": "Gamma"},
    ]


def test_map_access_returns_null_for_a_missing_key(lakehouse):
    result = lakehouse.query(
        "SELECT page_id, properties['Amount'] AS amount FROM bronze.notion_raw_pages "
        "WHERE last_edited_time < TIMESTAMP'2024-03-02 00:00:00' OR page_id = 'p3' ORDER BY page_id"
    ).to_pylist()
    assert result == [
        {"page_id": "p1", "amount": "100"},
        {"page_id": "p2", "amount": "n/a"},
        {"page_id": "p3", "amount": None},
    ]


def test_try_cast_gives_null_instead_of_failing(lakehouse):
    result = lakehouse.query(
        "SELECT page_id, TRY_CAST(properties['Amount'] AS DOUBLE) AS amount FROM bronze.notion_raw_pages "
        "ORDER BY page_id, last_edited_time"
    ).to_pylist()
    assert [r["amount"] for r in result] == [100.0, 150.5, None, None]
    assert one(lakehouse, "SELECT TRY_CAST('12' AS INT) AS a, TRY_CAST('1.2.3' AS DECIMAL(10,2)) AS b") == {
        "a": 12,
        "b": None,
    }


def test_date_trunc_to_month_start(lakehouse):
    row = one(
        lakehouse,
        "SELECT date_trunc('MONTH', TIMESTAMP'2024-03-15 10:30:00') AS ts, "
        "date_trunc('YEAR', DATE'2024-07-04') AS y, trunc(DATE'2024-03-15', 'MM') AS d",
    )
    # date_trunc returns a TIMESTAMP in Databricks; trunc keeps a DATE.
    assert row["ts"].replace(tzinfo=None) == datetime(2024, 3, 1)
    assert row["y"].replace(tzinfo=None) == datetime(2024, 1, 1)
    assert row["d"] == date(2024, 3, 1)


def test_add_months_clamps_to_the_last_day_of_the_month(lakehouse):
    row = one(
        lakehouse,
        "SELECT add_months(DATE'2024-01-31', 1) AS leap, add_months(DATE'2023-01-31', 1) AS plain, "
        "add_months(DATE'2024-03-31', -1) AS back, add_months(DATE'2024-11-15', 3) AS next_year",
    )
    assert row == {
        "leap": date(2024, 2, 29),
        "plain": date(2023, 2, 28),
        "back": date(2024, 2, 29),
        "next_year": date(2025, 2, 15),
    }


def test_months_between_follows_spark(lakehouse):
    row = one(
        lakehouse,
        "SELECT months_between(DATE'2024-03-31', DATE'2024-01-31') AS month_ends, "
        "months_between(DATE'2024-03-15', DATE'2024-01-01') AS partial, "
        "months_between(DATE'2024-01-01', DATE'2024-03-15') AS negative",
    )
    # Both dates are month ends: whole months. Otherwise (day difference) / 31 is added: 2 + 14/31.
    assert row["month_ends"] == 2.0
    assert row["partial"] == pytest.approx(2 + 14 / 31, abs=1e-8)
    assert row["negative"] == pytest.approx(-(2 + 14 / 31), abs=1e-8)


def test_array_index_is_zero_based(lakehouse):
    result = lakehouse.query(
        "SELECT property_lists['Tags'][0] AS first_tag, property_lists['Tags'][2] AS third_tag, "
        "size(property_lists['Tags']) AS n FROM bronze.notion_raw_pages "
        "WHERE page_id = 'p1' ORDER BY last_edited_time"
    ).to_pylist()
    assert result == [
        {"first_tag": "old", "third_tag": None, "n": 1},
        {"first_tag": "capex", "third_tag": "urgent", "n": 3},
    ]


def test_date_add_returns_a_date_like_spark(lakehouse):
    row = one(
        lakehouse,
        "SELECT date_add(DATE'2024-02-28', 2) AS plus, date_sub(DATE'2024-03-01', 1) AS minus, "
        "datediff(DATE'2024-03-01', DATE'2024-02-01') AS days, last_day(DATE'2024-02-10') AS eom, "
        "make_date(2024, 2, 29) AS made",
    )
    assert row == {
        "plus": date(2024, 3, 1),
        "minus": date(2024, 2, 29),
        "days": 29,
        "eom": date(2024, 2, 29),
        "made": date(2024, 2, 29),
    }


def test_sequence_explode_and_collect_list(lakehouse):
    months = lakehouse.query(
        "SELECT explode(sequence(DATE'2024-01-01', DATE'2024-04-01', INTERVAL 1 MONTH)) AS month ORDER BY month"
    ).column("month")
    assert [m.as_py().date() if isinstance(m.as_py(), datetime) else m.as_py() for m in months] == [
        date(2024, 1, 1),
        date(2024, 2, 1),
        date(2024, 3, 1),
        date(2024, 4, 1),
    ]
    row = one(
        lakehouse,
        "SELECT sort_array(collect_list(properties['Name'])) AS names, "
        "get_json_object('{\"a\": {\"b\": 7}}', '$.a.b') AS b FROM bronze.notion_raw_pages",
    )
    assert row == {"names": ["Alpha", "Alpha v2", "Beta", "Gamma"], "b": "7"}


def test_count_if_is_a_bigint_and_zero_over_no_rows(lakehouse):
    assert one(lakehouse, "SELECT count_if(page_id = 'p1') AS n FROM bronze.notion_raw_pages") == {"n": 2}
    assert one(
        lakehouse, "SELECT count_if(page_id = 'p1') AS n FROM bronze.notion_raw_pages WHERE false"
    ) == {"n": 0}
