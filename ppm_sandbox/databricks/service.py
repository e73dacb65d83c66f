"""The Databricks SQL Statement Execution + Files API emulator as a sandbox service, under `/databricks`.

A client's workspace host is `<sandbox url>/databricks` (the databricks-sdk keeps a host's path and appends
`/api/2.0/...`). Statements run asynchronously on the engine the service is given (`DatabricksConfig.engine`,
one per catalog); tables, volume files and the catalog file live in `storage_dir`. Gate-made errors are
Databricks' `{"error_code", "message"}`; the gate has no token bucket by default (Databricks' limits are not
Notion's 3 requests per second); the service's own fault switches are in `switches.py`.
"""

import atexit
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar

from starlette.routing import BaseRoute
from starlette.types import ASGIApp

from ppm_sandbox.clock import SandboxClock
from ppm_sandbox.databricks.app import DatabricksParts, build_databricks_app
from ppm_sandbox.databricks.catalog import Catalog
from ppm_sandbox.databricks.config import DatabricksConfig
from ppm_sandbox.databricks.control import ControlParts, control_routes
from ppm_sandbox.databricks.engine import Engines, resolve_factory
from ppm_sandbox.databricks.errors import render_gate_error
from ppm_sandbox.databricks.executor import Executor
from ppm_sandbox.databricks.files import VolumeFiles
from ppm_sandbox.databricks.links import LinkSigner
from ppm_sandbox.databricks.results import ResultLimits
from ppm_sandbox.databricks.statements import StatementStore
from ppm_sandbox.databricks.switches import DatabricksFaults
from ppm_sandbox.databricks.warehouse import RUNNING, Warehouse
from ppm_sandbox.faults import FaultSpec
from ppm_sandbox.services import SandboxService, ServiceContext


def _temporary_storage() -> Path:
    path = Path(tempfile.mkdtemp(prefix="ppm-sandbox-databricks-"))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


class DatabricksService(SandboxService):
    """One workspace: a SQL warehouse over the given engine, Unity Catalog volumes, the Files API."""

    name: ClassVar[str] = "databricks"

    def __init__(self, config: DatabricksConfig, clock: SandboxClock) -> None:
        config.validate()
        self.config = config
        self.clock = clock
        factory = resolve_factory(config.engine)
        self.storage_dir = Path(config.storage_dir).resolve() if config.storage_dir else _temporary_storage()
        self.storage_dir.mkdir(parents=True, exist_ok=True)
        self.catalog = Catalog(self.storage_dir, config.catalogs, config.volumes)
        self.engines = Engines(factory, self.storage_dir)
        self.files = VolumeFiles(self.catalog)
        self.warehouse = Warehouse(config.warehouse_id)
        self.switches = DatabricksFaults(self.warehouse)
        self.signer = LinkSigner(clock, config.link_ttl_s)
        self.statements = StatementStore(
            Executor(self.engines, self.catalog, self.files),
            self.warehouse,
            clock,
            ResultLimits(config.inline_chunk_rows, config.link_chunk_rows, config.inline_limit_bytes),
            min_pending_s=config.min_pending_s,
            workers=config.workers,
        )

    @classmethod
    def create(cls, context: ServiceContext) -> "DatabricksService":
        """Registry factory: options from `SandboxConfig.services["databricks"]`."""
        return cls(context.options(DatabricksConfig()), context.clock)

    def asgi_app(self) -> ASGIApp:
        return build_databricks_app(
            DatabricksParts(
                self.config, self.statements, self.warehouse, self.files, self.signer, self.switches
            )
        )

    def render_error(self, status: int, code: str | None) -> bytes:
        return render_gate_error(status, code)

    def initial_faults(self, spec: FaultSpec) -> FaultSpec:
        return replace(spec, rate=None)

    def control_routes(self) -> Sequence[BaseRoute]:
        return control_routes(ControlParts(self.statements, self.files, self.catalog, self.describe))

    @property
    def fault_switches(self) -> DatabricksFaults:
        return self.switches

    def reset(self) -> None:
        """Every table, volume file, schema, ledger entry and statement dropped; the start-up volumes again."""
        self.statements.reset()
        self.catalog.reset()
        self.engines.clear()
        self.warehouse.set_state(RUNNING)

    def describe(self) -> dict[str, Any]:
        """What a client needs besides the URL (ready line, `/_sandbox/databricks/describe`)."""
        return {
            "token": self.config.token,
            "warehouse_id": self.config.warehouse_id,
            "catalogs": list(self.config.catalogs),
            "volumes": self.catalog.volumes(),
            "engine": self.config.engine_name,
            "storage_dir": str(self.storage_dir),
        }
