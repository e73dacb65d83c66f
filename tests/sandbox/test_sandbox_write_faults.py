"""Faults that lose the response of a write that happened (`when="after"`), method-scoped rules and
queued 429s, over real HTTP: what an idempotent Notion write-back (no idempotency key) must survive."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from ppm_sandbox import FailRule, FaultController, FaultSpec, SandboxServer
from ppm_sandbox.faults import FaultKind
from tests.conftest import reset_sandbox


@pytest.fixture(scope="module")
def write_sandbox(sandbox: SandboxServer) -> Iterator[SandboxServer]:
    """The session server; the workspace is regenerated once, after the module, so that the pages made
    here do not reach other tests (each test writes its own Source ID, so none is needed in between)."""
    yield sandbox
    reset_sandbox(sandbox)


@pytest.fixture(autouse=True)
def clean_faults(write_sandbox: SandboxServer) -> Iterator[None]:
    """Start-up faults, zeroed stats and the real clock around every test."""
    write_sandbox.reset()
    yield
    write_sandbox.reset()


@pytest.fixture
def actions_id(api: httpx.Client) -> str:
    """The Actions database's id, found as a client would: through search."""
    body = {"query": "Actions", "filter": {"property": "object", "value": "database"}}
    response = api.post("/v1/search", json=body)
    assert response.status_code == 200, response.text
    found = [r for r in response.json()["results"] if _title(r) == "Actions"]
    assert len(found) == 1, [_title(r) for r in response.json()["results"]]
    return found[0]["id"]


def _title(database: dict[str, Any]) -> str:
    return "".join(t["plain_text"] for t in database.get("title", []))


def _create(source_id: str, actions_id: str) -> dict[str, Any]:
    return {
        "parent": {"database_id": actions_id},
        "properties": {
            "Title": {"title": [{"text": {"content": "x"}}]},
            "Source ID": {"rich_text": [{"text": {"content": source_id}}]},
        },
    }


def _pages_with(api: httpx.Client, actions_id: str, source_id: str) -> list[dict[str, Any]]:
    body = {"filter": {"property": "Source ID", "rich_text": {"equals": source_id}}}
    response = api.post(f"/v1/databases/{actions_id}/query", json=body)
    assert response.status_code == 200, response.text
    return response.json()["results"]


@pytest.mark.parametrize(
    ("kind", "status", "stat"),
    [
        ("status", 502, "after_status_502"),
        ("status", 504, "after_status_504"),
        ("status", 500, "after_status_500"),
        ("reset", 503, "after_reset"),
        ("timeout", 504, "after_timeout"),
    ],
)
def test_after_fault_loses_the_response_but_keeps_the_write(
    write_sandbox: SandboxServer, api: httpx.Client, actions_id: str, kind: FaultKind, status: int, stat: str
) -> None:
    source_id = f"advisor:after-{kind}-{status}"
    faults = write_sandbox.faults
    faults.set(timeout_s=5)
    faults.fail_next(1, kind=kind, status=status, method="POST", path="/v1/pages", when="after")
    started = time.monotonic()
    if kind == "status":
        response = api.post("/v1/pages", json=_create(source_id, actions_id))
        assert response.status_code == status
        body = response.json()
        assert body["object"] == "error" and body["status"] == status
    elif kind == "reset":
        with pytest.raises(httpx.TransportError):
            api.post("/v1/pages", json=_create(source_id, actions_id))
    else:
        with pytest.raises(httpx.ReadTimeout):
            api.post("/v1/pages", json=_create(source_id, actions_id), timeout=0.5)
        assert time.monotonic() - started < 3
    assert len(_pages_with(api, actions_id, source_id)) == 1
    assert write_sandbox.stats.snapshot()["faults"] == {stat: 1}
    assert faults.spec.fail_next == ()


def test_after_timeout_answers_504_when_the_client_waits(
    write_sandbox: SandboxServer, api: httpx.Client, actions_id: str
) -> None:
    write_sandbox.faults.set(timeout_s=0.2)
    write_sandbox.faults.fail_next(1, kind="timeout", method="POST", path="/v1/pages", when="after")
    response = api.post("/v1/pages", json=_create("advisor:after-timeout-answered", actions_id), timeout=5)
    assert response.status_code == 504 and response.json()["code"] == "gateway_timeout"
    assert len(_pages_with(api, actions_id, "advisor:after-timeout-answered")) == 1


def test_before_conflict_writes_nothing(
    write_sandbox: SandboxServer, api: httpx.Client, actions_id: str
) -> None:
    write_sandbox.faults.fail_next(1, status=409, method="POST", path="/v1/pages")
    response = api.post("/v1/pages", json=_create("advisor:before-409", actions_id))
    assert response.status_code == 409
    body = response.json()
    assert body["object"] == "error" and body["status"] == 409 and body["code"] == "conflict_error"
    assert _pages_with(api, actions_id, "advisor:before-409") == []
    assert write_sandbox.stats.snapshot()["faults"] == {"status_409": 1}
    # the rule is spent: the retry is the only write
    assert api.post("/v1/pages", json=_create("advisor:before-409", actions_id)).status_code == 200
    assert len(_pages_with(api, actions_id, "advisor:before-409")) == 1


@pytest.mark.parametrize(("retry_after_s", "header"), [(None, "1"), (7, "7")])
def test_queued_429_sends_retry_after_and_writes_nothing(
    write_sandbox: SandboxServer, api: httpx.Client, actions_id: str, retry_after_s: int | None, header: str
) -> None:
    source_id = f"advisor:before-429-{header}"
    write_sandbox.faults.set(retry_after_s=retry_after_s)
    write_sandbox.faults.fail_next(1, status=429, method="POST", path="/v1/pages")
    response = api.post("/v1/pages", json=_create(source_id, actions_id))
    assert response.status_code == 429
    assert response.headers["retry-after"] == header
    assert response.json()["code"] == "rate_limited"
    assert _pages_with(api, actions_id, source_id) == []
    stats = write_sandbox.stats.snapshot()
    assert stats["faults"] == {"status_429": 1} and stats["rate_limited"] == 1


def test_after_429_sends_retry_after_and_keeps_the_write(
    write_sandbox: SandboxServer, api: httpx.Client, actions_id: str
) -> None:
    write_sandbox.faults.fail_next(1, status=429, method="POST", path="/v1/pages", when="after")
    response = api.post("/v1/pages", json=_create("advisor:after-429", actions_id))
    assert response.status_code == 429 and response.headers["retry-after"] == "1"
    assert response.json()["code"] == "rate_limited"
    assert len(_pages_with(api, actions_id, "advisor:after-429")) == 1
    assert write_sandbox.stats.snapshot()["faults"] == {"after_status_429": 1}


def test_method_rule_skips_other_methods(
    write_sandbox: SandboxServer, api: httpx.Client, actions_id: str
) -> None:
    created = api.post("/v1/pages", json=_create("advisor:method", actions_id))
    assert created.status_code == 200, created.text
    page_id = created.json()["id"]
    write_sandbox.faults.fail_next(1, status=503, method="post", path="/v1/pages")
    assert write_sandbox.faults.spec.fail_next[0].method == "POST"
    # `/v1/pages` is in `/v1/pages/{id}`, but neither the GET nor the PATCH is a POST
    assert api.get(f"/v1/pages/{page_id}").status_code == 200
    patch = {"properties": {"Title": {"title": [{"text": {"content": "y"}}]}}}
    assert api.patch(f"/v1/pages/{page_id}", json=patch).status_code == 200
    assert len(write_sandbox.faults.spec.fail_next) == 1
    assert api.post("/v1/pages", json=_create("advisor:method-2", actions_id)).status_code == 503
    assert write_sandbox.faults.spec.fail_next == ()


def test_admit_matches_method_and_path() -> None:
    faults = FaultController(FaultSpec.unlimited())
    faults.fail_next(1, status=502, method="POST", path="/v1/pages")
    assert faults.admit("k", "/notion/v1/pages/abc", "GET").fault is None
    assert faults.admit("k", "/notion/v1/pages").fault is None  # method unknown: a method rule does not fire
    assert faults.admit("k", "/notion/v1/databases/x/query", "POST").fault is None
    fault = faults.admit("k", "/notion/v1/pages", "post").fault
    assert fault is not None and fault.status == 502 and fault.method == "POST"


def test_json_round_trip() -> None:
    data = {
        "kind": "reset",
        "status": 503,
        "count": 2,
        "path": "/v1/pages",
        "method": "post",
        "when": "after",
    }
    rule = FailRule.from_json(data)
    assert rule == FailRule(kind="reset", count=2, path="/v1/pages", method="POST", when="after")
    assert rule.to_json() == {**data, "method": "POST"}
    assert FailRule.from_json(rule.to_json()) == rule
    # rules without a method or a moment keep their old JSON shape
    assert FailRule.from_json({"status": 502}).to_json() == {
        "kind": "status",
        "status": 502,
        "count": 1,
        "path": None,
    }


def test_control_route_round_trip(
    write_sandbox: SandboxServer, control: httpx.Client, api: httpx.Client, actions_id: str
) -> None:
    rule = {"status": 502, "method": "post", "path": "/v1/pages", "when": "after"}
    response = control.post("/notion/faults", json={"fail_next": [rule, {"status": 503}]})
    assert response.status_code == 200, response.text
    assert response.json()["notion"]["fail_next"] == [
        {"kind": "status", "status": 502, "count": 1, "path": "/v1/pages", "method": "POST", "when": "after"},
        {"kind": "status", "status": 503, "count": 1, "path": None},
    ]
    spec = write_sandbox.faults.spec
    assert spec.fail_next[0] == FailRule(status=502, path="/v1/pages", method="POST", when="after")
    assert write_sandbox.faults.spec.updated({"fail_next": spec.to_json()["fail_next"]}) == spec
    created = api.post("/v1/pages", json=_create("advisor:control", actions_id))
    assert created.status_code == 502 and created.json()["code"] == "bad_gateway"
    query = {"filter": {"property": "Source ID", "rich_text": {"equals": "advisor:control"}}}
    assert api.post(f"/v1/databases/{actions_id}/query", json=query).status_code == 503  # no method, no path
    assert len(_pages_with(api, actions_id, "advisor:control")) == 1
    assert control.get("/notion/faults").json()["notion"]["fail_next"] == []


def test_bad_when_is_rejected(write_sandbox: SandboxServer, control: httpx.Client) -> None:
    message = "fail_next when must be 'before' or 'after', got 'later'"
    with pytest.raises(ValueError, match=message):
        FailRule.from_json({"status": 502, "when": "later"})
    with pytest.raises(ValueError, match=message):
        write_sandbox.faults.fail_next(1, status=502, when="later")  # type: ignore[arg-type]
    response = control.post("/notion/faults", json={"fail_next": [{"status": 502, "when": "later"}]})
    assert response.status_code == 400 and response.json()["error"] == message
    unknown = control.post("/notion/faults", json={"fail_next": [{"status": 502, "moment": "after"}]})
    assert unknown.status_code == 400 and "unknown fail_next keys ['moment']" in unknown.json()["error"]
    assert control.post("/notion/faults", json={"fail_next": [{"method": ""}]}).status_code == 400
    assert write_sandbox.faults.spec.fail_next == ()
