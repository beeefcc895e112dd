"""Build the curated store with no network: from the raw archive, or from the bundled snapshot.

``rebuild`` replays ``data/raw/manifest.jsonl`` in arrival order — ESearch bodies give query
membership, EFetch bodies give records — and restores watermarks from their log, so it yields
the same rows the incremental runs produced (upserts keep the newest revision whatever the order).

``build_snapshot`` is the offline default of ``make run``: it loads the real records bundled in
``data/raw/snapshot/``. There is no ESearch there, so a record's link to a claim is decided by
evaluating the claim's PubMed query locally (``pipeline.query``), and the store says so.
"""
from __future__ import annotations

from datetime import date
from pathlib import Path

from lxml import etree

from . import parse, query, store
from .archive import RawArchive
from .config import BUNDLED_SNAPSHOT, Config
from .runs import RunResult, recorded_run, store_manifest_rows


def esearch_ids(body: bytes) -> list[int]:
    root = etree.fromstring(body)
    return [int(x) for x in root.xpath("/eSearchResult/IdList/Id/text()")]


def rebuild(config: Config, queries: list[tuple[str, str]] | None = None, *, progress=print,
            finalize=None) -> RunResult:
    """Recreate ``config.store`` from the raw archive alone."""
    archive = RawArchive(config.raw_dir)
    entries = list(archive.entries())
    if not entries:
        raise FileNotFoundError(f"{archive.manifest} has no responses to replay; "
                                "run `python -m pipeline refresh` online, or `build-snapshot`")
    with recorded_run(config, "rebuild", fresh=True) as (con, result):
        if queries:
            con.executemany("INSERT OR REPLACE INTO queries VALUES (?, ?)", [list(q) for q in queries])
        store_manifest_rows(con, entries)
        for n, entry in enumerate(entries, 1):
            body = archive.read(entry)
            if entry.endpoint == "esearch" and entry.query_id:
                store.add_membership(con, entry.query_id, esearch_ids(body))
            elif entry.endpoint == "efetch":
                counts = store.load_events(con, parse.iter_pubmed(body), entry.sha256)
                result.add(counts)
            if n % 50 == 0 or n == len(entries):
                progress(f"  replayed {n}/{len(entries)} responses")
        for mark in archive.watermarks():
            con.execute("INSERT OR REPLACE INTO watermarks VALUES (?, ?, ?, ?)",
                        [mark["query_id"], mark["window_type"], mark["through"], mark["run_id"]])
        store.set_meta(con, origin="live", data_as_of=max(e.fetched_at for e in entries)[:10])
        if finalize:
            finalize(con)
    return result


def build_snapshot(config: Config, queries: list[tuple[str, str]], *, progress=print,
                   finalize=None, snapshot_dir: Path = BUNDLED_SNAPSHOT) -> RunResult:
    """Build ``config.store`` from the real records bundled in ``data/raw/snapshot/``."""
    files = sorted(Path(snapshot_dir).glob("*.xml.gz"))
    if not files:
        raise FileNotFoundError(f"no bundled snapshot under {snapshot_dir}")
    compiled = [(qid, query.parse_query(q)) for qid, q in queries]
    with recorded_run(config, "snapshot", fresh=True) as (con, result):
        con.executemany("INSERT OR REPLACE INTO queries VALUES (?, ?)", [list(q) for q in queries])
        for path in files:
            records = list(parse.iter_pubmed(path))
            counts = store.load_events(con, records, f"snapshot:{path.name}")
            result.add(counts)
            for qid, ast in compiled:
                hits = [r["pmid"] for r in records
                        if r.get("kind") == "article" and query.matches(ast, r)]
                store.add_membership(con, qid, hits)
                result.per_query[qid] = result.per_query.get(qid, 0) + len(hits)
            progress(f"  {path.name}: {counts['loaded']} records")
        newest = con.execute("SELECT max(greatest(entrez_date, date_revised)) FROM articles").fetchone()[0]
        store.set_meta(con, origin="snapshot", data_as_of=str(newest or date.today()))
        if finalize:
            finalize(con)
    return result
