"""The services a sandbox hosts by default, in mount order: one line per service.

Adding a service is a folder `ppm_sandbox/<service>/` with a `SandboxService` subclass and one
line here; `Sandbox`, `build_app`, the control plane, `/healthz`, `SandboxServer.service_url` and
the `ppm-sandbox serve` ready line pick it up from this registry.
"""

from __future__ import annotations

from ppm_sandbox.azure.service import AzureService
from ppm_sandbox.databricks.service import DatabricksService
from ppm_sandbox.notion.service import NotionService
from ppm_sandbox.services import ServiceRegistry

SERVICES = ServiceRegistry(
    {
        "notion": NotionService.create,
        "azure": AzureService.create,
        "databricks": DatabricksService.create,
    }
)
