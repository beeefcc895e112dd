"""The refresh job: pull new and modified PubMed records for every registry query.

One run, under a file lock so two runs never overlap:

1. for each query, ESearch the ``crdt`` window (new records: from the query's watermark minus a
   few days of overlap, to today) and the ``mdat`` window (records modified since the last run,
   so new MeSH, publication types, retractions and errata arrive). Windows are split until each
   holds fewer than ESearch's 10,000-id cap. Every response body goes to the raw archive first.
2. the union of PMIDs over all queries is fetched once: new ids not in the store, and modified
   ids whose stored revision is older than today. EFetch bodies are archived, parsed and upserted.
3. a query's watermarks move only when every id its windows named has landed, so a killed or
   failed run is simply repeated by the next one; upserts are idempotent, so nothing doubles.
"""
from __future__ import annotations

import multiprocessing as mp
import queue
import re
import threading
import time
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from datetime import date, timedelta

from . import rows, store
from .archive import RawArchive
from .config import Config
from .eutils import EutilsClient, EutilsError
from .runs import RunResult, catch_up_manifest, recorded_run, store_manifest_rows

EARLIEST = date(1800, 1, 1)  # PubMed's mindate must be set when maxdate is; nothing is older
FETCH_BATCH = 1000  # ids per EFetch POST: 1 request per 1,000 new records
PARALLEL_FROM = 3000  # records in a pull from which parsing moves to worker processes
PARSE_WORKERS = 2
_COUNT = re.compile(rb"<Count>(\d+)</Count>")
# Records landed per commit. A DuckDB commit of one 1,000-record body cost more CPU than parsing
# it (its WAL write, then checkpoints); a killed run loses at most this many records' work,
# which the next run repeats.
COMMIT_EVERY = 50_000


def _say(progress, msg: str) -> None:
    if progress:
        progress(msg)


def refresh(config: Config, queries: list[tuple[str, str]], *, today: date | None = None,
            client: EutilsClient | None = None, progress=print, cap: int = 9999,
            finalize=None) -> RunResult:
    """Run one incremental refresh; ``finalize(con)`` (tagging) runs at its end, inside the run.
    Raises ``RunInProgress`` when another run holds the lock.

    A store built from the bundled snapshot is replaced, not topped up: its claim links came
    from evaluating queries offline, not from PubMed."""
    fresh = store.origin(config.store) == "snapshot"
    with recorded_run(config, "refresh", fresh=fresh) as (con, result):
        _refresh(con, result, config, queries, today or date.today(), client, progress, cap)
        if finalize:
            finalize(con)
    return result


def _refresh(con, result, config, queries, today, client, progress, cap) -> None:
    archive = RawArchive(config.raw_dir)
    catch_up_manifest(con, archive)
    run_id = result.run_id
    context: dict = {}
    # Mirrored into raw_manifest in batches by this thread (EFetch answers arrive on another):
    # a commit per response cost more than the rest of the bookkeeping together.
    unmirrored: deque = deque()
    workers = _Workers()

    def on_response(endpoint, params, body, status, elapsed):
        entry = archive.put(body, endpoint=endpoint, params=params, run_id=run_id,
                            query_id=context.get("query_id"), window=context.get("window"))
        context["last_sha"] = entry.sha256
        unmirrored.append(entry)
        if endpoint == "esearch" and workers.pool is None:
            found = _COUNT.search(body)
            if found and int(found.group(1)) >= PARALLEL_FROM:
                workers.start()  # a big pull: they start while the search waits on the rate limit

    def mirror():
        batch = []
        while unmirrored:
            batch.append(unmirrored.popleft())
        store_manifest_rows(con, batch)

    if client is None:
        client = EutilsClient(config, on_response=on_response, batch_size=FETCH_BATCH)
    else:
        client.on_response = on_response
    requests_before = client.requests_made
    try:
        con.executemany("INSERT OR REPLACE INTO queries VALUES (?, ?)", [list(q) for q in queries])
        marks = dict(((q, w), t) for q, w, t in
                     con.execute("SELECT query_id, window_type, through FROM watermarks").fetchall())
        overlap = timedelta(days=int(config.overlap_days))
        wanted: dict[int, set[str]] = {}      # pmid -> queries that need it
        needs: dict[str, set[int]] = {}       # query -> pmids it needs fetched
        # One transaction for the search's memberships: a commit per window cost more than
        # the window's rows.
        with store.transaction(con):
            for query_id, term in queries:
                needs[query_id] = set()
                counts = {}
                for wtype in ("crdt", "mdat"):
                    mark = marks.get((query_id, wtype))
                    if wtype == "mdat" and mark is None:
                        continue  # a first pull by crdt brings every record's latest revision
                    start = (max(EARLIEST, mark - overlap) if (wtype == "crdt" and mark)
                             else (mark or EARLIEST))
                    context.update(query_id=query_id)
                    ids = []
                    context["window"] = (wtype, start, today)
                    for *_, window_ids in client.iter_windows(term, start, today, wtype, cap=cap):
                        store.add_membership(con, query_id, window_ids)
                        ids.extend(window_ids)
                    todo = _to_fetch(con, ids, wtype, today)
                    counts[wtype] = {"matched": len(ids), "to_fetch": len(todo)}
                    needs[query_id] |= todo
                    for pmid in todo:
                        wanted.setdefault(pmid, set()).add(query_id)
                result.per_query[query_id] = counts
                _say(progress, f"  {query_id}: " + ", ".join(
                    f"{w} {c['matched']} matched / {c['to_fetch']} to fetch" for w, c in counts.items()))

            context.update(query_id=None, window=("efetch", None, None))
            mirror()
        if len(wanted) >= PARALLEL_FROM:
            pool = workers.start()
        else:
            workers.stop()  # started on a big count, but most ids were stored or shared
            pool = None
        failed = _fetch_all(con, client, sorted(wanted), context, result, progress, pool, mirror)

        with store.transaction(con):
            for query_id, _term in queries:
                if needs[query_id] & failed:
                    continue  # the window is repeated next run
                for wtype in ("crdt", "mdat"):
                    con.execute("INSERT OR REPLACE INTO watermarks VALUES (?, ?, ?, ?)",
                                [query_id, wtype, today, run_id])
                    archive.log_watermark(query_id, wtype, today, run_id)
            store.set_meta(con, origin="live", data_as_of=today.isoformat())
        result.status = "failed" if failed else "ok"
    finally:
        workers.stop()
        try:
            mirror()
        except Exception:  # noqa: BLE001 - the next run's catch_up_manifest mirrors these
            pass
        result.requests = client.requests_made - requests_before


class _Workers:
    """The parse worker pool, started once, as soon as a pull is known to be big enough.

    Parsing is CPU-bound Python, which the GIL would keep on one core; a daily pull of a few
    records is not worth the workers' start-up."""

    def __init__(self):
        self.pool: ProcessPoolExecutor | None = None

    def start(self) -> ProcessPoolExecutor:
        if self.pool is None:
            self.pool = ProcessPoolExecutor(max_workers=PARSE_WORKERS, mp_context=mp.get_context("spawn"),
                                            initializer=rows.init_worker)
            for _ in range(PARSE_WORKERS):
                self.pool.submit(rows.started)
        return self.pool

    def stop(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)
            self.pool = None


def _fetch_all(con, client, pending: list[int], context: dict, result, progress, pool, mirror) -> set[int]:
    """EFetch ``pending`` in batches and load each body; returns the PMIDs of failed batches.

    Requests (and archiving, whose gzip releases the GIL) run in a producer thread while this
    one parses and stores the previous body, so network waits and CPU work overlap."""
    size = client.batch_size
    _say(progress, f"fetching {len(pending)} records (each once, in batches of {size})")
    bodies: queue.Queue = queue.Queue(maxsize=2)

    def produce():
        for i in range(0, len(pending), size):
            batch = pending[i:i + size]
            try:
                for body, got in client.fetch_ids(batch):
                    bodies.put(("body", body, got, context.get("last_sha")))
            except EutilsError as exc:
                bodies.put(("failed", batch, exc, None))
            except BaseException as exc:  # handed over so the run fails loudly, not silently
                bodies.put(("crashed", batch, exc, None))
                break
        bodies.put(None)

    producer = threading.Thread(target=produce, name="efetch", daemon=True)
    producer.start()
    in_flight: deque = deque()
    failed: set[int] = set()
    done, t0 = 0, time.monotonic()
    uncommitted = None  # records landed in the open transaction; None: no transaction open

    def land(steps, got, sha):
        nonlocal done, uncommitted
        if uncommitted is None:
            con.execute("BEGIN")
            uncommitted = 0
        mirror()  # the response's manifest row lands with its records
        result.add(store.apply_steps(con, steps, sha))
        result.fetched += len(got)
        done += len(got)
        uncommitted += len(got)
        if uncommitted >= COMMIT_EVERY:
            con.execute("COMMIT")
            uncommitted = None
        _say(progress, f"  {min(done, len(pending))}/{len(pending)} records "
                       f"({done / max(time.monotonic() - t0, 1e-9):,.0f}/s)")

    try:
        while (item := bodies.get()) is not None:
            kind, payload, detail, sha = item
            if kind == "crashed":
                raise detail
            if kind == "failed":
                failed.update(payload)
                result.error = str(detail)
                done += len(payload)
                _say(progress, f"  a batch of {len(payload)} failed: {detail}")
                continue
            if pool is None:
                land(rows.prepare_body(payload), detail, sha)
                continue
            in_flight.append((pool.submit(rows.prepare_body, payload), detail, sha))
            while len(in_flight) > PARSE_WORKERS or (in_flight and in_flight[0][0].done()):
                future, got, sha = in_flight.popleft()
                land(future.result(), got, sha)
        while in_flight:
            future, got, sha = in_flight.popleft()
            land(future.result(), got, sha)
        if uncommitted is not None:
            con.execute("COMMIT")
            uncommitted = None
    finally:
        if uncommitted is not None:
            con.execute("ROLLBACK")
        while producer.is_alive():  # unblock a producer stuck on a full queue
            try:
                bodies.get(timeout=0.1)
            except queue.Empty:
                pass
    return failed


def _to_fetch(con, ids: list[int], wtype: str, today: date) -> set[int]:
    """New ids (crdt) need fetching unless stored; modified ids (mdat) unless the stored
    revision is already today's, which no later modification can have overtaken yet."""
    if not ids:
        return set()
    if wtype == "crdt":
        have = con.execute("SELECT pmid FROM articles WHERE pmid IN (SELECT unnest(?::BIGINT[])) "
                           "UNION SELECT pmid FROM deleted_citations "
                           "WHERE pmid IN (SELECT unnest(?::BIGINT[]))", [ids, ids]).fetchall()
    else:
        have = con.execute("SELECT pmid FROM articles WHERE pmid IN (SELECT unnest(?::BIGINT[])) "
                           "AND date_revised >= ?", [ids, today]).fetchall()
    return set(ids) - {r[0] for r in have}
