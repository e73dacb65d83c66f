"""`ppm`: the project's command line (demo, headless materialization, health, lakehouse maintenance)."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from typing import Any

import click

from ppm_assets.instance import ensure_dagster_home
from ppm_sensors.jobs import BRONZE_OP, NOTION_SELECTION_TEXT


def _fail(message: str) -> None:
    click.secho(message, fg="red", err=True)
    sys.exit(1)


def _lakehouse() -> Any:
    from ppm_resources import SettingsError, build_resources

    try:
        return build_resources()["lakehouse"]
    except SettingsError as error:
        _fail(str(error))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Finance PPM lakehouse on Dagster."""


def _run(
    description: str,
    selection: str | None,
    *,
    partition: str | None = None,
    op_config: dict[str, dict] | None = None,
    tags: dict[str, str] | None = None,
) -> None:
    """Materialize in process, recorded in the Dagster instance; print a summary; exit 1 on failure."""
    home = ensure_dagster_home()
    import dagster as dg

    from ppm_assets.materialize import materialize_all

    try:
        from ppm_assets.definitions import defs
    except Exception as error:  # settings or definition errors: show the message, not a traceback
        _fail(f"cannot load definitions: {error}")
    with dg.DagsterInstance.get() as instance:
        click.echo(f"{description} (instance {home}) ...")
        try:
            summary = materialize_all(
                defs, instance, selection, partition=partition, op_config=op_config, tags=tags
            )
        except ValueError as error:
            _fail(str(error))
    click.echo(
        f"{'runs' if len(summary.run_ids) > 1 else 'run'} {summary.run_id}: {'succeeded' if summary.success else 'FAILED'} in {summary.seconds:.1f} s, "
        f"{len(summary.asset_keys)} assets materialized ({summary.materializations} partitions), "
        f"checks {summary.checks_passed} passed / {summary.checks_failed} failed"
        f" ({summary.checks_failed_warn} of them WARN)"
    )
    for error in summary.errors:
        click.secho(f"  {error}", fg="red", err=True)
    if not summary.success:
        _fail("run failed: open it in the Dagster UI (Runs) or see the log above")


@main.command()
@click.option("--select", default=None, help="Dagster asset selection, e.g. 'key:silver/*' (default: all).")
def materialize(select: str | None) -> None:
    """Materialize every asset once, headless; exit 1 if anything fails."""
    _run(f"materializing {select or 'all assets'}", select)


@main.command()
@click.option("--full-sync", is_flag=True, help="Ignore watermarks; reconcile trashed/deleted pages.")
@click.option("--dry-run", is_flag=True, help="Fetch and validate; write nothing.")
def sync(full_sync: bool, dry_run: bool) -> None:
    """Sync every Notion database into bronze, then rebuild the silver Notion tables."""
    _run(
        f"{'full' if full_sync else 'incremental'} sync of every Notion database{' (dry run)' if dry_run else ''}",
        NOTION_SELECTION_TEXT,
        op_config={BRONZE_OP: {"full_sync": full_sync, "dry_run": dry_run}},
        tags={"ppm/trigger": "cli"},
    )


@main.command("sync-database")
@click.argument("name")
@click.option("--full-sync", is_flag=True, help="Ignore the watermark; reconcile trashed/deleted pages.")
@click.option("--dry-run", is_flag=True, help="Fetch and validate; write nothing.")
def sync_database(name: str, full_sync: bool, dry_run: bool) -> None:
    """Sync one Notion database (a name of config/notion_mapping.yaml) and rebuild its silver table."""
    from ppm_resources.notion_mapping import MappingError, load_notion_mapping

    try:
        database = load_notion_mapping().database(name)
    except (KeyError, MappingError) as error:
        _fail(str(error).strip('"'))
    _run(
        f"{'full' if full_sync else 'incremental'} sync of {name}{' (dry run)' if dry_run else ''}",
        f'key:"bronze/notion_raw_pages" or key:"silver/{database.silver_table}"',
        partition=name,
        op_config={BRONZE_OP: {"full_sync": full_sync, "dry_run": dry_run}},
        tags={"ppm/trigger": "cli"},
    )


@main.command()
@click.option("--port", default=3000, show_default=True, help="Dagster UI port.")
@click.option("--sandbox-port", default=8765, show_default=True, help="Sandbox port.")
@click.option("--skip-materialize", is_flag=True, help="Start the UI without materializing first.")
def demo(port: int, sandbox_port: int, skip_materialize: bool) -> None:
    """Start the sandbox, materialize everything once, then serve the Dagster UI until Ctrl-C."""
    from ppm_assets.demo import background, dagster_dev_command, interrupt, sandbox_command, wait_for_http
    from ppm_resources.paths import project_root

    # Started with `&` from a non-interactive shell, we inherit an *ignored* SIGINT, and so would our children:
    # handle it (children then start with the default action) and treat SIGTERM the same way.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    home = ensure_dagster_home()
    sandbox_url = f"http://127.0.0.1:{sandbox_port}"
    env = {**os.environ, "DAGSTER_HOME": str(home), "PPM_SANDBOX_URL": sandbox_url}
    logs = project_root() / ".logs"
    with background(sandbox_command(sandbox_port), env, logs / "sandbox.log") as sandbox:
        wait_for_http(f"{sandbox_url}/healthz", 60, sandbox)
        click.echo(f"sandbox ready at {sandbox_url} (log: .logs/sandbox.log)")
        if not skip_materialize:
            code = _run_child([sys.executable, "-m", "ppm_assets.cli", "materialize"], env)
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

    from ppm_resources import SettingsError, build_resources, load_settings
    from ppm_resources.notion import NotionError
    from ppm_resources.notion_mapping import load_notion_mapping

    try:
        settings = load_settings()
        resources = build_resources(settings)
    except SettingsError as error:
        _fail(str(error))
    target = "sandbox" if settings.notion_uses_sandbox else "Notion"
    click.echo(f"settings: ok (PPM_ENV={settings.ppm.env}, {target} at {settings.notion_base_url})")
    notion = resources["notion"].process_config_and_initialize()  # resolves EnvVar("NOTION_TOKEN")
    mapping = load_notion_mapping()

    async def check_databases() -> list[str]:
        problems = []
        async with notion.client(max_retries=2, breaker_failure_threshold=100) as client:
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
        return problems

    try:
        problems = asyncio.run(check_databases())
    except Exception as error:  # unreachable host, broken TLS: say so instead of a traceback
        problems = [f"notion: cannot reach {settings.notion_base_url}: {error}"]
    lakehouse = resources["lakehouse"]
    try:
        tables = lakehouse.tables()
        click.echo(f"lakehouse: ok ({len(tables)} tables under {lakehouse.root})")
    except Exception as error:
        problems.append(f"lakehouse: {error}")
    if problems:
        _fail("\n".join(problems))


@main.group()
def lakehouse() -> None:
    """Table maintenance: history, restore, vacuum, optimize (runbook DR steps)."""


@lakehouse.command("tables")
def lakehouse_tables() -> None:
    """List tables with version and row count."""
    engine = _lakehouse()
    for table in engine.tables():
        info = engine.info(table)
        click.echo(f"{table:40} version {info.version:>5}  rows {info.num_rows:>10}")


@lakehouse.command("history")
@click.argument("table")
@click.option("--limit", default=20, show_default=True)
def lakehouse_history(table: str, limit: int) -> None:
    """Show a table's commits, newest first."""
    for entry in _lakehouse().history(table, limit):
        stamp = entry.timestamp.isoformat(timespec="seconds") if entry.timestamp else "?"
        click.echo(f"{entry.version:>5}  {stamp}  {entry.operation:12} {json.dumps(dict(entry.metrics))}")


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


if __name__ == "__main__":
    main()
