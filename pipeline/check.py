"""Check a draft for ketamine claims and show how much evidence backs each one.

``check_text`` splits a text into sentences (the same splitter the registry's locators use),
decides which sentences assert something about ketamine, and maps each to registry claims:

1. exact terms first: a claim's condition synonyms and cues found in the sentence (longest
   phrase wins where phrases overlap, so "treatment-resistant depression" is not also read as
   plain "depression"); its outcome terms and condition names only raise the confidence;
2. otherwise TF-IDF cosine similarity against each claim's statement, cues and source quotes,
   above ``SIMILARITY_THRESHOLD``.

A claim-like sentence that matches nothing is an "unregistered claim", unless it resembles a
statement the registry deliberately left out, in which case the report gives the reason.

Input limits: ``check_file`` refuses files over ``MAX_BYTES`` and ``check_text`` texts over
``MAX_CHARS`` with a ``CheckInputError`` that names the limit (the draft should be split), and
refuses empty, binary and undecodable input with a message saying what is wrong and where.

Evidence: pass ``evidence=lookup`` where ``lookup(claim_id)`` returns the store's summary for a
claim, ``{"records": int, "by_design": {design: count}, "by_direction": {direction: count}}``,
or None when the store has nothing; it is called once per claim per check, and a lookup that
raises is reported on the sentence instead of stopping the check.
"""
from __future__ import annotations

import re
import sys
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterable, NamedTuple, TextIO

from sklearn.feature_extraction.text import TfidfVectorizer

from pipeline.claims import Claim, Exclusion, RegistryError, load, paragraphs, split_sentences

__all__ = ["MAX_BYTES", "MAX_CHARS", "SIMILARITY_THRESHOLD", "CheckInputError", "Match",
           "SentenceResult", "decode_bytes", "check_text", "check_file", "summarize",
           "format_report", "main_check"]

MAX_BYTES = 2_000_000
MAX_CHARS = 2_000_000
SIMILARITY_THRESHOLD = 0.25
EXCLUSION_THRESHOLD = 0.35
NEAR_COPY = 0.9
CONTEXT_WINDOW = 25          # sentences a ketamine mention keeps carrying over to later sentences
Evidence = Callable[[str], "dict | None"]


class CheckInputError(ValueError):
    """The input cannot be checked; the message says why and what to do."""


class Match(NamedTuple):
    claim_id: str
    confidence: float
    reason: str


@dataclass
class SentenceResult:
    sentence: str
    index: int                      # position among all sentences of the text
    paragraph: int                  # registry locator: non-empty line ...
    sentence_in_paragraph: int      # ... and sentence within it
    is_claim: bool
    matches: list[Match] = field(default_factory=list)
    evidence: dict[str, dict | None] = field(default_factory=dict)
    note: str = ""                  # "unregistered claim", "left out: ...", evidence errors

    @property
    def locator(self) -> tuple[int, int]:
        return self.paragraph, self.sentence_in_paragraph


# ---------------------------------------------------------------- reading input

_MAGIC = [(b"%PDF", "a PDF document"), (b"PK\x03\x04", "a zip archive (a .docx or .odt file?)"),
          (b"\x1f\x8b", "gzip-compressed data"), (b"\x89PNG", "a PNG image"),
          (b"\xff\xd8\xff", "a JPEG image"), (b"GIF8", "a GIF image"),
          (b"\xd0\xcf\x11\xe0", "an old Microsoft Office document")]


def decode_bytes(data: bytes, name: str = "input", encoding: str | None = None) -> str:
    """Bytes to text, or CheckInputError saying why the bytes are not a text we can read."""
    if not data.strip():
        raise CheckInputError(f"{name} is empty")
    for magic, what in _MAGIC:
        if data.startswith(magic):
            raise CheckInputError(f"{name} is {what}, not plain text; save the draft as a .txt file")
    if encoding is None and data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        encoding = "utf-16"  # Word's "Unicode text": has a BOM and NUL bytes by design
    if encoding is None:
        if b"\x00" in data:
            raise CheckInputError(f"{name} looks like a binary file (it contains NUL bytes), not text")
        encoding = "utf-8-sig"
    try:
        text = data.decode(encoding)
    except LookupError:
        raise CheckInputError(f"unknown encoding {encoding!r}") from None
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise CheckInputError(
            f"{name} is not {exc.encoding.upper()} text: byte 0x{data[exc.start]:02X} at line {line}, "
            f"column {column} cannot be decoded; save the file as UTF-8 (or name its encoding, "
            f"e.g. cp1252)") from None
    controls = sum(1 for c in text if unicodedata.category(c) == "Cc" and c not in "\t\n\r\f\v")
    if controls > max(3, len(text) // 100):
        raise CheckInputError(f"{name} looks like a binary file ({controls} control characters), not text")
    if not text.strip():
        raise CheckInputError(f"{name} is empty")
    return text


# ---------------------------------------------------------------- finding claim-like sentences

_KETAMINE = re.compile(r"\b(?:es|ar)?ketamine\b|\bspravato\b|\bketalar\b", re.I)
_OTHER_AGENTS = re.compile(r"\b(?:psilocybin|mdma|lsd|ayahuasca|ibogaine|ecstasy|magic mushrooms)\b", re.I)
_PREDICATE = re.compile(r"""\b(?:
    treat(?:s|ed|ing)?|treatment\s+for|cur(?:e[sd]?|ing)|relie(?:f|ve[sd]?|ving)|reduc(?:e[sd]?|ing|tion)
    |improv(?:e[sd]?|ing|ement)|alleviat\w*|eas(?:e[sd]?|ing)|help(?:s|ed|ing)?|effective(?:ness)?
    |efficacy|efficacious|work(?:s|ed|ing)?|acts?|acting|safe(?:ty|ly|r)?|unsafe|risks?|caus(?:e[sd]?|ing)
    |side[\s-]effects?|adverse|addict\w*|misuse[ds]?|abuse|dependence|increas(?:e[sd]?|ing)
    |decreas(?:e[sd]?|ing)|lower(?:s|ed)?|rais(?:e[sd]?|ing)|boost\w*|trigger(?:s|ed)?|induc(?:e[sd]?|ing)
    |disrupt(?:s|ed|ing)?|block(?:s|ed|ing)?|antagonist|inhibit\w*|enhanc(?:e[sd]?|ing)|promot(?:e[sd]?|ing)
    |strengthen\w*|regrow\w*|rewire|restor\w*|foster\w*|modulat\w*|target(?:s|ed|ing)?|affect(?:s|ed|ing)?
    |influenc(?:e[sd]?|ing)|suppress\w*|revers\w*|respond(?:s|ed)?|response|fade[sd]?|wears?\s+off|lasts?
    |subsides?|pass(?:es)?|within\s+(?:minutes|hours|days)|rapid(?:ly)?|fast|quick(?:ly)?|shown|demonstrated
    |proven|suggests?|evidence|common(?:ly)?|rare(?:ly)?|suitable|candidates|contraindicat\w*|benefit(?:s|ed)?
    |promising|promise|hope|used\s+(?:to|in|for)|employed|administered|delivered|given|include[sd]?|can|may
    |could|might|offers?|provides?|produc(?:e[sd]?|ing)|experience[sd]?|reports?|reported|feel|monitor(?:ed|ing)?
    |managed|prevent\w*|approved|linked|associated\s+with|leads?\s+to|ability\s+to|capacity\s+to
)\b""", re.I | re.X)
_META = re.compile(r"\b(?:this|the present|our|the following) (?:article|post|blog|guide|piece|section)\b", re.I)
_END_PUNCT = tuple('.!:;"”’)')


def _is_heading(paragraph_sentences: list[str]) -> bool:
    only = paragraph_sentences[0]
    return (len(paragraph_sentences) == 1 and not only.rstrip().endswith(_END_PUNCT + ("?",))
            and len(only.split()) <= 12)


# ---------------------------------------------------------------- matching

_TOKEN = re.compile(r"[^\W_]+(?:['’][^\W_]+)?")


def _tokens(text: str) -> list[re.Match]:
    """Words, with hyphens, dashes and punctuation as separators: "treatment-resistant" and
    "treatment resistant" give the same tokens."""
    return list(_TOKEN.finditer(text))


def _key(token: str) -> str:
    return token.replace("’", "'").lower()


class _TermIndex:
    """Finds registry phrases in a sentence, leftmost and longest first, without overlaps.

    Phrases are indexed by their first word, so the cost is one dictionary lookup per word of
    the sentence: a 2 MB draft is checked in seconds, where one big regex alternation of every
    phrase took minutes."""

    def __init__(self, owners: dict[str, set]):
        self.owners = owners
        self.by_first: dict[str, list[tuple[tuple[str, ...], bool]]] = {}
        for term in owners:
            words = tuple(_key(m.group()) for m in _tokens(term))
            # Acronyms must keep their case: "IM" is a route, "im" is not; "SAD" is not "sad".
            exact_case = term.isupper() and len(term.replace("-", "")) <= 5
            self.by_first.setdefault(words[0], []).append((words, exact_case))
        for candidates in self.by_first.values():
            candidates.sort(key=lambda c: -len(c[0]))
        self.terms = {tuple(_key(m.group()) for m in _tokens(t)): t for t in owners}

    def find(self, sentence: str, tokens: list[re.Match]) -> list[tuple[str, set]]:
        """(matched text, owners) for each phrase found."""
        keys = [_key(m.group()) for m in tokens]
        found, i = [], 0
        while i < len(keys):
            for words, exact_case in self.by_first.get(keys[i], ()):
                end = i + len(words)
                if tuple(keys[i:end]) != words:
                    continue
                text = sentence[tokens[i].start():tokens[end - 1].end()]
                if exact_case and text.replace("’", "'").replace("-", " ") != \
                        self.terms[words].replace("-", " "):
                    continue
                found.append((text, self.owners[self.terms[words]]))
                i = end
                break
            else:
                i += 1
        return found


class _Matcher:
    def __init__(self, claims: tuple[Claim, ...], excluded: tuple[Exclusion, ...]):
        self.claims = claims
        key_owner: dict[str, set[tuple[str, bool]]] = {}      # phrase -> {(claim id, is_condition)}
        context_owner: dict[str, set[tuple[str, bool]]] = {}
        for c in claims:
            for cond in c.conditions:
                for syn in cond.synonyms:
                    key_owner.setdefault(syn, set()).add((c.id, True))
                context_owner.setdefault(cond.name, set()).add((c.id, True))
            for cue in c.cues:
                key_owner.setdefault(cue, set()).add((c.id, False))
            for term in c.outcome_terms:
                context_owner.setdefault(term, set()).add((c.id, False))
        self.keys, self.context = _TermIndex(key_owner), _TermIndex(context_owner)
        docs = [" ".join([c.statement, c.outcome, *c.cues, *[q.quote for q in c.sources],
                          *[s for cond in c.conditions for s in (cond.name, *cond.synonyms)]])
                for c in claims]
        self.vectorizer = TfidfVectorizer(ngram_range=(1, 2), stop_words="english",
                                          sublinear_tf=True, strip_accents="unicode")
        # Fitted on the left-out quotes too, so their own words ("insurance", "1960s") count.
        self.vectorizer.fit(docs + [e.source.quote for e in excluded])
        self.claim_matrix = self.vectorizer.transform(docs)
        self.excluded = excluded
        self.excluded_matrix = (self.vectorizer.transform([e.source.quote for e in excluded])
                                if excluded else None)

    def exact(self, sentence: str) -> list[Match]:
        tokens = _tokens(sentence)
        keys: dict[str, list[tuple[str, bool]]] = {}
        for text, owners in self.keys.find(sentence, tokens):
            for cid, is_condition in owners:
                keys.setdefault(cid, []).append((text, is_condition))
        if not keys:
            return []
        context: dict[str, str] = {}
        for text, owners in self.context.find(sentence, tokens):
            for cid, _ in owners:
                context.setdefault(cid, text)
        out = []
        for cid, hits in keys.items():
            strong = [t for t, is_cond in hits if is_cond or len(_tokens(t)) > 1 or t.isupper()]
            distinct = len({_key(t) for t, _ in hits})
            confidence = (0.7 if strong else 0.5) + 0.1 * (distinct - 1)
            reason = ", ".join(f"{'condition' if is_cond else 'cue'} '{t}'" for t, is_cond in hits)
            if cid in context:
                confidence += 0.1
                reason += f", outcome/condition '{context[cid]}'"
            out.append(Match(cid, round(min(confidence, 1.0), 2), reason))
        return sorted(out, key=lambda m: (-m.confidence, m.claim_id))

    def similar(self, sentences: list[str]) -> list[tuple[list[Match], float, Exclusion | None, float]]:
        """Per sentence: claims above the similarity threshold (best two), the best claim score,
        and the closest left-out statement with its score."""
        if not sentences:
            return []
        vectors = self.vectorizer.transform(sentences)
        to_claims = (vectors @ self.claim_matrix.T).toarray()
        to_excluded = ((vectors @ self.excluded_matrix.T).toarray()
                       if self.excluded_matrix is not None else None)
        out = []
        for i, row in enumerate(to_claims):
            ranked = sorted(((score, j) for j, score in enumerate(row) if score >= SIMILARITY_THRESHOLD),
                            reverse=True)[:2]
            matches = [Match(self.claims[j].id, round(float(score), 2),
                             f"similar wording (tf-idf cosine {score:.2f})") for score, j in ranked]
            closest, closest_score = None, 0.0
            if to_excluded is not None:
                j = int(to_excluded[i].argmax())
                closest, closest_score = self.excluded[j], float(to_excluded[i][j])
            out.append((matches, float(row.max(initial=0.0)), closest, closest_score))
        return out


@lru_cache(maxsize=4)
def _matcher(claims: tuple[Claim, ...], excluded: tuple[Exclusion, ...]) -> _Matcher:
    return _Matcher(claims, excluded)


# ---------------------------------------------------------------- public API

def check_text(text: str, claims: Iterable[Claim] | None = None, evidence: Evidence | None = None,
               *, excluded: Iterable[Exclusion] | None = None,
               max_chars: int = MAX_CHARS) -> list[SentenceResult]:
    """One SentenceResult per sentence of ``text``; claim-like sentences carry their matches."""
    if not isinstance(text, str):
        raise CheckInputError(f"expected text, got {type(text).__name__}")
    if len(text) > max_chars:
        raise CheckInputError(f"the text has {len(text):,} characters; the checker reads at most "
                              f"{max_chars:,} at once: split the draft")
    if "\x00" in text:
        raise CheckInputError("the text contains NUL characters: is it a binary file?")
    if not text.strip():
        raise CheckInputError("the text is empty")
    if claims is None:
        registry = load()
        claims = registry.claims
        excluded = registry.excluded if excluded is None else excluded
    matcher = _matcher(tuple(claims), tuple(excluded or ()))

    results: list[SentenceResult] = []
    last_ketamine = None
    for p_index, para in enumerate(paragraphs(text)):
        sentences = split_sentences(para)
        heading = _is_heading(sentences)
        for s_index, sentence in enumerate(sentences):
            index = len(results)
            explicit = bool(_KETAMINE.search(sentence))
            if explicit:
                last_ketamine = index
            in_context = explicit or (last_ketamine is not None and index - last_ketamine <= CONTEXT_WINDOW
                                      and not _OTHER_AGENTS.search(sentence))
            result = SentenceResult(sentence, index, p_index, s_index, is_claim=False)
            if (in_context and not heading and not sentence.rstrip().endswith("?")
                    and not _META.search(sentence)):
                result.matches = matcher.exact(sentence)
                result.is_claim = bool(result.matches) or bool(_PREDICATE.search(sentence))
            results.append(result)

    claim_like = [r for r in results if r.is_claim]
    for result, (similar, best, closest, closest_score) in zip(
            claim_like, matcher.similar([r.sentence for r in claim_like])):
        # A statement the registry left out on purpose wins only when it is the closer text;
        # over a confident exact match it has to be a near copy of the sentence.
        strong = any(m.confidence > 0.5 for m in result.matches)
        bar = NEAR_COPY if strong else EXCLUSION_THRESHOLD
        if closest is not None and closest_score >= bar and closest_score > best:
            result.matches = []
            result.note = f"left out of the registry: {closest.reason}"
        elif not result.matches:
            result.matches = similar
            if not similar:
                result.note = "unregistered claim"

    if evidence is not None:
        _attach_evidence(results, evidence)
    return results


def _attach_evidence(results: list[SentenceResult], evidence: Evidence) -> None:
    looked_up: dict[str, tuple[dict | None, str]] = {}
    for result in results:
        for match in result.matches:
            if match.claim_id not in looked_up:
                try:
                    looked_up[match.claim_id] = (evidence(match.claim_id), "")
                except Exception as exc:  # one failed lookup must not hide the rest of the report
                    looked_up[match.claim_id] = (None, f"evidence lookup failed for {match.claim_id}: {exc}")
            summary, error = looked_up[match.claim_id]
            result.evidence[match.claim_id] = summary
            if error:
                result.note = "; ".join(filter(None, [result.note, error]))


def check_file(path: str | Path, claims: Iterable[Claim] | None = None,
               evidence: Evidence | None = None, *, encoding: str | None = None,
               max_bytes: int = MAX_BYTES) -> list[SentenceResult]:
    path = Path(path)
    try:
        if not path.exists():
            raise CheckInputError(f"{path}: no such file")
        if not path.is_file():
            raise CheckInputError(f"{path} is not a regular file")
        size = path.stat().st_size
        if size > max_bytes:
            raise CheckInputError(f"{path} is {size:,} bytes; the checker reads at most {max_bytes:,} "
                                  f"bytes (about {max_bytes // 6:,} words): split the draft")
        data = path.read_bytes()
    except OSError as exc:
        raise CheckInputError(f"cannot read {path}: {exc.strerror or exc}") from None
    text = decode_bytes(data, str(path), encoding)
    return check_text(text, claims, evidence, max_chars=max_bytes)


def summarize(results: list[SentenceResult]) -> dict:
    claim_like = [r for r in results if r.is_claim]
    return {
        "sentences": len(results),
        "claim_sentences": len(claim_like),
        "matched": sum(1 for r in claim_like if r.matches),
        "unregistered": sum(1 for r in claim_like if r.note == "unregistered claim"),
        "left_out": sum(1 for r in claim_like if r.note.startswith("left out")),
        "claims_found": sorted({m.claim_id for r in claim_like for m in r.matches}),
    }


def _render_evidence(summary: dict | None) -> str:
    if not summary:
        return "no evidence in store"
    total = summary.get("records", summary.get("n_records"))
    parts = [f"{total} records"] if total is not None else []
    for key, label in (("by_design", "design"), ("by_direction", "direction")):
        counts = summary.get(key) or {}
        if counts:
            ordered = sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))
            parts.append(f"{label}: " + ", ".join(f"{k} {v}" for k, v in ordered))
    if not parts or (total == 0 and len(parts) == 1):
        return "no evidence in store"
    return "; ".join(parts)


def format_report(results: list[SentenceResult], title: str = "draft", *, show_evidence: bool = True,
                  max_sentence_chars: int = 240) -> str:
    s = summarize(results)
    lines = [f"Checked {title}: {s['sentences']} sentences, {s['claim_sentences']} look like claims "
             f"({s['matched']} matched, {s['unregistered']} unregistered, {s['left_out']} left out); "
             f"{len(s['claims_found'])} registered claims found."]
    if not s["claim_sentences"]:
        lines.append("No sentence makes a ketamine-related claim.")
    for r in results:
        if not r.is_claim:
            continue
        text = r.sentence if len(r.sentence) <= max_sentence_chars else r.sentence[:max_sentence_chars - 1] + "…"
        lines.append("")
        lines.append(f"[para {r.paragraph}, sentence {r.sentence_in_paragraph}] {text}")
        for m in r.matches:
            lines.append(f"    {m.claim_id:<38} {m.confidence:.2f}  {m.reason}")
            if show_evidence:
                lines.append(f"    {'':<38}       evidence: {_render_evidence(r.evidence.get(m.claim_id))}")
        if r.note:
            lines.append(f"    -> {r.note}")
    return "\n".join(lines) + "\n"


def main_check(path: str | Path, evidence: Evidence | None = None, *, encoding: str | None = None,
               out: TextIO | None = None, err: TextIO | None = None) -> int:
    """What ``python -m pipeline check FILE`` runs: print the report; 0 on success, 2 when the
    input cannot be checked, 1 when the claims registry itself is broken."""
    out, err = out or sys.stdout, err or sys.stderr
    try:
        results = check_file(path, evidence=evidence, encoding=encoding)
    except CheckInputError as exc:
        print(f"error: {exc}", file=err)
        return 2
    except RegistryError as exc:
        print(f"error in the claims registry: {exc}", file=err)
        return 1
    out.write(format_report(results, title=Path(path).name, show_evidence=True))
    return 0
