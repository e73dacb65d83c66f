"""Fixtures of the write-back sensors' tests: a lakehouse and a Dagster instance per test, the write-back job."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from ppm_resources.lakehouse import LocalLakehouse


@pytest.fixture
def lakehouse(tmp_path: Path) -> LocalLakehouse:
    return LocalLakehouse(root=str(tmp_path / "lakehouse"))


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as instance:
        yield instance


@pytest.fixture(scope="module")
def job() -> dg.JobDefinition:
    from ppm_assets.definitions import defs
    from ppm_sensors.writeback.jobs import JOB_NAME

    return defs.resolve_job_def(JOB_NAME)
