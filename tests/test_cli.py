"""`ppm` commands: headless materialization into a Dagster instance, health, and lakehouse maintenance."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from ppm_assets.cli import main
from ppm_resources.lakehouse import LocalLakehouse

PPM = str(Path(sys.executable).parent / "ppm")


@pytest.fixture(scope="module")
def materialized(tmp_path_factory) -> dict[str, str]:
    """A lakehouse and an instance after one `ppm materialize`."""
    base = tmp_path_factory.mktemp("cli")
    env = {
        **os.environ,
        "DAGSTER_HOME": str(base / "dagster_home"),
        "PPM_LAKEHOUSE_DIR": str(base / "lakehouse"),
    }
    result = subprocess.run([PPM, "materialize"], env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "succeeded" in result.stdout and "checks 1 passed / 0 failed" in result.stdout
    return env


def test_materialize_records_the_run_in_the_instance(materialized):
    from dagster import DagsterInstance

    os.environ["DAGSTER_HOME"] = materialized["DAGSTER_HOME"]
    try:
        with DagsterInstance.get() as instance:
            runs = instance.get_runs()
            assert len(runs) == 1 and runs[0].is_success
    finally:
        del os.environ["DAGSTER_HOME"]
    assert (Path(materialized["DAGSTER_HOME"]) / "dagster.yaml").is_file()


def test_materialize_fails_with_the_settings_message(tmp_path):
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path), "PPM_ENV": "staging"}
    result = subprocess.run([PPM, "materialize"], env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 1
    assert "PPM_ENV='staging': Input should be 'local' or 'databricks'" in result.stderr
    assert "Traceback" not in result.stderr


def test_lakehouse_maintenance_commands(materialized, monkeypatch):
    monkeypatch.setenv("PPM_LAKEHOUSE_DIR", materialized["PPM_LAKEHOUSE_DIR"])
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(main, list(args), catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    assert "silver.fx_rates" in run("lakehouse", "tables")
    assert "ok" in run("health")
    assert "WRITE" in run("lakehouse", "history", "silver.fx_rates")
    lakehouse = LocalLakehouse(root=materialized["PPM_LAKEHOUSE_DIR"])
    lakehouse.replace("silver.fx_rates", "SELECT * FROM silver.fx_rates WHERE currency = 'EUR'")
    assert "current version is now 2" in run("lakehouse", "restore", "silver.fx_rates", "0")
    assert lakehouse.info("silver.fx_rates").num_rows == 108
    assert "would delete 0 files" in run("lakehouse", "vacuum", "silver.fx_rates", "--dry-run")
    assert "numFilesAdded" in run("lakehouse", "optimize", "silver.fx_rates")
