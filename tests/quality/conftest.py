"""A hand-built silver layer with planted defects, for the data-quality rules (counts stated in the tests).

Silver tables have the real columns (from config/notion_mapping.yaml), so the rules run on the same shape
silver SQL produces. Rows are `row(<table>, <page_id>, ...)`; anything not given is NULL, with no dq_flags.
Every live row not named under "defects" is clean.

programs      g1 Cloud                                             clean
              g2 "" (blank)                                        name_present
              g3 Data, status Paused, ends before it starts        status_accepted_values,
                                                                   end_date_not_before_start_date
              g4 archived, no name, no status                      (archived: never counted)
projects      p1 Alpha (g1), p2 Beta (g2: blank name, but live)    clean
              p3 program g4 (archived)                             program_page_id_not_orphan
              p4 program g-ghost, GBP, budget -5                   program_page_id_not_orphan,
                                                                   currency_accepted_values,
                                                                   budget_total_not_negative
              p5 no program, status Doing, priority urgent         program_page_id_present,
                                                                   status_accepted_values,
                                                                   priority_accepted_values
              p6 archived, program g-ghost                         (archived)
budget_lines  l1 (p1), l2 (p2)                                     clean
              l3 project p6 (archived)                             project_page_id_not_orphan
              l4 project p-ghost, amount -1                        project_page_id_not_orphan,
                                                                   amount_not_negative
              l5 currency XXX, category Misc                       currency_accepted_values,
                                                                   category_accepted_values
              l6 name "  ", actual -3, paid before invoiced        name_present, actual_amount_not_negative,
                                                                   paid_date_not_before_invoice_date
              l7 nothing set but the name, unparseable amount      project_page_id_present, category_present,
                                                                   amount_present, currency_present,
                                                                   committed_date_present, values_parseable
              l8 archived, everything wrong                        (archived)
risks         k1 (p1)                                              clean
              k2 project p-ghost, severity Severe                  project_page_id_not_orphan,
                                                                   severity_accepted_values
              k3 no title, probability Maybe, no status            title_present, probability_accepted_values,
                                                                   status_present
              k4 archived, no title                                (archived)
actions       a1 (p1)                                              clean
              a2 no project (allowed), status Blocked              status_accepted_values
              a3 project p6 (archived), title "", priority P1      project_page_id_not_orphan, title_present,
                                                                   priority_accepted_values
              a4 unparseable due date                              values_parseable

Live rows 3 + 5 + 7 + 3 + 4 = 22, of which 2 + 3 + 5 + 2 + 3 = 15 break a row-level rule.

Bronze has one row per silver page (database = table), except: programs page g9 is in bronze only
(missing_in_silver) and actions page a4 is in silver only (not_in_bronze).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pytest

from ppm_assets.finance.fx_rates import fx_rates_table, load_fx_rates
from ppm_assets.notion.bronze_rows import notion_raw_pages_table
from ppm_checks.rules import notion_url
from ppm_resources.lakehouse import LocalLakehouse
from ppm_resources.notion.mapping import DatabaseMapping, load_notion_mapping
from ppm_resources.paths import config_dir

MAPPING = load_notion_mapping()
SYNCED_AT = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
ARROW_TYPES = {
    "string": pa.string(),
    "number": pa.float64(),
    "decimal": pa.decimal128(18, 2),
    "integer": pa.int64(),
    "boolean": pa.bool_(),
    "date": pa.date32(),
    "date_end": pa.date32(),
    "timestamp": pa.timestamp("us", tz="UTC"),
    "relation": pa.string(),
    "person": pa.string(),
}


def silver_schema(database: DatabaseMapping) -> pa.Schema:
    """The columns silver SQL produces for `database` (data dictionary, "silver Notion tables")."""
    mapped = [
        (c.column_name, ARROW_TYPES.get(c.column_type, pa.list_(pa.string()))) for c in database.columns
    ]
    return pa.schema(
        [
            ("page_id", pa.string()),
            *mapped,
            ("notion_url", pa.string()),
            ("created_time", pa.timestamp("us", tz="UTC")),
            ("last_edited_time", pa.timestamp("us", tz="UTC")),
            ("is_archived", pa.bool_()),
            ("dq_flags", pa.list_(pa.string())),
            ("synced_at", pa.timestamp("us", tz="UTC")),
        ]
    )


MONEY = {"budget_total", "amount", "actual_amount"}
D = date


def row(
    page_id: str, *, archived: bool = False, flags: tuple[str, ...] = (), **values: Any
) -> dict[str, Any]:
    return {
        "page_id": page_id,
        "notion_url": notion_url(page_id),
        "created_time": SYNCED_AT,
        "last_edited_time": SYNCED_AT,
        "is_archived": archived,
        "dq_flags": list(flags),
        "synced_at": SYNCED_AT,
        **{k: Decimal(v) if isinstance(v, (int, str)) and k in MONEY else v for k, v in values.items()},
    }


def line(page_id: str, project: str | None = "p1", **values: Any) -> dict[str, Any]:
    """A clean budget line (USD 100 committed 2025-03-05 on p1) with `values` changed."""
    clean = {"name": f"line {page_id}", "line_code": page_id.upper(), "project_page_id": project}
    clean |= {"category": "OpEx", "amount": "100", "currency": "USD", "committed_date": D(2025, 3, 5)}
    return row(page_id, **(clean | values))


SILVER: dict[str, list[dict[str, Any]]] = {
    "programs": [
        row("g1", name="Cloud", status="Active", start_date=D(2025, 1, 1), end_date=D(2025, 12, 31)),
        row("g2", name="", status="Active"),
        row("g3", name="Data", status="Paused", start_date=D(2025, 1, 1), end_date=D(2024, 12, 31)),
        row("g4", archived=True),
    ],
    "projects": [
        row(
            "p1",
            name="Alpha",
            program_page_id="g1",
            budget_total="1000",
            currency="USD",
            status="In Progress",
            priority="High",
            start_date=D(2025, 1, 1),
            end_date=D(2025, 12, 31),
        ),
        row(
            "p2",
            name="Beta",
            program_page_id="g2",
            budget_total="500",
            currency="EUR",
            status="Planning",
            priority="Medium",
        ),
        row("p3", name="Gamma", program_page_id="g4", currency="USD", status="Planning"),
        row(
            "p4", name="Delta", program_page_id="g-ghost", budget_total="-5", currency="GBP", status="On Hold"
        ),
        row("p5", name="Eps", currency="PHP", status="Doing", priority="urgent"),
        row("p6", name="Zeta", program_page_id="g-ghost", currency="USD", status="Completed", archived=True),
    ],
    "budget_lines": [
        line("l1", actual_amount="90", paid_date=D(2025, 3, 20)),
        line(
            "l2",
            project="p2",
            currency="EUR",
            actual_amount="10",
            invoice_date=D(2025, 4, 1),
            paid_date=D(2025, 4, 1),
        ),
        line("l3", project="p6"),
        line("l4", project="p-ghost", amount="-1"),
        line("l5", currency="XXX", category="Misc"),
        line("l6", name="  ", actual_amount="-3", invoice_date=D(2025, 4, 10), paid_date=D(2025, 4, 2)),
        row("l7", name="line l7", flags=("unparseable:amount",)),
        line("l8", project="p-ghost", name="", amount="-7", currency="XXX", archived=True),
    ],
    "risks": [
        row(
            "k1",
            title="Vendor delay",
            project_page_id="p1",
            severity="High",
            probability="High",
            status="Open",
        ),
        row("k2", title="FX", project_page_id="p-ghost", severity="Severe", probability="Low", status="Open"),
        row("k3", project_page_id="p1", severity="Low", probability="Maybe"),
        row("k4", project_page_id="p1", severity="Low", probability="Low", status="Open", archived=True),
    ],
    "actions": [
        row("a1", title="Review", project_page_id="p1", status="Done", priority="Low"),
        row("a2", title="Fix", status="Blocked"),
        row("a3", title="", project_page_id="p6", status="Not started", priority="P1"),
        row(
            "a4",
            title="Reconcile",
            project_page_id="p1",
            status="In progress",
            flags=("unparseable:due_date",),
        ),
    ],
}

LIVE_ROWS = {"programs": 3, "projects": 5, "budget_lines": 7, "risks": 3, "actions": 4}
FAILING_ROWS = {"programs": 2, "projects": 3, "budget_lines": 5, "risks": 2, "actions": 3}


def silver_table(name: str, rows: list[dict[str, Any]]) -> pa.Table:
    schema = silver_schema(MAPPING.database(name))
    return pa.Table.from_pylist([{f.name: r.get(f.name) for f in schema} for r in rows], schema=schema)


def bronze_table(silver: dict[str, list[dict[str, Any]]]) -> pa.Table:
    pages = [(name, r["page_id"]) for name, rows in silver.items() for r in rows if r["page_id"] != "a4"]
    pages.append(("programs", "g9"))
    rows = [
        {"page_id": page_id, "database_name": name, "properties": {}, "property_lists": {},
         "content_hash": page_id, "in_trash": False, "deleted": False}
        for name, page_id in pages
    ]  # fmt: skip
    return notion_raw_pages_table(
        rows, synced_at=SYNCED_AT, sync_run_id="hand-built", complete_before=SYNCED_AT
    )


def gold_budget_vs_actual(rows: list[tuple]) -> pa.Table:
    """gold.budget_vs_actual rows (period, metric_name, dimension, value); other columns left out."""
    return pa.Table.from_pylist(
        [
            {"metric_name": metric, "dimension": dimension, "period": period, "value": Decimal(value)}
            for period, metric, dimension, value in rows
        ],
        schema=pa.schema(
            [("metric_name", pa.string()), ("dimension", pa.string()), ("period", pa.date32()),
             ("value", pa.decimal128(18, 2))]
        ),
    )  # fmt: skip


def write_layers(lakehouse: LocalLakehouse, silver: dict[str, list[dict[str, Any]]] | None = None) -> None:
    silver = silver or SILVER
    lakehouse.append("bronze.notion_raw_pages", bronze_table(silver))
    for name, rows in silver.items():
        lakehouse.replace(MAPPING.database(name).silver_table_name, silver_table(name, rows))
    lakehouse.replace("silver.fx_rates", fx_rates_table(load_fx_rates(config_dir() / "fx_rates.yaml")))


@pytest.fixture(scope="module")
def hand_built(tmp_path_factory) -> LocalLakehouse:
    """The planted layer; tests read it and never change it."""
    lakehouse = LocalLakehouse(root=str(tmp_path_factory.mktemp("quality")))
    write_layers(lakehouse)
    return lakehouse


@pytest.fixture
def fresh(tmp_path) -> LocalLakehouse:
    """The planted layer in a lakehouse of its own, for tests that write."""
    lakehouse = LocalLakehouse(root=str(tmp_path))
    write_layers(lakehouse)
    return lakehouse
