"""The claims registry: what the two seed articles assert about ketamine, and how to find it in PubMed.

``claims.yaml`` next to this file is the single source. ``load()`` reads it, expands the shared
query blocks, validates every field, and checks that each source quote really sits at its
locator in ``data/sources/``; anything wrong raises ``RegistryError`` naming the claim and the
field, so a bad edit stops the run at start rather than producing silent gaps.

A locator is (article file stem, paragraph, sentence): paragraph counts the non-empty lines of
the article from 0, sentence counts ``split_sentences`` pieces of that line from 0. The draft
checker (``pipeline.check``) splits text with the same two functions, so a locator written
here is exactly what the checker reports.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from pipeline.config import REPO_ROOT
from pipeline.query import QuerySyntaxError, validate as validate_query

__all__ = [
    "KINDS", "DIRECTIONS", "REGISTRY_PATH", "SOURCES_DIR", "RegistryError", "Condition",
    "SourceRef", "Claim", "IngestionQuery", "Exclusion", "Registry", "load", "load_registry",
    "validate_registry", "verify_sources", "claims_by_id", "queries", "paragraphs",
    "split_sentences", "read_article",
]

KINDS = ("efficacy", "onset", "durability", "safety", "abuse", "mechanism", "delivery", "practice")
DIRECTIONS = ("decrease", "increase", "no_difference")
REGISTRY_PATH = Path(__file__).with_name("claims.yaml")
SOURCES_DIR = REPO_ROOT / "data" / "sources"

_ID = re.compile(r"[a-z][a-z0-9_]*(\.[a-z0-9_]+)+")
_MESH_UI = re.compile(r"D\d{6}(\d{3})?")
_BLOCK_REF = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_CLAIM_FIELDS = {"id", "statement", "kind", "conditions", "population", "outcome", "outcome_terms",
                 "supporting_direction", "sources", "query", "cues", "notes"}
_OPTIONAL = {"cues", "notes"}


class RegistryError(ValueError):
    """A registry entry is malformed; ``claim_id`` and ``field`` say where."""

    def __init__(self, claim_id: str | None, field_name: str | None, reason: str):
        self.claim_id, self.field, self.reason = claim_id, field_name, reason
        where = " ".join(p for p in (f"claim {claim_id!r}" if claim_id else "",
                                     f"field {field_name!r}" if field_name else "") if p)
        super().__init__(f"{where}: {reason}" if where else reason)


@dataclass(frozen=True)
class Condition:
    name: str
    mesh: str
    mesh_ui: str
    synonyms: tuple[str, ...] = ()


@dataclass(frozen=True)
class SourceRef:
    article: str
    paragraph: int
    sentence: int
    quote: str


@dataclass(frozen=True)
class Claim:
    id: str
    statement: str
    kind: str
    conditions: tuple[Condition, ...]
    population: str
    outcome: str
    outcome_terms: tuple[str, ...]
    supporting_direction: str
    sources: tuple[SourceRef, ...]
    query: str
    cues: tuple[str, ...] = ()
    notes: str = ""

    @property
    def articles(self) -> frozenset[str]:
        return frozenset(s.article for s in self.sources)


@dataclass(frozen=True)
class IngestionQuery:
    id: str
    description: str
    query: str


@dataclass(frozen=True)
class Exclusion:
    source: SourceRef
    reason: str


@dataclass(frozen=True)
class Registry:
    claims: tuple[Claim, ...]
    ingestion_queries: tuple[IngestionQuery, ...] = ()
    excluded: tuple[Exclusion, ...] = field(default=())


# ---------------------------------------------------------------- text locators

def paragraphs(text: str) -> list[str]:
    """The non-empty lines of a text, stripped: what a locator's ``paragraph`` counts."""
    return [line.strip() for line in text.splitlines() if line.strip()]


# A boundary is end punctuation, optional closing quotes/brackets, whitespace, then something
# that can start a sentence. Lower-case continuations ("e.g. the") therefore never split.
_BOUNDARY = re.compile(r"[.!?]+[\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9])")
_NO_SPLIT_AFTER = {"e.g", "i.e", "etc", "vs", "dr", "mr", "mrs", "ms", "prof", "fig", "approx",
                   "al", "no", "st", "inc", "u.s", "u.k", "ca", "cf"}


def split_sentences(paragraph: str) -> list[str]:
    sentences, start = [], 0
    for m in _BOUNDARY.finditer(paragraph):
        last_word = paragraph[start:m.start()].rsplit(None, 1)
        token = last_word[-1] if last_word else ""
        if token.lower().rstrip(".") in _NO_SPLIT_AFTER or re.fullmatch(r"[A-Z]", token):
            continue  # an abbreviation or an initial, not the end of a sentence
        sentences.append(paragraph[start:m.end()].strip())
        start = m.end()
    tail = paragraph[start:].strip()
    if tail:
        sentences.append(tail)
    return sentences


def read_article(stem: str, sources_dir: Path | str = SOURCES_DIR) -> str:
    path = Path(sources_dir) / f"{stem}.txt"
    if not path.is_file():
        raise RegistryError(None, None, f"source article {stem!r} not found (looked for {path})")
    return path.read_text(encoding="utf-8")


# ---------------------------------------------------------------- validation

def _text(entry: dict, key: str, owner: str | None, required: bool = True, prefix: str = "") -> str:
    value = entry.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise RegistryError(owner, prefix + key, "missing or empty")
        return ""
    if not isinstance(value, str):
        raise RegistryError(owner, prefix + key, f"must be text, got {type(value).__name__}")
    return " ".join(value.split())


def _text_list(entry: dict, key: str, owner: str, required: bool) -> tuple[str, ...]:
    value = entry.get(key)
    if value is None or value == []:
        if required:
            raise RegistryError(owner, key, "missing or empty")
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise RegistryError(owner, key, "must be a list of non-empty texts")
    return tuple(v.strip() for v in value)


def _index(entry: dict, key: str, owner: str, where: str) -> int:
    value = entry.get(key)
    if value is None:
        raise RegistryError(owner, where, f"source locator has no {key}")
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise RegistryError(owner, where, f"{key} must be a whole number >= 0, got {value!r}")
    return value


def _source(entry, owner: str, where: str) -> SourceRef:
    if not isinstance(entry, dict):
        raise RegistryError(owner, where, "a source must be a mapping with article, paragraph, sentence, quote")
    article = entry.get("article")
    if not isinstance(article, str) or not article.strip():
        raise RegistryError(owner, where, "source locator has no article")
    quote = entry.get("quote")
    if not isinstance(quote, str) or not quote.strip():
        raise RegistryError(owner, where, "source locator has no quote")
    return SourceRef(article.strip(), _index(entry, "paragraph", owner, where),
                     _index(entry, "sentence", owner, where), quote.strip())


def _condition(entry, owner: str, where: str) -> Condition:
    if not isinstance(entry, dict):
        raise RegistryError(owner, where, "a condition must be a mapping with name, mesh, mesh_ui")
    name, mesh = _text(entry, "name", owner, prefix=where + "."), _text(entry, "mesh", owner, prefix=where + ".")
    mesh_ui = _text(entry, "mesh_ui", owner, prefix=where + ".")
    if not _MESH_UI.fullmatch(mesh_ui):
        raise RegistryError(owner, where, f"mesh_ui {mesh_ui!r} is not a MeSH descriptor UI (D + 6 or 9 digits)")
    return Condition(name, mesh, mesh_ui, _text_list(entry, "synonyms", owner, required=False))


def _expand(query: str, blocks: dict[str, str], owner: str) -> str:
    def substitute(m: re.Match) -> str:
        if m.group(1) not in blocks:
            raise RegistryError(owner, "query", f"unknown query block {{{m.group(1)}}}")
        return blocks[m.group(1)]

    expanded = " ".join(_BLOCK_REF.sub(substitute, query).split())
    if "{" in expanded or "}" in expanded:
        raise RegistryError(owner, "query", f"stray brace in {expanded!r}: braces only name query blocks")
    try:
        validate_query(expanded)
    except QuerySyntaxError as exc:
        raise RegistryError(owner, "query", f"not valid PubMed syntax: {exc.reason} "
                                            f"at position {exc.position} of {expanded!r}") from None
    return expanded


def _resolve_blocks(blocks: dict[str, str]) -> dict[str, str]:
    """Let blocks use other blocks, so a broad block can reuse a narrower one."""
    resolved: dict[str, str] = {}

    def resolve(name: str, trail: tuple[str, ...]) -> str:
        if name in trail:
            raise RegistryError(None, "query_blocks", f"block {{{name}}} refers to itself via "
                                                      + " -> ".join(trail + (name,)))
        if name not in resolved:
            def substitute(m: re.Match) -> str:
                if m.group(1) not in blocks:
                    raise RegistryError(None, f"query_blocks.{name}", f"unknown query block {{{m.group(1)}}}")
                return resolve(m.group(1), trail + (name,))
            resolved[name] = _BLOCK_REF.sub(substitute, blocks[name])
        return resolved[name]

    for block in blocks:
        resolve(block, ())
    return resolved


def _claim(entry, blocks: dict[str, str], position: int) -> Claim:
    if not isinstance(entry, dict):
        raise RegistryError(None, f"claims[{position}]", "each claim must be a mapping")
    cid = entry.get("id")
    if not isinstance(cid, str) or not _ID.fullmatch(cid):
        raise RegistryError(None, f"claims[{position}].id",
                            f"id {cid!r} must be dotted lower-case words, e.g. 'efficacy.trd'")
    unknown = set(entry) - _CLAIM_FIELDS
    if unknown:
        raise RegistryError(cid, sorted(unknown)[0], "unknown field")
    missing = [k for k in sorted(_CLAIM_FIELDS - _OPTIONAL) if k not in entry]
    if missing:
        raise RegistryError(cid, missing[0], "missing")
    kind = _text(entry, "kind", cid)
    if kind not in KINDS:
        raise RegistryError(cid, "kind", f"unknown kind {kind!r}; one of {', '.join(KINDS)}")
    direction = _text(entry, "supporting_direction", cid)
    if direction not in DIRECTIONS:
        raise RegistryError(cid, "supporting_direction",
                            f"unknown direction {direction!r}; one of {', '.join(DIRECTIONS)}")
    conditions = entry.get("conditions")
    if not isinstance(conditions, list):
        raise RegistryError(cid, "conditions", "must be a list (empty when the claim names no condition)")
    sources = entry.get("sources")
    if not isinstance(sources, list) or not sources:
        raise RegistryError(cid, "sources", "a claim needs at least one source locator")
    query = entry.get("query")
    if not isinstance(query, str) or not query.strip():
        raise RegistryError(cid, "query", "empty query")
    return Claim(
        id=cid, statement=_text(entry, "statement", cid), kind=kind,
        conditions=tuple(_condition(c, cid, f"conditions[{i}]") for i, c in enumerate(conditions)),
        population=_text(entry, "population", cid), outcome=_text(entry, "outcome", cid),
        outcome_terms=_text_list(entry, "outcome_terms", cid, required=True),
        supporting_direction=direction,
        sources=tuple(_source(s, cid, f"sources[{i}]") for i, s in enumerate(sources)),
        query=_expand(query, blocks, cid), cues=_text_list(entry, "cues", cid, required=False),
        notes=_text(entry, "notes", cid, required=False))


def validate_registry(data) -> Registry:
    """Check a parsed registry document and return it as frozen objects, or raise RegistryError."""
    if not isinstance(data, dict):
        raise RegistryError(None, None, "the registry must be a mapping with a 'claims' list")
    blocks = data.get("query_blocks") or {}
    if not isinstance(blocks, dict) or not all(isinstance(v, str) and v.strip() for v in blocks.values()):
        raise RegistryError(None, "query_blocks", "must map block names to query text")
    blocks = _resolve_blocks({k: " ".join(v.split()) for k, v in blocks.items()})
    raw_claims = data.get("claims")
    if not isinstance(raw_claims, list) or not raw_claims:
        raise RegistryError(None, "claims", "the registry has no claims")

    seen: set[str] = set()
    ingestion = []
    for i, entry in enumerate(data.get("ingestion_queries") or []):
        qid = entry.get("id") if isinstance(entry, dict) else None
        if not isinstance(qid, str) or not _ID.fullmatch(qid):
            raise RegistryError(None, f"ingestion_queries[{i}].id", f"bad id {qid!r}")
        if qid in seen:
            raise RegistryError(qid, "id", "duplicate id")
        seen.add(qid)
        query = entry.get("query")
        if not isinstance(query, str) or not query.strip():
            raise RegistryError(qid, "query", "empty query")
        ingestion.append(IngestionQuery(qid, _text(entry, "description", qid),
                                        _expand(query, blocks, qid)))

    claims = []
    for i, entry in enumerate(raw_claims):
        claim = _claim(entry, blocks, i)
        if claim.id in seen:
            raise RegistryError(claim.id, "id", "duplicate id")
        seen.add(claim.id)
        claims.append(claim)

    excluded = []
    for i, entry in enumerate(data.get("excluded") or []):
        where = f"excluded[{i}]"
        reason = _text(entry, "reason", where) if isinstance(entry, dict) else ""
        excluded.append(Exclusion(_source(entry, where, "source"), reason))
    return Registry(tuple(claims), tuple(ingestion), tuple(excluded))


def verify_sources(registry: Registry, sources_dir: Path | str = SOURCES_DIR) -> None:
    """Raise RegistryError unless every quote is a substring of the sentence at its locator."""
    located: dict[str, list[list[str]]] = {}

    def check(owner: str, where: str, ref: SourceRef) -> None:
        if ref.article not in located:
            located[ref.article] = [split_sentences(p)
                                    for p in paragraphs(read_article(ref.article, sources_dir))]
        paras = located[ref.article]
        if ref.paragraph >= len(paras):
            raise RegistryError(owner, where, f"{ref.article} has {len(paras)} paragraphs; "
                                              f"paragraph {ref.paragraph} does not exist")
        sentences = paras[ref.paragraph]
        if ref.sentence >= len(sentences):
            raise RegistryError(owner, where, f"{ref.article} paragraph {ref.paragraph} has "
                                              f"{len(sentences)} sentences; sentence {ref.sentence} does not exist")
        if ref.quote not in sentences[ref.sentence]:
            raise RegistryError(owner, where, f"quote {ref.quote!r} is not in {ref.article} "
                                              f"paragraph {ref.paragraph} sentence {ref.sentence}: "
                                              f"{sentences[ref.sentence]!r}")

    for claim in registry.claims:
        for i, ref in enumerate(claim.sources):
            check(claim.id, f"sources[{i}]", ref)
    for i, ex in enumerate(registry.excluded):
        check(f"excluded[{i}]", "source", ex.source)


# ---------------------------------------------------------------- loading

@lru_cache(maxsize=8)
def _load_cached(path: Path, sources_dir: Path | None) -> Registry:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RegistryError(None, None, f"cannot read registry {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise RegistryError(None, None, f"{path} is not valid YAML: {exc}") from None
    registry = validate_registry(data)
    if sources_dir is not None:
        verify_sources(registry, sources_dir)
    return registry


def load(path: Path | str | None = None, sources_dir: Path | str | None = SOURCES_DIR) -> Registry:
    """The whole registry (claims, ingestion queries, exclusions); ``sources_dir=None`` skips
    the quote check (for a registry whose articles are elsewhere)."""
    return _load_cached(Path(path or REGISTRY_PATH).resolve(),
                        Path(sources_dir).resolve() if sources_dir is not None else None)


def load_registry(path: Path | str | None = None,
                  sources_dir: Path | str | None = SOURCES_DIR) -> list[Claim]:
    return list(load(path, sources_dir).claims)


def claims_by_id(path: Path | str | None = None) -> dict[str, Claim]:
    return {c.id: c for c in load(path).claims}


def queries(path: Path | str | None = None) -> list[tuple[str, str]]:
    """(query_id, PubMed query) for ingestion: the broad queries first, then one per claim,
    whose query_id is the claim id."""
    registry = load(path)
    return ([(q.id, q.query) for q in registry.ingestion_queries]
            + [(c.id, c.query) for c in registry.claims])
