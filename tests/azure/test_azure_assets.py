"""The Azure assets end to end on the sandbox: discovery, one run per subscription, silver links, gold totals,
a 403 subscription failing alone and its retry, and the discovery sensor adding and removing partitions."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import dagster as dg
import pytest

from ppm_assets.definitions import defs as product_defs
from ppm_assets.partitions import azure_subscriptions
from ppm_assets.tables import ADVISOR_RECOMMENDATIONS, ADVISOR_SUMMARY, AZURE_ADVISOR_RAW, AZURE_RESOURCES
from ppm_cli.materialize import materialize_all
from ppm_cli.recovery import backfill_partitions, failed_and_missing_partitions
from ppm_resources.azure.resource import AzureResource
from ppm_resources.lakehouse import LocalLakehouse
from ppm_resources.notion.resource import NotionResource
from ppm_sandbox import SandboxServer
from ppm_sandbox.azure.service import AzureService
from ppm_sensors.azure.discovery import azure_subscription_discovery, plan_partitions

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

    from .conftest import MANAGEMENT_SCOPE, fresh_principal

    client_id, secret = fresh_principal()
    url = server.service_url("azure")
    azure = AzureResource(
        tenant_id=server.service("azure", AzureService).config.tenant_id,
        client_id=client_id,
        client_secret=secret,
        authority_url=url,
        arm_url=url,
        credential_scope=MANAGEMENT_SCOPE,
        ca_bundle=str(server.ca_cert),
    )
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
    from ppm_sensors.azure.advisor_actions import HIGH_IMPACT_SQL, advisor_action_drafts

    rows = world["lakehouse"].query(HIGH_IMPACT_SQL).to_pylist()
    drafts = advisor_action_drafts(rows)
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
    for key in (AZURE_ADVISOR_RAW.key,):
        assert failed_and_missing_partitions(instance, graph, key) == [denied]
    retry = backfill_partitions(defs, instance, AZURE_ADVISOR_RAW.key, [denied])
    assert retry.success, retry.errors
    assert failed_and_missing_partitions(instance, graph, AZURE_ADVISOR_RAW.key) == []


def test_the_discovery_sensor_adds_and_removes_subscriptions(server: SandboxServer, world: dict) -> None:
    instance: dg.DagsterInstance = world["instance"]
    azure: AzureResource = world["azure"]
    added = store(server).add_subscription("ppm-new")
    gone = sorted(s.subscription_id for s in store(server).subscriptions())[0]
    store(server).remove_subscription(gone)
    try:
        with dg.build_sensor_context(instance=instance, resources={"azure": azure}) as context:
            result = azure_subscription_discovery(context)
        assert isinstance(result, dg.SensorResult)
        requests = result.dynamic_partitions_requests or []
        assert [r.partition_keys for r in requests if isinstance(r, dg.AddDynamicPartitionsRequest)] == [
            [added.subscription_id]
        ]
        assert [r.partition_keys for r in requests if isinstance(r, dg.DeleteDynamicPartitionsRequest)] == [
            [gone]
        ]
        jobs = sorted((r.job_name, r.partition_key) for r in result.run_requests or [])
        assert jobs == [("azure_ingest", added.subscription_id), ("azure_transform", None)]
    finally:
        store(server).reset()


def test_discovery_that_finds_nothing_removes_nothing() -> None:
    changes = plan_partitions({"a", "b"}, set())
    assert changes.add == () and changes.remove == () and changes.refused
    assert plan_partitions({"a"}, {"b"}).add == ("b",)
