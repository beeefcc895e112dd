"""The refresh job: pull new and modified PubMed records for every registry query.

One run, under a file lock so two runs never overlap:

1. for each query, ESearch the ``crdt`` window (new records: from the query's watermark minus a
   few days of overlap, to today) and the ``mdat`` window (records modified since the last run,
   so new MeSH, publication types, retractions and errata arrive). Windows are split until each
   holds fewer than ESearch's 10,000-id cap. Every response body goes to the raw archive first.
2. the union of PMIDs over all queries is fetched once: new ids not in the store, and modified
   ids whose stored revision is older than today. Fetching starts with the first listed window
   and runs beside the rest of the search. EFetch bodies are archived, parsed and upserted.
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
    con.executemany("INSERT OR REPLACE INTO queries VALUES (?, ?)", [list(q) for q in queries])
    marks = dict(((q, w), t) for q, w, t in
                 con.execute("SELECT query_id, window_type, through FROM watermarks").fetchall())
    overlap = timedelta(days=int(config.overlap_days))
    plan = []  # (query_id, term, window type, first day)
    for query_id, term in queries:
        for wtype in ("crdt", "mdat"):
            mark = marks.get((query_id, wtype))
            if wtype == "mdat" and mark is None:
                continue  # a first pull by crdt brings every record's latest revision
            plan.append((query_id, term, wtype,
                         max(EARLIEST, mark - overlap) if (wtype == "crdt" and mark) else (mark or EARLIEST)))
    pull = _Pull(con, archive, client, config, result, today, progress)
    requests_before = pull.client.requests_made
    try:
        failed = pull.run(plan, cap)
        needs = pull.needs
        with store.transaction(con):
            for query_id, _term in queries:
                if needs.get(query_id, set()) & failed:
                    continue  # the window is repeated next run
                for wtype in ("crdt", "mdat"):
                    con.execute("INSERT OR REPLACE INTO watermarks VALUES (?, ?, ?, ?)",
                                [query_id, wtype, today, result.run_id])
                    archive.log_watermark(query_id, wtype, today, result.run_id)
            store.set_meta(con, origin="live", data_as_of=today.isoformat())
        result.status = "failed" if failed else "ok"
    finally:
        result.requests = pull.client.requests_made - requests_before


class _Workers:
    """The parse worker pool, started once, as soon as a pull is known to be big enough.

    Parsing is CPU-bound Python, which the GIL would keep on one core; a daily pull of a few
    records is not worth the workers' start-up."""

    def __init__(self):
        self.pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()  # the search thread and the main thread may both start it

    def start(self) -> ProcessPoolExecutor:
        with self._lock:
            if self.pool is None:
                self.pool = ProcessPoolExecutor(max_workers=PARSE_WORKERS, mp_context=mp.get_context("spawn"),
                                                initializer=rows.init_worker)
                for _ in range(PARSE_WORKERS):
                    self.pool.submit(rows.started)
            return self.pool

    def stop(self) -> None:
        with self._lock:
            if self.pool is not None:
                self.pool.shutdown(cancel_futures=True)
                self.pool = None


class _Pull:
    """One run's search and fetch, overlapped.

    A search thread lists each query's windows (ESearch, rate-limited) while an EFetch thread
    fetches the ids already known to be needed, so the CPU-bound fetch does not wait for the
    last window of the last query. This thread owns the DuckDB connection: it records
    memberships, decides which ids need fetching, and lands the parsed bodies in order. Every
    id is fetched at most once per run, whichever queries name it."""

    def __init__(self, con, archive, client, config, result, today, progress):
        self.con, self.archive, self.result = con, archive, result
        self.today, self.progress = today, progress
        self.events: queue.Queue = queue.Queue()
        self.where = threading.local()  # which query and window the calling thread asks about
        self.unmirrored: deque = deque()  # manifest rows, mirrored into the store by this thread
        self.workers = _Workers()
        if client is None:
            client = EutilsClient(config, on_response=self._on_response, batch_size=FETCH_BATCH)
        else:
            client.on_response = self._on_response
        self.client = client
        self.wanted: dict[int, set[str]] = {}  # pmid -> queries that need it
        self.needs: dict[str, set[int]] = {}   # query -> pmids it needs fetched
        self.pending: deque = deque()          # ids waiting for an EFetch batch
        self.ready = threading.Condition()
        self.searched = False
        self.stopping = threading.Event()
        # bodies fetched but not yet landed: bounds memory when parsing falls behind
        self.slots = threading.Semaphore(PARSE_WORKERS + 3)
        self.in_flight: deque = deque()
        self.failed: set[int] = set()
        self.uncommitted: int | None = None  # records landed in the open transaction
        self.done, self.t0 = 0, time.monotonic()

    # ------------------------------------------------------------ other threads

    def _on_response(self, endpoint, params, body, status, elapsed):
        entry = self.archive.put(body, endpoint=endpoint, params=params, run_id=self.result.run_id,
                                 query_id=getattr(self.where, "query_id", None),
                                 window=getattr(self.where, "window", None))
        self.where.last_sha = entry.sha256
        self.unmirrored.append(entry)
        if endpoint == "esearch" and self.workers.pool is None:
            found = _COUNT.search(body)
            if found and int(found.group(1)) >= PARALLEL_FROM:
                self.workers.start()  # a big pull: they start while the search waits on the rate limit

    def _search(self, plan, cap) -> None:
        try:
            previous = None
            for query_id, term, wtype, start in plan:
                if self.stopping.is_set():
                    return
                if previous not in (None, query_id):
                    self.events.put(("query-done", previous))
                previous = query_id
                self.where.query_id, self.where.window = query_id, (wtype, start, self.today)
                self.events.put(("searching", query_id, wtype))
                for *_, ids in self.client.iter_windows(term, start, self.today, wtype, cap=cap):
                    if self.stopping.is_set():
                        return
                    self.events.put(("window", query_id, wtype, ids))
            if previous is not None:
                self.events.put(("query-done", previous))
            self.events.put(("searched",))
        except BaseException as exc:  # handed over so the run fails loudly
            self.events.put(("search-failed", exc))

    def _produce(self) -> None:
        size = self.client.batch_size
        self.where.query_id, self.where.window = None, ("efetch", None, None)
        try:
            while True:
                with self.ready:
                    while not (self.stopping.is_set() or self.searched or len(self.pending) >= size):
                        self.ready.wait()
                    if self.stopping.is_set() or not self.pending:
                        return
                    batch = [self.pending.popleft() for _ in range(min(size, len(self.pending)))]
                bodies = self.client.fetch_ids(batch)
                while True:
                    while not self.slots.acquire(timeout=0.1):
                        if self.stopping.is_set():
                            return
                    if self.stopping.is_set():  # the run failed: no more requests
                        return
                    try:
                        body, got = next(bodies)
                    except StopIteration:
                        self.slots.release()
                        break
                    except EutilsError as exc:
                        self.slots.release()
                        self.events.put(("failed", batch, exc))
                        break
                    self.events.put(("body", body, got, self.where.last_sha))
        except BaseException as exc:
            self.events.put(("crashed", exc))
        finally:
            self.events.put(("fetched",))

    # ------------------------------------------------------------ this thread

    def run(self, plan, cap) -> set[int]:
        """Search and fetch; returns the PMIDs of batches that failed."""
        searcher = threading.Thread(target=self._search, args=(plan, cap), name="esearch", daemon=True)
        producer = threading.Thread(target=self._produce, name="efetch", daemon=True)
        counts: dict[str, dict] = {}
        try:
            searcher.start()
            producer.start()
            while True:
                kind, *item = self.events.get()
                if kind == "searching":
                    query_id, wtype = item
                    counts.setdefault(query_id, {})[wtype] = {"matched": 0, "to_fetch": 0}
                elif kind == "window":
                    query_id, wtype, ids = item
                    self._listed(query_id, wtype, ids, counts[query_id][wtype])
                elif kind == "query-done":
                    self.result.per_query[item[0]] = counts.get(item[0], {})
                    _say(self.progress, f"  {item[0]}: " + ", ".join(
                        f"{w} {c['matched']} matched / {c['to_fetch']} to fetch"
                        for w, c in counts.get(item[0], {}).items()))
                elif kind == "searched":
                    self._mirror()
                    _say(self.progress, f"searched: {len(self.wanted)} records to fetch "
                                        f"(each once, in batches of {self.client.batch_size})")
                    with self.ready:
                        self.searched = True
                        self.ready.notify_all()
                    if not self.wanted:
                        self.workers.stop()  # started on a big count, but every id was stored
                elif kind == "body":
                    self._parse(*item)
                elif kind == "parsed":
                    pass  # a worker finished: land what is ready, below
                elif kind == "failed":
                    batch, exc = item
                    self.failed.update(batch)
                    self.result.error = str(exc)
                    _say(self.progress, f"  a batch of {len(batch)} failed: {exc}")
                elif kind in ("search-failed", "crashed"):
                    raise item[0]
                elif kind == "fetched":
                    break
                self._land_ready(wait=False)
            self._land_ready(wait=True)
            self._commit()
            self._mirror()
            return self.failed
        finally:
            self.stopping.set()
            with self.ready:
                self.ready.notify_all()
            producer.join()
            searcher.join()
            self.workers.stop()
            if self.uncommitted is not None:
                self.con.execute("ROLLBACK")  # a crashed run commits nothing since its last commit
            try:
                self._mirror()
            except Exception:  # noqa: BLE001 - the next run's catch_up_manifest mirrors these
                pass

    def _listed(self, query_id, wtype, ids, tally) -> None:
        self._begin()
        store.add_membership(self.con, query_id, ids)
        todo = _to_fetch(self.con, ids, wtype, self.today)
        tally["matched"] += len(ids)
        tally["to_fetch"] += len(todo)
        self.needs.setdefault(query_id, set()).update(todo)
        new = sorted(p for p in todo if p not in self.wanted)
        for pmid in todo:
            self.wanted.setdefault(pmid, set()).add(query_id)
        if new:
            with self.ready:
                self.pending.extend(new)
                self.ready.notify_all()
        if len(self.wanted) >= PARALLEL_FROM:
            self.workers.start()

    def _parse(self, body, got, sha) -> None:
        pool = self.workers.pool
        if pool is None:
            self.in_flight.append((None, rows.prepare_body(body), got, sha))
            return
        future = pool.submit(rows.prepare_body, body)
        # wakes this thread, which may be waiting for the search or the next body
        future.add_done_callback(lambda _: self.events.put(("parsed",)))
        self.in_flight.append((future, None, got, sha))

    def _land_ready(self, wait: bool) -> None:
        while self.in_flight:
            future, steps, got, sha = self.in_flight[0]
            if future is not None:
                if not (wait or future.done()):
                    return
                steps = future.result()
            self.in_flight.popleft()
            self._land(steps, got, sha)
            self.slots.release()

    def _land(self, steps, got, sha) -> None:
        self._begin()
        self._mirror()  # the response's manifest row lands with its records
        self.result.add(store.apply_steps(self.con, steps, sha))
        self.result.fetched += len(got)
        self.done += len(got)
        self.uncommitted += len(got)
        if self.uncommitted >= COMMIT_EVERY:
            self._commit()
        _say(self.progress, f"  {self.done}/{len(self.wanted)} records "
                            f"({self.done / max(time.monotonic() - self.t0, 1e-9):,.0f}/s)")

    def _begin(self) -> None:
        # Memberships and bodies share transactions: a DuckDB commit of a small batch cost more
        # CPU than the batch itself.
        if self.uncommitted is None:
            self.con.execute("BEGIN")
            self.uncommitted = 0

    def _commit(self) -> None:
        if self.uncommitted is not None:
            # cleared first: a COMMIT that fails has ended the transaction, and a ROLLBACK
            # after it would raise in place of the real error
            self.uncommitted = None
            self.con.execute("COMMIT")

    def _mirror(self) -> None:
        batch = []
        while self.unmirrored:
            batch.append(self.unmirrored.popleft())
        store_manifest_rows(self.con, batch)


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
