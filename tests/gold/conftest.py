"""A small hand-built silver layer for the gold finance marts, written straight into a temporary lakehouse.

Every amount below is chosen so the expected gold numbers can be worked out by hand (the tests state them).

FX (units of USD per unit), months 2025-01 .. 2025-06 only:
    USD 1.0; EUR 1.10 except 2025-03 = 1.08 and 2025-04 = 1.12; PHP 0.018 except 2025-04 = 0.02.

Programs: G1 Cloud, G2 Data (live); G3 Legacy (archived).
Projects:  P1 Alpha   G1  USD 1000  2025-01-01..2025-12-31  In Progress
           P2 Beta    G2  EUR  500  2025-01-01..2025-04-30  In Progress
           P3 Gamma   G3  GBP  400  no dates                Planning   (program archived; currency unknown)
           P4 Delta   G1  USD  100  archived project
           P5 Epsilon --  USD  100  2025-01-01..2025-12-31  In Progress (no program)
           PR Red     G1  USD 1000  2025-01-01..2025-12-31  In Progress
Budget lines (amount / actual, committed / invoice / paid):
    L1 P1 OpEx  USD   100 /   90   2025-03-05 / -          / 2025-03-20
    L2 P1 CapEx EUR   200 /  210   2025-03-10 / 2025-04-02 / -
    L3 P2 OpEx  PHP 10000 / 9500   2025-03-01 / 2025-02-25 / 2025-03-28
    L4 P2 CapEx EUR    50 /   55   2025-02-15 / -          / 2025-03-03
    R1 PR OpEx  USD   900 /  900   2025-01-10 / -          / 2025-02-10
    R2 PR CapEx USD   300 /  300   2025-02-01 / -          / 2025-04-15
    L5 P1 OpEx  USD    40 /    -   2025-07-05 (a month without rates: USD needs none)
  excluded:
    X1 P1 archived line               USD 1000   2025-03-01            -> archived
    X2 P1 GBP                         GBP  300   2025-03-02            -> unknown_currency
    X3 P2 negative                    USD  -40   2025-03-03            -> negative_amount
    X4 project that does not exist    USD   70   2025-03-04            -> orphan_project
    X5 P4 (archived project)          USD   80   2025-03-05            -> orphan_project
    X6 P5 (no program)                USD   60 / 60, paid 2025-03-15   -> no_program
    X7 P1 EUR paid in 2025-07 (no rate that month)  EUR 100 / 100      -> no_fx_rate
    X8 P3 (program archived)          USD   50   2025-03-20            -> no_program
Risks: PR Critical/High Open, Low/Low Closed, Medium/Medium Mitigating; P2 High/Medium Open;
       P1 Critical/High Open but archived.
Actions: PR due 06-01 In progress, 06-10 Not started, 05-01 Done, 07-01 Not started;
         P1 due 06-15 Not started, no due date.
"""

from datetime import date
from decimal import Decimal

import pyarrow as pa
import pytest

from ppm_assets.finance.fx_rates import FxRatesConfig, fx_rates_table
from ppm_resources.lakehouse import LocalLakehouse

D = Decimal
MONEY = pa.decimal128(18, 2)


def _url(page_id: str) -> str:
    return f"https://www.notion.so/{page_id}"


PROGRAMS = pa.schema(
    [
        ("page_id", pa.string()),
        ("name", pa.string()),
        ("program_code", pa.string()),
        ("status", pa.string()),
        ("notion_url", pa.string()),
        ("is_archived", pa.bool_()),
    ]
)
PROJECTS = pa.schema(
    [
        ("page_id", pa.string()),
        ("name", pa.string()),
        ("project_code", pa.string()),
        ("program_page_id", pa.string()),
        ("budget_total", MONEY),
        ("currency", pa.string()),
        ("status", pa.string()),
        ("start_date", pa.date32()),
        ("end_date", pa.date32()),
        ("notion_url", pa.string()),
        ("is_archived", pa.bool_()),
    ]
)
BUDGET_LINES = pa.schema(
    [
        ("page_id", pa.string()),
        ("name", pa.string()),
        ("line_code", pa.string()),
        ("project_page_id", pa.string()),
        ("category", pa.string()),
        ("amount", MONEY),
        ("actual_amount", MONEY),
        ("currency", pa.string()),
        ("committed_date", pa.date32()),
        ("invoice_date", pa.date32()),
        ("paid_date", pa.date32()),
        ("notion_url", pa.string()),
        ("is_archived", pa.bool_()),
    ]
)
RISKS = pa.schema(
    [
        ("page_id", pa.string()),
        ("title", pa.string()),
        ("project_page_id", pa.string()),
        ("severity", pa.string()),
        ("probability", pa.string()),
        ("status", pa.string()),
        ("is_archived", pa.bool_()),
    ]
)
ACTIONS = pa.schema(
    [
        ("page_id", pa.string()),
        ("title", pa.string()),
        ("project_page_id", pa.string()),
        ("due_date", pa.date32()),
        ("status", pa.string()),
        ("is_archived", pa.bool_()),
    ]
)


def program(page_id, name, archived=False):
    return {"page_id": page_id, "name": name, "program_code": page_id.upper(), "status": "Active",
            "notion_url": _url(page_id), "is_archived": archived}  # fmt: skip


def project(page_id, name, program_id, budget, currency, start, end, status="In Progress", archived=False):
    return {"page_id": page_id, "name": name, "project_code": page_id.upper(), "program_page_id": program_id,
            "budget_total": D(budget), "currency": currency, "status": status, "start_date": start,
            "end_date": end, "notion_url": _url(page_id), "is_archived": archived}  # fmt: skip


def line(page_id, project_id, category, currency, amount, actual=None, *, committed, invoice=None, paid=None,
         archived=False):  # fmt: skip
    return {"page_id": page_id, "name": f"line {page_id}", "line_code": page_id.upper(),
            "project_page_id": project_id, "category": category, "currency": currency,
            "amount": D(amount), "actual_amount": None if actual is None else D(actual),
            "committed_date": committed, "invoice_date": invoice, "paid_date": paid,
            "notion_url": _url(page_id), "is_archived": archived}  # fmt: skip


def risk(page_id, project_id, severity, probability, status, archived=False):
    return {"page_id": page_id, "title": f"risk {page_id}", "project_page_id": project_id,
            "severity": severity, "probability": probability, "status": status,
            "is_archived": archived}  # fmt: skip


def action(page_id, project_id, due, status):
    return {"page_id": page_id, "title": f"action {page_id}", "project_page_id": project_id,
            "due_date": due, "status": status, "is_archived": False}  # fmt: skip


def fx_table() -> pa.Table:
    """silver.fx_rates as the asset builds it (every currency pair), from the rates in the module docstring."""
    eur = {3: "1.08", 4: "1.12"}
    php = {4: "0.02"}
    months = [f"2025-{m:02d}" for m in range(1, 7)]
    rates = {
        "EUR": {month: D(eur.get(m, "1.10")) for m, month in enumerate(months, start=1)},
        "PHP": {month: D(php.get(m, "0.018")) for m, month in enumerate(months, start=1)},
    }
    return fx_rates_table(FxRatesConfig(base_currency="USD", rates=rates))


Y = 2025
SILVER = {
    "silver.programs": (
        PROGRAMS,
        [program("g1", "Cloud"), program("g2", "Data"), program("g3", "Legacy", archived=True)],
    ),
    "silver.projects": (
        PROJECTS,
        [
            project("p1", "Alpha", "g1", "1000", "USD", date(Y, 1, 1), date(Y, 12, 31)),
            project("p2", "Beta", "g2", "500", "EUR", date(Y, 1, 1), date(Y, 4, 30)),
            project("p3", "Gamma", "g3", "400", "GBP", None, None, status="Planning"),
            project("p4", "Delta", "g1", "100", "USD", date(Y, 1, 1), date(Y, 12, 31), archived=True),
            project("p5", "Epsilon", None, "100", "USD", date(Y, 1, 1), date(Y, 12, 31)),
            project("pr", "Red Rocket", "g1", "1000", "USD", date(Y, 1, 1), date(Y, 12, 31)),
        ],
    ),
    "silver.budget_lines": (
        BUDGET_LINES,
        [
            line("l1", "p1", "OpEx", "USD", "100", "90", committed=date(Y, 3, 5), paid=date(Y, 3, 20)),
            line("l2", "p1", "CapEx", "EUR", "200", "210", committed=date(Y, 3, 10), invoice=date(Y, 4, 2)),
            line(
                "l3",
                "p2",
                "OpEx",
                "PHP",
                "10000",
                "9500",
                committed=date(Y, 3, 1),
                invoice=date(Y, 2, 25),
                paid=date(Y, 3, 28),
            ),
            line("l4", "p2", "CapEx", "EUR", "50", "55", committed=date(Y, 2, 15), paid=date(Y, 3, 3)),
            line("r1", "pr", "OpEx", "USD", "900", "900", committed=date(Y, 1, 10), paid=date(Y, 2, 10)),
            line("r2", "pr", "CapEx", "USD", "300", "300", committed=date(Y, 2, 1), paid=date(Y, 4, 15)),
            line("l5", "p1", "OpEx", "USD", "40", committed=date(Y, 7, 5)),  # July: no rates, none needed
            line("x1", "p1", "OpEx", "USD", "1000", committed=date(Y, 3, 1), archived=True),
            line("x2", "p1", "OpEx", "GBP", "300", committed=date(Y, 3, 2)),
            line("x3", "p2", "OpEx", "USD", "-40", committed=date(Y, 3, 3)),
            line("x4", "p-ghost", "OpEx", "USD", "70", committed=date(Y, 3, 4)),
            line("x5", "p4", "OpEx", "USD", "80", committed=date(Y, 3, 5)),
            line("x6", "p5", "OpEx", "USD", "60", "60", committed=date(Y, 3, 1), paid=date(Y, 3, 15)),
            line("x7", "p1", "CapEx", "EUR", "100", "100", committed=date(Y, 3, 12), paid=date(Y, 7, 1)),
            line("x8", "p3", "OpEx", "USD", "50", committed=date(Y, 3, 20)),
        ],
    ),
    "silver.risks": (
        RISKS,
        [
            risk("k1", "pr", "Critical", "High", "Open"),
            risk("k2", "pr", "Low", "Low", "Closed"),
            risk("k3", "pr", "Medium", "Medium", "Mitigating"),
            risk("k4", "p2", "High", "Medium", "Open"),
            risk("k5", "p1", "Critical", "High", "Open", archived=True),
        ],
    ),
    "silver.actions": (
        ACTIONS,
        [
            action("a1", "pr", date(Y, 6, 1), "In progress"),
            action("a2", "pr", date(Y, 6, 10), "Not started"),
            action("a3", "pr", date(Y, 5, 1), "Done"),
            action("a4", "pr", date(Y, 7, 1), "Not started"),
            action("a5", "p1", date(Y, 6, 15), "Not started"),
            action("a6", "p1", None, "Not started"),
        ],
    ),
}


def write_silver(lakehouse: LocalLakehouse) -> None:
    for table, (schema, rows) in SILVER.items():
        lakehouse.replace(table, pa.Table.from_pylist(rows, schema=schema))
    lakehouse.replace("silver.fx_rates", fx_table())


@pytest.fixture(scope="module")
def silver_lakehouse(tmp_path_factory) -> LocalLakehouse:
    """The hand-built silver layer; tests may write gold tables into it but never change silver."""
    lakehouse = LocalLakehouse(root=str(tmp_path_factory.mktemp("gold")))
    write_silver(lakehouse)
    return lakehouse


@pytest.fixture
def fresh_lakehouse(tmp_path) -> LocalLakehouse:
    """The same silver layer in a lakehouse of its own (for tests that materialize through Dagster)."""
    lakehouse = LocalLakehouse(root=str(tmp_path))
    write_silver(lakehouse)
    return lakehouse
