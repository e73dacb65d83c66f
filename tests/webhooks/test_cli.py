"""`ppm serve-webhooks` as typed: serves until Ctrl-C, stores the handshake's token, never prints it."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx

from ppm_resources.notion.webhooks import WebhookInbox, sign, token_path
from ppm_sandbox.server import bind_socket

from .conftest import notion_event

BIN = Path(sys.executable).parent
TOKEN = "secret_cli_Yb8vN3qR6tW1zK4mP7sD2fG5hJ9"


def _free_port() -> int:
    with bind_socket() as sock:
        return sock.getsockname()[1]


def test_serve_webhooks_receives_the_handshake_and_events_and_stops_on_sigint(tmp_path: Path) -> None:
    store = tmp_path / "state" / "notion_webhooks.sqlite"
    port = _free_port()
    env = {**os.environ, "NOTION_WEBHOOK_STORE": str(store)}
    env.pop("NOTION_WEBHOOK_VERIFICATION_TOKEN", None)
    process = subprocess.Popen(
        [BIN / "ppm", "serve-webhooks", "--port", str(port)],
        env=env,
        cwd=tmp_path,  # no .env of the repository: the variables above are the configuration
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        while True:  # until it listens (or exits: the assertion below shows its output)
            assert process.poll() is None
            try:
                health = httpx.get(f"{url}/health", trust_env=False)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        assert health.json()["verification_token"] == "missing"
        handshake = httpx.post(f"{url}/notion/webhooks", json={"verification_token": TOKEN}, trust_env=False)
        assert handshake.status_code == 200
        body = json.dumps(notion_event("page.created")).encode()
        signed = {"X-Notion-Signature": sign(body, TOKEN), "Content-Type": "application/json"}
        assert httpx.post(f"{url}/notion/webhooks", content=body, headers=signed, trust_env=False).json()[
            "stored"
        ]
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    assert f"http://127.0.0.1:{port}/notion/webhooks" in output and str(store.resolve()) in output
    assert str(token_path(store).resolve()) in output  # where the token is ...
    assert TOKEN not in output  # ... never what it is
    assert stat.S_IMODE(token_path(store).stat().st_mode) == 0o600
    assert WebhookInbox(store).count() == 1
