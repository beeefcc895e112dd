"""Bookkeeping shared by every job that writes the store: the run lock and ``pipeline_runs``."""
from __future__ import annotations

import json
import os
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from filelock import FileLock, Timeout

from . import store
from .config import Config


class RunInProgress(RuntimeError):
    pass


@dataclass
class RunResult:
    run_id: str
    kind: str
    status: str = "running"
    fetched: int = 0
    loaded: int = 0
    deleted: int = 0
    quarantined: int = 0
    requests: int = 0
    per_query: dict = field(default_factory=dict)
    error: str | None = None

    def add(self, counts: dict) -> None:
        self.loaded += counts["loaded"]
        self.deleted += counts["deleted"]
        self.quarantined += counts["quarantined"]


def run_lock(config: Config) -> FileLock:
    path = config.curated_dir / ".run.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    return FileLock(str(path), timeout=0)


def _remove_store(path: Path) -> None:
    for p in (path, Path(str(path) + ".wal")):
        if p.exists():
            os.unlink(p)


@contextmanager
def recorded_run(config: Config, kind: str, *, fresh: bool = False, publish: bool = True):
    """Hold the run lock, open the store and record the run from start to finish.

    ``fresh`` starts from an empty store (rebuild, snapshot). A failure is written to the run's
    row before it propagates; a run killed outright stays 'running' and is visibly unfinished.
    At the end, failed or not, the store is published to readers (``store.publish_snapshot``)
    so the dashboard shows what landed and how the run ended."""
    lock = run_lock(config)
    try:
        lock.acquire()
    except Timeout:
        raise RunInProgress(f"another run holds {lock.lock_file}; not starting a second one") from None
    try:
        if fresh:
            _remove_store(config.store)
        con = store.open_store(config.store)
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        result = RunResult(run_id=f"{kind}-{stamp}-{uuid.uuid4().hex[:6]}", kind=kind)
        con.execute("INSERT INTO pipeline_runs (run_id, kind, started_at, status) "
                    "VALUES (?, ?, now()::TIMESTAMP, 'running')", [result.run_id, kind])
        try:
            yield con, result
            if result.status == "running":
                result.status = "ok"
        except BaseException as exc:
            result.status, result.error = "failed", f"{type(exc).__name__}: {exc}"
            raise
        finally:
            con.execute(
                "UPDATE pipeline_runs SET ended_at = now()::TIMESTAMP, status = ?, "
                "records_fetched = ?, records_loaded = ?, records_deleted = ?, "
                "records_quarantined = ?, requests_made = ?, counts_per_query = ?, error = ? "
                "WHERE run_id = ?",
                [result.status, result.fetched, result.loaded, result.deleted, result.quarantined,
                 result.requests, json.dumps(result.per_query, sort_keys=True), result.error,
                 result.run_id])
            if publish:
                store.publish_snapshot(con, config.store, config.snapshot)
            con.close()
    finally:
        lock.release()


def store_manifest_rows(con, entries) -> None:
    """Mirror archive manifest entries into ``raw_manifest``, a statement per 1,000 rows
    (``executemany`` ran the insert once per row)."""
    rows = [[e.seq, e.sha256, e.path, e.endpoint, e.query_id, e.window_type, e.window_from,
             e.window_to, json.dumps(e.params), e.fetched_at, e.bytes, e.run_id] for e in entries]
    for i in range(0, len(rows), 1000):  # a rebuild replays whole archives: bounded statements
        chunk = rows[i:i + 1000]
        placeholders = ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"] * len(chunk))
        con.execute(f"INSERT OR REPLACE INTO raw_manifest VALUES {placeholders}",
                    [value for row in chunk for value in row])


def catch_up_manifest(con, archive) -> None:
    """Mirror every manifest row ``raw_manifest`` lacks: rows a killed run archived but had not
    mirrored yet (a run mirrors in batches, the archive line is written first), and rows a
    failed run's rollback took back. Gaps are looked for by seq, not only past the highest
    seq: the search and fetch threads archive side by side, and a rollback can leave a hole."""
    mirrored = {r[0] for r in con.execute("SELECT seq FROM raw_manifest").fetchall()}
    store_manifest_rows(con, [e for e in archive.entries() if e.seq not in mirrored])
