"""Changes on either side of the mapping: schema drift in Notion, a new database in the YAML, computed values."""

import uuid

import dagster as dg
import pytest

from ppm_assets.notion.raw_pages import build_notion_raw_pages
from ppm_assets.notion.silver_tables import notion_silver_assets
from ppm_checks import notion_checks
from ppm_resources.lakehouse import LocalLakehouse
from ppm_resources.notion.mapping import parse_notion_mapping
from ppm_resources.notion.resource import NotionResource
from ppm_resources.paths import config_dir
from ppm_sandbox import FaultSpec, NotionConfig, SandboxConfig, SandboxServer

NEW_DATABASE = """
  vendor_quotes:
    title: Bench 1
    id_env: NOTION_VENDOR_QUOTES_DB_ID
    silver_table: vendor_quotes
    columns:
      - {notion_property: Name, column_name: quote, column_type: string, required: true}
      - {notion_property: Vendor, column_name: vendor, column_type: string}
      - {notion_property: Amount, column_name: amount, column_type: decimal}
      - {notion_property: Currency, column_name: currency, column_type: string}
      - {notion_property: Committed Date, column_name: quoted_on, column_type: date}
"""


def materialize_all(mapping, lakehouse, notion_url: str) -> dg.ExecuteInProcessResult:
    resources = {
        "lakehouse": lakehouse,
        "notion": NotionResource(
            base_url=notion_url, token=f"secret_{uuid.uuid4().hex}", lookup_by_title=True, rate_limit_rps=500
        ),
    }
    defs = dg.Definitions(
        assets=[build_notion_raw_pages(mapping), *notion_silver_assets(mapping)],
        asset_checks=notion_checks(mapping),
        resources=resources,
    )
    names = mapping.names
    return defs.resolve_implicit_global_asset_job_def().execute_in_process(
        tags={
            "dagster/asset_partition_range_start": names[0],
            "dagster/asset_partition_range_end": names[-1],
        },
        raise_on_error=False,
    )


def test_adding_a_notion_database_is_a_yaml_change(tmp_path):
    mapping = parse_notion_mapping((config_dir() / "notion_mapping.yaml").read_text() + NEW_DATABASE)
    config = SandboxConfig(
        notion=NotionConfig(bench_pages=120, bench_databases=1), faults=FaultSpec.unlimited()
    )
    with SandboxServer(config) as sandbox:
        lakehouse = LocalLakehouse(root=str(tmp_path))
        result = materialize_all(mapping, lakehouse, sandbox.notion_url)
        assert result.success
        truth = {page["id"]: page["properties"] for page in sandbox.notion.truth("Bench 1")}
    rows = {r["page_id"]: r for r in lakehouse.query("SELECT * FROM silver.vendor_quotes").to_pylist()}
    assert set(rows) == set(truth) and len(rows) == 120
    for page_id, properties in truth.items():
        assert rows[page_id]["vendor"] == properties["Vendor"]
        assert float(rows[page_id]["amount"]) == pytest.approx(properties["Amount"], abs=0.005)
    checks = {
        e.check_name: e.passed
        for e in result.get_asset_check_evaluations()
        if "vendor_quotes" in str(e.asset_key)
    }
    assert checks == {"key_page_id_unique_not_null": True, "notion_schema_matches_mapping": True}


def _materialize_budget_lines_with_drift_check(pipeline) -> dg.ExecuteInProcessResult:
    [drift_check] = [c for c in notion_checks(pipeline.mapping) if "budget_lines" in str(c.check_keys) and
                     "schema" in str(c.check_keys)]  # fmt: skip
    silver = next(a for a in notion_silver_assets(pipeline.mapping) if "budget_lines" in str(a.key))
    return dg.materialize(
        [silver, drift_check], resources={"lakehouse": pipeline.lakehouse}, raise_on_error=False
    )


@pytest.mark.parametrize("change", ["rename", "drop"])
def test_schema_drift_warns_with_the_property_and_its_mapping_line(pipeline, change):
    assert pipeline.materialize_bronze(["budget_lines"]).success
    store = pipeline.sandbox.notion
    if change == "rename":
        store.rename_property("budget_lines", "Vendor", "Supplier")
    else:
        store.drop_property("budget_lines", "Vendor")
    store.edit_page(store.truth("budget_lines")[0]["id"], {"Amount": 42})  # the next sync sees the new schema
    assert pipeline.materialize_bronze(["budget_lines"]).success

    database = pipeline.mapping.database("budget_lines")
    result = _materialize_budget_lines_with_drift_check(pipeline)
    assert result.success  # a warning, never a crash
    [evaluation] = result.get_asset_check_evaluations()
    vendor = next(c for c in database.columns if c.notion_property == "Vendor")
    assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.WARN
    assert evaluation.metadata["missing_properties"].value == [
        f"Vendor (config/notion_mapping.yaml line {vendor.line}, column vendor)"
    ]
    assert ("Supplier" in evaluation.metadata["unmapped_properties"].value) == (change == "rename")
    assert "Update config/notion_mapping.yaml" in evaluation.description
    # the new property is kept in bronze, so mapping it later needs no resync
    if change == "rename":
        newest = pipeline.lakehouse.query(
            "SELECT properties['Supplier'] AS supplier FROM bronze.notion_raw_pages "
            "WHERE database_name = 'budget_lines' ORDER BY synced_at DESC LIMIT 1"
        ).to_pylist()[0]
        assert newest["supplier"]


def test_a_property_recreated_with_another_type_fails_the_drift_check(pipeline):
    """Amount re-created as text: every amount would be NULL; the check says which property and why."""
    assert pipeline.materialize_bronze(["budget_lines"]).success
    store = pipeline.sandbox.notion
    store.drop_property("budget_lines", "Amount")
    store.add_property("budget_lines", "Amount", "rich_text")
    store.edit_page(store.truth("budget_lines")[0]["id"], {"Amount": "1,200.50"})
    assert pipeline.materialize_bronze(["budget_lines"]).success

    database = pipeline.mapping.database("budget_lines")
    result = _materialize_budget_lines_with_drift_check(pipeline)
    [evaluation] = result.get_asset_check_evaluations()
    amount = next(c for c in database.columns if c.notion_property == "Amount")
    assert not evaluation.passed
    assert evaluation.metadata["missing_properties"].value == []  # the name is still there: not a rename
    assert evaluation.metadata["retyped_properties"].value == [
        f"Amount is rich_text in Notion, mapped as decimal (config/notion_mapping.yaml line {amount.line}, "
        "column amount)"
    ]
    assert "Property type changed" in evaluation.description


def test_a_full_sync_refreshes_rollups_that_changed_without_an_edit(pipeline):
    pipeline.sync(["projects", "budget_lines"])
    store = pipeline.sandbox.notion
    line = store.truth("budget_lines")[0]
    project_id = line["properties"]["Project"][0]
    store.edit_page(line["id"], {"Actual Amount": line["properties"]["Actual Amount"] + 1000})
    project_edit = next(p for p in store.truth("projects") if p["id"] == project_id)["last_edited_time"]
    incremental = pipeline.sync(["projects"])
    assert incremental.databases["projects"].written == 0  # the project's edit time did not move
    full = pipeline.sync(["projects"], full_sync=True)
    assert full.databases["projects"].written == 1
    spent = pipeline.lakehouse.query(
        "SELECT properties['Spent'] AS spent, last_edited_time FROM bronze.notion_raw_pages "
        f"WHERE page_id = '{project_id}' ORDER BY synced_at DESC LIMIT 1"
    ).to_pylist()[0]
    truth_spent = next(p for p in store.truth("projects") if p["id"] == project_id)["properties"]["Spent"]
    assert float(spent["spent"]) == pytest.approx(truth_spent)
    assert spent["last_edited_time"].isoformat().startswith(project_edit[:16])
