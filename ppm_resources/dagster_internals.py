"""The one adapter to Dagster's private modules (`dagster._...`): nothing else in the product imports them.

Private names can move in any Dagster release; keeping them here means an upgrade breaks one file, and each is
listed with why no public API does the job. It sits in `ppm_resources`, the lowest layer, because the control
room asset, the run-failure alert and the `ppm` command all need some of them.
"""

from __future__ import annotations

# `ppm materialize` plans runs over the asset graph; `Definitions.resolve_asset_graph()` is public but its
# return type is not exported.
from dagster._core.definitions.assets.graph.base_asset_graph import BaseAssetGraph

# `ppm reexecute` re-executes a failed run in process; re-execution needs a reconstructable job, which only
# this class builds from a module name.
from dagster._core.definitions.reconstruct import ReconstructableRepository

# The control room and the freshness benchmark read schedule and sensor states and their ticks from the
# instance; Dagster's public API runs schedules and sensors but has no type for their stored state.
from dagster._core.scheduler.instigation import (
    InstigatorState,
    InstigatorStatus,
    InstigatorTick,
    InstigatorType,
    TickStatus,
)

# Errors in the event log (step failures, tick errors) are this type; the root cause is its innermost `cause`.
from dagster._utils.error import SerializableErrorInfo

# The next tick of a schedule exactly as Dagster's scheduler computes it (cron dialect, time zones, DST).
from dagster._utils.schedules import cron_string_iterator

__all__ = [
    "BaseAssetGraph",
    "InstigatorState",
    "InstigatorStatus",
    "InstigatorTick",
    "InstigatorType",
    "ReconstructableRepository",
    "SerializableErrorInfo",
    "TickStatus",
    "cron_string_iterator",
]
