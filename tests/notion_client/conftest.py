"""Fixtures for the Notion client tests: real HTTP against the `sandbox` emulator (tests/conftest.py).

Every test gets its own token, so the process-wide rate limiter and circuit breaker of one test
(keyed by the token's hash) never leak into another; the emulator's buckets are per token too.
Tests drive their own event loop with `asyncio.run` (pytest-asyncio is not a dependency).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from ppm_resources.notion import NotionClient
from ppm_sandbox import SandboxServer

#: Fast settings: no client-side pacing to speak of, tiny backoffs, short timeouts.
FAST: dict[str, Any] = {
    "rate_limit_rps": 1000.0,
    "rate_limit_burst": 100,
    "backoff_initial_s": 0.01,
    "backoff_max_s": 0.05,
    "timeout_s": 5.0,
}


@pytest.fixture
def token() -> str:
    return f"secret_test_{uuid.uuid4().hex}"


@pytest.fixture
def make_client(sandbox: SandboxServer, token: str) -> Callable[..., NotionClient]:
    """`make_client(**overrides)`: a client with this test's token against the sandbox, FAST by default."""

    def make(**overrides: Any) -> NotionClient:
        return NotionClient(**{"token": token, "base_url": sandbox.notion_url, **FAST, **overrides})

    return make


@pytest.fixture
def db(sandbox: SandboxServer) -> Callable[[str], str]:
    """`db("budget_lines")`: the database id of a demo database key."""
    return lambda key: sandbox.notion.database(key).id


@pytest.fixture
def truth_ids(sandbox: SandboxServer) -> Callable[[str], set[str]]:
    """`truth_ids("risks")`: ids of the pages a query should return, from the emulator's own state."""
    return lambda key: {page["id"] for page in sandbox.notion.truth(key)}
