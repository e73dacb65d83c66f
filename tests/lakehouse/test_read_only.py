"""A read-only lakehouse (a read-only mount, or 0555 directories and 0444 files) answers queries, and every write
fails with a message saying the directory is not writable, instead of "Failed to parse parquet ...".

The lakehouse is made read-only for a subprocess only. As a normal user, permissions do it. Root writes through
permissions, so for root the subprocess gets its own mount namespace (`unshare`) in which the lakehouse is bind-
mounted read-only, which refuses writes even to root; without `unshare` the tests skip.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pyarrow as pa
import pytest

from ppm_resources.lakehouse import LocalLakehouse

PPM = str(Path(sys.executable).parent / "ppm")
Runner = Callable[..., subprocess.CompletedProcess[str]]

# Run in the read-only subprocess: the reads' results, then each write's error (class and message).
PROBE = """
import json, sys
import pyarrow as pa
from ppm_resources.lakehouse import LakehouseError, LocalLakehouse

lakehouse = LocalLakehouse(root=sys.argv[1])
outcome = {
    "rows": lakehouse.query("SELECT v FROM silver.t ORDER BY v").to_pylist(),
    "version 0": lakehouse.query("SELECT v FROM silver.t VERSION AS OF 0").to_pylist(),
    "info": lakehouse.info("silver.t").num_rows,
    "history": len(lakehouse.history("silver.t")),
    "tables": lakehouse.tables(),
}
writes = {
    "append": lambda: lakehouse.append("silver.t", pa.table({"v": [9]})),
    "replace": lambda: lakehouse.replace("silver.t", "SELECT 9 AS v"),
    "new table": lambda: lakehouse.replace("silver.new", pa.table({"v": [9]})),
    "write lock": lambda: lakehouse.write_lock("silver.t").__enter__(),
    "restore": lambda: lakehouse.restore("silver.t", 0),
    "vacuum": lambda: lakehouse.vacuum("silver.t", retention_hours=0),
    "optimize": lambda: lakehouse.optimize("silver.t"),
}
for name, write in writes.items():
    try:
        write()
        outcome[name] = "written"
    except LakehouseError as error:
        outcome[name] = [type(error).__name__, str(error)]
print(json.dumps(outcome))
"""


def _chmod_tree(root: Path, *, writable: bool) -> None:
    for path in [root, *root.rglob("*")]:
        if path.is_dir():
            path.chmod(0o755 if writable else 0o555)
        else:
            path.chmod(0o644 if writable else 0o444)


def _mount_read_only_prefix(root: Path) -> list[str] | None:
    """A command prefix running its command where `root` is a read-only bind mount; None when unavailable."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return None
    prefix = [unshare, "--user", "--map-root-user", "--mount", "sh", "-c",
              'mount --bind -o ro "$0" "$0" && exec "$@"', str(root)]  # fmt: skip
    probe = [sys.executable, "-c", "import os, sys; sys.exit(os.access(sys.argv[1], os.W_OK))", str(root)]
    done = subprocess.run(prefix + probe, capture_output=True, check=False)
    return prefix if done.returncode == 0 else None


@pytest.fixture
def lakehouse(tmp_path: Path) -> LocalLakehouse:
    lakehouse = LocalLakehouse(root=str(tmp_path / "lakehouse"))
    lakehouse.replace("silver.t", pa.table({"v": [1, 2]}))
    lakehouse.append("silver.t", pa.table({"v": [3]}))
    return lakehouse


@pytest.fixture
def make_read_only() -> Iterator[Callable[[Path], Runner]]:
    """`make_read_only(directory)` -> `run(*argv, env=None)`: argv in a subprocess that sees `directory` (and
    everything under it) read-only."""
    chmodded: list[Path] = []

    def make(directory: Path) -> Runner:
        if os.geteuid() != 0:
            _chmod_tree(directory, writable=False)
            chmodded.append(directory)
            prefix: list[str] | None = []
        else:
            prefix = _mount_read_only_prefix(directory)
        if prefix is None:
            pytest.skip("running as root without `unshare`: no way to make a directory read-only for root")

        def run(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [*prefix, *argv], env=env, capture_output=True, text=True, check=False, timeout=120
            )

        return run

    yield make
    for directory in chmodded:
        _chmod_tree(directory, writable=True)  # let tmp_path be cleaned up


@pytest.fixture
def read_only(lakehouse: LocalLakehouse, make_read_only: Callable[[Path], Runner]) -> Runner:
    return make_read_only(Path(lakehouse.root))


def test_a_read_only_lakehouse_answers_reads_and_refuses_writes_clearly(lakehouse, read_only):
    files_before = sorted(p.relative_to(lakehouse.root) for p in Path(lakehouse.root).rglob("*"))
    done = read_only(sys.executable, "-c", PROBE, lakehouse.root)
    assert done.returncode == 0, done.stderr
    outcome = json.loads(done.stdout)
    assert outcome["rows"] == [{"v": 1}, {"v": 2}, {"v": 3}]
    assert outcome["version 0"] == [{"v": 1}, {"v": 2}]
    assert (outcome["info"], outcome["history"], outcome["tables"]) == (3, 2, ["silver.t"])
    for write in ("append", "replace", "new table", "write lock", "restore", "vacuum", "optimize"):
        kind, message = outcome[write]
        assert kind == "NotWritableError", (write, message)
        assert f"the lakehouse directory is not writable: {lakehouse.root}" in message, (write, message)
        assert "PPM_LAKEHOUSE_DIR" in message and "parquet" not in message.lower(), (write, message)
    assert os.geteuid() != 0 or "(read-only file system)" in outcome["append"][1]
    files_after = sorted(p.relative_to(lakehouse.root) for p in Path(lakehouse.root).rglob("*"))
    assert files_after == files_before  # no partial write left behind
    assert lakehouse.query("SELECT count(*) AS n FROM silver.t").to_pylist() == [{"n": 3}]


def test_ppm_queries_a_read_only_lakehouse_and_refuses_maintenance_without_a_traceback(lakehouse, read_only):
    env = {**os.environ, "PPM_LAKEHOUSE_DIR": lakehouse.root}
    query = read_only(PPM, "query", "SELECT sum(v) AS total FROM silver.t", env=env)
    assert query.returncode == 0, query.stderr
    assert query.stdout.split() == ["total", "6"]
    refused = read_only(PPM, "lakehouse", "restore", "silver.t", "0", env=env)
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert f"the lakehouse directory is not writable: {lakehouse.root}" in refused.stderr
    assert "PPM_LAKEHOUSE_DIR" in refused.stderr and "Traceback" not in refused.stderr


def test_a_write_refused_mid_way_is_reported_as_not_writable(lakehouse, make_read_only):
    """A refusal the up-front check cannot see (only a partition directory is read-only) is recognised too."""
    lakehouse.append("silver.parts", pa.table({"p": ["a"], "v": [1]}), partition_by=["p"])
    run = make_read_only(lakehouse.path("silver.parts") / "p=a")
    append = (
        "import sys, pyarrow as pa\n"
        "from ppm_resources.lakehouse import LocalLakehouse, LakehouseError\n"
        "try:\n"
        "    LocalLakehouse(root=sys.argv[1]).append('silver.parts', pa.table({'p': ['a'], 'v': [2]}))\n"
        "except LakehouseError as error:\n"
        "    print(type(error).__name__, error)\n"
    )
    done = run(sys.executable, "-c", append, lakehouse.root)
    assert done.returncode == 0, done.stderr
    table = lakehouse.path("silver.parts")
    assert done.stdout.startswith(
        f"NotWritableError [table silver.parts] the lakehouse directory is not writable: {table}"
    )
    assert lakehouse.query("SELECT count(*) AS n FROM silver.parts").to_pylist() == [{"n": 1}]
