"""Root-cause error messages of failed runs, read from the Dagster event log (alerts and the control room)."""

from __future__ import annotations

import dagster as dg

from ppm_resources.dagster_internals import SerializableErrorInfo
from ppm_resources.secrets import scrub

MAX_ERROR_CHARS = 500


def short_message(text: str | None) -> str:
    """An error message fit to leave the process: secrets scrubbed, then cut to MAX_ERROR_CHARS.

    Scrubbed before it is cut, so that a cut never leaves half a secret that the scrubber cannot recognize.
    """
    return scrub(text or "").strip()[:MAX_ERROR_CHARS]


def root_cause_message(error: SerializableErrorInfo | None) -> str:
    """The innermost cause's message: Dagster wraps the user's exception in its own."""
    while error is not None and error.cause is not None:
        error = error.cause
    return short_message(error.message if error else "")


def step_errors(instance: dg.DagsterInstance, run_id: str) -> dict[str, str]:
    """{step key: root-cause message} for every failed step of a run."""
    errors: dict[str, str] = {}
    for record in instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_FAILURE):
        event = record.dagster_event
        if event is None or event.step_key is None:
            continue
        errors.setdefault(
            event.step_key, root_cause_message(event.step_failure_data.error) or short_message(record.message)
        )
    return errors


def run_error(instance: dg.DagsterInstance, run_id: str) -> str:
    """Why a run failed: its first failed step's root cause, else the run failure message."""
    steps = step_errors(instance, run_id)
    if steps:
        step, message = next(iter(steps.items()))
        return f"{step}: {message}"
    for record in instance.all_logs(run_id, of_type=dg.DagsterEventType.RUN_FAILURE):
        failure = record.dagster_event.job_failure_data if record.dagster_event else None
        message = root_cause_message(
            failure.error if failure else None
        )  # e.g. a resource that failed to load
        return message or short_message(record.message)
    return ""
