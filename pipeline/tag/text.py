"""Turning either record shape into bounded, tokenised text the taggers share.

Two shapes arrive here: the parsed record of docs/record-format.md (publication types and MeSH
as dicts) and the `tag` JSONL line (plain name lists). Both become a `TagInput`. Text is cut to
`MAX_CHARS` first so one pathological abstract cannot stall a batch.
"""
from __future__ import annotations

import heapq
import re
from dataclasses import dataclass, field
from itertools import repeat

# Longest real abstracts run to ~10,000 characters; anything past this is pasted full text
# or garbage, and the design/population signal sits at the start anyway.
MAX_CHARS = 20_000
MAX_TITLE_CHARS = 2_000

# Punctuation and white space separate words; letters, digits and the hyphen stay.
_SEPARATOR_CHARS = ("!\"#$%&'()*+,./:;<=>?@[\\]^_`{|}~"
                    "\u2018\u2019\u201c\u201d\u2013\u2014\u2212\u00b1\u2264\u2265")
# `words()` splits on runs of these; the regex is the definition, and tests hold `words()` to it.
_SEPARATORS = re.compile("[" + re.escape(_SEPARATOR_CHARS) + r"\s]+")
# The same split done by bytes.translate and str.split, both single C passes, is over twice as
# fast as the regex (1.5 s against 0.6 s for the 2021 update file's titles and abstracts), and
# throughput is a target. str.split() and the regex's \s both split on str.isspace() characters;
# UTF-8 never puts an ASCII byte inside a longer character, so mapping the ASCII separators byte
# by byte and replacing the few wider ones first splits exactly where the regex does.
_ASCII_SEPARATORS = bytes(32 if b < 128 and chr(b) in _SEPARATOR_CHARS else b for b in range(256))
_WIDE_SEPARATORS = tuple(c.encode() for c in _SEPARATOR_CHARS if ord(c) > 127)
_SENT_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z(\[0-9])|\n+")
_ABBREV_END = re.compile(r"(?:\b(?:vs|e\.g|i\.e|et al|approx|fig|no|ref|resp|mo|yr|min|max|wk|hr|sec|dr|mr|mrs|ms|st)|\b[A-Z])\.$", re.I)
_ABBREV_SPAN = len("approx.")  # the longest text _ABBREV_END can match

# Common English function words; a text in which they are rare is not English prose.
_ENGLISH = frozenset(
    "the of and in to a with was were is for that by as on at from this be are or an which "
    "not after we than these between had have has been who two it its all but more both into "
    "during no than there their they our may can also".split()
)
# Function words of the other languages PubMed abstracts and titles come in. None is an English
# word or a common biomedical abbreviation ("IL", "DAS", "et al", "von Willebrand" are left out).
_FOREIGN = frozenset(
    "der und ist zur zum mit bei eine einer eines nicht auf für sich auch nach wird "
    "le les du est une pour dans sur par avec aux qui sont chez "
    "de la en el los las del y una por con como entre sobre "
    "della dei delle degli nel nella che sono "
    "uma em com não pelo pela".split()
)

_LANGUAGE_WEIGHT = {w: (w in _ENGLISH) + 1000 * (w in _FOREIGN) for w in _ENGLISH | _FOREIGN}


@dataclass
class TagInput:
    title: str = ""
    abstract: str = ""
    sections: list = field(default_factory=list)  # [(nlm_category or label, text)]
    publication_types: list = field(default_factory=list)  # names
    mesh: list = field(default_factory=list)  # descriptor names
    indexing_method: str | None = None
    truncated: bool = False

    @property
    def text(self) -> str:
        return f"{self.title}\n{self.abstract}" if self.abstract else self.title


def _names(items, key: str) -> list[str]:
    if not isinstance(items, (list, tuple)):
        return []
    out = []
    for item in items:
        if isinstance(item, dict):
            value = item.get(key) or item.get("name")
        else:
            value = item
        if isinstance(value, str) and value.strip():
            out.append(value.strip())
    return out


def _clean(value, limit: int) -> tuple[str, bool]:
    if not isinstance(value, str):
        return "", False
    return value[:limit], len(value) > limit


def from_record(rec: dict) -> TagInput:
    """Accept a parsed record or a JSONL line; anything missing or mistyped becomes empty."""
    title, cut_title = _clean(rec.get("title"), MAX_TITLE_CHARS)
    abstract, cut_abstract = _clean(rec.get("abstract"), MAX_CHARS)
    sections = []
    budget = MAX_CHARS
    raw_sections = rec.get("abstract_sections")
    for sec in raw_sections if isinstance(raw_sections, list) else ():
        if not isinstance(sec, dict) or budget <= 0:
            continue
        text = sec.get("text") if isinstance(sec.get("text"), str) else ""
        text = text[:budget]
        budget -= len(text)
        category = sec.get("nlm_category") or sec.get("label") or ""
        sections.append((str(category).upper(), text))
    if not sections and "\n" in abstract:
        sections = _labelled_lines(abstract)
    method = rec.get("indexing_method")
    return TagInput(
        title=title,
        abstract=abstract,
        sections=sections,
        publication_types=_names(rec.get("publication_types"), "name"),
        mesh=_names(rec.get("mesh"), "descriptor"),
        indexing_method=method if isinstance(method, str) else None,
        truncated=cut_title or cut_abstract,
    )


_LABEL_LINE = re.compile(r"^([A-Z][A-Za-z /&-]{2,40}):\s+(.*)$")


def _labelled_lines(abstract: str) -> list[tuple[str, str]]:
    """Recover sections from the flattened "LABEL: text" lines of a structured abstract."""
    out = []
    for line in abstract.split("\n"):
        match = _LABEL_LINE.match(line.strip())
        if not match:
            return []
        out.append((match.group(1).strip().upper(), match.group(2)))
    return out


def words(text: str) -> list[str]:
    low = text.lower()
    if low.isascii():
        return low.encode().translate(_ASCII_SEPARATORS).decode().split()
    raw = low.encode("utf-8", "surrogatepass")  # JSON input can carry a lone surrogate
    for wide in _WIDE_SEPARATORS:
        if wide in raw:
            raw = raw.replace(wide, b" ")
    return raw.translate(_ASCII_SEPARATORS).decode("utf-8", "surrogatepass").split()


def is_english(text: str, tokens: list[str] | None = None) -> bool:
    """False when another language's function words outnumber English ones, or prose has none.

    Titles are dense with content words, so only long texts are held to an English share.
    `tokens`, the text's `words()` when the caller has them, saves splitting it again.
    """
    tokens = words(text[:1500]) if tokens is None else tokens[:250]
    # Both counts in one pass: at most 250 tokens, so the English count never reaches 1000.
    foreign, english = divmod(sum(map(_LANGUAGE_WEIGHT.get, tokens, repeat(0))), 1000)
    if foreign >= 2 and foreign > english:
        return False
    return len(tokens) < 40 or english / len(tokens) >= 0.04


def sentences(text: str) -> list[str]:
    """Split on sentence ends, gluing back pieces that ended on an abbreviation ("vs.")."""
    out: list[str] = []
    for piece in _SENT_END.split(text):
        piece = piece.strip()
        if not piece:
            continue
        # Only the last characters can hold the abbreviation: searching the whole piece for
        # it cost more than the split.
        if out and _ABBREV_END.search(out[-1], max(0, len(out[-1]) - _ABBREV_SPAN)) and not piece[:1].isdigit():
            out[-1] = f"{out[-1]} {piece}"
        else:
            out.append(piece)
    return out


# The Python docs (re.IGNORECASE) name the only non-ASCII letters an ASCII letter matches
# under re.I. A check of every code point (tests/test_tag_text.py) shows that in text without
# them `str.lower()` keeps every position and every character's \w, \s and \d class, so an
# ASCII pattern matches lowered text exactly where re.I matches the original.
_CASE_TRAPS = ("\u0130", "\u0131", "\u017f", "\u212a")


def _lowers_safely(text: str) -> bool:
    return text.isascii() or not any(map(text.__contains__, _CASE_TRAPS))


class CaselessPattern:
    """A case-insensitive regex, searched fast: `search` finds the match
    `re.compile(source, re.I).search` would, at the same positions, but over the lower-cased
    text (so `group()` is lower case).

    re.I turns off the scan shortcuts of Python's re, and outcome and result-word patterns
    were the largest cost of tagging against a claim. Lower-cased text searched with a
    case-sensitive copy of the pattern finds the same matches several times faster. With
    `starts`, the lower-case literals every match begins with, it is faster still for a pattern
    with few of them: the literals are found with `str.find` and the pattern is only tried
    where one occurs, leftmost first. `source` must have lower-case literals; the re.I form is
    only compiled for text the shortcut cannot take (compiling a claim's outcome pattern costs
    milliseconds, and a `tag` input may bring a new claim on every line).
    """

    __slots__ = ("source", "lowered", "starts", "_regex")

    def __init__(self, source: str, starts=()):
        if re.search("[A-Z]", re.sub(r"\\.", "", source)):
            raise ValueError(f"pattern has upper-case literals: {source!r}")
        self.source = source
        self._regex = None
        self.lowered = re.compile(source) if source.isascii() else None
        starts = tuple(dict.fromkeys(starts))
        # A start another one begins with adds no position to try ("no" finds "none").
        self.starts = tuple(s for s in starts if not any(s != t and s.startswith(t) for t in starts))

    @property
    def regex(self) -> re.Pattern:
        if self._regex is None:
            self._regex = re.compile(self.source, re.I)
        return self._regex

    def search(self, text: str) -> re.Match | None:
        if self.lowered is None or not _lowers_safely(text):
            return self.regex.search(text)
        low = text.lower()
        if not self.starts:
            return self.lowered.search(low)
        # Leftmost first, finding each literal's next occurrence only when the last one failed.
        heap = [(i, start) for start in self.starts if (i := low.find(start)) >= 0]
        heapq.heapify(heap)
        tried = -1
        while heap:
            i, start = heap[0]
            if i != tried:
                match = self.lowered.match(low, i)
                if match:
                    return match
                tried = i
            following = low.find(start, i + 1)
            if following >= 0:
                heapq.heapreplace(heap, (following, start))
            else:
                heapq.heappop(heap)
        return None
