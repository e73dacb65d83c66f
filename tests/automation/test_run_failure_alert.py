"""Run failure alerting: a structured JSON line, and webhook posts that never leak the webhook URL."""

from __future__ import annotations

import json
import logging

import dagster as dg
import httpx
import pytest

from ppm_sensors import alerting
from ppm_sensors.alerting import post_webhooks, run_failure_alert

SECRET_URL = "https://hooks.example.invalid/services/T000/B000/very-secret-token"


@dg.asset
def broken_asset() -> None:
    raise ValueError("budget line 42 has no project")


def _failure_context(instance: dg.DagsterInstance) -> dg.RunFailureSensorContext:
    job = dg.Definitions(assets=[broken_asset]).resolve_implicit_global_asset_job_def()
    result = job.execute_in_process(instance=instance, raise_on_error=False)
    assert not result.success
    return dg.build_run_status_sensor_context(
        sensor_name="run_failure_alert",
        dagster_event=result.get_run_failure_event(),
        dagster_instance=instance,
        dagster_run=result.dagster_run,
    ).for_run_failure()


def _alert_lines(caplog: pytest.LogCaptureFixture) -> list[dict]:
    return [
        json.loads(r.getMessage())
        for r in caplog.records
        if r.name == "ppm.alerts" and r.levelno == logging.ERROR
    ]


def test_failed_run_logs_one_json_line_with_job_run_and_step_errors(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable in alerting.WEBHOOK_VARIABLES.values():
        monkeypatch.delenv(variable, raising=False)
    with dg.DagsterInstance.ephemeral() as instance, caplog.at_level(logging.INFO, logger="ppm.alerts"):
        context = _failure_context(instance)
        run_failure_alert(context)
    [line] = _alert_lines(caplog)
    assert line["alert"] == "run_failure"
    assert line["job"] == "__ASSET_JOB"
    assert line["run_id"] == context.dagster_run.run_id
    [step] = line["steps"]
    assert step["step"] == "broken_asset"
    assert "budget line 42 has no project" in step["error"]


def test_webhooks_get_a_short_message_and_the_url_is_never_logged(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    posted: list[tuple[str, dict]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        posted.append((str(request.url), json.loads(request.content)))
        return httpx.Response(200 if "slack" in str(request.url) else 500)

    monkeypatch.setenv("PPM_ALERT_SLACK_WEBHOOK_URL", SECRET_URL + "/slack")
    monkeypatch.setenv("PPM_ALERT_TEAMS_WEBHOOK_URL", SECRET_URL + "/teams")
    real_client = httpx.Client
    monkeypatch.setattr(
        alerting.httpx, "Client", lambda **kw: real_client(transport=httpx.MockTransport(handler), **kw)
    )
    with dg.DagsterInstance.ephemeral() as instance, caplog.at_level(logging.DEBUG):
        run_failure_alert(_failure_context(instance))

    assert [url.rsplit("/", 1)[1] for url, _ in posted] == ["slack", "teams"]
    text = posted[0][1]["text"]
    assert "__ASSET_JOB" in text and "broken_asset" in text and len(text) < 1000
    assert "very-secret-token" not in caplog.text
    assert (
        "teams" in caplog.text and "HTTP 500" in caplog.text
    )  # the failed post is reported, without its URL


def test_unreachable_webhook_is_reported_by_error_type_only(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"cannot reach {request.url}", request=request)

    monkeypatch.delenv("PPM_ALERT_TEAMS_WEBHOOK_URL", raising=False)
    monkeypatch.setenv("PPM_ALERT_SLACK_WEBHOOK_URL", SECRET_URL)
    with caplog.at_level(logging.DEBUG), httpx.Client(transport=httpx.MockTransport(refuse)) as client:
        assert post_webhooks("hello", client=client) == {"slack": "failed: ConnectError"}
    assert "very-secret-token" not in caplog.text
