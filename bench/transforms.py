"""Benchmark: 1,000,000 bronze Notion pages through every silver and gold table on the local engine.

Bronze is generated straight into `bronze.notion_raw_pages` (no HTTP): 1,000 programs, 10,000 projects,
800,000 budget lines, 100,000 risks and 89,000 actions with the demo workspace's properties, plus a second
version of 5 % of the pages (bronze keeps history, silver takes the latest). Then the real assets run in
process: the five silver Notion tables, silver.fx_rates, and the gold marts (budget_vs_actual for every
month, project_health, forecast). Prints one JSON object:
{"pages": ..., "seconds": ..., "peak_rss_mb": ..., "per_table_s": {...}}. Target (DESIGN §9): <= 60 s.

    .venv/bin/python bench/transforms.py [--pages 1000000]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta

SHARES = {"programs": 0.001, "projects": 0.01, "budget_lines": 0.8, "risks": 0.1, "actions": 0.089}
CURRENCIES = ["USD", "EUR", "PHP"]
EPOCH = datetime(2025, 1, 1, tzinfo=UTC)


def page_ids(name: str, count: int) -> list[str]:
    namespace = uuid.uuid5(uuid.NAMESPACE_URL, f"bench:{name}")
    return [str(uuid.uuid5(namespace, str(i))) for i in range(count)]


def day(rng: random.Random, start: date = date(2024, 1, 1), span: int = 1_400) -> str:
    return (start + timedelta(days=rng.randrange(span))).isoformat()


def properties(name: str, i: int, rng: random.Random, parents: dict[str, list[str]]) -> tuple[dict, dict]:
    """(properties, property_lists) of page i of a database, shaped like the demo workspace's."""
    if name == "programs":
        return (
            {"Name": f"Program {i}", "Program ID": f"PRG-{i + 1}", "Status": rng.choice(["Active", "On Hold"]),
             "Start Date": day(rng), "End Date": day(rng, date(2026, 1, 1)), "Description": "Bench program"},
            {"Owner": [f"user-{i % 50}"]},
        )  # fmt: skip
    if name == "projects":
        return (
            {"Name": f"Project {i}", "Project ID": f"PRJ-{i + 1}", "Budget Total": str(rng.randrange(10_000, 5_000_000)),
             "Currency": rng.choice(CURRENCIES), "Status": rng.choice(["Planning", "In Progress", "Completed"]),
             "Priority": rng.choice(["High", "Medium", "Low"]), "Start Date": day(rng, date(2024, 1, 1), 500),
             "End Date": day(rng, date(2025, 6, 1), 900)},
            {"Program": [rng.choice(parents["programs"])], "Owner": [f"user-{i % 50}"]},
        )  # fmt: skip
    if name == "budget_lines":
        amount = rng.randrange(100, 500_000)
        committed = day(rng)
        return (
            {"Name": f"Line {i}", "Line ID": f"BL-{i + 1}", "Category": rng.choice(["CapEx", "OpEx"]),
             "Vendor": f"Vendor {i % 300}", "Amount": str(amount), "Actual Amount": str(int(amount * rng.random())),
             "Currency": rng.choice(CURRENCIES), "Committed Date": committed,
             "Invoice Date": day(rng, date.fromisoformat(committed), 60),
             "Paid Date": day(rng, date.fromisoformat(committed) + timedelta(days=30), 90)},
            {"Project": [rng.choice(parents["projects"])]},
        )  # fmt: skip
    if name == "risks":
        return (
            {"Title": f"Risk {i}", "Risk ID": f"RSK-{i + 1}", "Severity": rng.choice(["Critical", "High", "Medium", "Low"]),
             "Probability": rng.choice(["High", "Medium", "Low"]), "Status": rng.choice(["Open", "Mitigating", "Closed"])},
            {"Project": [rng.choice(parents["projects"])], "Owner": [f"user-{i % 50}"]},
        )  # fmt: skip
    return (
        {"Title": f"Action {i}", "Due Date": day(rng), "Status": rng.choice(["Not started", "In progress", "Done"]),
         "Source": "Manual", "Source ID": f"src-{i}", "Priority": rng.choice(["High", "Medium", "Low"])},
        {"Project": [rng.choice(parents["projects"])], "Assignee": [f"user-{i % 50}"]},
    )  # fmt: skip


def write_bronze(lakehouse, pages: int, batch: int = 100_000) -> int:
    from ppm_assets.notion.bronze_rows import notion_raw_pages_table

    rng = random.Random(7)
    counts = {name: max(1, int(pages * share)) for name, share in SHARES.items()}
    ids = {name: page_ids(name, count) for name, count in counts.items()}
    synced = datetime(2026, 11, 1, tzinfo=UTC)
    written = 0
    for name in counts:
        rows = []
        for i, page_id in enumerate(ids[name]):
            edited = EPOCH + timedelta(minutes=i)
            props, lists = properties(name, i, rng, ids)
            versions = 2 if i % 20 == 0 else 1  # 5 % of pages have an older version in bronze too
            for version in range(versions):
                rows.append({
                    "page_id": page_id, "database_name": name, "database_id": None, "data_source_id": None,
                    "created_time": EPOCH, "last_edited_time": edited - timedelta(days=versions - 1 - version),
                    "in_trash": False, "deleted": False, "properties": props, "property_lists": lists,
                    "raw_payload": "{}", "content_hash": uuid.uuid4().hex * 2,
                })  # fmt: skip
            if len(rows) >= batch:
                lakehouse.append("bronze.notion_raw_pages", notion_raw_pages_table(
                    rows, synced_at=synced, sync_run_id="bench", complete_before=synced), partition_by=["database_name"])  # fmt: skip
                written += len(rows)
                rows = []
        if rows:
            lakehouse.append("bronze.notion_raw_pages", notion_raw_pages_table(
                rows, synced_at=synced, sync_run_id="bench", complete_before=synced), partition_by=["database_name"])  # fmt: skip
            written += len(rows)
    return sum(counts.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pages", type=int, default=1_000_000)
    args = parser.parse_args()
    root = tempfile.mkdtemp(prefix="bench-transforms-")
    os.environ["PPM_LAKEHOUSE_DIR"] = root
    import dagster as dg

    from ppm_assets.definitions import defs
    from ppm_cli.materialize import partition_range_tags, plan_runs
    from ppm_resources.lakehouse import LocalLakehouse

    lakehouse = LocalLakehouse(root=root)
    started = time.perf_counter()
    pages = write_bronze(lakehouse, args.pages)
    generate_s = time.perf_counter() - started

    graph = defs.resolve_asset_graph()
    keys = dg.AssetSelection.from_string('key:"silver/*" or key:"gold/*"').resolve(graph)
    job = defs.resolve_implicit_global_asset_job_def()
    per_table: dict[str, float] = {}
    started = time.perf_counter()
    with dg.DagsterInstance.ephemeral() as instance:
        for plan in plan_runs(graph, keys):
            result = job.execute_in_process(
                instance=instance, asset_selection=list(plan.keys), tags=partition_range_tags(plan.partitions_def),
                run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}}, raise_on_error=False,
            )  # fmt: skip
            if not result.success:
                raise SystemExit(
                    f"transform run failed: {[e.message for e in result.all_events if e.is_failure]}"
                )
            for event in result.all_events:
                if event.event_type == dg.DagsterEventType.STEP_SUCCESS:
                    per_table[event.step_key.replace("__", ".", 1)] = round(
                        event.event_specific_data.duration_ms / 1000, 2
                    )
    seconds = time.perf_counter() - started
    print(
        json.dumps(
            {
                "pages": pages,
                "bronze_rows": lakehouse.info("bronze.notion_raw_pages").num_rows,
                "seconds": round(seconds, 1),
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                "per_table_s": dict(sorted(per_table.items())),
                "bronze_generation_s": round(generate_s, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
