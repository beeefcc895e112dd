"""The claim-detail downloads: the whole filtered study list as CSV and as RIS.

Built only when the user clicks (Streamlit calls these lazily), straight from the snapshot,
so a list of a hundred thousand studies costs nothing until someone asks for it.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from dashboards import charts, data, ris

CSV_COLUMNS = ["pmid", "title", "year", "journal", "design", "design_source", "design_confidence", "population",
               "n", "direction", "direction_confidence", "evidence_sentence", "is_retracted", "is_indirect",
               "pubmed_url"]
DESIGN_FROM = {"indexer": " (from the record's publication types)",
                "text": " (read from title and abstract by the tagger)"}


def studies_csv(path: Path, claim_id: str, flt: data.StudyFilter = data.StudyFilter()) -> bytes:
    df = data.claim_studies(path, claim_id, flt)
    return df[CSV_COLUMNS].to_csv(index=False).encode("utf-8")


def studies_ris(path: Path, claim_id: str, flt: data.StudyFilter = data.StudyFilter()) -> bytes:
    studies = data.claim_studies(path, claim_id, flt)
    details = data.reference_details(path, studies["pmid"].tolist()).set_index("pmid")
    records = []
    for s in studies.itertuples():
        d = details.loc[s.pmid] if s.pmid in details.index else None
        notes = [f"Claim {claim_id}: {charts.direction_label(s.direction)}",
                 f"Design: {s.design}{DESIGN_FROM.get(s.design_source, '')}; population: {s.population}"
                 + ("" if pd.isna(s.n) else f"; N = {int(s.n)}")]
        if isinstance(s.evidence_sentence, str) and s.evidence_sentence:
            notes.append(f"Evidence: {s.evidence_sentence}")
        if s.is_retracted:
            notes.append("RETRACTED PUBLICATION")
        records.append({
            "pmid": s.pmid, "title": s.title, "year": s.year, "journal": s.journal,
            "journal_iso": None if d is None else d.journal_iso,
            "doi": None if d is None else d.doi,
            "abstract": None if d is None else d.abstract,
            "authors": [] if d is None else list(d.authors),
            "keywords": [] if d is None or d.keywords is None else list(d.keywords),
            "notes": notes,
        })
    return ris.to_ris(records).encode("utf-8")
