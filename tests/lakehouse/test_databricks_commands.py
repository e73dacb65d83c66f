"""The runbook's lakehouse commands with `PPM_ENV=databricks` (no DATABRICKS_HOST: the sandbox's emulator):
`ppm lakehouse tables|history|restore|vacuum|optimize`, `ppm query` with time travel, and `ppm health`."""

from __future__ import annotations

import uuid

import pytest
from click.testing import CliRunner, Result

from ppm_cli.cli import main
from ppm_sandbox import SandboxServer
from tests.conftest import sandbox_variables


@pytest.fixture
def table(databricks_lakehouse, sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch, tmp_path) -> str:
    """A table with two versions on the emulator; `ppm` pointed at it by the environment alone."""
    name = f"t_{uuid.uuid4().hex[:12]}.fx_rates"
    lakehouse = databricks_lakehouse()
    lakehouse.replace(name, "SELECT 'EUR' AS currency, CAST(1.08 AS DECIMAL(18,6)) AS rate_to_base")
    lakehouse.replace(name, "SELECT 'EUR' AS currency, CAST(9.99 AS DECIMAL(18,6)) AS rate_to_base")
    for key, value in sandbox_variables(sandbox).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("PPM_ENV", "databricks")
    monkeypatch.delenv("DATABRICKS_HOST", raising=False)
    monkeypatch.chdir(tmp_path)  # the write locks go under ./.state
    return name


def ppm(*args: str) -> Result:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result


def test_the_disaster_recovery_commands_work_on_databricks(table: str) -> None:
    assert table in ppm("lakehouse", "tables").output
    history = ppm("lakehouse", "history", table).output.splitlines()
    assert [line.split()[0] for line in history] == ["1", "0"]
    old = ppm("query", f"SELECT rate_to_base FROM {table} VERSION AS OF 0").output
    assert "1.080000" in old
    restored = ppm("lakehouse", "restore", table, "0").output
    assert "current version is now 2" in restored
    assert "1.080000" in ppm("query", f"SELECT rate_to_base FROM {table}").output
    assert "would delete" in ppm("lakehouse", "vacuum", table, "--dry-run").output
    assert ppm("lakehouse", "optimize", table).output.strip().startswith("{")


def test_health_names_the_databricks_engine(table: str) -> None:
    output = ppm("health").output
    assert "lakehouse: ok" in output and "Databricks SQL warehouse" in output
