"""Rate limiting, latency, injected faults, cursor expiry, stats and the control plane."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest

from ppm_sandbox import SandboxServer


@pytest.fixture
def projects_url(clean_sandbox: SandboxServer) -> str:
    return f"/v1/databases/{clean_sandbox.notion.database('projects').id}"


def test_rate_limit_429_with_retry_after(
    clean_sandbox: SandboxServer, api: httpx.Client, projects_url: str
) -> None:
    clean_sandbox.faults.set(rate=1, burst=3)
    statuses = [api.get(projects_url) for _ in range(6)]
    assert [r.status_code for r in statuses[:3]] == [200, 200, 200]
    limited = [r for r in statuses if r.status_code == 429]
    assert len(limited) >= 2
    for response in limited:
        assert int(response.headers["retry-after"]) >= 1
        body = response.json()
        assert body["object"] == "error" and body["code"] == "rate_limited" and body["status"] == 429
    # buckets are per token: another integration is not limited
    other = api.get(projects_url, headers={"Authorization": "Bearer secret_another_integration"})
    assert other.status_code == 200
    stats = clean_sandbox.stats.snapshot()
    assert stats["rate_limited"] == len(limited)
    assert stats["by_status"]["429"] == len(limited)
    assert stats["total_requests"] == 7


def test_retry_after_override_and_refill(
    clean_sandbox: SandboxServer, api: httpx.Client, projects_url: str
) -> None:
    clean_sandbox.faults.set(rate=20, burst=1, retry_after_s=120)
    assert api.get(projects_url).status_code == 200
    limited = api.get(projects_url)
    assert limited.status_code == 429 and limited.headers["retry-after"] == "120"
    time.sleep(0.1)  # 20 req/s refills a token in 50 ms
    assert api.get(projects_url).status_code == 200


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (500, "internal_server_error"),
        (502, "bad_gateway"),
        (503, "service_unavailable"),
        (504, "gateway_timeout"),
    ],
)
def test_fail_next_status(
    clean_sandbox: SandboxServer, api: httpx.Client, projects_url: str, status: int, code: str
) -> None:
    clean_sandbox.faults.fail_next(2, status=status)
    first, second, third = (api.get(projects_url) for _ in range(3))
    for response in (first, second):
        assert response.status_code == status
        body = response.json()
        assert body["code"] == code and body["status"] == status and body["object"] == "error"
    assert third.status_code == 200
    assert clean_sandbox.stats.snapshot()["faults"] == {f"status_{status}": 2}


def test_fail_next_respects_path(clean_sandbox: SandboxServer, api: httpx.Client, projects_url: str) -> None:
    clean_sandbox.faults.fail_next(1, status=503, path="/query")
    assert api.get(projects_url).status_code == 200
    assert api.post(projects_url + "/query", json={"page_size": 1}).status_code == 503
    assert api.post(projects_url + "/query", json={"page_size": 1}).status_code == 200


def test_timeout_fault_outlasts_the_client(
    clean_sandbox: SandboxServer, api: httpx.Client, projects_url: str
) -> None:
    clean_sandbox.faults.set(timeout_s=5)
    clean_sandbox.faults.fail_next(1, kind="timeout")
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        api.get(projects_url, timeout=0.3)
    assert time.monotonic() - started < 2
    assert api.get(projects_url).status_code == 200


def test_timeout_fault_answers_504_when_the_client_waits(
    clean_sandbox: SandboxServer, api: httpx.Client, projects_url: str
) -> None:
    clean_sandbox.faults.set(timeout_s=0.2)
    clean_sandbox.faults.fail_next(1, kind="timeout")
    response = api.get(projects_url, timeout=5)
    assert response.status_code == 504 and response.json()["code"] == "gateway_timeout"


def test_connection_reset(clean_sandbox: SandboxServer, api: httpx.Client, projects_url: str) -> None:
    clean_sandbox.faults.fail_next(1, kind="reset")
    with pytest.raises(httpx.TransportError):
        api.get(projects_url)
    assert api.get(projects_url).status_code == 200
    assert clean_sandbox.stats.snapshot()["faults"] == {"reset": 1}


def test_malformed_body(clean_sandbox: SandboxServer, api: httpx.Client, projects_url: str) -> None:
    clean_sandbox.faults.fail_next(1, kind="malformed")
    response = api.post(projects_url + "/query", json={"page_size": 5})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)
    assert api.post(projects_url + "/query", json={"page_size": 5}).json()["object"] == "list"


def test_error_rate_is_seeded(clean_sandbox: SandboxServer, api: httpx.Client, projects_url: str) -> None:
    def run() -> list[int]:
        clean_sandbox.faults.set(error_rate=0.5, error_statuses=[502, 503], seed=7)
        return [api.get(projects_url).status_code for _ in range(20)]

    first = run()
    clean_sandbox.faults.reset()
    assert run() == first
    assert set(first) == {200, 502, 503}


def test_latency(clean_sandbox: SandboxServer, api: httpx.Client, projects_url: str) -> None:
    clean_sandbox.faults.set(latency_ms=150, jitter_ms=20)
    started = time.monotonic()
    assert api.get(projects_url).status_code == 200
    assert time.monotonic() - started >= 0.15


def test_faults_control_endpoint(
    clean_sandbox: SandboxServer, control: httpx.Client, api: httpx.Client, projects_url: str
) -> None:
    spec = {
        "rate": 30,
        "burst": 10,
        "latency_ms": 0,
        "fail_next": [{"status": 503, "count": 2}, {"kind": "malformed"}],
        "error_rate": 0,
    }
    response = control.post("/faults", json=spec)
    assert response.status_code == 200, response.text
    notion = response.json()["notion"]
    assert notion["rate"] == 30 and notion["burst"] == 10
    assert notion["fail_next"] == [
        {"kind": "status", "status": 503, "count": 2, "path": None},
        {"kind": "malformed", "status": 503, "count": 1, "path": None},
    ]
    assert [api.get(projects_url).status_code for _ in range(2)] == [503, 503]
    assert control.get("/notion/faults").json()["notion"]["fail_next"][0]["kind"] == "malformed"
    assert control.post("/faults", json={"rate": "unlimited"}).json()["notion"]["rate"] == "unlimited"
    assert control.post("/faults", json={"bogus": 1}).status_code == 400
    assert control.post("/faults", json={"error_rate": 2}).status_code == 400
    assert control.get("/nope/faults").status_code == 404
    reset = control.delete("/faults").json()["notion"]
    assert reset["rate"] == "unlimited" and reset["fail_next"] == []


def test_stats_endpoint_counts_and_resets(
    clean_sandbox: SandboxServer, control: httpx.Client, api: httpx.Client, projects_url: str
) -> None:
    api.get(projects_url)
    api.post(projects_url + "/query", json={"page_size": 1})
    api.post(projects_url + "/query", json={"page_size": 1})
    api.get("/v1/pages/not-a-uuid")
    stats = control.get("/stats").json()
    assert stats["total_requests"] == 4
    assert stats["by_endpoint"] == {
        "GET /notion/v1/databases/{id}": 1,
        "POST /notion/v1/databases/{id}/query": 2,
        "GET /notion/v1/pages/not-a-uuid": 1,
    }
    assert stats["by_status"] == {"200": 3, "400": 1}
    assert stats["rate_limited"] == 0
    assert control.post("/stats/reset").json()["total_requests"] == 0
    assert clean_sandbox.stats.snapshot()["by_endpoint"] == {}


def test_cursor_expiry_fault_switch(
    clean_sandbox: SandboxServer, control: httpx.Client, api: httpx.Client, projects_url: str
) -> None:
    first = api.post(projects_url + "/query", json={"page_size": 10}).json()
    cursor = first["next_cursor"]
    assert control.post("/faults", json={"cursor_expire_next": 2}).json()["notion"]["cursor_expire_next"] == 2
    for _ in range(2):
        response = api.post(projects_url + "/query", json={"page_size": 10, "start_cursor": cursor})
        assert response.status_code == 400
        body = response.json()
        assert body["code"] == "validation_error"
        assert body["message"].startswith("The start_cursor provided is invalid: ")
    page2 = api.post(projects_url + "/query", json={"page_size": 10, "start_cursor": cursor})
    assert page2.status_code == 200
    assert not {p["id"] for p in page2.json()["results"]} & {p["id"] for p in first["results"]}
    clean_sandbox.notion.cursors.expire_next(1)
    assert api.post(projects_url + "/query", json={"start_cursor": cursor}).status_code == 400


def test_cursor_ttl_and_expire_all(
    clean_sandbox: SandboxServer, api: httpx.Client, projects_url: str
) -> None:
    clean_sandbox.clock.freeze()
    clean_sandbox.notion.cursors.ttl_s = 60
    cursor = api.post(projects_url + "/query", json={"page_size": 5}).json()["next_cursor"]
    clean_sandbox.clock.advance(59)
    assert api.post(projects_url + "/query", json={"page_size": 5, "start_cursor": cursor}).status_code == 200
    clean_sandbox.clock.advance(2)
    expired = api.post(projects_url + "/query", json={"page_size": 5, "start_cursor": cursor})
    assert expired.status_code == 400 and "start_cursor provided is invalid" in expired.json()["message"]
    fresh = api.post(projects_url + "/query", json={"page_size": 5}).json()["next_cursor"]
    clean_sandbox.notion.cursors.expire_all()
    assert api.post(projects_url + "/query", json={"start_cursor": fresh}).status_code == 400


@pytest.mark.parametrize("mangle", ["tamper", "other_query", "garbage"])
def test_foreign_or_tampered_cursors(
    clean_sandbox: SandboxServer, api: httpx.Client, projects_url: str, mangle: str
) -> None:
    cursor = api.post(projects_url + "/query", json={"page_size": 5}).json()["next_cursor"]
    risks = f"/v1/databases/{clean_sandbox.notion.database('risks').id}/query"
    if mangle == "tamper":
        response = api.post(projects_url + "/query", json={"start_cursor": "x" + cursor[1:]})
    elif mangle == "other_query":
        response = api.post(risks, json={"start_cursor": cursor})
    else:
        response = api.post(projects_url + "/query", json={"start_cursor": "not-a-cursor"})
    assert response.status_code == 400 and response.json()["code"] == "validation_error"


def test_clock_endpoint(clean_sandbox: SandboxServer, control: httpx.Client) -> None:
    state = control.post("/clock", json={"set": "2026-11-21T10:42:37Z", "freeze": True}).json()
    assert state["frozen"] is True and state["now"].startswith("2026-11-21T10:42:37")
    state = control.post("/clock", json={"advance_seconds": 90}).json()
    assert state["now"].startswith("2026-11-21T10:44:07")
    assert control.post("/clock", json={"real": True}).json()["frozen"] is False


def test_control_plane_is_not_rate_limited(clean_sandbox: SandboxServer, control: httpx.Client) -> None:
    clean_sandbox.faults.set(rate=1, burst=1)
    assert all(control.get("/stats").status_code == 200 for _ in range(5))
    assert httpx.get(f"{clean_sandbox.url}/healthz").status_code == 200


def test_python_api_set_faults_matches_endpoint(clean_sandbox: SandboxServer) -> None:
    result: dict[str, Any] = clean_sandbox.set_faults(rate=30, burst=5, latency_ms=10, cursor_ttl_s=5)
    assert result["notion"]["rate"] == 30 and result["notion"]["cursor_ttl_s"] == 5
    assert clean_sandbox.faults.spec.latency_ms == 10
    clean_sandbox.reset()
    assert clean_sandbox.faults.spec.rate is None and clean_sandbox.notion.cursors.ttl_s == 900
