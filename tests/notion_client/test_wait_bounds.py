"""Bounded waits: a long Retry-After fails at once naming its setting; no retry wait passes the run's deadline; a
sensor tick under a Retry-After storm skips with the reason instead of timing out; `ppm health` answers."""

from __future__ import annotations

import asyncio
import uuid

import dagster as dg
import pytest
from click.testing import CliRunner

from ppm_assets.definitions import defs
from ppm_cli.cli import main
from ppm_resources.notion import NotionClient
from ppm_resources.notion.mapping import load_notion_mapping
from ppm_resources.notion.resource import NotionResource
from ppm_resources.resilience import WaitTooLongError
from ppm_sandbox import SandboxServer
from ppm_sensors.notion.change_sensor import build_notion_change_sensor, parse_cursor


def _storm(sandbox: SandboxServer, retry_after_s: int) -> None:
    """After one request, every request of a token is answered 429 with this Retry-After."""
    sandbox.faults.set(rate=0.0001, burst=1, retry_after_s=retry_after_s)


def _client(sandbox: SandboxServer, **options: object) -> NotionClient:
    return NotionClient(
        token=f"secret_wait_{uuid.uuid4().hex}", base_url=sandbox.notion_url, rate_limit_rps=500, **options
    )


def test_a_retry_after_beyond_the_cap_fails_at_once_naming_the_setting(clean_sandbox: SandboxServer) -> None:
    database_id = clean_sandbox.notion.database("risks").id
    _storm(clean_sandbox, 3600)

    async def probe() -> None:
        async with _client(clean_sandbox, max_retry_after_s=60) as client:
            await client.newest_edit(database_id)  # the first request passes
            await client.newest_edit(database_id)

    with pytest.raises(WaitTooLongError, match=r"wait 3600 s .*NOTION_MAX_RETRY_AFTER_S=60"):
        asyncio.run(probe())


def test_no_retry_wait_passes_the_deadline(clean_sandbox: SandboxServer) -> None:
    database_id = clean_sandbox.notion.database("risks").id
    _storm(clean_sandbox, 5)

    async def probe() -> None:
        async with _client(clean_sandbox, deadline_s=2) as client:
            await client.newest_edit(database_id)
            await client.newest_edit(database_id)

    with pytest.raises(WaitTooLongError, match=r"would pass the deadline set by NOTION_RUN_DEADLINE_S=2"):
        asyncio.run(probe())
    assert clean_sandbox.stats.snapshot()["rate_limited"] == 1  # it did not wait and try again


def test_settings_bound_the_run_client(monkeypatch: pytest.MonkeyPatch) -> None:
    from ppm_resources.resources import notion_resource
    from ppm_resources.settings import load_settings

    monkeypatch.setenv("NOTION_MAX_RETRY_AFTER_S", "30")
    monkeypatch.setenv("NOTION_RUN_DEADLINE_S", "900")
    monkeypatch.setenv("NOTION_MAX_RETRIES", "2")
    config = notion_resource(load_settings()).client_config()
    assert (config.max_retry_after_s, config.deadline_s, config.max_retries) == (30, 900, 2)


def test_a_sensor_tick_under_a_retry_after_storm_skips_with_the_reason(
    clean_sandbox: SandboxServer, notion_resource: NotionResource
) -> None:
    mapping = load_notion_mapping()
    sensor = build_notion_change_sensor(mapping)

    def tick(cursor: str | None) -> dg.SensorResult:
        context = dg.build_sensor_context(
            resources={"notion": notion_resource}, cursor=cursor, repository_def=defs.get_repository_def()
        )
        return sensor.evaluate_tick(context)

    cursor = tick(None).cursor  # every database probed and requested: no heartbeat due for 20 minutes
    assert set(parse_cursor(cursor).requested_at) == set(mapping.names)
    _storm(clean_sandbox, 90)
    result = tick(cursor)
    assert not result.run_requests
    assert result.skip_message is not None
    assert "Retry-After" in result.skip_message and "a sensor tick's limit=10" in result.skip_message


def test_health_answers_under_a_long_retry_after(clean_sandbox: SandboxServer, monkeypatch) -> None:
    monkeypatch.setenv("PPM_SANDBOX_URL", clean_sandbox.url)
    monkeypatch.setenv("PPM_SANDBOX_AZURE_URL", clean_sandbox.service_url("azure"))
    monkeypatch.setenv("PPM_SANDBOX_CA_CERT", str(clean_sandbox.ca_cert))
    monkeypatch.setenv("NOTION_RATE_LIMIT_RPS", "500")
    _storm(clean_sandbox, 3600)
    result = CliRunner().invoke(main, ["health"], catch_exceptions=False)
    assert result.exit_code == 1
    assert "Retry-After" in result.output and "ppm health's limit=10" in result.output
