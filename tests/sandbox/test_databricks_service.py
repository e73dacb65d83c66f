"""The Databricks service in the sandbox: auth, warehouses, asynchronous statements, faults, control, reset."""

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import PermissionDenied, ResourceDoesNotExist
from databricks.sdk.service.sql import ExecuteStatementRequestOnWaitTimeout, State, StatementState

from ppm_sandbox import (
    DATABRICKS_TOKEN,
    DATABRICKS_WAREHOUSE_ID,
    DatabricksConfig,
    Sandbox,
    SandboxConfig,
    SandboxProcess,
    SandboxServer,
)
from tests.sandbox.databricks_conftest_helpers import Workspace, databricks_workspace, workspace_fixture

PENDING_S = 0.3


ws = workspace_fixture()


@pytest.fixture(scope="module")
def slow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    """Every statement stays PENDING at least `PENDING_S`."""
    with databricks_workspace(Path(tmp_path_factory.mktemp("slow")), min_pending_s=PENDING_S) as workspace:
        yield workspace


def poll(ws: Workspace, statement_id: str, timeout: float = 10.0) -> StatementState:
    deadline = time.monotonic() + timeout
    while True:
        state = ws.client.statement_execution.get_statement(statement_id).status.state
        if state not in (StatementState.PENDING, StatementState.RUNNING) or time.monotonic() > deadline:
            return state
        time.sleep(0.02)


def test_auth_on_every_api_route(ws: Workspace) -> None:
    host = ws.host
    missing = httpx.get(f"{host}/api/2.0/sql/warehouses")
    assert missing.status_code == 401 and missing.json()["error_code"] == "UNAUTHENTICATED"
    wrong = httpx.get(f"{host}/api/2.0/sql/warehouses", headers={"Authorization": "Bearer dapi-wrong"})
    assert wrong.status_code == 403
    assert wrong.json() == {"error_code": "PERMISSION_DENIED", "message": "Invalid access token."}
    other = httpx.get(
        f"{host}/api/2.0/sql/warehouses", headers={"Authorization": "Bearer dapi-sandbox-other"}
    )
    assert other.status_code == 200
    with pytest.raises(PermissionDenied):
        WorkspaceClient(host=host, token="dapi-wrong", auth_type="pat").warehouses.list()
    unknown = ws.http.get("/api/2.0/unknown")
    assert unknown.status_code == 404 and unknown.json()["error_code"] == "ENDPOINT_NOT_FOUND"
    assert httpx.get(f"{host}/.well-known/databricks-config").json()["host"] == host
    basic = httpx.get(f"{host}/api/2.0/sql/warehouses", auth=("user", DATABRICKS_TOKEN))
    assert basic.status_code == 403


def test_warehouses(clean: Workspace) -> None:
    warehouses = clean.client.warehouses
    [listed] = warehouses.list()
    assert listed.id == DATABRICKS_WAREHOUSE_ID and listed.state == State.RUNNING
    warehouse = warehouses.get(DATABRICKS_WAREHOUSE_ID)
    assert (warehouse.cluster_size, warehouse.auto_stop_mins) == ("2X-Small", 10)
    with pytest.raises(ResourceDoesNotExist):
        warehouses.get("nope")
    with pytest.raises(ResourceDoesNotExist):
        clean.client.statement_execution.execute_statement(statement="SELECT 1", warehouse_id="nope")
    warehouses.stop(DATABRICKS_WAREHOUSE_ID)
    assert warehouses.get(DATABRICKS_WAREHOUSE_ID).state == State.STOPPED
    warehouses.start(DATABRICKS_WAREHOUSE_ID)
    assert warehouses.get(DATABRICKS_WAREHOUSE_ID).state == State.RUNNING


def test_statements_stay_pending_then_succeed(slow: Workspace) -> None:
    started = time.monotonic()
    response = slow.execute("SELECT 1 AS one", wait_timeout="0s")
    assert response.status.state == StatementState.PENDING and response.manifest is None
    assert slow.client.statement_execution.get_statement(response.statement_id).status.state in (
        StatementState.PENDING,
        StatementState.RUNNING,
    )
    assert poll(slow, response.statement_id) == StatementState.SUCCEEDED
    assert time.monotonic() - started >= PENDING_S
    assert slow.client.statement_execution.get_statement(response.statement_id).result.data_array == [["1"]]
    # With a wait_timeout the POST itself waits for the result.
    assert slow.execute("SELECT 2 AS two", wait_timeout="5s").result.data_array == [["2"]]
    record = next(r for r in slow.statements() if r["id"] == response.statement_id)
    assert record["state"] == "SUCCEEDED" and record["duration_ms"] >= PENDING_S * 1000


def test_pending_statements_can_be_canceled(slow: Workspace) -> None:
    response = slow.execute("SELECT 1 AS one", wait_timeout="0s")
    slow.client.statement_execution.cancel_execution(response.statement_id)
    assert poll(slow, response.statement_id) == StatementState.CANCELED
    body = slow.http.get(f"/api/2.0/sql/statements/{response.statement_id}").json()
    assert body == {"statement_id": response.statement_id, "status": {"state": "CANCELED"}}
    chunk = slow.http.get(f"/api/2.0/sql/statements/{response.statement_id}/result/chunks/0")
    assert chunk.status_code == 400 and chunk.json()["error_code"] == "INVALID_STATE"


def test_a_stopped_warehouse_keeps_statements_pending(clean: Workspace) -> None:
    assert clean.control.post("/faults", json={"warehouse_state": "STOPPED"}).status_code == 200
    assert clean.client.warehouses.get(DATABRICKS_WAREHOUSE_ID).state == State.STOPPED
    response = clean.execute("SELECT 1 AS one", wait_timeout="0s")
    time.sleep(0.2)
    assert clean.client.statement_execution.get_statement(response.statement_id).status.state == (
        StatementState.PENDING
    )
    clean.client.warehouses.start(DATABRICKS_WAREHOUSE_ID)
    assert poll(clean, response.statement_id) == StatementState.SUCCEEDED


def test_on_wait_timeout_cancel_cancels_a_statement_still_pending(clean: Workspace) -> None:
    clean.control.post("/faults", json={"warehouse_state": "STOPPED"})
    started = time.monotonic()
    response = clean.execute(
        "SELECT 1 AS one", wait_timeout="5s", on_wait_timeout=ExecuteStatementRequestOnWaitTimeout.CANCEL
    )
    assert response.status.state == StatementState.CANCELED
    assert 5 <= time.monotonic() - started < 8


def test_after_execute_status_runs_the_statement_then_loses_the_answer(clean: Workspace) -> None:
    clean.ok("CREATE SCHEMA main.s")
    clean.ok("CREATE TABLE main.s.t AS SELECT 1 AS id")
    faults = {"after_execute_status": {"status": 503, "count": 1, "match": "insert into"}}
    assert (
        clean.control.post("/faults", json=faults).json()["databricks"]["after_execute_status"][0]["count"]
        == 1
    )
    response = clean.post({"statement": "INSERT INTO main.s.t VALUES (2)"})
    assert response.status_code == 503
    assert response.json()["error_code"] == "TEMPORARILY_UNAVAILABLE"
    assert clean.rows("SELECT count(*) FROM main.s.t") == [["2"]]
    inserts = [r for r in clean.statements() if r["statement"].startswith("INSERT")]
    assert [r["state"] for r in inserts] == ["SUCCEEDED"]
    # The SDK retries a 503: the statement runs twice, which is what an idempotent client must survive.
    clean.control.post("/faults", json=faults)
    clean.ok("INSERT INTO main.s.t VALUES (3)")
    assert clean.rows("SELECT id FROM main.s.t ORDER BY id") == [["1"], ["2"], ["3"], ["3"]]


def test_fail_statements(clean: Workspace) -> None:
    rule = {
        "match": "SELECT 42",
        "count": 2,
        "error_code": "INTERNAL_ERROR",
        "message": "[INTERNAL_ERROR] boom",
    }
    clean.control.post("/faults", json={"fail_statements": [rule]})
    assert clean.failure("select 42 AS answer") == "[INTERNAL_ERROR] boom"
    response = clean.execute("SELECT 42 AS answer")
    assert response.status.error.error_code.value == "INTERNAL_ERROR"
    assert clean.rows("SELECT 42 AS answer") == [["42"]]
    assert clean.rows("SELECT 1 AS other") == [["1"]]
    assert clean.control.get("/faults").json()["databricks"]["fail_statements"] == []


def test_gate_faults_speak_databricks(clean: Workspace) -> None:
    controller = clean.server.fault_controller("databricks")
    assert controller.spec.rate is None  # no token bucket by default
    controller.fail_next(1, status=503, method="POST", path="/api/2.0/sql/statements")
    response = clean.post({"statement": "SELECT 1"})
    assert response.status_code == 503
    assert response.json()["error_code"] == "TEMPORARILY_UNAVAILABLE"
    assert clean.statements() == []  # never reached the service
    controller.fail_next(1, status=429, path="/api/2.0/sql/warehouses")
    throttled = clean.http.get("/api/2.0/sql/warehouses")
    assert throttled.status_code == 429 and throttled.headers["retry-after"] == "1"
    assert throttled.json()["error_code"] == "REQUEST_LIMIT_EXCEEDED"


def test_control_lists_statements_and_reset_drops_everything(clean: Workspace) -> None:
    clean.ok("CREATE SCHEMA main.s")
    clean.ok("CREATE TABLE main.s.t AS SELECT :x AS id", parameters=[("x", "1", "INT")])
    clean.failure("SELECT * FROM main.s.missing")
    records = clean.statements()
    assert [r["statement"] for r in records] == [
        "CREATE SCHEMA main.s",
        "CREATE TABLE main.s.t AS SELECT :x AS id",
        "SELECT * FROM main.s.missing",
    ]
    assert [r["state"] for r in records] == ["SUCCEEDED", "SUCCEEDED", "FAILED"]
    assert records[1]["parameters"] == [{"name": "x", "value": "1", "type": "INT"}]
    assert records[2]["error"]["message"].startswith("[TABLE_OR_VIEW_NOT_FOUND]")
    assert records[0]["submitted_at"].endswith("Z") and records[0]["duration_ms"] >= 0
    described = clean.control.get("/describe").json()
    assert described["warehouse_id"] == DATABRICKS_WAREHOUSE_ID and described["catalogs"] == ["main"]
    clean.reset()
    assert clean.statements() == []
    assert clean.failure("SELECT * FROM main.s.t").startswith("[TABLE_OR_VIEW_NOT_FOUND]")
    assert clean.rows("SHOW SCHEMAS IN main") == []


def test_without_an_engine_every_statement_says_how_to_give_one(tmp_path: Path) -> None:
    headers = {"Authorization": f"Bearer {DATABRICKS_TOKEN}"}
    body = {"statement": "SELECT 1", "warehouse_id": DATABRICKS_WAREHOUSE_ID}
    config = SandboxConfig(services={"databricks": DatabricksConfig(storage_dir=str(tmp_path))})
    with SandboxServer(config) as server:
        url = f"{server.service_url('databricks')}/api/2.0/sql/statements"
        response = httpx.post(url, json=body, headers=headers)
    assert response.status_code == 200
    status = response.json()["status"]
    assert status["state"] == "FAILED"
    assert "started without a SQL engine" in status["error"]["message"]
    assert "--databricks-engine" in status["error"]["message"]


def test_engines_can_be_named_by_module_and_attribute(tmp_path: Path) -> None:
    engine = "ppm_resources.lakehouse.local:LocalLakehouse"
    config = SandboxConfig(
        services={"databricks": DatabricksConfig(engine=engine, storage_dir=str(tmp_path))}
    )
    assert Sandbox(config).service("databricks").describe()["engine"] == engine
    for bad in ("ppm_resources.lakehouse.local:Nope", "no_such_module:x", "no-colon"):
        with pytest.raises(ValueError, match="databricks engine"):
            Sandbox(SandboxConfig(services={"databricks": DatabricksConfig(engine=bad)}))


def test_serve_takes_an_engine_and_announces_the_workspace(tmp_path: Path) -> None:
    args = [
        "--databricks-engine",
        "ppm_resources.lakehouse.local:LocalLakehouse",
        "--databricks-dir",
        str(tmp_path),
        "--databricks-volume",
        "main.raw.landing",
    ]
    with SandboxProcess(rate=None, counts={"budget_lines": 10}, extra_args=args) as proc:
        info = proc.info["databricks"]
        assert info["url"] == proc.service_url("databricks") == f"{proc.url}/databricks"
        assert (info["token"], info["warehouse_id"], info["catalogs"]) == (
            DATABRICKS_TOKEN,
            DATABRICKS_WAREHOUSE_ID,
            ["main"],
        )
        assert info["engine"] == "ppm_resources.lakehouse.local:LocalLakehouse"
        client = WorkspaceClient(host=info["url"], token=info["token"], auth_type="pat")
        response = client.statement_execution.execute_statement(
            statement="SHOW SCHEMAS IN main", warehouse_id=info["warehouse_id"]
        )
        assert response.result.data_array == [["raw"]]
    assert (tmp_path / "_volumes/main/raw/landing").is_dir()
