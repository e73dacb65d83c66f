"""The local Dagster instance: `$DAGSTER_HOME` (default `.dagster_home`) holding a copy of `dagster.yaml`."""

from __future__ import annotations

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
    return home
