"""The Azure assets end to end on the sandbox: discovery, one run per subscription, silver links, gold totals,
a 403 subscription failing alone and its retry, and the discovery sensor adding and removing partitions."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import dagster as dg
import pytest

from ppm_assets.definitions import defs as product_defs
from ppm_assets.partitions import azure_subscriptions
from ppm_assets.tables import (
    ADVISOR_RECOMMENDATIONS,
    ADVISOR_SUMMARY,
    AZURE_ADVISOR_RAW,
    AZURE_RESOURCES,
    AZURE_RESOURCES_RAW,
)
from ppm_cli.materialize import materialize_all
from ppm_cli.recovery import backfill_partitions, failed_and_missing_partitions
from ppm_resources.azure.resource import AzureResource
from ppm_resources.lakehouse import LocalLakehouse
from ppm_resources.notion.resource import NotionResource
from ppm_sandbox import SandboxServer
from ppm_sandbox.azure.service import AzureService
from ppm_sensors.azure.discovery import REMOVAL_GRACE, azure_subscription_discovery, plan_partitions

from .conftest import start_azure_sandbox

AzureFor = Callable[..., AzureResource]


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    server = start_azure_sandbox(quota=1000, quota_window_s=1.0)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def world(server: SandboxServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """One instance and lakehouse for the module's story, materialized once with everything."""
    import uuid

    from .conftest import azure_resource_for

    azure = azure_resource_for(server)
    base: Path = tmp_path_factory.mktemp("azure_world")
    lakehouse = LocalLakehouse(root=str(base / "lakehouse"))
    notion = NotionResource(
        base_url=server.notion_url,
        token=f"secret_{uuid.uuid4().hex}",
        lookup_by_title=True,
        rate_limit_rps=500,
        rate_limit_burst=100,
    )
    defs = dg.Definitions(
        assets=product_defs.assets,
        asset_checks=product_defs.asset_checks,
        resources={
            **(product_defs.resources or {}),
            "lakehouse": lakehouse,
            "notion": notion,
            "azure": azure,
        },
    )
    home = base / "dagster_home"
    home.mkdir()
    with dg.instance_for_test(temp_dir=str(home)) as instance:
        summary = materialize_all(defs, instance)
        assert summary.success, summary.errors
        yield {"defs": defs, "instance": instance, "lakehouse": lakehouse, "azure": azure, "summary": summary}


def store(server: SandboxServer):  # -> AzureStore
    return server.service("azure", AzureService).store


def test_every_subscription_is_a_partition_ingested_in_its_own_run(
    server: SandboxServer, world: dict
) -> None:
    instance: dg.DagsterInstance = world["instance"]
    subscriptions = {s.subscription_id for s in store(server).subscriptions()}
    assert set(instance.get_dynamic_partitions(azure_subscriptions.name)) == subscriptions
    runs = instance.get_runs(dg.RunsFilter(tags={"dagster/partition": sorted(subscriptions)[0]}))
    assert len(runs) == 1
    status = instance.get_status_by_partition(
        AZURE_ADVISOR_RAW.key, sorted(subscriptions), azure_subscriptions
    )
    assert set((status or {}).values()) == {dg.AssetPartitionStatus.MATERIALIZED}


def test_silver_inventory_equals_the_sandbox_and_links_through_resource_group_tags(
    server: SandboxServer, world: dict
) -> None:
    lakehouse: LocalLakehouse = world["lakehouse"]
    rows = lakehouse.query(f"SELECT * FROM {AZURE_RESOURCES.name}").to_pylist()
    assert {r["resource_id"] for r in rows} == {res.id.lower() for res in store(server).resources()}
    links = {r["project_link"] for r in rows}
    assert {"resource", "resource_group", None} <= links
    by_group = [r for r in rows if r["project_link"] == "resource_group"]
    assert by_group and all(r["resource_project_tag"] is None for r in by_group)
    assert all(r["project_code"] == r["resource_group_project_tag"] for r in by_group)
    orphans = [r for r in rows if r["project_code"] and not r["project_page_id"]]
    assert orphans and all("unknown_project" in r["dq_flags"] for r in orphans)


def test_gold_totals_equal_the_silver_savings_in_the_reporting_currency(world: dict) -> None:
    lakehouse: LocalLakehouse = world["lakehouse"]
    silver = lakehouse.query(f"SELECT * FROM {ADVISOR_RECOMMENDATIONS.name}").to_pylist()
    gold = lakehouse.query(f"SELECT * FROM {ADVISOR_SUMMARY.name}").to_pylist()
    assert sum(r["recommendations"] for r in gold) == len(silver)
    monthly = sum((r["monthly_savings_reporting"] or Decimal(0)) for r in silver)
    assert sum(r["monthly_savings"] for r in gold) == monthly
    assert all(isinstance(r["monthly_savings"], Decimal) for r in gold)
    assert any(r["project_code"] is None for r in gold)  # unlinked recommendations are kept as their own rows


def test_high_impact_recommendations_become_action_drafts(world: dict) -> None:
    from ppm_resources.writeback.drafts import advisor_action_drafts, high_impact_sql

    rows = world["lakehouse"].query(high_impact_sql(ADVISOR_RECOMMENDATIONS.name)).to_pylist()
    drafts = advisor_action_drafts(rows, asset=ADVISOR_RECOMMENDATIONS.path)
    assert rows and len(drafts) == len(rows)
    assert all(source.startswith("advisor:/subscriptions/") for source in drafts)


def test_an_unreadable_subscription_fails_alone_and_its_retry_succeeds(
    server: SandboxServer, world: dict
) -> None:
    defs: dg.Definitions = world["defs"]
    instance: dg.DagsterInstance = world["instance"]
    subscriptions = sorted(s.subscription_id for s in store(server).subscriptions())
    denied = subscriptions[1]
    # Listed in AZURE_SUBSCRIPTION_IDS: a subscription whose role was revoked stays a partition and fails (found
    # by Resource Graph discovery, it would simply no longer be listed).
    listed = world["azure"].model_copy(update={"subscription_ids": subscriptions})
    defs = dg.Definitions(
        assets=defs.assets,
        asset_checks=defs.asset_checks,
        resources={**(defs.resources or {}), "azure": listed},
    )
    store(server).deny_subscription(denied)
    try:
        summary = materialize_all(defs, instance, "group:azure")
    finally:
        store(server).allow_subscription(denied)
    assert not summary.success
    failures = [e for e in summary.errors if denied in e]
    assert failures and all("Reader" in e for e in failures)
    assert not [e for e in summary.errors if denied not in e]
    graph = defs.resolve_asset_graph()
    for key in (AZURE_RESOURCES_RAW.key, AZURE_ADVISOR_RAW.key):
        assert failed_and_missing_partitions(instance, graph, key) == [denied]
        retry = backfill_partitions(defs, instance, key, [denied])
        assert retry.success, retry.errors
        assert failed_and_missing_partitions(instance, graph, key) == []


def test_the_discovery_sensor_adds_and_removes_subscriptions(server: SandboxServer, world: dict) -> None:
    instance: dg.DagsterInstance = world["instance"]
    azure: AzureResource = world["azure"]
    added = store(server).add_subscription("ppm-new")
    gone = sorted(s.subscription_id for s in store(server).subscriptions())[0]
    store(server).remove_subscription(gone)
    try:
        with dg.build_sensor_context(instance=instance, resources={"azure": azure}) as context:
            result = azure_subscription_discovery(context)
            cursor = context.cursor
        assert isinstance(result, dg.SensorResult)
        requests = result.dynamic_partitions_requests or []
        assert [r.partition_keys for r in requests if isinstance(r, dg.AddDynamicPartitionsRequest)] == [
            [added.subscription_id]
        ]
        # No longer listed by Resource Graph: kept (its runs fail, naming it) until the grace period has passed.
        assert not [r for r in requests if isinstance(r, dg.DeleteDynamicPartitionsRequest)]
        assert [(r.job_name, r.partition_key) for r in result.run_requests or []] == [
            ("azure_ingest", added.subscription_id)
        ]
        instance.add_dynamic_partitions(azure_subscriptions.name, [added.subscription_id])
        long_ago = (datetime.now(UTC) - REMOVAL_GRACE - timedelta(minutes=1)).isoformat()
        assert gone in json.loads(cursor or "{}")["missing_since"]
        later = json.dumps({"missing_since": {gone: long_ago}})
        with dg.build_sensor_context(instance=instance, resources={"azure": azure}, cursor=later) as context:
            result = azure_subscription_discovery(context)
        assert isinstance(result, dg.SensorResult)
        requests = result.dynamic_partitions_requests or []
        assert [r.partition_keys for r in requests if isinstance(r, dg.DeleteDynamicPartitionsRequest)] == [
            [gone]
        ]
        assert [(r.job_name, r.partition_key) for r in result.run_requests or []] == [
            ("azure_transform", None)
        ]
    finally:
        instance.delete_dynamic_partition(azure_subscriptions.name, added.subscription_id)
        store(server).reset()


def test_the_checks_find_the_planted_defects(world: dict) -> None:
    from ppm_checks.azure.rules import (
        RECOMMENDATION_RULES,
        RESOURCE_RULES,
        evaluate_cost_linked_share,
        evaluate_rule,
        source_key_sql,
    )

    lakehouse: LocalLakehouse = world["lakehouse"]
    results = {rule.name: evaluate_rule(lakehouse, rule) for rule in (*RECOMMENDATION_RULES, *RESOURCE_RULES)}
    assert results["category_accepted"].passed and results["impact_accepted"].passed
    for name in ("savings_valid", "project_tag_known", "resource_in_inventory"):
        assert not results[name].passed, name
    samples = " ".join(results["project_tag_known"].metadata["samples"].value)
    assert "PRJ-999" in samples
    share = evaluate_cost_linked_share(lakehouse)
    cost = lakehouse.query(
        f"SELECT count(*) AS n, count_if(project_page_id IS NOT NULL) AS linked FROM {ADVISOR_RECOMMENDATIONS.name} "
        "WHERE category = 'Cost'"
    ).to_pylist()[0]
    assert share.passed == (cost["linked"] >= 0.8 * cost["n"])
    row = lakehouse.query(
        source_key_sql(AZURE_ADVISOR_RAW.name, "recommendation", "recommendation_id")
    ).to_pylist()[0]
    assert row["failing_rows"] == 0 and row["total_rows"] == len(
        lakehouse.query(f"SELECT 1 FROM {ADVISOR_RECOMMENDATIONS.name}")
    )


def test_a_repeated_id_in_the_latest_snapshot_fails_the_blocking_source_check(tmp_path: Path) -> None:
    from ppm_assets.azure.bronze_rows import advisor_records, advisor_table, snapshot_marker
    from ppm_checks.azure.rules import source_key_sql

    lakehouse = LocalLakehouse(root=str(tmp_path / "lakehouse"))
    item = {"id": "/subscriptions/s/providers/Microsoft.Advisor/recommendations/a", "properties": {}}
    old, new = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 2, tzinfo=UTC)
    lakehouse.append(
        AZURE_ADVISOR_RAW.name,
        advisor_table([snapshot_marker("s", old, "r1"), *advisor_records([item], "s", old, "r1")]),
    )
    sql = source_key_sql(AZURE_ADVISOR_RAW.name, "recommendation", "recommendation_id")
    assert lakehouse.query(sql).to_pylist()[0]["failing_rows"] == 0
    shouted = {**item, "id": item["id"].upper()}  # ARM ids are case-insensitive: the same recommendation
    lakehouse.append(
        AZURE_ADVISOR_RAW.name,
        advisor_table(
            [
                snapshot_marker("s", new, "r2"),
                *advisor_records([item, shouted, {"properties": {}}], "s", new, "r2"),
            ]
        ),
    )
    row = lakehouse.query(sql).to_pylist()[0]
    assert (row["failing_rows"], row["total_rows"]) == (3, 3)
    assert "<null>" in row["samples"]


def test_the_advisor_sensor_requests_nothing_the_materialization_already_sent(world: dict) -> None:
    """`ppm materialize` ends with the write-back of the pending drafts: every High-impact recommendation has its
    Action, so the sensor requests no run, and says so."""
    from ppm_sensors.azure.advisor_actions import advisor_high_impact_to_actions

    lakehouse: LocalLakehouse = world["lakehouse"]
    table = ADVISOR_RECOMMENDATIONS.name
    high = lakehouse.query(f"SELECT count(*) AS n FROM {table} WHERE impact = 'High'").to_pylist()[0]["n"]
    assert high > 0
    resources = {"lakehouse": lakehouse}
    with dg.build_sensor_context(resources=resources, instance=world["instance"]) as context:
        first = advisor_high_impact_to_actions(context)
        cursor = context.cursor
    version = lakehouse.version(table)
    assert isinstance(first, dg.SkipReason)
    assert first.skip_message == (
        f"version {version}: no High-impact recommendation to send ({high} open: {high} have an Action, 0 being sent)"
    )
    with dg.build_sensor_context(resources=resources, instance=world["instance"], cursor=cursor) as context:
        unchanged = advisor_high_impact_to_actions(context)
    assert "unchanged" in str(unchanged.skip_message)


def test_discovery_that_finds_nothing_removes_nothing() -> None:
    changes = plan_partitions({"a", "b"}, set())
    assert changes.add == () and changes.remove == () and changes.refused
    assert plan_partitions({"a"}, {"b"}).add == ("b",)
    now = datetime(2026, 12, 3, tzinfo=UTC)
    waiting = plan_partitions({"a", "b"}, {"b"}, now=now, grace=REMOVAL_GRACE)
    assert waiting.remove == () and waiting.missing_since == {"a": now.isoformat()}
    later = plan_partitions(
        {"a", "b"}, {"b"}, missing_since=waiting.missing_since, now=now + REMOVAL_GRACE, grace=REMOVAL_GRACE
    )
    assert later.remove == ("a",) and later.missing_since == {}
