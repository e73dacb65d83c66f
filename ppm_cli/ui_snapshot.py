"""`python -m ppm_cli.ui_snapshot`: PNG screenshots of the Dagster UI, to see at a glance that it renders.

Starts `ppm demo` (sandbox, first materialization, `dagster dev`) on free ports with a temporary DAGSTER_HOME
and lakehouse, drives headless Chromium through Playwright and saves the asset graph, the checks of
`silver/budget_lines`, the automation list and the runs list; then stops the demo. With `--url` it only
photographs a UI that is already running. Exit 1 if the demo does not start or a page does not render.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import signal
import socket
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ppm_cli.demo import BIN, background, wait_for_http
from ppm_resources.paths import project_root

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page, Request

CHROMIUM_DEFAULT = "/usr/bin/chromium"
# headless=True adds --headless; the profile is a temporary directory Playwright creates and removes.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1600, "height": 1100}
TIMEOUT_MS = 60_000
# Dagster polls GraphQL continuously; a page has loaded its data once no query has been in flight this long.
QUIET_S = 1.5
# Buttons that dismiss first-visit dialogs (Dagster's "Join the Dagster community" offers "Skip").
DISMISS_BUTTONS = ("Skip", "Dismiss", "No thanks", "Got it", "Close")
FIRST_DIALOG_MS = 4_000
CHECKS_ASSET = "silver/budget_lines"
CHECKS_WAIT_S = 420


class PageError(Exception):
    """A page did not render what it should."""


class GraphqlTracker:
    """Counts the page's GraphQL requests in flight."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.in_flight: set[Request] = set()
        page.on("request", self._started)
        page.on("requestfinished", self._ended)
        page.on("requestfailed", self._ended)

    def _started(self, request: Request) -> None:
        if "/graphql" in request.url:
            self.in_flight.add(request)

    def _ended(self, request: Request) -> None:
        self.in_flight.discard(request)

    def settle(self, timeout_s: float = TIMEOUT_MS / 1000) -> None:
        """Wait until no GraphQL query has been in flight for QUIET_S and no loading spinner is shown."""
        deadline = time.monotonic() + timeout_s
        quiet_since = time.monotonic()
        while time.monotonic() - quiet_since < QUIET_S:
            if time.monotonic() > deadline:
                raise PageError(
                    f"still loading after {timeout_s:.0f} s ({len(self.in_flight)} queries pending)"
                )
            self.page.wait_for_timeout(100)  # lets Playwright deliver the request events
            if self.in_flight or _loading_spinners(self.page):
                quiet_since = time.monotonic()


def _loading_spinners(page: Page) -> int:
    # Small caption spinners mark work in progress (a running tick or run), not a page still loading.
    return page.evaluate(
        "() => [...document.querySelectorAll('[role=progressbar]')]"
        ".filter(e => e.getBoundingClientRect().width > 16).length"
    )


def dismiss_dialogs(page: Page, appear_ms: int = 0) -> list[str]:
    """Click the dismiss button of every open dialog (first-visit pop-ups), waiting `appear_ms` for one to
    open; return their titles."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    dismissed: list[str] = []
    dialog = page.get_by_role("dialog").first
    if appear_ms:
        with contextlib.suppress(PlaywrightTimeout):
            dialog.wait_for(timeout=appear_ms)
    for _ in range(3):  # one dialog may follow another
        if not dialog.is_visible():
            break
        text = dialog.inner_text().strip()
        title = text.splitlines()[0] if text else "dialog"
        for name in DISMISS_BUTTONS:
            button = dialog.get_by_role("button", name=name, exact=True)
            if button.count() and button.first.is_visible():
                button.first.click()
                break
        else:
            raise PageError(f"a dialog covers the page and has no dismiss button: {title!r}")
        dialog.wait_for(state="hidden")
        dismissed.append(title)
    return dismissed


def _menu_item(page: Page, name: str) -> bool:
    """Open the asset graph's settings menu and click `name` if it is offered; False if not."""
    page.get_by_role("button", name="settings", exact=True).click()
    menu = page.get_by_role("menu")
    menu.wait_for()
    item = menu.get_by_role("menuitem", name=name)
    found = item.count() > 0
    if found:
        item.first.click()
    if menu.is_visible():  # it stays open after a click
        page.keyboard.press("Escape")
        menu.wait_for(state="hidden")
    return found


def prepare_asset_graph(page: Page, tracker: GraphqlTracker) -> None:
    # With several groups Dagster shows them collapsed; expanded and top-down, the whole graph fits the width.
    # Both settings persist in local storage, and the graph zooms to fit once it is laid out after a load.
    _menu_item(page, "Expand all groups")
    _menu_item(page, "Change graph to vertical orientation")
    page.reload(wait_until="domcontentloaded")
    tracker.settle()
    _expect(page.get_by_text("budget_lines"), "the node silver/budget_lines")
    if page.get_by_placeholder("Jump to…").is_visible():  # the group tree: give its width to the graph
        page.get_by_role("button", name="panel_show_right", exact=True).click()
        # A double click on the background zooms the graph to fit the new width (animated).
        page.locator("svg[class*=svgContainer]").first.locator("..").dispatch_event("dblclick")
        page.wait_for_timeout(1500)
    _expect(page.get_by_text("data_quali"), "the node gold/data_quality_issues")  # the whole graph is drawn
    tracker.settle()


def prepare_asset_checks(page: Page, tracker: GraphqlTracker, wait_s: float) -> None:
    _expect(page.get_by_text(re.compile(r"^Checks \(\d+\)$")), "the list of checks")
    _expect(page.get_by_text("Evaluation result"), "the latest evaluation of a check")
    # Right after the demo starts, a sensor's run re-evaluates these checks, and their results are the point
    # of the page; it updates by itself.
    in_progress = page.get_by_text(re.compile(r"^in progress$", re.IGNORECASE))
    if in_progress.count() and wait_s > 0:
        click.echo(
            f"  a run is evaluating the checks of {CHECKS_ASSET}; waiting up to {wait_s:.0f} s for it ..."
        )
        started = time.monotonic()
        while in_progress.count() and time.monotonic() - started < wait_s:
            page.wait_for_timeout(5_000)
        state = "still running" if in_progress.count() else "done"
        click.echo(f"  ... {state} after {time.monotonic() - started:.0f} s")
        tracker.settle()
    # Show a failing check's latest evaluation, if there is one, rather than the first check's.
    failed = page.get_by_text(re.compile(r"^failed$", re.IGNORECASE))
    if failed.count():
        failed.first.click()
        page.wait_for_url(re.compile(r"[?&]checkDetail="))
        tracker.settle()


def prepare_automation(page: Page, tracker: GraphqlTracker) -> None:
    _expect(page.get_by_text("notion_change_sensor"), "the sensor notion_change_sensor")
    _expect(page.get_by_text("gold_hourly"), "the schedule gold_hourly")


def prepare_runs(page: Page, tracker: GraphqlTracker) -> None:
    run_ids = page.locator("a[href^='/runs/']").filter(has_text=re.compile(r"^[0-9a-f]{8}$"))
    _expect(run_ids, "a run")


def _expect(locator: Locator, what: str) -> None:
    from playwright.sync_api import Error as PlaywrightError

    try:
        locator.first.wait_for(timeout=TIMEOUT_MS)
    except PlaywrightError as error:
        raise PageError(f"{what} did not appear within {TIMEOUT_MS / 1000:.0f} s") from error


@dataclass(frozen=True)
class Shot:
    name: str
    path: str
    description: str
    prepare: Callable[[Page, GraphqlTracker], None]


def shots(checks_wait_s: float) -> list[Shot]:
    return [
        Shot("1-asset-graph", "/asset-groups", "global asset lineage", prepare_asset_graph),
        Shot("2-automation", "/automation", "sensors and schedules", prepare_automation),
        Shot("3-runs", "/runs", "runs", prepare_runs),
        # Last: it may wait for a run to finish evaluating the checks.
        Shot(
            "4-asset-checks",
            f"/assets/{CHECKS_ASSET}?view=checks",
            f"checks of {CHECKS_ASSET}",
            functools.partial(prepare_asset_checks, wait_s=checks_wait_s),
        ),
    ]


def snapshot(url: str, out: Path, chromium: str, checks_wait_s: float) -> list[str]:
    """Photograph every page of `shots()`; return one error line per page that failed."""
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport=VIEWPORT, color_scheme="light")
            page.set_default_timeout(TIMEOUT_MS)
            tracker = GraphqlTracker(page)
            for index, shot in enumerate(shots(checks_wait_s)):
                target = out / f"{shot.name}.png"
                try:
                    response = page.goto(url + shot.path, wait_until="domcontentloaded")
                    if response is None or not response.ok:
                        raise PageError(f"HTTP {response.status if response else 'no response'}")
                    tracker.settle()
                    # Dagster opens its community dialog a second after it has asked the server whether to.
                    for title in dismiss_dialogs(page, appear_ms=FIRST_DIALOG_MS if index == 0 else 0):
                        click.echo(f"  dismissed first-visit dialog: {title}")
                    shot.prepare(page, tracker)
                    dismiss_dialogs(page)
                    page.screenshot(path=target)
                    click.echo(f"{target}  ({shot.description})")
                except (PageError, PlaywrightError) as error:
                    failed = target.with_suffix(".failed.png")
                    with contextlib.suppress(PlaywrightError):
                        page.screenshot(path=failed)
                    message = str(error).splitlines()[0]
                    errors.append(f"{shot.name} ({url}{shot.path}): {message} (page as it was: {failed})")
        finally:
            browser.close()
    return errors


def free_port(*taken: int) -> int:
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port not in taken:
            return port


@contextlib.contextmanager
def throwaway_demo(port: int, sandbox_port: int, log_path: Path) -> Iterator[str]:
    """`ppm demo` in its own session, on a temporary instance and lakehouse; yields the UI's URL."""
    with tempfile.TemporaryDirectory(prefix="ppm-ui-snapshot-", ignore_cleanup_errors=True) as tmp:
        home = str(Path(tmp) / "dagster_home")
        env = {**os.environ, "DAGSTER_HOME": home, "PPM_LAKEHOUSE_DIR": str(Path(tmp) / "lakehouse")}
        url = f"http://127.0.0.1:{port}"
        command = [str(BIN / "ppm"), "demo", "--port", str(port), "--sandbox-port", str(sandbox_port)]
        click.echo(f"starting the demo on {url} (sandbox port {sandbox_port}, log: {log_path}) ...")
        started = time.monotonic()
        log_path.unlink(missing_ok=True)
        try:
            with background(command, env, log_path) as demo:  # stops it with SIGINT on the way out
                try:
                    wait_for_http(f"{url}/server_info", 600, demo)
                except (RuntimeError, TimeoutError) as error:
                    raise click.ClickException(
                        f"the demo did not start: {error}\n{_tail(log_path)}\n"
                        f"(more in {log_path} and .logs/dagster.log)"
                    ) from error
                click.echo(f"demo ready in {time.monotonic() - started:.0f} s")
                try:
                    yield url
                finally:
                    click.echo("stopping the demo ...")
        finally:
            reap(f"DAGSTER_HOME={home}".encode())


def _processes_with(env_entry: bytes) -> list[int]:
    if not Path("/proc").is_dir():
        return []
    pids: list[int] = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if env_entry in (entry / "environ").read_bytes().split(b"\0"):
                    pids.append(int(entry.name))
    return pids


def reap(env_entry: bytes) -> None:
    """End the demo's processes that outlive it: `dagster dev` leaves its code servers (and their runs) to
    exit on a missed heartbeat, up to a minute later. They are found by the demo's unique DAGSTER_HOME."""
    for sig, wait_s in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
        pids = _processes_with(env_entry)
        if not pids:
            return
        click.echo(f"ending {len(pids)} leftover process(es) of the demo: {' '.join(map(str, pids))}")
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, sig)
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline and _processes_with(env_entry):
            time.sleep(0.2)


def _tail(path: Path, lines: int = 15) -> str:
    with contextlib.suppress(OSError):
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    return ""


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Directory for the PNGs.  [default: .logs/ui-snapshot]",
)
@click.option("--port", type=int, default=None, help="Dagster UI port of the demo.  [default: a free port]")
@click.option(
    "--sandbox-port", type=int, default=None, help="Sandbox port of the demo.  [default: a free port]"
)
@click.option("--url", default=None, help="Photograph this running UI instead of starting a demo.")
@click.option(
    "--checks-wait",
    type=float,
    default=CHECKS_WAIT_S,
    show_default=True,
    help="Seconds to wait for a run evaluating the checks of silver/budget_lines (0: photograph them running).",
)
def main(
    out: Path | None, port: int | None, sandbox_port: int | None, url: str | None, checks_wait: float
) -> None:
    """Start a throwaway demo and save screenshots of its Dagster UI; exit 1 if a page does not render."""
    chromium = os.environ.get("PPM_CHROMIUM", CHROMIUM_DEFAULT)
    if not os.access(chromium, os.X_OK):
        raise click.ClickException(
            f"Chromium not found at {chromium}: apt-get install chromium, or set PPM_CHROMIUM to its path"
        )
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as error:
        raise click.ClickException(
            "playwright is not installed: pip install -e '.[ui]' (make ui-snapshot does it)"
        ) from error
    out = (out or project_root() / ".logs" / "ui-snapshot").resolve()
    out.mkdir(parents=True, exist_ok=True)
    for shot in shots(checks_wait):  # only our own files: --out may be a shared directory
        (out / f"{shot.name}.png").unlink(missing_ok=True)
        (out / f"{shot.name}.failed.png").unlink(missing_ok=True)
    # As in `ppm demo`: SIGINT may arrive ignored from a non-interactive shell, and SIGTERM must clean up too.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    started = time.monotonic()
    try:
        if url:
            url = url.rstrip("/")
            try:
                wait_for_http(f"{url}/server_info", 15)
            except TimeoutError as error:
                raise click.ClickException(f"no Dagster UI answers at {url}: {error}") from error
            errors = snapshot(url, out, chromium, checks_wait)
        else:
            demo_port = port or free_port(*filter(None, [sandbox_port]))
            demo_sandbox_port = sandbox_port or free_port(demo_port)
            with throwaway_demo(demo_port, demo_sandbox_port, out / "demo.log") as demo_url:
                errors = snapshot(demo_url, out, chromium, checks_wait)
    except KeyboardInterrupt:
        click.secho("interrupted", fg="red", err=True)
        sys.exit(130)
    if errors:
        click.secho(f"{len(errors)} of {len(shots(checks_wait))} pages failed:", fg="red", err=True)
        for error in errors:
            click.secho(f"  {error}", fg="red", err=True)
        sys.exit(1)
    click.echo(f"{len(shots(checks_wait))} screenshots in {out} ({time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()
