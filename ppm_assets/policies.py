"""Cross-cutting policies applied to every asset spec in one place (`definitions.py`), not on each asset.

Freshness (DESIGN §6) and automation conditions are rules: a predicate on the spec (its key prefix, its group)
and the policy for the specs it matches. First match wins; a policy set on the asset itself is kept.
"""

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


#: The silver Notion tables are rebuilt whenever their own bronze partition changes (a sync run rebuilds them
#: anyway; this covers bronze-only runs such as a backfill from the UI).
AUTOMATION_RULES: list[tuple[str, Callable[[dg.AssetSpec], bool], dg.AutomationCondition]] = [
    (
        "Notion silver: eager",
        lambda s: _prefix(s) == "silver" and s.group_name == "notion",
        dg.AutomationCondition.eager(),
    ),
]


def freshness_policy_for(spec: dg.AssetSpec) -> dg.FreshnessPolicy | None:
    return next((policy for _, applies, policy in FRESHNESS_RULES if applies(spec)), None)


def automation_condition_for(spec: dg.AssetSpec) -> dg.AutomationCondition | None:
    return next((condition for _, applies, condition in AUTOMATION_RULES if applies(spec)), None)


def with_policies(spec: dg.AssetSpec) -> dg.AssetSpec:
    """`spec` with its freshness policy and automation condition (explicitly set ones are kept)."""
    policy = freshness_policy_for(spec)
    if policy is not None and spec.freshness_policy is None:
        spec = spec.replace_attributes(freshness_policy=policy)
    condition = automation_condition_for(spec)
    if condition is not None and spec.automation_condition is None:
        spec = spec.replace_attributes(automation_condition=condition)
    return spec


T = TypeVar("T", dg.AssetsDefinition, dg.AssetSpec)


def apply_policies(assets: Iterable[T]) -> Sequence[T]:
    """Every asset (definition or spec) with its policies; others pass unchanged."""
    return [
        item
        if not isinstance(item, dg.AssetsDefinition | dg.AssetSpec)
        else dg.map_asset_specs(with_policies, [item])[0]
        for item in assets
    ]
