"""Money is exact: half-cent ties round half up, whatever the size of the amount, and no money column is DOUBLE.

The two examples are the ones a float64 rate gets wrong: 500 PHP x 0.017070 = 8.535 (float: 8.53) and
108,937,000 PHP x 0.017615 = 1,918,925.255 (float: 1,918,925.25).
"""

from datetime import date
from decimal import Decimal as D

import pyarrow as pa
import pytest

from ppm_assets.finance.fx_rates import FxRatesConfig, cross_rate, fx_rates_table, load_fx_rates
from ppm_resources.lakehouse import LocalLakehouse, load_sql
from tests.gold.conftest import (
    ACTIONS,
    BUDGET_LINES,
    PROGRAMS,
    PROJECTS,
    RISKS,
    action,
    line,
    program,
    project,
)

RATES = {"PHP": {"2025-01": D("0.017070"), "2025-02": D("0.017615"), "2025-03": D("0.017615")}}
MONEY_COLUMNS = {
    "gold/budget_vs_actual.sql": ["value"],
    "gold/project_health.sql": ["budget_total", "actual_to_date"],
    "gold/forecast.sql": [
        "projected_cumulative_spend",
        "actual_to_date",
        "monthly_burn_rate",
        "estimate_at_completion",
        "budget_total",
        "projected_overrun",
    ],
}


@pytest.fixture(scope="module")
def ties(tmp_path_factory) -> LocalLakehouse:
    lakehouse = LocalLakehouse(root=str(tmp_path_factory.mktemp("ties")))
    start, end = date(2025, 1, 1), date(2025, 12, 31)
    silver = {
        "silver.programs": (PROGRAMS, [program("g1", "Cloud")]),
        "silver.projects": (PROJECTS, [project("big", "Big", "g1", "108937000", "PHP", start, end)]),
        "silver.budget_lines": (
            BUDGET_LINES,
            [
                # committed in January (0.017070), paid in February (0.017615)
                line(
                    "half",
                    "big",
                    "OpEx",
                    "PHP",
                    "500",
                    "108937000",
                    committed=date(2025, 1, 10),
                    paid=date(2025, 2, 10),
                ),
                # 0.01 USD of actual in March: the burn rate divides 1,918,925.26 + 0.01 by 3
                line(
                    "cent",
                    "big",
                    "OpEx",
                    "USD",
                    "0.01",
                    "0.01",
                    committed=date(2025, 3, 1),
                    paid=date(2025, 3, 2),
                ),
            ],
        ),
        "silver.risks": (RISKS, []),
        "silver.actions": (ACTIONS, [action("a1", "big", None, "Done")]),
    }
    for table, (schema, rows) in silver.items():
        lakehouse.replace(table, pa.Table.from_pylist(rows, schema=schema))
    lakehouse.replace("silver.fx_rates", fx_rates_table(FxRatesConfig(base_currency="USD", rates=RATES)))
    return lakehouse


def test_half_cent_ties_round_half_up(ties):
    params = {"period_start": "2025-01-01", "period_end": "2025-02-01", "reporting_currency": "USD"}
    rows = ties.query(load_sql("gold/budget_vs_actual.sql"), params=params).to_pylist()
    values = {(r["period"], r["dimension"], r["metric_name"]): r["value"] for r in rows}
    assert values[date(2025, 1, 1), "project", "budget"] == D("8.54")  # 500 x 0.017070 = 8.535
    assert values[date(2025, 2, 1), "project", "actual"] == D("1918925.26")  # 108,937,000 x 0.017615 = ...255


def test_project_budget_and_burn_rate_are_exact(ties):
    health = ties.query(
        load_sql("gold/project_health.sql"), params={"as_of": "2025-04-15", "reporting_currency": "USD"}
    )
    [big] = health.to_pylist()
    assert big["budget_total"] == D("1918925.26")  # converted at the latest rate up to April: 0.017615
    assert big["actual_to_date"] == D("1918925.27")
    forecast = ties.query(
        load_sql("gold/forecast.sql"), params={"as_of": "2025-04-15", "reporting_currency": "USD"}
    )
    first = forecast.to_pylist()[0]
    # window January..March: 1,918,925.26 + 0.01 = 1,918,925.27 / 3 = 639,641.7566... -> 639,641.76
    assert first["monthly_burn_rate"] == D("639641.76")
    assert first["estimate_at_completion"] == D("1918925.27") + 8 * D("639641.76")


@pytest.mark.parametrize("sql_file", sorted(MONEY_COLUMNS))
def test_no_money_column_is_double(ties, sql_file):
    params = {"as_of": "2025-04-15", "reporting_currency": "USD"}
    if sql_file == "gold/budget_vs_actual.sql":
        params = {"period_start": "2025-01-01", "period_end": "2025-03-01", "reporting_currency": "USD"}
    schema = ties.query(load_sql(sql_file), params=params).schema
    for column in MONEY_COLUMNS[sql_file]:
        assert schema.field(column).type == pa.decimal128(18, 2), (
            sql_file,
            column,
            schema.field(column).type,
        )


def test_rates_are_read_as_written_and_crossed_half_up(tmp_path):
    path = tmp_path / "fx_rates.yaml"
    path.write_text('base_currency: USD\nrates:\n  PHP: {"2025-01": 0.017070}\n  EUR: {"2025-01": 1.1}\n')
    config = load_fx_rates(path)
    assert config.rates["PHP"]["2025-01"] == D("0.017070")  # the text, not the nearest binary fraction
    table = fx_rates_table(config).to_pylist()
    rate = {(r["currency"], r["to_currency"]): r["rate"] for r in table}
    assert rate["PHP", "USD"] == D("0.0170700000")
    assert rate["USD", "PHP"] == D("58.5823081429")  # 1 / 0.017070 = 58.58230814294...
    assert cross_rate(D("1"), D("8")) == D("0.125") and cross_rate(D("2"), D("3")) == D("0.6666666667")
    assert rate["EUR", "PHP"] == cross_rate(D("1.1"), D("0.017070")) == D("64.4405389572")
    assert rate["EUR", "EUR"] == D(1)


@pytest.mark.parametrize(
    ("rate", "message"),
    [("0.00000000001", "more than 10 decimal places"), ("1000000", "too large"), ("0", "must be positive")],
)
def test_rates_the_table_cannot_hold_exactly_are_refused(rate, message):
    with pytest.raises(ValueError, match=message):
        FxRatesConfig(base_currency="USD", rates={"PHP": {"2025-01": D(rate)}})
