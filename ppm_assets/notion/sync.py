"""Incremental sync of Notion databases into `bronze.notion_raw_pages` (append-only, nothing lost).

* The watermark is derived from bronze: per database, max(`complete_before`) of rows durably written. A row's
  `complete_before` is the scan's safe bound when it was written (every page edited before it had been
  handed out), so a crash mid-scan can only make the next run re-read pages, never skip one.
* Incremental runs query `last_edited_time on_or_after watermark - overlap` (Notion rounds edit times down to
  the minute) with one cursor; full syncs read everything with the client's concurrent time slices.
* A page whose content hash equals its latest stored version is skipped, so overlaps cost no rows.
* Rows are appended in batches (one Delta commit each) so memory stays bounded.
* A full sync reconciles: pages that vanished from the database get a tombstone (trashed pages keep their
  last values with `in_trash`, 404s become `deleted`, pages now in another database a tombstone without
  `deleted`), and formula/rollup values that changed without an edit time show up as new content hashes.
* Between full syncs, pages are checked one by one when something names them (`page_ids`: the change
  sensor's id listing for pages it no longer finds, Notion webhooks for pages that changed): each is retrieved
  and stored as it is now (a new version, trashed, deleted, moved out), within one sensor cycle of the change.
  A database too large for the sensor to list is listed by its sync run instead (`list_pages`).
* Nothing is tombstoned while the database itself cannot be read: an unshared database fails the run, never
  "every page deleted".
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa

from ppm_assets.notion.bronze_rows import (
    LATEST_PAGE_VERSION,
    batch_rows,
    bronze_row,
    notion_raw_pages_table,
    page_parent_ids,
    tombstone_row,
)
from ppm_assets.tables import NOTION_RAW_PAGES, NOTION_SYNC_WATERMARKS
from ppm_resources.lakehouse import Lakehouse, load_sql, sql_string
from ppm_resources.notion import DatabaseScan, NotionClient, scan_databases
from ppm_resources.notion.ids import normalize_id

TABLE = NOTION_RAW_PAGES.name
#: Fewer vanished pages than this never count as a mass disappearance (3 of 5 test pages may go at once).
MASS_DELETE_MIN_PAGES = 20
OVERLAP = timedelta(minutes=2)
PROGRESS_EVERY_S = 10.0

log = logging.getLogger(__name__)


class MassDisappearanceError(RuntimeError):
    """Most of a still-shared database vanished from a listing: not tombstoned without confirmation."""


def _parent_database(page: dict[str, Any]) -> str | None:
    database_id, _ = page_parent_ids(page)
    return normalize_id(database_id, "database") if database_id else None


def hash_key(content_hash: str) -> int:
    """96 bits of the (page id + content) hash: a compact set member for 'already stored'."""
    return int(content_hash[:24], 16)


@dataclass
class DatabaseReport:
    """What one database's sync did (becomes run metadata)."""

    name: str
    database_id: str
    watermark_before: datetime | None
    watermark_after: datetime | None = None
    fetched: int = 0
    written: int = 0
    skipped: int = 0
    tombstones: int = 0

    def as_metadata(self) -> dict[str, Any]:
        return {
            "pages_fetched": self.fetched,
            "pages_written": self.written,
            "pages_skipped": self.skipped,
            "tombstones": self.tombstones,
            "watermark_before": self.watermark_before.isoformat() if self.watermark_before else None,
            "watermark_after": self.watermark_after.isoformat() if self.watermark_after else None,
        }


@dataclass
class SyncReport:
    databases: dict[str, DatabaseReport]
    full_sync: bool
    dry_run: bool
    seconds: float = 0.0
    commits: int = 0
    client_stats: dict[str, int | float] = field(default_factory=dict)

    @property
    def totals(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for report in self.databases.values():
            total.update(
                fetched=report.fetched,
                written=report.written,
                skipped=report.skipped,
                tombstones=report.tombstones,
            )
        return total


@dataclass
class _State:
    """Bronze's view of the databases being synced, read once at the start of a run."""

    watermarks: dict[str, datetime | None]
    stored: dict[str, set[int]]  # latest content hash per page, as hash_key
    live_ids: dict[str, set[str]]  # pages whose latest row is neither trashed nor deleted


def read_bronze_state(lakehouse: Lakehouse, names: list[str], *, need_live_ids: bool) -> _State:
    watermarks: dict[str, datetime | None] = dict.fromkeys(names)
    stored: dict[str, set[int]] = {name: set() for name in names}
    live_ids: dict[str, set[str]] = {name: set() for name in names}
    if not lakehouse.exists(TABLE):
        return _State(watermarks, stored, live_ids)
    where = f"database_name IN ({', '.join(sql_string(name) for name in names)})"
    watermarks_sql = load_sql(NOTION_SYNC_WATERMARKS.sql).text  # one definition of the watermark
    for row in lakehouse.query(
        f"SELECT database_name, watermark FROM ({watermarks_sql}) AS w WHERE {where}"
    ).to_pylist():
        watermarks[row["database_name"]] = row["watermark"]
    latest = lakehouse.query(
        f"""
        SELECT database_name, content_hash, page_id, coalesce(in_trash, false) OR coalesce(deleted, false) AS gone
        FROM {TABLE} WHERE {where}
        {LATEST_PAGE_VERSION}
        """
    )
    for batch in latest.to_batches(max_chunksize=100_000):
        columns = batch.to_pydict()
        for name, digest, page_id, gone in zip(
            columns["database_name"],
            columns["content_hash"],
            columns["page_id"],
            columns["gone"],
            strict=True,
        ):
            stored[name].add(hash_key(digest))
            if need_live_ids and not gone:
                live_ids[name].add(page_id)
    return _State(watermarks, stored, live_ids)


class NotionBronzeSync:
    """One run's sync of several databases under one client (one rate limiter, one event loop)."""

    def __init__(
        self,
        client: NotionClient,
        lakehouse: Lakehouse,
        database_ids: dict[str, str],
        *,
        run_id: str,
        full_sync: bool = False,
        dry_run: bool = False,
        batch_rows: int = 5_000,
        progress: Callable[[str], None] = log.info,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        page_ids: Sequence[str] = (),
        list_pages: bool = False,
        mass_delete_share: float = 0.5,
        allow_mass_delete: bool = False,
    ) -> None:
        if batch_rows < 1:
            raise ValueError("batch_rows must be at least 1")
        self.client = client
        self.lakehouse = lakehouse
        self.database_ids = database_ids
        self.run_id = run_id
        self.full_sync = full_sync
        self.dry_run = dry_run
        self.batch_rows = batch_rows
        self.progress = progress
        self.now = now
        self.page_ids = {normalize_id(page_id, "page") for page_id in page_ids}
        self.list_pages = list_pages
        self.mass_delete_share = mass_delete_share
        self.allow_mass_delete = allow_mass_delete
        # One row per (database, page) until the next commit: a page read twice in one batch keeps the later read,
        # since two versions with the same minute-rounded edit time would tie in "latest version" order.
        self._buffer: dict[tuple[str, str], dict[str, Any]] = {}
        self._safe: dict[str, datetime | None] = {}
        self._max_seen: dict[str, datetime | None] = {}
        self.commits = 0
        self._known_version: int | None = None
        self._reports: dict[str, DatabaseReport] = {}
        self._state = _State({}, {}, {})

    async def run(self) -> SyncReport:
        started = time.monotonic()
        names = list(self.database_ids)
        # Before the state is read: a commit by another writer after this version is checked at each append.
        self._known_version = await asyncio.to_thread(self.lakehouse.version, TABLE)
        state = await asyncio.to_thread(
            read_bronze_state,
            self.lakehouse,
            names,
            need_live_ids=self.full_sync or self.list_pages or bool(self.page_ids),
        )
        reports = {
            name: DatabaseReport(name, self.database_ids[name], watermark_before=state.watermarks[name])
            for name in names
        }
        self._reports = reports
        self._state = state
        self._safe = dict(state.watermarks)
        self._max_seen = dict.fromkeys(names)
        seen_ids: dict[str, set[str]] = {name: set() for name in names}
        scans = [
            DatabaseScan(
                self.database_ids[name],
                name=name,
                since=None
                if self.full_sync or state.watermarks[name] is None
                else state.watermarks[name] - OVERLAP,
            )
            for name in names
        ]
        # A first or full sync reads whole databases: time slices keep it at the rate limit. An incremental
        # run reads a few pages since the watermark with one cursor (1 request when nothing changed).
        split = any(scan.since is None for scan in scans)
        last_progress = time.monotonic()
        # Closed on the way out, also on an error while writing: its slices stop at once instead of at GC.
        batches = scan_databases(self.client, scans, split=split)
        async with contextlib.aclosing(batches):
            async for batch in batches:
                report = reports[batch.name]
                report.fetched += len(batch.pages)
                stored = state.stored[batch.name]
                for row in batch_rows(batch):
                    if self.full_sync:
                        seen_ids[batch.name].add(row["page_id"])
                    edited = row["last_edited_time"]
                    if edited is not None:
                        current = self._max_seen[batch.name]
                        self._max_seen[batch.name] = edited if current is None else max(current, edited)
                    key = hash_key(row["content_hash"])
                    if key in stored:
                        report.skipped += 1
                        continue
                    stored.add(key)
                    report.written += 1
                    self._buffer[row["database_name"], row["page_id"]] = row
                self._advance_safe(batch.name, batch.complete_before, complete=batch.complete)
                if len(self._buffer) >= self.batch_rows:
                    await self._flush()
                if time.monotonic() - last_progress >= PROGRESS_EVERY_S:
                    last_progress = time.monotonic()
                    self._log_progress(reports, started)
        if self.full_sync:
            for name in names:
                await self._check_pages(reports, state, state.live_ids[name] - seen_ids[name], "full sync")
        elif self.list_pages:
            for name in names:
                listed = await self.client.list_page_ids(self.database_ids[name])
                await self._check_pages(reports, state, state.live_ids[name] - listed, "id listing")
        await self._check_pages(reports, state, self.page_ids, "named by the deletion sensor or a webhook")
        await self._flush()
        for name, report in reports.items():
            report.watermark_after = (
                self._safe[name] if self._safe[name] is not None else report.watermark_before
            )
            if self.dry_run:
                report.watermark_after = report.watermark_before
        self._log_progress(reports, started)
        return SyncReport(
            databases=reports,
            full_sync=self.full_sync,
            dry_run=self.dry_run,
            seconds=time.monotonic() - started,
            commits=self.commits,
            client_stats=self.client.stats.as_metadata(),
        )

    def _advance_safe(self, name: str, bound: datetime | None, *, complete: bool) -> None:
        if complete:
            bound = self._max_seen[name]  # every page of the scan has been handed out
        # Never past the minute the scan began in Notion's clock: Notion rounds edit times down to the minute,
        # so a page read in its edit minute and edited again within it keeps its last_edited_time and is not
        # read again; any such edit is at or after this minute, where the next sync (minus its overlap) starts.
        began = self.client.first_server_time
        if bound is not None and began is not None:
            bound = min(bound, began.replace(second=0, microsecond=0))
        current = self._safe[name]
        if bound is not None and (current is None or bound > current):
            self._safe[name] = bound

    async def _check_pages(
        self, reports: dict[str, DatabaseReport], state: _State, page_ids: set[str], reason: str
    ) -> None:
        """Retrieve each page and store what became of it, in every database of this run it concerns.

        Its own database (the page's parent) gets its current version: a new version if it changed, the last
        values with `in_trash` if trashed. A database where bronze holds it live but that is no longer its parent
        gets a tombstone: `deleted` for a 404, not deleted for a page that moved to another database.
        """
        if not page_ids:
            return
        self.progress(f"checking {len(page_ids)} pages one by one ({reason})")
        holders = {name for name in reports if state.live_ids[name] & page_ids}
        # A database the integration can no longer read answers 404 for every page too: fail before writing a
        # single tombstone.
        for name in sorted(holders):
            await self.client.retrieve_database(reports[name].database_id)
            self._guard_mass_disappearance(
                name, len(state.live_ids[name] & page_ids), len(state.live_ids[name])
            )
        by_database = {normalize_id(r.database_id, "database"): name for name, r in reports.items()}
        for page_id in sorted(page_ids):
            page = await self.client.retrieve_page(page_id, missing_ok=True)
            parent = by_database.get(_parent_database(page)) if page is not None else None
            if parent is not None:
                assert page is not None
                row = bronze_row(page, database_name=parent, database_id=reports[parent].database_id)
                self._store(reports[parent], state, row)
            for name in sorted(holders - {parent}):
                if page_id in state.live_ids[name]:
                    row = tombstone_row(
                        page_id,
                        database_name=name,
                        database_id=reports[name].database_id,
                        deleted=page is None,
                    )
                    self._store(reports[name], state, row)

    def _guard_mass_disappearance(self, name: str, vanished: int, live: int) -> None:
        """Refuse to check (and so tombstone) most of a still-shared database unless told it is real.

        Many pages vanishing at once is more often a broken share, filter or API answer than a clean-up; the
        pages stay live in bronze until someone confirms.
        """
        if (
            self.allow_mass_delete
            or vanished < MASS_DELETE_MIN_PAGES
            or vanished <= self.mass_delete_share * live
        ):
            return
        raise MassDisappearanceError(
            f"{name}: {vanished} of {live} live pages are no longer listed by Notion ({vanished / live:.0%}, more "
            f"than NOTION_MASS_DELETE_SHARE={self.mass_delete_share:g}); nothing was tombstoned. If the pages "
            f"really were deleted, re-run with allow_mass_delete: true (ppm sync-database {name} --full-sync "
            "--allow-mass-delete); otherwise check the integration's access to the database in Notion."
        )

    def _store(self, report: DatabaseReport, state: _State, row: dict[str, Any]) -> None:
        """Buffer `row` unless bronze already holds this exact version (page + content hash)."""
        key = hash_key(row["content_hash"])
        stored = state.stored[report.name]
        if key in stored:
            report.skipped += 1
            return
        stored.add(key)
        if row["in_trash"] or row["deleted"]:
            report.tombstones += 1
        report.written += 1
        self._buffer[row["database_name"], row["page_id"]] = row

    async def _flush(self) -> None:
        if not self._buffer:
            return
        rows, self._buffer = list(self._buffer.values()), {}
        if self.dry_run:
            return
        # Each row carries its database's safe bound as of now: everything yielded so far is in this
        # buffer or already committed.
        by_database: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            by_database.setdefault(row["database_name"], []).append(row)
        synced_at = self.now()
        tables = [
            notion_raw_pages_table(
                group, synced_at=synced_at, sync_run_id=self.run_id, complete_before=self._safe[name]
            )
            for name, group in by_database.items()
        ]
        table = pa.concat_tables(tables)
        if await asyncio.to_thread(self._append_new, table):
            self.commits += 1

    def _append_new(self, table: pa.Table) -> bool:
        """Append under the lakehouse's write lock, idempotent per (page, content hash) whatever the concurrency.

        Two syncs of one database (a raised `notion_api` pool, or two instances on one lakehouse) would store the
        same versions twice. Under the lock, when the table moved since this sync last looked, the versions it now
        holds join this sync's "already stored" set (so later batches skip them as they are read) and are dropped
        from this batch; alone, the check costs one version read. True when something was committed.
        """
        with self.lakehouse.write_lock(TABLE):
            current = self.lakehouse.version(TABLE)
            if current != self._known_version:
                table = self._without_stored(table)
            if table.num_rows:
                current = self.lakehouse.append(TABLE, table, partition_by=["database_name"]).version
            self._known_version = current
        return bool(table.num_rows)

    def _without_stored(self, table: pa.Table) -> pa.Table:
        """`table` without the (page, content hash) versions bronze already holds; reports count them skipped."""
        # Every database of this sync, not only this batch's: later batches of the others skip what is held too.
        where = ", ".join(sql_string(name) for name in sorted(self.database_ids))
        held = self.lakehouse.query(
            f"SELECT database_name, content_hash FROM {TABLE} WHERE database_name IN ({where})"
        ).to_pydict()
        stored = set(held["content_hash"])
        for name, digest in zip(held["database_name"], held["content_hash"], strict=True):
            if name in self._state.stored:
                self._state.stored[name].add(hash_key(digest))
        keep = [digest not in stored for digest in table.column("content_hash").to_pylist()]
        for name, kept in zip(table.column("database_name").to_pylist(), keep, strict=True):
            if not kept and name in self._reports:
                self._reports[name].written -= 1
                self._reports[name].skipped += 1
        if not all(keep):
            log.info("%d rows were stored by another writer meanwhile; not appended twice", keep.count(False))
        return table.filter(pa.array(keep, type=pa.bool_()))

    def _log_progress(self, reports: dict[str, DatabaseReport], started: float) -> None:
        elapsed = max(time.monotonic() - started, 1e-9)
        stats = self.client.stats
        parts = [
            f"{r.name}: {r.fetched} fetched, {r.written} new, {r.skipped} unchanged" for r in reports.values()
        ]
        self.progress(
            f"{'; '.join(parts)} | {stats.requests} requests ({stats.requests / elapsed:.1f}/s), "
            f"{stats.rate_limited} answered 429, {elapsed:.0f} s"
        )
