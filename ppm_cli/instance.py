"""The local Dagster instance: `$DAGSTER_HOME` (default `.dagster_home`) holding a copy of `dagster.yaml`."""

from __future__ import annotations

import fcntl
import os
import shutil
from pathlib import Path

from ppm_resources.paths import project_root


def ensure_dagster_home() -> Path:
    """Create `$DAGSTER_HOME` if needed and refresh its `dagster.yaml` from the repository's; export it."""
    home = Path(os.environ.get("DAGSTER_HOME") or project_root() / ".dagster_home").resolve()
    home.mkdir(parents=True, exist_ok=True)
    source = project_root() / "dagster.yaml"
    if source.is_file():
        shutil.copyfile(source, home / "dagster.yaml")
    os.environ["DAGSTER_HOME"] = str(home)
    _create_storage_once(home)
    return home


def _create_storage_once(home: Path) -> None:
    """Create the instance's SQLite storage once, under a lock.

    Two `ppm` commands started together on a new instance would both create it and race in its schema
    migration (alembic: "Online migration expected to match one row"), failing one of them.
    """
    if (home / "history" / "runs.db").exists():
        return
    import dagster as dg

    with (home / ".storage.lock").open("a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file closes (or the process dies)
        if not (home / "history" / "runs.db").exists():
            with dg.DagsterInstance.get():
                pass
