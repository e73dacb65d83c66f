"""Local emulators of the project's sources, for the demo, tests and benchmarks (DESIGN §4.4).

The sandbox hosts a registry of services (`ppm_sandbox.registry.SERVICES`; Notion today), each a
`SandboxService` mounted under its own prefix behind its own fault gate, all sharing one clock,
one set of stats and the `/_sandbox` control plane. Start one in a thread with `SandboxServer`,
or in a child process with `SandboxProcess` (`ppm-sandbox serve`); see `ppm_sandbox/README.md`.
"""

from ppm_sandbox.app import Sandbox, SandboxConfig, build_app
from ppm_sandbox.clock import SandboxClock
from ppm_sandbox.faults import FailRule, FaultController, FaultSpec, Stats
from ppm_sandbox.notion.workspace import DEFAULT_ANCHOR, DEFAULT_TOKEN, NotionConfig
from ppm_sandbox.registry import SERVICES
from ppm_sandbox.server import SandboxProcess, SandboxServer
from ppm_sandbox.services import FaultSwitches, SandboxService, ServiceContext, ServiceRegistry

__all__ = [
    "DEFAULT_ANCHOR",
    "DEFAULT_TOKEN",
    "SERVICES",
    "FailRule",
    "FaultController",
    "FaultSpec",
    "FaultSwitches",
    "NotionConfig",
    "Sandbox",
    "SandboxClock",
    "SandboxConfig",
    "SandboxProcess",
    "SandboxServer",
    "SandboxService",
    "ServiceContext",
    "ServiceRegistry",
    "Stats",
    "build_app",
]
