"""Silver tables generated from the mapping, run on a hand-built bronze of Notion-shaped pages."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from ppm_assets.notion.bronze_rows import bronze_row, notion_raw_pages_table, tombstone_row
from ppm_assets.notion.silver_sql import silver_select_sql
from ppm_resources.lakehouse import LocalLakehouse
from ppm_resources.notion.mapping import MappingError, load_notion_mapping, parse_notion_mapping
from ppm_resources.paths import config_dir

DB = "0b0b0b0b-0000-4000-8000-000000000003"
PROJECT_A = "0a0a0a0a-0000-4000-8000-0000000000a1"


def text(value: str) -> list[dict]:
    return [{"type": "text", "text": {"content": value}, "plain_text": value}]


def line(
    page_id: str,
    edited: str,
    *,
    name: str,
    amount,
    currency: str | None = "USD",
    category="OpEx",
    committed: str | None = "2025-03-10",
    project: list[str] | None = None,
    trashed: bool = False,
) -> dict:
    return {
        "object": "page",
        "id": page_id,
        "created_time": "2025-01-01T00:00:00.000Z",
        "last_edited_time": edited,
        "in_trash": trashed,
        "parent": {"type": "database_id", "database_id": DB},
        "properties": {
            "Name": {"id": "title", "type": "title", "title": text(name)},
            "Project": {
                "id": "p1",
                "type": "relation",
                "relation": [{"id": i} for i in (project or [])],
                "has_more": False,
            },
            "Category": {
                "id": "c1",
                "type": "select",
                "select": {"id": "s", "name": category} if category else None,
            },
            "Vendor": {"id": "v1", "type": "rich_text", "rich_text": text("Contoso")},
            "Amount": {"id": "a1", "type": "number", "number": amount},
            "Actual Amount": {"id": "a2", "type": "number", "number": None},
            "Currency": {
                "id": "cu",
                "type": "select",
                "select": {"id": "x", "name": currency} if currency else None,
            },
            "Committed Date": {
                "id": "d1",
                "type": "date",
                "date": {"start": committed, "end": None, "time_zone": None} if committed else None,
            },
            "Invoice Date": {
                "id": "d2",
                "type": "date",
                "date": {"start": "2025-04-02T10:00:00.000+08:00", "end": "2025-04-30"},
            },
            "Paid Date": {"id": "d3", "type": "date", "date": None},
            "Line ID": {"id": "u1", "type": "unique_id", "unique_id": {"prefix": "BL", "number": 7}},
        },
    }


def sync(lakehouse: LocalLakehouse, pages: list[dict], at: datetime, extra_rows: tuple = ()) -> None:
    rows = [bronze_row(p, database_name="budget_lines", database_id=DB) for p in pages] + list(extra_rows)
    lakehouse.append(
        "bronze.notion_raw_pages",
        notion_raw_pages_table(rows, synced_at=at, sync_run_id=at.isoformat(), complete_before=at),
    )


@pytest.fixture
def silver(tmp_path):
    lakehouse = LocalLakehouse(root=str(tmp_path))
    first = datetime(2025, 5, 1, 12, tzinfo=UTC)
    second = datetime(2025, 5, 1, 13, tzinfo=UTC)
    sync(
        lakehouse,
        [
            line(
                "00000000-0000-4000-8000-000000000001",
                "2025-05-01T10:00:00.000Z",
                name="Licences",
                amount=100,
                project=[PROJECT_A],
            ),
            line(
                "00000000-0000-4000-8000-000000000002",
                "2025-05-01T10:00:00.000Z",
                name="Cloud",
                amount=50.5,
                project=[PROJECT_A],
            ),
            line(
                "00000000-0000-4000-8000-000000000003",
                "2025-05-01T10:00:00.000Z",
                name="Gone",
                amount=1,
                project=[PROJECT_A],
            ),
        ],
        first,
    )
    sync(
        lakehouse,
        [
            # page 1 edited: the later observation wins
            line(
                "00000000-0000-4000-8000-000000000001",
                "2025-05-01T12:30:00.000Z",
                name="Licences v2",
                amount=120,
                project=[PROJECT_A],
            ),
            # page 2 moved to the trash
            line(
                "00000000-0000-4000-8000-000000000002",
                "2025-05-01T12:31:00.000Z",
                name="Cloud",
                amount=50.5,
                project=[PROJECT_A],
                trashed=True,
            ),
            # a new page with defects: blank category, no currency, no project, no committed date
            line(
                "00000000-0000-4000-8000-000000000004",
                "2025-05-01T12:32:00.000Z",
                name="  ",
                amount=-5,
                currency=None,
                category=None,
                committed=None,
            ),
        ],
        second,
        extra_rows=(
            tombstone_row(
                "00000000-0000-4000-8000-000000000003",
                database_name="budget_lines",
                database_id=DB,
                deleted=True,
            ),
        ),
    )
    mapping = load_notion_mapping()
    lakehouse.replace(
        "silver.budget_lines", silver_select_sql("budget_lines", mapping.database("budget_lines"))
    )
    return {r["page_id"][-1]: r for r in lakehouse.query("SELECT * FROM silver.budget_lines").to_pylist()}


def test_one_row_per_page_with_the_latest_observation(silver):
    assert sorted(silver) == ["1", "2", "3", "4"]
    assert silver["1"]["name"] == "Licences v2"
    assert silver["1"]["amount"] == Decimal("120.00")
    assert silver["1"]["line_code"] == "BL-7"
    assert silver["1"]["vendor"] == "Contoso"
    assert silver["1"]["project_page_id"] == PROJECT_A
    assert silver["1"]["last_edited_time"] == datetime(2025, 5, 1, 12, 30, tzinfo=UTC)
    assert silver["1"]["notion_url"] == "https://www.notion.so/00000000000040008000000000000001"


def test_dates_take_the_calendar_date_of_the_start(silver):
    assert silver["1"]["committed_date"] == date(2025, 3, 10)
    assert silver["1"]["invoice_date"] == date(2025, 4, 2)  # start of a "start/end" range with a time
    assert silver["1"]["paid_date"] is None


def test_trashed_and_deleted_pages_are_archived(silver):
    assert [silver[k]["is_archived"] for k in "1234"] == [False, True, True, False]


def test_row_level_defects_are_flagged_not_fatal(silver):
    assert silver["1"]["dq_flags"] == []
    assert silver["4"]["dq_flags"] == [
        "missing:name",
        "missing:project_page_id",
        "missing:category",
        "missing:currency",
        "missing:committed_date",
    ]
    assert silver["4"]["amount"] == Decimal("-5.00")  # ranges are the checks' business, not silver's


def test_mapping_errors_name_the_entry():
    broken = """
databases:
  budget_lines:
    title: Budget Lines
    id_env: NOTION_BUDGET_LINES_DB_ID
    silver_table: budget_lines
    columns:
      - {notion_property: Amount, column_name: Amount, column_type: money}
"""
    with pytest.raises(MappingError) as error:
        parse_notion_mapping(broken, source="config/test.yaml")
    message = str(error.value)
    assert message.startswith("config/test.yaml: ")
    assert (
        "databases.budget_lines.columns.0.column_name: column_name 'Amount' must be lower snake case"
        in message
    )
    assert "databases.budget_lines.columns.0.column_type: Input should be 'string'" in message


def test_mapping_records_each_columns_line():
    mapping = load_notion_mapping()
    amount = next(c for c in mapping.database("budget_lines").columns if c.column_name == "amount")
    text = (config_dir() / "notion_mapping.yaml").read_text().splitlines()
    assert "notion_property: Amount," in text[amount.line - 1]
