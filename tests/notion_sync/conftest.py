"""Fixtures for end-to-end sync tests: the sandbox, a fresh lakehouse, and runs of the real assets."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from ppm_assets.notion.raw_pages import build_notion_raw_pages
from ppm_assets.notion.silver_sql import silver_select_sql
from ppm_assets.notion.silver_tables import notion_silver_assets
from ppm_assets.notion.sync import NotionBronzeSync, SyncReport
from ppm_resources.lakehouse import LocalLakehouse
from ppm_resources.notion.mapping import ColumnMapping, NotionMapping, load_notion_mapping
from ppm_resources.notion.resource import NotionResource
from ppm_sandbox import SandboxServer

FAST = {"rate_limit_rps": 500.0, "rate_limit_burst": 100}


def expected_value(column: ColumnMapping, plain: Any) -> Any:
    """What silver should hold for a sandbox truth value, worked out independently of the SQL."""
    kind = column.column_type
    if kind in {"relation", "person"}:
        return plain[0] if plain else None
    if plain is None or plain == "":
        return None
    if kind == "decimal":
        return Decimal(str(plain)).quantize(Decimal("0.01"))
    if kind == "date":
        return date.fromisoformat(str(plain)[:10])
    if kind == "string" and column.notion_property.endswith(" ID") and isinstance(plain, int):
        return None  # unique ids are compared separately (prefix + number)
    return plain


def _is_subsequence(short: str, long: str) -> bool:
    characters = iter(long)
    return all(character in characters for character in short)


@dataclass
class Pipeline:
    """The sandbox plus a lakehouse; runs bronze and silver the way Dagster does."""

    sandbox: SandboxServer
    lakehouse: LocalLakehouse
    mapping: NotionMapping
    token: str

    @property
    def resource(self) -> NotionResource:
        return NotionResource(
            base_url=self.sandbox.notion_url, token=self.token, lookup_by_title=True, **FAST
        )

    def materialize_bronze(
        self, names: list[str] | None = None, *, full_sync: bool = False, dry_run: bool = False,
        lakehouse: LocalLakehouse | None = None, instance: dg.DagsterInstance | None = None, **config: Any,
    ) -> dg.ExecuteInProcessResult:  # fmt: skip
        names = names or self.mapping.names
        asset = build_notion_raw_pages(self.mapping)
        job = dg.Definitions(
            assets=[asset], resources={"lakehouse": lakehouse or self.lakehouse, "notion": self.resource}
        ).resolve_implicit_global_asset_job_def()
        return job.execute_in_process(
            tags={
                "dagster/asset_partition_range_start": names[0],
                "dagster/asset_partition_range_end": names[-1],
            },
            run_config={
                "ops": {
                    "bronze__notion_raw_pages": {
                        "config": {"full_sync": full_sync, "dry_run": dry_run, **config}
                    }
                }
            },
            instance=instance,
            raise_on_error=False,
        )

    def sync(
        self,
        names: list[str] | None = None,
        *,
        lakehouse: LocalLakehouse | None = None,
        resource: NotionResource | None = None,
        **options: Any,
    ) -> SyncReport:
        """The sync engine alone (no Dagster run): fast enough for property-based tests."""
        names = names or self.mapping.names
        notion = resource or self.resource

        async def run() -> SyncReport:
            async with notion.client() as client:
                ids = await notion.resolve_database_ids(client, self.mapping, names)
                return await NotionBronzeSync(
                    client, lakehouse or self.lakehouse, ids, run_id=uuid.uuid4().hex, **options
                ).run()

        return asyncio.run(run())

    def build_silver(self, names: list[str] | None = None) -> None:
        for name in names or self.mapping.names:
            database = self.mapping.database(name)
            self.lakehouse.replace(database.silver_table_name, silver_select_sql(name, database))

    def materialize_silver(self) -> dg.ExecuteInProcessResult:
        return dg.materialize(
            notion_silver_assets(self.mapping), resources={"lakehouse": self.lakehouse}, raise_on_error=False
        )

    def silver(self, name: str) -> dict[str, dict[str, Any]]:
        table = self.mapping.database(name).silver_table_name
        return {row["page_id"]: row for row in self.lakehouse.query(f"SELECT * FROM {table}").to_pylist()}

    def assert_silver_matches_truth(self, name: str) -> None:
        database = self.mapping.database(name)
        truth = {page["id"]: page for page in self.sandbox.notion.truth(name)}
        silver = self.silver(name)
        live = {page_id for page_id, row in silver.items() if not row["is_archived"]}
        assert live == set(truth), f"{name}: {len(live - set(truth))} extra, {len(set(truth) - live)} missing"
        for page_id, page in truth.items():
            row = silver[page_id]
            for column in database.columns:
                expected = expected_value(column, page["properties"].get(column.notion_property))
                if column.column_type == "string" and isinstance(
                    page["properties"].get(column.notion_property), int
                ):
                    assert row[column.column_name].endswith(f"-{page['properties'][column.notion_property]}")
                    continue
                actual = row[column.column_name]
                if isinstance(expected, str) and isinstance(actual, str) and actual != expected:
                    # The sandbox's truth leaves mentions out of rich text; Notion's plain_text (and so
                    # silver) shows them ("@Ana"): the truth must still read, in order, inside silver.
                    assert _is_subsequence(expected, actual), (name, page_id, column.column_name)
                    continue
                assert actual == expected, (name, page_id, column.column_name)

    def query_requests(self) -> int:
        return self.sandbox.stats.snapshot()["by_endpoint"].get("POST /notion/v1/databases/{id}/query", 0)


@pytest.fixture(scope="session")
def make_pipeline() -> type[Pipeline]:
    """The Pipeline class, for tests that build one per hypothesis example."""
    return Pipeline


@pytest.fixture
def pipeline(clean_sandbox: SandboxServer, tmp_path: Path) -> Pipeline:
    return Pipeline(
        clean_sandbox,
        LocalLakehouse(root=str(tmp_path / "lakehouse")),
        load_notion_mapping(),
        token=f"secret_sync_{uuid.uuid4().hex}",
    )
