"""`SourceLocks`: one writer per Source ID at a time on this machine (an advisory file lock per id).

Looking a page up and then creating it is two requests: two writers of the same item between them would
both find nothing and both create. Dagster's `notion_api` pool keeps two runs of the instance from writing at
once; this lock covers what the pool does not see (in-process runs, two `ppm` commands, a pool limit raised).
`flock` locks are released by the kernel when a process dies, so a crashed run never leaves one behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import os
from collections.abc import AsyncIterator
from pathlib import Path


class SourceLocks:
    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    def path(self, source_id: str) -> Path:
        # A digest: source ids hold `/` and `:` and can be long; the name only has to be stable and unique.
        return self.directory / f"notion-action-{hashlib.sha256(source_id.encode()).hexdigest()[:32]}.lock"

    @contextlib.asynccontextmanager
    async def hold(self, source_id: str) -> AsyncIterator[None]:
        """Hold the lock of ``source_id`` (waiting for another holder without blocking the event loop)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path(source_id), os.O_RDWR | os.O_CREAT, 0o644)
        try:
            await asyncio.to_thread(fcntl.flock, fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing the descriptor releases the lock
