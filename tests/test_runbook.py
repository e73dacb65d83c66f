"""Every command of docs/runbook.md works: run in document order, as typed, against the sandbox.

The fixture prepares what an on-call engineer would find: a materialized lakehouse and a failed sync run (the
sandbox answers 401 once). Placeholders (<RUN_ID>, <VERSION>, <NAME>) get real values. Commands that serve
forever or need a browser are exercised by the tests named in ELSEWHERE.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest

from ppm_resources.lakehouse import LocalLakehouse
from ppm_resources.paths import project_root
from ppm_sandbox import SandboxServer
from ppm_sandbox.azure.service import AzureService

RUNBOOK = project_root() / "docs" / "runbook.md"
BIN = Path(sys.executable).parent
FENCE = re.compile(r"^[ \t]*```(\w*)\n(.*?)^[ \t]*```", re.MULTILINE | re.DOTALL)

# Commands run by other tests (they serve until stopped, or need Chromium): command -> test that runs it.
ELSEWHERE = {
    "curl -fsS http://127.0.0.1:3000/server_info": "tests/test_demo.py::test_demo_serves_the_ui_with_data_and_stops_on_sigint",
    "ppm demo": "tests/test_demo.py::test_demo_serves_the_ui_with_data_and_stops_on_sigint",
    "make ui-snapshot": "tests/test_ui_snapshot.py::test_ui_snapshot_photographs_the_control_room",
    "ppm serve-webhooks": "tests/webhooks/test_cli.py::test_serve_webhooks_receives_the_handshake_and_events_and_stops_on_sigint",
}


def blocks(language: str) -> list[str]:
    return [body for lang, body in FENCE.findall(RUNBOOK.read_text()) if lang == language]


def runbook_commands() -> list[list[str]]:
    """Each command line of the bash blocks as argv (comments dropped), in document order."""
    commands = []
    for body in blocks("bash"):
        for line in body.splitlines():
            argv = shlex.split(line, comments=True)
            if argv:
                commands.append(argv)
    return commands


def test_runbook_has_commands_and_each_is_run_by_a_test() -> None:
    commands = runbook_commands()
    assert len(commands) >= 30
    for argv in commands:
        line = shlex.join(argv)
        if line in ELSEWHERE:
            path, name = ELSEWHERE[line].split("::")
            assert f"def {name}(" in (project_root() / path).read_text(), ELSEWHERE[line]
        else:
            assert argv[0] in {"ppm", "dagster"}, f"runbook command not run by any test: {line}"


@pytest.fixture(scope="module")
def on_call(tmp_path_factory: pytest.TempPathFactory, sandbox: SandboxServer, sandbox_env) -> dict[str, str]:
    """After a full materialization, one failed `ppm sync-database risks` and a bad write; placeholders."""
    base = tmp_path_factory.mktemp("runbook")
    env = {
        **os.environ,
        "DAGSTER_HOME": str(base / "dagster_home"),
        "PPM_LAKEHOUSE_DIR": str(base / "lakehouse"),
        **sandbox_env(sandbox),
        "NOTION_RATE_LIMIT_RPS": "200",
    }
    ok = subprocess.run([BIN / "ppm", "materialize"], env=env, capture_output=True, text=True, check=False)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    sandbox.faults.fail_next(1, status=401)
    try:
        failed = subprocess.run(
            [BIN / "ppm", "sync-database", "risks"], env=env, capture_output=True, text=True, check=False
        )
    finally:
        sandbox.faults.reset()
    assert failed.returncode == 1 and "401" in failed.stderr, failed.stdout + failed.stderr
    run_id = re.search(r"run ([0-9a-f-]{36}): FAILED", failed.stdout)
    assert run_id, failed.stdout
    # a bad write for the disaster-recovery steps: version 1 of silver.fx_rates lost every currency but EUR
    lakehouse = LocalLakehouse(root=env["PPM_LAKEHOUSE_DIR"])
    lakehouse.replace("silver.fx_rates", "SELECT * FROM silver.fx_rates WHERE currency = 'EUR'")
    subscription = sorted(
        sandbox.service("azure", AzureService).store.subscriptions(), key=lambda s: s.subscription_id
    )[0]
    return {
        **env,
        "<RUN_ID>": run_id.group(1),
        "<VERSION>": "0",
        "<NAME>": "risks",
        "<PROJECT_ID>": "PRJ-12",
        "<SUBSCRIPTION_ID>": subscription.subscription_id,
    }


def test_runbook_commands_succeed_in_order(on_call: dict[str, str]) -> None:
    env = {k: v for k, v in on_call.items() if not k.startswith("<")}
    placeholders = {k: v for k, v in on_call.items() if k.startswith("<")}
    ran = ["ppm materialize"]  # by the fixture; a line repeated in the runbook runs once
    seconds: dict[str, float] = {}
    outputs: dict[str, str] = {}
    for argv in runbook_commands():
        line = shlex.join(argv)
        if line in ELSEWHERE or line in ran:
            continue
        for placeholder, value in placeholders.items():
            argv = [arg.replace(placeholder, value) for arg in argv]
        assert not [a for a in argv if re.search(r"<[A-Z_]+>", a)], f"unknown placeholder in {line}"
        executable = str(BIN / argv[0])
        started = time.monotonic()
        result = subprocess.run(
            [executable, *argv[1:]],
            env=env,
            cwd=project_root(),
            capture_output=True,
            text=True,
            check=False,
        )
        output = f"$ {shlex.join(argv)}\n{result.stdout}\n{result.stderr[-3000:]}"
        assert result.returncode == 0, output
        assert "Traceback" not in result.stdout + result.stderr, output
        ran.append(line)
        seconds[line] = time.monotonic() - started
        outputs[line] = result.stdout
    print("\n".join(f"{s:6.1f} s  {line}" for line, s in seconds.items()))  # shown with -s
    assert any(line.startswith("ppm reexecute") for line in ran)

    with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        retry = instance.get_runs(dg.RunsFilter(tags={"ppm/trigger": "reexecute_from_failure"}))
        assert retry and retry[0].parent_run_id == on_call["<RUN_ID>"] and retry[0].is_success
    # the first daily check shows the failed run with its root cause
    assert (
        on_call["<RUN_ID>"] in outputs["ppm status --problems"] and "401" in outputs["ppm status --problems"]
    )


def test_runbook_sql_runs(on_call: dict[str, str]) -> None:
    lakehouse = LocalLakehouse(root=on_call["PPM_LAKEHOUSE_DIR"])
    queries = blocks("sql")
    assert len(queries) >= 2
    for sql in queries:
        assert lakehouse.query(sql).num_rows > 0, sql
