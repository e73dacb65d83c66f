"""Benchmark: freshness lag of the Notion change path, from an edit in Notion to the edit in silver.

Everything runs as in production, on this machine: the Notion sandbox at Notion's 3 requests/s, a fresh
lakehouse and a fresh Dagster instance (a temporary `DAGSTER_HOME` with the repository's `dagster.yaml`),
one `ppm sync` so bronze and silver exist, then the Dagster daemon (`dagster-daemon run`), which evaluates
the sensors, dequeues runs and launches them. The sensor's first tick has no cursor and requests one sync run
of every database; once it is done and the instance is quiet, one budget line is renamed to a unique
value through the sandbox's control endpoint (t0), and `silver.budget_lines` is polled until the new name
is there (t1). lag_s = t1 - t0: what a reader of silver waits for an edit in Notion.

The breakdown comes from the instance. `critical_path_s` splits lag_s into parts that add up to it: the wait
for the sensor tick that saw the edit (uniform in [0, interval]: it depends on the phase of the edit), the
tick's evaluation up to the run's creation, the run queue, the run worker's start (process start and
definitions load), then along the chain of steps that led to the silver write: step worker start-ups (with a
multiprocess executor, each step is a new process loading the definitions again), step compute, other
executor time, and the commit-to-read delay. `timeline` has the same events as offsets after t0, `steps` every
step of the run. pipeline_s = lag_s - tick wait is what an edit pays even right before a tick;
worst_case_lag_s = observed tick spacing + pipeline_s.

Prints one JSON object; progress goes to stderr. Target: lag_s <= 120. Exits 1 with a message on stderr
when the edit is not in silver within --timeout seconds (or the setup fails).

    .venv/bin/python bench/freshness_lag.py [--timeout 600] [--settle 5] [--log-dir DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dagster as dg
import httpx
from deltalake import DeltaTable

from ppm_cli.demo import background
from ppm_resources.dagster_internals import InstigatorTick, InstigatorType, TickStatus
from ppm_resources.lakehouse import LocalLakehouse
from ppm_resources.paths import project_root
from ppm_sandbox import SandboxProcess

BIN = Path(sys.executable).parent
TARGET_S = 120.0
DATABASE = "budget_lines"
SILVER_TABLE = "silver.budget_lines"
SILVER_KEY = dg.AssetKey(["silver", "budget_lines"])
SENSOR = "notion_change_sensor"
IN_PROGRESS = {
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
}
DONE_TICKS = {TickStatus.SUCCESS, TickStatus.SKIPPED, TickStatus.FAILURE}
RUN_EVENTS = {
    dg.DagsterEventType.RUN_ENQUEUED,
    dg.DagsterEventType.RUN_STARTING,
    dg.DagsterEventType.RUN_START,
    dg.DagsterEventType.RUN_SUCCESS,
    dg.DagsterEventType.RUN_FAILURE,
    dg.DagsterEventType.STEP_WORKER_STARTING,
    dg.DagsterEventType.STEP_START,
    dg.DagsterEventType.STEP_SUCCESS,
    dg.DagsterEventType.STEP_FAILURE,
    dg.DagsterEventType.ASSET_MATERIALIZATION,
}

_STARTED = time.monotonic()


class BenchError(RuntimeError):
    """The bench cannot measure: the message says why."""


def log(message: str) -> None:
    print(f"[{time.monotonic() - _STARTED:6.1f} s] {message}", file=sys.stderr, flush=True)


def rounded(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


# -- the instance --------------------------------------------------------------------------------------------
def sensor_ticks(instance: dg.DagsterInstance, name: str | None = None) -> list[InstigatorTick]:
    """Ticks of the sensor `name` (every sensor when None), oldest first."""
    ticks: list[InstigatorTick] = []
    for state in instance.all_instigator_state(instigator_type=InstigatorType.SENSOR):
        if name is None or state.instigator_name == name:
            ticks += instance.get_ticks(state.instigator_origin_id, state.selector_id)
    return sorted(ticks, key=lambda tick: tick.timestamp)


def run_records(instance: dg.DagsterInstance, since: float | None = None) -> list[dg.RunRecord]:
    """Runs created at or after `since` (every run when None), oldest first."""
    created_after = datetime.fromtimestamp(since, tz=UTC) if since is not None else None
    return list(
        instance.get_run_records(
            filters=dg.RunsFilter(created_after=created_after), order_by="id", ascending=True
        )
    )


def status_counts(records: Sequence[dg.RunRecord]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for record in records:
        status = record.dagster_run.status.value
        counts[status] = counts.get(status, 0) + 1
    return counts


def run_events(instance: dg.DagsterInstance, run_id: str) -> list[tuple[float, str, str | None, Any]]:
    """(timestamp, event type, step key, asset key) of the run's lifecycle events, oldest first."""
    events = []
    for entry in instance.all_logs(run_id, of_type=RUN_EVENTS):
        event = entry.dagster_event
        if event is not None:
            events.append((entry.timestamp, event.event_type_value, event.step_key, event.asset_key))
    return sorted(events, key=lambda item: item[0])


def first(events: Sequence[tuple[float, str, str | None, Any]], kind: dg.DagsterEventType) -> float | None:
    return next((stamp for stamp, value, _, _ in events if value == kind.value), None)


def silver_write(
    events: Sequence[tuple[float, str, str | None, Any]], table: dg.AssetKey = SILVER_KEY
) -> tuple[float | None, str | None]:
    """When the run materialized the silver table (or `table`), and in which step."""
    return next(
        (
            (stamp, step)
            for stamp, value, step, key in events
            if value == dg.DagsterEventType.ASSET_MATERIALIZATION.value and key == table
        ),
        (None, None),
    )


@dataclass(frozen=True)
class Step:
    """One step of a run: when its worker was launched (multiprocess executor only), started and ended."""

    key: str
    spawn: float | None
    start: float | None
    end: float | None

    @property
    def begin(self) -> float | None:
        return self.spawn or self.start

    def to_json(self, t0: float) -> dict[str, Any]:
        start, end, spawn = self.start, self.end, self.spawn
        return {
            "step": self.key,
            "start_s": rounded(start - t0 if start else None),
            "duration_s": rounded(end - start if start and end else None),
            "worker_startup_s": rounded(start - spawn if start and spawn else None),
        }


def steps_of(events: Sequence[tuple[float, str, str | None, Any]]) -> list[Step]:
    per_step: dict[str, dict[str, float]] = {}
    for stamp, value, step, _ in events:
        if step is not None:
            per_step.setdefault(step, {}).setdefault(value, stamp)
    steps = [
        Step(
            key=step,
            spawn=stamps.get(dg.DagsterEventType.STEP_WORKER_STARTING.value),
            start=stamps.get(dg.DagsterEventType.STEP_START.value),
            end=stamps.get(dg.DagsterEventType.STEP_SUCCESS.value)
            or stamps.get(dg.DagsterEventType.STEP_FAILURE.value),
        )
        for step, stamps in per_step.items()
    ]
    return sorted(steps, key=lambda step: step.start or float("inf"))


def critical_path(steps: Sequence[Step], writer_step: str | None) -> list[Step]:
    """The chain of steps that ended right before each other began, back from the step that wrote silver."""
    chain = [step for step in steps if step.key == writer_step]
    while chain and chain[-1].begin is not None:
        begin = chain[-1].begin
        before = [s for s in steps if s not in chain and s.end is not None and s.end <= begin + 0.05]
        if not before:
            break
        chain.append(max(before, key=lambda step: step.end or 0.0))
    return chain[::-1]


def tick_spacing(ticks: Sequence[InstigatorTick]) -> float | None:
    gaps = [b.timestamp - a.timestamp for a, b in itertools.pairwise(ticks)]
    return statistics.median(gaps) if gaps else None


# -- processes -----------------------------------------------------------------------------------------------
def tail(path: Path, lines: int = 40) -> str:
    with contextlib.suppress(OSError):
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    return ""


def check_alive(daemon: subprocess.Popen[bytes], log_path: Path) -> None:
    if daemon.poll() is not None:
        raise BenchError(f"dagster-daemon exited with code {daemon.returncode}:\n{tail(log_path)}")


def initial_sync(sandbox: SandboxProcess, env: Mapping[str, str], command: str = "sync") -> float:
    """`ppm sync` (or another `ppm` command) with the rate limit lifted on both sides (setup, not measured);
    its wall time."""
    sandbox.set_faults(rate="unlimited")
    started = time.monotonic()
    try:
        result = subprocess.run(
            [str(BIN / "ppm"), command],
            env={**env, "NOTION_RATE_LIMIT_RPS": "500", "NOTION_RATE_LIMIT_BURST": "100"},
            cwd=project_root(),
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        sandbox.reset_faults()  # back to the start-up spec: 3 requests/s
    if result.returncode != 0:
        raise BenchError(f"ppm {command} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return time.monotonic() - started


def wait_until_quiet(
    instance: dg.DagsterInstance,
    daemon: subprocess.Popen[bytes],
    log_path: Path,
    *,
    settle_s: float,
    timeout_s: float,
) -> None:
    """Until the sensor has ticked and no run has been in progress for `settle_s` seconds."""
    deadline = time.monotonic() + timeout_s
    quiet_since: float | None = None
    last_report = 0.0
    while True:
        check_alive(daemon, log_path)
        ticks = [tick for tick in sensor_ticks(instance, SENSOR) if tick.status in DONE_TICKS]
        records = run_records(instance)
        busy = [record for record in records if record.dagster_run.status in IN_PROGRESS]
        now = time.monotonic()
        if ticks and not busy:
            quiet_since = quiet_since or now
            if now - quiet_since >= settle_s:
                log(f"instance quiet: {len(ticks)} sensor tick(s), runs {status_counts(records)}")
                return
        else:
            quiet_since = None
        if now - last_report >= 10:
            last_report = now
            log(f"waiting for the first tick's runs: {len(ticks)} tick(s), runs {status_counts(records)}")
        if now > deadline:
            raise BenchError(
                f"the instance did not settle within {timeout_s:.0f} s: runs {status_counts(records)}, "
                f"{len(ticks)} sensor tick(s); daemon log ({log_path}):\n{tail(log_path)}"
            )
        time.sleep(1.0)


def edit_budget_line(sandbox_url: str) -> tuple[str, str]:
    """Rename the first budget line to a unique value; (page id, new name)."""
    control = f"{sandbox_url}/_sandbox/notion"
    truth = httpx.get(f"{control}/databases/{DATABASE}/truth", params={"limit": 1}, timeout=30)
    truth.raise_for_status()
    page_id = str(truth.json()["pages"][0]["id"])
    name = f"Freshness probe {uuid.uuid4().hex[:12]}"
    edited = httpx.patch(f"{control}/pages/{page_id}", json={"properties": {"Name": name}}, timeout=30)
    edited.raise_for_status()
    return page_id, name


def wait_visible(
    lakehouse: LocalLakehouse,
    page_id: str,
    name: str,
    *,
    instance: dg.DagsterInstance,
    daemon: subprocess.Popen[bytes],
    log_path: Path,
    t0: float,
    timeout_s: float,
) -> tuple[float, float | None]:
    """Poll silver until the page has its new name: (time seen, time of the Delta commit that carries it).

    The table's Delta version is cheap to read; the query runs only when it moved.
    """
    path = str(lakehouse.path(SILVER_TABLE))
    sql = f"SELECT count(*) AS n FROM {SILVER_TABLE} WHERE page_id = :page_id AND name = :name"
    seen_version = -1
    last_report = time.monotonic()
    while True:
        version = DeltaTable(path).version()
        if version != seen_version:
            seen_version = version
            if lakehouse.query(sql, params={"page_id": page_id, "name": name}).to_pylist()[0]["n"]:
                seen = time.time()
                commit = lakehouse.history(SILVER_TABLE, 1)[0].timestamp
                return seen, commit.timestamp() if commit else None
        now = time.monotonic()
        if now - last_report >= 10:
            last_report = now
            check_alive(daemon, log_path)
            log(
                f"not in silver yet after {time.time() - t0:.0f} s: runs since the edit "
                f"{status_counts(run_records(instance, t0 - 1))}"
            )
        if time.time() - t0 > timeout_s:
            raise BenchError(
                f"the edit is not in {SILVER_TABLE} {timeout_s:.0f} s after it was made; runs since the edit: "
                f"{status_counts(run_records(instance, t0 - 1))}; daemon log ({log_path}):\n{tail(log_path)}"
            )
        time.sleep(0.5)


def writer_run(
    instance: dg.DagsterInstance, records: Sequence[dg.RunRecord], table: dg.AssetKey = SILVER_KEY
) -> dg.RunRecord | None:
    """The run since the edit that materialized the silver table (or `table`) first."""
    best: tuple[float, dg.RunRecord] | None = None
    for record in records:
        stamp, _ = silver_write(run_events(instance, record.dagster_run.run_id), table)
        if stamp is not None and (best is None or stamp < best[0]):
            best = (stamp, record)
    return best[1] if best else None


def wait_run_end(instance: dg.DagsterInstance, run_id: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        record = instance.get_run_record_by_id(run_id)
        if record is None or record.dagster_run.status not in IN_PROGRESS:
            return
        time.sleep(1.0)
    log(f"run {run_id} still in progress after {timeout_s:.0f} s; reporting it unfinished")


def breakdown(
    instance: dg.DagsterInstance, t0: float, visible: float, table: dg.AssetKey = SILVER_KEY
) -> dict[str, Any]:
    """Where the lag went, from the instance: the tick, the run that wrote silver (or `table`), its steps."""
    records = run_records(instance, t0 - 1)
    runs = [
        {
            "job": record.dagster_run.job_name,
            "partition": record.dagster_run.tags.get("dagster/partition"),
            "sensor": record.dagster_run.tags.get("dagster/sensor_name"),
            "status": record.dagster_run.status.value,
            "created_s": rounded(record.create_timestamp.timestamp() - t0),
        }
        for record in records
    ]
    result: dict[str, Any] = {"runs_launched": len(records), "runs": runs}
    writer = writer_run(instance, records, table)
    if writer is None:
        return result
    run_id = writer.dagster_run.run_id
    tick = next((t for t in sensor_ticks(instance) if run_id in t.run_ids), None)
    events = run_events(instance, run_id)
    end = instance.get_run_record_by_id(run_id) or writer
    created = writer.create_timestamp.timestamp()
    enqueued = first(events, dg.DagsterEventType.RUN_ENQUEUED)
    starting = first(events, dg.DagsterEventType.RUN_STARTING)  # the queue let it go, the launcher took it
    started = first(events, dg.DagsterEventType.RUN_START) or end.start_time
    written, writer_step = silver_write(events, table)
    steps = steps_of(events)
    chain = critical_path(steps, writer_step)
    tick_start = tick.timestamp if tick else None

    def offset(stamp: float | None) -> float | None:
        return rounded(stamp - t0 if stamp is not None else None)

    def between(a: float | None, b: float | None) -> float | None:
        return rounded(b - a if a is not None and b is not None else None)

    # Critical path from t0 to visible; the parts add up to lag_s.
    worker_startup = sum(s.start - s.spawn for s in chain if s.start and s.spawn)
    compute = sum(min(s.end, written) - s.start for s in chain if s.start and s.end and written)
    run_part = between(started, written)
    parts = {
        "tick_wait": between(t0, tick_start),
        "sensor_eval": between(tick_start, created),  # the probe and the run's creation
        "queue": between(created, starting),  # the run queue's dequeue loop
        "run_worker_startup": between(starting, started),  # process start + definitions load
        "step_worker_startup": rounded(worker_startup) if chain else None,  # the same, per step
        "step_compute": rounded(compute) if chain else None,
        "executor_other": rounded(run_part - worker_startup - compute) if run_part is not None else None,
        "commit_to_visible": between(written, visible),
    }
    result.update(
        {
            "writer_run": {
                "run_id": run_id,
                "job": writer.dagster_run.job_name,
                "sensor": tick.instigator_name if tick else None,
                "status": end.dagster_run.status.value,
                "critical_steps": [step.key for step in chain],
            },
            "critical_path_s": parts,
            "tick_wait_s": parts["tick_wait"],
            "run_duration_s": between(end.start_time, end.end_time),
            "pipeline_s": between(tick_start, visible),
            "timeline": {
                "tick_start_s": offset(tick_start),
                "tick_end_s": offset(tick.end_timestamp if tick else None),
                "run_created_s": offset(created),
                "run_enqueued_s": offset(enqueued),
                "run_starting_s": offset(starting),
                "run_start_s": offset(started),
                "silver_materialized_s": offset(written),
                "visible_s": offset(visible),
                "run_end_s": offset(end.end_time),
            },
            "steps": [step.to_json(t0) for step in steps],
        }
    )
    return result


# -- the bench -----------------------------------------------------------------------------------------------
@contextlib.contextmanager
def instance_at(home: Path) -> Iterator[dg.DagsterInstance]:
    os.environ["DAGSTER_HOME"] = str(home)
    with dg.DagsterInstance.get() as instance:
        yield instance


@dataclass(frozen=True)
class Setup:
    """A production-like setting under a temporary root: the sandbox, the environment of every child process."""

    sandbox: SandboxProcess
    env: dict[str, str]
    home: Path
    lakehouse: LocalLakehouse
    daemon_log: Path


@contextlib.contextmanager
def production_like(args: argparse.Namespace, root: Path) -> Iterator[Setup]:
    """The Notion sandbox at 3 requests/s, a fresh DAGSTER_HOME (the repository's dagster.yaml), a lakehouse."""
    home = root / "dagster_home"
    home.mkdir()
    shutil.copyfile(project_root() / "dagster.yaml", home / "dagster.yaml")
    lakehouse_dir = root / "lakehouse"
    log_dir = Path(args.log_dir).resolve() if args.log_dir else root / "logs"
    with SandboxProcess(rate=3.0, anchor="today") as sandbox:
        log(f"sandbox at {sandbox.url}; DAGSTER_HOME={home}")
        env = {
            **os.environ,
            "DAGSTER_HOME": str(home),
            "PPM_LAKEHOUSE_DIR": str(lakehouse_dir),
            "PPM_SANDBOX_URL": sandbox.url,
            "PPM_SANDBOX_AZURE_URL": sandbox.service_url("azure"),
            "PPM_SANDBOX_CA_CERT": str(sandbox.ca_cert),
            "PYTHONUNBUFFERED": "1",
        }
        yield Setup(
            sandbox, env, home, LocalLakehouse(root=str(lakehouse_dir)), log_dir / "dagster-daemon.log"
        )


@contextlib.contextmanager
def daemon_running(setup: Setup) -> Iterator[tuple[subprocess.Popen[bytes], dg.DagsterInstance]]:
    """`dagster-daemon run` on the repository's workspace, and the instance it uses."""
    daemon_args = [str(BIN / "dagster-daemon"), "run", "-w", str(project_root() / "workspace.yaml")]
    with background(daemon_args, setup.env, setup.daemon_log) as daemon, instance_at(setup.home) as instance:
        log(f"dagster-daemon started (pid {daemon.pid}, log {setup.daemon_log})")
        yield daemon, instance


def measure(args: argparse.Namespace, root: Path) -> dict[str, Any]:
    from ppm_assets.definitions import defs

    notion_change_sensor = defs.resolve_sensor_def(SENSOR)

    with production_like(args, root) as setup:
        sandbox, lakehouse, daemon_log = setup.sandbox, setup.lakehouse, setup.daemon_log
        sync_s = initial_sync(sandbox, setup.env)
        log(f"initial ppm sync done in {sync_s:.1f} s")
        with daemon_running(setup) as (daemon, instance):
            daemon_started = time.time()
            wait_until_quiet(instance, daemon, daemon_log, settle_s=args.settle, timeout_s=args.setup_timeout)
            setup_runs = run_records(instance)
            setup_s = time.time() - daemon_started

            t0 = time.time()
            page_id, name = edit_budget_line(sandbox.url)
            log(f"edited budget line {page_id}: Name = {name!r}")
            visible, committed = wait_visible(
                lakehouse,
                page_id,
                name,
                instance=instance,
                daemon=daemon,
                log_path=daemon_log,
                t0=t0,
                timeout_s=args.timeout,
            )
            lag = visible - t0
            log(f"visible in {SILVER_TABLE} after {lag:.1f} s")
            writer = writer_run(instance, run_records(instance, t0 - 1))
            if writer is not None:
                wait_run_end(instance, writer.dagster_run.run_id, args.drain)
            details = breakdown(instance, t0, visible)
            spacing = tick_spacing(sensor_ticks(instance, SENSOR))
            log("stopping dagster-daemon")

    pipeline = details.pop("pipeline_s", None)
    return {
        "benchmark": "freshness_lag",
        "lag_s": round(lag, 2),
        "target_s": TARGET_S,
        "meets_target": lag <= TARGET_S,
        "commit_lag_s": rounded(committed - t0 if committed else None),
        "sensor": SENSOR,
        "sensor_min_interval_s": notion_change_sensor.minimum_interval_seconds,
        "sensor_tick_spacing_s": rounded(spacing),
        "pipeline_s": pipeline,
        "worst_case_lag_s": rounded(spacing + pipeline if spacing and pipeline else None),
        **details,
        "setup": {
            "initial_sync_s": round(sync_s, 1),
            "daemon_to_quiet_s": round(setup_s, 1),
            "runs_before_edit": status_counts(setup_runs),  # `ppm sync` and the first tick's runs
        },
    }


def daemon_arguments(parser: argparse.ArgumentParser, *, waited_for: str) -> argparse.ArgumentParser:
    """The options both daemon benches take."""
    parser.add_argument("--timeout", type=float, default=600.0, help=f"seconds for {waited_for}")
    parser.add_argument("--setup-timeout", type=float, default=600.0, help="seconds for the first runs")
    parser.add_argument("--settle", type=float, default=5.0, help="quiet seconds before the change")
    parser.add_argument("--drain", type=float, default=180.0, help="seconds to wait for the runs' end")
    parser.add_argument("--log-dir", help="keep the daemon's log here (default: a temporary directory)")
    return parser


def run_bench(name: str, doc: str | None, waited_for: str, measure_in: Any) -> None:
    """Parse the options, run `measure_in(args, temporary root)`, print its JSON; exit 1 on a BenchError."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    args = daemon_arguments(parser, waited_for=waited_for).parse_args()
    # SIGTERM unwinds like Ctrl-C, so the daemon and the sandbox are stopped on the way out.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        with tempfile.TemporaryDirectory(prefix=f"ppm-{name}-") as root:
            result = measure_in(args, Path(root))
    except BenchError as error:
        print(f"{name}: {error}", file=sys.stderr)
        sys.exit(1)
    print(json.dumps(result))


def main() -> None:
    run_bench("freshness_lag", __doc__, "the edit to reach silver", measure)


if __name__ == "__main__":
    main()
