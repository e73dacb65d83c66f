"""The Azure silver and gold SQL (inventory, Advisor recommendations, Advisor summary) on a hand-built bronze.

Every expected value is worked out below with `decimal.Decimal` (ROUND_HALF_UP), never read back from the SQL.

FX (units of USD per unit; silver.fx_rates built by the real builder): EUR 2025-03 = 1.08, 2025-04 = 1.10;
PHP 2025-05 = 0.018 only. So USD -> EUR exists for March and April only, PHP -> USD for May only, and PHP -> EUR
never (EUR has no May rate).

Projects (real silver.projects schema): PRJ-12 Cloud Landing Zone, PRJ-7 Data Platform (live); PRJ-9 archived.

Inventory (bronze.azure_resources):
    SUB_A  old snapshot 2025-03-10 (ignored: vm1 tagged PRJ-9, vm-old)
           new snapshot 2025-04-15: resource groups RG-Finance (PPM-Project ' PRJ-12 '), rg-data (blank tag),
           rg-legacy (PPM-PROJECT PRJ-9, archived); resources VM1 (Ppm-Project PRJ-7) and disk1 (untagged,
           its group sent as 'rg-finance') in RG-Finance, st1 (twice, id in two cases) and app1 (PRJ-404) in
           rg-data, fn1 in rg-legacy
    SUB_B  snapshot 2025-05-02: rg-b (PRJ-12), vmb (PPM-project PRJ-7)
    SUB_C  snapshot 2025-04-15 with a resource, but not requested
    SUB_E  old snapshot with a resource, then an empty snapshot (marker only): no resources
Advisor (bronze.azure_advisor): see ADVISOR below, one comment per recommendation.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, localcontext

import pyarrow as pa
import pytest

from ppm_assets.azure.bronze_rows import ADVISOR_SCHEMA, RESOURCES_SCHEMA, TEXT_MAP
from ppm_assets.finance.fx_rates import FxRatesConfig, fx_rates_table
from ppm_assets.notion.bronze_rows import notion_raw_pages_table
from ppm_assets.notion.silver_sql import silver_select_sql
from ppm_resources.lakehouse import LocalLakehouse, load_sql
from ppm_resources.notion.mapping import load_notion_mapping

D = Decimal
MONEY = pa.decimal128(18, 2)
CENT = D("0.01")

SUB_A = "aaaaaaaa-0000-4000-8000-000000000001"
SUB_B = "bbbbbbbb-0000-4000-8000-000000000002"
SUB_C = "cccccccc-0000-4000-8000-000000000003"
SUB_E = "eeeeeeee-0000-4000-8000-000000000005"
REQUESTED = f"{SUB_A},{SUB_B}, {SUB_E}"  # a space after a comma is tolerated

APRIL, MAY = date(2025, 4, 1), date(2025, 5, 1)
EUR_USD = {APRIL: D("1.10")}  # the rates the conversions below use
PHP_USD = {MAY: D("0.018")}


def quantize_rate(value: Decimal) -> Decimal:
    return value.quantize(D("1E-10"), rounding=ROUND_HALF_UP)


with localcontext() as _context:
    _context.prec = 50
    USD_EUR = {APRIL: quantize_rate(D(1) / D("1.10"))}  # 0.9090909091


def cents(text: str) -> Decimal:
    """TRY_CAST(text AS DECIMAL(18,2)): half up to cents."""
    return D(text).quantize(CENT, rounding=ROUND_HALF_UP)


def convert(amount: Decimal, rate: Decimal) -> Decimal:
    """round(CAST(amount AS DECIMAL(20,2)) * rate, 2), half up (the product of two decimals is exact)."""
    return (amount * rate).quantize(CENT, rounding=ROUND_HALF_UP)


# -- bronze ----------------------------------------------------------------------------------------------------

# The bronze contract the assets write (one definition, in ppm_assets/azure/bronze_rows.py).

A_OLD = datetime(2025, 3, 10, 8, 0, tzinfo=UTC)
A_NEW = datetime(2025, 4, 15, 9, 0, tzinfo=UTC)
B_AT = datetime(2025, 5, 2, 0, 0, tzinfo=UTC)
C_AT = datetime(2025, 4, 15, 9, 0, tzinfo=UTC)
E_OLD, E_NEW = datetime(2025, 4, 1, tzinfo=UTC), datetime(2025, 4, 20, tzinfo=UTC)


def rg_id(sub: str, group: str) -> str:
    return f"/subscriptions/{sub}/resourceGroups/{group}"


def res_id(sub: str, group: str, kind: str, name: str) -> str:
    return f"{rg_id(sub, group)}/providers/{kind}/{name}"


VM1 = res_id(SUB_A, "RG-Finance", "Microsoft.Compute/virtualMachines", "VM1")
DISK1 = res_id(SUB_A, "rg-finance", "Microsoft.Compute/disks", "disk1")
ST1 = res_id(SUB_A, "rg-data", "Microsoft.Storage/storageAccounts", "st1")
ST1_LOWER = ST1.lower()  # the same account, sent again with the id in another case
APP1 = res_id(SUB_A, "rg-data", "Microsoft.Web/sites", "app1")
FN1 = res_id(SUB_A, "rg-legacy", "Microsoft.Web/sites", "fn1")
VMB = res_id(SUB_B, "rg-b", "Microsoft.Compute/virtualMachines", "vmb")


def marker(at: datetime, sub: str, run: str) -> dict:
    return {"ingested_at": at, "ingest_run_id": run, "subscription_id": sub, "record_kind": "snapshot"}


def group_row(at, sub, run, name, tags) -> dict:
    return {**marker(at, sub, run), "record_kind": "resource_group", "resource_id": rg_id(sub, name),
            "name": name, "resource_type": "microsoft.resources/subscriptions/resourcegroups",
            "resource_group": name, "location": "westeurope", "tags": tags, "raw_json": "{}"}  # fmt: skip


def resource_row(at, sub, run, resource_id, group, tags, raw_json="{}") -> dict:
    kind = "/".join(resource_id.split("/")[6:8]).lower()
    return {**marker(at, sub, run), "record_kind": "resource", "resource_id": resource_id,
            "name": resource_id.rsplit("/", 1)[1], "resource_type": kind, "resource_group": group,
            "location": "westeurope", "tags": tags, "raw_json": raw_json}  # fmt: skip


def resource_rows() -> list[dict]:
    old, new, b, c = "run-a-old", "run-a-new", "run-b", "run-c"
    return [
        # SUB_A, older snapshot: everything here must be ignored
        marker(A_OLD, SUB_A, old),
        group_row(A_OLD, SUB_A, old, "RG-Finance", {"ppm-project": "PRJ-7"}),
        resource_row(A_OLD, SUB_A, old, VM1, "RG-Finance", {"ppm-project": "PRJ-9"}),
        resource_row(
            A_OLD,
            SUB_A,
            old,
            res_id(SUB_A, "RG-Finance", "Microsoft.Compute/virtualMachines", "vm-old"),
            "RG-Finance",
            {},
        ),
        # SUB_A, latest snapshot
        marker(A_NEW, SUB_A, new),
        group_row(A_NEW, SUB_A, new, "RG-Finance", {"PPM-Project": " PRJ-12 ", "env": "prod"}),
        group_row(A_NEW, SUB_A, new, "rg-data", {"ppm-project": "   "}),
        group_row(A_NEW, SUB_A, new, "rg-legacy", {"PPM-PROJECT": "PRJ-9"}),
        resource_row(A_NEW, SUB_A, new, VM1, "RG-Finance", {"Ppm-Project": "PRJ-7", "env": "prod"}),
        resource_row(A_NEW, SUB_A, new, DISK1, "rg-finance", {}),
        resource_row(A_NEW, SUB_A, new, ST1_LOWER, "rg-data", None, raw_json='{"copy": 2}'),
        resource_row(A_NEW, SUB_A, new, ST1, "rg-data", None, raw_json='{"copy": 1}'),
        resource_row(A_NEW, SUB_A, new, APP1, "rg-data", {"ppm-project": "PRJ-404"}),
        resource_row(A_NEW, SUB_A, new, FN1, "rg-legacy", {"owner": "ops"}),
        # SUB_B
        marker(B_AT, SUB_B, b),
        group_row(B_AT, SUB_B, b, "rg-b", {"ppm-project": "PRJ-12"}),
        resource_row(B_AT, SUB_B, b, VMB, "rg-b", {"PPM-project": "PRJ-7"}),
        # SUB_C: not requested
        marker(C_AT, SUB_C, c),
        resource_row(
            C_AT,
            SUB_C,
            c,
            res_id(SUB_C, "rg-c", "Microsoft.Compute/virtualMachines", "vmc"),
            "rg-c",
            {"ppm-project": "PRJ-7"},
        ),
        # SUB_E: the latest snapshot is empty
        marker(E_OLD, SUB_E, "run-e-old"),
        resource_row(
            E_OLD, SUB_E, "run-e-old", res_id(SUB_E, "rg-e", "Microsoft.Web/sites", "gone"), "rg-e", {}
        ),
        marker(E_NEW, SUB_E, "run-e-new"),
    ]


ADVISOR_PATH = "/providers/Microsoft.Advisor/recommendations/"


def rec_id(target: str, guid: str) -> str:
    return f"{target}{ADVISOR_PATH}{guid}"


def advisor_row(at, sub, run, guid, target, category, impact, *, resource_id=None, savings=None,
                annual=None, currency=None, extended=None, last_updated="2025-04-14T08:00:00Z") -> dict:  # fmt: skip
    properties = dict(extended or {})
    for key, value in (
        ("savingsAmount", savings),
        ("annualSavingsAmount", annual),
        ("savingsCurrency", currency),
    ):
        if value is not None:
            properties[key] = value
    return {**marker(at, sub, run), "record_kind": "recommendation", "recommendation_id": rec_id(target, guid),
            "recommendation_name": guid, "category": category, "impact": impact,
            "impacted_field": "Microsoft.Compute/virtualMachines", "impacted_value": target.rsplit("/", 1)[1],
            "resource_id": resource_id, "problem": f"problem {guid}", "solution": f"solution {guid}",
            "last_updated": last_updated, "extended_properties": properties if (extended is not None or properties)
            else None, "raw_json": "{}"}  # fmt: skip


GONE = res_id(SUB_A, "rg-finance", "Microsoft.Web/sites", "gone")  # not in inventory; its group is
GHOST = res_id(SUB_A, "rg-ghost", "Microsoft.Web/sites", "ghost")  # neither it nor its group


def advisor_rows() -> list[dict]:
    old, new, b, c = "adv-a-old", "adv-a-new", "adv-b", "adv-c"
    return [
        # SUB_A, older snapshot: ignored
        marker(A_OLD, SUB_A, old),
        advisor_row(A_OLD, SUB_A, old, "r-old", VM1, "Cost", "High", savings="999", currency="USD"),
        # SUB_A, latest snapshot (April)
        marker(A_NEW, SUB_A, new),
        # a1: resource VM1 (its own tag PRJ-7); 12.345 USD -> 12.35 (half up); currency sent lower-case
        advisor_row(
            A_NEW,
            SUB_A,
            new,
            "a1",
            VM1,
            "Cost",
            "High",
            resource_id=VM1,
            savings="12.345",
            annual="148.14",
            currency=" usd ",
            last_updated="2025-04-14T08:00:00.1234567Z",
        ),
        # a2: disk1 (PRJ-12 through its resource group), no resourceId: derived from the recommendation id;
        #     10.95 EUR x 1.10 = 12.045 -> 12.05 (half up; half-even would give 12.04)
        advisor_row(
            A_NEW,
            SUB_A,
            new,
            "a2",
            DISK1,
            "Cost",
            "High",
            savings="10.95",
            annual="131.40",
            currency="EUR",
            last_updated="yesterday",
        ),
        # a3: on the resource group RG-Finance itself, negative savings
        advisor_row(
            A_NEW,
            SUB_A,
            new,
            "a3",
            rg_id(SUB_A, "RG-Finance"),
            "Cost",
            "Medium",
            resource_id=rg_id(SUB_A, "RG-Finance"),
            savings="-5",
            currency="USD",
        ),
        # a4: resource not in inventory, its group is (PRJ-12); GBP is not a currency of silver.fx_rates
        advisor_row(
            A_NEW,
            SUB_A,
            new,
            "a4",
            GONE,
            "Cost",
            "Medium",
            resource_id=GONE,
            savings="7",
            annual="84",
            currency="GBP",
        ),
        # a5: Cost without savingsAmount
        advisor_row(A_NEW, SUB_A, new, "a5", ST1, "Cost", "Low", resource_id=ST1, extended={"region": "x"}),
        # a6: Security on app1 (tag PRJ-404: no such project); sent twice
        advisor_row(A_NEW, SUB_A, new, "a6", APP1, "Security", "High", resource_id=APP1),
        advisor_row(A_NEW, SUB_A, new, "a6", APP1, "Security", "High", resource_id=APP1),
        # a7: PHP has no rate in or before April
        advisor_row(
            A_NEW, SUB_A, new, "a7", ST1, "Cost", "Low", resource_id=ST1, savings="20", currency="PHP"
        ),
        # a8: unknown category and impact, on a resource whose group is not in the inventory either
        advisor_row(A_NEW, SUB_A, new, "a8", GHOST, "cost", "Critical", resource_id=GHOST),
        # a9: subscription-level (reservations): resource id derived = the subscription
        advisor_row(
            A_NEW,
            SUB_A,
            new,
            "a9",
            f"/subscriptions/{SUB_A}",
            "Cost",
            "High",
            savings="100",
            annual="1200",
            currency="USD",
        ),
        # a10: savings that do not parse, on VM1
        advisor_row(
            A_NEW,
            SUB_A,
            new,
            "a10",
            VM1,
            "Cost",
            "Medium",
            resource_id=VM1.upper(),
            savings="12,5",
            currency="EUR",
        ),
        # SUB_B (May: EUR and USD<->EUR fall back to April; PHP -> USD has May)
        marker(B_AT, SUB_B, b),
        advisor_row(
            B_AT,
            SUB_B,
            b,
            "b1",
            VMB,
            "Cost",
            "High",
            resource_id=VMB,
            savings="20.05",
            annual="240.60",
            currency="EUR",
        ),
        advisor_row(
            B_AT,
            SUB_B,
            b,
            "b2",
            VMB,
            "Cost",
            "Low",
            resource_id=VMB,
            savings="1000",
            annual="12000",
            currency="PHP",
        ),
        advisor_row(
            B_AT,
            SUB_B,
            b,
            "b3",
            VMB,
            "HighAvailability",
            "Medium",
            resource_id=VMB,
            savings="3.333",
            currency="USD",
        ),
        # SUB_C: not requested
        marker(C_AT, SUB_C, c),
        advisor_row(C_AT, SUB_C, c, "c1", rg_id(SUB_C, "rg-c"), "Cost", "High", savings="50", currency="USD"),
    ]


# -- silver inputs -----------------------------------------------------------------------------------------------


def real_projects_schema(lakehouse: LocalLakehouse) -> pa.Schema:
    """silver.projects' schema as the real silver SQL (from config/notion_mapping.yaml) produces it."""
    lakehouse.append(
        "bronze.notion_raw_pages",
        notion_raw_pages_table([], synced_at=None, sync_run_id="", complete_before=None),
    )
    database = load_notion_mapping().databases["projects"]
    return lakehouse.query(silver_select_sql("projects", database)).schema


PROJECTS = [
    {"page_id": "pg-12", "name": "Cloud Landing Zone", "project_code": "PRJ-12", "is_archived": False},
    {"page_id": "pg-7", "name": "Data Platform", "project_code": "PRJ-7", "is_archived": False},
    {"page_id": "pg-9", "name": "Legacy", "project_code": "PRJ-9", "is_archived": True},
]


def fx_table() -> pa.Table:
    config = FxRatesConfig(
        base_currency="USD",
        rates={"EUR": {"2025-03": D("1.08"), "2025-04": D("1.10")}, "PHP": {"2025-05": D("0.018")}},
    )
    return fx_rates_table(config)


@pytest.fixture(scope="module")
def lakehouse(tmp_path_factory) -> LocalLakehouse:
    engine = LocalLakehouse(root=str(tmp_path_factory.mktemp("azure")), duckdb_threads=1)
    schema = real_projects_schema(engine)
    engine.replace("silver.projects", pa.Table.from_pylist(PROJECTS, schema=schema))
    engine.replace("silver.fx_rates", fx_table())
    engine.append("bronze.azure_resources", pa.Table.from_pylist(resource_rows(), schema=RESOURCES_SCHEMA))
    engine.append("bronze.azure_advisor", pa.Table.from_pylist(advisor_rows(), schema=ADVISOR_SCHEMA))
    return engine


def build(lakehouse: LocalLakehouse, *, subscriptions: str = REQUESTED, currency: str = "USD") -> dict:
    """Materialize the three tables as the assets do; return their rows (read back from the Delta tables)."""
    lakehouse.replace(
        "silver.azure_resources",
        load_sql("silver/azure_resources.sql"),
        params={"subscriptions": subscriptions},
    )
    lakehouse.replace(
        "silver.advisor_recommendations",
        load_sql("silver/advisor_recommendations.sql"),
        params={"subscriptions": subscriptions, "reporting_currency": currency},
    )
    lakehouse.replace(
        "gold.advisor_summary", load_sql("gold/advisor_summary.sql"), params={"reporting_currency": currency}
    )
    return {
        table: lakehouse.query(f"SELECT * FROM {table}")
        for table in ("silver.azure_resources", "silver.advisor_recommendations", "gold.advisor_summary")
    }


@pytest.fixture(scope="module")
def usd(lakehouse) -> dict:
    return build(lakehouse, currency="USD")


@pytest.fixture(scope="module")
def eur(lakehouse, usd) -> dict:  # after `usd`: both write the same tables
    return build(lakehouse, currency="EUR")


def by_key(table: pa.Table, key: str) -> dict[str, dict]:
    rows = table.to_pylist()
    keyed = {row[key]: row for row in rows}
    assert len(keyed) == len(rows), f"{key} is not unique"
    return keyed


# -- silver.azure_resources ----------------------------------------------------------------------------------


def test_parameters_are_exactly_the_documented_ones():
    expected = {
        "silver/azure_resources.sql": {"subscriptions"},
        "silver/advisor_recommendations.sql": {"subscriptions", "reporting_currency"},
        "gold/advisor_summary.sql": {"reporting_currency"},
    }
    for path, params in expected.items():
        text = re.sub(r"--[^\n]*", "", load_sql(path).text)
        assert set(re.findall(r"(?<![:\w]):([a-z_]+)\b", text)) == params, path


def test_resources_are_those_of_the_latest_snapshot_of_each_requested_subscription(usd):
    rows = by_key(usd["silver.azure_resources"], "resource_id")
    assert sorted(rows) == sorted(r.lower() for r in (VM1, DISK1, ST1, APP1, FN1, VMB))
    # vm-old (older SUB_A snapshot), SUB_C (not requested) and SUB_E (latest snapshot empty) are absent;
    # VM1 carries the latest snapshot's tag, not the older one's
    vm1 = rows[VM1.lower()]
    assert vm1["ingested_at"] == A_NEW
    assert vm1["resource_project_tag"] == "PRJ-7"
    assert rows[VMB.lower()]["ingested_at"] == B_AT


def test_resource_rows_link_projects_by_tag_then_resource_group(usd):
    rows = by_key(usd["silver.azure_resources"], "resource_id")
    expected = {
        # resource tag `Ppm-Project` (name in another case) wins over the group's; RG-Finance -> rg-finance
        VM1: ("rg-finance", "PRJ-7", "PRJ-12", "PRJ-7", "resource", "pg-7", []),
        # no tag: the group's `PPM-Project` (' PRJ-12 ' trimmed), joined on the group name whatever its case
        DISK1: ("rg-finance", None, "PRJ-12", "PRJ-12", "resource_group", "pg-12", []),
        # tags NULL, group tag blank: no project; sent twice (ids differing in case): the smaller id as sent
        ST1: ("rg-data", None, None, None, None, None, ["duplicate_in_snapshot"]),
        APP1: ("rg-data", "PRJ-404", None, "PRJ-404", "resource", None, ["unknown_project"]),
        # the group's project is archived: not live, so unknown
        FN1: ("rg-legacy", None, "PRJ-9", "PRJ-9", "resource_group", None, ["unknown_project"]),
        VMB: ("rg-b", "PRJ-7", "PRJ-12", "PRJ-7", "resource", "pg-7", []),
    }
    for resource_id, (group, tag, group_tag, code, link, page, flags) in expected.items():
        row = rows[resource_id.lower()]
        assert row["resource_id_as_sent"] == resource_id
        assert row["subscription_id"] == (SUB_B if resource_id == VMB else SUB_A)
        assert row["resource_group"] == group, resource_id
        assert (
            row["resource_project_tag"],
            row["resource_group_project_tag"],
            row["project_code"],
            row["project_link"],
            row["project_page_id"],
            row["dq_flags"],
        ) == (tag, group_tag, code, link, page, flags), resource_id
    assert rows[VM1.lower()]["name"] == "VM1"
    assert rows[VM1.lower()]["resource_type"] == "microsoft.compute/virtualmachines"
    assert rows[VM1.lower()]["location"] == "westeurope"
    assert dict(rows[VM1.lower()]["tags"]) == {"Ppm-Project": "PRJ-7", "env": "prod"}
    assert rows[ST1.lower()]["tags"] is None


def test_resource_columns_and_types(usd):
    schema = usd["silver.azure_resources"].schema
    assert schema.names == [
        "resource_id", "resource_id_as_sent", "subscription_id", "resource_group", "name", "resource_type",
        "location", "tags", "resource_project_tag", "resource_group_project_tag", "project_code", "project_link",
        "project_page_id", "ingested_at", "dq_flags",
    ]  # fmt: skip
    assert schema.field("tags").type == TEXT_MAP
    assert schema.field("ingested_at").type == pa.timestamp("us", tz="UTC")
    assert schema.field("dq_flags").type == pa.list_(pa.string())


# -- silver.advisor_recommendations ------------------------------------------------------------------------------


def expected_recommendations(currency: str) -> dict[str, dict]:
    """Per recommendation: (savings, annual, savings currency, fx_month, monthly and annual converted)."""

    def money(amount: Decimal | None, source: str, month: date) -> Decimal | None:
        if amount is None:
            return None
        if source == currency:
            return amount
        if (source, currency) == ("EUR", "USD"):
            return convert(amount, EUR_USD[APRIL])  # April, or April as the latest earlier month for May
        if (source, currency) == ("USD", "EUR"):
            return convert(amount, USD_EUR[APRIL])
        if (source, currency) == ("PHP", "USD") and month in PHP_USD:
            return convert(amount, PHP_USD[month])
        raise AssertionError("no rate: expected NULL, not computed")

    def converted(savings, annual, source, month, fx_month):
        return {
            "savings_amount": savings,
            "annual_savings_amount": annual,
            "savings_currency": source,
            "fx_month": fx_month,
            "monthly_savings_reporting": money(savings, source, month),
            "annual_savings_reporting": money(annual, source, month),
        }

    def rate_month(source: str, month: date) -> date:
        return month if source == currency or (source == "PHP" and month == MAY) else APRIL

    def unconverted(savings, annual, source, fx_month):
        return {"savings_amount": savings, "annual_savings_amount": annual, "savings_currency": source,
                "fx_month": fx_month, "monthly_savings_reporting": None, "annual_savings_reporting": None}  # fmt: skip

    nothing = unconverted(None, None, None, None)
    rows = {
        "a1": converted(cents("12.345"), cents("148.14"), "USD", APRIL, rate_month("USD", APRIL)),
        "a2": converted(cents("10.95"), cents("131.40"), "EUR", APRIL, rate_month("EUR", APRIL)),
        "a3": unconverted(cents("-5"), None, "USD", rate_month("USD", APRIL)),
        "a4": unconverted(cents("7"), cents("84"), "GBP", None),
        "a5": nothing,
        "a6": nothing,
        "a7": unconverted(cents("20"), None, "PHP", None),
        "a8": nothing,
        "a9": converted(cents("100"), cents("1200"), "USD", APRIL, rate_month("USD", APRIL)),
        "a10": unconverted(None, None, "EUR", None),
        "b1": converted(cents("20.05"), cents("240.60"), "EUR", MAY, rate_month("EUR", MAY)),
        "b2": (
            converted(cents("1000"), cents("12000"), "PHP", MAY, MAY)
            if currency == "USD"
            else unconverted(cents("1000"), cents("12000"), "PHP", None)
        ),
        "b3": converted(cents("3.333"), None, "USD", MAY, rate_month("USD", MAY)),
    }
    return rows


LINKS = {  # guid: (target resource id, project_code, project_page_id, project_link, flags)
    "a1": (VM1, "PRJ-7", "pg-7", "resource", []),
    "a2": (DISK1, "PRJ-12", "pg-12", "resource_group", []),
    "a3": (rg_id(SUB_A, "RG-Finance"), "PRJ-12", "pg-12", "resource_group", ["negative_savings"]),
    "a4": (GONE, "PRJ-12", "pg-12", "resource_group", ["unknown_currency", "resource_not_in_inventory"]),
    "a5": (ST1, None, None, None, ["missing_savings"]),
    "a6": (APP1, "PRJ-404", None, "resource", ["unknown_project", "duplicate_in_snapshot"]),
    "a7": (ST1, None, None, None, ["no_fx_rate"]),
    "a8": (GHOST, None, None, None, ["unknown_category", "unknown_impact", "resource_not_in_inventory"]),
    "a9": (f"/subscriptions/{SUB_A}", None, None, None, []),
    "a10": (VM1, "PRJ-7", "pg-7", "resource", ["missing_savings", "unparseable_savings"]),
    "b1": (VMB, "PRJ-7", "pg-7", "resource", []),
    "b2": (VMB, "PRJ-7", "pg-7", "resource", []),
    "b3": (VMB, "PRJ-7", "pg-7", "resource", []),
}
CATEGORIES = {
    "a1": ("Cost", "High"), "a2": ("Cost", "High"), "a3": ("Cost", "Medium"), "a4": ("Cost", "Medium"),
    "a5": ("Cost", "Low"), "a6": ("Security", "High"), "a7": ("Cost", "Low"), "a8": ("cost", "Critical"),
    "a9": ("Cost", "High"), "a10": ("Cost", "Medium"), "b1": ("Cost", "High"), "b2": ("Cost", "Low"),
    "b3": ("HighAvailability", "Medium"),
}  # fmt: skip


def check_recommendations(table: pa.Table, currency: str) -> None:
    rows = by_key(table, "recommendation_name")
    expected = expected_recommendations(currency)
    assert sorted(rows) == sorted(expected)  # r-old (older snapshot) and c1 (SUB_C) are absent
    for guid, values in expected.items():
        row = rows[guid]
        target, code, page, link, flags = LINKS[guid]
        if currency == "EUR" and guid == "b2":
            flags = ["no_fx_rate"]  # PHP -> EUR has no rate at all
        subscription = SUB_B if guid.startswith("b") else SUB_A
        assert row["recommendation_id"] == rec_id(target, guid).lower()
        assert row["subscription_id"] == subscription
        assert row["resource_id"] == target.lower(), guid
        assert (row["category"], row["impact"]) == CATEGORIES[guid]
        assert {k: row[k] for k in values} == values, guid
        assert (row["project_code"], row["project_page_id"], row["project_link"]) == (code, page, link), guid
        assert row["dq_flags"] == flags, guid
        assert row["reporting_currency"] == currency
        assert row["ingested_at"] == (B_AT if subscription == SUB_B else A_NEW)
        assert row["problem"] == f"problem {guid}" and row["solution"] == f"solution {guid}"


def test_recommendations_in_usd(usd):
    check_recommendations(usd["silver.advisor_recommendations"], "USD")
    rows = by_key(usd["silver.advisor_recommendations"], "recommendation_name")
    # worked out by hand: the half-cent ties round up, and May falls back to April's EUR rate
    assert rows["a1"]["monthly_savings_reporting"] == D("12.35")
    assert rows["a2"]["monthly_savings_reporting"] == D("12.05")  # 10.95 x 1.10 = 12.045
    assert rows["a2"]["annual_savings_reporting"] == D("144.54")
    assert rows["b1"]["monthly_savings_reporting"] == D("22.06")  # 20.05 x 1.10 = 22.055
    assert rows["b1"]["fx_month"] == APRIL
    assert rows["b2"]["monthly_savings_reporting"] == D("18.00")  # 1000 x 0.018, May
    assert rows["b2"]["fx_month"] == MAY
    assert rows["a1"]["last_updated"] == datetime(2025, 4, 14, 8, 0, 0, 123456, tzinfo=UTC)
    assert rows["a2"]["last_updated"] is None  # not ISO-8601: TRY_CAST gives NULL


def test_recommendations_in_eur(eur):
    check_recommendations(eur["silver.advisor_recommendations"], "EUR")
    rows = by_key(eur["silver.advisor_recommendations"], "recommendation_name")
    assert USD_EUR[APRIL] == D("0.9090909091")
    assert rows["a1"]["monthly_savings_reporting"] == D("11.23")  # 12.35 x 0.9090909091 = 11.2272...
    assert rows["a9"]["annual_savings_reporting"] == D("1090.91")  # 1200 x 0.9090909091 = 1090.909...
    assert rows["b1"]["fx_month"] == MAY  # already in EUR: no rate, the ingestion month
    assert rows["b3"]["monthly_savings_reporting"] == D("3.03")  # 3.33 USD at April's rate (May has none)


def test_the_fixture_rates_are_the_ones_the_expectations_use(lakehouse):
    rates = {
        (r["currency"], r["to_currency"], r["month"]): r["rate"]
        for r in lakehouse.query("SELECT * FROM silver.fx_rates").to_pylist()
    }
    assert rates[("EUR", "USD", APRIL)] == EUR_USD[APRIL]
    assert rates[("USD", "EUR", APRIL)] == USD_EUR[APRIL]
    assert rates[("PHP", "USD", MAY)] == PHP_USD[MAY]
    assert ("EUR", "USD", MAY) not in rates and ("PHP", "USD", APRIL) not in rates
    assert not any(currency == "PHP" and target == "EUR" for currency, target, _ in rates)


def test_recommendation_columns_and_types(usd):
    schema = usd["silver.advisor_recommendations"].schema
    assert schema.names == [
        "recommendation_id", "recommendation_name", "subscription_id", "category", "impact", "impacted_field",
        "impacted_value", "resource_id", "problem", "solution", "last_updated", "savings_amount",
        "annual_savings_amount", "savings_currency", "reporting_currency", "fx_month",
        "monthly_savings_reporting", "annual_savings_reporting", "project_code", "project_page_id",
        "project_link", "ingested_at", "dq_flags",
    ]  # fmt: skip
    for column in (
        "savings_amount",
        "annual_savings_amount",
        "monthly_savings_reporting",
        "annual_savings_reporting",
    ):
        assert schema.field(column).type == MONEY, column
    assert schema.field("fx_month").type == pa.date32()
    assert schema.field("last_updated").type == pa.timestamp("us", tz="UTC")
    assert schema.field("dq_flags").type == pa.list_(pa.string())


# -- gold.advisor_summary ------------------------------------------------------------------------------------


def expected_summary(currency: str) -> list[dict]:
    """Group the hand-computed silver rows; unconverted = a savings amount sent but left out of the sums."""
    names = {"pg-12": "Cloud Landing Zone", "pg-7": "Data Platform"}
    groups: dict[tuple, dict] = {}
    recommendations = expected_recommendations(currency)
    for guid, values in recommendations.items():
        _, code, page, _, _ = LINKS[guid]
        category, impact = CATEGORIES[guid]
        group = groups.setdefault(
            (category, impact, code, page),
            {"category": category, "impact": impact, "project_code": code, "project_page_id": page,
             "project_name": names.get(page), "recommendations": 0, "monthly_savings": D("0.00"),
             "annual_savings": D("0.00"), "unconverted_recommendations": 0, "unit": currency},
        )  # fmt: skip
        group["recommendations"] += 1
        group["monthly_savings"] += values["monthly_savings_reporting"] or 0
        group["annual_savings"] += values["annual_savings_reporting"] or 0
        sent = values["savings_amount"] is not None or values["annual_savings_amount"] is not None
        if sent and values["monthly_savings_reporting"] is None:
            group["unconverted_recommendations"] += 1
    return sorted(groups.values(), key=lambda g: tuple((v is None, v or "") for v in list(g.values())[:4]))


def test_summary_in_usd(usd):
    rows = usd["gold.advisor_summary"].to_pylist()
    assert rows == expected_summary("USD")
    totals = {(r["category"], r["impact"], r["project_code"]): r for r in rows}
    # by hand: a1 12.35 + b1 22.06 (20.05 EUR x 1.10 = 22.055); annual 148.14 + 264.66 (240.60 x 1.10)
    assert totals[("Cost", "High", "PRJ-7")]["monthly_savings"] == D("34.41")
    assert totals[("Cost", "High", "PRJ-7")]["annual_savings"] == D("412.80")
    # a3 (negative) and a4 (GBP) are counted but add nothing; no savings at all gives 0.00
    medium = totals[("Cost", "Medium", "PRJ-12")]
    assert (medium["recommendations"], medium["monthly_savings"], medium["unconverted_recommendations"]) == (
        2,
        D("0.00"),
        2,
    )
    # a5 (no savings: not left out of anything) and a7 (PHP, no rate): one unconverted
    assert totals[("Cost", "Low", None)]["unconverted_recommendations"] == 1
    assert totals[("Cost", "Low", "PRJ-7")]["monthly_savings"] == D("18.00")
    assert totals[("Cost", "High", None)]["project_name"] is None
    assert totals[("Cost", "High", "PRJ-12")]["project_name"] == "Cloud Landing Zone"
    assert totals[("Security", "High", "PRJ-404")]["project_page_id"] is None


def test_summary_in_eur(eur):
    rows = eur["gold.advisor_summary"].to_pylist()
    assert rows == expected_summary("EUR")
    totals = {(r["category"], r["impact"], r["project_code"]): r for r in rows}
    # a1 12.35 USD x 0.9090909091 = 11.2272... -> 11.23, plus b1 20.05 EUR as is
    assert totals[("Cost", "High", "PRJ-7")]["monthly_savings"] == D("31.28")
    assert totals[("Cost", "High", "PRJ-7")]["annual_savings"] == D("375.27")  # 134.67 + 240.60
    assert totals[("Cost", "Low", "PRJ-7")]["unconverted_recommendations"] == 1  # PHP -> EUR: no rate
    assert all(r["unit"] == "EUR" for r in rows)


def test_summary_follows_its_own_reporting_currency(lakehouse):
    """Gold converts from the amounts as sent: built over silver in EUR, a USD summary is still in USD."""
    build(lakehouse, currency="EUR")
    rows = lakehouse.query(load_sql("gold/advisor_summary.sql"), params={"reporting_currency": "USD"})
    assert rows.to_pylist() == expected_summary("USD")


def test_money_columns_are_decimal_18_2(usd, eur):
    for tables in (usd, eur):
        schema = tables["gold.advisor_summary"].schema
        assert schema.names == [
            "category", "impact", "project_code", "project_page_id", "project_name", "recommendations",
            "monthly_savings", "annual_savings", "unconverted_recommendations", "unit",
        ]  # fmt: skip
        assert schema.field("monthly_savings").type == MONEY
        assert schema.field("annual_savings").type == MONEY
        assert schema.field("recommendations").type == pa.int64()
        assert schema.field("unconverted_recommendations").type == pa.int64()
        for table in tables.values():
            assert not [f.name for f in table.schema if pa.types.is_floating(f.type)]


def test_no_subscription_gives_empty_tables(lakehouse):
    tables = build(lakehouse, subscriptions="")
    assert {name: table.num_rows for name, table in tables.items()} == {
        "silver.azure_resources": 0,
        "silver.advisor_recommendations": 0,
        "gold.advisor_summary": 0,
    }
    assert tables["silver.advisor_recommendations"].schema.field("monthly_savings_reporting").type == MONEY
    assert tables["gold.advisor_summary"].schema.field("monthly_savings").type == MONEY


def test_subscriptions_are_matched_whatever_their_case(lakehouse):
    tables = build(lakehouse, subscriptions=SUB_B.upper())
    assert [r["resource_id"] for r in tables["silver.azure_resources"].to_pylist()] == [VMB.lower()]
    assert sorted(r["recommendation_name"] for r in tables["silver.advisor_recommendations"].to_pylist()) == [
        "b1",
        "b2",
        "b3",
    ]


def test_ambiguous_codes_and_repeated_tag_names_resolve_deterministically(tmp_path):
    """Two live projects with one code: the smaller page_id, flagged. Two tag names equal but for case: the
    smaller trimmed value."""
    engine = LocalLakehouse(root=str(tmp_path), duckdb_threads=1)
    schema = real_projects_schema(engine)
    projects = [
        {"page_id": "pg-b", "name": "B", "project_code": "PRJ-1", "is_archived": False},
        {"page_id": "pg-a", "name": "A", "project_code": "PRJ-1", "is_archived": False},
        {"page_id": "pg-z", "name": "Z", "project_code": "PRJ-0", "is_archived": None},  # NULL counts as live
    ]
    engine.replace("silver.projects", pa.Table.from_pylist(projects, schema=schema))
    at, run = A_NEW, "run"
    vm = res_id(SUB_A, "rg", "Microsoft.Compute/virtualMachines", "vm")
    other = res_id(SUB_A, "rg", "Microsoft.Compute/virtualMachines", "other")
    rows = [
        marker(at, SUB_A, run),
        resource_row(
            at, SUB_A, run, vm, "rg", {"ppm-project": "PRJ-1", "PPM-PROJECT": " PRJ-0", "x": "PRJ-"}
        ),
        resource_row(at, SUB_A, run, other, "rg", {"PPM-Project": "PRJ-1"}),
    ]
    engine.append("bronze.azure_resources", pa.Table.from_pylist(rows, schema=RESOURCES_SCHEMA))
    engine.replace(
        "silver.azure_resources", load_sql("silver/azure_resources.sql"), params={"subscriptions": SUB_A}
    )
    result = by_key(engine.query("SELECT * FROM silver.azure_resources"), "resource_id")
    assert (result[vm.lower()]["project_code"], result[vm.lower()]["project_page_id"]) == ("PRJ-0", "pg-z")
    assert result[vm.lower()]["dq_flags"] == []
    assert (result[other.lower()]["project_page_id"], result[other.lower()]["dq_flags"]) == (
        "pg-a",
        ["ambiguous_project"],
    )
    assert (
        result[other.lower()]["resource_group"] == "rg"
        and result[other.lower()]["project_link"] == "resource"
    )


def test_empty_bronze_gives_empty_tables(tmp_path):
    """Before the first ingestion the bronze tables exist with no rows: silver and gold are empty, not failing."""
    engine = LocalLakehouse(root=str(tmp_path), duckdb_threads=1)
    engine.replace("silver.projects", real_projects_schema(engine).empty_table())
    engine.replace("silver.fx_rates", fx_table())
    engine.append("bronze.azure_resources", RESOURCES_SCHEMA.empty_table())
    engine.append("bronze.azure_advisor", ADVISOR_SCHEMA.empty_table())
    tables = build(engine, subscriptions=SUB_A)
    assert {name: table.num_rows for name, table in tables.items()} == {
        "silver.azure_resources": 0,
        "silver.advisor_recommendations": 0,
        "gold.advisor_summary": 0,
    }
    assert tables["silver.azure_resources"].schema.field("tags").type == TEXT_MAP
