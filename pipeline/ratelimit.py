"""One request-rate budget shared by every thread and process of a run.

NCBI allows 3 requests/s per client (10/s with an API key) and blocks clients that exceed it,
so parallel workers must draw from one budget. The budget is a lock file holding the earliest
wall-clock time the next request may be sent: a caller takes the ``flock``, reserves that slot,
pushes the stored time one interval further, releases the lock and only then sleeps until its
slot, so waiting callers do not hold the lock. Each ``acquire`` opens its own descriptor, and
``flock`` locks belong to the open file description, so threads of one process exclude each
other exactly as separate processes do.
"""
from __future__ import annotations

import fcntl
import os
import re
import time
from pathlib import Path

__all__ = ["RateLimiter"]

# A stored slot further ahead than this cannot come from honest waiters (it would take
# hundreds of queued requests); it means the clock moved back, so it is ignored.
_STALE_AHEAD = 60.0


class RateLimiter:
    def __init__(self, rate_per_second: float, directory: str | os.PathLike, name: str = "eutils",
                 *, sleep=time.sleep, clock=time.time):
        if rate_per_second <= 0:
            raise ValueError(f"rate_per_second must be positive, got {rate_per_second}")
        self.interval = 1.0 / rate_per_second
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name) or "eutils"
        self.path = Path(directory) / f"{safe}.next"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._sleep, self._clock = sleep, clock

    def reserve(self) -> float:
        """Claim the next free send slot and return it (a ``clock()`` time)."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            now = self._clock()
            try:
                stored = float(os.pread(fd, 64, 0).decode().strip() or 0.0)
            except ValueError:
                stored = 0.0  # a torn or foreign file: start afresh rather than fail the run
            slot = stored if now < stored <= now + _STALE_AHEAD else now
            encoded = repr(slot + self.interval).encode()
            os.pwrite(fd, encoded.ljust(64), 0)
            return slot
        finally:
            os.close(fd)  # closing drops the flock

    def acquire(self) -> float:
        """Block until this caller may send; returns the seconds waited."""
        wait = self.reserve() - self._clock()
        if wait > 0:
            self._sleep(wait)
        return max(wait, 0.0)
