"""What the dashboard reads: one function per question a page asks.

Each public function opens the published reader snapshot read-only, runs its few
parameterised queries on that one connection and closes it: no connection outlives a page run,
and a refresh can swap the file at any time. User input reaches DuckDB only as bound
parameters; the SQL text assembled here (filter clauses) is made of fixed strings.

Nothing here imports Streamlit: ``bench/bench_dashboard.py`` times these same functions.
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from pipeline import readonly, store

# Directions a study can take on a claim, in the order charts stack them.
DIRECTIONS = ("supports", "mixed", "no_effect", "contradicts", "unclear", "untagged")
POPULATIONS = ("human", "mixed", "animal", "in_vitro", "unknown")
STUDY_ROWS = 500
SEARCH_ROWS = 200
PUBMED = "'https://pubmed.ncbi.nlm.nih.gov/' || {pmid} || '/'"
_DESIGNS = "SELECT design, design_label FROM v_design_levels ORDER BY cebm_level NULLS LAST, design"


def version(path: Path) -> tuple | None:
    """What changes whenever a refresh publishes: the snapshot is replaced by a rename, so its
    inode, size and mtime identify one published store. None when nothing is published."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


@contextmanager
def _reader(path: Path):
    con = readonly.connect(path)
    try:
        yield lambda sql, params=None: con.execute(sql, params or []).df()
    finally:
        con.close()


# --- the store itself -----------------------------------------------------------------------

def store_state(path: Path) -> dict:
    """What every page needs first: whether there is anything to show, the facts the sidebar
    prints, and the lists the filters offer (claims, designs, conditions, the years covered)."""
    unusable = {"published": False, "articles": 0, "claims": 0, "meta": {}, "published_at": None}
    stamp = version(path)
    if stamp is None:
        return unusable
    with _reader(path) as q:
        # The pages query the schema this code migrates to; an older snapshot would fail on
        # the first column it lacks, so it is reported as unusable instead.
        pending = store.pending_migrations(set(q("SELECT name FROM schema_migrations").name))
        if pending:
            return {**unusable, "outdated": [name.rsplit("/", 1)[-1] for name in pending]}
        counts = q("SELECT count(*) AS articles, min(pub_year) AS lo, max(pub_year) AS hi "
                   "FROM articles")
        meta = q("SELECT key, value FROM store_meta")
        claims = q("SELECT claim_id, statement FROM claims ORDER BY claim_id")
        designs = q(_DESIGNS)
        # one name per condition, the one v_article_conditions labels its matches with
        conditions = q("SELECT min(condition) AS condition FROM v_claim_conditions "
                       "GROUP BY condition_key ORDER BY 1")
    lo, hi = counts.lo[0], counts.hi[0]
    return {"published": True, "articles": int(counts.articles[0]), "claims": len(claims),
            "meta": dict(zip(meta.key, meta.value)),
            "published_at": datetime.fromtimestamp(stamp[2] / 1e9, tz=timezone.utc),
            "years": (None if pd.isna(lo) else int(lo), None if pd.isna(hi) else int(hi)),
            "claim_list": claims, "designs": designs, "conditions": conditions.condition.tolist()}


# --- claims overview ------------------------------------------------------------------------

def summaries(path: Path) -> pd.DataFrame:
    """One row per claim: its registry entry and the verdict of ``v_claim_summary``, with a
    certainty score to sort on. Read once per published store and shared by every page: the
    summary covers all claims in one pass whether one claim or all are wanted."""
    with _reader(path) as q:
        return q("""
            SELECT s.*, c.conditions, c.population, c.outcome, c.supporting_direction, c.query,
                   coalesce(g.score, 0) AS certainty_score
            FROM v_claim_summary s
            JOIN v_claims c USING (claim_id)
            LEFT JOIN v_certainty_levels g ON g.certainty = s.certainty
            ORDER BY s.claim_id""")


def overview_bars(path: Path) -> pd.DataFrame:
    """Human studies per claim by design and direction (supporting, no effect, contradicting):
    the segments of the overview's compact bars, best design first."""
    with _reader(path) as q:
        return q("""
            SELECT d.claim_id, d.design,
                   coalesce(l.design_label, d.design, 'untagged') AS design_label,
                   d.direction, sum(d.n_records)::BIGINT AS n
            FROM v_claim_design_direction d
            LEFT JOIN v_design_levels l USING (design)
            WHERE d.evidence_class = 'human'
              AND d.direction IN ('supports', 'no_effect', 'contradicts')
            GROUP BY ALL
            ORDER BY d.claim_id, min(d.cebm_level) NULLS LAST, design_label""")


# --- one claim ------------------------------------------------------------------------------

@dataclass(frozen=True)
class StudyFilter:
    """The claim-detail filters. Empty tuples and None mean "any"."""
    designs: tuple[str, ...] = ()
    populations: tuple[str, ...] = ()
    directions: tuple[str, ...] = ()
    year_from: int | None = None
    year_to: int | None = None

    def where(self) -> tuple[str, list]:
        clauses, params = ["claim_id = ?"], []
        for column, values in (("coalesce(design, 'untagged')", self.designs),
                               ("coalesce(population, 'unknown')", self.populations),
                               ("direction", self.directions)):
            if values:
                clauses.append(f"{column} IN (SELECT unnest(?::VARCHAR[]))")
                params.append(list(values))
        for op, year in ((">=", self.year_from), ("<=", self.year_to)):
            if year is not None:
                clauses.append(f"pub_year {op} ?")
                params.append(int(year))
        return " AND ".join(clauses), params


# A claim's links are read from ``evidence_links``, the stored table behind v_claim_evidence
# (v_claim_evidence adds each record's citation from ``articles``), as sql/queries/claim_detail
# does: filtering and counting there, and joining titles only to the rows shown, answers in
# tens of milliseconds on a claim with 200,000 links where the view takes a few times longer.

def _studies_sql(where: str, limit: int | None) -> str:
    def order(t: str) -> str:
        return f"{t}is_retracted, coalesce({t}cebm_level, 9), {t}pub_year DESC NULLS LAST, {t}pmid"
    return f"""
        WITH picked AS (
            SELECT pmid, pub_year, design, design_source, design_confidence, population, sample_size,
                   direction, direction_confidence, evidence_sentence, is_retracted, is_indirect, cebm_level
            FROM evidence_links WHERE {where}
            ORDER BY {order('')} {'' if limit is None else f'LIMIT {int(limit)}'}
        )
        SELECT p.pmid, a.title, p.pub_year AS year, a.journal,
               coalesce(l.design_label, p.design, 'untagged') AS design, p.design_source,
               p.design_confidence, coalesce(p.population, 'unknown') AS population, p.sample_size AS n,
               p.direction, p.direction_confidence, p.evidence_sentence, p.is_retracted, p.is_indirect,
               {PUBMED.format(pmid='p.pmid')} AS pubmed_url
        FROM picked p JOIN articles a USING (pmid)
        LEFT JOIN v_design_levels l ON l.design = p.design
        ORDER BY {order('p.')}"""


def claim_evidence(path: Path, claim_id: str, flt: StudyFilter = StudyFilter(),
                   limit: int = STUDY_ROWS) -> dict[str, pd.DataFrame]:
    """One claim's filtered records counted by design x direction x year (``cells``, what both
    charts draw) and the first ``limit`` of them (``studies``: best design, then newest)."""
    where, params = flt.where()
    with _reader(path) as q:
        return {
            "cells": q(f"""
                SELECT coalesce(e.design, 'untagged') AS design,
                       coalesce(l.design_label, e.design, 'untagged') AS design_label,
                       coalesce(l.cebm_level, 9) AS design_rank, e.direction, e.pub_year,
                       count(*)::BIGINT AS n
                FROM (SELECT design, direction, pub_year FROM evidence_links WHERE {where}) e
                LEFT JOIN v_design_levels l USING (design)
                GROUP BY ALL ORDER BY design_rank, design_label, e.direction, e.pub_year""",
                       [claim_id, *params]),
            "studies": q(_studies_sql(where, limit), [claim_id, *params]),
        }


def claim_studies(path: Path, claim_id: str, flt: StudyFilter = StudyFilter()) -> pd.DataFrame:
    """Every study of the filtered list, for the exports."""
    where, params = flt.where()
    with _reader(path) as q:
        return q(_studies_sql(where, None), [claim_id, *params])


def reference_details(path: Path, pmids: list[int]) -> pd.DataFrame:
    """What a reference manager wants beyond the study list: authors ("Last, Fore" or the
    collective name, in order), ISO journal, DOI, abstract, keywords."""
    with _reader(path) as q:
        return q("""
            SELECT a.pmid, a.journal_iso, a.doi, a.abstract, a.keywords,
                   coalesce(list(coalesce(nullif(u.collective_name, ''),
                                          u.last_name || coalesce(', ' || u.fore_name, ''))
                                 ORDER BY u.position) FILTER (WHERE u.pmid IS NOT NULL),
                            []::VARCHAR[]) AS authors
            FROM articles a LEFT JOIN authors u USING (pmid)
            WHERE a.pmid IN (SELECT unnest(?::BIGINT[]))
            GROUP BY ALL""", [[int(p) for p in pmids]])


# --- explorer -------------------------------------------------------------------------------

def search_terms(text: str) -> list[str]:
    """Lower-cased words and "quoted phrases" of a search box entry."""
    terms, rest = [], text
    while '"' in rest:
        before, _, after = rest.partition('"')
        phrase, closed, rest = after.partition('"')
        terms += before.split()
        if not closed:  # an unbalanced quote is an ordinary character
            terms += phrase.split()
            rest = ""
        elif phrase.strip():
            terms.append(" ".join(phrase.split()))
    terms += rest.split()
    return [t.lower() for t in terms if t.strip()]


@dataclass(frozen=True)
class Search:
    """An Explorer query. Without DuckDB's FTS extension (not in the wheel, and nothing may be
    downloaded), a term matches as a case-insensitive substring of the title or abstract and
    every term must match; a title hit ranks as three abstract hits.

    A record's conditions are the most specific registry conditions the evidence rules found
    for it (``conditions_found`` of its stored evidence links), so records no claim links have
    none: the stored links answer in milliseconds where matching every title takes seconds."""
    text: str = ""
    conditions: tuple[str, ...] = ()
    designs: tuple[str, ...] = ()
    year_from: int | None = None
    year_to: int | None = None
    terms: tuple[str, ...] = field(init=False, default=())

    def __post_init__(self):
        object.__setattr__(self, "terms", tuple(search_terms(self.text)))

    def where(self) -> tuple[str, list]:
        clauses, params = ["TRUE"], []
        for term in self.terms:
            clauses.append("(contains(lower(coalesce(a.title, '')), ?) "
                           "OR contains(lower(coalesce(a.abstract, '')), ?))")
            params += [term, term]
        if self.designs:
            clauses.append("coalesce(a.design, 'untagged') IN (SELECT unnest(?::VARCHAR[]))")
            params.append(list(self.designs))
        if self.conditions:
            clauses.append("a.pmid IN (SELECT pmid FROM evidence_links "
                           "WHERE list_has_any(conditions_found, ?::VARCHAR[]))")
            params.append(list(self.conditions))
        for op, year in ((">=", self.year_from), ("<=", self.year_to)):
            if year is not None:
                clauses.append(f"a.pub_year {op} ?")
                params.append(int(year))
        return " AND ".join(clauses), params

    def rank(self) -> tuple[str, list]:
        if not self.terms:
            return "0", []
        one = ("(3 * contains(lower(coalesce(a.title, '')), ?)::INT "
               "+ contains(lower(coalesce(a.abstract, '')), ?)::INT)")
        return " + ".join([one] * len(self.terms)), [t for term in self.terms for t in (term, term)]


def search(path: Path, query: Search, limit: int = SEARCH_ROWS) -> dict[str, pd.DataFrame]:
    """The best ``limit`` matches, their total, and their counts per condition, design, year."""
    where, params = query.where()
    rank, rank_params = query.rank()
    with _reader(path) as q:
        q(f"""CREATE TEMP TABLE hits AS
              SELECT a.pmid, a.title, a.pub_year, a.journal, a.design, a.population,
                     a.is_retracted, {rank} AS score
              FROM v_articles a WHERE {where}""", [*rank_params, *params])
        return {
            "results": q(f"""
                SELECT h.pmid, h.title, h.pub_year AS year, h.journal,
                       coalesce(l.design_label, h.design, 'untagged') AS design,
                       coalesce(h.population, 'unknown') AS population, h.is_retracted,
                       {PUBMED.format(pmid='h.pmid')} AS pubmed_url
                FROM hits h LEFT JOIN v_design_levels l USING (design)
                ORDER BY h.score DESC, h.pub_year DESC NULLS LAST, h.pmid
                LIMIT {int(limit)}"""),
            "total": q("SELECT count(*) AS n FROM hits"),
            "condition": q("""
                SELECT condition, count(DISTINCT pmid)::BIGINT AS n
                FROM (SELECT pmid, unnest(conditions_found) AS condition FROM evidence_links
                      WHERE pmid IN (SELECT pmid FROM hits))
                GROUP BY 1 ORDER BY n DESC, 1"""),
            "design": q("""
                SELECT coalesce(l.design_label, h.design, 'untagged') AS design, count(*)::BIGINT AS n
                FROM hits h LEFT JOIN v_design_levels l USING (design)
                GROUP BY 1 ORDER BY n DESC, 1"""),
            "year": q("""SELECT pub_year AS year, count(*)::BIGINT AS n FROM hits
                         WHERE pub_year IS NOT NULL GROUP BY 1 ORDER BY 1"""),
        }


# --- pipeline status ------------------------------------------------------------------------

def status(path: Path, runs: int = 20, quarantined: int = 200) -> dict[str, pd.DataFrame]:
    with _reader(path) as q:
        return {
            "runs": q("""
                SELECT run_id, kind, status, started_at, ended_at, records_fetched,
                       records_loaded, records_deleted, records_quarantined, requests_made, error
                FROM pipeline_runs ORDER BY started_at DESC LIMIT ?""", [int(runs)]),
            "per_query": q("""
                SELECT coalesce(q.query_id, m.query_id) AS query_id,
                       count(m.pmid)::BIGINT AS records,
                       bool_or(c.claim_id IS NOT NULL) AS is_claim
                FROM queries q FULL JOIN query_articles m USING (query_id)
                LEFT JOIN claims c ON c.claim_id = coalesce(q.query_id, m.query_id)
                GROUP BY 1 ORDER BY records DESC, query_id"""),
            "quarantine_counts": q("SELECT stage, count(*)::BIGINT AS records FROM quarantine "
                                   "GROUP BY 1 ORDER BY 1"),
            "quarantine": q("SELECT stage, pmid, reason, raw_sha256 FROM quarantine "
                            "ORDER BY stage, pmid NULLS LAST LIMIT ?", [int(quarantined)]),
            "evidence": q("SELECT refreshed_at, n_links, is_current FROM v_evidence_status"),
        }
