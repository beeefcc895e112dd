"""Apply the taggers (``pipeline.tag``) to records in the store.

Only what is missing for the tagger version in force is computed: records without a ``tags``
row for that version, and (record, claim) links without a ``claim_directions`` row. So a new
tagger version re-tags everything from the stored text with no re-fetch, and a run killed
mid-way resumes where it stopped.
"""
from __future__ import annotations

from collections import defaultdict

import pyarrow as pa

from . import store
from .tag import TAGGER_VERSION, tag_record

_BATCH = 2000


def _records(con, pmids: list[int]) -> dict[int, dict]:
    """Rebuild the tagger's view of each record (title, abstract, sections, indexing) from SQL."""
    recs = {pmid: {"pmid": pmid, "title": title, "abstract": abstract, "indexing_method": im,
                   "publication_types": [], "mesh": [], "abstract_sections": [], "languages": langs}
            for pmid, title, abstract, im, langs in con.execute(
                "SELECT pmid, title, abstract, indexing_method, languages FROM articles "
                "WHERE pmid IN (SELECT unnest(?::BIGINT[]))", [pmids]).fetchall()}
    for pmid, ui, name in con.execute(
            "SELECT pmid, ui, name FROM publication_types WHERE pmid IN (SELECT unnest(?::BIGINT[]))",
            [pmids]).fetchall():
        recs[pmid]["publication_types"].append({"ui": ui, "name": name})
    for pmid, ui, desc, major in con.execute(
            "SELECT pmid, descriptor_ui, descriptor, major FROM mesh_headings "
            "WHERE pmid IN (SELECT unnest(?::BIGINT[])) ORDER BY pmid, position", [pmids]).fetchall():
        recs[pmid]["mesh"].append({"descriptor_ui": ui, "descriptor": desc, "major": major})
    for pmid, idx, label, cat, text in con.execute(
            "SELECT pmid, idx, label, nlm_category, text FROM v_abstract_sections "
            "WHERE pmid IN (SELECT unnest(?::BIGINT[])) ORDER BY pmid, idx", [pmids]).fetchall():
        recs[pmid]["abstract_sections"].append(
            {"idx": idx, "label": label, "nlm_category": cat, "text": text})
    return recs


def tag_store(con, claims: list, *, version: str = TAGGER_VERSION, progress=None) -> dict:
    by_id = {c.id: c for c in claims}
    untagged = [r[0] for r in con.execute(
        "SELECT pmid FROM articles WHERE pmid NOT IN "
        "(SELECT pmid FROM tags WHERE tagger_version = ?) ORDER BY pmid", [version]).fetchall()]
    links = defaultdict(list)
    for pmid, claim_id in con.execute(
            "SELECT q.pmid, q.query_id FROM query_articles q JOIN articles a USING (pmid) "
            "WHERE NOT EXISTS (SELECT 1 FROM claim_directions d WHERE d.pmid = q.pmid "
            "AND d.claim_id = q.query_id AND d.tagger_version = ?) ORDER BY 1, 2",
            [version]).fetchall():
        if claim_id in by_id:
            links[pmid].append(by_id[claim_id])
    todo = sorted(set(untagged) | set(links))
    untagged = set(untagged)
    n_tags = n_dirs = 0
    for i in range(0, len(todo), _BATCH):
        batch = todo[i:i + _BATCH]
        recs = _records(con, batch)
        tag_rows, dir_rows = [], []
        for pmid in batch:
            out = tag_record(recs[pmid], links.get(pmid) or [])
            if pmid in untagged:
                tag_rows.append({"pmid": pmid, "tagger_version": version, "design": out["design"],
                                 "design_confidence": out.get("design_confidence"),
                                 "design_source": out.get("design_source"),
                                 "population": out["population"],
                                 "population_source": out.get("population_source"),
                                 "sample_size": out.get("sample_size"),
                                 "sample_size_text": out.get("sample_size_text")})
            for d in out.get("directions") or ():
                dir_rows.append({"pmid": pmid, "claim_id": d["claim_id"], "tagger_version": version,
                                 "direction": d["direction"],
                                 "evidence_sentence": d.get("evidence_sentence"),
                                 "confidence": d.get("confidence")})
        _insert(con, "tags", tag_rows)
        _insert(con, "claim_directions", dir_rows)
        n_tags += len(tag_rows)
        n_dirs += len(dir_rows)
        if progress:
            progress(f"  tagged {min(i + _BATCH, len(todo))}/{len(todo)} records")
    store.set_meta(con, tagger_version=version)
    return {"tagged": n_tags, "directions": n_dirs}


def _insert(con, table: str, rows: list[dict]) -> None:
    if rows:
        con.register("incoming_tag_rows", pa.Table.from_pylist(rows))
        con.execute(f"INSERT OR REPLACE INTO {table} BY NAME SELECT * FROM incoming_tag_rows")
        con.unregister("incoming_tag_rows")
