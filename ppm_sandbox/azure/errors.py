"""Azure's two error formats, for handler errors and gate-made ones alike.

ARM (management endpoints): `{"error": {"code", "message", "details"?}}`. Resource Graph words its own
errors as ARM does for it: the message is only "Please provide below info when asking for support:
timestamp = ..., correlationId = ...", the reason is in `details` (InvalidQuery + ParserFailure,
RateLimiting, NoValidSubscriptionsInQueryRequest).

Microsoft identity platform (login endpoints): `{"error", "error_description" (AADSTS<code>: ...
Trace ID / Correlation ID / Timestamp), "error_codes", "timestamp", "trace_id", "correlation_id",
"error_uri"}`.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

#: Path of the request being served, set in front of the gate so that gate-made errors (429 from a
#: configured token bucket, injected 5xx, timeouts) use the format of the endpoint they answer.
CURRENT_PATH: ContextVar[str] = ContextVar("ppm_sandbox_azure_path", default="/")

THROTTLED_DETAIL = (
    "Client application has been throttled and should not attempt to repeat the request until an amount of "
    "time has elapsed. Please see https://aka.ms/resourcegraph-throttling for help."
)
INVALID_QUERY = (
    "Query is invalid. Please refer to the documentation for the Azure Resource Graph service and fix the "
    "error before retrying."
)


class ArmError(Exception):
    """An ARM error response: raised by handlers, rendered by the app."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        details: Sequence[Mapping[str, Any]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = list(details) if details is not None else None
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details is not None:
            error["details"] = self.details
        return {"error": error}


def support_message(now: datetime, correlation_id: str | None = None) -> str:
    """Resource Graph's top-level error message (the reason is in `details`)."""
    stamp = now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond * 10:07d}Z"
    return (
        "Please provide below info when asking for support: "
        f"timestamp = {stamp}, correlationId = {correlation_id or uuid.uuid4()}."
    )


def graph_error(
    status: int, code: str, now: datetime, details: Sequence[Mapping[str, Any]], **headers: str
) -> ArmError:
    return ArmError(status, code, support_message(now), details=details, headers=headers)


def invalid_query(now: datetime, failure: Mapping[str, Any]) -> ArmError:
    """400 BadRequest: [InvalidQuery, <the failure>] (ParserFailure with its position, ...)."""
    return graph_error(
        400, "BadRequest", now, [{"code": "InvalidQuery", "message": INVALID_QUERY}, dict(failure)]
    )


def rate_limited(now: datetime) -> dict[str, Any]:
    """Body of Resource Graph's 429."""
    return graph_error(
        429, "RateLimiting", now, [{"code": "RateLimiting", "message": THROTTLED_DETAIL}]
    ).body()


def aad_error(
    status: int, error: str, code: int, description: str, now: datetime
) -> tuple[int, dict[str, Any]]:
    """(status, body) of a Microsoft identity platform error."""
    trace_id, correlation_id = str(uuid.uuid4()), str(uuid.uuid4())
    stamp = now.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    return status, {
        "error": error,
        "error_description": (
            f"AADSTS{code}: {description}\r\nTrace ID: {trace_id}\r\nCorrelation ID: {correlation_id}\r\n"
            f"Timestamp: {stamp}"
        ),
        "error_codes": [code],
        "timestamp": stamp,
        "trace_id": trace_id,
        "correlation_id": correlation_id,
        "error_uri": f"https://login.microsoftonline.com/error?code={code}",
    }


_ARM_DEFAULTS: dict[int, tuple[str, str]] = {
    429: (
        "TooManyRequests",
        "The request is being throttled as the limit has been reached for operation type - Read. "
        "For more information, see - https://aka.ms/srpthrottlinglimits",
    ),
    500: ("InternalServerError", "Encountered internal server error. Please try again."),
    502: ("BadGateway", "The gateway did not receive a response from the service. Please try again."),
    503: ("ServiceUnavailable", "The service is currently unavailable. Please try again."),
    504: (
        "GatewayTimeout",
        "The gateway did not receive a response from 'Microsoft.ResourceGraph' within the specified time period.",
    ),
}
_AAD_DEFAULTS: dict[int, tuple[str, int, str]] = {
    429: ("temporarily_unavailable", 90055, "The service is throttling requests. Please retry later."),
    500: ("server_error", 90033, "A transient error has occurred. Please try again."),
    502: ("server_error", 90033, "A transient error has occurred. Please try again."),
    503: ("temporarily_unavailable", 90033, "A transient error has occurred. Please try again."),
    504: ("temporarily_unavailable", 90033, "A transient error has occurred. Please try again."),
}


def is_login_path(path: str) -> bool:
    """The identity platform's endpoints: /{tenant}/oauth2/..., /{tenant}/v2.0/.well-known/..."""
    lowered = path.lower()
    return "/oauth2/" in lowered or "/.well-known/" in lowered or "/discovery/" in lowered


def is_graph_path(path: str) -> bool:
    return path.lower().startswith("/providers/microsoft.resourcegraph/")


def render_gate_error(status: int, code: str | None, path: str, now: datetime | None = None) -> bytes:
    """Body of a gate-made error in the format of the endpoint at `path`."""
    moment = now or datetime.now(UTC)
    if is_login_path(path):
        error, aad_code, description = _AAD_DEFAULTS.get(status, _AAD_DEFAULTS[500])
        return json.dumps(aad_error(status, error, aad_code, description, moment)[1]).encode()
    if status == 429 and is_graph_path(path):
        return json.dumps(rate_limited(moment)).encode()
    arm_code, message = _ARM_DEFAULTS.get(status, _ARM_DEFAULTS[500])
    if code == "gateway_timeout":
        arm_code, message = _ARM_DEFAULTS[504]
    return json.dumps({"error": {"code": arm_code, "message": message}}).encode()
