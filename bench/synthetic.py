"""A synthetic store of N records for timing the evidence views. Never product data.

Everything it writes is marked: ``store_meta`` has ``synthetic = 'true'``, every title starts
with ``[SYNTHETIC]``, PMIDs start at 1,000,000,000 (real PMIDs are below 50 million) and the
tagger version is ``synthetic``. It is written to a temporary directory, never under data/.

The shapes are rough figures for the PubMed ketamine literature, not measurements: output
growing about 6.5 % a year since 1966; about a third of records preclinical; trials a
minority of human records; most claim links tagged "supports" or "unclear". What the views
spend their time on matches the real store: the real claims registry and its conditions,
links per record, MeSH headings per record, titles to scan for conditions, sample sizes to
add up, and the broad ``ketamine.all`` query linking everything.

    python -m bench.synthetic --records 1000000 [--path FILE]
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from pipeline import evidence, store
from pipeline.claims import load_registry

GENERATOR_VERSION = "2"
PMID_BASE = 1_000_000_000
TAGGER_VERSION = "synthetic"

# design: (share of records, population mix, sample size as (median, lognormal sigma) or None)
DESIGNS = {
    "meta_analysis":        (0.025, {"human": 0.80, "mixed": 0.15, "unknown": 0.05}, (900, 0.9)),
    "systematic_review":    (0.025, {"human": 0.75, "mixed": 0.20, "unknown": 0.05}, (600, 1.0)),
    "rct":                  (0.110, {"human": 0.90, "animal": 0.05, "unknown": 0.05}, (60, 0.9)),
    "non_randomized_trial": (0.030, {"human": 0.90, "animal": 0.05, "unknown": 0.05}, (40, 0.9)),
    "cohort":               (0.070, {"human": 0.95, "unknown": 0.05}, (250, 1.4)),
    "single_arm_trial":     (0.030, {"human": 0.95, "unknown": 0.05}, (25, 0.7)),
    "case_control":         (0.020, {"human": 0.95, "unknown": 0.05}, (120, 1.0)),
    "cross_sectional":      (0.040, {"human": 0.95, "unknown": 0.05}, (300, 1.2)),
    "case_series":          (0.030, {"human": 0.97, "unknown": 0.03}, (8, 0.7)),
    "case_report":          (0.080, {"human": 0.97, "unknown": 0.03}, (1, 0.0)),
    "lab_experiment":       (0.270, {"animal": 0.65, "in_vitro": 0.25, "human": 0.10}, (20, 0.8)),
    "narrative_review":     (0.120, {"human": 0.55, "mixed": 0.30, "unknown": 0.15}, None),
    "guideline":            (0.010, {"human": 1.00}, None),
    "protocol":             (0.020, {"human": 0.95, "unknown": 0.05}, (100, 0.8)),
    "opinion":              (0.040, {"human": 0.60, "unknown": 0.40}, None),
    "other":                (0.080, {"unknown": 0.50, "human": 0.30, "animal": 0.20}, None),
}
# per link, by whether the record is human; None: the link has no claim_directions row
DIRECTIONS = {
    True: {"supports": 0.42, "no_effect": 0.14, "contradicts": 0.06, "mixed": 0.08,
           "unclear": 0.25, None: 0.05},
    False: {"supports": 0.35, "no_effect": 0.10, "contradicts": 0.05, "mixed": 0.05,
            "unclear": 0.40, None: 0.05},
}
LINKS_PER_RECORD = {1: 0.60, 2: 0.30, 3: 0.10}
CLAIM_POPULARITY_EXPONENT = 0.8   # Zipf-like: a few claims gather most of the records
SAMPLE_SIZE_REPORTED = 0.8
RETRACTED = 0.002
MESH_INDEXED = 0.7
MESH_PER_RECORD = 8
TOPIC_FROM_LINKED_CLAIM = 0.6     # the record is about a condition its first claim names
TOPIC_OTHER_CONDITION = 0.2       # ... or about some other condition in the registry
CONDITION_IN_TITLE = 0.5
COMMON_MESH = [
    ("D007649", "Ketamine"), ("D006801", "Humans"), ("D000818", "Animals"), ("D008297", "Male"),
    ("D005260", "Female"), ("D000328", "Adult"), ("D008875", "Middle Aged"),
    ("D016896", "Treatment Outcome"), ("D004311", "Double-Blind Method"), ("D051381", "Rats"),
    ("D051379", "Mice"), ("D018686", "Anesthetics, Dissociative"), ("D000368", "Aged"),
    ("D003131", "Combined Modality Therapy"), ("D004305", "Dose-Response Relationship, Drug"),
    ("D013997", "Time Factors"), ("D000927", "Anticonvulsants"), ("D017677", "Age Distribution"),
    ("D064420", "Drug-Related Side Effects and Adverse Reactions"),
    ("D016449", "Randomized Controlled Trials as Topic")]


def _pick(rng, n: int, shares: dict) -> np.ndarray:
    """n indices into ``list(shares)``, drawn with those probabilities."""
    p = np.array(list(shares.values()), dtype=float)
    return rng.choice(len(p), size=n, p=p / p.sum())


def _insert(con, table: str, columns: dict) -> None:
    con.register("synthetic_rows", pa.table(columns))
    con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM synthetic_rows")
    con.unregister("synthetic_rows")


def _nullable_int(values: np.ndarray) -> pa.Array:
    return pa.array(np.nan_to_num(values).astype(np.int32), mask=np.isnan(values))


def _tags(rng, n: int) -> dict:
    design = _pick(rng, n, {d: v[0] for d, v in DESIGNS.items()})
    population = np.empty(n, dtype=object)
    sample = np.full(n, np.nan)
    for i, (_, pops, size) in enumerate(DESIGNS.values()):
        rows = np.flatnonzero(design == i)
        population[rows] = np.array(list(pops), dtype=object)[_pick(rng, len(rows), pops)]
        if size:
            median, sigma = size
            sample[rows] = np.maximum(1, np.round(median * rng.lognormal(0.0, sigma, len(rows))))
    sample[rng.random(n) > SAMPLE_SIZE_REPORTED] = np.nan
    return {"design": np.array(list(DESIGNS), dtype=object)[design], "population": population,
            "sample_size": sample}


def _links(rng, n: int, n_claims: int, human: np.ndarray) -> dict:
    popularity = 1.0 / np.arange(1, n_claims + 1) ** CLAIM_POPULARITY_EXPONENT
    popularity = rng.permutation(popularity / popularity.sum())
    per_record = np.array(list(LINKS_PER_RECORD))[_pick(rng, n, LINKS_PER_RECORD)]
    record = np.repeat(np.arange(n), per_record)
    claim = rng.choice(n_claims, size=len(record), p=popularity)
    keep = np.unique(record * n_claims + claim, return_index=True)[1]  # a claim links a record once
    record, claim = record[keep], claim[keep]
    direction = np.empty(len(record), dtype=object)
    for is_human, shares in DIRECTIONS.items():
        rows = np.flatnonzero(human[record] == is_human)
        direction[rows] = np.array(list(shares), dtype=object)[_pick(rng, len(rows), shares)]
    return {"record": record, "claim": claim, "direction": direction}


def _topics(rng, n: int, links: dict, claim_conditions: list[list[int]], n_conditions: int) -> np.ndarray:
    """Per record, the index of the registry condition it is about, or -1."""
    record, claim = links["record"], links["claim"]
    first = np.r_[True, record[1:] != record[:-1]]
    first_claim = np.full(n, -1)
    first_claim[record[first]] = claim[first]
    topic = np.full(n, -1)
    u = rng.random(n)
    for c, conds in enumerate(claim_conditions):
        rows = np.flatnonzero((first_claim == c) & (u < TOPIC_FROM_LINKED_CLAIM))
        if conds and len(rows):
            topic[rows] = np.array(conds)[rng.integers(len(conds), size=len(rows))]
    other = np.flatnonzero((topic == -1) & (u >= 1 - TOPIC_OTHER_CONDITION))
    if n_conditions:
        topic[other] = rng.integers(n_conditions, size=len(other))
    return topic


def _mesh(rng, indexed: np.ndarray, topic: np.ndarray, conditions: list[tuple]) -> dict:
    rows = np.flatnonzero(indexed)
    picks = rng.random((len(rows), len(COMMON_MESH))).argsort(axis=1)[:, :MESH_PER_RECORD - 1]
    pmid = np.repeat(PMID_BASE + rows, MESH_PER_RECORD - 1)
    position = np.tile(np.arange(2, MESH_PER_RECORD + 1), len(rows))
    common = np.array(COMMON_MESH, dtype=object)[picks.ravel()]
    on_topic = rows[topic[rows] >= 0]
    topic_mesh = np.array([conditions[t][1:] for t in topic[on_topic]], dtype=object).reshape(-1, 2)
    return {"pmid": np.r_[pmid, PMID_BASE + on_topic],
            "position": np.r_[position, np.ones(len(on_topic), dtype=int)].astype(np.int32),
            "descriptor_ui": np.r_[common[:, 0], topic_mesh[:, 1]],
            "descriptor": np.r_[common[:, 1], topic_mesh[:, 0]],
            "major": np.r_[np.zeros(len(pmid), bool), np.ones(len(on_topic), bool)]}


def _meta(path: Path) -> dict[str, str]:
    con = store.connect(path, read_only=True)
    try:
        return store.get_meta(con)
    except duckdb.CatalogException:
        return {}
    finally:
        con.close()


def build(path: Path, n: int, *, seed: int = 20240601) -> Path:
    """Write a migrated store of ``n`` synthetic records at ``path``, replacing a synthetic
    store there but never any other file."""
    if path.exists():
        if _meta(path).get("synthetic") != "true":
            raise FileExistsError(f"{path} exists and is not a synthetic store: not replacing it")
        path.unlink()
    rng = np.random.default_rng(seed)
    con = store.open_store(path)
    store.sync_claims(con, load_registry())
    claim_ids = [r[0] for r in con.execute("SELECT claim_id FROM claims ORDER BY claim_id").fetchall()]
    conditions = con.execute("SELECT DISTINCT name, mesh, mesh_ui FROM claim_conditions "
                             "ORDER BY ALL").fetchall()
    index = {c: i for i, c in enumerate(conditions)}
    claim_conditions = [[index[tuple(r)] for r in con.execute(
        "SELECT name, mesh, mesh_ui FROM claim_conditions WHERE claim_id = ?", [c]).fetchall()]
        for c in claim_ids]

    pmid = PMID_BASE + np.arange(n, dtype=np.int64)
    tags = _tags(rng, n)
    human = np.isin(tags["population"], ["human", "mixed"])
    links = _links(rng, n, len(claim_ids), human)
    topic = _topics(rng, n, links, claim_conditions, len(conditions))
    indexed = rng.random(n) < MESH_INDEXED
    years = np.arange(1966, 2026)
    growth = np.exp(0.065 * (years - years[0]))
    in_title = (topic >= 0) & (rng.random(n) < CONDITION_IN_TITLE)
    titles = [f"[SYNTHETIC] Ketamine in {conditions[t][0]}: {d.replace('_', ' ')} {p}" if shown
              else f"[SYNTHETIC] Ketamine: {d.replace('_', ' ')} {p}"
              for p, d, t, shown in zip(pmid.tolist(), tags["design"], topic.tolist(), in_title)]

    _insert(con, "articles", {
        "pmid": pmid, "pmid_version": np.ones(n, np.int32), "title": titles,
        "journal": np.full(n, "[SYNTHETIC] Journal", dtype=object),
        "pub_year": years[rng.choice(len(years), size=n, p=growth / growth.sum())].astype(np.int32),
        "citation_status": np.where(indexed, "MEDLINE", "Publisher").astype(object),
        "is_retracted": rng.random(n) < RETRACTED})
    _insert(con, "mesh_headings", _mesh(rng, indexed, topic, conditions))
    _insert(con, "tags", {"pmid": pmid, "tagger_version": np.full(n, TAGGER_VERSION, dtype=object),
                          "design": tags["design"], "population": tags["population"],
                          "sample_size": _nullable_int(tags["sample_size"])})
    link_pmid = PMID_BASE + links["record"]
    link_claim = np.array(claim_ids, dtype=object)[links["claim"]]
    _insert(con, "query_articles", {"query_id": np.r_[link_claim, np.full(n, "ketamine.all", dtype=object)],
                                    "pmid": np.r_[link_pmid, pmid]})
    tagged = np.array([d is not None for d in links["direction"]])
    _insert(con, "claim_directions", {
        "pmid": link_pmid[tagged], "claim_id": link_claim[tagged],
        "tagger_version": np.full(tagged.sum(), TAGGER_VERSION, dtype=object),
        "direction": links["direction"][tagged], "confidence": rng.random(tagged.sum())})
    store.set_meta(con, tagger_version=TAGGER_VERSION, synthetic="true",
                   synthetic_generator=GENERATOR_VERSION, synthetic_records=n)
    evidence.refresh(con)
    con.execute("CHECKPOINT")
    con.close()
    return path


def cached(n: int, path: Path | None = None) -> Path:
    """The synthetic store of ``n`` records, built only when missing or made by another
    generator version; views are re-applied, and evidence_links recomputed when they changed,
    so timings are of the SQL in the tree."""
    path = path or Path(tempfile.gettempdir()) / "ketamine-bench" / f"synthetic-{n}.duckdb"
    meta = _meta(path) if path.exists() else {}
    if (meta.get("synthetic"), meta.get("synthetic_generator"), meta.get("synthetic_records")) \
            != ("true", GENERATOR_VERSION, str(n)):
        return build(path, n)
    con = store.connect(path)
    store.migrate(con)
    if not con.execute("SELECT is_current FROM v_evidence_status").fetchall()[0][0]:
        evidence.refresh(con)
    con.close()
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--path", type=Path, help="where to write (default: a temporary directory)")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    path = cached(args.records, args.path)
    print(f"synthetic store of {args.records:,} records at {path} ({time.perf_counter() - t0:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
