"""Local emulators of the project's sources, for the demo, tests and benchmarks (DESIGN §4.4).

Start one in a thread with `SandboxServer`, or in a child process with `SandboxProcess`
(`ppm-sandbox serve`); see `ppm_sandbox/README.md`.
"""

from ppm_sandbox.app import Sandbox, SandboxConfig, build_app
from ppm_sandbox.clock import SandboxClock
from ppm_sandbox.faults import FailRule, FaultController, FaultSpec, Stats
from ppm_sandbox.notion.workspace import DEFAULT_ANCHOR, DEFAULT_TOKEN, NotionConfig
from ppm_sandbox.server import SandboxProcess, SandboxServer

__all__ = [
    "DEFAULT_ANCHOR",
    "DEFAULT_TOKEN",
    "FailRule",
    "FaultController",
    "FaultSpec",
    "NotionConfig",
    "Sandbox",
    "SandboxClock",
    "SandboxConfig",
    "SandboxProcess",
    "SandboxServer",
    "Stats",
    "build_app",
]
