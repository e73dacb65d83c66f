"""Cross-cutting policies applied to every asset spec in one place (`definitions.py`), not on each asset.

Freshness (DESIGN §6) and automation conditions are rules: a predicate on the spec (its key prefix, its group)
and the policy for the specs it matches. First match wins; a policy set on the asset itself is kept.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import timedelta
from typing import TypeVar

import dagster as dg

P = TypeVar("P")
# A rule: its name, does it apply to this spec, and which policy then. First match wins.
SpecRule = tuple[str, Callable[[dg.AssetSpec], bool], P]


def _prefix(spec: dg.AssetSpec) -> str:
    return spec.key.path[0] if spec.key.path else ""


def _notion_silver(spec: dg.AssetSpec) -> bool:
    return _prefix(spec) == "silver" and spec.group_name == "notion"


FRESHNESS_RULES: list[SpecRule[dg.FreshnessPolicy]] = [
    (
        "Notion bronze (runbook P2)",
        lambda s: _prefix(s) == "bronze" and s.group_name == "notion",
        dg.FreshnessPolicy.time_window(fail_window=timedelta(minutes=30)),
    ),
    (
        "Notion silver",
        _notion_silver,
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
AUTOMATION_RULES: list[SpecRule[dg.AutomationCondition]] = [
    (
        "Notion silver: eager",
        _notion_silver,
        dg.AutomationCondition.eager(),
    ),
]


def _first_match(rules: list[SpecRule[P]], spec: dg.AssetSpec) -> P | None:
    return next((policy for _, applies, policy in rules if applies(spec)), None)


def freshness_policy_for(spec: dg.AssetSpec) -> dg.FreshnessPolicy | None:
    return _first_match(FRESHNESS_RULES, spec)


def automation_condition_for(spec: dg.AssetSpec) -> dg.AutomationCondition | None:
    return _first_match(AUTOMATION_RULES, spec)


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
