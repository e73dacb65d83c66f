"""Value objects passed between the client, the scanners and the assets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

ApiVersion = Literal["2022-06-28", "2025-09-03"]
API_VERSIONS: tuple[ApiVersion, ...] = ("2022-06-28", "2025-09-03")


@dataclass(frozen=True, slots=True)
class QueryTarget:
    """What one query endpoint reads: a database (2022-06-28) or one of its data sources (2025-09-03)."""

    database_id: str
    data_source_id: str | None = None

    @property
    def query_path(self) -> str:
        if self.data_source_id:
            return f"/v1/data_sources/{self.data_source_id}/query"
        return f"/v1/databases/{self.database_id}/query"


@dataclass(frozen=True, slots=True)
class DatabaseScan:
    """One database to read: pages edited at or after ``since`` (None = all), narrowed by ``filter``.

    ``name`` labels the batches (the bronze ``database_name``); it defaults to the database id.
    """

    database_id: str
    since: datetime | None = None
    name: str | None = None
    filter: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class PageBatch:
    """Pages from one query response (duplicates already removed, truncated relations/people completed).

    Batches of a sliced scan arrive out of ``last_edited_time`` order. ``complete_before`` is the safe
    watermark at the time of the batch: every page of this target edited before it has been yielded (None:
    no such guarantee yet). The last batch of each target has ``complete=True`` (and may hold no pages).
    """

    name: str
    database_id: str
    data_source_id: str | None
    pages: list[dict[str, Any]]
    complete_before: datetime | None = None
    complete: bool = False
