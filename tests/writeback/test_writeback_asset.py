"""The write-back asset and job end to end on the sandbox: pending drafts after a full materialization, the
Launchpad form (validated before any request), ledger = run metadata = the sandbox's pages, the next sync's
silver `actions` row, and two concurrent runs for one item making one page."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from ppm_assets.definitions import defs as product_defs
from ppm_assets.tables import ADVISOR_RECOMMENDATIONS, NOTION_WRITEBACKS
from ppm_cli.materialize import materialize_all
from ppm_resources.lakehouse import LocalLakehouse
from ppm_resources.notion.resource import NotionResource
from ppm_sandbox import SandboxServer
from ppm_sensors.writeback.jobs import create_notion_action_job, writeback_config
from tests.azure.conftest import azure_resource_for, start_azure_sandbox
from tests.conftest import sandbox_variables
from tests.writeback.conftest import pages_with

PPM = str(Path(sys.executable).parent / "ppm")


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    server = start_azure_sandbox(quota=1000, quota_window_s=1.0)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def world(server: SandboxServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Everything materialized once (the write-back sends the pending drafts as part of it)."""
    base: Path = tmp_path_factory.mktemp("writeback_world")
    lakehouse = LocalLakehouse(root=str(base / "lakehouse"))
    notion = NotionResource(
        base_url=server.notion_url,
        token=f"secret_{uuid.uuid4().hex}",
        lookup_by_title=True,
        rate_limit_rps=500,
        rate_limit_burst=100,
        writeback_lock_dir=str(base / "locks"),
    )
    azure = azure_resource_for(server)
    defs = dg.Definitions(
        assets=product_defs.assets,
        asset_checks=product_defs.asset_checks,
        jobs=[create_notion_action_job],
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
        yield {"defs": defs, "instance": instance, "lakehouse": lakehouse, "notion": notion}


def _ledger(lakehouse: LocalLakehouse, where: str = "TRUE") -> list[dict[str, Any]]:
    return lakehouse.query(
        f"SELECT * FROM {NOTION_WRITEBACKS.name} WHERE {where} ORDER BY sent_at"
    ).to_pylist()


def _launch(world: dict[str, Any], **fields: Any) -> dg.ExecuteInProcessResult:
    job = world["defs"].resolve_job_def(create_notion_action_job.name)
    return job.execute_in_process(
        run_config=writeback_config(**fields), instance=world["instance"], raise_on_error=False
    )


def _materialization(result: dg.ExecuteInProcessResult) -> dict[str, Any]:
    [event] = result.get_asset_materialization_events()
    return {k: v.value for k, v in event.materialization.metadata.items()}


def _failure(result: dg.ExecuteInProcessResult) -> str:
    assert not result.success
    [failure] = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    return failure.step_failure_data.error.message  # type: ignore[union-attr]


def test_pending_drafts_became_one_page_each_and_the_ledger_says_so(
    server: SandboxServer, world: dict
) -> None:
    lakehouse: LocalLakehouse = world["lakehouse"]
    high = lakehouse.query(
        f"SELECT recommendation_id FROM {ADVISOR_RECOMMENDATIONS.name} WHERE impact = 'High'"
    ).to_pylist()
    assert high
    ledger = _ledger(lakehouse, "source = 'advisor'")
    assert {r["source_id"] for r in ledger} == {f"advisor:{r['recommendation_id']}" for r in high}
    assert {r["outcome"] for r in ledger} == {"created"}
    for row in ledger:
        [page] = pages_with(server, row["source_id"])
        assert page["id"] == row["page_id"]
        assert page["properties"]["Source"] == "Advisor" and page["properties"]["Priority"] == "High"
    linked = [r for r in ledger if r["project_page_id"]]
    assert linked and all(pages_with(server, r["source_id"])[0]["properties"]["Project"] == [r["project_page_id"]]
                          for r in linked)  # fmt: skip


def test_a_second_pending_run_sends_nothing(server: SandboxServer, world: dict) -> None:
    server.stats.reset()
    result = _launch(world)
    assert result.success
    meta = _materialization(result)
    assert (meta["actions_created"], meta["actions_existed"], meta["actions_failed"]) == (0, 0, 0)
    assert "POST /notion/v1/pages" not in server.stats.snapshot()["by_endpoint"]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"project_id": "PRJ-999"}, "project_id: no project 'PRJ-999'"),
        ({"project_id": "PRJ-1", "due_date": "31/12/2026"}, "due_date: '31/12/2026' is not a date"),
        ({"project_id": "PRJ-1", "due_date": "2026-02-30"}, "due_date: '2026-02-30' is not a date"),
        ({"source": "email"}, "source: 'email' is not one of dq, advisor, manual"),
        ({"source": "dq"}, "source_id: required for a dq Action"),
        ({"source_id": "advisor:x"}, "must start with 'manual:'"),
    ],
)
def test_a_bad_form_fails_before_any_request_with_a_clear_message(
    server: SandboxServer, world: dict, fields: dict[str, Any], message: str
) -> None:
    server.stats.reset()
    result = _launch(world, title="Call the vendor", **fields)
    assert message in _failure(result)
    assert server.stats.snapshot()["total_requests"] == 0


def test_an_unknown_assignee_fails_before_any_write(server: SandboxServer, world: dict) -> None:
    server.stats.reset()
    result = _launch(world, title="Call the vendor", project_id="PRJ-1", assignee="nobody@example.com")
    assert "assignee: 'nobody@example.com' is not a person of the Notion workspace" in _failure(result)
    assert set(server.stats.snapshot()["by_endpoint"]) == {"GET /notion/v1/users"}


def test_a_form_creates_one_page_once_and_the_next_sync_brings_it_to_silver(
    server: SandboxServer, world: dict
) -> None:
    lakehouse: LocalLakehouse = world["lakehouse"]
    person = server.notion.model.people[2]
    project = lakehouse.query("SELECT page_id FROM silver.projects WHERE project_code = 'PRJ-3'").to_pylist()[
        0
    ]
    fields = {"project_id": "prj-3", "title": "Renegotiate the licence", "assignee": person.name,
              "due_date": "2027-01-15", "priority": "Medium"}  # fmt: skip
    result = _launch(world, **fields)
    assert result.success, _failure(result)
    meta = _materialization(result)
    assert meta["actions_created"] == 1
    [row] = _ledger(lakehouse, f"run_id = '{result.run_id}'")
    assert (row["outcome"], row["page_id"], row["page_url"]) == (
        "created",
        meta["action_page_id"],
        meta["action_url"],
    )
    assert row["source_id"].startswith("manual:PRJ-3:") and row["requested_by"] == "manual"
    [page] = pages_with(server, row["source_id"])
    assert page["id"] == row["page_id"] and page["properties"]["Project"] == [project["page_id"]]
    assert page["properties"]["Assignee"] == [person.id]

    again = _launch(world, **fields)  # a second click on Launch: the same page
    assert _materialization(again)["actions_existed"] == 1
    assert len(pages_with(server, row["source_id"])) == 1

    synced = materialize_all(world["defs"], world["instance"], 'key:"bronze/notion_raw_pages"+ and group:notion',
                             partition="actions")  # fmt: skip
    assert synced.success, synced.errors
    [silver] = lakehouse.query(
        "SELECT * FROM silver.actions WHERE page_id = :id", params={"id": row["page_id"]}
    ).to_pylist()
    assert silver["source_id"] == row["source_id"] and silver["title"] == "Renegotiate the licence"
    assert silver["project_page_id"] == project["page_id"] and silver["assignee_id"] == person.id
    assert str(silver["due_date"]) == "2027-01-15" and silver["status"] == "Not started"


def test_two_concurrent_ppm_commands_for_one_item_make_one_page(
    server: SandboxServer, world: dict, tmp_path: Path
) -> None:
    """Two `ppm action` processes with instances of their own (so no Dagster pool orders them) race for one
    Action: the per-Source-ID lock makes the second find the first's page."""
    base = {
        **os.environ,
        **sandbox_variables(server),
        "PPM_LAKEHOUSE_DIR": world["lakehouse"].root,
        "NOTION_WRITEBACK_LOCK_DIR": world["notion"].writeback_lock_dir,
        "NOTION_RATE_LIMIT_RPS": "200",
    }
    args = [
        PPM,
        "action",
        "--project",
        "PRJ-4",
        "--title",
        "Close the stale purchase order",
        "--due",
        "2027-02-01",
    ]
    server.faults.set(latency_ms=100)  # both look up before either would have created without the lock
    try:
        processes = [
            subprocess.Popen(
                args,
                env={**base, "DAGSTER_HOME": str(tmp_path / f"home{i}")},
                text=True,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            )
            for i in range(2)
        ]
        outputs = [process.communicate(timeout=300)[0] for process in processes]
    finally:
        server.faults.set(latency_ms=0)
    assert [p.returncode for p in processes] == [0, 0], outputs
    # `ppm action` prints one line per result: "<outcome> <source id>  <page url or error>"
    results = [
        line.split()
        for out in outputs
        for line in out.splitlines()
        if line.startswith(("created", "existed"))
    ]
    assert sorted(r[0] for r in results) == ["created", "existed"], outputs
    [source_id] = {r[1] for r in results}
    [page] = pages_with(server, source_id)
    rows = _ledger(world["lakehouse"], f"source_id = '{source_id}'")
    assert sorted(r["outcome"] for r in rows) == ["created", "existed"] and {r["page_id"] for r in rows} == {
        page["id"]
    }


def test_a_form_run_under_api_version_2025(server: SandboxServer, world: dict) -> None:
    """The same job with Notion-Version 2025-09-03: the page goes to the Actions data source."""
    notion: NotionResource = world["notion"]
    defs = dg.Definitions(
        assets=world["defs"].assets,
        jobs=[create_notion_action_job],
        resources={
            **(world["defs"].resources or {}),
            "notion": NotionResource(
                base_url=notion.base_url,
                token=notion.token,
                lookup_by_title=True,
                rate_limit_rps=500,
                rate_limit_burst=100,
                writeback_lock_dir=notion.writeback_lock_dir,
                api_version="2025-09-03",
            ),
        },
    )
    job = defs.resolve_job_def(create_notion_action_job.name)
    result = job.execute_in_process(
        run_config=writeback_config(project_id="PRJ-5", title="Review the 2025 data source"),
        instance=world["instance"],
        raise_on_error=False,
    )
    assert result.success, _failure(result)
    [row] = _ledger(world["lakehouse"], f"run_id = '{result.run_id}'")
    assert row["api_version"] == "2025-09-03" and row["outcome"] == "created"
    [page] = pages_with(server, row["source_id"])
    assert page["id"] == row["page_id"]
