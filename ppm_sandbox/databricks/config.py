"""`DatabricksConfig`: how the Databricks SQL + Files emulator starts.

The emulator runs no SQL itself: it is given an engine factory (`engine`), called once per catalog with
`root=<storage_dir>/<catalog>`, that returns a `TableEngine` (see `engine.py`). A `"module:attribute"` string
is imported when the service is created, so `ppm-sandbox serve --databricks-engine ...` can name one without
the sandbox importing it here.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass

from ppm_sandbox.databricks.engine import TableEngine

#: The personal access token accepted by default (any token starting with `dapi-sandbox` is accepted too).
DEFAULT_TOKEN = "dapi-sandbox-token"
TOKEN_PREFIX = "dapi-sandbox"
DEFAULT_WAREHOUSE_ID = "5a4db0c5a4db0c01"  # 16 hex digits, like a real SQL warehouse id
#: The catalog of names that do not name one (and of requests without `catalog`).
DEFAULT_CATALOG = "main"

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")


@dataclass(frozen=True)
class DatabricksConfig:
    """Start-up state of the Databricks emulator (`SandboxConfig(services={"databricks": DatabricksConfig(...)})`).

    `engine`: a factory called as `engine(root=<dir>)` (one engine per catalog), a `"module:attribute"` naming
    one, or None (every statement then fails, saying how to give one). `storage_dir`: where tables, volumes and
    the catalog file live (None: a temporary directory removed when the process exits). `volumes`: pre-created
    `catalog.schema.volume` names (their schemas too). Chunk sizes are in rows; `min_pending_s` keeps each
    statement PENDING at least that long, so that clients exercise their polling.
    """

    engine: Callable[..., TableEngine] | str | None = None
    storage_dir: str | None = None
    token: str = DEFAULT_TOKEN
    warehouse_id: str = DEFAULT_WAREHOUSE_ID
    catalogs: tuple[str, ...] = (DEFAULT_CATALOG,)
    volumes: tuple[str, ...] = ()
    inline_chunk_rows: int = 10_000
    link_chunk_rows: int = 100_000
    inline_limit_bytes: int = 25 * 1024 * 1024
    min_pending_s: float = 0.0
    link_ttl_s: float = 900.0
    workers: int = 4

    def validate(self) -> None:
        """Raise ValueError on options the emulator cannot start with."""
        if not self.catalogs:
            raise ValueError("databricks: at least one catalog is needed")
        for catalog in self.catalogs:
            if not _IDENTIFIER.match(catalog):
                raise ValueError(f"databricks: invalid catalog name {catalog!r} (lower-case snake case)")
        for volume in self.volumes:
            parts = volume.lower().split(".")
            if len(parts) != 3 or not all(_IDENTIFIER.match(p) for p in parts):
                raise ValueError(f"databricks: invalid volume {volume!r}: expected catalog.schema.volume")
            if parts[0] not in self.catalogs:
                raise ValueError(f"databricks: volume {volume!r} names an unknown catalog {parts[0]!r}")
        for name in ("inline_chunk_rows", "link_chunk_rows", "inline_limit_bytes", "workers"):
            if getattr(self, name) < 1:
                raise ValueError(f"databricks: {name} must be >= 1")
        if self.min_pending_s < 0 or self.link_ttl_s <= 0:
            raise ValueError("databricks: min_pending_s must be >= 0 and link_ttl_s > 0")
        if not self.token or not self.warehouse_id:
            raise ValueError("databricks: token and warehouse_id must not be empty")

    def accepts(self, token: str) -> bool:
        """Whether a bearer token is a valid personal access token for this workspace."""
        return token == self.token or token.startswith(TOKEN_PREFIX)

    @property
    def engine_name(self) -> str | None:
        """How the engine was given, for people (the ready line, `/_sandbox/databricks/describe`)."""
        if self.engine is None or isinstance(self.engine, str):
            return self.engine
        return getattr(self.engine, "__qualname__", type(self.engine).__name__)
