"""`make ui-snapshot` where a browser is available: a fresh demo renders in headless Chromium.

Skipped when Chromium or the `ui` extra (Playwright) is missing, as on CI; `make ui-snapshot` installs the
extra. The screenshots are checked for size, not content: the script itself fails when a page does not
render (it waits for the UI's data queries and spinners) or when the first-visit dialog cannot be skipped.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ppm_resources.paths import project_root

CHROMIUM = os.environ.get("PPM_CHROMIUM", "/usr/bin/chromium")
SHOTS = ("1-asset-graph.png", "2-automation.png", "3-runs.png", "4-asset-checks.png")


@pytest.mark.skipif(
    importlib.util.find_spec("playwright") is None or not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)),
    reason="needs Chromium and the `ui` extra (make ui-snapshot installs it)",
)
def test_ui_snapshot_photographs_the_control_room(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ppm_cli.ui_snapshot", "--out", str(tmp_path), "--checks-wait", "0"],
        cwd=project_root(),
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for name in SHOTS:
        shot = tmp_path / name
        assert shot.is_file() and shot.stat().st_size > 20_000, f"{name}: {result.stdout}"
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list(tmp_path.glob("*.failed.png"))
