"""Freshness policies of DESIGN §6, as (selection, policy) rules applied to asset specs."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import timedelta
from typing import TypeVar

import dagster as dg

# A rule: does it apply to this spec, and which policy then. First match wins.
SpecRule = tuple[str, Callable[[dg.AssetSpec], bool], dg.FreshnessPolicy]


def _prefix(spec: dg.AssetSpec) -> str:
    return spec.key.path[0] if spec.key.path else ""


FRESHNESS_RULES: list[SpecRule] = [
    (
        "Notion bronze (runbook P2)",
        lambda s: _prefix(s) == "bronze" and s.group_name == "notion",
        dg.FreshnessPolicy.time_window(fail_window=timedelta(minutes=30)),
    ),
    (
        "Notion silver",
        lambda s: _prefix(s) == "silver" and s.group_name == "notion",
        dg.FreshnessPolicy.time_window(fail_window=timedelta(minutes=45)),
    ),
    (
        "Azure",
        lambda s: s.group_name == "azure",
        dg.FreshnessPolicy.time_window(fail_window=timedelta(hours=26)),
    ),
    (
        "control room",
        lambda s: s.group_name == "control_room",
        dg.FreshnessPolicy.time_window(fail_window=timedelta(minutes=30)),
    ),
    (
        "hourly gold",  # the `gold_hourly` job and the `budget_vs_actual_hourly` schedule
        lambda s: _prefix(s) == "gold" and s.group_name in {"finance", "quality"},
        dg.FreshnessPolicy.time_window(fail_window=timedelta(hours=2)),
    ),
]


def freshness_policy_for(spec: dg.AssetSpec) -> dg.FreshnessPolicy | None:
    return next((policy for _, applies, policy in FRESHNESS_RULES if applies(spec)), None)


def with_freshness(spec: dg.AssetSpec) -> dg.AssetSpec:
    """`spec` with the DESIGN §6 policy (an explicitly set policy is kept)."""
    policy = freshness_policy_for(spec)
    if policy is None or spec.freshness_policy is not None:
        return spec
    return spec.replace_attributes(freshness_policy=policy)


T = TypeVar("T", dg.AssetsDefinition, dg.AssetSpec)


def apply_freshness(assets: Iterable[T]) -> Sequence[T]:
    """Every asset (definition or spec) with its DESIGN §6 freshness policy; others pass unchanged."""
    return [
        item
        if not isinstance(item, dg.AssetsDefinition | dg.AssetSpec)
        else dg.map_asset_specs(with_freshness, [item])[0]
        for item in assets
    ]
