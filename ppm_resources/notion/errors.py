"""Notion API errors: messages say what failed, on which request, and what to do; never the token."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ppm_resources.resilience import CircuitOpenError, RetriesExhaustedError, TransientError

__all__ = [
    "RETRYABLE_STATUSES",
    "CircuitOpenError",
    "NotionAPIError",
    "NotionAmbiguousWriteError",
    "NotionAuthError",
    "NotionBadRequestError",
    "NotionConnectionError",
    "NotionCursorExpiredError",
    "NotionError",
    "NotionForbiddenError",
    "NotionMalformedResponseError",
    "NotionNotFoundError",
    "NotionRateLimitedError",
    "NotionServerError",
    "NotionTimeoutError",
    "NotionTransientError",
    "RetriesExhaustedError",
    "api_error",
]

#: Statuses retried with backoff (409 is Notion's "conflict_error: try again").
RETRYABLE_STATUSES = frozenset({409, 429, 500, 502, 503, 504, 529})


class NotionError(Exception):
    """Base of every error raised by the Notion client."""


class NotionAPIError(NotionError):
    """Notion answered with an error object ``{object: "error", status, code, message, request_id}``."""

    def __init__(
        self,
        request: str,
        status: int,
        code: str | None,
        message: str | None,
        request_id: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.request = request  # "POST /v1/databases/<id>/query"
        self.status = status
        self.code = code
        self.notion_message = message
        self.request_id = request_id
        text = f"{request} -> {status} {code or 'error'}"
        if hint:
            text += f": {hint}"
        if message:
            text += f" (Notion says: {message})"
        if request_id:
            text += f" [request_id={request_id}]"
        super().__init__(text)


class NotionBadRequestError(NotionAPIError):
    """400: the request itself is wrong (filter, property name, body); fix the request, do not retry."""


class NotionCursorExpiredError(NotionBadRequestError):
    """400 ``validation_error`` on ``start_cursor``: the pagination cursor is no longer valid."""


class NotionAuthError(NotionAPIError):
    """401: the token is invalid or revoked."""


class NotionForbiddenError(NotionAPIError):
    """403: the integration lacks the capability for this call."""


class NotionNotFoundError(NotionAPIError):
    """404: the object does not exist, or is not shared with the integration."""


class NotionTransientError(NotionError, TransientError):
    """A failure worth retrying (rate limit, 5xx, timeout, connection reset, malformed body)."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class NotionRateLimitedError(NotionTransientError):
    """429 rate_limited: wait ``retry_after`` seconds."""

    rate_limited = True


class NotionServerError(NotionTransientError):
    """5xx (or 409 conflict): Notion had a problem; a later attempt usually succeeds."""

    def __init__(self, message: str, *, status: int, retry_after: float | None = None) -> None:
        super().__init__(message, retry_after=retry_after)
        self.status = status


class NotionTimeoutError(NotionTransientError):
    """No (complete) answer within the client's timeout."""


class NotionConnectionError(NotionTransientError):
    """The connection failed or was reset."""


class NotionMalformedResponseError(NotionTransientError):
    """The body was not the JSON object the endpoint promises."""


class NotionAmbiguousWriteError(NotionError):
    """A create failed in a way that may or may not have created the page; never retried blindly.

    ``cause`` is the failure alone ("502 bad_gateway", "connection failed (...)"), for ledgers and notes.
    """

    def __init__(self, message: str, *, cause: str = "") -> None:
        super().__init__(message)
        self.cause = cause or message


_CURSOR_MARKERS = ("start_cursor", "cursor")


def api_error(request: str, status: int, body: Mapping[str, Any] | None) -> NotionAPIError:
    """The non-retryable error for a 4xx answer, with the hint telling the user what to do."""
    body = body or {}
    code = body.get("code")
    message = body.get("message")
    request_id = body.get("request_id")
    if status == 401:
        return NotionAuthError(
            request,
            status,
            code,
            message,
            request_id,
            "invalid token: check NOTION_TOKEN (integration secret)",
        )
    if status == 403:
        return NotionForbiddenError(
            request,
            status,
            code,
            message,
            request_id,
            "the integration lacks the capability for this call: enable read/update/insert content in "
            "the integration's settings",
        )
    if status == 404:
        return NotionNotFoundError(
            request,
            status,
            code,
            message,
            request_id,
            "database/page not found or not shared with the integration: share it from Notion's "
            "connection menu (••• > Connections)",
        )
    if status == 400 and code == "validation_error" and any(m in (message or "") for m in _CURSOR_MARKERS):
        return NotionCursorExpiredError(
            request, status, code, message, request_id, "pagination cursor rejected"
        )
    if status == 400:
        return NotionBadRequestError(
            request, status, code, message, request_id, "Notion rejected the request"
        )
    return NotionAPIError(request, status, code, message, request_id, "unexpected answer")
