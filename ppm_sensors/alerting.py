"""Run failure alerting: one structured JSON log line, plus an optional Slack/Teams webhook post."""

from __future__ import annotations

import json
import logging
import os
from typing import Any

import dagster as dg
import httpx

from ppm_resources.run_errors import root_cause_message, short_message
from ppm_resources.secrets import register, scrub

logger = logging.getLogger("ppm.alerts")

WEBHOOK_VARIABLES = {"slack": "PPM_ALERT_SLACK_WEBHOOK_URL", "teams": "PPM_ALERT_TEAMS_WEBHOOK_URL"}


def failure_summary(context: dg.RunFailureSensorContext) -> dict[str, Any]:
    """What failed: job, run id, and each failed step with its error message."""
    run = context.dagster_run
    steps = []
    for event in context.get_step_failure_events():
        error = getattr(event.event_specific_data, "error", None)
        message = root_cause_message(error) or short_message(event.message)
        steps.append({"step": event.step_key, "error": message})
    return {
        "alert": "run_failure",
        "job": run.job_name,
        "run_id": run.run_id,
        "partition": run.tags.get("dagster/partition"),
        "message": short_message(context.failure_event.message),
        "steps": steps,
    }


def alert_text(summary: dict[str, Any]) -> str:
    """The Slack/Teams message: it leaves for a third party, so it is scrubbed as a whole, whatever it quotes."""
    lines = [f":red_circle: Dagster job `{summary['job']}` failed (run `{summary['run_id']}`)"]
    lines += [
        f"- `{step['step']}`: {scrub(step['error']).splitlines()[0] if step['error'] else ''}"
        for step in summary["steps"]
    ]
    return scrub("\n".join(lines))


def post_webhooks(text: str, *, client: httpx.Client | None = None) -> dict[str, str]:
    """Post `text` to each configured webhook; the outcome per channel. The URL is a secret: never logged."""
    outcome: dict[str, str] = {}
    http = client or httpx.Client(timeout=10.0)
    try:
        for channel, variable in WEBHOOK_VARIABLES.items():
            # Stripped: a URL from a secret file ends in a newline; registered: an error must never quote it.
            url = (os.environ.get(variable) or "").strip()
            if not url:
                continue
            register(url)
            try:
                response = http.post(url, json={"text": text})
                response.raise_for_status()
                outcome[channel] = "sent"
            except httpx.HTTPStatusError as exc:
                outcome[channel] = f"failed: HTTP {exc.response.status_code}"
            except httpx.HTTPError as exc:  # the message may contain the URL: report only the type
                outcome[channel] = f"failed: {type(exc).__name__}"
            if outcome[channel] != "sent":
                logger.warning("alert webhook %s (%s) %s", channel, variable, outcome[channel])
    finally:
        if client is None:
            http.close()
    return outcome


@dg.run_failure_sensor(
    name="run_failure_alert",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Logs a structured JSON line for every failed run and posts it to Slack/Teams when "
    "PPM_ALERT_SLACK_WEBHOOK_URL / PPM_ALERT_TEAMS_WEBHOOK_URL is set.",
)
def run_failure_alert(context: dg.RunFailureSensorContext) -> None:
    summary = failure_summary(context)
    line = json.dumps(summary, sort_keys=True, default=str)
    logger.error(line)
    context.log.error(line)
    sent = post_webhooks(alert_text(summary))
    if sent:
        context.log.info(f"alert webhooks: {json.dumps(sent, sort_keys=True)}")
