"""The analyst SQL surface: read-only really is read-only, exports, named queries, and the
data dictionary matching the views column for column.

The store holds the real PubMed records of tests/fixtures/twin/ketamine_subset.xml.gz,
linked to two claims with hand-set tags (the taggers are tested elsewhere).
"""
from __future__ import annotations

import hashlib
import json

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest

from pipeline import evidence, parse, readonly, sqlfiles, store
from pipeline.config import REPO_ROOT

FIXTURE = REPO_ROOT / "tests" / "fixtures" / "twin" / "ketamine_subset.xml.gz"


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory):
    """A published-style store built once, then only ever opened read-only."""
    path = tmp_path_factory.mktemp("readonly") / "store.snapshot.duckdb"
    con = store.open_store(path)
    store.load_events(con, parse.iter_pubmed(FIXTURE), None)
    store.set_meta(con, tagger_version="t1")
    con.execute("INSERT INTO claims VALUES ('efficacy.depression', 'Ketamine relieves depression.', "
                "'efficacy', NULL, NULL, 'decrease', 'ketamine AND depression', '[]'), "
                "('safety.anaesthesia', 'Ketamine is a safe anaesthetic.', 'safety', NULL, NULL, "
                "NULL, 'ketamine AND anesthesia', '[]')")
    con.execute("INSERT INTO claim_conditions (claim_id, name, mesh, mesh_ui) VALUES "
                "('efficacy.depression', 'depression', 'Depression', 'D003863')")
    con.execute("INSERT INTO query_articles SELECT 'efficacy.depression', pmid FROM articles "
                "WHERE title ILIKE '%depress%'")
    con.execute("INSERT INTO query_articles SELECT 'safety.anaesthesia', pmid FROM articles "
                "WHERE title ILIKE '%anaesth%' OR title ILIKE '%anesth%'")
    con.execute("INSERT INTO query_articles SELECT 'ketamine.all', pmid FROM articles")
    con.execute("INSERT INTO tags (pmid, tagger_version, design, population, sample_size) "
                "SELECT pmid, 't1', CASE WHEN pmid % 3 = 0 THEN 'rct' ELSE 'lab_experiment' END, "
                "CASE WHEN pmid % 3 = 0 THEN 'human' ELSE 'animal' END, 20 + pmid % 50 FROM articles")
    con.execute("INSERT INTO claim_directions (pmid, claim_id, tagger_version, direction) "
                "SELECT pmid, query_id, 't1', 'supports' FROM query_articles "
                "WHERE query_id <> 'ketamine.all'")
    con.execute("CREATE SEQUENCE row_ids")  # nextval() would write to it
    evidence.refresh(con)
    con.close()
    return path


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ------------------------------------------------------------------ reading

def test_select_returns_a_dataframe(snapshot):
    df = readonly.run_sql(snapshot, "SELECT claim_id, n_records, verdict FROM v_claim_summary "
                                    "ORDER BY claim_id")
    assert list(df.claim_id) == ["efficacy.depression", "safety.anaesthesia"]
    (linked,), = duckdb.connect(str(snapshot), read_only=True).execute(
        "SELECT count(*) FROM query_articles WHERE query_id = 'efficacy.depression'").fetchall()
    assert df.n_records[0] == linked > 0
    assert df.verdict.str.len().min() > 0


def test_limit_params_and_read_only_statement_kinds(snapshot):
    assert len(readonly.run_sql(snapshot, "SELECT * FROM v_articles", limit=3)) == 3
    one = readonly.run_sql(snapshot, "SELECT pmid FROM v_articles WHERE pmid = $pmid",
                           params={"pmid": 34034067})
    assert list(one.pmid) == [34034067]
    assert "column_name" in readonly.run_sql(snapshot, "DESCRIBE v_claim_summary").columns
    assert len(readonly.run_sql(snapshot, "EXPLAIN SELECT * FROM v_claim_summary")) == 1
    assert len(readonly.run_sql(snapshot, "FROM v_claims")) == 2


def test_named_queries_run_with_a_claim_id(snapshot):
    names = [n.split("/", 1)[1] for n in sqlfiles.names("queries")]
    assert {"claim_detail", "claim_summary", "claim_counts", "claim_trend",
            "claims_overview"} <= set(names)
    offered = {"claim_id": "efficacy.depression", "limit": None, "offset": 0}
    for name in names:
        text = sqlfiles.load(f"queries/{name}")
        df = readonly.run_query(snapshot, name, **{k: v for k, v in offered.items() if f"${k}" in text})
        assert len(df) > 0, name
    every = readonly.run_query(snapshot, "claim_detail", claim_id="efficacy.depression",
                               limit=None, offset=0)
    assert every.cebm_level.is_monotonic_increasing
    assert set(every.pmid) == set(readonly.run_sql(
        snapshot, "SELECT pmid FROM v_claim_evidence WHERE claim_id = 'efficacy.depression'").pmid)
    pages = [readonly.run_query(snapshot, "claim_detail", claim_id="efficacy.depression",
                                limit=2, offset=offset) for offset in range(0, len(every), 2)]
    assert list(pd.concat(pages).pmid) == list(every.pmid)


def test_evidence_lookup_for_the_draft_checker(snapshot):
    lookup = readonly.evidence_lookup(snapshot)
    found = lookup("efficacy.depression")
    assert found["records"] == sum(found["by_design"].values()) == sum(found["by_direction"].values())
    assert set(found["by_direction"]) == {"supports"}
    assert found["evidence_current"] is True and found["verdict"]
    assert lookup("no.such.claim") is None


# ------------------------------------------------------------------ refusing

@pytest.mark.parametrize("sql,kind", [
    ("INSERT INTO articles (pmid) VALUES (1)", "INSERT"),
    ("UPDATE articles SET title = 'x'", "UPDATE"),
    ("DELETE FROM quarantine", "DELETE"),
    ("CREATE TABLE t (i INTEGER)", "CREATE"),
    ("DROP VIEW v_claim_summary", "DROP"),
    ("ATTACH 'other.duckdb' AS other", "ATTACH"),
    ("COPY articles TO 'articles.csv'", "COPY"),
    ("EXPORT DATABASE 'dump'", "EXPORT"),
    ("INSTALL httpfs", "INSTALL/LOAD"),
    ("LOAD httpfs", "INSTALL/LOAD"),
    ("SET enable_external_access = true", "SET"),
    ("PRAGMA enable_profiling", "PRAGMA"),
    ("CALL pragma_version()", "CALL"),
    ("SELECT 1; DROP TABLE articles", "one statement at a time"),
])
def test_statements_that_are_not_reads_are_refused(snapshot, sql, kind):
    with pytest.raises(readonly.StatementRefused, match=kind):
        readonly.run_sql(snapshot, sql)


@pytest.mark.parametrize("sql", [
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM read_text('/etc/hostname')",
    "SELECT * FROM read_parquet('elsewhere.parquet')",
    "SELECT * FROM glob('/*')",
    "SELECT * FROM 'elsewhere.csv'",
    "SELECT * FROM read_json('https://example.org/data.json')",
])
def test_selects_reaching_files_or_network_are_refused_by_duckdb(snapshot, sql):
    with pytest.raises(readonly.StatementRefused, match="reaches outside the store"):
        readonly.run_sql(snapshot, sql)


def test_the_connection_itself_is_read_only_and_locked(snapshot):
    """The guarantee does not depend on the statement check: DuckDB refuses on its own."""
    con = readonly.connect(snapshot)
    try:
        with pytest.raises(duckdb.Error, match="read-only"):
            con.execute("INSERT INTO store_meta VALUES ('k', 'v')")
        with pytest.raises(duckdb.PermissionException):
            con.execute("COPY (SELECT 1) TO 'out.csv'")
        with pytest.raises(duckdb.PermissionException):
            con.execute("ATTACH 'other.duckdb'")
        with pytest.raises(duckdb.Error, match="locked"):
            con.execute("SET enable_external_access = true")
        assert con.execute("SELECT current_setting('enable_external_access')").fetchall() == [(False,)]
    finally:
        con.close()


def test_refused_statements_leave_the_file_untouched(snapshot):
    before = digest(snapshot)
    for sql in ("DELETE FROM articles", "CREATE TABLE t AS SELECT 1", "CHECKPOINT",
                "SELECT nextval('row_ids')"):
        with pytest.raises(readonly.StatementRefused):
            readonly.run_sql(snapshot, sql)
    assert digest(snapshot) == before


def test_errors_name_the_problem(snapshot, tmp_path):
    with pytest.raises(readonly.ReadOnlyError, match="syntax error"):
        readonly.run_sql(snapshot, "SELEC 1")
    with pytest.raises(readonly.ReadOnlyError, match="nope"):
        readonly.run_sql(snapshot, "SELECT * FROM nope")
    with pytest.raises(readonly.ReadOnlyError, match="no store at"):
        readonly.run_sql(tmp_path / "missing.duckdb", "SELECT 1")


def test_a_long_query_is_interrupted_at_its_time_limit(snapshot):
    slow = "SELECT sum(a.range * b.range) FROM range(200000) a, range(200000) b"
    with pytest.raises(readonly.QueryTimeout, match="time limit"):
        readonly.run_sql(snapshot, slow, timeout_s=0.2)
    assert readonly.run_sql(snapshot, "SELECT 42 AS x", timeout_s=5).x[0] == 42


# ------------------------------------------------------------------ exporting

@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_export_writes_every_documented_view(snapshot, tmp_path, fmt):
    paths = readonly.export_views(snapshot, fmt, tmp_path / "out")
    assert [p.stem for p in paths] == readonly.exported_views()
    assert "v_evidence_links_live" not in readonly.exported_views()
    assert not list((tmp_path / "out").glob(".*"))  # no partial files left behind
    con = readonly.connect(snapshot)
    try:
        for p in paths:
            (expected,), = con.execute(f"SELECT count(*) FROM {p.stem}").fetchall()
            got = pq.read_table(p).num_rows if fmt == "parquet" else len(pd.read_csv(p))
            assert got == expected, p.name
    finally:
        con.close()
    if fmt == "csv":
        claims = pd.read_csv(tmp_path / "out" / "v_claims.csv")
        assert [json.loads(c) for c in claims.conditions] in ([["depression"], []], [[], ["depression"]])


# ------------------------------------------------------------------ the data dictionary

def test_data_dictionary_documents_every_view_column_and_nothing_else(tmp_path):
    con = store.open_store(tmp_path / "store.duckdb")
    try:
        actual = {}
        for (view,) in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal "
                                   "ORDER BY 1").fetchall():
            actual[view] = [(name, str(kind)) for name, kind, *_ in
                            con.execute(f"DESCRIBE {view}").fetchall()]
    finally:
        con.close()
    documented = {v.name: [(c.name, c.type) for c in v.columns] for v in readonly.describe_views()}
    assert sorted(documented) == sorted(actual)
    for view, columns in actual.items():
        assert documented[view] == columns, view
    assert all(v.description for v in readonly.describe_views() if v.name.startswith("v_claim_"))
