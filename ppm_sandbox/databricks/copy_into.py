"""COPY INTO's file side: which files of a volume a statement names, which are new, and reading them.

The source is a volume directory (or one file); `FILES = (...)` names files relative to it, `PATTERN` is a
glob relative to it (`*`, `?`, `[abc]`, `{a,b}`), and without either every file below it is a candidate
(names starting with `_` or `.` are skipped, as Spark skips them). A file already in the table's ledger is not
loaded again unless `'force' = 'true'`. Only PARQUET is read.
"""

import fnmatch
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from ppm_sandbox.databricks.errors import StatementError, sql_error, unsupported

MAX_FILES = 1000


@dataclass(frozen=True)
class SourceFile:
    volume_path: str  # /Volumes/c/s/v/dir/a.parquet: the ledger key
    local: Path


def path_not_found(path: str) -> StatementError:
    return sql_error("PATH_NOT_FOUND", f"Path does not exist: {path}.", "42K03")


def _expand_braces(pattern: str) -> list[str]:
    """`a{b,c}d` -> [`abd`, `acd`] (Hadoop globs have alternations; fnmatch has not)."""
    match = re.search(r"\{([^{}]*)\}", pattern)
    if match is None:
        return [pattern]
    head, tail = pattern[: match.start()], pattern[match.end() :]
    return [
        variant for option in match.group(1).split(",") for variant in _expand_braces(head + option + tail)
    ]


def _hidden(relative: str) -> bool:
    return any(part.startswith(("_", ".")) for part in relative.split("/"))


def candidate_files(
    source: str, local: Path, files: Sequence[str] | None, pattern: str | None
) -> list[SourceFile]:
    """The files a COPY INTO names, in name order; a named file that is missing fails the statement."""
    source = source.rstrip("/")
    if local.is_file():
        return [SourceFile(source, local)]
    if not local.is_dir():
        raise path_not_found(source)
    if files is not None:
        if len(files) > MAX_FILES:
            raise unsupported(f"FILES lists {len(files)} files, more than {MAX_FILES}")
        chosen = []
        for name in files:
            relative = name.strip("/")
            path = local / relative
            if ".." in relative.split("/") or not path.is_file():
                raise path_not_found(f"{source}/{relative}")
            chosen.append(SourceFile(f"{source}/{relative}", path))
        return chosen
    everything = sorted(p.relative_to(local).as_posix() for p in local.rglob("*") if p.is_file())
    everything = [r for r in everything if not _hidden(r)]
    if pattern is not None:
        globs = _expand_braces(pattern.strip("/"))
        everything = [r for r in everything if any(fnmatch.fnmatchcase(r, g) for g in globs)]
    return [SourceFile(f"{source}/{relative}", local / relative) for relative in everything]


def option(options: Mapping[str, str], name: str) -> bool:
    return str(options.get(name.lower(), "false")).lower() == "true"


@dataclass(frozen=True)
class LoadedFiles:
    table: pa.Table | None  # None: nothing to load
    loaded: tuple[SourceFile, ...]
    skipped_corrupt: int


def read_files(files: Sequence[SourceFile], *, merge_schema: bool, ignore_corrupt: bool) -> LoadedFiles:
    """The files' rows as one table; files with other columns need `mergeSchema`."""
    tables: list[pa.Table] = []
    loaded: list[SourceFile] = []
    skipped = 0
    for source in files:
        try:
            tables.append(pq.read_table(source.local))
        except (pa.ArrowException, OSError) as exc:
            if ignore_corrupt:
                skipped += 1
                continue
            raise sql_error(
                "FAILED_READ_FILE.NO_HINT", f"Error while reading file {source.volume_path}: {exc}.", "KD001"
            ) from None
        loaded.append(source)
    if not tables:
        return LoadedFiles(None, tuple(loaded), skipped)
    try:
        combined = pa.concat_tables(tables, promote_options="permissive" if merge_schema else "none")
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise schema_mismatch(f"the files' schemas differ ({exc})") from None
    return LoadedFiles(combined, tuple(loaded), skipped)


def schema_mismatch(detail: str) -> StatementError:
    return sql_error(
        "COPY_INTO_SCHEMA_MISMATCH_WITH_TARGET_TABLE",
        f"A schema mismatch was detected while copying into the Delta table: {detail}. The Delta table schema "
        "can be evolved automatically according to the incoming data by setting COPY_OPTIONS ('mergeSchema' = 'true').",
        "42KDG",
    )


def new_columns(incoming: pa.Schema, target: pa.Schema | None) -> list[str]:
    """Columns of the files the table does not have (all of them for a schemaless placeholder)."""
    known = {name.lower() for name in (target.names if target is not None else [])}
    return [name for name in incoming.names if name.lower() not in known]
