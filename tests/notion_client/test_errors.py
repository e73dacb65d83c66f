"""The 4xx errors say what to do (pure mapping; the HTTP paths are covered in test_client_faults)."""

from __future__ import annotations

import pytest

from ppm_resources.notion.errors import (
    NotionAPIError,
    NotionAuthError,
    NotionBadRequestError,
    NotionCursorExpiredError,
    NotionForbiddenError,
    NotionNotFoundError,
    api_error,
)
from ppm_resources.notion.ids import normalize_id, property_id_path

REQUEST = "Notion POST /v1/databases/x/query"


@pytest.mark.parametrize(
    ("status", "code", "message", "kind", "advice"),
    [
        (401, "unauthorized", "API token is invalid.", NotionAuthError, "invalid token: check NOTION_TOKEN"),
        (403, "restricted_resource", "no access", NotionForbiddenError, "enable read/update/insert content"),
        (404, "object_not_found", "Could not find database", NotionNotFoundError, "share it from Notion's"),
        (
            400,
            "validation_error",
            "body.filter is bad",
            NotionBadRequestError,
            "Notion says: body.filter is bad",
        ),
        (
            400,
            "validation_error",
            "The start_cursor provided is invalid: abc",
            NotionCursorExpiredError,
            "pagination cursor rejected",
        ),
        (418, "teapot", None, NotionAPIError, "unexpected answer"),
    ],
)
def test_api_error_mapping(status: int, code: str, message: str | None, kind: type, advice: str) -> None:
    error = api_error(REQUEST, status, {"code": code, "message": message, "request_id": "r-1"})
    assert type(error) is kind
    assert advice in str(error) and REQUEST in str(error) and "request_id=r-1" in str(error)
    assert error.status == status and error.code == code


def test_ids_are_validated_and_normalized() -> None:
    assert normalize_id("8A0D2F5E1C1B4C5E9B0A2F3D4E5F6A7B") == "8a0d2f5e-1c1b-4c5e-9b0a-2f3d4e5f6a7b"
    for bad in ("", "../pages", "8a0d2f5e-1c1b-4c5e-9b0a-2f3d4e5f6a7", "zzzzzzzz1c1b4c5e9b0a2f3d4e5f6a7b"):
        with pytest.raises(ValueError, match="not a Notion"):
            normalize_id(bad, "page")
    assert property_id_path("%3AUPp") == property_id_path(":UPp") == "%3AUPp"
    assert property_id_path("a/b") == "a%2Fb"
