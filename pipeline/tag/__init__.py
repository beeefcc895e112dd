"""Tag a PubMed record with study design, population, sample size and per-claim result direction.

`tag_record` accepts the parsed record of docs/record-format.md or a `tag` JSONL line (publication
types and MeSH as plain names). Indexer metadata is used when present and not "Automated";
otherwise everything comes from title and abstract. `TAGGER_VERSION` changes whenever the
committed models change, so the store re-tags without re-fetching.
"""
from __future__ import annotations

import hashlib
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

from . import design as design_mod
from . import population as population_mod
from .claim_text import claim_from_text
from .declared import declared_design
from .direction import PreparedClaim, direction_for, prepare
from .features import record_parts
from .linear import JointScorer, LinearModel
from .sample_size import NUMBER_WORDS, sample_size
from .text import TagInput, from_record, is_english, words

__all__ = ["TAGGER_VERSION", "tag_record", "tag_input", "load_models", "MODELS_DIR"]

MODELS_DIR = Path(__file__).with_name("models")
_MODEL_FILES = ("design.json.gz", "population.json.gz", "effect.json.gz")
# Bump the first part when rules change; the digest follows the trained artefacts.
_RULES_VERSION = "6"


def _artefact_digest() -> str:
    h = hashlib.sha256()
    for name in _MODEL_FILES:
        path = MODELS_DIR / name
        h.update(path.read_bytes() if path.exists() else b"missing")
    return h.hexdigest()[:10]


TAGGER_VERSION = f"tag-{_RULES_VERSION}+{_artefact_digest()}"


@lru_cache(maxsize=1)
def load_models() -> dict[str, LinearModel]:
    missing = [n for n in _MODEL_FILES if not (MODELS_DIR / n).exists()]
    if missing:
        raise FileNotFoundError(f"tagger models missing from {MODELS_DIR}: {', '.join(missing)} "
                                "(run `python -m pipeline.tag.train`)")
    return with_joint({n.split(".")[0]: LinearModel.load(MODELS_DIR / n) for n in _MODEL_FILES})


def with_joint(models: dict) -> dict:
    """`models` with the "joint" scorer that `tag_input` reads design and population from."""
    models["joint"] = JointScorer({"design": models["design"], "population": models["population"]})
    return models


@lru_cache(maxsize=256)
def _prepared(claim) -> PreparedClaim:
    return prepare(claim)


def _prepare_any(claim) -> PreparedClaim:
    if isinstance(claim, str):
        claim = claim_from_text(claim)
    try:
        return _prepared(claim)
    except TypeError:  # an unhashable claim-like object: prepare it every time
        return prepare(claim)


def _usable(inp: TagInput) -> tuple[TagInput, list[str], list[str]]:
    """Drop text the English-trained models cannot read (a translated title often survives);
    returns the input kept and the `words()` of its title and abstract."""
    title, body = words(inp.title), words(inp.abstract)
    abstract_ok = bool(body) and is_english(inp.abstract, body)
    title_ok = bool(title) and is_english(inp.title, title)
    if abstract_ok and title_ok:
        return inp, title, body
    kept = replace(inp, title=inp.title if title_ok else "", abstract=inp.abstract if abstract_ok else "",
                   sections=inp.sections if abstract_ok else [])
    return kept, title if title_ok else [], body if abstract_ok else []


def tag_input(inp: TagInput, claims=None, models: dict | None = None) -> dict:
    models = models or load_models()
    text_inp, title_words, body_words = _usable(inp)
    has_text = bool(title_words or body_words)
    joint = models["joint"]
    if has_text:
        seq, hashes, keys, other, found, title_cues = record_parts(text_inp, title_words, body_words)
        predicted = joint.predict_all(joint.rows(seq, hashes, keys, other))
        numbers = NUMBER_WORDS.intersection(seq)  # all sample_size needs of the tokens
    else:
        found, title_cues, predicted, numbers = set(), set(), {}, set()

    indexed = design_mod.from_indexer(inp)
    if indexed is not None and indexed[0] == "narrative_review" and not inp.mesh and found & {"sysrev", "meta"}:
        # A publisher's "Review" on an unindexed record is often a systematic review; the text
        # says which, and NLM's indexers would have said so too.
        indexed = None
    if indexed is not None:
        design, design_conf, design_source = indexed[0], indexed[1], "indexer"
    elif has_text:
        declared = declared_design(text_inp.title) if title_words else None
        design, design_conf = design_mod.from_text(predicted["design"], found, title_cues, declared)
        design_source = "text"
    else:
        design, design_conf, design_source = "other", 0.0, "text"

    population = population_mod.from_indexer(inp)
    if population is not None:
        population_source = "indexer"
    elif has_text:
        population, _ = population_mod.from_text(predicted["population"], bool(text_inp.abstract))
        population_source = "text"
    else:
        population, population_source = "unknown", "text"

    n, n_text = sample_size(text_inp.abstract or text_inp.title, design == "case_report", numbers)
    directions = []
    for claim in claims or ():
        prepared = _prepare_any(claim)
        # A protocol's "results" are expectations, not findings.
        if has_text and design != "protocol":
            directions.append(direction_for(text_inp, prepared, models["effect"]))
        else:
            directions.append({"claim_id": prepared.id, "direction": "unclear", "evidence_sentence": None,
                               "confidence": 0.0})
    return {
        "design": design,
        "design_confidence": round(float(design_conf), 3),
        "design_source": design_source,
        "population": population,
        "population_source": population_source,
        "sample_size": n,
        "sample_size_text": n_text,
        "directions": directions,
    }


def tag_record(rec: dict, claims: list | None = None) -> dict:
    """Tags for one record; `claims` are registry Claims, claim-like objects or claim sentences."""
    return tag_input(from_record(rec), claims)
