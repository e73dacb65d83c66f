"""Advisor: `GET /subscriptions/{id}/providers/Microsoft.Advisor/recommendations` (Recommendations - List).

`$filter` (Category, ResourceGroup, ResourceId, RecommendationTypeGuid with `eq`, joined by `and` / `or`,
values case-insensitive), `$top` (page size; default `advisor_page_size`, 100), and `$skipToken` /
`$skiptoken`. The response is `{"value": [...], "nextLink"?}` where `nextLink` is absolute, on the base
URL the client used (so `AdvisorManagementClient.recommendations.list()` follows it to the sandbox), and
carries `$top`, `$filter` and an opaque signed `$skiptoken` bound to the subscription, filter and principal.

A subscription the principal cannot read answers 403 AuthorizationFailed; one the tenant does not have,
404 SubscriptionNotFound.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote

from ppm_sandbox.azure.errors import ArmError
from ppm_sandbox.azure.model import Recommendation
from ppm_sandbox.azure.pagetokens import PageTokens, binding
from ppm_sandbox.azure.store import AzureStore

MAX_PAGE = 1000
FILTER_FIELDS: dict[str, Callable[[Recommendation], str | None]] = {
    "category": lambda r: r.category,
    "resourcegroup": lambda r: r.resource_group,
    "resourceid": lambda r: r.resource_id,
    "recommendationtypeguid": lambda r: r.type_id,
}
_FILTER_TOKEN = re.compile(r"\s*(?:(\()|(\))|(and|or)\b|([A-Za-z]+)\s+eq\s+'((?:[^']|'')*)')", re.IGNORECASE)

Predicate = Callable[[Recommendation], bool]


def parse_filter(text: str) -> Predicate:
    """An OData-like `$filter` as a predicate; ValueError when it is not one Advisor accepts."""
    tokens: list[tuple[str, Any]] = []
    position = 0
    while position < len(text):
        if not text[position:].strip():
            break
        match = _FILTER_TOKEN.match(text, position)
        if not match:
            raise ValueError(f"invalid $filter near position {position}: {text[position : position + 20]!r}")
        position = match.end()
        if match.group(1):
            tokens.append(("(", None))
        elif match.group(2):
            tokens.append((")", None))
        elif match.group(3):
            tokens.append((match.group(3).lower(), None))
        else:
            field = match.group(4).lower()
            if field not in FILTER_FIELDS:
                raise ValueError(f"$filter property '{match.group(4)}' is not supported")
            tokens.append(("eq", (FILTER_FIELDS[field], match.group(5).replace("''", "'").lower())))
    if not tokens:
        raise ValueError("empty $filter")
    predicate, rest = _disjunction(tokens)
    if rest:
        raise ValueError("invalid $filter")
    return predicate


def _disjunction(tokens: list[tuple[str, Any]]) -> tuple[Predicate, list[tuple[str, Any]]]:
    left, rest = _conjunction(tokens)
    parts = [left]
    while rest and rest[0][0] == "or":
        right, rest = _conjunction(rest[1:])
        parts.append(right)
    return (parts[0] if len(parts) == 1 else lambda r: any(p(r) for p in parts)), rest


def _conjunction(tokens: list[tuple[str, Any]]) -> tuple[Predicate, list[tuple[str, Any]]]:
    left, rest = _term(tokens)
    parts = [left]
    while rest and rest[0][0] == "and":
        right, rest = _term(rest[1:])
        parts.append(right)
    return (parts[0] if len(parts) == 1 else lambda r: all(p(r) for p in parts)), rest


def _term(tokens: list[tuple[str, Any]]) -> tuple[Predicate, list[tuple[str, Any]]]:
    if not tokens:
        raise ValueError("invalid $filter")
    kind, value = tokens[0]
    if kind == "(":
        inner, rest = _disjunction(tokens[1:])
        if not rest or rest[0][0] != ")":
            raise ValueError("unbalanced parentheses in $filter")
        return inner, rest[1:]
    if kind == "eq":
        get, expected = value
        return (lambda r: (get(r) or "").lower() == expected), tokens[1:]
    raise ValueError("invalid $filter")


class Advisor:
    def __init__(self, store: AzureStore, tokens: PageTokens | None = None, page_size: int = 100) -> None:
        self.store = store
        self.tokens = tokens or PageTokens()
        self.page_size = page_size

    def list(
        self,
        *,
        client_id: str,
        object_id: str,
        subscription: str,
        params: Mapping[str, str],
        base: str,
        api_version: str,
        now: datetime,
    ) -> dict[str, Any]:
        """One page of recommendations; `params` are the query parameters, keys lower-cased."""
        sub = self.store.subscription(subscription)
        if sub is None:
            raise ArmError(
                404, "SubscriptionNotFound", f"The subscription '{subscription}' could not be found."
            )
        if not self.store.can_read(client_id, sub.subscription_id):
            raise ArmError(
                403,
                "AuthorizationFailed",
                f"The client '{client_id}' with object id '{object_id}' does not have authorization to perform action "
                f"'Microsoft.Advisor/recommendations/read' over scope '/subscriptions/{subscription}' or the scope is "
                "invalid. If access was recently granted, please refresh your credentials.",
            )
        text = params.get("$filter")
        predicate: Predicate | None = None
        if text:
            try:
                predicate = parse_filter(text)
            except ValueError as exc:
                raise ArmError(400, "BadRequest", f"Invalid $filter '{text}': {exc}.") from None
        size = self.page_size
        if params.get("$top") is not None:
            top = params["$top"]
            if not top.isdigit() or not 1 <= int(top) <= MAX_PAGE:
                raise ArmError(
                    400,
                    "BadRequest",
                    f"Invalid $top value '{top}'. It must be an integer between 1 and {MAX_PAGE}.",
                )
            size = int(top)
        bound = binding(sub.subscription_id, text or "", client_id)
        offset = 0
        token = params.get("$skiptoken")
        if token:
            try:
                offset, _ = self.tokens.read(token, bound)
            except ValueError:
                raise ArmError(400, "BadRequest", "The provided $skipToken is invalid or expired.") from None
        recommendations = [
            r for r in self.store.recommendations(sub.subscription_id) if predicate is None or predicate(r)
        ]
        page = recommendations[offset : offset + size]
        payload: dict[str, Any] = {"value": [r.to_json() for r in page]}
        if offset + len(page) < len(recommendations):
            next_token = self.tokens.issue(bound, offset + len(page), size, url_safe=True)
            link = (
                f"{base}/subscriptions/{subscription}/providers/Microsoft.Advisor/recommendations"
                f"?api-version={api_version}&$top={size}&$skiptoken={next_token}"
            )
            if text:
                link += f"&$filter={quote(text, safe='')}"
            payload["nextLink"] = link
        return payload
