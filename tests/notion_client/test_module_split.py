"""The client / scanning split of `ppm_resources.notion`: no import cycle, and scans need only `PageSource`.

`client.py` is transport + endpoints; `pagination.py`, `slicing.py` and `scan.py` read through the
`PageSource` protocol. Neither side may import the other, not even lazily inside a function or under
TYPE_CHECKING (the cycle this replaced was a function-level import).
"""

from __future__ import annotations

import ast
import asyncio
import importlib.util
import json
import subprocess
import sys
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ppm_resources.notion import DatabaseScan, NotionClient, NotionStats, PageBatch, PageSource, QueryTarget
from ppm_resources.notion import scan_databases as scan_databases_export
from ppm_resources.notion.scan import scan_databases
from ppm_resources.notion.times import notion_time

PACKAGE = "ppm_resources.notion"
SCANNING = ("pagination", "slicing", "scan")
SPEC = importlib.util.find_spec("ppm_resources")  # finding a top-level package does not import it
assert SPEC is not None and SPEC.submodule_search_locations
RESOURCES_DIR = Path(next(iter(SPEC.submodule_search_locations)))
NOTION_DIR = RESOURCES_DIR / "notion"

# Run in a fresh interpreter. Both parent packages are replaced by empty stand-ins: `ppm_resources.notion`
# re-exports NotionClient on purpose (and `ppm_resources` imports settings, which use it), so a plain import
# of any submodule loads client.py. With the stand-ins, sys.modules afterwards holds exactly what the
# module's own imports pulled in.
PROBE = """
import importlib, json, sys, types
for name, path in json.loads(sys.argv[1]):
    package = types.ModuleType(name)
    package.__path__ = [path]
    sys.modules[name] = package
importlib.import_module(sys.argv[2])
print(json.dumps(sorted(sys.modules)))
"""


def loaded_by(module: str) -> set[str]:
    """Modules of `ppm_resources.notion` that importing `module` loads, in a fresh interpreter."""
    stubs = [("ppm_resources", str(RESOURCES_DIR)), (PACKAGE, str(NOTION_DIR))]
    child = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(stubs), f"{PACKAGE}.{module}"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert child.returncode == 0, child.stderr
    return {
        name.removeprefix(f"{PACKAGE}.")
        for name in json.loads(child.stdout)
        if name.startswith(f"{PACKAGE}.")
    }


def imported_modules(module: str) -> set[str]:
    """Every `ppm_resources.notion` module named by an import statement of `module`, at any depth."""
    path = NOTION_DIR / f"{module}.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: `from .client import X`, `from . import client`
                base = f"{PACKAGE}.{base}" if base else PACKAGE
            names = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        found.update(n.removeprefix(f"{PACKAGE}.") for n in names if n.startswith(f"{PACKAGE}."))
    return found


@pytest.mark.parametrize("module", SCANNING)
def test_scanning_modules_do_not_import_the_client(module: str) -> None:
    loaded = loaded_by(module)
    assert "source" in loaded  # they read through the protocol...
    assert "client" not in loaded, sorted(loaded)  # ...and never load the client
    assert "client" not in imported_modules(module)  # not even lazily or under TYPE_CHECKING


def test_the_client_does_not_import_the_scanning_modules() -> None:
    loaded = loaded_by("client")
    assert not loaded & {*SCANNING, "source"}, sorted(loaded)
    assert not imported_modules("client") & set(SCANNING)


def test_the_client_is_a_page_source() -> None:
    client = NotionClient(token="secret_module_split", base_url="http://127.0.0.1:9")  # never sends
    assert isinstance(client, PageSource)
    assert scan_databases_export is scan_databases


# ------------------------------------------------------------------ a scan over nothing but the protocol


@dataclass(frozen=True)
class Options:
    max_concurrency: int = 4
    page_size: int = 10
    split_after_pages: int = 1


class MemorySource:
    """A `PageSource` over a list of pages: the filters and sorts the scanners send, no HTTP, no client."""

    def __init__(self, pages: list[dict[str, Any]]) -> None:
        self.config = Options()
        self.stats = NotionStats()
        self.pages = pages

    async def query_targets(self, database_id: str) -> list[QueryTarget]:
        return [QueryTarget(database_id)]

    async def query(
        self, target: QueryTarget, body: Mapping[str, Any], *, filter_properties: Sequence[str] | None = None
    ) -> dict[str, Any]:
        await asyncio.sleep(0)  # let other slices run, as a request would
        found = [page for page in self.pages if matches(page, body.get("filter"))]
        newest_first = body["sorts"][0]["direction"] == "descending"
        found.sort(key=lambda page: page["last_edited_time"], reverse=newest_first)  # stable: ties keep order
        start = int(body.get("start_cursor") or 0)
        end = start + body["page_size"]
        more = end < len(found)
        return {"results": found[start:end], "has_more": more, "next_cursor": str(end) if more else None}

    async def complete_truncated(self, page: dict[str, Any]) -> dict[str, Any]:
        return page


def matches(page: Mapping[str, Any], query_filter: Mapping[str, Any] | None) -> bool:
    """The scanners' last_edited_time bounds (every time here is in Notion's one format: strings compare)."""
    edited = page["last_edited_time"]
    for condition in query_filter.get("and", [query_filter]) if query_filter else []:
        lo, hi = condition["last_edited_time"].get("on_or_after"), condition["last_edited_time"].get("before")
        if (lo is not None and edited < lo) or (hi is not None and edited >= hi):
            return False
    return True


async def collect(batches: AsyncIterator[PageBatch]) -> list[PageBatch]:
    return [batch async for batch in batches]


def test_scan_databases_needs_only_a_page_source() -> None:
    start = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
    # 300 pages, three per minute: plenty of responses of 10, so the scan splits into time slices.
    pages = [
        {"id": f"page-{i:04d}", "last_edited_time": notion_time(start + timedelta(seconds=20 * i))}
        for i in range(300)
    ]
    source = MemorySource(pages)
    assert isinstance(source, PageSource)

    batches = asyncio.run(collect(scan_databases(source, [DatabaseScan("db", name="memory")])))
    ids = [page["id"] for batch in batches for page in batch.pages]
    assert sorted(ids) == [page["id"] for page in pages]  # each page exactly once
    assert source.stats.slices > 1 and source.stats.pages == 300
    assert [b.complete for b in batches].count(True) == 1 and batches[-1].complete
    assert {b.name for b in batches} == {"memory"}

    since = start + timedelta(minutes=90)
    scan = scan_databases(source, [DatabaseScan("db", since=since)], split=False)
    late = [page for batch in asyncio.run(collect(scan)) for page in batch.pages]
    assert late == [p for p in pages if p["last_edited_time"] >= notion_time(since)]  # one cursor: in order
