"""Recognise a damaged Delta table, find the newest version that still reads, and say how to recover it.

Two kinds of damage leave delta-rs unable to read a table:

- a log commit (`_delta_log/<version>.json`) that is missing or does not parse: delta-rs needs every commit
  after the last checkpoint, so no version from the damaged one on loads, while the versions before it do;
- a data file that is missing or truncated: the log loads, but reading any version that references the file
  fails.

Diagnosis only runs after a read or write has failed (or before a restore), so healthy tables pay nothing.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urlparse

import pyarrow as pa
import pyarrow.parquet as pq
from deltalake import DeltaTable
from deltalake.exceptions import DeltaError

from ppm_resources.lakehouse.errors import DamagedTableError

LOG_DIR = "_delta_log"
#: Where `quarantine_log_from` moves the commits it takes out of a log, under the lakehouse root.
DAMAGED_DIR = "_damaged"
#: Versions tried, newest first, when looking for one that still reads: bounds the time a diagnosis takes on a
#: long history whose old data files were vacuumed (those versions can never read again).
MAX_CANDIDATES = 20

_VERSIONED = re.compile(r"^(\d{20})\.")  # commits, checkpoints and checksums start with their version
_COMMIT = re.compile(r"^(\d{20})\.json$")
_CHECKPOINT = re.compile(r"^(\d{20})\.checkpoint(?:\.[^.]+)*\.parquet$")
_COMPACTED = re.compile(r"^\d{20}\.(\d{20})\.compacted\.json$")  # covers commits up to its second version
_LAST_CHECKPOINT = "_last_checkpoint"


@dataclass(frozen=True)
class Damage:
    """What is damaged, for people, and what can still be read."""

    what: str
    readable: int | None  # newest version whose log loads and whose data files all read; None: none found
    unreadable_from: int | None = None  # log damage: the first version delta-rs cannot load


# -- the log -------------------------------------------------------------------------------------------------
def _log_versions(path: Path) -> tuple[set[int], set[int]]:
    """Commit and checkpoint versions present in the table's log."""
    commits: set[int] = set()
    checkpoints: set[int] = set()
    for entry in (path / LOG_DIR).iterdir():
        if match := _COMMIT.match(entry.name):
            commits.add(int(match.group(1)))
        elif match := _CHECKPOINT.match(entry.name):
            checkpoints.add(int(match.group(1)))
    return commits, checkpoints


def commit_file(version: int) -> str:
    return f"{LOG_DIR}/{version:020d}.json"


def _unparsable(file: Path) -> bool:
    try:
        for line in file.read_text().splitlines():
            if line.strip():
                json.loads(line)
    except (UnicodeDecodeError, ValueError):
        return True
    return False


def find_log_damage(path: Path) -> Damage | None:
    """The first commit the latest version needs that is missing or does not parse; None when none is.

    A checkpoint holds the whole state up to its version, so only the commits after the newest one are needed.
    """
    commits, checkpoints = _log_versions(path)
    if not commits and not checkpoints:
        return None
    last = max(commits | checkpoints)
    start = max(checkpoints) + 1 if checkpoints else 0
    for version in range(start, last + 1):
        if version in commits and not _unparsable(path / commit_file(version)):
            continue
        problem = "is missing" if version not in commits else "does not parse"
        unloadable = f"version {version}" if version == last else f"versions {version} to {last}"
        return Damage(
            f"log version {version} {problem} ({commit_file(version)}), so {unloadable} cannot be loaded",
            readable=newest_readable(path, version - 1, {}),
            unreadable_from=version,
        )
    return None


def quarantine_log_from(path: Path, first: int, root: Path, table: str) -> Path:
    """Move every log entry of version `first` and later out of the table, so it loads as version `first - 1`.

    The entries are kept (not deleted) under `<root>/_damaged/<table>.<UTC time>/` for inspection.
    """
    destination = root / DAMAGED_DIR / f"{table}.{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
    destination.mkdir(parents=True, exist_ok=True)
    for entry in sorted((path / LOG_DIR).iterdir()):
        if _from_version(entry, first):
            entry.rename(destination / entry.name)
    return destination


def _from_version(entry: Path, first: int) -> bool:
    if match := _COMPACTED.match(entry.name):
        return int(match.group(1)) >= first
    if match := _VERSIONED.match(entry.name):
        return int(match.group(1)) >= first
    if entry.name == _LAST_CHECKPOINT:  # delta-rs lists the log instead when the hint is gone
        try:
            return int(json.loads(entry.read_text())["version"]) >= first
        except (ValueError, KeyError, TypeError):
            return True
    return False


# -- data files ----------------------------------------------------------------------------------------------
def _local_path(uri: str) -> Path:
    return Path(unquote(urlparse(uri).path)) if uri.startswith("file:") else Path(uri)


def unreadable_file(uri: str) -> str | None:
    """Why a data file cannot be read ("is missing", "is truncated ..."); None when its footer reads.

    Only the footer is read: a missing, empty or truncated file (an interrupted copy, a full disk) has none.
    A file this user may not read is not damaged, so it is not reported here.
    """
    path = _local_path(uri)
    if not path.exists():
        return "is missing"
    try:
        pq.read_metadata(path)
    except PermissionError:
        return None
    except pa.ArrowInvalid:
        return f"is truncated or not Parquet ({path.stat().st_size} bytes, no Parquet footer)"
    except (OSError, pa.ArrowException) as error:
        return f"cannot be read ({str(error).splitlines()[0]})"
    return None


def _files(path: Path, version: int) -> list[str] | None:
    try:
        return DeltaTable(str(path), version=version).file_uris()
    except DeltaError:
        return None


def newest_readable(path: Path, newest: int, known: dict[str, str | None]) -> int | None:
    """The newest version up to `newest` whose log loads and whose data files all read (`known` caches files)."""
    for version in range(newest, max(newest - MAX_CANDIDATES, -1), -1):
        files = _files(path, version)
        if files is None:
            continue
        for uri in files:
            if uri not in known:
                known[uri] = unreadable_file(uri)
        if not any(known[uri] for uri in files):
            return version
    return None


def _oldest_referencing(path: Path, files: set[str], latest: int) -> int:
    """The oldest version referencing one of `files`, which `latest` references: a binary search.

    Files get fresh names when written, so the versions referencing one form a run ending at `latest` (a
    restore that re-adds an old file breaks the run; `newest_readable` then still checks the version found).
    """
    low, high = 0, latest
    while low < high:
        middle = (low + high) // 2
        present = _files(path, middle)
        if present is not None and not files.isdisjoint(present):
            high = middle
        else:  # does not reference them, or no longer loads (old commits cleaned up): look newer
            low = middle + 1
    return low


def find_data_damage(path: Path, version: int) -> Damage | None:
    """The data files of `version` that are missing or truncated, and the newest version without them."""
    files = _files(path, version)
    if files is None:
        return None
    known = {uri: unreadable_file(uri) for uri in files}
    bad = {uri: reason for uri, reason in known.items() if reason}
    if not bad:
        return None
    first = _oldest_referencing(path, set(bad), version)
    uri, reason = next(iter(bad.items()))
    more = f" (and {len(bad) - 1} more data files)" if len(bad) > 1 else ""
    referencing = f"version {version}" if first == version else f"versions {first} to {version}"
    return Damage(
        f"data file {_local_path(uri)} {reason}{more}; {referencing} cannot be read",
        readable=newest_readable(path, first - 1, known),
    )


# -- what to tell people -------------------------------------------------------------------------------------
def rebuild_command(table: str) -> str:
    """The command that rebuilds a table from its sources: bronze comes from Notion, the rest from bronze."""
    schema, name = table.split(".")
    if schema == "bronze":
        return "ppm sync --full-sync"
    return f"ppm materialize --select 'key:\"{schema}/{name}\"'"


def damaged_table_error(table: str, path: Path, damage: Damage, *, prefix: str = "") -> DamagedTableError:
    """The error for people: what is damaged, the newest readable version, and the commands that recover."""
    rebuild = rebuild_command(table)
    if damage.readable is not None:
        what = f"{prefix}{damage.what}; version {damage.readable} is the newest readable"
        recovery = f"ppm lakehouse restore {table} {damage.readable} && {rebuild}"
    else:
        # Nothing to restore: move the table out of the way (kept for inspection) and write it anew.
        what = f"{prefix}{damage.what}; no version is readable"
        aside = shlex.quote(f"{path}.damaged")
        recovery = f"mv {shlex.quote(str(path))} {aside} && {rebuild}"
    return DamagedTableError(
        what,
        table=table,
        recovery=recovery,
        readable_version=damage.readable,
        unreadable_from=damage.unreadable_from,
    )
