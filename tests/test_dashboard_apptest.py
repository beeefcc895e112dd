"""Every dashboard page, run by Streamlit's AppTest against a store built from real records.

The pages are compared with what the published store says (read here through the same
read-only door the SQL page uses), so the tests hold whatever the taggers make of the records.
"""
from __future__ import annotations

import contextlib
import csv
import io
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from dashboards import data, export, ris
from fixtures.dashboard_store import build_empty, build_published, config_for
from pipeline import readonly
from pipeline.check import check_text
from pipeline.claims import SOURCES_DIR

REPO = Path(__file__).resolve().parent.parent
APP = REPO / "dashboards" / "app.py"
HOW_TO_FILL = "python -m pipeline run"


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    return build_published(tmp_path_factory.mktemp("dashboard"))


@pytest.fixture(autouse=True)
def fresh_caches():
    st.cache_data.clear()
    yield
    st.cache_data.clear()


@pytest.fixture
def use_store(monkeypatch):
    def use(cfg):
        monkeypatch.setenv("KETAMINE_DATA_DIR", cfg.data_dir)
        monkeypatch.delenv("KETAMINE_STORE", raising=False)
        return cfg
    return use


def sql(cfg, query: str, params=()) -> list[tuple]:
    con = readonly.connect(cfg.snapshot)
    try:
        return con.execute(query, list(params)).fetchall()
    finally:
        con.close()


def page(name: str, **params) -> AppTest:
    """A fresh session opened on ``name`` with ``params`` in its URL."""
    at = AppTest.from_file(str(APP), default_timeout=60)
    if name != "overview":
        at.run()  # the default page registers the st.navigation pages
        at.switch_page(f"app_pages/{name}.py")
    at.query_params.clear()
    at.query_params.update(params)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def claim_links(at: AppTest) -> list[tuple[str, str]]:
    """(claim id, label) of every link to a claim's detail page, in page order."""
    out = []
    for link in at.get("page_link"):
        query = link.proto.query_string
        if query.startswith("claim="):
            out.append((query.split("=", 1)[1], link.proto.label))
    return out


def studies_of(cfg, claim_id: str, where: str = "", params=()) -> set[int]:
    return {r[0] for r in sql(cfg, f"SELECT pmid FROM v_claim_evidence WHERE claim_id = ? {where}",
                              [claim_id, *params])}


def biggest_claim(cfg) -> str:
    return sql(cfg, "SELECT claim_id FROM v_claim_evidence GROUP BY 1 "
                    "ORDER BY count(*) DESC, 1 LIMIT 1")[0][0]


def table_pmids(at: AppTest) -> set[int]:
    df = at.dataframe[0].value
    return {int(url.rstrip("/").rsplit("/", 1)[1]) for url in df["pubmed_url"]}


# --------------------------------------------------------------------------- claims overview

def test_overview_lists_every_claim_with_its_verdict_and_a_link(published, use_store):
    use_store(published)
    at = page("overview")
    claims = dict(sql(published, "SELECT claim_id, statement FROM claims"))
    links = [cid for cid, _ in claim_links(at)]
    assert sorted(links) == sorted(claims) and claims
    statements = [m.value.strip("*") for m in at.markdown if m.value.startswith("**")]
    assert statements == [claims[cid] for cid in links]
    stance = dict(sql(published, "SELECT claim_id, stance FROM v_claim_summary"))
    shown = [re.fullmatch(r":\w+-badge\[(.*)\]", m.value).group(1) for m in at.markdown
             if "-badge[" in m.value]
    assert shown == [stance[cid] for cid in links]


def test_overview_says_plainly_that_the_offline_snapshot_is_thin(published, use_store):
    use_store(published)
    at = page("overview")
    (banner,) = [w.value for w in at.warning]
    none = sql(published, "SELECT count(*) FROM v_claim_summary WHERE n_human = 0")[0][0]
    total = sql(published, "SELECT count(*) FROM claims")[0][0]
    assert banner.startswith("**Offline snapshot — evidence is thin or absent.**")
    assert f"{none} of {total} claims have no human study in this store" in banner and none > 0
    articles = sql(published, "SELECT count(*) FROM articles")[0][0]
    assert f"only the {articles} real PubMed records" in banner


def test_overview_bars_count_human_studies_by_direction(published, use_store):
    use_store(published)
    at = page("overview")
    bars = [m.value for m in at.markdown if m.value.startswith("<div")]
    order = [cid for cid, _ in claim_links(at)]
    counts = {cid: (s, n, c) for cid, s, n, c in sql(
        published, "SELECT claim_id, n_human_supports, n_human_no_effect, n_human_contradicts "
                   "FROM v_claim_summary")}
    assert len(bars) == len(order)
    for cid, bar in zip(order, bars):
        s, n, c = counts[cid]
        if s + n + c == 0:
            assert "no supporting, no-effect or contradicting human studies" in bar
        else:
            assert f"{s:,} supporting · {n:,} no effect · {c:,} contradicting" in bar


def test_overview_filters_and_sort_come_from_and_go_to_the_url(published, use_store):
    use_store(published)
    kinds = [k for (k,) in sql(published, "SELECT DISTINCT kind FROM claims ORDER BY 1")]
    kind = kinds[0]
    at = page("overview", kind=kind, sort="evidence")
    expected = [cid for (cid,) in sql(
        published, "SELECT claim_id FROM v_claim_summary WHERE kind = ? "
                   "ORDER BY n_human DESC, n_records DESC, claim_id", [kind])]
    assert [cid for cid, _ in claim_links(at)] == expected

    at.multiselect(key="overview_kind").set_value(kinds[:2]).run()
    assert sorted(at.query_params["kind"]) == sorted(kinds[:2])
    assert at.query_params["sort"] == "evidence"

    condition, = sql(published, "SELECT name FROM claim_conditions GROUP BY 1 "
                                "ORDER BY count(*) DESC, 1 LIMIT 1")[0]
    at = page("overview", condition=condition)
    with_condition = {cid for (cid,) in sql(
        published, "SELECT claim_id FROM v_claims WHERE list_contains(conditions, ?)", [condition])}
    assert {cid for cid, _ in claim_links(at)} == with_condition


# --------------------------------------------------------------------------- claim detail

def test_claim_detail_shows_the_summary_charts_and_every_study(published, use_store):
    use_store(published)
    claim_id = biggest_claim(published)
    at = page("claim", claim=claim_id)
    statement, verdict = sql(published, "SELECT statement, verdict FROM v_claim_summary "
                                        "WHERE claim_id = ?", [claim_id])[0]
    assert at.subheader[0].value == statement
    assert any(verdict[1:] in m.value for m in at.markdown)
    assert len(at.get("vega_lite_chart")) == 2
    assert table_pmids(at) == studies_of(published, claim_id)
    shown = at.dataframe[0].value
    sources = dict(sql(published, "SELECT pmid, design_source FROM v_claim_evidence WHERE claim_id = ?",
                       [claim_id]))
    assert dict(zip(shown["pubmed_url"].str.extract(r"/(\d+)/$")[0].astype(int), shown["design_source"])) == sources
    # Each tag's confidence is shown beside it, as stored.
    stored = {pmid: (design, direction) for pmid, design, direction in sql(
        published, "SELECT pmid, design_confidence, direction_confidence FROM v_claim_evidence WHERE claim_id = ?",
        [claim_id])}
    pmids = shown["pubmed_url"].str.extract(r"/(\d+)/$")[0].astype(int)
    assert {p: (d, r) for p, d, r in zip(pmids, shown["design_confidence"], shown["direction_confidence"])} == stored
    assert at.query_params["claim"] == claim_id
    assert [b.label for b in at.get("download_button")] == ["Download CSV", "Download RIS"]


def test_claim_detail_filters_narrow_the_list_and_stay_in_the_url(published, use_store):
    use_store(published)
    claim_id = biggest_claim(published)
    direction, = sql(published, "SELECT direction FROM v_claim_evidence WHERE claim_id = ? "
                                "GROUP BY 1 ORDER BY count(*), 1 LIMIT 1", [claim_id])[0]
    at = page("claim", claim=claim_id, direction=direction)
    assert table_pmids(at) == studies_of(published, claim_id, "AND direction = ?", [direction])

    design, = sql(published, "SELECT coalesce(design, 'untagged') FROM v_claim_evidence "
                             "WHERE claim_id = ? GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1",
                  [claim_id])[0]
    at.multiselect(key="claim_direction").set_value([])
    at.multiselect(key="claim_design").set_value([design]).run()
    assert at.query_params["design"] == design
    assert "direction" not in at.query_params
    assert table_pmids(at) == studies_of(published, claim_id, "AND coalesce(design, 'untagged') = ?",
                                         [design])


def test_claim_detail_year_and_population_filters(published, use_store):
    use_store(published)
    claim_id = biggest_claim(published)
    year, = sql(published, "SELECT max(pub_year) FROM v_claim_evidence WHERE claim_id = ?", [claim_id])[0]
    at = page("claim", claim=claim_id, **{"from": str(year)})
    assert at.slider(key="claim_years").value[0] == year
    assert table_pmids(at) == studies_of(published, claim_id, "AND pub_year >= ?", [year])

    population, = sql(published, "SELECT coalesce(population, 'unknown') FROM v_claim_evidence "
                                 "WHERE claim_id = ? GROUP BY 1 ORDER BY count(*), 1 LIMIT 1", [claim_id])[0]
    at = page("claim", claim=claim_id, population=population)
    assert table_pmids(at) == studies_of(published, claim_id, "AND coalesce(population, 'unknown') = ?",
                                         [population])


def test_claim_detail_of_an_unknown_claim_says_so_and_shows_the_first(published, use_store):
    use_store(published)
    at = page("claim", claim="no.such_claim")
    first, = sql(published, "SELECT min(claim_id) FROM claims")[0]
    assert "no.such_claim" in at.warning[0].value
    assert at.query_params["claim"] == first


def test_exports_hold_the_whole_filtered_list(published):
    claim_id = biggest_claim(published)
    expected = studies_of(published, claim_id)
    rows = list(csv.DictReader(io.StringIO(export.studies_csv(published.snapshot, claim_id).decode())))
    assert {int(r["pmid"]) for r in rows} == expected
    assert set(rows[0]) == set(export.CSV_COLUMNS)
    # Where each design came from travels with it: an indexer's type is not a model's reading.
    sources = dict(sql(published, "SELECT pmid, design_source FROM v_claim_evidence WHERE claim_id = ?",
                       [claim_id]))
    assert {int(r["pmid"]): r["design_source"] or None for r in rows} == sources
    assert set(sources.values()) == {"indexer", "text"}

    text = export.studies_ris(published.snapshot, claim_id).decode()
    records = [r for r in text.split("ER  - ") if r.strip()]
    assert len(records) == len(expected)
    assert {int(p) for p in re.findall(r"AN  - PMID:(\d+)", text)} == expected
    pmid, = sql(published, "SELECT pmid FROM authors WHERE pmid IN (SELECT unnest(?::BIGINT[])) "
                           "GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1", [sorted(expected)])[0]
    authors = [collective or (f"{last}, {fore}" if fore else last) for collective, last, fore in sql(
        published, "SELECT nullif(collective_name, ''), last_name, fore_name FROM authors "
                   "WHERE pmid = ? ORDER BY position", [pmid])]
    record = next(r for r in records if f"PMID:{pmid}\r\n" in r)
    assert authors and [line[6:] for line in record.split("\r\n") if line.startswith("AU  - ")] == authors
    for pmid, source in sources.items():
        record = next(r for r in records if f"PMID:{pmid}\r\n" in r)
        wording = export.DESIGN_FROM[source]
        assert wording in record

    one = data.StudyFilter(directions=(sql(published, "SELECT min(direction) FROM v_claim_evidence "
                                                      "WHERE claim_id = ?", [claim_id])[0][0],))
    narrowed = list(csv.DictReader(io.StringIO(
        export.studies_csv(published.snapshot, claim_id, one).decode())))
    assert 0 < len(narrowed) <= len(rows)
    assert {r["direction"] for r in narrowed} == set(one.directions)


def test_ris_records_fold_lines_and_skip_missing_fields():
    lines = ris.record({"pmid": 123, "title": "Two\nlines", "authors": ["Doe, Jane", None],
                        "year": float("nan"), "doi": None, "notes": ["RETRACTED PUBLICATION"]})
    assert lines[0] == "TY  - JOUR" and lines[-1] == "ER  - "
    assert "TI  - Two lines" in lines and "AU  - Doe, Jane" in lines
    assert not any(line.startswith(("PY", "DO")) for line in lines)
    assert "UR  - https://pubmed.ncbi.nlm.nih.gov/123/" in lines
    assert ris.to_ris([]) == ""


# --------------------------------------------------------------------------- explorer

def test_explorer_finds_words_and_phrases_in_titles_and_abstracts(published, use_store):
    use_store(published)
    at = page("explorer", q="ketamine")
    expected = {p for (p,) in sql(published, "SELECT pmid FROM articles WHERE lower(title) LIKE '%ketamine%' "
                                             "OR lower(abstract) LIKE '%ketamine%'")}
    assert 0 < len(expected) <= data.SEARCH_ROWS
    assert table_pmids(at) == expected

    phrase = "treatment-resistant"
    at = page("explorer", q=f'ketamine "{phrase}"')
    expected = {p for (p,) in sql(
        published, "SELECT pmid FROM articles WHERE (lower(title) LIKE '%ketamine%' OR "
                   "lower(abstract) LIKE '%ketamine%') AND (lower(title) LIKE ? OR lower(abstract) LIKE ?)",
        [f"%{phrase}%"] * 2)}
    assert expected and table_pmids(at) == expected


def test_explorer_treats_sql_in_the_search_box_as_text(published, use_store):
    use_store(published)
    before = sql(published, "SELECT count(*) FROM articles")
    at = page("explorer", q="'; DROP TABLE articles; --")
    assert "Nothing matches" in at.info[0].value
    assert sql(published, "SELECT count(*) FROM articles") == before


def test_explorer_facets_narrow_by_condition_design_and_year(published, use_store):
    use_store(published)
    condition, = sql(published, "SELECT unnest(conditions_found) AS c FROM v_claim_evidence "
                                "GROUP BY 1 ORDER BY count(DISTINCT pmid) DESC, 1 LIMIT 1")[0]
    at = page("explorer", condition=condition)
    expected = {p for (p,) in sql(published, "SELECT pmid FROM v_claim_evidence "
                                             "WHERE list_contains(conditions_found, ?)", [condition])}
    assert expected and table_pmids(at) == expected
    facet = at.dataframe[1].value
    assert dict(zip(facet["condition"], facet["n"]))[condition] == len(expected)

    year, = sql(published, "SELECT max(pub_year) FROM articles")[0]
    at = page("explorer", **{"from": str(year)})
    assert table_pmids(at) == {p for (p,) in sql(published, "SELECT pmid FROM articles WHERE pub_year >= ?",
                                                 [year])}


# --------------------------------------------------------------------------- check a draft

def test_check_a_draft_shows_each_claim_sentence_with_its_claims(published, use_store):
    use_store(published)
    text = (SOURCES_DIR / "000_3c2647acb6e21906.txt").read_text(encoding="utf-8").split("\n")[0]
    at = page("check")
    at.text_area(key="draft_text").input(text)
    at.button(key="draft_check").click().run()
    assert not at.exception
    expected = {m.claim_id for r in check_text(text) for m in r.matches}
    assert expected
    stored = {cid for (cid,) in sql(published, "SELECT claim_id FROM claims")}
    linked = {cid for cid, _ in claim_links(at)}
    assert linked == expected & stored


# --------------------------------------------------------------------------- SQL

def test_sql_page_runs_read_only_queries_and_refuses_writes(published, use_store):
    use_store(published)
    at = page("sql", sql="SELECT claim_id FROM v_claim_summary ORDER BY 1")
    df = at.dataframe[0].value
    assert df["claim_id"].tolist() == [c for (c,) in sql(published, "SELECT claim_id FROM claims ORDER BY 1")]
    assert at.get("download_button")[0].label == "Download CSV"
    views = {m.value.split("`")[1] for m in at.markdown if m.value.startswith("**`")}
    assert {"v_claim_summary", "v_claim_evidence", "v_articles"} <= views

    before = sql(published, "SELECT count(*) FROM articles")
    at.text_area(key="sql_text").input("DELETE FROM articles")
    at.button(key="sql_run").click().run()
    assert at.error and "refused" in at.error[0].value.lower()
    assert sql(published, "SELECT count(*) FROM articles") == before


def test_sql_page_applies_the_row_and_time_limits(published, use_store):
    use_store(published)
    at = page("sql", sql="SELECT pmid FROM articles", limit="3")
    assert len(at.dataframe[0].value) == 3
    assert any("stopped at the limit of 3" in c.value for c in at.main.caption)

    at = page("sql", sql="SELECT sum(i * i % 7) FROM range(100000000000) t(i)", timeout="1")
    assert at.error and "time limit" in at.error[0].value


# --------------------------------------------------------------------------- pipeline status

def test_status_shows_freshness_runs_queries_and_quarantine(published, use_store):
    use_store(published)
    at = page("status")
    as_of, = sql(published, "SELECT value FROM store_meta WHERE key = 'data_as_of'")[0]
    assert at.markdown[0].value == f"### Offline snapshot of {as_of}"
    n_links, = sql(published, "SELECT count(*) FROM v_claim_evidence")[0]
    assert any(f"{n_links:,} claim–record links, current" in c.value for c in at.caption)
    runs = at.dataframe[0].value
    assert runs["kind"].tolist() == ["refresh", "snapshot"]
    assert runs["status"].tolist() == ["ok", "ok"]
    assert runs["records_quarantined"].tolist()[0] == 1
    per_query = at.dataframe[1].value
    assert dict(zip(per_query["query_id"], per_query["records"])) == dict(sql(
        published, "SELECT query_id, count(pmid) FROM queries LEFT JOIN query_articles USING (query_id) "
                   "GROUP BY 1"))
    quarantined = at.dataframe[2].value
    assert quarantined[["stage", "raw_sha256"]].values.tolist() == [["parse", "test:truncated-response"]]
    assert "1 at the parse stage" in [m.value for m in at.markdown]


# --------------------------------------------------------------------------- store states

@pytest.mark.parametrize("name", ["overview", "claim", "explorer", "sql", "status"])
@pytest.mark.parametrize("state", ["unpublished", "empty"])
def test_without_data_every_page_explains_how_to_fill_the_store(name, state, tmp_path, use_store):
    cfg = use_store(build_empty(tmp_path) if state == "empty" else config_for(tmp_path))
    at = page(name)
    assert any(HOW_TO_FILL in i.value and str(cfg.snapshot) in i.value for i in at.info)


def test_a_new_publish_shows_up_without_a_restart(published, tmp_path, use_store):
    cfg = use_store(build_empty(tmp_path))
    at = page("overview")
    assert HOW_TO_FILL in at.info[0].value
    staged = cfg.snapshot.with_suffix(".incoming")
    shutil.copyfile(published.snapshot, staged)
    os.replace(staged, cfg.snapshot)  # what publish_snapshot does
    at.run()
    assert not at.info
    assert len(claim_links(at)) == sql(published, "SELECT count(*) FROM claims")[0][0]


def test_a_store_from_an_older_pipeline_says_how_to_update_it(published, tmp_path, use_store):
    import duckdb

    from pipeline.commands import cmd_retag
    cfg = config_for(tmp_path)
    cfg.snapshot.parent.mkdir(parents=True)
    newest = None
    for source, target in ((published.store, cfg.store), (published.snapshot, cfg.snapshot)):
        shutil.copyfile(source, target)
        con = duckdb.connect(str(target))
        newest, = con.execute("SELECT max(name) FROM schema_migrations").fetchone()
        con.execute("DELETE FROM schema_migrations WHERE name = ?", [newest])
        con.close()
    use_store(cfg)
    for name in ("overview", "claim", "explorer", "sql", "status"):
        at = page(name)
        assert "python -m pipeline retag" in at.warning[0].value, name
        assert newest.rsplit("/", 1)[-1] in at.warning[0].value
    with contextlib.redirect_stderr(io.StringIO()):
        assert cmd_retag(cfg, None) == 0  # migrates the store and publishes it again
    at = page("overview")
    assert not at.warning or "older version" not in at.warning[0].value
    assert len(claim_links(at)) == sql(published, "SELECT count(*) FROM claims")[0][0]


HOLD_STORE = """
import sys, time
from pipeline import store
con = store.open_store(sys.argv[1])
con.execute("BEGIN")
con.execute("DELETE FROM articles")
print("holding", flush=True)
time.sleep(120)
"""


def test_pages_keep_answering_while_a_run_holds_the_store(published, tmp_path, use_store):
    cfg = config_for(tmp_path)
    shutil.copytree(published.data_dir, cfg.data_dir)
    use_store(cfg)
    writer = subprocess.Popen([sys.executable, "-c", HOLD_STORE, str(cfg.store)], cwd=REPO,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        if writer.stdout.readline().strip() != "holding":
            pytest.fail(f"the writer did not start: {writer.stderr.read()}")
        at = page("overview")
        assert len(claim_links(at)) == sql(cfg, "SELECT count(*) FROM claims")[0][0]
        claim_id = biggest_claim(cfg)
        assert table_pmids(page("claim", claim=claim_id)) == studies_of(cfg, claim_id)
    finally:
        writer.kill()
        writer.wait()
