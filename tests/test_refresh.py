"""The refresh job end to end through the loopback twin: fetch → archive → parse → store."""
from __future__ import annotations

import threading
import time
from datetime import date, timedelta

import duckdb
import pytest

from pipeline import fetch, store
from pipeline.archive import RawArchive
from pipeline.eutils import EutilsClient
from pipeline.rebuild import rebuild
from pipeline.runs import RunInProgress, run_lock

KETAMINE = ("ketamine.all", "ketamine[tiab] OR ketamine[mh] OR esketamine[tiab]")
DEPRESSION = ("depression", "(depression[tiab] OR depressive[tiab]) AND ketamine[tiab]")
YEAR_2021 = ("dp2021", "2021[dp]")

CONTENT_TABLES = ("articles", "authors", "abstract_section_spans", "publication_types",
                  "mesh_headings", "chemicals", "comments_corrections", "query_articles",
                  "deleted_citations", "watermarks")


def client_for(config, **kw):
    kw.setdefault("rate_per_second", 50)
    kw.setdefault("backoff_initial", 0.01)
    kw.setdefault("backoff_max", 0.05)
    return EutilsClient(config, **kw)


def refresh(config, queries, today, **kw):
    return fetch.refresh(config, queries, today=today, client=client_for(config, **kw),
                         progress=None)


def table_rows(path, table):
    con = duckdb.connect(str(path), read_only=True)
    try:
        cols = [c[0] for c in con.execute(f"DESCRIBE {table}").fetchall()
                if c[0] not in ("updated_run",)]
        return sorted(map(repr, con.execute(f"SELECT {', '.join(cols)} FROM {table}").fetchall()))
    finally:
        con.close()


def expected_pmids(twin, term):
    from pipeline import query
    ast = query.parse_query(term)
    return {r.pmid for r in twin.visible() if query.matches(ast, r.record)}


def test_first_run_pulls_every_matching_record_once(twin, twin_config):
    result = refresh(twin_config, [KETAMINE, DEPRESSION], twin.today)
    assert result.status == "ok", result.error
    want = expected_pmids(twin, KETAMINE[1]) | expected_pmids(twin, DEPRESSION[1])
    con = duckdb.connect(str(twin_config.store), read_only=True)
    got = {r[0] for r in con.execute("SELECT pmid FROM articles").fetchall()}
    assert got == want and len(want) > 40
    members = dict(con.execute("SELECT query_id, count(*) FROM query_articles GROUP BY 1").fetchall())
    assert members == {KETAMINE[0]: len(expected_pmids(twin, KETAMINE[1])),
                       DEPRESSION[0]: len(expected_pmids(twin, DEPRESSION[1]))}
    # every PMID asked of EFetch once, although both queries match the depression records
    asked = [int(i) for r in twin.requests_to("efetch") for i in r.params["id"].split(",")]
    assert sorted(asked) == sorted(want)
    run = con.execute("SELECT status, records_fetched, requests_made FROM pipeline_runs").fetchall()
    assert run == [("ok", len(want), len(twin.requests))]
    marks = con.execute("SELECT query_id, window_type, through FROM watermarks ORDER BY 1, 2").fetchall()
    assert marks == [(q, w, twin.today) for q in sorted([KETAMINE[0], DEPRESSION[0]])
                     for w in ("crdt", "mdat")]
    con.close()
    # every response archived, gzipped and content-addressed, with its manifest line
    archive = RawArchive(twin_config.raw_dir)
    entries = list(archive.entries())
    assert len(entries) == len(twin.requests)
    for e in entries:
        assert archive.object_path(e.sha256).exists()
        assert "api_key" not in e.params
    assert {e.endpoint for e in entries} == {"esearch", "efetch"}
    con = duckdb.connect(str(twin_config.store), read_only=True)
    mirrored = con.execute("SELECT seq, sha256, endpoint FROM raw_manifest ORDER BY seq").fetchall()
    con.close()
    assert mirrored == [(e.seq, e.sha256, e.endpoint) for e in entries]


def test_manifest_rows_a_killed_run_had_not_mirrored_are_mirrored_by_the_next(twin, twin_config):
    refresh(twin_config, [KETAMINE], twin.today)
    con = duckdb.connect(str(twin_config.store))
    con.execute("DELETE FROM raw_manifest WHERE seq > 2")  # as if killed before mirroring
    con.close()
    refresh(twin_config, [KETAMINE], twin.today)
    entries = list(RawArchive(twin_config.raw_dir).entries())
    con = duckdb.connect(str(twin_config.store), read_only=True)
    assert [r[0] for r in con.execute("SELECT seq FROM raw_manifest ORDER BY seq").fetchall()] == \
        [e.seq for e in entries]
    con.close()
    # readers get a published snapshot with the same rows
    assert table_rows(twin_config.snapshot, "articles") == table_rows(twin_config.store, "articles")


def test_unchanged_rerun_fetches_nothing(twin, twin_config):
    refresh(twin_config, [KETAMINE], twin.today)
    before = len(twin.requests_to("efetch"))
    result = refresh(twin_config, [KETAMINE], twin.today)
    assert result.status == "ok" and result.fetched == 0
    assert len(twin.requests_to("efetch")) == before


def test_new_and_modified_records_arrive_incrementally(twin, twin_config):
    first_day = date(2021, 6, 4)
    twin.advance(first_day)
    refresh(twin_config, [YEAR_2021], first_day)
    have = {r[0] for r in duckdb.connect(str(twin_config.store), read_only=True)
            .execute("SELECT pmid FROM articles").fetchall()}
    later = date(2021, 6, 8)
    twin.advance(later)
    new = expected_pmids(twin, YEAR_2021[1]) - have
    assert new, "the twin corpus has records entered after 4 June 2021"
    changed = sorted(have)[:3]
    twin.modify(changed, later, edit=lambda raw: raw.replace(b"<ArticleTitle>", b"<ArticleTitle>REVISED ", 1))
    # the real XML of some records already carries a DateRevised after the first run's day:
    # to the twin those were revised since, and an mdat window must bring them again
    revised_since = {p for p in have if first_day < date.fromisoformat(
        twin.corpus.records[p].record["date_revised"]) <= later}
    efetch_before = len(twin.requests_to("efetch"))
    result = refresh(twin_config, [YEAR_2021], later)
    assert result.status == "ok", result.error
    asked = {int(i) for r in twin.requests_to("efetch")[efetch_before:] for i in r.params["id"].split(",")}
    assert asked == new | set(changed) | revised_since
    con = duckdb.connect(str(twin_config.store), read_only=True)
    titles = dict(con.execute("SELECT pmid, title FROM articles WHERE pmid IN (SELECT unnest(?::BIGINT[]))",
                              [changed]).fetchall())
    assert all(t.startswith("REVISED ") for t in titles.values())
    assert con.execute("SELECT count(*) FROM articles").fetchone()[0] == len(have | new)


def test_failed_window_keeps_its_watermark_and_next_run_completes(twin, twin_config):
    twin.inject("efetch", "drop-ids", times=10, n=1)
    result = refresh(twin_config, [KETAMINE], twin.today, id_retries=1)
    assert result.status == "failed" and "did not return" in result.error
    con = duckdb.connect(str(twin_config.store), read_only=True)
    assert con.execute("SELECT count(*) FROM watermarks").fetchone()[0] == 0
    assert con.execute("SELECT status, error FROM pipeline_runs").fetchone()[0] == "failed"
    con.close()
    twin._faults.clear()
    assert refresh(twin_config, [KETAMINE], twin.today).status == "ok"
    con = duckdb.connect(str(twin_config.store), read_only=True)
    assert {r[0] for r in con.execute("SELECT pmid FROM articles").fetchall()} == expected_pmids(twin, KETAMINE[1])


def test_faults_on_the_way_do_not_change_the_result(twin, twin_config, tmp_path):
    for endpoint, fault, opts in (("esearch", "429", {"retry_after": "0"}), ("esearch", "502", {}),
                                  ("efetch", "500", {}), ("efetch", "200-error", {}),
                                  ("efetch", "truncate", {}), ("efetch", "drop-ids", {"n": 2})):
        twin.inject(endpoint, fault, **opts)
    assert refresh(twin_config, [KETAMINE, DEPRESSION], twin.today).status == "ok"
    clean = twin_config.with_overrides(data_dir=str(tmp_path / "clean"))
    assert refresh(clean, [KETAMINE, DEPRESSION], twin.today).status == "ok"
    for table in ("articles", "mesh_headings", "query_articles"):
        assert table_rows(twin_config.store, table) == table_rows(clean.store, table)


def test_rebuild_from_raw_alone_gives_the_same_rows(twin, twin_config, tmp_path):
    twin.advance(date(2021, 6, 5))
    refresh(twin_config, [YEAR_2021, KETAMINE], twin.today)
    twin.advance(date(2021, 6, 8))
    twin.modify([next(iter(expected_pmids(twin, KETAMINE[1])))], date(2021, 6, 8))
    refresh(twin_config, [YEAR_2021, KETAMINE], twin.today)
    rebuilt = twin_config.with_overrides(store_path=str(tmp_path / "rebuilt.duckdb"))
    twin.stop()  # no network from here on
    result = rebuild(rebuilt, [YEAR_2021, KETAMINE], progress=lambda m: None)
    assert result.status == "ok" and store.origin(rebuilt.store) == "live"
    for table in CONTENT_TABLES:
        assert table_rows(rebuilt.store, table) == table_rows(twin_config.store, table), table


def test_two_runs_never_overlap(twin_config):
    lock = run_lock(twin_config)
    with lock:
        with pytest.raises(RunInProgress):
            fetch.refresh(twin_config, [KETAMINE], progress=None)


def test_readers_are_never_refused_during_a_run(twin, twin_config):
    refresh(twin_config, [KETAMINE], date(2021, 6, 1))
    twin.advance(twin.today)
    for _ in range(4):
        twin.inject("efetch", "slow", seconds=0.3)
    errors, reads = [], []
    done = threading.Event()

    def reader():
        while not done.is_set():
            try:
                con = duckdb.connect(str(twin_config.snapshot), read_only=True)
                reads.append(con.execute("SELECT count(*) FROM articles").fetchone()[0])
                con.close()
            except Exception as exc:  # any refusal is the failure this test is about
                errors.append(repr(exc))
            time.sleep(0.01)

    t = threading.Thread(target=reader)
    t.start()
    try:
        result = refresh(twin_config, [YEAR_2021, KETAMINE], twin.today + timedelta(days=1), timeout=5)
    finally:
        done.set()
        t.join()
    assert result.status == "ok"
    assert not errors and len(reads) > 10
    assert reads[-1] >= reads[0]


def test_parallel_parsing_and_commit_size_give_the_same_rows(twin, twin_config, tmp_path, monkeypatch):
    serial = refresh(twin_config, [YEAR_2021], twin.today, batch_size=100)  # one commit
    monkeypatch.setattr(fetch, "PARALLEL_FROM", 1)
    monkeypatch.setattr(fetch, "COMMIT_EVERY", 250)  # a commit every third body
    parallel_cfg = twin_config.with_overrides(data_dir=str(tmp_path / "parallel"))
    parallel = refresh(parallel_cfg, [YEAR_2021], twin.today, batch_size=100)
    assert serial.status == parallel.status == "ok" and parallel.fetched == serial.fetched > 700
    for table in CONTENT_TABLES:
        assert table_rows(parallel_cfg.store, table) == table_rows(twin_config.store, table), table


def test_a_live_refresh_replaces_a_store_built_from_the_offline_snapshot(twin, twin_config):
    from pipeline.rebuild import build_snapshot
    build_snapshot(twin_config, [YEAR_2021], progress=lambda m: None)
    assert store.origin(twin_config.store) == "snapshot"
    result = refresh(twin_config, [KETAMINE], twin.today)
    assert result.status == "ok"
    con = duckdb.connect(str(twin_config.store), read_only=True)
    meta = store.get_meta(con)
    assert (meta["origin"], meta["data_as_of"]) == ("live", twin.today.isoformat())
    # the offline links (dp2021, evaluated locally) are gone; only PubMed's answers remain
    assert {r[0] for r in con.execute("SELECT DISTINCT query_id FROM query_articles").fetchall()} == {KETAMINE[0]}
    assert {r[0] for r in con.execute("SELECT pmid FROM articles").fetchall()} == expected_pmids(twin, KETAMINE[1])
    assert [r[0] for r in con.execute("SELECT kind FROM pipeline_runs").fetchall()] == ["refresh"]


def _wait_for_efetch(twin, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while not twin.requests_to("efetch"):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_fetching_starts_while_the_search_is_still_listing(twin, twin_config):
    """EFetch of the first query's ids does not wait for the last query's windows, and still
    asks for every id once."""
    queries = [YEAR_2021, KETAMINE, DEPRESSION]
    seen_before_last_search = []

    class WaitsBeforeTheLastQuery(EutilsClient):
        def iter_windows(self, term, *args, **kw):
            if term == DEPRESSION[1] and not seen_before_last_search:
                # a sequential run would never get here with an EFetch made: it waits in vain
                seen_before_last_search.append(_wait_for_efetch(twin))
            yield from super().iter_windows(term, *args, **kw)

    client = WaitsBeforeTheLastQuery(twin_config, rate_per_second=50, batch_size=50)
    result = fetch.refresh(twin_config, queries, today=twin.today, client=client, progress=None)
    assert result.status == "ok"
    assert seen_before_last_search == [True]
    asked = [int(i) for r in twin.requests_to("efetch") for i in r.params["id"].split(",")]
    want = set().union(*(expected_pmids(twin, q) for _, q in queries))
    assert sorted(asked) == sorted(want)


def test_a_search_that_fails_midway_fails_the_run_and_moves_no_watermark(twin, twin_config):
    class FailsOnSecondQuery(EutilsClient):
        def iter_windows(self, term, *args, **kw):
            if term == KETAMINE[1]:
                _wait_for_efetch(twin)  # records of the first query are on their way in
                time.sleep(0.3)
                self.esearch(term)  # archived; mirrored after the failed run's rollback
                raise fetch.EutilsError("esearch failed for the test")
            yield from super().iter_windows(term, *args, **kw)

    client = FailsOnSecondQuery(twin_config, rate_per_second=50, batch_size=50)
    with pytest.raises(fetch.EutilsError, match="failed for the test"):
        fetch.refresh(twin_config, [YEAR_2021, KETAMINE], today=twin.today, client=client,
                      progress=None)
    con = duckdb.connect(str(twin_config.store), read_only=True)
    assert con.execute("SELECT count(*) FROM watermarks").fetchone()[0] == 0
    assert con.execute("SELECT status FROM pipeline_runs").fetchone()[0] == "failed"
    con.close()
    assert refresh(twin_config, [YEAR_2021, KETAMINE], twin.today).status == "ok"
    con = duckdb.connect(str(twin_config.store), read_only=True)
    got = {r[0] for r in con.execute("SELECT pmid FROM articles").fetchall()}
    mirrored = [r[0] for r in con.execute("SELECT seq FROM raw_manifest ORDER BY seq").fetchall()]
    con.close()
    assert got == expected_pmids(twin, YEAR_2021[1]) | expected_pmids(twin, KETAMINE[1])
    # every archived response is in raw_manifest, those of the failed run included
    assert mirrored == [e.seq for e in RawArchive(twin_config.raw_dir).entries()]


def test_a_hole_in_the_mirrored_manifest_is_filled_by_the_next_run(twin, twin_config):
    refresh(twin_config, [KETAMINE], twin.today)
    con = duckdb.connect(str(twin_config.store))
    con.execute("DELETE FROM raw_manifest WHERE seq = 1")  # as if its run rolled it back
    con.close()
    refresh(twin_config, [KETAMINE], twin.today)
    con = duckdb.connect(str(twin_config.store), read_only=True)
    mirrored = [r[0] for r in con.execute("SELECT seq FROM raw_manifest ORDER BY seq").fetchall()]
    con.close()
    assert mirrored == [e.seq for e in RawArchive(twin_config.raw_dir).entries()]
