"""Where the project's non-Python files (config/, sql/) live."""

from __future__ import annotations

import os
from pathlib import Path


def project_root() -> Path:
    """The repository root holding `config/` and `sql/` (override with PPM_PROJECT_DIR)."""
    override = os.environ.get("PPM_PROJECT_DIR")
    if override:
        return Path(override).resolve()
    return Path(__file__).resolve().parents[1]


def config_dir() -> Path:
    return project_root() / "config"


def sql_dir() -> Path:
    return project_root() / "sql"
