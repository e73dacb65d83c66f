"""A `.env` file is honoured everywhere the environment is: by settings and by `dg.EnvVar` resources alike."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import dagster as dg
import pytest

from ppm_cli.cli import _config_problem
from ppm_resources.notion.mapping import load_notion_mapping
from ppm_resources.notion.resource import NotionResource
from ppm_sandbox import SandboxServer

PPM = str(Path(sys.executable).parent / "ppm")
OWN_PREFIXES = ("PPM_", "NOTION_", "DATABRICKS_", "AZURE_", "UNIFI_", "NINJAONE_", "DAGSTER_")


def test_a_token_kept_only_in_dotenv_serves_health_and_sync(sandbox: SandboxServer, tmp_path: Path):
    """Real-token mode against the sandbox (it accepts any `secret_...` token), configured by `.env` alone."""
    token = f"secret_{uuid.uuid4().hex}"  # a token of its own: its own rate-limit bucket in the sandbox
    mapping = load_notion_mapping()
    lines = [
        f"NOTION_TOKEN={token}",
        f"NOTION_API_URL={sandbox.notion_url}",
        "NOTION_RATE_LIMIT_RPS=200",
        *(f"{db.id_env}={sandbox.notion.database(name).id}" for name, db in mapping.databases.items()),
    ]
    (tmp_path / ".env").write_bytes("\r\n".join(lines).encode() + b"\r\n")  # as saved by a Windows editor
    # Nothing of ours in the environment but the Dagster instance, which must not be the repository's.
    env = {name: value for name, value in os.environ.items() if not name.startswith(OWN_PREFIXES)}
    env["DAGSTER_HOME"] = str(tmp_path / "dagster_home")

    def ppm(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [PPM, *args], cwd=tmp_path, env=env, capture_output=True, text=True, check=False
        )

    health = ppm("health")
    assert health.returncode == 0, health.stdout + health.stderr
    assert "settings: ok" in health.stdout and "Traceback" not in health.stderr
    for name in mapping.names:
        assert f"notion: {name}: ok" in health.stdout
    sync = ppm("sync")
    assert sync.returncode == 0, sync.stdout + sync.stderr
    assert "succeeded" in sync.stdout and "not set" not in sync.stderr
    assert (tmp_path / ".lakehouse").is_dir()  # PPM_LAKEHOUSE_DIR's default, in the working directory
    assert token not in health.stdout + health.stderr + sync.stdout + sync.stderr


def test_a_resource_variable_that_is_not_set_is_one_line_naming_it(monkeypatch: pytest.MonkeyPatch):
    """What `ppm health` prints instead of Dagster's multi-line error with its stack trace."""
    monkeypatch.delenv("PPM_TEST_UNSET_TOKEN", raising=False)
    resource = NotionResource(base_url="http://127.0.0.1:9", token=dg.EnvVar("PPM_TEST_UNSET_TOKEN"))
    with pytest.raises(dg.DagsterInvalidConfigError) as raised:
        resource.process_config_and_initialize()
    assert "Stack Trace" in str(raised.value)
    assert _config_problem(raised.value) == (
        "PPM_TEST_UNSET_TOKEN is not set: set it in the environment or in .env (in the working directory)"
    )
