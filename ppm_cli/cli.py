"""`ppm`: the project's command line (demo, headless materialization, health, lakehouse maintenance)."""

from __future__ import annotations

import json
import os
import re
import signal
import sys
import time
from collections.abc import Callable
from typing import Any

import click

from ppm_cli.instance import ensure_dagster_home
from ppm_cli.materialize import MaterializeSummary
from ppm_cli.terminal import printable, printable_lines
from ppm_cli.webhooks import serve_webhooks
from ppm_resources.secrets import scrub
from ppm_sensors.notion.jobs import BRONZE_OP, NOTION_SELECTION_TEXT


def _fail(message: str) -> None:
    # errors quote what libraries rejected: tokens too, and page content (control characters escaped)
    click.secho(printable_lines(scrub(message)), fg="red", err=True)
    sys.exit(1)


def _lakehouse() -> Any:
    from ppm_resources import SettingsError, build_resources

    try:
        # Resolves EnvVar references (DATABRICKS_TOKEN) as a run would.
        return build_resources()["lakehouse"].process_config_and_initialize()
    except SettingsError as error:
        _fail(str(error))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Finance PPM lakehouse on Dagster."""
    from ppm_resources import prepare_process

    prepare_process()  # `.env` honoured by whatever reads the environment (dg.EnvVar); logs scrubbed


def _run(
    description: str,
    selection: str | None,
    *,
    partition: str | None = None,
    op_config: dict[str, dict] | None = None,
    tags: dict[str, str] | None = None,
    pools: tuple[str, ...] = (),
    then: Callable[[MaterializeSummary], None] | None = None,
) -> None:
    """Materialize in process, recorded in the Dagster instance; print a summary; exit 1 on failure.

    `pools`: wait here, interruptibly, while another run holds every slot of one of them. `then`: what to print
    about the runs before the summary line.
    """
    home = ensure_dagster_home()
    import dagster as dg

    from ppm_cli.materialize import materialize_all

    defs = _load_defs()
    with dg.DagsterInstance.get() as instance:
        _release_dead_runs(instance)
        _wait_for_pools(instance, pools)
        click.echo(f"{description} (instance {home}) ...")
        try:
            summary = materialize_all(
                defs, instance, selection, partition=partition, op_config=op_config, tags=tags
            )
        except ValueError as error:
            _fail(str(error))
    if then is not None:
        then(summary)
    _report(summary)


def _wait_for_pools(instance: Any, pools: tuple[str, ...]) -> None:
    """Wait (1 s naps, Ctrl-C or SIGTERM stop it) while a live run holds a pool this command needs.

    Dagster's in-process executor would wait for the slot too, but in a busy loop at full CPU that does not
    answer SIGTERM; waiting here first keeps a queued `ppm sync` quiet and stoppable.
    """
    from ppm_resources.run_liveness import pool_holders

    announced: set[str] = set()
    for pool in pools:
        while holders := pool_holders(instance, pool):
            if pool not in announced:
                announced.add(pool)
                click.echo(
                    f"waiting: the {pool} pool is held by run {', '.join(holders)}; this command starts when it "
                    "is free (Ctrl-C stops waiting)",
                    err=True,
                )
            time.sleep(1.0)
            _release_dead_runs(instance)  # a holder that dies meanwhile frees its slot


def _release_dead_runs(instance: Any) -> None:
    """Before anything else: runs of `ppm` processes that died are marked failed and their pool slots freed,
    so this command (and the sensors' runs) never wait for a slot nobody will give back."""
    from ppm_resources.run_liveness import PID_TAG, release_dead_runs

    for run in release_dead_runs(instance):
        click.echo(
            f"run {run.run_id} ({run.job_name}) was left in flight by a ppm process that died "
            f"(pid {run.tags.get(PID_TAG)}): marked failed, its pool slots freed",
            err=True,
        )


def _load_defs() -> Any:
    try:
        from ppm_assets.definitions import defs
    except Exception as error:  # settings or definition errors: show the message, not a traceback
        _fail(f"cannot load definitions: {error}")
    return defs


def _report(summary: MaterializeSummary) -> None:
    """One line per command: runs, outcome, assets, checks; each failed step's error; exit 1 on failure."""
    click.echo(
        f"{'runs' if len(summary.run_ids) > 1 else 'run'} {summary.run_id}: "
        f"{'succeeded' if summary.success else 'FAILED'} in {summary.seconds:.1f} s, "
        f"{len(summary.asset_keys)} assets materialized ({summary.materializations} partitions), "
        f"checks {summary.checks_passed} passed / {summary.checks_failed} failed"
        f" ({summary.checks_failed_warn} of them WARN)"
    )
    for error in summary.errors:
        click.secho(f"  {printable_lines(scrub(error))}", fg="red", err=True)
    if not summary.success:
        _fail("run failed: open it in the Dagster UI (Runs) or see the log above")


@main.command()
@click.option("--select", default=None, help="Dagster asset selection, e.g. 'key:silver/*' (default: all).")
def materialize(select: str | None) -> None:
    """Materialize every asset once, headless; exit 1 if anything fails."""
    _run(f"materializing {select or 'all assets'}", select, pools=NOTION_POOLS)


#: The pools the Notion sync's bronze asset takes (`pool=` on the asset).
NOTION_POOLS = ("notion_api",)


def _sync_tags(dry_run: bool) -> dict[str, str]:
    from ppm_resources.run_tags import DRY_RUN_TAG

    return {"ppm/trigger": "cli", **({DRY_RUN_TAG: "true"} if dry_run else {})}


_ALLOW_MASS_DELETE = click.option(
    "--allow-mass-delete",
    is_flag=True,
    help="Tombstone pages even when most of a database vanished at once (NOTION_MASS_DELETE_SHARE).",
)


@main.command()
@click.option("--full-sync", is_flag=True, help="Ignore watermarks; reconcile trashed/deleted pages.")
@click.option("--dry-run", is_flag=True, help="Fetch and validate; write nothing.")
@_ALLOW_MASS_DELETE
def sync(full_sync: bool, dry_run: bool, allow_mass_delete: bool) -> None:
    """Sync every Notion database into bronze, then rebuild the silver Notion tables."""
    _run(
        f"{'full' if full_sync else 'incremental'} sync of every Notion database{' (dry run)' if dry_run else ''}",
        NOTION_SELECTION_TEXT,
        op_config={
            BRONZE_OP: {"full_sync": full_sync, "dry_run": dry_run, "allow_mass_delete": allow_mass_delete}
        },
        tags=_sync_tags(dry_run),
        pools=NOTION_POOLS,
    )


@main.command("action")
@click.option(
    "--project",
    "project_id",
    default="",
    help="Project ID (e.g. PRJ-12) or the project's Notion page id/URL.",
)
@click.option("--title", default="", help="The Action's title (raises one Action by hand).")
@click.option("--assignee", default="", help="A Notion user: id, e-mail or exact name.")
@click.option("--due", "due_date", default="", help="Due date, YYYY-MM-DD.")
@click.option("--priority", default="", help="High, Medium or Low.")
@click.option("--detail", default="", help="Text of the page body.")
@click.option("--source", type=click.Choice(["manual", "dq", "advisor"]), default="manual", show_default=True)
@click.option("--source-id", default="", help="The page's Source ID (default for manual: project + title).")
@click.option(
    "--pending", is_flag=True, help="Send every pending draft (critical DQ issues, High-impact Advisor)."
)
def action(
    project_id: str,
    title: str,
    assignee: str,
    due_date: str,
    priority: str,
    detail: str,
    source: str,
    source_id: str,
    pending: bool,
) -> None:
    """Create an Action page in Notion (the create_notion_action job); never two for one Source ID."""
    from ppm_assets.tables import NOTION_WRITEBACKS

    if bool(title.strip()) == pending:
        _fail("give either --title (one Action by hand) or --pending (every pending draft)")
    fields = (
        {}
        if pending
        else {
            "project_id": project_id,
            "title": title,
            "assignee": assignee,
            "due_date": due_date,
            "priority": priority,
            "detail": detail,
            "source": source,
            "source_id": source_id,
        }
    )

    def show_results(summary: MaterializeSummary) -> None:
        lakehouse = _lakehouse()
        if not summary.run_ids or not lakehouse.exists(NOTION_WRITEBACKS.name):
            return
        from ppm_resources.lakehouse import sql_string

        runs = ", ".join(sql_string(r) for r in summary.run_ids)
        rows = lakehouse.query(
            f"SELECT source_id, outcome, page_url, error FROM {NOTION_WRITEBACKS.name} WHERE run_id IN ({runs}) "
            "ORDER BY sent_at"
        ).to_pylist()
        for row in rows:
            where = row["page_url"] or row["error"] or ""
            click.echo(printable(f"{row['outcome']:8} {row['source_id']}  {where}"))

    _run(
        "sending the pending Action drafts to Notion"
        if pending
        else f"creating the Action {title.strip()!r} in Notion",
        f'key:"{NOTION_WRITEBACKS.path}"',
        op_config={NOTION_WRITEBACKS.op_name: fields},
        tags={"ppm/trigger": "cli"},
        pools=NOTION_POOLS,
        then=show_results,
    )


@main.command("sync-database")
@click.argument("name")
@click.option("--full-sync", is_flag=True, help="Ignore the watermark; reconcile trashed/deleted pages.")
@click.option("--dry-run", is_flag=True, help="Fetch and validate; write nothing.")
@click.option(
    "--page-id",
    "page_ids",
    multiple=True,
    help="Also retrieve this page and store its fate (trashed, deleted, moved, changed); repeatable.",
)
@_ALLOW_MASS_DELETE
@click.option(
    "--list-pages",
    is_flag=True,
    help="List every live page id and tombstone what bronze holds but Notion lost.",
)
def sync_database(
    name: str,
    full_sync: bool,
    dry_run: bool,
    page_ids: tuple[str, ...],
    allow_mass_delete: bool,
    list_pages: bool,
) -> None:
    """Sync one Notion database (a name of config/notion_mapping.yaml) and rebuild its silver table."""
    from ppm_assets.tables import NOTION_RAW_PAGES, NOTION_SYNC_WATERMARKS, notion_silver_table
    from ppm_resources.notion.mapping import MappingError, load_notion_mapping

    try:
        silver = notion_silver_table(name, load_notion_mapping())
    except (KeyError, MappingError) as error:
        _fail(str(error).strip('"'))
    _run(
        f"{'full' if full_sync else 'incremental'} sync of {name}{' (dry run)' if dry_run else ''}",
        # The watermarks table too: left out, it went stale after every `ppm sync-database`.
        f'key:"{NOTION_RAW_PAGES.path}" or key:"{NOTION_SYNC_WATERMARKS.path}" or key:"{silver.path}"',
        partition=name,
        op_config={
            BRONZE_OP: {
                "full_sync": full_sync,
                "dry_run": dry_run,
                "page_ids": list(page_ids),
                "list_pages": list_pages,
                "allow_mass_delete": allow_mass_delete,
            }
        },
        tags=_sync_tags(dry_run),
        pools=NOTION_POOLS,
    )


@main.command()
@click.option("--port", default=3000, show_default=True, help="Dagster UI port.")
@click.option("--sandbox-port", default=8765, show_default=True, help="Sandbox port.")
@click.option("--skip-materialize", is_flag=True, help="Start the UI without materializing first.")
def demo(port: int, sandbox_port: int, skip_materialize: bool) -> None:
    """Start the sandbox, materialize everything once, then serve the Dagster UI until Ctrl-C."""
    from ppm_cli.demo import background, dagster_dev_command, interrupt, sandbox_command, wait_for_http
    from ppm_resources.paths import project_root

    # Started with `&` from a non-interactive shell, we inherit an *ignored* SIGINT, and so would our children:
    # handle it (children then start with the default action) and treat SIGTERM the same way.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    home = ensure_dagster_home()
    sandbox_url = f"http://127.0.0.1:{sandbox_port}"
    # Azure is served over HTTPS on the next port, with a certificate the sandbox writes where the clients read it.
    azure_port = sandbox_port + 1
    tls_dir = project_root() / ".state" / "sandbox"
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "PPM_SANDBOX_URL": sandbox_url,
        "PPM_SANDBOX_AZURE_URL": f"https://127.0.0.1:{azure_port}",
        "PPM_SANDBOX_CA_CERT": str(tls_dir / "ca.pem"),
    }
    logs = project_root() / ".logs"
    with background(sandbox_command(sandbox_port, azure_port, tls_dir), env, logs / "sandbox.log") as sandbox:
        wait_for_http(f"{sandbox_url}/healthz", 60, sandbox)
        click.echo(f"sandbox ready at {sandbox_url} (log: .logs/sandbox.log)")
        if not skip_materialize:
            code = _run_child([sys.executable, "-m", "ppm_cli.cli", "materialize"], env)
            if code != 0:
                _fail("first materialization failed; starting nothing else (see above)")
        with background(dagster_dev_command(port), env, logs / "dagster.log") as dagster:
            url = f"http://127.0.0.1:{port}"
            wait_for_http(f"{url}/server_info", 180, dagster)
            click.secho(f"Dagster UI ready: {url}   (Ctrl-C stops the UI and the sandbox)", fg="green")
            try:
                while dagster.poll() is None and sandbox.poll() is None:
                    time.sleep(1)
            except KeyboardInterrupt:
                click.echo("stopping ...")
            finally:
                interrupt(dagster, sandbox)  # both shut down at once; the with-blocks wait for them


def _run_child(args: list[str], env: dict[str, str]) -> int:
    import subprocess

    return subprocess.run(args, env=env, check=False).returncode


@main.command()
def health() -> None:
    """Check settings, Notion credentials and database access, and the lakehouse; exit 1 on a problem."""
    import asyncio

    from dagster import DagsterInvalidConfigError

    from ppm_resources import SettingsError, build_resources, load_settings
    from ppm_resources.notion import NotionError
    from ppm_resources.notion.mapping import load_notion_mapping
    from ppm_resources.writeback.properties import ACTIONS_DATABASE

    try:
        settings = load_settings()
        resources = build_resources(settings)
    except SettingsError as error:
        _fail(str(error))
    target = "sandbox" if settings.notion_uses_sandbox else "Notion"
    click.echo(f"settings: ok (PPM_ENV={settings.ppm.env}, {target} at {settings.notion_base_url})")
    try:
        notion = resources["notion"].process_config_and_initialize()  # resolves EnvVar("NOTION_TOKEN")
    except DagsterInvalidConfigError as error:
        _fail(f"settings: {_config_problem(error)}")
    mapping = load_notion_mapping()

    async def check_databases() -> list[str]:
        problems = []
        # An interactive check: a long Retry-After or a retry storm answers within seconds, naming the setting.
        async with notion.client(
            max_retries=2,
            breaker_failure_threshold=100,
            max_retry_after_s=10.0,
            deadline_s=30.0,
            max_retry_after_name="ppm health's limit",
            deadline_name="ppm health's deadline (s)",
        ) as client:
            try:
                ids = await notion.resolve_database_ids(client, mapping, mapping.names)
            except NotionError as error:
                return [str(error)]
            for name, database_id in ids.items():
                try:
                    await client.retrieve_database(database_id)
                    click.echo(f"notion: {name}: ok ({mapping.database(name).title}, {database_id})")
                except NotionError as error:
                    problems.append(f"notion: {name}: {error}")
            if ACTIONS_DATABASE in ids and not problems:
                problems.extend(
                    await _check_writeback(client, mapping.database(ACTIONS_DATABASE), ids[ACTIONS_DATABASE])
                )
        return problems

    try:
        problems = asyncio.run(check_databases())
    except Exception as error:  # unreachable host, broken TLS: say so instead of a traceback
        problems = [f"notion: cannot reach {settings.notion_base_url}: {error}"]
    try:
        lakehouse = resources["lakehouse"].process_config_and_initialize()
        tables = lakehouse.tables()
        click.echo(f"lakehouse: ok ({len(tables)} tables; {lakehouse.describe()})")
    except Exception as error:
        problems.append(f"lakehouse: {error}")
    if problems:
        _fail("\n".join(problems))


async def _check_writeback(client: Any, actions: Any, database_id: str) -> list[str]:
    """Whether the Actions database has the properties the write-back writes (Source ID first of all)."""
    from ppm_resources.notion import NotionError
    from ppm_resources.writeback.properties import SchemaError
    from ppm_resources.writeback.writer import read_action_fields

    try:
        fields = await read_action_fields(client, database_id, actions)
    except (NotionError, SchemaError) as error:
        return [f"notion write-back: {error}"]
    click.echo(f"notion write-back: ok (Action pages found by {fields.name('source_id')!r})")
    return []


def _config_problem(error: Exception) -> str:
    """One line for a resource configuration error (Dagster's message carries a stack trace)."""
    text = str(error)
    unset = re.search(r'environment variable "(\w+)" which is not set', text)
    if unset:
        return f"{unset[1]} is not set: set it in the environment or in .env (in the working directory)"
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return next((line for line in lines if line.startswith("Error ")), lines[0] if lines else repr(error))


@main.command()
@click.option("--problems", is_flag=True, help="Only failures, errors, and scheduled jobs that never ran.")
def status(problems: bool) -> None:
    """Last run, status, duration, next tick and error of every job, asset, schedule and sensor."""
    ensure_dagster_home()
    import dagster as dg

    from ppm_assets.control_room import collect_status

    defs = _load_defs()
    with dg.DagsterInstance.get() as instance:
        _release_dead_runs(instance)
        rows = collect_status(instance, defs.get_repository_def())
    if problems:  # failed runs and steps, assets skipped after a failure, schedule/sensor errors
        rows = [r for r in rows if r.error or r.status == "FAILURE"]
    table = [
        {
            "type": r.object_type,
            "name": r.name,
            "status": r.status,
            "last run": r.last_run_id or "",
            "started (UTC)": r.started_at.strftime("%Y-%m-%d %H:%M:%S") if r.started_at else "",
            "duration": f"{r.duration_s:.1f} s" if r.duration_s is not None else "",
            "next tick (UTC)": r.next_tick_at.strftime("%Y-%m-%d %H:%M") if r.next_tick_at else "",
            "error": (r.error or "").splitlines()[0][:100] if r.error else "",
        }
        for r in rows
    ]
    click.echo(format_table(table) if table else "nothing to report")


@main.command("job")
@click.argument("name")
@click.option("--partition", default=None, help="One partition of a partitioned job (default: all of them).")
def run_job(name: str, partition: str | None) -> None:
    """Run a job of the code location in process, as Jobs → Launchpad does (e.g. dq_checks, notion_full_resync)."""
    home = ensure_dagster_home()
    import dagster as dg

    from ppm_cli.materialize import run_job_in_process

    defs = _load_defs()
    with dg.DagsterInstance.get() as instance:
        _release_dead_runs(instance)
        click.echo(f"running job {name}{f' ({partition})' if partition else ''} (instance {home}) ...")
        try:
            summary = run_job_in_process(defs, instance, name, partition=partition)
        except ValueError as error:
            _fail(str(error))
    _report(summary)


@main.command()
@click.argument("run_id")
def reexecute(run_id: str) -> None:
    """Re-execute a failed or canceled run from failure: only the steps that did not succeed, same partitions
    and config."""
    home = ensure_dagster_home()
    import dagster as dg

    from ppm_cli.recovery import reexecute_from_failure

    _load_defs()  # a broken code location fails here with its message
    with dg.DagsterInstance.get() as instance:
        _release_dead_runs(instance)
        click.echo(f"re-executing run {run_id} from failure (instance {home}) ...")
        try:
            summary = reexecute_from_failure(instance, run_id)
        except ValueError as error:
            _fail(str(error))
    _report(summary)


@main.command()
@click.argument("asset")
@click.option(
    "--partition",
    "partitions",
    multiple=True,
    help="A partition to (re)materialize; repeatable. "
    "Default: every partition that failed or never materialized.",
)
def backfill(asset: str, partitions: tuple[str, ...]) -> None:
    """Backfill a partitioned ASSET (e.g. gold/budget_vs_actual): only its failed and missing partitions."""
    home = ensure_dagster_home()
    import dagster as dg

    from ppm_cli.recovery import backfill_partitions, failed_and_missing_partitions

    defs = _load_defs()
    key = dg.AssetKey.from_user_string(asset)
    asset_graph = defs.resolve_asset_graph()
    if not asset_graph.has(key):
        _fail(
            f"no asset {asset!r}; assets are: {', '.join(sorted(k.to_user_string() for k in asset_graph.get_all_asset_keys()))}"
        )
    with dg.DagsterInstance.get() as instance:
        _release_dead_runs(instance)
        try:
            chosen = list(partitions) or failed_and_missing_partitions(instance, asset_graph, key)
            if not chosen:
                click.echo(f"{asset}: no failed or missing partitions; nothing to do")
                return
            click.echo(
                f"backfilling {asset}: {len(chosen)} partitions ({', '.join(chosen)}) (instance {home}) ..."
            )
            summary = backfill_partitions(defs, instance, key, chosen)
        except ValueError as error:
            _fail(str(error))
    _report(summary)


@main.command()
@click.argument("sql")
@click.option("--limit", default=100, show_default=True, help="Rows to print at most.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per row.")
def query(sql: str, limit: int, as_json: bool) -> None:
    """Run a Databricks-dialect SQL query against the lakehouse (tables as schema.table) and print the rows."""
    engine = _lakehouse()
    started = time.monotonic()
    try:
        result = engine.query(sql)
    except Exception as error:
        _fail(f"query failed: {error}")
    seconds = time.monotonic() - started
    rows = result.slice(0, limit).to_pylist()
    if as_json:
        for row in rows:
            # ASCII-only JSON escapes every control and bidi character of page content (as \uXXXX).
            click.echo(json.dumps(row, default=str, ensure_ascii=True))
    else:
        click.echo(format_table(rows) if rows else "(no rows)")
    click.echo(
        f"{result.num_rows} rows in {seconds:.2f} s{f' (first {limit} shown)' if result.num_rows > limit else ''}",
        err=True,
    )


def format_table(rows: list[dict[str, Any]]) -> str:
    """Rows as aligned text columns (None printed empty)."""
    columns = [printable(str(c)) for c in rows[0]]  # cells hold page content: control characters escaped
    cells = [[("" if v is None else printable(str(v))) for v in row.values()] for row in rows]
    widths = [max(len(c), *(len(line[i]) for line in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip()]
    lines += ["  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip() for line in cells]
    return "\n".join(lines)


class _LakehouseCommands(click.Group):
    """Table maintenance errors (no such table, no such version) are messages for the user, not tracebacks."""

    def invoke(self, ctx: click.Context) -> Any:
        from ppm_resources.lakehouse import LakehouseError

        try:
            return super().invoke(ctx)
        except LakehouseError as error:
            _fail(str(error))


@main.group(cls=_LakehouseCommands)
def lakehouse() -> None:
    """Table maintenance: history, restore, vacuum, optimize (runbook DR steps)."""


@lakehouse.command("tables")
def lakehouse_tables() -> None:
    """List tables with version and row count; mark damaged ones (and exit 1)."""
    from ppm_resources.lakehouse.errors import DamagedTableError

    engine = _lakehouse()
    damaged = []
    for table in engine.tables():
        try:
            info = engine.info(table)
        except DamagedTableError as error:  # one damaged table must not hide the others
            damaged.append(table)
            click.echo(printable(f"{table:40} DAMAGED: {error.damage}; to recover: {error.recovery}"))
            continue
        click.echo(f"{table:40} version {info.version:>5}  rows {info.num_rows:>10}")
    if damaged:
        _fail(f"{len(damaged)} damaged: {', '.join(damaged)} (see docs/runbook.md, 'A damaged table')")


@lakehouse.command("history")
@click.argument("table")
@click.option("--limit", default=20, show_default=True)
def lakehouse_history(table: str, limit: int) -> None:
    """Show a table's commits, newest first."""
    for entry in _lakehouse().history(table, limit):
        stamp = entry.timestamp.isoformat(timespec="seconds") if entry.timestamp else "?"
        operation = printable(entry.operation)  # commit metadata is whatever the writer put there
        click.echo(f"{entry.version:>5}  {stamp}  {operation:12} {json.dumps(dict(entry.metrics))}")


@lakehouse.command("restore")
@click.argument("table")
@click.argument("version", type=int)
def lakehouse_restore(table: str, version: int) -> None:
    """Restore TABLE to VERSION (a new commit; nothing is lost)."""
    entry = _lakehouse().restore(table, version)
    click.echo(f"restored {table} to version {version}; current version is now {entry.version}")


@lakehouse.command("vacuum")
@click.argument("table")
@click.option("--retention-hours", default=168, show_default=True)
@click.option("--dry-run", is_flag=True)
def lakehouse_vacuum(table: str, retention_hours: int, dry_run: bool) -> None:
    """Delete unreferenced files older than the retention (default 7 days)."""
    files = _lakehouse().vacuum(table, retention_hours=retention_hours, dry_run=dry_run)
    click.echo(f"{'would delete' if dry_run else 'deleted'} {len(files)} files from {table}")


@lakehouse.command("optimize")
@click.argument("table")
def lakehouse_optimize(table: str) -> None:
    """Compact small files."""
    metrics = _lakehouse().optimize(table)
    click.echo(json.dumps(metrics, default=str))


main.add_command(serve_webhooks)

if __name__ == "__main__":
    main()
