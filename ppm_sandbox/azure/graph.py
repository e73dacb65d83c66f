"""Resource Graph: `POST /providers/Microsoft.ResourceGraph/resources` (2024-04-01 and 2021-03-01).

Request `{"subscriptions"?, "managementGroups"?, "query", "options"?: {"$top", "$skip", "$skipToken",
"resultFormat": "objectArray" | "table", "allowPartialScopes", "authorizationScopeFilter"}}`; response
`{"totalRecords", "count", "data", "facets": [], "resultTruncated": "true" | "false", "$skipToken"?}`.

Scope: the requested subscriptions (or, without any, every subscription of the tenant, or the tenant
root management group's) that the principal can read; others are silently left out, as ARG does. When
none is left: 400 NoValidSubscriptionsInQueryRequest.

Paging (documented behaviour): a page holds `$top` rows (1..1000, default 1000); `$skipToken` is
returned only when more rows remain and the query can be paged, i.e. it keeps the `id` column and has no
limit/take/top; otherwise `resultTruncated` is "true" and there is no token. A token resumes the same
query and scopes only (400 otherwise); `$top` / `$skip` given with a token override its page size /
offset. `totalRecords` counts every matching row.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ppm_sandbox.azure import kql
from ppm_sandbox.azure.errors import ArmError, graph_error, invalid_query
from ppm_sandbox.azure.model import COLUMN_TYPES, RESOURCE_COLUMNS
from ppm_sandbox.azure.pagetokens import PageTokens, binding
from ppm_sandbox.azure.store import AzureStore

MAX_TOP = 1000
DEFAULT_TOP = 1000
RESULT_FORMATS = ("objectArray", "table")
SCOPE_FILTERS = ("AtScopeAndBelow", "AtScopeAndAbove", "AtScopeExact", "AtScopeAboveAndBelow")


@dataclass(frozen=True)
class GraphRequest:
    query: str
    subscriptions: tuple[str, ...] | None
    management_groups: tuple[str, ...] | None
    top: int | None
    skip: int | None
    skip_token: str | None
    result_format: str


def _bad_request(now: datetime, code: str, message: str) -> ArmError:
    return graph_error(400, "BadRequest", now, [{"code": code, "message": message}])


def parse_request(body: Any, now: datetime) -> GraphRequest:
    """Validate the request body (400 BadRequest with the offending field otherwise)."""
    if not isinstance(body, Mapping):
        raise _bad_request(
            now, "InvalidRequestContent", "The request content was invalid and could not be deserialized."
        )
    query = body.get("query")
    if not isinstance(query, str):
        raise _bad_request(
            now, "InvalidRequestContent", "The 'query' property is required and must be a string."
        )

    def strings(key: str) -> tuple[str, ...] | None:
        value = body.get(key)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise _bad_request(
                now, "InvalidRequestContent", f"The '{key}' property must be an array of strings."
            )
        return tuple(value)

    options = body.get("options") or {}
    if not isinstance(options, Mapping):
        raise _bad_request(now, "InvalidRequestContent", "The 'options' property must be an object.")

    def integer(key: str, low: int, high: int | None) -> int | None:
        value = options.get(key)
        if value is None:
            return None
        if (
            not isinstance(value, int)
            or isinstance(value, bool)
            or value < low
            or (high is not None and value > high)
        ):
            bound = f"between {low} and {high}" if high is not None else f"at least {low}"
            raise _bad_request(
                now, "InvalidRequestParameter", f"The value of '{key}' must be an integer {bound}."
            )
        return value

    result_format = options.get("resultFormat", "objectArray")
    if result_format not in RESULT_FORMATS:
        raise _bad_request(
            now,
            "InvalidRequestParameter",
            f"The value of 'resultFormat' must be one of {', '.join(RESULT_FORMATS)}.",
        )
    scope_filter = options.get("authorizationScopeFilter", "AtScopeAndBelow")
    if scope_filter not in SCOPE_FILTERS:
        raise _bad_request(
            now,
            "InvalidRequestParameter",
            f"The value of 'authorizationScopeFilter' must be one of {', '.join(SCOPE_FILTERS)}.",
        )
    token = options.get("$skipToken")
    if token is not None and not isinstance(token, str):
        raise _bad_request(now, "InvalidRequestParameter", "The value of '$skipToken' must be a string.")
    return GraphRequest(
        query=query,
        subscriptions=strings("subscriptions"),
        management_groups=strings("managementGroups"),
        top=integer("$top", 1, MAX_TOP),
        skip=integer("$skip", 0, None),
        skip_token=token or None,
        result_format=result_format,
    )


class ResourceGraph:
    """Runs queries for a principal against the live store; caches results per store version."""

    def __init__(self, store: AzureStore, tokens: PageTokens | None = None, cache_size: int = 6) -> None:
        self.store = store
        self.tokens = tokens or PageTokens()
        self._cache: OrderedDict[tuple[Any, ...], list[dict[str, Any]]] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def scope(self, client_id: str, request: GraphRequest, now: datetime) -> list[str]:
        """Readable subscriptions the request covers (400 NoValidSubscriptionsInQueryRequest if none)."""
        readable = self.store.readable(client_id)
        if request.subscriptions:
            wanted = {s.lower() for s in request.subscriptions}
            given = ",".join(request.subscriptions)
        elif request.management_groups:
            # Only the tenant root group (named after the tenant id) exists in the emulated tenant.
            root = self.store.tenant_id.lower()
            wanted = set(readable) if any(g.lower() == root for g in request.management_groups) else set()
            given = ",".join(request.management_groups)
        else:
            wanted, given = set(readable), ""
        scope = [s for s in readable if s in wanted]
        if not scope:
            raise _bad_request(
                now,
                "NoValidSubscriptionsInQueryRequest",
                f"There must be at least one subscription that is eligible to contain resources. Given: '{given}'.",
            )
        return scope

    def run(self, client_id: str, body: Any, now: datetime) -> dict[str, Any]:
        request = parse_request(body, now)
        scope = self.scope(client_id, request, now)
        try:
            query = _parse(request.query)
        except kql.KqlError as exc:
            raise invalid_query(now, _failure(exc)) from None
        rows = self._rows(query, scope)
        bound = binding(request.query, *sorted(scope), client_id)
        offset, size = request.skip or 0, request.top or DEFAULT_TOP
        if request.skip_token:
            try:
                token_offset, token_size = self.tokens.read(request.skip_token, bound)
            except ValueError:
                raise _bad_request(
                    now,
                    "InvalidSkipToken",
                    "The provided $skipToken is invalid. It must be passed together with the same query and scopes "
                    "as the request that returned it.",
                ) from None
            offset = request.skip if request.skip is not None else token_offset
            size = request.top if request.top is not None else token_size
        page = rows[offset : offset + size]
        more = offset + len(page) < len(rows)
        pageable = query.projects_id and not query.limited
        payload: dict[str, Any] = {
            "totalRecords": len(rows),
            "count": len(page),
            "data": _format(page, query.columns, request.result_format),
            "facets": [],
            "resultTruncated": "true" if more and not pageable else "false",
        }
        if more and pageable:
            payload["$skipToken"] = self.tokens.issue(bound, offset + len(page), size)
        return payload

    def _rows(self, query: kql.Query, scope: Sequence[str]) -> list[dict[str, Any]]:
        key = (query.text, tuple(sorted(scope)), self.store.version)
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
                return cached
        tenant = self.store.tenant_id
        if query.table == kql.RESOURCES:
            source = (res.to_row(tenant) for res in self.store.resources(scope))
        else:
            subs = [s for s in self.store.subscriptions() if s.subscription_id in scope]
            groups = self.store.resource_groups(scope)
            source = iter([*(s.to_row(tenant) for s in subs), *(g.to_row(tenant) for g in groups)])
        rows = kql.execute(query, source)
        with self._lock:
            self._cache[key] = rows
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return rows


def _parse(text: str) -> kql.Query:
    return kql.parse(text, RESOURCE_COLUMNS)


def _failure(exc: kql.KqlError) -> dict[str, Any]:
    """The `details` entry of a refused query: ParserFailure with its position, as ARG reports it."""
    detail: dict[str, Any] = {
        "code": "ParserFailure" if exc.kind != "semantic" else "FailedToResolveScalarExpression",
        "message": "ParserFailure" if exc.kind == "parse" else exc.message,
        "line": exc.line,
        "characterPositionInLine": exc.column,
        "token": exc.token,
    }
    if exc.kind == "unsupported":
        detail["code"] = "ParserFailure"
    return detail


def _format(rows: list[dict[str, Any]], columns: Sequence[str], result_format: str) -> Any:
    if result_format == "objectArray":
        return [{name: row.get(name) for name in columns} for row in rows]
    return {
        "columns": [
            {"name": name, "type": COLUMN_TYPES.get(name, _infer_type(rows, name))} for name in columns
        ],
        "rows": [[row.get(name) for name in columns] for row in rows],
    }


def _infer_type(rows: list[dict[str, Any]], name: str) -> str:
    for row in rows:
        value = row.get(name)
        if isinstance(value, bool):
            return "boolean"
        if isinstance(value, int):
            return "integer"
        if isinstance(value, float):
            return "number"
        if isinstance(value, str):
            return "string"
        if value is not None:
            return "object"
    return "string"
