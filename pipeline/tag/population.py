"""Who or what was studied: human, animal, in_vitro, mixed, or unknown.

Indexed records carry the answer in MeSH check tags (Humans, Animals, In Vitro Techniques,
Cells, Cultured). Others get a linear model over the same tokens as the design model, trained on
those check tags; a weak guess from a title alone is reported as `unknown` rather than invented.
"""
from __future__ import annotations

from .indexing import population_from_mesh, trusted
from .text import TagInput

POPULATIONS = ("human", "animal", "in_vitro", "mixed", "unknown")
_MIN_CONFIDENCE_TITLE_ONLY = 0.4
_MIN_CONFIDENCE = 0.34


def from_indexer(inp: TagInput) -> str | None:
    if not inp.mesh or not trusted(inp.indexing_method):
        return None
    return population_from_mesh(inp.mesh)


def from_text(prediction: tuple[str, float], has_abstract: bool) -> tuple[str, float]:
    """The population model's (label, probability), or `unknown` when it is unsure."""
    label, confidence = prediction[:2]
    floor = _MIN_CONFIDENCE if has_abstract else _MIN_CONFIDENCE_TITLE_ONLY
    return (label, confidence) if confidence >= floor else ("unknown", confidence)
