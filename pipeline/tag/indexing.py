"""What NLM's indexers already said: publication types and MeSH check tags → design, population.

The same mapping labels the training data and tags indexed records, so "design agreement with
the indexer" measures the wiring, and the text model learns exactly these categories.
"""
from __future__ import annotations

# Highest-priority first: a systematic review that pools results is a meta-analysis; a letter
# that reports a patient is a case report.
_DESIGN_BY_PUBTYPE: list[tuple[str, tuple[str, ...]]] = [
    ("meta_analysis", ("Meta-Analysis", "Network Meta-Analysis")),
    ("systematic_review", ("Systematic Review", "Scoping Review")),
    ("guideline", ("Practice Guideline", "Guideline", "Consensus Development Conference",
                   "Consensus Development Conference, NIH")),
    ("protocol", ("Clinical Trial Protocol", "Study Protocol")),
    ("rct", ("Randomized Controlled Trial", "Randomized Controlled Trial, Veterinary")),
    ("non_randomized_trial", ("Controlled Clinical Trial", "Clinical Trial", "Clinical Trial, Phase I",
                              "Clinical Trial, Phase II", "Clinical Trial, Phase III",
                              "Clinical Trial, Phase IV", "Pragmatic Clinical Trial", "Equivalence Trial",
                              "Adaptive Clinical Trial", "Clinical Trial, Veterinary")),
    ("case_report", ("Case Reports",)),
    ("narrative_review", ("Review",)),
    ("opinion", ("Editorial", "Comment", "Letter", "News", "Newspaper Article", "Interview", "Lecture",
                 "Personal Narrative", "Address")),
]
_PUBTYPE_TO_DESIGN = {name.lower(): design for design, names in _DESIGN_BY_PUBTYPE for name in names}
_DESIGN_RANK = {design: i for i, (design, _) in enumerate(_DESIGN_BY_PUBTYPE)}

# MeSH check tags for observational designs, again in priority order.
_DESIGN_BY_MESH: list[tuple[str, tuple[str, ...]]] = [
    ("case_control", ("Case-Control Studies",)),
    ("cross_sectional", ("Cross-Sectional Studies",)),
    ("cohort", ("Cohort Studies", "Prospective Studies", "Retrospective Studies", "Longitudinal Studies",
                "Follow-Up Studies")),
]
_OBSERVATIONAL_PUBTYPES = frozenset(("observational study", "observational study, veterinary"))
# Lower-cased once: every tagged record is checked against these.
_MESH_DESIGN_SETS = [(name, frozenset(t.lower() for t in tags)) for name, tags in _DESIGN_BY_MESH]

HUMANS, ANIMALS = "humans", "animals"
_IN_VITRO = frozenset(("in vitro techniques", "cells, cultured", "tumor cells, cultured", "organ culture techniques"))


def _lower(names) -> set[str]:
    return {n.lower() for n in names}


def trusted(indexing_method: str | None) -> bool:
    """Automated indexing is a machine's guess, not an indexer's reading of the article."""
    return (indexing_method or "").strip().lower() != "automated"


def design_from_pubtypes(publication_types) -> str | None:
    found = [_PUBTYPE_TO_DESIGN[n] for n in _lower(publication_types) if n in _PUBTYPE_TO_DESIGN]
    return min(found, key=_DESIGN_RANK.get) if found else None


def design_from_indexing(publication_types, mesh) -> tuple[str | None, float]:
    """(design, confidence) from indexer metadata, or (None, 0) when it names no design.

    Check tags and "Animals" without "Humans" are weaker evidence than a publication type:
    "Retrospective Studies" is also put on chart-review case series.
    """
    design = design_from_pubtypes(publication_types)
    if design is not None:
        return design, 0.99
    terms = _lower(mesh)
    for name, tags in _MESH_DESIGN_SETS:
        if terms & tags:
            return name, 0.8
    if _lower(publication_types) & _OBSERVATIONAL_PUBTYPES:
        return "cohort", 0.7
    population = population_from_mesh(mesh)
    if population in ("animal", "in_vitro"):
        return "lab_experiment", 0.85
    return None, 0.0


def design_label(publication_types, mesh) -> str:
    """Training/evaluation label for an indexed record: what the indexer implies, else `other`."""
    design, _ = design_from_indexing(publication_types, mesh)
    return design or "other"


def population_from_mesh(mesh) -> str | None:
    terms = _lower(mesh)
    if terms & _IN_VITRO:
        return "in_vitro"
    if HUMANS in terms and ANIMALS in terms:
        return "mixed"
    if HUMANS in terms:
        return "human"
    if ANIMALS in terms:
        return "animal"
    return None
