"""Headless materialization of the whole graph (or a selection), recorded in the Dagster instance."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import dagster as dg

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MaterializeSummary:
    run_id: str
    success: bool
    assets: int
    checks_passed: int
    checks_failed: int
    seconds: float
    errors: tuple[str, ...] = ()


def materialize_all(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    selection: str | None = None,
    log_level: str = "INFO",
) -> MaterializeSummary:
    """Run every asset (and its checks) once in process; `selection` is a Dagster asset-selection string."""
    job = defs.resolve_implicit_global_asset_job_def()
    asset_selection = None
    if selection:
        asset_graph = defs.resolve_asset_graph()
        keys = dg.AssetSelection.from_string(selection).resolve(asset_graph)
        if not keys:
            raise ValueError(f"selection {selection!r} matches no asset")
        asset_selection = sorted(keys)
    started = time.monotonic()
    result = job.execute_in_process(
        instance=instance,
        asset_selection=asset_selection,
        raise_on_error=False,
        run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
    )
    checks = [
        event.asset_check_evaluation_data
        for event in result.all_events
        if event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION
    ]
    materialized = [e for e in result.all_events if e.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION]
    return MaterializeSummary(
        run_id=result.run_id,
        success=result.success,
        assets=len(materialized),
        checks_passed=sum(1 for c in checks if c.passed),
        checks_failed=sum(1 for c in checks if not c.passed),
        seconds=time.monotonic() - started,
        errors=tuple(
            f"{event.step_key}: {event.step_failure_data.error.message.strip()}"
            for event in result.all_events
            if event.event_type == dg.DagsterEventType.STEP_FAILURE and event.step_failure_data.error
        ),
    )
