"""Whether the lakehouse directory can take a write.

Checked before writing because delta-rs reports a refused write as something else ("Failed to parse parquet ...
Permission denied" when it cannot create a data file), and may have written part of it by then. Reads need no
write access, so a read-only lakehouse (a read-only mount, a snapshot, 0555 directories) still answers queries.
"""

from __future__ import annotations

import errno
import os
import re
from pathlib import Path

from ppm_resources.lakehouse.errors import NotWritableError

_REFUSED = {errno.EACCES, errno.EPERM, errno.EROFS}
_OS_ERROR = re.compile(r"os error (\d+)|\[Errno (\d+)\]")  # delta-rs (Rust) and Python spellings


def _nearest_existing(directory: Path) -> Path:
    """`directory`, or the parent it would be created under."""
    while not directory.exists() and directory != directory.parent:
        directory = directory.parent
    return directory


def refusal_reason(path: Path) -> str:
    try:
        read_only = bool(os.statvfs(_nearest_existing(path)).f_flag & os.ST_RDONLY)
    except OSError:
        read_only = False
    return "read-only file system" if read_only else "permission denied"


def require_writable(*paths: Path, table: str | None = None) -> None:
    """Raise `NotWritableError` unless this process may write each path (or create it where it would go).

    `os.access` asks the kernel, so it answers for this user, for root (who may write 0555 directories) and for
    read-only mounts (refused even to root).
    """
    for path in paths:
        existing = _nearest_existing(path)
        mode = os.W_OK | os.X_OK if existing.is_dir() else os.W_OK
        if not os.access(existing, mode):
            raise NotWritableError(str(existing), refusal_reason(existing), table=table)


def refused(error: BaseException) -> bool:
    """Whether a failed write was refused by the file system (permissions, read-only mount)."""
    if isinstance(error, OSError) and error.errno in _REFUSED:
        return True
    codes = (int(code) for match in _OS_ERROR.finditer(str(error)) for code in match.groups() if code)
    return any(code in _REFUSED for code in codes)
