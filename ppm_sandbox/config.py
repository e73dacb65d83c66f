"""`SandboxConfig`: everything a sandbox starts with (its own module so services can import it)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ppm_sandbox.faults import FaultSpec
from ppm_sandbox.notion.workspace import NotionConfig


@dataclass(frozen=True)
class SandboxConfig:
    """Start-up state of every service.

    `faults` is the start-up `FaultSpec` of every service's gate (each service gets its own
    `FaultController` from it, possibly adjusted: Azure's has no token bucket). `notion` configures
    the Notion workspace; other services read their options from `services[<name>]` (see
    `ServiceContext.options`), e.g. `services={"azure": AzureConfig(quota_window_s=1)}`, so that adding
    one needs no new field here. `frozen_at` starts the shared clock frozen at that instant.
    """

    notion: NotionConfig = field(default_factory=NotionConfig)
    faults: FaultSpec = field(default_factory=FaultSpec)
    frozen_at: datetime | None = None
    services: Mapping[str, Any] = field(default_factory=dict)

    def service_options(self, name: str, default: Any = None) -> Any:
        """The start-up options of service `name` (Notion's workspace keeps its own field, `notion=`)."""
        if name == "notion":
            return self.notion
        return self.services.get(name, default)
