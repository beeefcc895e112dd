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
# Chosen on the dev split (animal F1 on records with an abstract rose from 0.945 to 0.949).
_MIN_CONFIDENCE_MIXED = 0.6


def from_indexer(inp: TagInput) -> str | None:
    if not inp.mesh or not trusted(inp.indexing_method):
        return None
    return population_from_mesh(inp.mesh)


def from_text(prediction: tuple, has_abstract: bool) -> tuple[str, float]:
    """The population model's (label, probability), or `unknown` when it is unsure.

    `prediction` is (label, probability, every class's probability). A text that names people
    and an animal ("canine sequences homologous to the human VH subgroup") mostly studied one of
    them, so `mixed` needs a clear majority; otherwise the likelier of the single populations.
    """
    label, confidence = prediction[:2]
    floor = _MIN_CONFIDENCE if has_abstract else _MIN_CONFIDENCE_TITLE_ONLY
    if label == "mixed" and confidence < _MIN_CONFIDENCE_MIXED and len(prediction) > 2:
        probs = prediction[2]
        label = max(("human", "animal", "in_vitro"), key=lambda c: probs.get(c, 0.0))
        confidence = probs.get(label, 0.0)
    return (label, confidence) if confidence >= floor else ("unknown", confidence)
