"""The code location loads, validates with the Dagster CLI, and its assets materialize with their checks."""

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from ppm_assets.definitions import defs
from ppm_assets.finance.fx_rates import FxRatesConfig, fx_rates, fx_rates_table
from ppm_checks import build_checks
from ppm_resources.lakehouse import LocalLakehouse
from ppm_resources.notion.mapping import load_notion_mapping

checks = build_checks(load_notion_mapping())

ROOT = Path(__file__).resolve().parents[1]
FX_CHECKS = [c for c in checks if dg.AssetKey(["silver", "fx_rates"]) in {k.asset_key for k in c.check_keys}]


def test_definitions_load_with_every_piece():
    dg.Definitions.validate_loadable(defs)
    graph = defs.resolve_asset_graph()
    assert dg.AssetKey(["silver", "fx_rates"]) in graph.get_all_asset_keys()
    assert {check.name for check in graph.asset_check_keys} >= {
        "key_currency_to_currency_month_unique_not_null",
        "key_page_id_unique_not_null",
        "notion_schema_matches_mapping",
    }
    assert defs.resolve_job_def("reference_data") is not None
    assert "lakehouse" in defs.resources


def test_loading_the_local_code_location_imports_no_databricks_or_spark_package():
    """The engines' packages cost seconds of CPU to import: they are imported by the engine that uses them only."""
    probe = (
        "import sys, ppm_assets.definitions; "
        "print(sorted(m for m in ('dagster_databricks', 'databricks.sdk', 'pyspark', 'dagster_pyspark') "
        "if m in sys.modules))"
    )
    env = {k: v for k, v in os.environ.items() if k != "PPM_ENV"}
    result = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_dagster_cli_validates_the_workspace(tmp_path):
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path)}
    result = subprocess.run(
        [str(Path(sys.executable).parent / "dagster"), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "All code locations passed validation" in result.stdout + result.stderr


def test_fx_rates_materialize_with_metadata_and_a_passing_key_check(tmp_path):
    lakehouse = LocalLakehouse(root=str(tmp_path))
    result = dg.materialize([fx_rates, *FX_CHECKS], resources={"lakehouse": lakehouse})
    assert result.success
    materialization = result.asset_materializations_for_node("silver__fx_rates")[0]
    metadata = materialization.metadata
    assert metadata["dagster/table_name"].value == "silver.fx_rates"
    assert [c.name for c in metadata["dagster/column_schema"].value.columns] == [
        "currency",
        "to_currency",
        "month",
        "rate",
        "rate_to_base",
        "base_currency",
    ]
    # 48 months (2024-2027) of EUR and PHP from config/fx_rates.yaml plus USD: 3 x 3 currency pairs a month.
    assert metadata["dagster/row_count"].value == 3 * 3 * 48
    [evaluation] = result.get_asset_check_evaluations()
    assert evaluation.passed and evaluation.metadata["failing_rows"].value == 0


def test_duplicate_keys_fail_the_blocking_check(tmp_path):
    lakehouse = LocalLakehouse(root=str(tmp_path))
    table = fx_rates_table(FxRatesConfig(base_currency="USD", rates={"EUR": {"2024-01": 1.1}}))
    lakehouse.replace("silver.fx_rates", table)
    lakehouse.append("silver.fx_rates", table.slice(1, 1))  # a second EUR -> USD 2024-01 row
    result = dg.materialize(
        FX_CHECKS,
        resources={"lakehouse": lakehouse},
        selection=dg.AssetSelection.all_asset_checks(),
        raise_on_error=False,
    )
    assert not result.success  # blocking: the run fails, so nothing downstream would run
    [evaluation] = result.get_asset_check_evaluations()
    assert not evaluation.passed
    assert evaluation.severity == dg.AssetCheckSeverity.ERROR
    assert evaluation.metadata["failing_rows"].value == 2
    assert evaluation.metadata["sample_keys"].value == ["EUR|USD|2024-01-01"]


@pytest.mark.parametrize(
    ("rates", "message"),
    [
        ({"EUR": {"2024-01": 1.1, "2024-03": 1.2}}, "no rate for 2024-02"),
        ({"EUR": {"2024-01": -1.0}}, "must be positive"),
        ({"EUR": {"2024-13": 1.0}}, "not in YYYY-MM form"),
        ({"euro": {"2024-01": 1.0}}, "not an ISO 4217 code"),
    ],
)
def test_fx_rates_config_errors_say_what_is_wrong(rates, message):
    with pytest.raises(ValueError, match=message):
        FxRatesConfig(base_currency="USD", rates=rates)
