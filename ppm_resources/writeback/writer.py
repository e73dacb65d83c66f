"""`ActionWriter`: creates an Action page for a draft, exactly once per Source ID (DESIGN §8).

Notion has no idempotency key, so the writer makes its own:

1. hold the draft's lock (:mod:`.lock`) so no other writer on this machine interleaves;
2. look the page up by its `Source ID` property: found -> `existed` (a closed Action is left closed: nothing is
   written to a page that exists);
3. create it; if the answer is lost or ambiguous (5xx, 409, a timeout or a dropped connection after the request
   was sent, a cut body), re-read by Source ID, a few times with growing pauses (a page may take a moment to
   show in queries): found -> `created` (the write had happened); still absent -> send the create again, up to
   ``max_create_attempts`` times;
4. anything else (a 400 on the body, a 403 capability, retries of 429s exhausted, the breaker open) -> `failed`
   with the reason: the caller records it and fails its run, so the draft is sent again later.

Writes and lookups go through the one `NotionClient`, so they share the token's rate limiter with every read.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from ppm_resources.notion.client import NotionClient
from ppm_resources.notion.errors import NotionAmbiguousWriteError, NotionError
from ppm_resources.notion.ids import normalize_id
from ppm_resources.notion.mapping import DatabaseMapping
from ppm_resources.resilience import CircuitOpenError, RetriesExhaustedError
from ppm_resources.writeback.drafts import ActionDraft
from ppm_resources.writeback.lock import SourceLocks
from ppm_resources.writeback.properties import ActionFields, page_body

logger = logging.getLogger("ppm_resources.writeback")

Outcome = Literal["created", "existed", "failed"]
#: What a write can fail with that is Notion's (or the draft's) doing, not a bug: the draft is `failed`.
WRITE_ERRORS = (NotionError, RetriesExhaustedError, CircuitOpenError, ValueError)
#: From this many drafts on, `ensure_all` lists the pages of their sources once instead of one lookup each.
BATCH_LOOKUP_MIN = 5
#: Pauses before each re-read after an ambiguous create (seconds; the first re-read is immediate).
REREAD_PAUSES_S: tuple[float, ...] = (0.0, 1.0, 3.0)


@dataclass(frozen=True)
class ActionResult:
    """What happened to one draft: the ledger row and run metadata are made from it."""

    draft: ActionDraft
    outcome: Outcome
    page_id: str | None = None
    url: str | None = None
    create_requests: int = 0  # POST /v1/pages sent for this draft (0 when it existed)
    note: str = ""  # how an ambiguous answer was resolved, duplicates found...
    error: str | None = None
    sent_at: datetime | None = None
    duration_s: float = 0.0

    @property
    def ok(self) -> bool:
        return self.outcome != "failed"


class ActionWriter:
    """Writes drafts into one Actions database through ``client`` (open it first: ``async with client``)."""

    def __init__(
        self,
        client: NotionClient,
        database_id: str,
        mapping: DatabaseMapping,
        locks: SourceLocks,
        *,
        max_create_attempts: int = 3,
        reread_pauses_s: Sequence[float] = REREAD_PAUSES_S,
        sleep: Callable[[float], Any] = asyncio.sleep,
    ) -> None:
        if max_create_attempts < 1:
            raise ValueError("max_create_attempts must be >= 1")
        self.client = client
        self.database_id = normalize_id(database_id, "database")
        self.mapping = mapping
        self.locks = locks
        self.max_create_attempts = max_create_attempts
        self.reread_pauses_s = tuple(reread_pauses_s)
        self._sleep = sleep
        self._fields: ActionFields | None = None

    async def fields(self) -> ActionFields:
        """The database's properties checked against the mapping (read once per writer)."""
        if self._fields is None:
            self._fields = await read_action_fields(self.client, self.database_id, self.mapping)
        return self._fields

    async def find(self, source_id: str) -> list[dict[str, Any]]:
        """Live pages whose Source ID is exactly ``source_id``, oldest first."""
        fields = await self.fields()
        pages = await self.client.find_pages(self.database_id, fields.source_id_filter(source_id))
        # `equals` on rich text is exact in Notion; checked again so a looser server never merges two items.
        return [p for p in pages if fields.source_id_of(p) == source_id and not p.get("in_trash")]

    async def ensure(self, draft: ActionDraft) -> ActionResult:
        """One page for ``draft``: the existing one, or a new one. Never raises for a Notion failure."""

        async def locked() -> ActionResult:
            async with self.locks.hold(draft.source_id):
                return await self._ensure_locked(draft)

        return await _timed(draft, locked)

    async def ensure_all(
        self, drafts: Sequence[ActionDraft], progress: Callable[[ActionResult], None] | None = None
    ) -> list[ActionResult]:
        """``ensure`` for many drafts, with one lookup for all of them instead of one per draft.

        Every draft's lock is held first (in Source ID order, so two batches never deadlock), then the pages of
        the drafts' sources are listed once (`Source ID starts_with "advisor:"`...): a page found is `existed`,
        the others are created one by one. Few drafts go one by one (a listing would cost more).
        """
        if len(drafts) <= BATCH_LOOKUP_MIN:
            results = []
            for draft in drafts:
                results.append(await self.ensure(draft))
                if progress:
                    progress(results[-1])
            return results
        started, sent_at = time.monotonic(), datetime.now(UTC)
        try:
            async with contextlib.AsyncExitStack() as stack:
                for source_id in sorted({d.source_id for d in drafts}):
                    await stack.enter_async_context(self.locks.hold(source_id))
                existing = await self._pages_by_source_id(sorted({d.source for d in drafts}))
                results = []
                for draft in drafts:
                    known = existing.get(draft.source_id, [])
                    results.append(await _timed(draft, functools.partial(self._ensure_locked, draft, known)))
                    if progress:
                        progress(results[-1])
                return results
        except WRITE_ERRORS as exc:
            elapsed = time.monotonic() - started
            return [_finish(failed(d, exc), sent_at, elapsed) for d in drafts]

    async def _pages_by_source_id(self, sources: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        """Live pages whose Source ID starts with one of ``sources`` (``dq:``...), by Source ID."""
        fields = await self.fields()
        by_id: dict[str, list[dict[str, Any]]] = {}
        for source in sources:
            query_filter = {
                "property": fields.name("source_id"),
                fields.type("source_id"): {"starts_with": f"{source}:"},
            }
            for page in await self.client.find_pages(self.database_id, query_filter):
                if not page.get("in_trash"):
                    by_id.setdefault(fields.source_id_of(page), []).append(page)
        return by_id

    async def _ensure_locked(
        self, draft: ActionDraft, known: list[dict[str, Any]] | None = None
    ) -> ActionResult:
        """With the draft's lock held: ``known`` is what a lookup made under the lock found (None: look up)."""
        fields = await self.fields()
        found = known if known is not None else await self.find(draft.source_id)
        if found:
            return _existing(draft, "existed", found, note=_duplicates_note(found))
        properties = fields.page_properties(draft)
        body = page_body(draft)
        notes: list[str] = []
        for attempt in range(1, self.max_create_attempts + 1):
            try:
                page = await self.client.create_page(self.database_id, properties, children=body)
            except NotionAmbiguousWriteError as exc:
                logger.warning("%s: create attempt %d: %s", draft.source_id, attempt, exc)
                found = await self._reread(draft.source_id)
                if found:
                    notes.append(
                        f"attempt {attempt}: answer lost ({exc.cause}); the page was found by Source ID"
                    )
                    return _existing(draft, "created", found, requests=attempt, note="; ".join(notes))
                notes.append(f"attempt {attempt}: {exc.cause}; not written (absent on re-read)")
                continue
            return ActionResult(
                draft,
                "created",
                page_id=normalize_id(str(page["id"]), "page"),
                url=page.get("url"),
                create_requests=attempt,
                note="; ".join(notes),
            )
        return ActionResult(
            draft,
            "failed",
            create_requests=self.max_create_attempts,
            note="; ".join(notes),
            error=f"no page after {self.max_create_attempts} create attempts (each answer lost, each re-read empty)",
        )

    async def _reread(self, source_id: str) -> list[dict[str, Any]]:
        for pause in self.reread_pauses_s:
            if pause:
                await self._sleep(pause)
            found = await self.find(source_id)
            if found:
                return found
        return []


def _existing(
    draft: ActionDraft, outcome: Outcome, pages: list[dict[str, Any]], *, requests: int = 0, note: str = ""
) -> ActionResult:
    """The result naming the oldest page of ``pages`` (the one every later lookup also names)."""
    page = min(pages, key=lambda p: (str(p.get("created_time") or ""), str(p.get("id"))))
    return ActionResult(
        draft,
        outcome,
        page_id=normalize_id(str(page["id"]), "page"),
        url=page.get("url"),
        create_requests=requests,
        note=note,
    )


def _duplicates_note(pages: list[dict[str, Any]]) -> str:
    if len(pages) < 2:
        return ""
    return f"{len(pages)} pages carry this Source ID (made outside the write-back?): the oldest is used"


async def read_action_fields(
    client: NotionClient, database_id: str, mapping: DatabaseMapping
) -> ActionFields:
    """The Actions database's live schema checked against the mapping (SchemaError names what is missing)."""
    return ActionFields.resolve(mapping, await client.database_properties(database_id))


def failed(draft: ActionDraft, exc: BaseException) -> ActionResult:
    """The result of a draft that a Notion failure (one of WRITE_ERRORS) kept from being written."""
    return ActionResult(draft, "failed", error=f"{type(exc).__name__}: {exc}")


async def _timed(draft: ActionDraft, write: Callable[[], Awaitable[ActionResult]]) -> ActionResult:
    """``write()``'s result with its start and duration; a Notion failure becomes a `failed` result."""
    started, sent_at = time.monotonic(), datetime.now(UTC)
    try:
        result = await write()
    except WRITE_ERRORS as exc:
        result = failed(draft, exc)
    return _finish(result, sent_at, time.monotonic() - started)


def _finish(result: ActionResult, sent_at: datetime, duration_s: float) -> ActionResult:
    return dataclasses.replace(result, sent_at=sent_at, duration_s=round(duration_s, 3))


def summary(results: Sequence[ActionResult]) -> Mapping[str, int]:
    """Counts per outcome, for run metadata and log lines."""
    counts = {"created": 0, "existed": 0, "failed": 0}
    for result in results:
        counts[result.outcome] += 1
    return counts
