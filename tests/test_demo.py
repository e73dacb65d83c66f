"""The main job: `ppm demo` starts the sandbox, materializes, and serves the Dagster UI with the definitions."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

PPM = str(Path(sys.executable).parent / "ppm")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_line(process: subprocess.Popen, needle: str, timeout_s: float) -> list[str]:
    seen: list[str] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            if process.poll() is not None:
                break
            continue
        seen.append(line)
        if needle in line:
            return seen
    raise AssertionError(f"{needle!r} not printed in {timeout_s} s; output:\n{''.join(seen)}")


def test_demo_serves_the_ui_with_data_and_stops_on_sigint(tmp_path):
    ui_port, sandbox_port = free_port(), free_port()
    env = {
        **os.environ,
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
        "PPM_LAKEHOUSE_DIR": str(tmp_path / "lakehouse"),
    }
    process = subprocess.Popen(
        [PPM, "demo", "--port", str(ui_port), "--sandbox-port", str(sandbox_port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output = wait_for_line(process, "Dagster UI ready", timeout_s=240)
        assert any("succeeded" in line for line in output), "".join(output)
        response = httpx.post(
            f"http://127.0.0.1:{ui_port}/graphql",
            json={"query": "{ assetNodes { assetKey { path } } }"},
            timeout=30,
        )
        keys = {"/".join(node["assetKey"]["path"]) for node in response.json()["data"]["assetNodes"]}
        assert "silver/fx_rates" in keys
        assert httpx.get(f"http://127.0.0.1:{sandbox_port}/healthz", timeout=5).status_code == 200
    finally:
        os.killpg(process.pid, signal.SIGINT)
        process.wait(120)
    assert process.returncode == 0
    with socket.socket() as probe:  # the UI port is free again: dagster dev stopped with the demo
        assert probe.connect_ex(("127.0.0.1", ui_port)) != 0
