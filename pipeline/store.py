"""The DuckDB store: schema migrations, upserts of parsed records, and the reader snapshot.

Writers (one run at a time, see ``pipeline.runlock``) open ``config.store``; readers (dashboard,
``python -m pipeline sql``) open the published snapshot read-only. The snapshot is written next
to the store and renamed into place, so a reader sees the old file or the new one, never a
half-written one and never a lock held by the writer.
"""
from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tempfile
import uuid
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from . import sqlfiles
from .rows import prepare_events

CHILD_TABLES = ("authors", "abstract_section_spans", "publication_types", "mesh_headings",
                "chemicals", "comments_corrections")


def connect(path: str | os.PathLike, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    path = Path(path)
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    return duckdb.connect(str(path), read_only=read_only)


def migrate(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Apply the migrations not yet applied, in order; then (re)create every view."""
    con.execute("CREATE TABLE IF NOT EXISTS schema_migrations (name VARCHAR PRIMARY KEY, "
                "applied_at TIMESTAMP DEFAULT current_timestamp)")
    done = {r[0] for r in con.execute("SELECT name FROM schema_migrations").fetchall()}
    applied = []
    for name in pending_migrations(done):
        con.execute("BEGIN")
        con.execute(sqlfiles.load(name))
        con.execute("INSERT INTO schema_migrations (name) VALUES (?)", [name])
        con.execute("COMMIT")
        applied.append(name)
    apply_views(con)
    return applied


def pending_migrations(done) -> list[str]:
    """The migrations, in order, that a store whose `schema_migrations` holds `done` lacks."""
    return [name for name in sqlfiles.names("migrations") if name not in done]


def apply_views(con: duckdb.DuckDBPyConnection) -> None:
    for name in sqlfiles.names("views"):
        con.execute(sqlfiles.load(name))


def open_store(path: str | os.PathLike) -> duckdb.DuckDBPyConnection:
    con = connect(path)
    migrate(con)
    return con


# --- loading parsed records -------------------------------------------------------------------

@contextmanager
def transaction(con: duckdb.DuckDBPyConnection):
    """BEGIN … COMMIT, or ROLLBACK when the block raises."""
    con.execute("BEGIN")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


# The loaders below run inside the caller's transaction: a refresh lands many EFetch bodies per
# commit, because each DuckDB commit of a small batch cost more CPU than parsing it.


def upsert_tables(con: duckdb.DuckDBPyConnection, tables: dict[str, pa.Table],
                  raw_sha256: str | None) -> int:
    """Upsert one batch (``rows.article_tables``) keyed on PMID. A stored record newer than the
    incoming one (see ``rows.revision``) is kept, so replaying the raw archive in any order
    converges."""
    if tables["articles"].num_rows == 0:
        return 0
    con.register("incoming_articles", tables["articles"])
    try:
        existing = con.execute(
            "SELECT a.pmid, (a.date_revised, a.pmid_version) > "
            "(TRY_CAST(i.date_revised AS DATE), i.pmid_version) AS stale "
            "FROM articles a JOIN incoming_articles i USING (pmid)").fetchall()
    finally:
        con.unregister("incoming_articles")
    stale = [pmid for pmid, is_stale in existing if is_stale]
    if stale:
        drop = pa.array(stale, pa.int64())
        return upsert_tables(con, {name: t.filter(pc.invert(pc.is_in(t["pmid"], drop)))
                                   for name, t in tables.items()}, raw_sha256)
    if existing:  # new records (the common case of a pull) have nothing to replace
        replaced = [pmid for pmid, _ in existing]
        for table in ("articles", "article_sources") + CHILD_TABLES:
            con.execute(f"DELETE FROM {table} WHERE pmid IN (SELECT unnest(?::BIGINT[]))", [replaced])
    for name, tbl in tables.items():
        view = f"incoming_{name}"
        con.register(view, tbl)
        try:
            con.execute(f"INSERT INTO {name} BY NAME SELECT * FROM {view}")
            if raw_sha256 and name == "articles":
                con.execute(f"INSERT INTO article_sources SELECT pmid, ? FROM {view}", [raw_sha256])
        finally:
            con.unregister(view)
    return tables["articles"].num_rows


def apply_deletions(con: duckdb.DuckDBPyConnection, pmids: Iterable[int], raw_sha256: str | None) -> int:
    pmids = sorted(set(int(p) for p in pmids))
    if not pmids:
        return 0
    con.execute("CREATE OR REPLACE TEMP TABLE gone AS SELECT unnest(?::BIGINT[]) AS pmid", [pmids])
    for table in ("articles", "article_sources", "query_articles", "tags", "claim_directions") + CHILD_TABLES:
        con.execute(f"DELETE FROM {table} WHERE pmid IN (SELECT pmid FROM gone)")
    con.execute("INSERT OR REPLACE INTO deleted_citations SELECT pmid, ? FROM gone", [raw_sha256])
    return len(pmids)


def quarantine(con: duckdb.DuckDBPyConnection, rows: list[dict], *, stage: str, raw_sha256: str | None) -> int:
    if rows:
        con.executemany(
            "INSERT INTO quarantine (raw_sha256, pmid, stage, reason, raw) VALUES (?, ?, ?, ?, ?)",
            [[raw_sha256, r.get("pmid"), stage, r["reason"], (r.get("raw") or "")[:2000]] for r in rows])
    return len(rows)


def apply_steps(con: duckdb.DuckDBPyConnection, steps: list[tuple], raw_sha256: str | None) -> dict:
    """Apply ``rows.prepare_events`` steps in order, inside the caller's transaction."""
    counts = {"loaded": 0, "deleted": 0, "quarantined": 0}
    for step in steps:
        if step[0] == "upsert":
            counts["loaded"] += upsert_tables(con, step[1], raw_sha256)
        elif step[0] == "delete":
            counts["deleted"] += apply_deletions(con, step[1], raw_sha256)
        else:
            counts["quarantined"] += quarantine(con, step[1], stage="parse", raw_sha256=raw_sha256)
    return counts


def load_events(con: duckdb.DuckDBPyConnection, events: Iterable[dict], raw_sha256: str | None,
                batch_size: int = 2000) -> dict:
    """Consume ``pipeline.parse.iter_pubmed`` events in one transaction: upsert articles in
    batches, apply DeleteCitation blocks, send bad records to quarantine. Returns counts."""
    steps = prepare_events(events, batch_size)
    with transaction(con):
        return apply_steps(con, steps, raw_sha256)


def add_membership(con: duckdb.DuckDBPyConnection, query_id: str, pmids: Iterable[int]) -> None:
    pmids = sorted(set(int(p) for p in pmids))
    if pmids:
        con.execute("INSERT OR IGNORE INTO query_articles SELECT ?, unnest(?::BIGINT[])",
                    [query_id, pmids])


def sync_claims(con: duckdb.DuckDBPyConnection, claims: list) -> None:
    """Write the registry into ``claims``/``claim_conditions`` so views and analysts see it."""
    con.execute("BEGIN")
    con.execute("DELETE FROM claim_conditions")
    con.execute("DELETE FROM claims")
    con.executemany("INSERT INTO claims VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [
        [c.id, c.statement, c.kind, c.population, c.outcome, c.supporting_direction, c.query,
         json.dumps([dataclasses.asdict(s) for s in c.sources])] for c in claims])
    rows = [[c.id, cond.name, cond.mesh, cond.mesh_ui, list(cond.synonyms)]
            for c in claims for cond in c.conditions]
    if rows:
        con.executemany("INSERT INTO claim_conditions (claim_id, name, mesh, mesh_ui, synonyms) "
                        "VALUES (?, ?, ?, ?, ?)", rows)
    con.execute("COMMIT")


def set_meta(con: duckdb.DuckDBPyConnection, **values: str) -> None:
    for key, value in values.items():
        con.execute("INSERT OR REPLACE INTO store_meta VALUES (?, ?)", [key, str(value)])


def get_meta(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    return dict(con.execute("SELECT key, value FROM store_meta").fetchall())


def origin(path: Path) -> str | None:
    """'snapshot' or 'live' for an existing store, None when there is none (or it is busy)."""
    if not Path(path).exists():
        return None
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error:
        return None  # a writer holds it: the run lock will refuse this run anyway
    try:
        return get_meta(con).get("origin")
    except duckdb.Error:
        return None
    finally:
        con.close()


# --- the reader snapshot ----------------------------------------------------------------------

def publish_snapshot(con: duckdb.DuckDBPyConnection, store_path: Path, snapshot_path: Path) -> Path:
    """Checkpoint the writer's store and swap a copy into ``snapshot_path`` atomically.

    Readers open the snapshot read-only and never the writer's file, so a run holding its
    write lock never refuses a reader, and a reader never sees a half-finished run."""
    set_meta(con, store_version=uuid.uuid4().hex,
             published_at=datetime.now(timezone.utc).isoformat(timespec="seconds"))
    con.execute("CHECKPOINT")
    snapshot_path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".snapshot-", suffix=".duckdb", dir=snapshot_path.parent)
    os.close(fd)
    try:
        shutil.copyfile(store_path, tmp)
        os.replace(tmp, snapshot_path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return snapshot_path
