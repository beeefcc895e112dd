"""The DuckDB store: schema migrations, upserts of parsed records, and the reader snapshot.

Writers (one run at a time, see ``pipeline.runlock``) open ``config.store``; readers (dashboard,
``python -m pipeline sql``) open the published snapshot read-only. The snapshot is written next
to the store and renamed into place, so a reader sees the old file or the new one, never a
half-written one and never a lock held by the writer.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterable

import duckdb
import pyarrow as pa

from . import sqlfiles

CHILD_TABLES = ("authors", "abstract_sections", "publication_types", "mesh_headings",
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
    for name in sqlfiles.names("migrations"):
        if name in done:
            continue
        con.execute("BEGIN")
        con.execute(sqlfiles.load(name))
        con.execute("INSERT INTO schema_migrations (name) VALUES (?)", [name])
        con.execute("COMMIT")
        applied.append(name)
    apply_views(con)
    return applied


def apply_views(con: duckdb.DuckDBPyConnection) -> None:
    for name in sqlfiles.names("views"):
        con.execute(sqlfiles.load(name))


def open_store(path: str | os.PathLike) -> duckdb.DuckDBPyConnection:
    con = connect(path)
    migrate(con)
    return con
