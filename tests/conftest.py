"""Shared fixtures: a real sandbox server (uvicorn in a thread) on a free port.

sandbox          session-scoped running `SandboxServer` with the default demo workspace
                 (seed 42) and no rate limit; its `.notion`, `.faults`, `.stats`, `.clock`
                 are the live objects behind the HTTP API.
clean_sandbox    the same server, reset before and after the test: start-up faults, zeroed
                 stats, real clock, regenerated workspace. Use it in tests that change
                 anything (faults, clock, pages, schema).
notion_headers   headers for API version 2022-06-28 with a valid token (`notion_headers_2025`
                 for 2025-09-03).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ppm_sandbox import DEFAULT_TOKEN, FaultSpec, SandboxConfig, SandboxServer


def reset_sandbox(server: SandboxServer) -> None:
    """Faults, stats, clock and workspace back to their start-up state."""
    server.reset()
    server.notion.reset()


@pytest.fixture(scope="session")
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(SandboxConfig(faults=FaultSpec.unlimited())) as server:
        yield server


@pytest.fixture
def clean_sandbox(sandbox: SandboxServer) -> Iterator[SandboxServer]:
    reset_sandbox(sandbox)
    yield sandbox
    reset_sandbox(sandbox)


@pytest.fixture
def notion_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {DEFAULT_TOKEN}", "Notion-Version": "2022-06-28"}


@pytest.fixture
def notion_headers_2025() -> dict[str, str]:
    return {"Authorization": f"Bearer {DEFAULT_TOKEN}", "Notion-Version": "2025-09-03"}
