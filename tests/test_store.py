"""Loading parsed records into DuckDB: upserts on PMID, newest revision wins, deletions,
retractions flagged, bad records quarantined while the batch goes on."""
from __future__ import annotations

from pathlib import Path

import pytest

from fixtures.old_store import store_before
from pipeline import parse, store

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "pubmed"
UPDATE_SAMPLE = FIXTURES / "pubmed21n1298_sample.xml.gz"


@pytest.fixture
def fresh_db(tmp_path):
    con = store.open_store(tmp_path / "store.duckdb")
    yield con
    con.close()


@pytest.fixture(scope="module")
def update_events():
    return list(parse.iter_pubmed(UPDATE_SAMPLE))


def articles(events):
    return [e for e in events if e["kind"] == "article"]


def test_migrations_apply_once_and_record_themselves(tmp_path):
    con = store.connect(tmp_path / "s.duckdb")
    first = store.migrate(con)
    assert first and store.migrate(con) == []
    assert [r[0] for r in con.execute("SELECT name FROM schema_migrations ORDER BY 1").fetchall()] == first


def test_load_real_update_file_sample(fresh_db, update_events):
    counts = store.load_events(fresh_db, update_events, "sha-x")
    pmids = {e["pmid"] for e in articles(update_events)}
    deleted = next(e for e in update_events if e["kind"] == "delete")["pmids"]
    assert counts["loaded"] == len(pmids) and counts["deleted"] == len(deleted) == 20
    assert fresh_db.execute("SELECT count(*) FROM articles").fetchone()[0] == len(pmids)
    assert fresh_db.execute("SELECT count(*) FROM deleted_citations").fetchone()[0] == 20
    # PMID 30271887 comes in versions 1-4 in one file: one row, the newest version
    assert fresh_db.execute("SELECT pmid_version, date_revised::VARCHAR FROM articles "
                            "WHERE pmid = 30271887").fetchall() == [(4, "2021-06-07")]
    # retracted record flagged, not dropped, with its link
    assert fresh_db.execute("SELECT is_retracted FROM articles WHERE pmid = 33104149").fetchone() == (True,)
    assert fresh_db.execute("SELECT ref_pmid FROM comments_corrections WHERE pmid = 33104149 "
                            "AND ref_type = 'RetractionIn'").fetchone() == (34095918,)
    # child tables hold the record's parts
    authors = fresh_db.execute("SELECT count(*) FROM authors WHERE collective_name IS NOT NULL").fetchone()[0]
    assert authors >= 3
    quals = fresh_db.execute("SELECT count(*) FROM mesh_headings WHERE len(qualifiers) > 0").fetchone()[0]
    assert quals > 0
    assert fresh_db.execute("SELECT count(*) FROM article_sources WHERE raw_sha256 = 'sha-x'").fetchone()[0] == len(pmids)


def test_reloading_is_idempotent(fresh_db, update_events):
    store.load_events(fresh_db, update_events, "a")
    before = {t: fresh_db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
              for t in ("articles",) + store.CHILD_TABLES}
    store.load_events(fresh_db, update_events, "b")
    after = {t: fresh_db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in before}
    assert before == after


def test_an_older_revision_never_overwrites_a_newer_one(fresh_db, update_events):
    rec = next(e for e in articles(update_events) if e["pmid"] == 33104149)
    newer = dict(rec, title="newer", date_revised="2030-01-01")
    store.load_events(fresh_db, [newer], "new")
    store.load_events(fresh_db, [rec], "old")            # replayed later, but older
    assert fresh_db.execute("SELECT title FROM articles WHERE pmid = 33104149").fetchone() == ("newer",)


def test_a_deletion_removes_the_record_everywhere_and_keeps_the_trace(fresh_db, update_events):
    rec = articles(update_events)[0]
    store.load_events(fresh_db, [rec], "x")
    store.add_membership(fresh_db, "q", [rec["pmid"]])
    store.load_events(fresh_db, [{"kind": "delete", "pmids": [rec["pmid"]]}], "y")
    for table in ("articles", "query_articles") + store.CHILD_TABLES:
        assert fresh_db.execute(f"SELECT count(*) FROM {table} WHERE pmid = ?", [rec["pmid"]]).fetchone()[0] == 0
    assert fresh_db.execute("SELECT raw_sha256 FROM deleted_citations").fetchall() == [("y",)]


def test_broken_records_are_quarantined_and_the_batch_goes_on(fresh_db):
    data = UPDATE_SAMPLE.read_bytes()
    import gzip
    xml = gzip.decompress(data)
    # break one record's PMID (33104149, in the file once): it alone is quarantined
    target = b'<PMID Version="1">33104149</PMID>'
    assert xml.count(target) == 1
    broken = xml.replace(target, b'<PMID Version="1">not-a-number</PMID>')
    counts = store.load_events(fresh_db, parse.iter_pubmed(broken), "broken")
    assert counts["quarantined"] == 1
    loaded = {r[0] for r in fresh_db.execute("SELECT pmid FROM articles").fetchall()}
    assert loaded == {e["pmid"] for e in articles(parse.iter_pubmed(xml))} - {33104149}
    stage, reason = fresh_db.execute("SELECT stage, reason FROM quarantine").fetchone()
    assert stage == "parse" and reason.startswith("pmid:")


def test_publish_snapshot_is_a_readable_copy(tmp_path, update_events):
    path = tmp_path / "s.duckdb"
    con = store.open_store(path)
    store.load_events(con, update_events, "x")
    snap = store.publish_snapshot(con, path, tmp_path / "s.snapshot.duckdb")
    import duckdb
    reader = duckdb.connect(str(snap), read_only=True)
    assert reader.execute("SELECT count(*) FROM articles").fetchone() == \
        con.execute("SELECT count(*) FROM articles").fetchone()
    version = dict(reader.execute("SELECT key, value FROM store_meta").fetchall())["store_version"]
    reader.close()
    store.publish_snapshot(con, path, snap)
    reader = duckdb.connect(str(snap), read_only=True)
    assert dict(reader.execute("SELECT key, value FROM store_meta").fetchall())["store_version"] != version


def test_manifest_rows_are_mirrored_in_bounded_statements(fresh_db):
    from pipeline.archive import Entry
    from pipeline.runs import store_manifest_rows

    entries = [Entry(seq=n, sha256=f"{n:064x}", path=f"objects/{n}.xml.gz", endpoint="efetch",
                     query_id=None, window_type=None, window_from=None, window_to=None,
                     params={"id": str(n)}, fetched_at="2021-06-07T00:00:00+00:00", bytes=n,
                     run_id="r") for n in range(1, 2501)]
    store_manifest_rows(fresh_db, entries)
    store_manifest_rows(fresh_db, entries[-10:])  # mirrored again: replaced, not doubled
    assert fresh_db.execute("SELECT count(*), min(seq), max(seq), sum(bytes) FROM raw_manifest").fetchone() \
        == (2500, 1, 2500, sum(range(1, 2501)))


def _fixture_articles():
    events = []
    for path in sorted(FIXTURES.glob("*.xml*")):
        events += [e for e in parse.iter_pubmed(path) if e["kind"] == "article"]
    return events


def _sections(con):
    return sorted(con.execute("SELECT pmid, idx, label, nlm_category, text FROM v_abstract_sections").fetchall())


def _parsed_sections(records):
    newest = {r["pmid"]: r for r in records}  # the store keeps one revision per PMID
    return sorted((r["pmid"], s["idx"], s["label"], s["nlm_category"], s["text"])
                  for r in newest.values() for s in r["abstract_sections"])


def test_section_text_is_stored_once_and_read_back_exactly(fresh_db):
    records = _fixture_articles()
    store.load_events(fresh_db, records, "sha-sections")
    want = _parsed_sections(records)
    # labelled, unlabelled and non-ASCII sections are all among the real records
    assert any(w[2] for w in want) and any(w[2] is None for w in want)
    assert any(not w[4].isascii() for w in want)
    assert _sections(fresh_db) == want
    columns = [r[0] for r in fresh_db.execute("DESCRIBE abstract_section_spans").fetchall()]
    assert "text" not in columns


def test_a_store_holding_section_text_is_migrated_to_spans(tmp_path):
    """Stores written before 005_section_spans kept each section's text in a column; the
    migration turns that into spans over the abstract and the view gives the same text."""
    con = store_before(tmp_path / "old.duckdb", "migrations/005")
    records = list({r["pmid"]: r for r in _fixture_articles()}.values())
    con.executemany("INSERT INTO articles (pmid, abstract, title, journal) VALUES (?, ?, '', '')",
                    [[r["pmid"], r["abstract"]] for r in records])
    con.executemany("INSERT INTO abstract_sections VALUES (?, ?, ?, ?, ?)",
                    [[r["pmid"], s["idx"], s["label"], s["nlm_category"], s["text"]]
                     for r in records for s in r["abstract_sections"]])
    assert store.migrate(con) == [n for n in store.sqlfiles.names("migrations") if n >= "migrations/005"]
    assert _sections(con) == _parsed_sections(records)
    con.close()
