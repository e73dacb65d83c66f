"""Reading the Notion sensors' JSON cursors: whatever cannot be read starts over, never fails a tick."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any


def cursor_object(cursor: str | None) -> dict[str, Any]:
    """The cursor's JSON object; {} when there is none or it is not a JSON object."""
    try:
        value = json.loads(cursor) if cursor else {}
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def database_times(value: object) -> dict[str, datetime]:
    """`{database: ISO time}` read leniently: an unreadable entry is left out (that database is due sooner)."""
    times: dict[str, datetime] = {}
    for name, at in value.items() if isinstance(value, dict) else []:
        try:
            times[str(name)] = datetime.fromisoformat(at)
        except (TypeError, ValueError):
            continue
    return times
