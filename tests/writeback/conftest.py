"""Fixtures of the write-back tests: the writer against the sandbox over real HTTP, per-test token and locks."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from ppm_resources.notion import NotionClient
from ppm_resources.notion.mapping import load_notion_mapping
from ppm_resources.writeback.drafts import ActionDraft
from ppm_resources.writeback.lock import SourceLocks
from ppm_resources.writeback.writer import ActionResult, ActionWriter
from ppm_sandbox import SandboxServer
from tests.notion_client.conftest import FAST

Write = Callable[..., list[ActionResult]]


def draft(source_id: str, title: str = "Review the cost of a VM", **fields: Any) -> ActionDraft:
    source = source_id.split(":", 1)[0]
    return ActionDraft(source=source, source_id=source_id, title=title, **fields)  # type: ignore[arg-type]


def pages_with(sandbox: SandboxServer, source_id: str) -> list[dict[str, Any]]:
    """The live Actions pages whose Source ID is `source_id`, from the sandbox's own state."""
    return [p for p in sandbox.notion.truth("actions") if p["properties"]["Source ID"] == source_id]


@pytest.fixture
def write(sandbox: SandboxServer, tmp_path: Path) -> Write:
    """`write(drafts, api_version=..., **client options)`: the writer's results, one fresh token per call."""
    actions = load_notion_mapping().database("actions")

    def run(
        drafts: Sequence[ActionDraft],
        *,
        api_version: str = "2022-06-28",
        reread_pauses_s: Sequence[float] = (0.0, 0.05),
        max_create_attempts: int = 3,
        batch: bool = False,
        **options: Any,
    ) -> list[ActionResult]:
        async def main() -> list[ActionResult]:
            token = f"secret_wb_{uuid.uuid4().hex}"
            config = {
                "token": token,
                "base_url": sandbox.notion_url,
                "api_version": api_version,
                **FAST,
                **options,
            }
            async with NotionClient(**config) as client:
                writer = ActionWriter(
                    client,
                    sandbox.notion.database("actions").id,
                    actions,
                    SourceLocks(tmp_path / "locks"),
                    reread_pauses_s=reread_pauses_s,
                    max_create_attempts=max_create_attempts,
                )
                if batch:
                    return await writer.ensure_all(drafts)
                return [await writer.ensure(d) for d in drafts]

        return asyncio.run(main())

    return run
