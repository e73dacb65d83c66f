"""NotionClient under failure, against the emulator's real faults: 429s, 5xx, timeouts, resets, malformed
bodies, expired cursors, fatal 4xx, the circuit breaker, non-retried creates, and token secrecy."""

from __future__ import annotations

import asyncio
import logging
import threading
import traceback
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from ppm_resources.notion import (
    CircuitOpenError,
    DatabaseScan,
    NotionAmbiguousWriteError,
    NotionAuthError,
    NotionBadRequestError,
    NotionClient,
    NotionNotFoundError,
    PageBatch,
    RetriesExhaustedError,
    scan_databases,
)
from ppm_sandbox import SandboxServer

MakeClient = Callable[..., NotionClient]
DbId = Callable[[str], str]
TruthIds = Callable[[str], set[str]]


async def page_ids(batches: AsyncIterator[PageBatch]) -> list[str]:
    return [page["id"] async for batch in batches for page in batch.pages]


def test_429_storm_completes_without_error(
    clean_sandbox: SandboxServer, make_client: MakeClient, db: DbId, truth_ids: TruthIds
) -> None:
    # The client is configured 10x faster than the emulator allows: only 429 + Retry-After slows it down.
    clean_sandbox.faults.set(rate=5, burst=1)

    async def main() -> tuple[list[str], int]:
        async with make_client(rate_limit_rps=50, rate_limit_burst=5, max_concurrency=3) as c:
            return await page_ids(scan_databases(c, [DatabaseScan(db("actions"))])), c.stats.rate_limited

    ids, client_429s = asyncio.run(main())
    assert len(ids) == len(set(ids)) and set(ids) == truth_ids("actions")
    assert client_429s >= 2, client_429s
    assert clean_sandbox.stats.snapshot()["rate_limited"] == client_429s


def test_one_limiter_paces_every_thread_and_loop_of_a_token(
    clean_sandbox: SandboxServer, token: str, db: DbId
) -> None:
    """Two clients of one token, each on its own thread and event loop, share the limiter: no 429."""
    clean_sandbox.faults.set(rate=20, burst=4)
    results: list[int] = []

    async def scan_all() -> int:
        async with NotionClient(
            token=token, base_url=clean_sandbox.notion_url, rate_limit_rps=18, rate_limit_burst=2
        ) as client:
            return len(
                await page_ids(scan_databases(client, [DatabaseScan(db("budget_lines"))], split=False))
            )

    def sync_all() -> None:
        results.append(asyncio.run(scan_all()))

    threads = [threading.Thread(target=sync_all) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stats = clean_sandbox.stats.snapshot()
    assert results == [1500, 1500]
    assert stats["rate_limited"] == 0 and stats["total_requests"] == 30


def test_5xx_timeouts_resets_and_malformed_bodies_are_retried(
    clean_sandbox: SandboxServer, make_client: MakeClient, db: DbId, truth_ids: TruthIds
) -> None:
    faults = [
        {"status": 503, "count": 2},
        {"status": 500},
        {"status": 502},
        {"status": 504},
        {"status": 529},
        {"kind": "timeout"},
        {"kind": "reset"},
        {"kind": "malformed"},
    ]
    clean_sandbox.faults.set(fail_next=faults)

    async def main() -> tuple[list[str], dict[str, Any]]:
        async with make_client(timeout_s=0.5, max_retries=11, page_size=50) as client:
            ids = await page_ids(scan_databases(client, [DatabaseScan(db("risks"))], split=False))
            return ids, client.stats.as_metadata()

    ids, meta = asyncio.run(main())
    assert len(ids) == len(set(ids)) and set(ids) == truth_ids("risks")
    assert meta["notion_retries"] == 9
    assert meta["notion_errors_timeout"] == 1 and meta["notion_errors_malformed"] == 1
    assert meta["notion_errors_connection"] == 1 and meta["notion_errors_503"] == 2
    assert clean_sandbox.faults.spec.fail_next == ()


def test_401_404_and_400_fail_fast_with_what_to_do(
    clean_sandbox: SandboxServer, make_client: MakeClient, db: DbId
) -> None:
    async def first_error(client: NotionClient, database_id: str, **kwargs: Any) -> tuple[Exception, int]:
        async with client:
            with pytest.raises(Exception) as info:
                await page_ids(scan_databases(client, [DatabaseScan(database_id, **kwargs)], split=False))
            return info.value, client.stats.requests

    error, requests = asyncio.run(first_error(make_client(token="not-a-notion-token"), db("risks")))
    assert isinstance(error, NotionAuthError) and requests == 1
    assert "invalid token: check NOTION_TOKEN" in str(error)

    missing = str(uuid.uuid4())
    error, requests = asyncio.run(first_error(make_client(), missing))
    assert isinstance(error, NotionNotFoundError) and requests == 1
    assert "not shared with the integration: share it from Notion's connection menu" in str(error)
    assert missing in str(error)

    clean_sandbox.notion.unshare(db("risks"))
    for version in ("2022-06-28", "2025-09-03"):
        error, _ = asyncio.run(first_error(make_client(api_version=version), db("risks")))
        assert isinstance(error, NotionNotFoundError)

    bad = {"property": "Priority", "select": {"equals": 5}}
    error, requests = asyncio.run(first_error(make_client(), db("projects"), filter=bad))
    assert isinstance(error, NotionBadRequestError) and requests == 1
    assert "validation_error" in str(error) and "Notion says: body failed validation" in str(error)

    with pytest.raises(ValueError, match="not a Notion database id"):  # ids are validated before any request
        asyncio.run(make_client().retrieve_database("../v1/users"))


def test_cursor_expiry_mid_scan_delivers_every_page_exactly_once(
    clean_sandbox: SandboxServer, make_client: MakeClient, db: DbId, truth_ids: TruthIds
) -> None:
    sandbox = clean_sandbox
    # Crowd one minute with 150 pages, so a restart from "the last minute seen" re-reads a full response.
    sandbox.clock.freeze()
    for page in sandbox.notion.truth("budget_lines")[::10]:
        sandbox.notion.edit_page(page["id"], {"Vendor": "Crowded"})
    sandbox.clock.unfreeze()

    async def plain() -> tuple[list[str], int]:
        async with make_client(page_size=40) as client:
            ids: list[str] = []
            async for batch in scan_databases(client, [DatabaseScan(db("budget_lines"))], split=False):
                ids.extend(p["id"] for p in batch.pages)
                if len(ids) % 200 == 0 or len(ids) > 1400:  # expire every outstanding cursor, repeatedly
                    sandbox.notion.cursors.expire_all()
            return ids, client.stats.cursor_recoveries

    ids, recoveries = asyncio.run(plain())
    assert recoveries >= 3
    assert len(ids) == len(set(ids)) and set(ids) == truth_ids("budget_lines")

    async def sliced() -> tuple[list[str], int]:
        sandbox.notion.cursors.expire_next(4)
        async with make_client(page_size=30, max_concurrency=4) as client:
            ids = await page_ids(scan_databases(client, [DatabaseScan(db("budget_lines"))]))
            return ids, client.stats.cursor_recoveries

    ids, recoveries = asyncio.run(sliced())
    assert recoveries == 4
    assert len(ids) == len(set(ids)) and set(ids) == truth_ids("budget_lines")


def test_circuit_breaker_opens_after_five_consecutive_failures(
    clean_sandbox: SandboxServer, make_client: MakeClient, db: DbId
) -> None:
    clean_sandbox.faults.set(error_rate=1.0, error_statuses=[503])

    async def main() -> None:
        async with make_client(max_retries=1, breaker_cooldown_s=0.5) as client:
            for _ in range(5):
                with pytest.raises(RetriesExhaustedError, match="failed after 2 attempts"):
                    await client.retrieve_database(db("risks"))
            sent = clean_sandbox.stats.snapshot()["total_requests"]
            with pytest.raises(CircuitOpenError, match="open after 5 consecutive failed calls"):
                await client.retrieve_database(db("risks"))
            assert clean_sandbox.stats.snapshot()["total_requests"] == sent  # failed fast, nothing sent
            clean_sandbox.faults.set(error_rate=0.0)
            await asyncio.sleep(0.6)  # cool-down over: the next call is a trial, and it succeeds
            assert (await client.retrieve_database(db("risks")))["object"] == "database"
            await client.retrieve_database(db("risks"))

    asyncio.run(main())


def test_create_is_not_retried_after_an_ambiguous_failure(
    clean_sandbox: SandboxServer, make_client: MakeClient, db: DbId
) -> None:
    sandbox = clean_sandbox
    before = sandbox.notion.count_live("actions")
    title = {"Title": {"title": [{"text": {"content": "Close stale PO"}}]}}

    async def create(fault: dict[str, Any]) -> Exception | dict[str, Any]:
        sandbox.faults.set(fail_next=[{**fault, "path": "/v1/pages"}])
        sandbox.stats.reset()
        async with make_client(timeout_s=0.5) as client:
            try:
                return await client.create_page(db("actions"), title)
            except NotionAmbiguousWriteError as exc:
                return exc

    for fault in ({"status": 503}, {"kind": "timeout"}, {"kind": "reset"}):
        outcome = asyncio.run(create(fault))
        assert isinstance(outcome, NotionAmbiguousWriteError), fault
        assert "Look it up" in str(outcome)
        assert sandbox.stats.snapshot()["by_endpoint"] == {"POST /notion/v1/pages": 1}
    assert sandbox.notion.count_live("actions") == before

    outcome = asyncio.run(create({"status": 429}))  # rejected before any work: safe to retry
    assert isinstance(outcome, dict) and outcome["object"] == "page"
    assert sandbox.notion.count_live("actions") == before + 1


def test_token_never_appears_in_logs_errors_reprs_or_metadata(
    clean_sandbox: SandboxServer, db: DbId, caplog: pytest.LogCaptureFixture
) -> None:
    secret = f"secret_DO_NOT_LEAK_{uuid.uuid4().hex}"
    caplog.set_level(logging.DEBUG)  # httpx and httpcore included
    texts: list[str] = []

    def record(exc: BaseException) -> None:
        texts.extend([str(exc), repr(exc), "".join(traceback.format_exception(exc))])

    async def main() -> NotionClient:
        client = NotionClient(
            token=secret,
            base_url=clean_sandbox.notion_url,
            rate_limit_rps=1000,
            rate_limit_burst=100,
            timeout_s=0.5,
            backoff_initial_s=0.01,
            max_retries=3,
        )
        async with client:
            clean_sandbox.faults.set(fail_next=[{"status": 503}, {"kind": "reset"}, {"kind": "malformed"}])
            assert await page_ids(scan_databases(client, [DatabaseScan(db("risks"))]))
            echo = {"property": secret, "rich_text": {"equals": "x"}}  # the emulator echoes unknown names
            for call in (
                scan_databases(client, [DatabaseScan(db("risks"), filter=echo)]),
                scan_databases(client, [DatabaseScan(str(uuid.uuid4()))]),
            ):
                try:
                    await page_ids(call)
                except Exception as exc:
                    record(exc)
            clean_sandbox.faults.set(error_rate=1.0)
            for _ in range(6):
                try:
                    await client.retrieve_page(str(uuid.uuid4()))
                except Exception as exc:
                    record(exc)
        return client

    client = asyncio.run(main())
    texts += [repr(client), repr(client.config), str(client.stats.as_metadata()), caplog.text]
    texts += [record.getMessage() for record in caplog.records]
    assert any("Could not find property with name or id: ***" in t for t in texts)  # scrubbed echo
    assert any("circuit breaker is open" in t for t in texts)
    assert len(caplog.records) > 10
    for text in texts:
        assert secret not in text
        assert secret[7:] not in text
