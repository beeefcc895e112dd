"""Labelled data for training and evaluating the taggers, read from the workplace's shared folder.

Only `train` and `evaluate` use this; the product never does. Splits are fixed by a hash of the
record's PMID (design, population) or the article's PMCID (direction), so an article is in
exactly one of train / dev / test whatever order the files are read in.
"""
from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass, replace
from pathlib import Path

from pipeline import config

from .claim_text import arm_terms
from .declared import declared_design
from .indexing import design_from_pubtypes, design_label, population_from_mesh, trusted
from .text import TagInput, from_record

TRAIN, DEV, TEST = "train", "dev", "test"


def shared_dir() -> Path | None:
    """`KETAMINE_SHARED_DIR`, else the repo's sibling `shared/`; None when neither exists.

    Training-only configuration: the product never reads the shared folder, so this does not
    belong in pipeline.config.
    """
    path = Path(config.load().shared_dir)
    return path if path.is_dir() else None


def split_of(key) -> str:
    bucket = int(hashlib.sha256(f"ketamine-tag:{key}".encode()).hexdigest(), 16) % 10
    return TRAIN if bucket < 7 else DEV if bucket == 7 else TEST


@dataclass
class RecordExample:
    pmid: int
    split: str
    origin: str  # "indexed": NLM-indexed (MeSH present, not Automated); "publisher": design type only
    era: str  # "1970s" baseline or "recent" (2020-21 update file, efetch samples)
    design: str
    population: str | None
    inp: TagInput
    record: dict

    @property
    def has_abstract(self) -> bool:
        return bool(self.inp.abstract.strip())


def pubmed_sources(shared: Path) -> list[tuple[Path, str]]:
    base = shared / "pubmed"
    out = [(base / "baseline" / "pubmed20n0014.xml.gz", "1970s"),
           (base / "baseline" / "pubmed21n1298.xml.gz", "recent")]
    out += [(p, "recent") for p in sorted((base / "efetch-samples").glob("*.xml"))]
    return [(p, era) for p, era in out if p.exists()]


def pubmed_articles(shared: Path) -> list[tuple[dict, str, TagInput]]:
    """Every distinct article in the shared PubMed files, with its era and tagger input."""
    from pipeline.parse import iter_pubmed

    seen: set[int] = set()
    out = []
    for path, era in pubmed_sources(shared):
        for rec in iter_pubmed(path):
            if rec.get("kind") != "article" or rec["pmid"] in seen:
                continue
            seen.add(rec["pmid"])
            inp = from_record(rec)
            if inp.title or inp.abstract:
                out.append((rec, era, inp))
    return out


def record_examples(shared: Path, articles=None) -> list[RecordExample]:
    """Every record whose design the indexer (or, for recent unindexed ones, the publisher) named.

    A MEDLINE record indexed by a person has a trustworthy "nothing special" too (label `other`);
    an unindexed record only counts when its publisher supplied a design publication type other
    than plain "Review".
    """
    out: list[RecordExample] = []
    for rec, era, inp in pubmed_articles(shared) if articles is None else articles:
        indexed = rec.get("citation_status") == "MEDLINE" and bool(inp.mesh) and trusted(inp.indexing_method)
        publisher_design = design_from_pubtypes(inp.publication_types)
        if indexed:
            origin = "indexed"
        elif publisher_design and publisher_design != "narrative_review":
            origin = "publisher"
        else:
            # Publishers label systematic reviews and meta-analyses plain "Review" as often as
            # not, so an unindexed "Review" says nothing reliable about the design.
            continue
        out.append(RecordExample(
            pmid=rec["pmid"], split=split_of(rec["pmid"]), origin=origin, era=era,
            design=design_label(inp.publication_types, inp.mesh),
            population=population_from_mesh(inp.mesh) if indexed else None,
            inp=inp, record=rec,
        ))
    return out


@dataclass
class DeclaredExample:
    """A record whose title names its design, to be read from the abstract alone."""
    pmid: int
    split: str
    era: str
    design: str
    title: str
    inp: TagInput  # title, publication types and MeSH removed


def declared_examples(shared: Path, articles=None) -> list[DeclaredExample]:
    """Records with an abstract whose title declares the design: the authors' own label.

    Most recent records are not indexed yet, so the indexed labels hold few modern trials and
    reviews; a title such as "...: a systematic review and meta-analysis" labels hundreds. The
    title is removed from the input, since it is the label.
    """
    out = []
    for rec, era, inp in pubmed_articles(shared) if articles is None else articles:
        design = declared_design(inp.title) if inp.abstract.strip() else None
        if design is None:
            continue
        hidden = replace(inp, title="", publication_types=[], mesh=[], indexing_method=None)
        out.append(DeclaredExample(rec["pmid"], split_of(rec["pmid"]), era, design, inp.title, hidden))
    return out


EI_LABELS = {
    "significantly increased": "increased",
    "significantly increase": "increased",
    "significantly decreased": "decreased",
    "no significant difference": "no_difference",
}
@dataclass
class EvidenceExample:
    pmcid: int
    prompt_id: int
    split: str
    label: str
    evidence: str
    outcome: str
    intervention: str
    comparator: str
    intervention_terms: list[str]
    comparator_terms: list[str]


def evidence_examples(shared: Path) -> list[EvidenceExample]:
    """Evidence Inference v2 spans with a valid label, one per (article, outcome, span, label)."""
    folder = shared / "labels" / "evidence-inference"
    with open(folder / "prompts_merged.csv", newline="", encoding="utf-8") as fh:
        prompts = {(row["PromptID"], row["PMCID"]): row for row in csv.DictReader(fh)}
    out, seen = [], set()
    with open(folder / "v2_annotations.csv", newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            label = EI_LABELS.get(row["Label"].strip())
            prompt = prompts.get((row["PromptID"], row["PMCID"]))
            if label is None or prompt is None or row["Valid Label"] != "True":
                continue
            evidence = row["Annotations"].strip()
            key = (row["PMCID"], prompt["Outcome"], evidence, label)
            if not evidence or key in seen:
                continue
            seen.add(key)
            intervention = arm_terms(prompt["Intervention"])
            comparator = arm_terms(prompt["Comparator"])
            shared_words = set(intervention) & set(comparator)
            out.append(EvidenceExample(
                pmcid=int(row["PMCID"]), prompt_id=int(row["PromptID"]), split=split_of(f"pmc{row['PMCID']}"),
                label=label, evidence=evidence, outcome=prompt["Outcome"],
                intervention=prompt["Intervention"].strip(), comparator=prompt["Comparator"].strip(),
                intervention_terms=[w for w in intervention if w not in shared_words],
                comparator_terms=[w for w in comparator if w not in shared_words],
            ))
    return out
