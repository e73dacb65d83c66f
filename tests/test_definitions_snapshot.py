"""A snapshot of the whole code location: every asset spec, check, job, schedule, sensor and resource key.

An accidental change to the graph (a lost dependency, a freshness policy gone, a job selecting one asset more)
shows up as a diff in review. After an intended change: `.venv/bin/pytest tests/test_definitions_snapshot.py
--snapshot-update`, and read the diff of `tests/__snapshots__/` before committing it.
"""

from __future__ import annotations

from typing import Any

import dagster as dg
import pytest
from syrupy.extensions.json import JSONSnapshotExtension

from ppm_assets.definitions import defs


@pytest.fixture
def snapshot_json(snapshot):
    return snapshot.use_extension(JSONSnapshotExtension)


def _assets(graph: Any) -> dict[str, Any]:
    specs = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        specs[key.to_user_string()] = {
            "group": node.group_name,
            "deps": sorted(parent.to_user_string() for parent in node.parent_keys),
            "kinds": sorted(node.kinds),
            "owners": list(node.owners),
            "partitions": str(node.partitions_def) if node.partitions_def else None,
            "backfill_policy": repr(node.backfill_policy) if node.backfill_policy else None,
            "pools": sorted(node.pools or []),
            "freshness_policy": repr(node.freshness_policy) if node.freshness_policy else None,
            "automation_condition": node.automation_condition.get_label()
            if node.automation_condition
            else None,
            "code_version": node.code_version,
            "description": node.description,
        }
    return specs


def _checks(graph: Any) -> dict[str, Any]:
    checks = {}
    for key in sorted(graph.asset_check_keys, key=lambda k: (k.asset_key.to_user_string(), k.name)):
        node = graph.get(key)
        checks[f"{key.asset_key.to_user_string()}:{key.name}"] = {
            "blocking": node.blocking,
            "description": node.description,
        }
    return checks


def describe(definitions: dg.Definitions) -> dict[str, Any]:
    """Everything a reviewer should see change, as plain JSON."""
    repository = definitions.get_repository_def()
    graph = repository.asset_graph
    jobs = {
        job.name: {
            "description": job.description,
            "tags": dict(job.tags),
            "assets": sorted(k.to_user_string() for k in job.asset_layer.selected_asset_keys),
            "checks": len(job.asset_layer.asset_graph.asset_check_keys),
            "partitioned": job.partitions_def is not None,
        }
        for job in sorted(repository.get_all_jobs(), key=lambda j: j.name)
        if not job.name.startswith("__ASSET_JOB")
    }
    schedules = {
        s.name: {
            "cron": s.cron_schedule,
            "timezone": s.execution_timezone,
            "job": s.job_name,
            "default_status": s.default_status.value,
            "description": s.description,
        }
        for s in sorted(repository.schedule_defs, key=lambda s: s.name)
    }
    sensors = {
        s.name: {
            "default_status": s.default_status.value,
            "minimum_interval_seconds": s.minimum_interval_seconds,
            "description": s.description,
        }
        for s in sorted(repository.sensor_defs, key=lambda s: s.name)
    }
    return {
        "assets": _assets(graph),
        "checks": _checks(graph),
        "jobs": jobs,
        "schedules": schedules,
        "sensors": sensors,
        "resources": sorted(definitions.resources or {}),
    }


def test_code_location_matches_its_snapshot(snapshot_json) -> None:
    assert describe(defs) == snapshot_json
