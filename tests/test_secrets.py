"""Secrets never leave the process: not in errors, CLI output, the event log, compute logs or alert text.

Failures are real: a token with an embedded line break makes httpx refuse the Authorization header and quote it
(``Illegal header value b'Bearer ...'``), a token the sandbox does not accept gets a 401, both over HTTP against
the sandbox. The token is a canary: its two halves, around the line break, must appear nowhere.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import string
import subprocess
import sys
import traceback
from pathlib import Path
from urllib.parse import quote, quote_plus

import dagster as dg
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from ppm_cli.cli import main
from ppm_resources.notion.client import NotionClient
from ppm_resources.notion.mapping import load_notion_mapping
from ppm_resources.notion.resource import NotionResource
from ppm_resources.run_errors import run_error
from ppm_resources.secrets import SecretRegistry, install_log_scrubbing, scrub
from ppm_resources.settings import load_settings
from ppm_sandbox import SandboxServer
from ppm_sensors import alerting
from ppm_sensors.alerting import alert_text, failure_summary, run_failure_alert

PPM = str(Path(sys.executable).parent / "ppm")
HEAD, TAIL = "CanaryHead4711", "CanaryTail0815"

# Tokens that fail over HTTP, and how the failure reads. httpx refuses a header value with a line break inside;
# the sandbox answers 401 to a token without a Notion prefix. Surrounding whitespace is stripped on the way.
FAILING_TOKENS = [
    pytest.param(f"secret_{HEAD}\n{TAIL}", "Illegal header value", id="embedded-newline"),
    pytest.param(f"secret_{HEAD}\r\n{TAIL}", "Illegal header value", id="embedded-crlf"),
    pytest.param(f"  secret_{HEAD}\n{TAIL}  \r\n", "Illegal header value", id="spaces-and-line-ends"),
    pytest.param(f" notion{HEAD}{TAIL}\r\n", "invalid token", id="401-with-crlf"),
]


def assert_no_canary(*texts: str) -> None:
    for text in texts:
        assert HEAD not in text, text
        assert TAIL not in text, text


def mapped_database_ids(sandbox: SandboxServer) -> dict[str, str]:
    mapping = load_notion_mapping()
    return {db.id_env: sandbox.notion.database(name).id for name, db in mapping.databases.items()}


# ------------------------------------------------------------------------------------------------- scrub


def quoted_forms(token: str) -> list[str]:
    """How libraries quote a value in their messages (written out here, independently of the scrubber)."""
    found = []
    for value in (token, token.strip()):
        found += [
            value,
            repr(value),
            ascii(value),
            repr(value.encode()),
            json.dumps(value),
            quote(value, safe=""),
            quote(value),
            quote_plus(value),
            value.replace("\r", "\\r").replace("\n", "\\n"),
            f"Bearer {value}",
            repr(f"Bearer {value}".encode()),  # h11: Illegal header value b'Bearer ...\r\n'
            json.dumps(repr(value)),  # a quoted value inside a JSON log line
        ]
    return found


tokens = st.tuples(
    st.sampled_from(["", " ", "\n", "\r\n", " \t", "  \r\n"]),
    st.text(alphabet=string.printable, min_size=8).filter(lambda core: len(core.strip()) >= 8),
    st.sampled_from(["", " ", "\n", "\r\n", "\r", "\t\n"]),
).map("".join)


@settings(max_examples=300, deadline=None)
@given(token=tokens, before=st.text(), after=st.text(), which=st.integers(min_value=0))
def test_scrub_leaves_no_quoted_form_of_a_registered_token(token: str, before: str, after: str, which: int):
    registry = SecretRegistry()  # its own registry: random tokens must not mask other tests' messages
    registry.register(token)
    forms = quoted_forms(token)
    scrubbed = registry.scrub(before + forms[which % len(forms)] + after)
    for form in forms:
        assert form not in scrubbed


def test_scrub_masks_bearer_credentials_and_leaves_prose_alone():
    registry = SecretRegistry()
    assert (
        registry.scrub("sent Authorization: Bearer ntn_unregistered_4711") == "sent Authorization: Bearer ***"
    )
    assert registry.scrub("Bearer authentication failed") == "Bearer authentication failed"
    registry.register("short")  # too short to be a credential: masking it would mangle ordinary text
    assert registry.scrub("a short message") == "a short message"


# ------------------------------------------------------------------------------------------------- settings


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(("PPM_", "NOTION_", "DATABRICKS_", "AZURE_", "UNIFI_", "NINJAONE_")):
            monkeypatch.delenv(name)


def test_settings_strip_and_register_every_secret(clean_environment, monkeypatch: pytest.MonkeyPatch):
    secrets = {
        "DATABRICKS_TOKEN": f"dapi{HEAD}\r\n",
        "AZURE_CLIENT_SECRET": f"  azure~{HEAD}\n",
        "UNIFI_API_KEY": f"\tunifi{HEAD}\n",
        "NINJAONE_CLIENT_SECRET": f"ninja{HEAD}\r\n",
        "NOTION_WEBHOOK_VERIFICATION_TOKEN": f"secret_webhook{HEAD}\n",
        "PPM_ALERT_SLACK_WEBHOOK_URL": f"https://hooks.example.invalid/{HEAD}\r\n",
        "PPM_ALERT_TEAMS_WEBHOOK_URL": f" https://teams.example.invalid/{TAIL}\n",
    }
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    # the rest of the Azure service principal (a secret alone is refused as incomplete)
    monkeypatch.setenv("AZURE_TENANT_ID", "72f988bf-86f1-41af-91ab-2d7cd011db47")
    monkeypatch.setenv("AZURE_CLIENT_ID", "5a1f0c3e-7b2d-4e8f-9a6b-0c1d2e3f4a5b")
    loaded = load_settings(env_file=None)
    values = [
        loaded.databricks.token,
        loaded.azure.client_secret,
        loaded.unifi.api_key,
        loaded.ninjaone.client_secret,
        loaded.notion.webhook_verification_token,
        loaded.alerts.slack_webhook_url,
        loaded.alerts.teams_webhook_url,
    ]
    assert [v.get_secret_value() for v in values if v] == [v.strip() for v in secrets.values()]
    quoted = " | ".join(f"{value!r} {value.encode()!r} {quote(value, safe='')}" for value in secrets.values())
    assert_no_canary(scrub(quoted))


def test_a_notion_token_with_line_ends_simply_works(clean_environment, monkeypatch, sandbox, tmp_path):
    """From settings (a secret file's trailing newline) and handed to the resource and client directly."""
    monkeypatch.chdir(tmp_path)  # no .env of the working tree
    monkeypatch.setenv("NOTION_TOKEN", f"secret_settings_{HEAD}\r\n")
    monkeypatch.setenv("NOTION_API_URL", sandbox.notion_url)
    for name, database_id in mapped_database_ids(sandbox).items():
        monkeypatch.setenv(name, database_id)
    from_settings = load_settings(env_file=None).notion.token
    assert from_settings is not None
    title = load_notion_mapping().database("risks").title

    async def find(client: NotionClient) -> str | None:
        async with client:
            return await client.find_database_by_title(title)

    for token in (
        from_settings,
        SecretStr(f"secret_direct_{HEAD}\n"),
        SecretStr(f"  secret_spaced_{HEAD} \r\n"),
    ):
        assert asyncio.run(find(NotionClient(token=token, base_url=sandbox.notion_url, max_retries=0)))
    resource = NotionResource(base_url=sandbox.notion_url, token=f"secret_resource_{HEAD}\r\n")
    assert asyncio.run(find(resource.client(max_retries=0))) == sandbox.notion.database("risks").id


# ------------------------------------------------------------------------------------------------- leaks


@pytest.mark.parametrize(("token", "failure"), FAILING_TOKENS)
def test_the_client_error_and_its_log_lines_never_show_the_token(
    token: str, failure: str, sandbox: SandboxServer, caplog: pytest.LogCaptureFixture
):
    async def search() -> None:
        client = NotionClient(token=SecretStr(token), base_url=sandbox.notion_url, max_retries=2)
        async with client:
            await client.find_database_by_title("Risks")

    install_log_scrubbing()  # what `ppm` and the code location do at start-up (httpcore's DEBUG lines quote it)
    with caplog.at_level(logging.DEBUG), pytest.raises(Exception) as raised:
        asyncio.run(search())
    text = "".join(traceback.format_exception(raised.value))
    assert failure in text
    assert_no_canary(text, repr(raised.value), caplog.text, *(r.getMessage() for r in caplog.records))


@dg.asset
def notion_probe(notion: NotionResource) -> None:
    async def search() -> None:
        async with notion.client(max_retries=1, backoff_initial_s=0.01, backoff_max_s=0.01) as client:
            await client.find_database_by_title("Risks")

    asyncio.run(search())


@pytest.mark.parametrize(("token", "failure"), FAILING_TOKENS)
def test_a_failed_materialization_keeps_the_token_out_of_event_log_logs_and_alert(
    token: str,
    failure: str,
    sandbox: SandboxServer,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
):
    for variable in alerting.WEBHOOK_VARIABLES.values():
        monkeypatch.delenv(variable, raising=False)
    install_log_scrubbing()  # what the code location does at start-up (ppm_assets.definitions)
    resources = {"notion": NotionResource(base_url=sandbox.notion_url, token=token)}
    with dg.DagsterInstance.ephemeral() as instance, caplog.at_level(logging.DEBUG):
        result = dg.materialize([notion_probe], resources=resources, instance=instance, raise_on_error=False)
        assert not result.success
        records = instance.all_logs(result.run_id)
        context = dg.build_run_status_sensor_context(
            sensor_name="run_failure_alert",
            dagster_event=result.get_run_failure_event(),
            dagster_instance=instance,
            dagster_run=result.dagster_run,
        ).for_run_failure()
        run_failure_alert(context)  # logs the structured JSON line
        alert = alert_text(failure_summary(context))
        cause = run_error(instance, result.run_id)
    captured = capfd.readouterr()  # what the compute log of the step captures: the console logger's lines
    assert failure in cause and failure in alert
    assert any(record.dagster_event_type == dg.DagsterEventType.STEP_FAILURE for record in records)
    assert_no_canary(
        *(str(record) for record in records),  # messages and the structured step/run failure errors
        alert,
        cause,
        caplog.text,
        captured.out,
        captured.err,
    )


@dg.asset
def webhook_probe() -> None:
    """Posts with a credential by hand, outside the Notion client: httpx's own error reaches Dagster unscrubbed."""
    import httpx

    with httpx.Client(timeout=5) as client:
        client.get(os.environ["PROBE_URL"], headers={"Authorization": f"Bearer {os.environ['PROBE_TOKEN']}"})


def test_alert_and_run_error_mask_a_registered_secret_a_library_quoted(
    clean_environment,
    sandbox: SandboxServer,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
):
    """The alert and the run error are choke points of their own, whatever the failed step raised."""
    token = f"dapi{HEAD}\n{TAIL}"
    monkeypatch.setenv("DATABRICKS_TOKEN", token)
    load_settings(env_file=None)  # registers the token, as the code location does when it loads
    monkeypatch.setenv("PROBE_TOKEN", token)
    monkeypatch.setenv("PROBE_URL", f"{sandbox.url}/healthz")
    install_log_scrubbing()
    with dg.DagsterInstance.ephemeral() as instance, caplog.at_level(logging.DEBUG):
        result = dg.materialize([webhook_probe], instance=instance, raise_on_error=False)
        assert not result.success
        context = dg.build_run_status_sensor_context(
            sensor_name="run_failure_alert",
            dagster_event=result.get_run_failure_event(),
            dagster_instance=instance,
            dagster_run=result.dagster_run,
        ).for_run_failure()
        run_failure_alert(context)
        alert = alert_text(failure_summary(context))
        cause = run_error(instance, result.run_id)
    captured = capfd.readouterr()
    assert "Illegal header value" in cause and "Illegal header value" in alert
    assert_no_canary(alert, cause, caplog.text, captured.out, captured.err)


@pytest.mark.parametrize(("token", "failure"), FAILING_TOKENS[::3])
def test_cli_health_and_sync_output_never_shows_the_token(
    token: str,
    failure: str,
    clean_environment,
    sandbox: SandboxServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
):
    variables = {
        "NOTION_TOKEN": token,
        "NOTION_API_URL": sandbox.notion_url,
        "NOTION_RATE_LIMIT_RPS": "200",
        "PPM_LAKEHOUSE_DIR": str(tmp_path / "lakehouse"),
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
        **mapped_database_ids(sandbox),
    }
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    with caplog.at_level(logging.DEBUG):
        health = CliRunner().invoke(main, ["health"])
    assert health.exit_code == 1, health.output
    assert failure in health.output and "Traceback" not in health.output
    assert_no_canary(health.output, caplog.text)

    # `ppm sync` loads the code location: in a process of its own, as a user runs it.
    sync = subprocess.run(
        [PPM, "sync"], env=dict(os.environ), cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert sync.returncode == 1, sync.stdout + sync.stderr
    assert "run failed" in sync.stderr and failure in sync.stderr
    assert_no_canary(sync.stdout, sync.stderr)
