"""`ppm` runs that overlap or die: a `ppm sync` killed with SIGKILL leaves its run in flight holding the
`notion_api` pool slot, and the next `ppm` command (or the `dead_cli_runs` sensor) marks it failed and frees the
slot; two syncs at once (a pool of two, or two instances on one lakehouse) store each page version once."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from ppm_resources.lakehouse import LocalLakehouse
from ppm_resources.paths import project_root
from ppm_sandbox import SandboxServer
from ppm_sensors.dead_runs import dead_cli_runs

PPM = str(Path(__import__("sys").executable).parent / "ppm")


@pytest.fixture
def env(tmp_path: Path, clean_sandbox: SandboxServer, sandbox_env) -> Iterator[dict[str, str]]:
    home = tmp_path / "dagster_home"
    home.mkdir()
    # The repository's instance settings: the notion_api pool of one slot is what a dead run kept.
    shutil.copyfile(project_root() / "dagster.yaml", home / "dagster.yaml")
    values = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "PPM_LAKEHOUSE_DIR": str(tmp_path / "lakehouse"),
        **sandbox_env(clean_sandbox),
        "NOTION_RATE_LIMIT_RPS": "2",  # a full sync of budget lines takes a while: time to kill it mid-run
    }
    previous = os.environ.get("DAGSTER_HOME")
    os.environ["DAGSTER_HOME"] = str(home)
    yield values
    if previous is None:
        del os.environ["DAGSTER_HOME"]
    else:
        os.environ["DAGSTER_HOME"] = previous


def _kill_mid_sync(env: dict[str, str], instance: dg.DagsterInstance) -> str:
    """Start `ppm sync-database budget_lines --full-sync`, SIGKILL it once its bronze step runs; its run id."""
    process = subprocess.Popen(
        [PPM, "sync-database", "budget_lines", "--full-sync"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        while True:
            assert process.poll() is None, "the sync ended before it could be killed"
            runs = [r for r in instance.get_runs() if r.tags.get("ppm/pid") == str(process.pid)]
            if runs and instance.all_logs(runs[0].run_id, of_type=dg.DagsterEventType.STEP_START):
                break
            time.sleep(0.2)
        process.send_signal(signal.SIGKILL)
        process.wait()
    finally:
        if process.poll() is None:
            process.kill()
    return runs[0].run_id


def test_a_killed_cli_sync_no_longer_blocks_later_syncs(env: dict[str, str]) -> None:
    with dg.DagsterInstance.get() as instance:
        # 1: the sensor releases it
        stuck = _kill_mid_sync(env, instance)
        assert instance.get_run_by_id(stuck).status == dg.DagsterRunStatus.STARTED  # what went wrong before
        result = dead_cli_runs(dg.build_sensor_context(instance=instance))
        assert "released 1 run" in result.skip_message
        assert instance.get_run_by_id(stuck).status == dg.DagsterRunStatus.FAILURE
        assert not instance.event_log_storage.get_concurrency_run_ids() or stuck not in (
            instance.event_log_storage.get_concurrency_run_ids()
        )

        # 2: the next ppm command releases it, then syncs
        stuck = _kill_mid_sync(env, instance)
        done = subprocess.run(
            [PPM, "sync-database", "budget_lines"], env=env, capture_output=True, text=True, timeout=600
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert f"run {stuck} (" in done.stderr and "marked failed, its pool slots freed" in done.stderr
        record = instance.get_run_by_id(stuck)
        assert record.status == dg.DagsterRunStatus.FAILURE
        failure = instance.all_logs(stuck, of_type=dg.DagsterEventType.RUN_FAILURE)
        assert "ended without finishing it (killed or hung up)" in failure[-1].dagster_event.message


@pytest.mark.parametrize("layout", ["pool_of_two", "two_instances"])
def test_two_cli_syncs_at_once_store_each_version_once(
    env: dict[str, str], tmp_path: Path, layout: str
) -> None:
    """The issue's reproduction: two full syncs at once, with the `notion_api` pool raised to 2 in one instance,
    or in two instances sharing one lakehouse; bronze holds each page version once."""
    second_home = tmp_path / "second_home"
    second_home.mkdir()
    shutil.copyfile(project_root() / "dagster.yaml", second_home / "dagster.yaml")
    if layout == "pool_of_two":
        with dg.DagsterInstance.get() as instance:  # `ppm` refreshes dagster.yaml: the limit is set here
            instance.event_log_storage.set_concurrency_slots("notion_api", 2)
    envs = [env, {**env, "DAGSTER_HOME": str(second_home)} if layout == "two_instances" else env]
    syncs = [
        subprocess.Popen(
            [PPM, "sync-database", "risks", "--full-sync"],
            env={**e, "NOTION_RATE_LIMIT_RPS": "50"},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for e in envs
    ]
    outputs = [process.communicate(timeout=600)[0] for process in syncs]
    assert [process.returncode for process in syncs] == [0, 0], outputs
    lakehouse = LocalLakehouse(root=env["PPM_LAKEHOUSE_DIR"])
    duplicates = lakehouse.query(
        "SELECT page_id, content_hash FROM bronze.notion_raw_pages GROUP BY page_id, content_hash "
        "HAVING count(*) > 1"
    )
    assert duplicates.num_rows == 0
    counts = lakehouse.query(
        "SELECT count(*) AS n, count(DISTINCT page_id) AS pages FROM bronze.notion_raw_pages"
    )
    assert counts.to_pylist() == [{"n": 200, "pages": 200}]
    # the two syncs really ran at once (with a pool of one, the second would have waited for the first)
    runs = []
    for home in {e["DAGSTER_HOME"] for e in envs}:
        os.environ["DAGSTER_HOME"] = home
        with dg.DagsterInstance.get() as instance:
            runs += [r for r in instance.get_run_records() if r.dagster_run.tags.get("ppm/trigger") == "cli"]
    os.environ["DAGSTER_HOME"] = env["DAGSTER_HOME"]
    first, second = sorted(runs, key=lambda r: r.start_time)
    assert second.start_time < first.end_time


def test_a_sync_waiting_for_the_pool_says_so_and_stops_on_sigterm(env: dict[str, str]) -> None:
    """Before, a second `ppm sync` waited for the pool in a busy loop that ignored SIGTERM."""
    holder = subprocess.Popen(
        [PPM, "sync-database", "budget_lines", "--full-sync"],
        env={**env, "NOTION_RATE_LIMIT_RPS": "0.2"},  # holds the notion_api slot for over a minute
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        with dg.DagsterInstance.get() as instance:
            while not instance.event_log_storage.get_concurrency_info("notion_api").active_run_ids:
                assert holder.poll() is None
                time.sleep(0.2)
        waiter = subprocess.Popen(
            [PPM, "sync-database", "risks"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        line = waiter.stderr.readline()
        while line and not line.startswith("waiting:"):
            line = waiter.stderr.readline()
        assert line.startswith("waiting: the notion_api pool is held by run "), line
        waiter.send_signal(signal.SIGTERM)
        waiter.communicate(timeout=60)
        assert waiter.returncode == -signal.SIGTERM
    finally:
        holder.kill()
        holder.wait()
