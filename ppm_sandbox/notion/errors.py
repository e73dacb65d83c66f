"""Notion's error model: `{object: "error", status, code, message, request_id}`."""

from __future__ import annotations

import json
import uuid

# Default code and message per HTTP status, worded as the real API words them.
DEFAULTS: dict[int, tuple[str, str]] = {
    400: ("invalid_request", "This request is not supported."),
    401: ("unauthorized", "API token is invalid."),
    403: ("restricted_resource", "API token does not have access to this resource."),
    404: ("object_not_found", "Could not find the requested object."),
    409: ("conflict_error", "Conflict occurred while saving. Please try again."),
    429: ("rate_limited", "You have been rate limited. Please try again in a few minutes."),
    500: ("internal_server_error", "Unexpected error occurred."),
    502: (
        "bad_gateway",
        "Notion encountered an issue while attempting to complete this request. Please try again.",
    ),
    503: ("service_unavailable", "Notion is unavailable, please try again later."),
    504: (
        "gateway_timeout",
        "Notion timed out while attempting to complete this request. Please try again later.",
    ),
}

NOT_SHARED_HINT = "Make sure the relevant pages and databases are shared with your integration."


class NotionError(Exception):
    """Raised by handlers and the store; rendered by the app as a Notion error response."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def validation_error(message: str) -> NotionError:
    return NotionError(400, "validation_error", message)


def not_found(kind: str, object_id: str) -> NotionError:
    return NotionError(
        404, "object_not_found", f"Could not find {kind} with ID: {object_id}. {NOT_SHARED_HINT}"
    )


def invalid_request_url(message: str = "Invalid request URL.") -> NotionError:
    return NotionError(400, "invalid_request_url", message)


def error_body(status: int, code: str | None = None, message: str | None = None) -> dict[str, object]:
    default_code, default_message = DEFAULTS.get(status, DEFAULTS[500])
    return {
        "object": "error",
        "status": status,
        "code": code or default_code,
        "message": message or (default_message if code in (None, default_code) else code.replace("_", " ")),
        "request_id": str(uuid.uuid4()),
    }


def render_error(status: int, code: str | None = None) -> bytes:
    """`faults.ErrorRenderer` for the Notion gate (429, injected 5xx, timeouts)."""
    return json.dumps(error_body(status, code)).encode()
