"""`Sandbox`: the live state behind the app, built from a service registry.

One `SandboxClock` and one `Stats` shared by every service; per service, the live
`SandboxService` (`sandbox.services[name]`) and the `FaultController` its gate reads
(`sandbox.faults[name]`). Fault updates go through here so that the HTTP control plane and the
Python API (`SandboxServer.set_faults`) behave the same.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, overload

from ppm_sandbox.clock import SandboxClock
from ppm_sandbox.config import SandboxConfig
from ppm_sandbox.faults import FaultController, Stats
from ppm_sandbox.notion.service import NotionService
from ppm_sandbox.notion.store import NotionStore
from ppm_sandbox.registry import SERVICES
from ppm_sandbox.services import FaultSwitches, SandboxService, ServiceRegistry, ServiceT


class Sandbox:
    """The live state behind the app: tests and control endpoints mutate these objects."""

    def __init__(
        self, config: SandboxConfig | None = None, *, services: ServiceRegistry | None = None
    ) -> None:
        self.config = config or SandboxConfig()
        self.clock = SandboxClock(frozen_at=self.config.frozen_at)
        self.stats = Stats()
        self.services: dict[str, SandboxService] = (SERVICES if services is None else services).build(
            self.config, self.clock
        )
        # Each gate starts from `config.faults` as its service adjusts it (Azure: no token bucket, the
        # Resource Graph quota is the emulated API's own).
        self.faults: dict[str, FaultController] = {
            name: FaultController(service.initial_faults(self.config.faults))
            for name, service in self.services.items()
        }

    @property
    def tls_services(self) -> list[str]:
        """Names of the services served over HTTPS on their own listener (registry order)."""
        return [name for name, service in self.services.items() if service.tls]

    @overload
    def service(self, name: str) -> SandboxService: ...
    @overload
    def service(self, name: str, kind: type[ServiceT]) -> ServiceT: ...
    def service(self, name: str, kind: type[SandboxService] | None = None) -> SandboxService:
        """The live service registered as `name` (checked to be a `kind` when given)."""
        try:
            service = self.services[name]
        except KeyError:
            raise KeyError(f"no sandbox service {name!r}; registered: {list(self.services)}") from None
        if kind is not None and not isinstance(service, kind):
            raise TypeError(f"sandbox service {name!r} is a {type(service).__name__}, not a {kind.__name__}")
        return service

    def fault_controller(self, name: str) -> FaultController:
        """The `FaultController` of the gate in front of service `name`."""
        self.service(name)  # the helpful KeyError for an unknown name
        return self.faults[name]

    @property
    def notion(self) -> NotionStore:
        """The Notion workspace (shortcut kept for every caller that predates the registry)."""
        return self.service("notion", NotionService).store

    # faults ------------------------------------------------------------------------
    def service_names(self, names: Sequence[str] | None = None) -> list[str]:
        """`names` checked to be registered (KeyError otherwise); None means every service."""
        if names is None:
            return list(self.services)
        for name in names:
            self.service(name)
        return list(names)

    def apply_faults(self, body: Mapping[str, Any], names: Sequence[str] | None = None) -> dict[str, Any]:
        """Apply a JSON fault spec to the `names` services (all by default); returns their specs.

        Keys a targeted service's `fault_switches` declare go to those switches; the rest must be
        `FaultSpec` keys. Everything is validated before anything changes.
        """
        targets = self.service_names(names)
        switches = [s for s in (self.services[name].fault_switches for name in targets) if s is not None]
        own = {key for s in switches for key in s.keys}
        common = {key: value for key, value in body.items() if key not in own}

        def own_changes(s: FaultSwitches) -> dict[str, Any]:
            return {key: body[key] for key in s.keys if key in body}

        for name in targets:
            self.faults[name].spec.updated(common)
        for s in switches:
            s.check(own_changes(s))
        for s in switches:
            s.apply(own_changes(s))
        for name in targets:
            self.faults[name].update(common)
        return self.describe_faults(targets)

    def describe_faults(self, names: Sequence[str] | None = None) -> dict[str, Any]:
        """Service name -> its gate's spec JSON plus its own fault switches."""
        out: dict[str, Any] = {}
        for name in self.service_names(names):
            switches = self.services[name].fault_switches
            out[name] = {**self.faults[name].spec.to_json(), **(switches.describe() if switches else {})}
        return out

    def reset_faults(self, names: Sequence[str] | None = None) -> None:
        """Start-up fault spec, empty rate buckets and service fault switches (e.g. cursors)."""
        for name in self.service_names(names):
            self.faults[name].reset()
            switches = self.services[name].fault_switches
            if switches is not None:
                switches.reset()
