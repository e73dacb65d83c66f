"""`ppm`: the project's command line (demo, headless materialization, health, lakehouse maintenance)."""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

import click

from ppm_assets.instance import ensure_dagster_home


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


@main.command()
@click.option("--select", default=None, help="Dagster asset selection, e.g. 'key:silver/*' (default: all).")
def materialize(select: str | None) -> None:
    """Materialize every asset once, headless; exit 1 if anything fails."""
    home = ensure_dagster_home()
    import dagster as dg

    from ppm_assets.materialize import materialize_all

    try:
        from ppm_assets.definitions import defs
    except Exception as error:  # settings or definition errors: show the message, not a traceback
        _fail(f"cannot load definitions: {error}")
    with dg.DagsterInstance.get() as instance:
        click.echo(f"materializing {select or 'all assets'} (instance {home}) ...")
        try:
            summary = materialize_all(defs, instance, select)
        except ValueError as error:
            _fail(str(error))
    click.echo(
        f"run {summary.run_id}: {'succeeded' if summary.success else 'FAILED'} in {summary.seconds:.1f} s, "
        f"{summary.assets} assets materialized, checks {summary.checks_passed} passed / "
        f"{summary.checks_failed} failed"
    )
    for error in summary.errors:
        click.secho(f"  {error}", fg="red", err=True)
    if not summary.success:
        _fail("materialization failed: open the run in the Dagster UI (make demo) or see the log above")


@main.command()
@click.option("--port", default=3000, show_default=True, help="Dagster UI port.")
@click.option("--sandbox-port", default=8765, show_default=True, help="Sandbox port.")
@click.option("--skip-materialize", is_flag=True, help="Start the UI without materializing first.")
def demo(port: int, sandbox_port: int, skip_materialize: bool) -> None:
    """Start the sandbox, materialize everything once, then serve the Dagster UI until Ctrl-C."""
    from ppm_assets.demo import background, dagster_dev_command, sandbox_command, wait_for_http
    from ppm_resources.paths import project_root

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


def _run_child(args: list[str], env: dict[str, str]) -> int:
    import subprocess

    return subprocess.run(args, env=env, check=False).returncode


@main.command()
def health() -> None:
    """Check settings and the lakehouse; exit 1 on the first problem."""
    from ppm_resources import SettingsError, load_settings

    try:
        settings = load_settings()
    except SettingsError as error:
        _fail(str(error))
    click.echo(f"settings: ok (PPM_ENV={settings.ppm.env}, Notion at {settings.notion_base_url})")
    lakehouse = _lakehouse()
    tables = lakehouse.tables()
    click.echo(f"lakehouse: ok ({len(tables)} tables under {lakehouse.root})")


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
