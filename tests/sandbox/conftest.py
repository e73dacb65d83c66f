"""Fixtures for the sandbox's own tests: HTTP clients bound to the session server."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from ppm_sandbox import SandboxServer

#: The annotations of plain text in every rich-text item Notion sends (written independently of the sandbox).
ANNOTATIONS = {
    "bold": False,
    "italic": False,
    "strikethrough": False,
    "underline": False,
    "code": False,
    "color": "default",
}

QueryAll = Callable[..., list[dict[str, Any]]]


@pytest.fixture
def api(sandbox: SandboxServer, notion_headers: dict[str, str]) -> Iterator[httpx.Client]:
    """Notion API client, version 2022-06-28."""
    with httpx.Client(base_url=sandbox.notion_url, headers=notion_headers, timeout=10) as client:
        yield client


@pytest.fixture
def api25(sandbox: SandboxServer, notion_headers_2025: dict[str, str]) -> Iterator[httpx.Client]:
    """Notion API client, version 2025-09-03."""
    with httpx.Client(base_url=sandbox.notion_url, headers=notion_headers_2025, timeout=10) as client:
        yield client


@pytest.fixture
def control(sandbox: SandboxServer) -> Iterator[httpx.Client]:
    """Client for the /_sandbox control plane."""
    with httpx.Client(base_url=f"{sandbox.url}/_sandbox", timeout=10) as client:
        yield client


@pytest.fixture
def db_id(sandbox: SandboxServer) -> Callable[[str], str]:
    return lambda ref: sandbox.notion.database(ref).id


@pytest.fixture
def query_all(api: httpx.Client) -> QueryAll:
    """Follow cursors to the end of a 2022-06-28 database query; returns every page."""

    def run(
        database_id: str, body: dict[str, Any] | None = None, *, client: httpx.Client | None = None
    ) -> list[dict[str, Any]]:
        http = client or api
        body = dict(body or {})
        pages: list[dict[str, Any]] = []
        while True:
            response = http.post(f"/v1/databases/{database_id}/query", json=body)
            assert response.status_code == 200, response.text
            data = response.json()
            pages += data["results"]
            if not data["has_more"]:
                assert data["next_cursor"] is None
                return pages
            body["start_cursor"] = data["next_cursor"]

    return run


@pytest.fixture
def clean(ws):  # -> Workspace: the module's Databricks emulator (its `ws` fixture), reset before and after
    ws.reset()
    yield ws
    ws.reset()
