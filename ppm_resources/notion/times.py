"""Notion timestamps: parsing the API's ISO strings and writing its filter format."""

from __future__ import annotations

from datetime import UTC, datetime


def parse_time(value: str | None) -> datetime | None:
    """A Notion ISO timestamp (``2024-05-01T10:31:00.000Z``) as an aware UTC datetime."""
    if not value:
        return None
    return datetime.fromisoformat(value).astimezone(UTC)


def notion_time(value: datetime) -> str:
    """An aware datetime in Notion's filter format (``2024-05-01T10:31:00.000Z``)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
