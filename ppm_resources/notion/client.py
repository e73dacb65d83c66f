"""``NotionClient``: the async Notion API client (httpx) with shared rate limiting, retries and a breaker.

One request goes: circuit breaker check -> retry loop { concurrency slot -> shared rate limiter -> HTTP ->
classify the answer }. On top of that sit the endpoints, one method per Notion call. Reading many pages
(cursors, time slices, watermarks) is not the client's job: :func:`ppm_resources.notion.scan.scan_databases`
drives it through the client's ``query``. This module imports none of the scanning modules, so they can depend
on the client's shape (:class:`~ppm_resources.notion.source.PageSource`) without an import cycle.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Generator, Mapping, Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Self

import httpx
import orjson
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from ppm_resources.notion.errors import (
    RETRYABLE_STATUSES,
    NotionAmbiguousWriteError,
    NotionAPIError,
    NotionConnectionError,
    NotionError,
    NotionMalformedResponseError,
    NotionNotFoundError,
    NotionRateLimitedError,
    NotionServerError,
    NotionTimeoutError,
    api_error,
)
from ppm_resources.notion.ids import normalize_id, property_id_path
from ppm_resources.notion.models import ApiVersion, QueryTarget
from ppm_resources.notion.queries import BY_CREATION, TITLE_ONLY, first_edit_time, newest_first_body
from ppm_resources.notion.stats import NotionStats
from ppm_resources.resilience import (
    RetriesExhaustedError,
    RetryPolicy,
    TransientError,
    retry_async,
    shared_circuit_breaker,
    shared_rate_limiter,
)
from ppm_resources.secrets import register, scrub

logger = logging.getLogger("ppm_resources.notion")

NOTION_API_URL = "https://api.notion.com"
#: Page objects carry at most this many relation/people items; the property endpoint has them all.
TRUNCATION_LIMIT = 25


def is_truncated(prop: Mapping[str, Any]) -> bool:
    """Whether a property value in a page object may be missing items.

    Relations say so with ``has_more``; people lists are cut at 25 without a flag, so a list of exactly
    25 people costs one check request.
    """
    kind = prop.get("type")
    if kind == "relation":
        return bool(prop.get("has_more"))
    return kind == "people" and len(prop.get("people") or ()) >= TRUNCATION_LIMIT


class NotionClientConfig(BaseModel):
    """Everything a :class:`NotionClient` needs (explicit values: nothing is read from the environment)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    token: SecretStr
    base_url: str = NOTION_API_URL
    api_version: ApiVersion = "2022-06-28"
    rate_limit_rps: float = Field(default=3.0, gt=0)
    rate_limit_burst: int = Field(default=3, ge=1)
    timeout_s: float = Field(default=30.0, gt=0)
    connect_timeout_s: float = Field(default=10.0, gt=0)
    max_retries: int = Field(default=5, ge=0, description="retries per call after 5xx/timeouts/resets")
    max_rate_limited_retries: int = Field(default=30, ge=0, description="retries per call after 429s")
    max_retry_after_s: float = Field(
        default=120.0, gt=0, description="longest Retry-After honoured; a longer one fails the call at once"
    )
    deadline_s: float | None = Field(
        default=None,
        gt=0,
        description="no retry wait ends later than this many seconds after the client opened",
    )
    # What sets the two limits, for the message when one stops a call (a sensor or `ppm health` set their own).
    max_retry_after_name: str = "NOTION_MAX_RETRY_AFTER_S"
    deadline_name: str = "NOTION_RUN_DEADLINE_S"
    backoff_initial_s: float = Field(default=0.5, ge=0)
    backoff_max_s: float = Field(default=30.0, ge=0)
    long_wait_log_s: float = Field(default=10.0, ge=0)
    breaker_failure_threshold: int = Field(default=5, ge=1)
    breaker_cooldown_s: float = Field(default=30.0, ge=0)
    max_concurrency: int = Field(default=8, ge=1, description="requests in flight (slices of a scan)")
    page_size: int = Field(default=100, ge=1, le=100)
    split_after_pages: int = Field(default=1, ge=1, description="a slice still paging after N pages splits")

    @field_validator("token")
    @classmethod
    def _strip_token(cls, token: SecretStr) -> SecretStr:
        # A token read from a secret file or a CRLF `.env` ends in a newline: as is, the Authorization header is
        # illegal (and httpx quotes it in its error). Registered so every error and log line masks it.
        register(token)
        return SecretStr(token.get_secret_value().strip())


class _BearerAuth(httpx.Auth):
    """Adds the token at send time, so it is never part of the client's default headers or reprs."""

    def __init__(self, token: SecretStr) -> None:
        self._token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._token.get_secret_value()}"
        yield request

    def __repr__(self) -> str:
        return "_BearerAuth(token=***)"


class NotionClient:
    """Async Notion client. Use one per event loop (they share the per-token rate limiter and breaker).

    >>> async with NotionClient(token=secret, base_url=url, rate_limit_rps=3) as notion:
    ...     newest = await notion.newest_edit(database_id)
    ...     async for batch in scan_databases(notion, [DatabaseScan(database_id, since=watermark)]):
    ...         handle(batch.pages)
    """

    def __init__(
        self,
        config: NotionClientConfig | None = None,
        /,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        **options: Any,
    ) -> None:
        if config is not None and options:
            raise TypeError("pass either a NotionClientConfig or keyword options, not both")
        self.config = config if config is not None else NotionClientConfig(**options)
        cfg = self.config
        self.stats = NotionStats()
        self._token = cfg.token
        self._transport = transport
        self._limiter = shared_rate_limiter(
            "notion", cfg.token, rate=cfg.rate_limit_rps, burst=cfg.rate_limit_burst
        )
        self._breaker = shared_circuit_breaker(
            f"notion:{cfg.base_url}",
            cfg.token,
            name=f"Notion API ({cfg.base_url})",
            failure_threshold=cfg.breaker_failure_threshold,
            cooldown_s=cfg.breaker_cooldown_s,
        )
        self._retry_policy = RetryPolicy(
            max_attempts=cfg.max_retries + 1,
            max_rate_limited_attempts=cfg.max_rate_limited_retries + 1,
            backoff_initial_s=cfg.backoff_initial_s,
            backoff_max_s=cfg.backoff_max_s,
            long_wait_log_s=cfg.long_wait_log_s,
            max_wait_s=cfg.max_retry_after_s,
            deadline=time.monotonic() + cfg.deadline_s if cfg.deadline_s is not None else None,
            max_wait_name=f"{cfg.max_retry_after_name}={cfg.max_retry_after_s:g}",
            deadline_name=f"{cfg.deadline_name}={cfg.deadline_s:g}" if cfg.deadline_s else cfg.deadline_name,
        )
        self._http: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._slots: asyncio.Semaphore | None = None
        self._targets: dict[str, list[QueryTarget]] = {}
        self.first_server_time: datetime | None = None

    def __repr__(self) -> str:
        return (
            f"NotionClient(base_url={self.config.base_url!r}, api_version={self.config.api_version!r}, "
            f"token=***, rate_limit_rps={self.config.rate_limit_rps})"
        )

    @property
    def api_version(self) -> ApiVersion:
        return self.config.api_version

    # ------------------------------------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> Self:
        self._ensure_open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
        self._http, self._loop, self._slots = None, None, None

    def _ensure_open(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if self._http is None:
            cfg = self.config
            self._loop = loop
            self._slots = asyncio.Semaphore(cfg.max_concurrency)
            self._http = httpx.AsyncClient(
                base_url=cfg.base_url.rstrip("/"),
                auth=_BearerAuth(self._token),
                headers={"Notion-Version": cfg.api_version, "Accept": "application/json"},
                timeout=httpx.Timeout(cfg.timeout_s, connect=cfg.connect_timeout_s),
                limits=httpx.Limits(
                    max_connections=cfg.max_concurrency * 2, max_keepalive_connections=cfg.max_concurrency * 2
                ),
                transport=self._transport,
            )
        elif loop is not self._loop:
            # httpx pools and asyncio semaphores belong to one loop; the limiter is shared anyway.
            raise RuntimeError(
                "this NotionClient is bound to another event loop: create one client per event loop "
                "(clients of one token share the rate limiter and circuit breaker)"
            )
        return self._http

    # ------------------------------------------------------------------------------------------ requests

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        create: bool = False,
    ) -> dict[str, Any]:
        """One API call with rate limiting, retries and the circuit breaker; returns the JSON object.

        ``create=True`` marks a non-idempotent write: only failures that prove nothing was done (429,
        connection refused) are retried; a 5xx, timeout or reset raises :class:`NotionAmbiguousWriteError`.
        """
        http = self._ensure_open()
        label = f"{method} {path}"
        self._breaker.check()
        try:
            body = await retry_async(
                lambda: self._attempt(http, method, path, json, params, create),
                policy=self._retry_policy,
                what=f"Notion {label}",
                logger=logger,
                on_retry=self._count_retry,
            )
        except RetriesExhaustedError as exc:
            self._breaker.record_failure(str(exc.last_error))
            raise
        except NotionAmbiguousWriteError as exc:
            self._breaker.record_failure(str(exc))
            raise
        except NotionAPIError:
            self._breaker.record_success()  # Notion answered; the request was wrong, the service is fine
            raise
        self._breaker.record_success()
        return body

    def _count_retry(self, exc: TransientError, delay: float) -> None:
        self.stats.retries += 1

    async def _attempt(
        self,
        http: httpx.AsyncClient,
        method: str,
        path: str,
        json: Mapping[str, Any] | None,
        params: Mapping[str, Any] | None,
        create: bool,
    ) -> dict[str, Any]:
        label = f"{method} {path}"
        assert self._slots is not None
        async with self._slots:
            self.stats.throttle_wait_s += await self._limiter.acquire()
            self.stats.requests += 1
            try:
                response = await http.request(method, path, json=json, params=params)
                if self.first_server_time is None:
                    self.first_server_time = _server_time(response)
            except httpx.TimeoutException as exc:
                self.stats.errors["timeout"] += 1
                error: TransientError = NotionTimeoutError(
                    f"no answer within {self.config.timeout_s:g} s ({type(exc).__name__})"
                )
                if create and not isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout):
                    raise self._ambiguous(label, error) from None
                raise error from None
            except httpx.TransportError as exc:
                self.stats.errors["connection"] += 1
                error = NotionConnectionError(
                    f"connection failed ({type(exc).__name__}: {self._scrub(str(exc)) or 'no detail'})"
                )
                if create and not isinstance(exc, httpx.ConnectError):
                    raise self._ambiguous(label, error) from None
                raise error from None
        return self._parse(label, response, create)

    def _parse(self, label: str, response: httpx.Response, create: bool) -> dict[str, Any]:
        status = response.status_code
        if status == 200:
            try:
                body = orjson.loads(
                    response.content
                )  # several times faster than json: a 1M-page sync parses GBs
            except orjson.JSONDecodeError:
                body = None
            if isinstance(body, dict):
                return body
            self.stats.errors["malformed"] += 1
            error: TransientError = NotionMalformedResponseError(
                f"200 with a body that is not a JSON object ({len(response.content)} bytes)"
            )
            if create:  # the page was most likely created; only a re-read can tell
                raise self._ambiguous(label, error)
            raise error
        body = self._error_body(response)
        retry_after = _retry_after(response.headers.get("Retry-After"))
        if status == 429:
            self.stats.rate_limited += 1
            wait = retry_after if retry_after is not None else 1.0
            # Every request of this token waits, not only this one; never longer than a call may wait.
            self._limiter.pause(min(wait, self.config.max_retry_after_s))
            raise NotionRateLimitedError(f"429 rate_limited, Retry-After {wait:g} s", retry_after=wait)
        if status in RETRYABLE_STATUSES or status >= 500:
            self.stats.errors[str(status)] += 1
            message = body.get("message") if body else None
            error = NotionServerError(
                f"{status} {body.get('code') if body else ''}".rstrip() + (f": {message}" if message else ""),
                status=status,
                retry_after=retry_after,
            )
            # A create answered 409 may have raced a save of the same page: like a 5xx, only a re-read by the
            # page's Source ID can tell whether it was written (DESIGN §8).
            if create:
                raise self._ambiguous(label, error)
            raise error
        self.stats.errors[str(status)] += 1
        raise api_error(f"Notion {label}", status, body)

    def _error_body(self, response: httpx.Response) -> dict[str, Any] | None:
        try:
            body = response.json()
        except ValueError:
            return None
        if not isinstance(body, dict):
            return None
        # Defence in depth: an error message must never carry the token, whatever the server echoes.
        return {k: self._scrub(v) if isinstance(v, str) else v for k, v in body.items()}

    def _scrub(self, text: str) -> str:
        # The token was registered by NotionClientConfig: the shared scrubber masks it in every quoted form.
        return scrub(text)

    def _ambiguous(self, label: str, cause: Exception) -> NotionAmbiguousWriteError:
        return NotionAmbiguousWriteError(
            f"Notion {label}: outcome unknown ({cause}); the page may or may not exist. Look it up (e.g. by "
            "its Source ID property) before creating it again.",
            cause=str(cause),
        )

    # ------------------------------------------------------------------------------------------ databases

    async def find_database_by_title(self, title: str) -> str | None:
        """The id of the shared database titled exactly ``title`` (``POST /v1/search``), or None.

        Under 2025-09-03 search lists data sources; the database is their parent.
        """
        container = "data_source" if self.config.api_version == "2025-09-03" else "database"
        body = {"query": title, "filter": {"property": "object", "value": container}, "page_size": 100}
        result = await self.request("POST", "/v1/search", json=body)
        for item in result.get("results") or []:
            name = "".join(part.get("plain_text", "") for part in item.get("title") or [])
            if name == title:
                if container == "data_source":
                    return str((item.get("parent") or {}).get("database_id") or item["id"])
                return str(item["id"])
        return None

    async def retrieve_database(self, database_id: str) -> dict[str, Any]:
        """``GET /v1/databases/{id}`` (under 2025-09-03 it lists the database's ``data_sources``)."""
        db = normalize_id(database_id, "database")
        return await self.request("GET", f"/v1/databases/{db}")

    async def query_targets(self, database_id: str) -> list[QueryTarget]:
        """What to query for a database: itself (2022-06-28) or each of its data sources (2025-09-03)."""
        db = normalize_id(database_id, "database")
        if db not in self._targets:
            if self.config.api_version == "2022-06-28":
                self._targets[db] = [QueryTarget(db)]
            else:
                meta = await self.retrieve_database(db)
                sources = meta.get("data_sources") or []
                if not sources:
                    raise NotionError(
                        f"database {db} has no data sources under Notion-Version 2025-09-03 "
                        "(is it a linked database? share the source database with the integration)"
                    )
                self._targets[db] = [QueryTarget(db, normalize_id(s["id"], "data source")) for s in sources]
        return self._targets[db]

    async def query(
        self,
        target: QueryTarget,
        body: Mapping[str, Any],
        *,
        filter_properties: Sequence[str] | None = None,
    ) -> dict[str, Any]:
        """One raw query request (``{results, next_cursor, has_more}``); ``scan_databases`` pages with it."""
        params = {"filter_properties": list(filter_properties)} if filter_properties else None
        return await self.request("POST", target.query_path, json=body, params=params)

    async def database_properties(self, database_id: str) -> dict[str, Any]:
        """The database's property schema by name (``{name: {id, type, <type>: {options...}}}``).

        Under 2025-09-03 the schema belongs to the data source (its only one; several are refused, as for
        writes), so this reads ``GET /v1/data_sources/{id}``.
        """
        db = normalize_id(database_id, "database")
        if self.config.api_version == "2022-06-28":
            meta = await self.retrieve_database(db)
        else:
            targets = await self.query_targets(db)
            if len(targets) > 1:
                raise NotionError(f"database {db} has {len(targets)} data sources: its schema is ambiguous")
            meta = await self.request("GET", f"/v1/data_sources/{targets[0].data_source_id}")
        properties = meta.get("properties")
        if not isinstance(properties, dict):
            raise NotionError(f"database {db}: the answer has no property schema")
        return properties

    async def find_pages(self, database_id: str, query_filter: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Every live page of the database matching ``query_filter`` (all data sources, all result pages).

        Meant for lookups expected to match a handful of pages (a page by its Source ID): each matching page
        is returned whole. Trashed pages never match (queries do not return them).
        """
        return await self._query_all(
            database_id, {"page_size": 100, "filter": dict(query_filter), "sorts": BY_CREATION}
        )

    async def list_users(self) -> list[dict[str, Any]]:
        """Every user of the workspace (``GET /v1/users``, paginated; needs the "read user information"
        capability). Guests are not listed by Notion."""
        users: list[dict[str, Any]] = []
        params: dict[str, Any] = {"page_size": 100}
        while True:
            body = await self.request("GET", "/v1/users", params=params)
            users.extend(user for user in body.get("results") or [] if isinstance(user, dict))
            cursor = body.get("next_cursor")
            if not body.get("has_more") or not cursor:
                return users
            params = {"page_size": 100, "start_cursor": cursor}

    async def newest_edit(self, database_id: str) -> datetime | None:
        """The greatest ``last_edited_time`` of the database's pages (None when it has none).

        One request per query target (newest page first, page_size 1, title only): cheap enough to poll, e.g.
        to tell whether a database changed since the last sync.
        """
        targets = await self.query_targets(database_id)
        responses = await asyncio.gather(
            *(self.query(target, newest_first_body(), filter_properties=TITLE_ONLY) for target in targets)
        )
        edits = [edit for response in responses if (edit := first_edit_time(response)) is not None]
        return max(edits, default=None)

    async def list_page_ids(self, database_id: str) -> set[str]:
        """Every live page id of the database: the cheapest full listing Notion allows.

        100 pages per request with only the title property (``filter_properties``), oldest first by
        ``created_time``: an edit during the listing does not move a page, so no page is skipped. Trashed pages
        are not listed (queries never return them). Costs ceil(pages / 100) requests per query target.
        """
        body = {"page_size": 100, "sorts": BY_CREATION}
        pages = await self._query_all(database_id, body, filter_properties=TITLE_ONLY)
        return {normalize_id(page["id"], "page") for page in pages}

    async def _query_all(
        self, database_id: str, body: Mapping[str, Any], *, filter_properties: Sequence[str] | None = None
    ) -> list[dict[str, Any]]:
        """Every result of ``body`` over all of the database's query targets, following the cursors."""
        pages: list[dict[str, Any]] = []
        for target in await self.query_targets(database_id):
            page_body = dict(body)
            while True:
                response = await self.query(target, page_body, filter_properties=filter_properties)
                pages.extend(page for page in response.get("results") or [] if isinstance(page, dict))
                cursor = response.get("next_cursor")
                if not response.get("has_more") or not cursor:
                    break
                page_body["start_cursor"] = cursor
        return pages

    # ------------------------------------------------------------------------------------------ pages

    async def retrieve_page(self, page_id: str, *, missing_ok: bool = False) -> dict[str, Any] | None:
        """``GET /v1/pages/{id}``; a trashed page comes back with ``in_trash: true``.

        With ``missing_ok`` a 404 (deleted, or no longer shared) returns None instead of raising.
        """
        page = normalize_id(page_id, "page")
        try:
            return await self.request("GET", f"/v1/pages/{page}")
        except NotionNotFoundError:
            if missing_ok:
                return None
            raise

    async def property_items(self, page_id: str, property_id: str) -> list[dict[str, Any]]:
        """Every item of a page property (``GET /v1/pages/{id}/properties/{property_id}``, paginated)."""
        path = f"/v1/pages/{normalize_id(page_id, 'page')}/properties/{property_id_path(property_id)}"
        items: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {"page_size": 100}
            if cursor:
                params["start_cursor"] = cursor
            body = await self.request("GET", path, params=params)
            if body.get("object") != "list":
                return [body]  # single-value types answer with one property_item
            items.extend(body.get("results") or [])
            cursor = body.get("next_cursor")
            if not body.get("has_more") or not cursor:
                return items

    async def complete_truncated(self, page: dict[str, Any]) -> dict[str, Any]:
        """Replace truncated relation/people lists with their full lists (in place; see is_truncated)."""
        truncated = [p for p in (page.get("properties") or {}).values() if is_truncated(p)]
        for prop in truncated:
            kind = prop["type"]
            items = await self.property_items(page["id"], prop["id"])
            prop[kind] = [item[kind] for item in items if item.get(kind)]
            if kind == "relation":
                prop["has_more"] = False
            self.stats.truncated_properties_completed += 1
        return page

    async def create_page(
        self,
        database_id: str,
        properties: Mapping[str, Any],
        *,
        children: Sequence[Mapping[str, Any]] | None = None,
        data_source_id: str | None = None,
    ) -> dict[str, Any]:
        """Create a page in a database. Never retried after a 5xx, 409 or timeout: see NotionAmbiguousWriteError.

        Idempotent creation (look up by Source ID, re-read after an ambiguous failure) is
        :class:`ppm_resources.writeback.writer.ActionWriter`'s job.
        """
        body: dict[str, Any] = {
            "parent": await self._parent(database_id, data_source_id),
            "properties": dict(properties),
        }
        if children:
            body["children"] = list(children)
        return await self.request("POST", "/v1/pages", json=body, create=True)

    async def update_page(
        self,
        page_id: str,
        *,
        properties: Mapping[str, Any] | None = None,
        in_trash: bool | None = None,
    ) -> dict[str, Any]:
        """Update properties and/or move to / restore from the trash (idempotent, so retried)."""
        body: dict[str, Any] = {}
        if properties is not None:
            body["properties"] = dict(properties)
        if in_trash is not None:
            body["in_trash"] = in_trash
        return await self.request("PATCH", f"/v1/pages/{normalize_id(page_id, 'page')}", json=body)

    async def _parent(self, database_id: str, data_source_id: str | None) -> dict[str, str]:
        db = normalize_id(database_id, "database")
        if self.config.api_version == "2022-06-28":
            return {"type": "database_id", "database_id": db}
        if data_source_id is None:
            targets = await self.query_targets(db)
            if len(targets) > 1:
                raise NotionError(
                    f"database {db} has {len(targets)} data sources: pass data_source_id to choose where "
                    "the page goes"
                )
            data_source_id = targets[0].data_source_id
        assert data_source_id is not None
        return {"type": "data_source_id", "data_source_id": normalize_id(data_source_id, "data source")}


def _server_time(response: httpx.Response) -> datetime:
    """The server's clock when it answered (the `Date` header; this machine's clock when there is none)."""
    with contextlib.suppress(TypeError, ValueError, IndexError):
        moment = parsedate_to_datetime(response.headers.get("Date", ""))
        if moment.tzinfo is not None:
            return moment.astimezone(UTC)
    return datetime.now(UTC)


def _retry_after(value: str | None) -> float | None:
    """Retry-After as seconds (Notion sends seconds; an HTTP date is accepted too)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(when.tzinfo)).total_seconds())


__all__ = ["NOTION_API_URL", "NotionClient", "NotionClientConfig"]
