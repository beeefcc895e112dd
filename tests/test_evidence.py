"""Each evidence rule (docs/evidence-levels.md) pinned with a small hand-built store.

The records are built by hand on purpose: every count and threshold in the summary is
asserted against an example small enough to check by reading it.
"""
from __future__ import annotations

import shutil

import pytest

from fixtures.old_store import store_before
from pipeline import evidence, store

TAGGER = "t1"
DEPRESSION = [("depression", "Depression", "D003863"),
              ("depressive disorder", "Depressive Disorder", "D003866")]
TRD = [("treatment-resistant depression", "Depressive Disorder, Treatment-Resistant", "D061218")]
PTSD = [("post-traumatic stress disorder", "Stress Disorders, Post-Traumatic", "D013313")]


@pytest.fixture(scope="module")
def migrated(tmp_path_factory):
    """One migrated empty store; each test works on its own copy (migrating costs more)."""
    path = tmp_path_factory.mktemp("template") / "store.duckdb"
    con = store.open_store(path)
    store.set_meta(con, tagger_version=TAGGER)
    con.close()
    return path


@pytest.fixture
def fresh_db(migrated, tmp_path):
    path = tmp_path / "store.duckdb"
    shutil.copyfile(migrated, path)
    con = store.connect(path)
    yield con
    con.close()


class Store:
    """Writes hand-built claims, records, tags and links, then reads the views."""

    def __init__(self, con):
        self.con = con
        self.next_pmid = 1

    def claim(self, claim_id: str, conditions=()):
        self.con.execute("INSERT INTO claims VALUES (?, ?, 'efficacy', NULL, NULL, 'decrease', "
                         "'ketamine', '[]')", [claim_id, f"statement of {claim_id}"])
        for cond in conditions:
            self.con.execute("INSERT INTO claim_conditions (claim_id, name, mesh, mesh_ui) "
                             "VALUES (?, ?, ?, ?)", [claim_id, *cond])

    def record(self, claims: dict[str, str | None], design="rct", population="human",
               sample_size=None, *, year=2020, title="A study of ketamine", retracted=False,
               mesh=(), tagger=TAGGER, design_source="text") -> int:
        """One record linked to each claim in ``claims`` (claim id → direction, or None for
        a link the direction tagger has not reached)."""
        pmid = self.next_pmid
        self.next_pmid += 1
        self.con.execute("INSERT INTO articles (pmid, title, pub_year, is_retracted) "
                         "VALUES (?, ?, ?, ?)", [pmid, title, year, retracted])
        self.con.execute("INSERT INTO tags (pmid, tagger_version, design, design_source, population, "
                         "sample_size) VALUES (?, ?, ?, ?, ?, ?)",
                         [pmid, tagger, design, design_source, population, sample_size])
        for pos, (ui, name) in enumerate(mesh, 1):
            self.con.execute("INSERT INTO mesh_headings (pmid, position, descriptor_ui, descriptor, "
                             "major) VALUES (?, ?, ?, ?, TRUE)", [pmid, pos, ui, name])
        for claim_id, direction in claims.items():
            self.con.execute("INSERT INTO query_articles VALUES (?, ?)", [claim_id, pmid])
            if direction:
                self.con.execute("INSERT INTO claim_directions (pmid, claim_id, tagger_version, "
                                 "direction) VALUES (?, ?, ?, ?)", [pmid, claim_id, tagger, direction])
        return pmid

    def many(self, n: int, claims, design="rct", population="human", sample_size=None, **kw):
        return [self.record(claims, design, population, sample_size, **kw) for _ in range(n)]

    def summary(self, claim_id: str) -> dict:
        evidence.refresh(self.con)
        rel = self.con.sql("SELECT * FROM v_claim_summary WHERE claim_id = ?", params=[claim_id])
        rows = rel.fetchall()
        assert len(rows) == 1, rows
        return dict(zip(rel.columns, rows[0]))

    def rows(self, sql: str, params=None) -> list[tuple]:
        return self.con.execute(sql, params or []).fetchall()


@pytest.fixture
def db(fresh_db):
    return Store(fresh_db)


# ------------------------------------------------------------------ which records count

def test_claim_without_records_still_has_a_row_saying_so(db):
    db.claim("c.empty")
    s = db.summary("c.empty")
    assert s["stance"] == "no human studies"
    assert s["verdict"] == "no human studies found in the store"
    assert s["n_records"] == 0 and s["certainty"] is None and s["rated_down_for"] == []
    assert s["certainty_note"] is None


def test_only_claim_queries_link_records(db):
    db.claim("c.a")
    db.record({"c.a": "supports"}, sample_size=50)
    db.record({"ketamine.all": None}, sample_size=50)  # a broad ingestion query, not a claim
    assert db.summary("c.a")["n_records"] == 1
    assert db.rows("SELECT count(*) FROM v_claim_evidence") == [(1,)]


def test_only_tags_of_the_tagger_version_in_force_count(db):
    db.claim("c.a")
    db.record({"c.a": "supports"}, tagger="t0")  # an older tagger's tags and direction
    s = db.summary("c.a")
    assert (s["n_records"], s["n_human"], s["n_unclassified"]) == (1, 0, 1)
    assert db.rows("SELECT direction FROM v_claim_evidence") == [("untagged",)]


def test_retracted_records_are_counted_apart_and_named_in_the_verdict(db):
    db.claim("c.a")
    db.many(2, {"c.a": "supports"}, sample_size=300)
    db.record({"c.a": "supports"}, sample_size=5000, retracted=True)
    s = db.summary("c.a")
    assert (s["n_records"], s["n_retracted"], s["n_human_supports"]) == (2, 1, 2)
    assert s["participants_supporting"] == 600
    assert s["verdict"] == ("supported by 2 RCTs (600 participants); certainty high; "
                            "1 retracted record excluded")


def test_preclinical_records_never_reach_the_clinical_verdict(db):
    db.claim("c.a")
    db.many(2, {"c.a": "supports"}, design="lab_experiment", population="animal", sample_size=20)
    db.record({"c.a": "supports"}, design="rct", population="animal", sample_size=40)
    db.record({"c.a": "supports"}, design="lab_experiment", population="in_vitro")
    db.record({"c.a": "supports"}, design="rct", population="unknown")
    s = db.summary("c.a")
    assert (s["n_human"], s["n_animal"], s["n_in_vitro"], s["n_unclassified"]) == (0, 3, 1, 1)
    assert s["stance"] == "no human studies" and s["participants_supporting"] == 0
    assert s["best_supporting_level"] == 5  # an animal RCT is mechanism-based evidence
    assert s["verdict"] == ("no human studies found in the store "
                            "(other records: 3 animal, 1 in-vitro, 1 not classified)")


def test_mixed_population_counts_as_human(db):
    db.claim("c.a")
    db.record({"c.a": "supports"}, design="meta_analysis", population="mixed", sample_size=900)
    s = db.summary("c.a")
    assert s["n_human"] == 1 and s["certainty_start"] == "high"


# ------------------------------------------------------------------ counts and participants

def test_design_by_direction_counts(db):
    db.claim("c.a")
    db.many(3, {"c.a": "supports"}, sample_size=10)
    db.record({"c.a": "no_effect"}, sample_size=20)
    db.record({"c.a": None})
    db.many(2, {"c.a": "contradicts"}, design="cohort", sample_size=100)
    s = db.summary("c.a")
    assert (s["n_human_supports"], s["n_human_contradicts"], s["n_human_no_effect"],
            s["n_human_unclear"]) == (3, 2, 1, 1)
    cells = {(d, dr): (n, p) for d, dr, n, p in db.rows(
        "SELECT design, direction, n_records, participants FROM v_claim_design_direction "
        "WHERE claim_id = 'c.a' AND evidence_class = 'human'")}
    assert cells == {("rct", "supports"): (3, 30), ("rct", "no_effect"): (1, 20),
                     ("rct", "untagged"): (1, 0), ("cohort", "contradicts"): (2, 200)}


def test_participants_add_up_primary_studies_only(db):
    db.claim("c.a")
    db.many(2, {"c.a": "supports"}, sample_size=150)
    db.record({"c.a": "supports"}, design="meta_analysis", sample_size=2000)  # pools trials
    db.record({"c.a": "supports"}, design="protocol", sample_size=500)        # not enrolled
    db.record({"c.a": "supports"}, design="case_report", sample_size=1)
    db.record({"c.a": "no_effect"}, design="cohort", sample_size=80)
    db.record({"c.a": "contradicts"}, sample_size=None)                        # not reported
    s = db.summary("c.a")
    assert s["participants_supporting"] == 301
    assert s["participants_not_supporting"] == 80


# ------------------------------------------------------------------ CEBM level

@pytest.mark.parametrize("design,population,level", [
    ("meta_analysis", "human", 1), ("systematic_review", "human", 1), ("rct", "human", 2),
    ("cohort", "human", 3), ("non_randomized_trial", "human", 3), ("single_arm_trial", "human", 4),
    ("case_control", "human", 4), ("case_report", "human", 4), ("lab_experiment", "human", 5),
    ("rct", "animal", 5), ("lab_experiment", "in_vitro", 5), ("narrative_review", "human", None)])
def test_best_supporting_level_follows_the_cebm_ladder(db, design, population, level):
    db.claim("c.a")
    db.record({"c.a": "supports"}, design=design, population=population)
    db.record({"c.a": "contradicts"}, design="meta_analysis")  # not supporting: never counts
    assert db.summary("c.a")["best_supporting_level"] == level


# ------------------------------------------------------------------ GRADE-style certainty

@pytest.mark.parametrize("design,start", [
    ("rct", "high"), ("meta_analysis", "high"), ("cohort", "low"),
    ("non_randomized_trial", "low"), ("case_series", "very low"), ("cross_sectional", "very low")])
def test_certainty_starts_from_the_best_design_with_a_direction(db, design, start):
    db.claim("c.a")
    db.many(3, {"c.a": "supports"}, design=design, sample_size=500)
    db.record({"c.a": "supports"}, design="case_report", sample_size=1)
    db.record({"c.a": "unclear"}, design="meta_analysis")  # no direction: not in the body
    s = db.summary("c.a")
    assert s["certainty_start"] == start
    assert s["certainty"] == start and s["rated_down_for"] == []
    assert s["certainty_note"] == "automated estimate, not a formal GRADE assessment"


def test_inconsistency_when_the_smaller_side_is_a_quarter(db):
    db.claim("c.split")
    db.many(3, {"c.split": "supports"}, sample_size=200)
    db.record({"c.split": "no_effect"}, sample_size=200)
    db.claim("c.outlier")
    db.many(4, {"c.outlier": "supports"}, sample_size=200)
    db.record({"c.outlier": "contradicts"}, sample_size=200)
    split, outlier = db.summary("c.split"), db.summary("c.outlier")
    assert (split["body_for"], split["body_against"]) == (3, 1)
    assert split["rated_down_for"] == ["inconsistency"] and split["certainty"] == "moderate"
    assert outlier["rated_down_for"] == [] and outlier["certainty"] == "high"


def test_imprecision_below_400_participants(db):
    db.claim("c.small")
    db.many(2, {"c.small": "supports"}, sample_size=199)
    db.claim("c.enough")
    db.many(2, {"c.enough": "supports"}, sample_size=200)
    db.claim("c.pooled")  # a meta-analysis's pooled sample stands for the trials it pools
    db.record({"c.pooled": "supports"}, design="meta_analysis", sample_size=450)
    db.record({"c.pooled": "supports"}, sample_size=60)
    assert db.summary("c.small")["rated_down_for"] == ["imprecision"]
    assert db.summary("c.enough")["rated_down_for"] == []
    pooled = db.summary("c.pooled")
    assert pooled["body_participants"] == 450 and pooled["rated_down_for"] == []


def test_reasons_stack_and_certainty_stops_at_very_low(db):
    db.claim("c.a", DEPRESSION)
    db.claim("c.trd", TRD)
    trd = dict(title="Ketamine in treatment-resistant depression",
               mesh=[("D061218", "Depressive Disorder, Treatment-Resistant")])
    db.many(2, {"c.a": "supports"}, sample_size=50, **trd)
    db.many(2, {"c.a": "no_effect"}, sample_size=50, **trd)
    db.many(2, {"c.a": "supports"}, design="cohort", sample_size=50)
    s = db.summary("c.a")
    assert s["rated_down_for"] == ["inconsistency", "imprecision", "indirectness"]
    assert (s["certainty_start"], s["certainty"]) == ("high", "very low")
    assert s["stance"] == "conflicting"
    assert s["verdict"] == ("conflicting: 2 RCTs (100 participants) for, 2 RCTs "
                            "(100 participants) against; certainty very low: inconsistency, "
                            "imprecision, indirectness")


# ------------------------------------------------------------------ indirectness

def test_trd_trials_are_indirect_for_the_general_depression_claim(db):
    db.claim("c.depression", DEPRESSION)
    db.claim("c.trd", TRD)
    both = {"c.depression": "supports", "c.trd": "supports"}
    by_title = db.record(both, title="Ketamine for treatment-resistant depression: an RCT")
    by_mesh = db.record(both, title="Ketamine infusions", mesh=[("D061218",
                                                                 "Depressive Disorder, Treatment-Resistant"),
                                                                ("D003863", "Depression")])
    general = db.record(both, title="Ketamine for depression", mesh=[("D003863", "Depression")])
    silent = db.record(both, title="Ketamine infusions")  # about no registry condition
    evidence.refresh(db.con)
    found = {(c, p): (ind, conds) for c, p, ind, conds in db.rows(
        "SELECT claim_id, pmid, is_indirect, conditions_found FROM v_claim_evidence")}
    assert found[("c.depression", by_title)] == (True, ["treatment-resistant depression"])
    assert found[("c.depression", by_mesh)] == (True, ["treatment-resistant depression"])
    assert found[("c.depression", general)] == (False, ["depression"])
    assert found[("c.depression", silent)] == (False, [])
    assert found[("c.trd", by_title)][0] is False and found[("c.trd", by_mesh)][0] is False
    assert found[("c.trd", general)] == (True, ["depression"])


def test_a_registry_synonym_finds_the_condition_in_a_title(db):
    db.claim("c.depression", DEPRESSION)
    db.claim("c.trd", TRD)
    db.con.execute("UPDATE claim_conditions SET synonyms = ['refractory depression'] "
                   "WHERE claim_id = 'c.trd'")
    pmid = db.record({"c.depression": "supports", "c.trd": "supports"},
                     title="Ketamine in refractory depression")
    evidence.refresh(db.con)
    found = dict((c, (ind, conds)) for c, ind, conds in db.rows(
        "SELECT claim_id, is_indirect, conditions_found FROM v_claim_evidence WHERE pmid = ?", [pmid]))
    assert found["c.trd"][0] is False
    assert found["c.depression"] == (True, ["treatment-resistant depression"])


def test_another_condition_is_indirect_and_a_claim_without_conditions_never_is(db):
    db.claim("c.depression", DEPRESSION)
    db.claim("c.ptsd", PTSD)
    db.claim("c.anaesthesia")
    pmid = db.record({"c.depression": "supports", "c.anaesthesia": "supports"},
                     title="Ketamine for chronic post-traumatic stress disorder")
    evidence.refresh(db.con)
    assert dict(db.rows("SELECT claim_id, is_indirect FROM v_claim_evidence WHERE pmid = ?",
                        [pmid])) == {"c.depression": True, "c.anaesthesia": False}


def test_a_condition_without_a_mesh_ui_is_found_by_its_heading(db):
    db.claim("c.cystitis", [("ketamine cystitis", "Cystitis", None)])
    db.claim("c.trd", TRD)
    by_heading = db.record({"c.cystitis": "supports"}, mesh=[("D003556", "Cystitis")])
    by_ui = db.record({"c.trd": "supports"}, mesh=[("D061218", "renamed heading")])
    by_title = db.record({"c.cystitis": "supports"}, title="Ulcerative ketamine cystitis")
    assert set(db.rows("SELECT pmid, condition_key, in_mesh, in_title FROM v_article_conditions")) == {
        (by_heading, "ketamine cystitis", True, False), (by_ui, "D061218", True, False),
        (by_title, "ketamine cystitis", False, True)}


def test_indirectness_rates_down_when_most_of_the_body_is_indirect(db):
    db.claim("c.depression", DEPRESSION)
    db.claim("c.trd", TRD)
    trd = dict(title="Ketamine in treatment-resistant depression", sample_size=300)
    db.many(2, {"c.depression": "supports"}, **trd)
    db.record({"c.depression": "supports"}, title="Ketamine in depression", sample_size=300)
    s = db.summary("c.depression")
    assert (s["body_n"], s["body_indirect"]) == (3, 2)
    assert s["rated_down_for"] == ["indirectness"] and s["certainty"] == "moderate"
    db.many(2, {"c.depression": "supports"}, title="Ketamine in depression", sample_size=300)
    assert db.summary("c.depression")["rated_down_for"] == []


# ------------------------------------------------------------------ verdict and trend

def test_verdict_a_writer_can_quote(db):
    db.claim("c.a")
    db.many(2, {"c.a": "supports"}, design="meta_analysis", sample_size=2000)
    db.many(14, {"c.a": "supports"}, sample_size=60)
    db.record({"c.a": "supports"}, sample_size=180)
    db.many(6, {"c.a": "no_effect"}, sample_size=40)
    db.many(3, {"c.a": "supports"}, design="cohort", sample_size=1000)  # below the body's band
    s = db.summary("c.a")
    assert s["stance"] == "supported"
    assert s["verdict"] == ("supported by 2 meta-analyses and 15 RCTs (1,020 participants); "
                            "against: 6 RCTs (240 participants); certainty moderate: inconsistency")
    assert s["participants_supporting"] == 4020


def test_not_supported_when_the_best_evidence_points_against(db):
    db.claim("c.a")
    db.many(4, {"c.a": "no_effect"}, sample_size=150)
    db.record({"c.a": "supports"}, sample_size=20)
    db.many(6, {"c.a": "supports"}, design="case_series", sample_size=10)
    s = db.summary("c.a")
    assert s["stance"] == "not supported"
    assert s["verdict"] == ("not supported: 4 RCTs (600 participants) found no effect or the "
                            "opposite; for: 1 RCT (20 participants); certainty high")


def test_human_records_without_a_clear_direction(db):
    db.claim("c.a")
    db.record({"c.a": "unclear"}, sample_size=100)
    db.record({"c.a": "supports"}, design="narrative_review")
    s = db.summary("c.a")
    assert s["stance"] == "no clear direction" and s["certainty"] is None
    assert s["verdict"] == "2 human records found, no clinical study with a clear direction on this claim"


def test_trend_by_publication_year(db):
    db.claim("c.a")
    db.record({"c.a": "supports"}, year=2015)
    db.record({"c.a": "no_effect"}, year=2015)
    db.record({"c.a": "supports"}, year=2018, design="lab_experiment", population="animal")
    db.record({"c.a": "supports"}, year=2020)
    db.record({"c.a": "supports"}, year=2020, retracted=True)
    db.record({"c.a": "supports"}, year=None)
    evidence.refresh(db.con)
    assert db.rows("SELECT pub_year, n_records, n_retracted, n_human_supports, n_human_against, "
                   "n_preclinical, cum_human_supports, cum_human_against FROM v_claim_trend "
                   "WHERE claim_id = 'c.a' ORDER BY pub_year") == [
        (2015, 2, 0, 1, 1, 0, 1, 1), (2018, 1, 0, 0, 0, 1, 1, 1), (2020, 1, 1, 1, 0, 0, 2, 1)]


# ------------------------------------------------------------------ the stored evidence

def test_stored_evidence_matches_the_rules_and_knows_when_it_is_stale(db):
    db.claim("c.a", DEPRESSION)
    db.record({"c.a": "supports"}, title="Ketamine in treatment-resistant depression")
    db.record({"c.a": "no_effect"}, design="cohort", sample_size=40)
    assert db.rows("SELECT is_current FROM v_evidence_status") == [(False,)]
    assert evidence.refresh(db.con) == 2
    assert db.rows("SELECT is_current, n_links, tagger_version FROM v_evidence_status") == [
        (True, 2, TAGGER)]
    assert db.rows("SELECT * FROM v_evidence_links_live EXCEPT ALL SELECT * FROM evidence_links") == []
    db.record({"c.a": "supports"})
    assert db.rows("SELECT is_current FROM v_evidence_status") == [(False,)]
    assert db.rows("SELECT count(*) FROM v_claim_evidence") == [(2,)]  # until the next refresh
    evidence.refresh(db.con)
    assert db.rows("SELECT count(*) FROM v_claim_evidence") == [(3,)]


def test_a_published_snapshot_keeps_current_evidence(db, tmp_path):
    from pipeline import readonly
    db.claim("c.a")
    db.record({"c.a": "supports"}, sample_size=500)
    evidence.refresh(db.con)
    snapshot = store.publish_snapshot(db.con, tmp_path / "store.duckdb",
                                      tmp_path / "store.snapshot.duckdb")
    status = readonly.run_sql(snapshot, "SELECT is_current, n_links FROM v_evidence_status")
    assert status.values.tolist() == [[True, 1]]


def test_the_stored_table_has_the_columns_of_the_rules_view(fresh_db):
    def columns(name):
        return fresh_db.execute(f"DESCRIBE {name}").fetchall()
    assert [c[:2] for c in columns("evidence_links")] == [c[:2] for c in columns("v_evidence_links_live")]


def test_each_link_says_where_its_design_came_from(db):
    db.claim("c.a")
    indexed = db.record({"c.a": "supports"}, design_source="indexer")
    read = db.record({"c.a": "supports"}, design_source="text")
    evidence.refresh(db.con)
    assert dict(db.rows("SELECT pmid, design_source FROM v_claim_evidence")) == {indexed: "indexer",
                                                                                 read: "text"}


def test_a_store_refreshed_before_design_source_gets_it_on_the_next_refresh(tmp_path):
    con = store_before(tmp_path / "old.duckdb", "migrations/006")
    con.execute("INSERT INTO evidence_links (claim_id, pmid, evidence_class, direction, is_indirect) "
                "VALUES ('c.a', 1, 'human', 'supports', FALSE)")
    assert "migrations/006_evidence_design_source" in store.migrate(con)
    store.set_meta(con, tagger_version=TAGGER)
    assert con.execute("SELECT design_source FROM evidence_links").fetchall() == [(None,)]
    db = Store(con)
    con.execute("DELETE FROM evidence_links")
    db.claim("c.a")
    db.record({"c.a": "supports"}, design_source="indexer")
    evidence.refresh(con)
    assert con.execute("SELECT design_source FROM v_claim_evidence").fetchall() == [("indexer",)]
    con.close()


# ------------------------------------------------------------------ the benchmark's store

def test_synthetic_bench_store_is_marked_as_such(tmp_path):
    from bench import synthetic
    path = synthetic.build(tmp_path / "synthetic.duckdb", 3000)
    con = store.connect(path, read_only=True)
    try:
        meta = store.get_meta(con)
        assert (meta["synthetic"], meta["tagger_version"]) == ("true", synthetic.TAGGER_VERSION)
        assert con.execute("SELECT count(*), count(*) FILTER (WHERE title LIKE '[SYNTHETIC] %'), "
                           "min(pmid) FROM articles").fetchall() == [(3000, 3000, synthetic.PMID_BASE)]
        assert con.execute("SELECT is_current FROM v_evidence_status").fetchall() == [(True,)]
        (claims, rows), = con.execute("SELECT (SELECT count(*) FROM claims), count(*) "
                                      "FROM v_claim_summary").fetchall()
        assert rows == claims > 0
    finally:
        con.close()
    real = tmp_path / "real.duckdb"
    store.open_store(real).close()
    with pytest.raises(FileExistsError, match="not a synthetic store"):
        synthetic.build(real, 10)
