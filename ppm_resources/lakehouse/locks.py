"""Exclusive write locks kept in the lakehouse directory, so every process and every Dagster instance using the
same lakehouse is serialised, whoever launched it.

An advisory `flock` on a file under `<lakehouse>/_locks/`: the kernel releases it when the holder dies (`kill -9`
included), so a crashed writer never leaves a stale lock behind. The file records who holds it, for the message
a waiting writer gives when it gives up.
"""

from __future__ import annotations

import fcntl
import logging
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from ppm_resources.lakehouse.errors import LakehouseError

log = logging.getLogger(__name__)
POLL_S = 0.05


@contextmanager
def file_lock(path: Path, *, table: str, timeout_s: float) -> Iterator[None]:
    """Hold the exclusive lock at `path`; wait up to `timeout_s`, then fail naming the holder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+") as handle:
        deadline = time.monotonic() + timeout_s
        waited = False
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not waited:
                    waited = True
                    log.info("waiting for the write lock of %s (held by %s)", table, _holder(path))
                if time.monotonic() >= deadline:
                    raise LakehouseError(
                        f"another writer has held the write lock for more than {timeout_s:.0f} s "
                        f"({_holder(path)}; lock file {path})",
                        table=table,
                    ) from None
                time.sleep(POLL_S)
        try:
            handle.seek(0)
            handle.truncate()
            handle.write(
                f"pid {os.getpid()} on {socket.gethostname()} since {datetime.now(UTC).isoformat()}\n"
            )
            handle.flush()
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _holder(path: Path) -> str:
    try:
        return path.read_text().strip() or "unknown holder"
    except OSError:
        return "unknown holder"
