"""What Unity Catalog knows beyond the tables: catalogs, schemas, volumes, schemaless placeholder tables, and
COPY INTO's per-table ledger of loaded files. Persisted in `<storage_dir>/_catalog.json`, so that a sandbox
started again on the same directory finds its schemas, volumes and ledger with its tables.

Catalogs are fixed at start-up (`DatabricksConfig.catalogs`); a schema exists once created, pre-created by a
configured volume, or holding a table (the caller passes the engine's tables for that). Volume files live
under `<storage_dir>/_volumes/<catalog>/<schema>/<volume>/`.
"""

import json
import shutil
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

CATALOG_FILE = "_catalog.json"
VOLUMES_DIR = "_volumes"


class Catalog:
    """Thread-safe catalog state, written through to its JSON file on every change."""

    def __init__(self, storage_dir: Path, catalogs: Iterable[str], volumes: Iterable[str]) -> None:
        self.storage_dir = storage_dir
        self.catalogs: tuple[str, ...] = tuple(catalogs)
        self.initial_volumes: tuple[str, ...] = tuple(v.lower() for v in volumes)
        self._lock = threading.RLock()
        self._schemas: set[str] = set()
        self._volumes: set[str] = set()
        self._placeholders: set[str] = set()
        self._loaded: dict[str, set[str]] = {}
        self._load()
        self._create_initial_volumes()

    @property
    def path(self) -> Path:
        return self.storage_dir / CATALOG_FILE

    # -- persistence -------------------------------------------------------------------------------------
    def _load(self) -> None:
        if not self.path.is_file():
            return
        data = json.loads(self.path.read_text(encoding="utf-8"))
        self._schemas = set(data.get("schemas", ()))
        self._volumes = set(data.get("volumes", ()))
        self._placeholders = set(data.get("placeholders", ()))
        self._loaded = {table: set(files) for table, files in data.get("loaded_files", {}).items()}

    def _save(self) -> None:
        data: dict[str, Any] = {
            "schemas": sorted(self._schemas),
            "volumes": sorted(self._volumes),
            "placeholders": sorted(self._placeholders),
            "loaded_files": {table: sorted(files) for table, files in sorted(self._loaded.items())},
        }
        self.storage_dir.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps(data, indent=1), encoding="utf-8")
        temporary.replace(self.path)  # readers never see half a file

    def _create_initial_volumes(self) -> None:
        with self._lock:
            for volume in self.initial_volumes:
                catalog, schema, _ = volume.split(".")
                self._schemas.add(f"{catalog}.{schema}")
                self._volumes.add(volume)
                self.volume_dir(volume).mkdir(parents=True, exist_ok=True)
            if self.initial_volumes:
                self._save()

    def reset(self) -> None:
        """Remove every table, volume file, schema and ledger entry; keep the configured volumes."""
        with self._lock:
            for catalog in self.catalogs:
                shutil.rmtree(self.storage_dir / catalog, ignore_errors=True)
            shutil.rmtree(self.storage_dir / VOLUMES_DIR, ignore_errors=True)
            self.path.unlink(missing_ok=True)
            self._schemas, self._volumes, self._placeholders, self._loaded = set(), set(), set(), {}
            self._create_initial_volumes()

    # -- catalogs and schemas ----------------------------------------------------------------------------
    def has_catalog(self, catalog: str) -> bool:
        return catalog in self.catalogs

    def schemas(self, catalog: str, table_schemas: Iterable[str] = ()) -> list[str]:
        """Schemas of `catalog`: created ones plus those holding tables (`table_schemas`) or placeholders."""
        with self._lock:
            names = {s.split(".", 1)[1] for s in self._schemas if s.startswith(f"{catalog}.")}
            names |= {p.split(".")[1] for p in self._placeholders if p.startswith(f"{catalog}.")}
        return sorted(names | set(table_schemas))

    def has_schema(self, catalog: str, schema: str, table_schemas: Iterable[str] = ()) -> bool:
        return schema in self.schemas(catalog, table_schemas)

    def create_schema(self, catalog: str, schema: str) -> None:
        with self._lock:
            self._schemas.add(f"{catalog}.{schema}")
            self._save()

    # -- volumes -----------------------------------------------------------------------------------------
    def volume_dir(self, volume: str) -> Path:
        return self.storage_dir.joinpath(VOLUMES_DIR, *volume.split("."))

    def has_volume(self, volume: str) -> bool:
        with self._lock:
            return volume in self._volumes

    def volumes(self) -> list[str]:
        with self._lock:
            return sorted(self._volumes)

    def create_volume(self, volume: str) -> None:
        with self._lock:
            self._volumes.add(volume)
            self.volume_dir(volume).mkdir(parents=True, exist_ok=True)
            self._save()

    # -- placeholders (schemaless tables) ----------------------------------------------------------------
    def is_placeholder(self, table: str) -> bool:
        with self._lock:
            return table in self._placeholders

    def placeholders(self, catalog: str, schema: str) -> list[str]:
        prefix = f"{catalog}.{schema}."
        with self._lock:
            return sorted(p[len(prefix) :] for p in self._placeholders if p.startswith(prefix))

    def add_placeholder(self, table: str) -> None:
        with self._lock:
            self._placeholders.add(table)
            self._save()

    def drop_table(self, table: str) -> None:
        """Forget a table's placeholder and ledger (its files are the engine's)."""
        with self._lock:
            self._placeholders.discard(table)
            self._loaded.pop(table, None)
            self._save()

    # -- COPY INTO ledger --------------------------------------------------------------------------------
    def loaded_files(self, table: str) -> set[str]:
        with self._lock:
            return set(self._loaded.get(table, ()))

    def record_loaded(self, table: str, files: Iterable[str]) -> None:
        """Files a COPY INTO committed into `table`; the first load also turns a placeholder into a table."""
        with self._lock:
            self._loaded.setdefault(table, set()).update(files)
            self._placeholders.discard(table)
            self._save()

    def table_created(self, table: str) -> None:
        """A write created the table: it is no longer a placeholder."""
        with self._lock:
            if table in self._placeholders:
                self._placeholders.discard(table)
                self._save()

    def describe(self) -> dict[str, Any]:
        with self._lock:
            return {
                "catalogs": list(self.catalogs),
                "schemas": sorted(self._schemas),
                "volumes": sorted(self._volumes),
                "placeholders": sorted(self._placeholders),
                "loaded_files": {t: sorted(f) for t, f in sorted(self._loaded.items())},
            }
