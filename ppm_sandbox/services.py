"""What one emulated service is to the sandbox, and the registry the sandbox is built from.

A `SandboxService` owns everything specific to one source: its HTTP app, its error wire format,
its control routes and any fault switches that only make sense for it (Notion's cursor expiry).
The sandbox owns what all services share: the clock, the request stats, the `/_sandbox` control
plane, and one `FaultController` + `ServiceGate` per service (rate limit, latency, 5xx, timeouts,
resets, malformed bodies), so a service never re-implements any of that.

A `ServiceRegistry` maps names to factories, in mount order. `ppm_sandbox.registry.SERVICES` is
the default one; tests build their own with `SERVICES.with_service(name, factory)`.

A service with `tls = True` (Azure) is not mounted on the HTTP port: it gets its own HTTPS listener and is
served at the root of it, because its real clients insist on https and derive things from the first path
segment (MSAL's tenant). Its prefix stays reserved on the HTTP port; its control routes stay under
`/_sandbox/<name>` there.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, TypeVar

from starlette.routing import BaseRoute
from starlette.types import ASGIApp

from ppm_sandbox.clock import SandboxClock
from ppm_sandbox.faults import FaultSpec

#: Path segments the generic control plane already uses under `/_sandbox/<segment>/...`, plus the
#: root-level paths a service prefix would shadow.
RESERVED_NAMES = frozenset({"stats", "faults", "clock", "healthz"})
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_PREFIX = re.compile(r"^(/[A-Za-z0-9_.~-]+)+$")


class StartupConfig(Protocol):
    """What services read of the sandbox's start-up config (`SandboxConfig`; a protocol, so that this module
    does not import the config, which names the services' own option types)."""

    def service_options(self, name: str, default: Any = None) -> Any: ...


@dataclass(frozen=True)
class ServiceContext:
    """What a factory gets: the sandbox's start-up config and the clock every service must read."""

    name: str
    config: StartupConfig
    clock: SandboxClock

    def options(self, default: Any = None) -> Any:
        """This service's start-up options (`SandboxConfig.service_options`), or `default` when none was given."""
        return self.config.service_options(self.name, default)


class FaultSwitches(Protocol):
    """Fault switches only one service has (Notion's cursor expiry), beside its gate's `FaultSpec`.

    `POST /_sandbox/faults` (and `/_sandbox/<name>/faults`) route the body's `keys` here and the
    rest to the gate; `check` runs for every targeted service before any `apply`, so that a bad
    value changes nothing anywhere.
    """

    #: The body keys this service handles itself.
    keys: tuple[str, ...]

    def check(self, changes: Mapping[str, Any]) -> None:
        """Raise ValueError/TypeError if `changes` (only `keys` present in the body) is invalid."""
        ...

    def apply(self, changes: Mapping[str, Any]) -> None:
        """Apply checked `changes`."""
        ...

    def describe(self) -> dict[str, Any]:
        """Current values, merged into the service's fault spec JSON."""
        ...

    def reset(self) -> None:
        """Back to start-up values (`DELETE /_sandbox/faults`, `SandboxServer.reset()`)."""
        ...


class SandboxService(ABC):
    """One emulator. Subclasses set `name` and implement `asgi_app`, `render_error` and `reset`.

    `prefix`, `control_routes` and `fault_switches` default to "/<name>", none and none.
    """

    #: Registry key; also the `/_sandbox/<name>/...` control path and `Sandbox.faults` key.
    name: ClassVar[str]
    #: Served at `/` of its own HTTPS listener (self-signed certificate, `SandboxServer.ca_cert`) instead
    #: of under `prefix` on the HTTP port.
    tls: ClassVar[bool] = False

    @property
    def prefix(self) -> str:
        """Mount path of the service's API (`/notion`): what its clients take as base URL."""
        return f"/{self.name}"

    @abstractmethod
    def asgi_app(self) -> ASGIApp:
        """The service's API, relative to `prefix`; the sandbox wraps it in a `ServiceGate`."""

    @abstractmethod
    def render_error(self, status: int, code: str | None) -> bytes:
        """Body of a gate-made error (429, injected 5xx, timeout) in the service's own format."""

    @abstractmethod
    def reset(self) -> None:
        """Service state back to start-up (`POST /_sandbox/<name>/reset`); faults are separate."""

    def control_routes(self) -> Sequence[BaseRoute]:
        """Routes mounted under `/_sandbox/<name>`: no auth, no gate (mutations, ground truth)."""
        return ()

    @property
    def fault_switches(self) -> FaultSwitches | None:
        """The service's own fault switches, if it has any beyond the gate's."""
        return None

    def initial_faults(self, spec: FaultSpec) -> FaultSpec:
        """The start-up spec of this service's gate, from `SandboxConfig.faults`; a service whose API has
        its own throttling (Azure Resource Graph's quota) turns the gate's token bucket off here."""
        return spec

    def wrap_gate(self, gate: ASGIApp) -> ASGIApp:
        """ASGI app put in front of the service's gate (default: the gate itself), e.g. to let
        `render_error` know which endpoint a gate-made error answers."""
        return gate


ServiceFactory = Callable[[ServiceContext], SandboxService]
#: A `SandboxService` subclass, for typed look-ups: `sandbox.service("notion", NotionService)`.
ServiceT = TypeVar("ServiceT", bound=SandboxService)


class ServiceRegistry(Mapping[str, ServiceFactory]):
    """Ordered name -> factory; the order is the mount order and the order services are listed."""

    def __init__(self, factories: Mapping[str, ServiceFactory] | None = None) -> None:
        self._factories: dict[str, ServiceFactory] = {}
        for name, factory in (factories or {}).items():
            self.register(name, factory)

    def register(self, name: str, factory: ServiceFactory) -> None:
        """Add a service; names are unique path segments that the control plane does not use."""
        if not _NAME.match(name) or name in RESERVED_NAMES:
            raise ValueError(
                f"invalid sandbox service name {name!r} (lowercase, not {sorted(RESERVED_NAMES)})"
            )
        if name in self._factories:
            raise ValueError(f"sandbox service {name!r} is already registered")
        self._factories[name] = factory

    def with_service(self, name: str, factory: ServiceFactory) -> ServiceRegistry:
        """A copy with one more service, leaving this registry (often the global one) untouched."""
        copy = ServiceRegistry(self)
        copy.register(name, factory)
        return copy

    def build(self, config: StartupConfig, clock: SandboxClock) -> dict[str, SandboxService]:
        """One live service per registered name, checked to be mountable side by side."""
        services: dict[str, SandboxService] = {}
        prefixes: dict[str, str] = {}
        for name, factory in self._factories.items():
            service = factory(ServiceContext(name=name, config=config, clock=clock))
            if service.name != name:
                raise ValueError(f"factory registered as {name!r} built service {service.name!r}")
            prefix = service.prefix
            # The control plane and /healthz are routed before the services: never shadow them.
            if not _PREFIX.match(prefix) or prefix.split("/")[1] in {"_sandbox", "healthz"}:
                raise ValueError(f"service {name!r}: bad prefix {prefix!r} (like '/notion')")
            for other, owner in prefixes.items():
                # Mounts match by path prefix: "/azure" would swallow a second service's "/azure/kv".
                if f"{other}/".startswith(f"{prefix}/") or f"{prefix}/".startswith(f"{other}/"):
                    raise ValueError(f"services {owner!r} and {name!r} overlap: {other!r}, {prefix!r}")
            prefixes[prefix] = name
            services[name] = service
        return services

    def __getitem__(self, name: str) -> ServiceFactory:
        return self._factories[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._factories)

    def __len__(self) -> int:
        return len(self._factories)

    def __repr__(self) -> str:
        return f"ServiceRegistry({list(self._factories)})"
