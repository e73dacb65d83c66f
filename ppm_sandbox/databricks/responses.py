"""JSON responses in the compact form Databricks sends."""

import json
from collections.abc import Mapping
from typing import Any

from starlette.responses import Response

from ppm_sandbox.databricks.errors import ApiError


def json_response(status: int, body: Any, headers: Mapping[str, str] | None = None) -> Response:
    return Response(
        json.dumps(body, separators=(",", ":"), ensure_ascii=False),
        status_code=status,
        media_type="application/json",
        headers=dict(headers or {}),
    )


def error_response(error: ApiError, headers: Mapping[str, str] | None = None) -> Response:
    return json_response(error.status, error.body(), headers)
