"""Local emulators of the project's sources, for the demo, tests and benchmarks (DESIGN §4.4).

The sandbox hosts a registry of services (`ppm_sandbox.registry.SERVICES`: Notion, Azure, Databricks), each
a `SandboxService` behind its own fault gate, all sharing one clock, one set of stats and the `/_sandbox`
control plane. Notion is mounted under `/notion` of the HTTP port, Databricks (SQL statements over a given
table engine, volumes, Files API) under `/databricks`; Azure (identity platform, Resource Graph, Advisor) is
served over HTTPS at the root of its own port, with a self-signed certificate (`SandboxServer.ca_cert`).
Start one in a thread with `SandboxServer`, or in a child process with `SandboxProcess` (`ppm-sandbox serve`);
see `ppm_sandbox/README.md`.
"""

from ppm_sandbox.app import Sandbox, SandboxConfig, build_app
from ppm_sandbox.azure.config import DEFAULT_CLIENT_ID as AZURE_CLIENT_ID
from ppm_sandbox.azure.config import DEFAULT_CLIENT_SECRET as AZURE_CLIENT_SECRET
from ppm_sandbox.azure.config import DEFAULT_SUBSCRIPTION_IDS as AZURE_SUBSCRIPTION_IDS
from ppm_sandbox.azure.config import DEFAULT_TENANT_ID as AZURE_TENANT_ID
from ppm_sandbox.azure.config import AzureConfig
from ppm_sandbox.clock import SandboxClock
from ppm_sandbox.databricks.config import DEFAULT_TOKEN as DATABRICKS_TOKEN
from ppm_sandbox.databricks.config import DEFAULT_WAREHOUSE_ID as DATABRICKS_WAREHOUSE_ID
from ppm_sandbox.databricks.config import DatabricksConfig
from ppm_sandbox.faults import FailRule, FaultController, FaultSpec, Stats
from ppm_sandbox.notion.workspace import DEFAULT_ANCHOR, DEFAULT_TOKEN, NotionConfig
from ppm_sandbox.registry import SERVICES
from ppm_sandbox.server import SandboxProcess, SandboxServer
from ppm_sandbox.services import FaultSwitches, SandboxService, ServiceContext, ServiceRegistry

__all__ = [
    "AZURE_CLIENT_ID",
    "AZURE_CLIENT_SECRET",
    "AZURE_SUBSCRIPTION_IDS",
    "AZURE_TENANT_ID",
    "DATABRICKS_TOKEN",
    "DATABRICKS_WAREHOUSE_ID",
    "DEFAULT_ANCHOR",
    "DEFAULT_TOKEN",
    "SERVICES",
    "AzureConfig",
    "DatabricksConfig",
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
