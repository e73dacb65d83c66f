"""Every class of deliberate defect in the sandbox's demo workspace is found by the right check, with the
right count, and nothing else fails: sync the demo into a lakehouse, materialize silver with its checks.

Defect classes (ppm_sandbox/notion/generator.py) and the rule that must catch each:
    orphan_missing, orphan_trashed  -> project_page_id_not_orphan  (the trashed project is never in silver:
                                       queries do not return trashed pages)
    unknown_currency                -> currency_accepted_values    (GBP / XXX have no FX rates)
    negative_amount                 -> amount_not_negative / budget_total_not_negative
    blank_name                      -> name_present / title_present
"""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict

import dagster as dg
import pytest

from ppm_assets.finance.fx_rates import fx_rates
from ppm_assets.notion.silver_tables import notion_silver_assets
from ppm_assets.notion.sync import NotionBronzeSync
from ppm_checks import notion_checks, quality_checks
from ppm_checks.catalog import build_catalog
from ppm_checks.config import load_dq_rules
from ppm_checks.evaluate import evaluate_all
from ppm_checks.sql import rule_failures_sql
from ppm_resources.lakehouse import LocalLakehouse
from ppm_resources.notion.resource import NotionResource

from .conftest import MAPPING

CATALOG = build_catalog(MAPPING, load_dq_rules(MAPPING))


def rule_for(database: str, kind: str) -> str:
    if kind in ("orphan_missing", "orphan_trashed"):
        return "project_page_id_not_orphan"
    if kind == "unknown_currency":
        return "currency_accepted_values"
    if kind == "negative_amount":
        return "budget_total_not_negative" if database == "projects" else "amount_not_negative"
    assert kind == "blank_name", f"a new defect class {kind!r}: map it to its rule here"
    return "title_present" if database in ("risks", "actions") else "name_present"


def sync(sandbox, lakehouse: LocalLakehouse) -> None:
    resource = NotionResource(
        base_url=sandbox.notion_url,
        token=f"secret_dq_{uuid.uuid4().hex}",
        lookup_by_title=True,
        rate_limit_rps=500.0,
        rate_limit_burst=100,
    )

    async def run() -> None:
        async with resource.client() as client:
            ids = await resource.resolve_database_ids(client, MAPPING, MAPPING.names)
            await NotionBronzeSync(client, lakehouse, ids, run_id=uuid.uuid4().hex).run()

    asyncio.run(run())


@pytest.fixture(scope="module")
def demo(sandbox, tmp_path_factory):
    """The default demo workspace synced to bronze, silver and FX materialized with every silver check."""
    sandbox.reset()
    sandbox.notion.reset()
    lakehouse = LocalLakehouse(root=str(tmp_path_factory.mktemp("demo")))
    sync(sandbox, lakehouse)
    silver_checks = [
        c for c in quality_checks(MAPPING) if all(k.asset_key.path[0] == "silver" for k in c.check_keys)
    ]
    result = dg.materialize(
        [*notion_silver_assets(MAPPING), fx_rates, *silver_checks, *notion_checks(MAPPING)],
        resources={"lakehouse": lakehouse},
    )
    assert result.success
    return lakehouse, result, sandbox.notion.defects()


def test_each_defect_class_is_caught_by_its_rule_with_the_right_rows(demo):
    lakehouse, _, defects = demo
    expected: dict[tuple[str, str], set[str]] = defaultdict(set)
    by_kind: dict[str, int] = defaultdict(int)
    for defect in defects:
        expected[defect.database_key, rule_for(defect.database_key, defect.kind)].add(defect.page_id)
        by_kind[defect.kind] += 1
    assert dict(by_kind) == {  # generator.py's table: 43 defects over the demo's 2,068 pages
        "orphan_missing": 10, "orphan_trashed": 9, "unknown_currency": 7, "negative_amount": 7, "blank_name": 10,
    }  # fmt: skip
    found: dict[tuple[str, str], set[str]] = {}
    for rules in CATALOG.tables:
        for rule in rules.row_rules:
            rows = lakehouse.query(rule_failures_sql(rule)).column("page_id").to_pylist()
            if rows:
                found[rules.silver_table, rule.name] = set(rows)
    assert found == dict(expected)


def test_the_dagster_checks_report_the_same_counts_and_nothing_else_fails(demo):
    _, result, defects = demo
    expected: dict[tuple[str, str], int] = defaultdict(int)
    ids: dict[tuple[str, str], set[str]] = defaultdict(set)
    for defect in defects:
        key = (defect.database_key, rule_for(defect.database_key, defect.kind))
        expected[key] += 1
        ids[key].add(defect.page_id)
    evaluations = result.get_asset_check_evaluations()
    assert len(evaluations) == 5 * 2 + sum(len(t.row_rules) + 3 for t in CATALOG.tables)  # every check ran
    failed = {}
    for evaluation in evaluations:
        if not evaluation.passed:
            key = (evaluation.asset_key.path[1], evaluation.check_name)
            failed[key] = evaluation.metadata["failing_rows"].value
            assert evaluation.severity == dg.AssetCheckSeverity.WARN
            samples = evaluation.metadata["sample_keys"].value
            assert len(samples) == min(10, expected[key]) and set(samples) <= ids[key]
            assert evaluation.metadata["sample_urls"].value == [
                "https://www.notion.so/" + key.replace("-", "") for key in samples
            ]
    assert failed == dict(expected)


def test_the_demo_scores_above_the_threshold(demo):
    lakehouse, _, defects = demo
    score = evaluate_all(lakehouse, CATALOG).score
    # Every defect is on its own page; the trashed project is not synced (queries skip the trash).
    assert (score.live_rows, score.failing_rows) == (2068 - 1, len({d.page_id for d in defects}))
    assert score.pct == 97.92 and score.meets(95)
