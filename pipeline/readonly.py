"""The analysts' SQL surface: read-only queries and exports of the published store.

Every connection here is opened ``read_only`` with ``enable_external_access = false``
(no ATTACH, COPY, INSTALL/LOAD, ``read_csv``, ``glob``, http…) and ``lock_configuration =
true`` (so no statement can switch those back). That is the guarantee; the statement check in
``run_sql`` only turns what DuckDB would refuse anyway into a message that says why.

The documented views and their columns are listed in docs/data-dictionary.md, which
``describe_views`` reads: the views there are the contract, the raw tables stay available.
"""
from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import duckdb
import pandas as pd
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from . import sqlfiles
from .config import REPO_ROOT

DATA_DICTIONARY = REPO_ROOT / "docs" / "data-dictionary.md"
EXPORT_FORMATS = ("parquet", "csv")
_ALLOWED = {duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN}
_BATCH_ROWS = 100_000


class ReadOnlyError(Exception):
    """An analyst query that was refused, failed or ran out of time; the message says which."""


class StatementRefused(ReadOnlyError):
    """The statement would write, attach a database, or reach files or the network."""


class QueryTimeout(ReadOnlyError):
    """The query ran past its time limit and was interrupted."""


@dataclass(frozen=True)
class ColumnDoc:
    name: str
    type: str
    description: str


@dataclass(frozen=True)
class ViewDoc:
    name: str
    description: str
    columns: tuple[ColumnDoc, ...]


def connect(path: str | os.PathLike) -> duckdb.DuckDBPyConnection:
    """Open the store read-only, with file system and network access off and locked."""
    if not Path(path).is_file():
        raise ReadOnlyError(f"no store at {path}")
    return duckdb.connect(str(path), read_only=True, config={
        "enable_external_access": False,
        "autoload_known_extensions": False,
        "autoinstall_known_extensions": False,
        "lock_configuration": True,
    })


def check_statement(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    """Refuse anything but one SELECT (or EXPLAIN) statement, naming what was sent."""
    try:
        statements = con.extract_statements(sql)
    except duckdb.Error as exc:
        raise ReadOnlyError(f"query failed: {exc}") from None
    if len(statements) != 1:
        raise StatementRefused(f"refused: send one statement at a time (got {len(statements)})")
    kind = statements[0].type
    if kind not in _ALLOWED:
        name = "INSTALL/LOAD" if kind == duckdb.StatementType.LOAD else kind.name.replace("_", " ")
        raise StatementRefused(
            f"refused: {name} statements are not allowed; the SQL surface is read-only "
            "(SELECT, WITH … SELECT, FROM …, DESCRIBE, SUMMARIZE, EXPLAIN)")


def _execute(con, run: Callable[[], pd.DataFrame], timeout_s: float | None) -> pd.DataFrame:
    timer = threading.Timer(timeout_s, con.interrupt) if timeout_s else None
    if timer:
        timer.start()
    try:
        return run()
    except duckdb.InterruptException:
        raise QueryTimeout(f"query interrupted after {timeout_s:g} s (time limit)") from None
    except duckdb.PermissionException as exc:
        raise StatementRefused(
            f"refused: the query reaches outside the store (files, network, extensions): {exc}"
        ) from None
    except duckdb.Error as exc:
        if "read-only" in str(exc):
            raise StatementRefused(f"refused: the store is read-only: {exc}") from None
        raise ReadOnlyError(f"query failed: {exc}") from None
    finally:
        if timer:
            timer.cancel()


def run_sql(path: str | os.PathLike, sql: str, *, params: dict | list | None = None,
            limit: int | None = None, timeout_s: float | None = None) -> pd.DataFrame:
    """Run one read-only statement on the store at ``path`` and return its rows.

    ``params`` fills ``?`` or ``$name`` placeholders; ``limit`` caps the rows returned;
    ``timeout_s`` interrupts a query that runs longer (``QueryTimeout``)."""
    con = connect(path)
    try:
        check_statement(con, sql)

        def run() -> pd.DataFrame:
            rel = con.sql(sql, params=params)
            return (rel.limit(limit) if limit is not None else rel).df()
        return _execute(con, run, timeout_s)
    finally:
        con.close()


def run_query(path: str | os.PathLike, name: str, *, timeout_s: float | None = None,
              **params) -> pd.DataFrame:
    """Run a named read query from ``sql/queries/`` (``run_query(p, "claim_detail",
    claim_id="efficacy.trd")``), its ``$name`` placeholders filled from ``params``."""
    return run_sql(path, sqlfiles.load(f"queries/{name}"), params=params or None,
                   timeout_s=timeout_s)


def describe_views() -> list[ViewDoc]:
    """The documented views, in the order of docs/data-dictionary.md."""
    views: list[ViewDoc] = []
    name, lines, columns = None, [], []

    def close():
        if name:
            views.append(ViewDoc(name, " ".join(lines).strip(), tuple(columns)))

    for line in DATA_DICTIONARY.read_text(encoding="utf-8").splitlines():
        heading = re.match(r"^## (v_\w+)\s*$", line)
        if heading or line.startswith("## "):
            close()
            name, lines, columns = (heading.group(1) if heading else None), [], []
        elif name and line.startswith("|"):
            cells = [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
            if len(cells) >= 3 and cells[0] not in ("column", "") and not set(cells[0]) <= {"-", ":"}:
                columns.append(ColumnDoc(cells[0], cells[1], " | ".join(cells[2:])))
        elif name and not columns and line.strip():
            lines.append(line.strip())
    close()
    return views


def exported_views() -> list[str]:
    """Views ``export_views`` writes: every documented view except the ``*_live`` ones,
    which recompute from the raw tables what a stored table already holds."""
    return [v.name for v in describe_views() if not v.name.endswith("_live")]


def export_views(path: str | os.PathLike, fmt: str, out_dir: str | os.PathLike) -> list[Path]:
    """Write each exported view to ``out_dir/<view>.<fmt>`` (parquet or csv), streaming in
    batches; list columns become JSON text in CSV. Files appear whole or not at all."""
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"format must be one of {', '.join(EXPORT_FORMATS)}, not {fmt!r}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    con = connect(path)
    written = []
    try:
        for view in exported_views():
            rel = con.sql(f"SELECT * FROM {view}")
            if fmt == "csv":
                nested = [c for c, t in zip(rel.columns, rel.types) if str(t).endswith("]")]
                if nested:
                    replaced = ", ".join(f"to_json({c}) AS {c}" for c in nested)
                    rel = con.sql(f"SELECT * REPLACE ({replaced}) FROM {view}")
            target = out_dir / f"{view}.{fmt}"
            tmp = target.with_name(f".{target.name}.part")
            reader = rel.to_arrow_reader(_BATCH_ROWS)
            writer = (pq.ParquetWriter(tmp, reader.schema) if fmt == "parquet"
                      else pacsv.CSVWriter(tmp, reader.schema))
            try:
                for batch in reader:
                    writer.write_batch(batch)
            finally:
                writer.close()
            os.replace(tmp, target)
            written.append(target)
    finally:
        con.close()
    return written


def evidence_lookup(path: str | os.PathLike) -> Callable[[str], dict | None]:
    """``lookup(claim_id)`` → the claim's evidence from the store at ``path``, or None for a
    claim the store does not know: ``records``, ``by_design`` and ``by_direction`` (counts of
    its non-retracted records), plus ``verdict``, ``stance``, ``certainty`` and
    ``evidence_current`` (False when the stored evidence predates the tables)."""
    con = connect(path)
    try:
        summary = con.sql("SELECT * FROM v_claim_summary").df()
        cells = con.sql("SELECT claim_id, coalesce(design, 'untagged') AS design, direction, "
                        "sum(n_records) AS n FROM v_claim_design_direction "
                        "WHERE evidence_class <> 'retracted' GROUP BY ALL").df()
        current = bool(con.sql("SELECT is_current FROM v_evidence_status").fetchall()[0][0])
    finally:
        con.close()
    by_claim = {}
    for row in summary.itertuples(index=False):
        mine = cells[cells.claim_id == row.claim_id]
        by_claim[row.claim_id] = {
            "records": int(row.n_records),
            "by_design": {k: int(v) for k, v in mine.groupby("design")["n"].sum().items()},
            "by_direction": {k: int(v) for k, v in mine.groupby("direction")["n"].sum().items()},
            "verdict": row.verdict, "stance": row.stance, "certainty": row.certainty,
            "evidence_current": current,
        }
    return by_claim.get
