"""PubMed query syntax, checked and evaluated offline.

``parse_query`` turns a PubMed search string into a small AST and reports malformed queries
with the character position and the reason, so a claim's query can be rejected before a run
spends requests on it. ``matches`` evaluates a query against one parsed record
(docs/record-format.md); the loopback E-utilities twin answers ESearch with it, and the claims
registry uses it to check that each claim query finds the records it should.

Syntax accepted
  * ``AND`` / ``OR`` / ``NOT`` (upper case, as PubMed requires), applied strictly left to right;
    parentheses group. Terms written next to each other are joined with AND.
  * ``"quoted phrases"``, truncation with a trailing ``*`` (at least four characters before it).
  * field tags: [tiab] [ti] [ab] [tw] [all] [mh]/[mesh] (and ``:noexp``) [majr] [sh] [pt] [la]
    [au] [ta] [pmid]; proximity ``"a b"[tiab:~N]``; dates [dp]/[pdat] [crdt] [edat] [mdat] as
    ``2020``, ``2020/06``, ``2020/06/01`` or ranges ``2020/01/01:2020/12/31``.

Approximations of PubMed (there is no MeSH tree or phrase index offline)
  * Words are runs of letters/digits after case- and accent-folding; punctuation and hyphens
    separate words, so ``treatment-resistant`` is the phrase ``treatment resistant``.
  * Several unquoted words carrying a text tag (``major depression[tiab]``) are ANDed, each
    with that tag -- PubMed's fallback when the phrase is not in its phrase index; quote
    phrases. With other tags they form one value (``drug therapy[sh]``, ``smith j[au]``).
  * Untagged and [tw] terms search title, abstract, MeSH headings and subheadings, substance names,
    keywords and publication types: PubMed's All Fields minus authors, journals, affiliations
    and automatic term mapping to synonyms.
  * [mh] "explodes" a heading to the headings that extend it after a comma
    (``depressive disorder`` also matches ``Depressive Disorder, Major``); ``:noexp`` disables
    that. Entry terms (MeSH synonyms) are not known.
  * [dp] matches the print publication month/year or the electronic date; [crdt] and [edat]
    match the Entrez date; [mdat] the revision date.
"""
from __future__ import annotations

import bisect
import calendar
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Union

__all__ = ["QuerySyntaxError", "Term", "DateRange", "BoolOp", "Prepared",
           "parse_query", "validate", "prepare", "matches"]


class QuerySyntaxError(ValueError):
    def __init__(self, query: str, position: int, reason: str):
        self.query, self.position, self.reason = query, position, reason
        super().__init__(f"{reason} at position {position} in query {query!r}")


_TAGS = {
    "tiab": "tiab", "title/abstract": "tiab", "ti": "ti", "title": "ti", "ab": "ab",
    "abstract": "ab", "tw": "tw", "text word": "tw", "all": "all", "all fields": "all",
    "mh": "mh", "mesh": "mh", "mesh terms": "mh", "majr": "majr", "mesh major topic": "majr",
    "sh": "sh", "subheading": "sh", "pt": "pt", "publication type": "pt", "la": "la",
    "language": "la", "au": "au", "author": "au", "ta": "ta", "journal": "ta", "pmid": "pmid",
    "uid": "pmid", "dp": "dp", "pdat": "dp", "publication date": "dp", "crdt": "crdt",
    "create date": "crdt", "edat": "edat", "entrez date": "edat", "mdat": "mdat",
    "modification date": "mdat",
}
_DATE_FIELDS = {"dp", "crdt", "edat", "mdat"}
_PROXIMITY_FIELDS = {"tiab", "ti", "ab"}
_TEXT_FIELDS = {"tiab", "ti", "ab", "tw", "all"}
_LANGUAGES = {"english": "eng", "french": "fre", "german": "ger", "spanish": "spa",
              "italian": "ita", "japanese": "jpn", "chinese": "chi", "russian": "rus",
              "portuguese": "por", "dutch": "dut", "polish": "pol", "korean": "kor"}


@dataclass(frozen=True)
class Term:
    text: str
    field: str = "all"
    phrase: bool = False
    noexp: bool = False
    proximity: int | None = None

    def __str__(self) -> str:
        tag = self.field + (":noexp" if self.noexp else "")
        tag += f":~{self.proximity}" if self.proximity is not None else ""
        text = f'"{self.text}"' if self.phrase else self.text
        return f"{text}[{tag}]"


@dataclass(frozen=True)
class DateRange:
    field: str
    start: date
    end: date

    def __str__(self) -> str:
        return f"{self.start:%Y/%m/%d}:{self.end:%Y/%m/%d}[{self.field}]"


@dataclass(frozen=True)
class BoolOp:
    op: str
    left: "Node"
    right: "Node"

    def __str__(self) -> str:
        return f"({self.left} {self.op} {self.right})"


Node = Union[Term, DateRange, BoolOp]


# ---------------------------------------------------------------- parsing

_TOKEN_BREAK = set(' \t\r\n()"[]')


def _tokens(q: str):
    """Yield (kind, text, position); kinds: ( ) op phrase word tag."""
    i, n = 0, len(q)
    while i < n:
        c = q[i]
        if c.isspace():
            i += 1
        elif c in "()":
            yield c, c, i
            i += 1
        elif c == '"':
            end = q.find('"', i + 1)
            if end < 0:
                raise QuerySyntaxError(q, i, "unclosed quote")
            yield "phrase", q[i + 1:end], i
            i = end + 1
        elif c == "[":
            end = q.find("]", i + 1)
            if end < 0:
                raise QuerySyntaxError(q, i, "unclosed field tag '['")
            yield "tag", q[i + 1:end], i
            i = end + 1
        elif c == "]":
            raise QuerySyntaxError(q, i, "']' without a matching '['")
        else:
            j = i
            while j < n and q[j] not in _TOKEN_BREAK:
                j += 1
            word = q[i:j]
            yield ("op" if word in ("AND", "OR", "NOT") else "word"), word, i
            i = j


class _Parser:
    def __init__(self, q: str):
        self.q = q
        self.toks = list(_tokens(q))
        self.i = 0

    def peek(self):
        return self.toks[self.i] if self.i < len(self.toks) else (None, None, len(self.q))

    def take(self):
        tok = self.peek()
        self.i += 1
        return tok

    def error(self, pos: int, reason: str):
        raise QuerySyntaxError(self.q, pos, reason)

    def parse(self) -> Node:
        if not self.toks:
            self.error(0, "empty query")
        node = self.expr()
        kind, text, pos = self.peek()
        if kind == ")":
            self.error(pos, "')' without a matching '('")
        return node

    def expr(self) -> Node:
        kind, text, pos = self.peek()
        if kind == "op":
            self.error(pos, f"{text} has no term on its left")
        node = self.operand()
        while True:
            kind, text, pos = self.peek()
            if kind is None or kind == ")":
                return node
            op = "AND"
            if kind == "op":
                op = text
                self.take()
                nxt, ntext, npos = self.peek()
                if nxt is None or nxt == ")":
                    self.error(pos, f"{op} has no term on its right")
                if nxt == "op":
                    self.error(npos, f"{ntext} directly after {op}")
            node = BoolOp(op, node, self.operand())

    def operand(self) -> Node:
        kind, text, pos = self.take()
        if kind == "(":
            if self.peek()[0] == ")":
                self.error(pos, "empty parentheses")
            node = self.expr()
            if self.take()[0] != ")":
                self.error(pos, "unclosed '('")
            if self.peek()[0] == "tag":
                self.error(self.peek()[2], "a field tag cannot follow ')'")
            return node
        if kind == "tag":
            self.error(pos, f"field tag [{text}] has no term before it")
        if kind == "phrase":
            if not _words(text):
                self.error(pos, "empty phrase")
            return self.tagged([(text, pos)], phrase=True)
        words = [(text, pos)]
        while self.peek()[0] == "word":
            _, wtext, wpos = self.take()
            words.append((wtext, wpos))
        return self.tagged(words, phrase=False)

    def tagged(self, words: list[tuple[str, int]], phrase: bool) -> Node:
        field, noexp, proximity = "all", False, None
        if self.peek()[0] == "tag":
            _, tag, tpos = self.take()
            field, noexp, proximity = self.field_tag(tag, tpos)
            if proximity is not None and not phrase:
                self.error(tpos, f"proximity [{tag}] needs a quoted phrase")
        if field in _DATE_FIELDS:
            if len(words) != 1 or phrase:
                self.error(words[0][1], f"[{field}] takes one date or date range")
            return self.date_range(field, *words[0])
        if field not in _TEXT_FIELDS:
            # a heading, type, name or language is one unit: `drug therapy[sh]`
            words = [(" ".join(text for text, _ in words), words[0][1])]
        terms = []
        for text, pos in words:
            self.check_text(text, pos, field)
            terms.append(Term(text, field, phrase, noexp, proximity))
        node: Node = terms[0]
        for t in terms[1:]:
            node = BoolOp("AND", node, t)
        return node

    def field_tag(self, tag: str, pos: int):
        name = " ".join(tag.lower().split())
        noexp, proximity = False, None
        if name.endswith(":noexp"):
            name, noexp = name[:-6], True
        m = re.fullmatch(r"(.*):~(\d+)", name)
        if m:
            name, proximity = m.group(1), int(m.group(2))
        field = _TAGS.get(name)
        if field is None:
            self.error(pos, f"unknown field tag [{tag}]")
        if noexp and field not in ("mh", "majr"):
            self.error(pos, f"':noexp' only applies to MeSH tags, not [{tag}]")
        if proximity is not None and field not in _PROXIMITY_FIELDS:
            self.error(pos, f"proximity only works with [tiab], [ti] or [ab], not [{tag}]")
        return field, noexp, proximity

    def check_text(self, text: str, pos: int, field: str):
        if not _words(text):
            self.error(pos, f"term {text!r} has no letters or digits")
        star = text.find("*")
        if star >= 0:
            if star != len(text) - 1:
                self.error(pos + star, "'*' may only end a term")
            if len(_fold(text[:-1]).strip()) < 4:
                self.error(pos + star, "truncation needs at least four characters before '*'")
        if field == "pmid" and not text.isdigit():
            self.error(pos, f"[pmid] needs a number, not {text!r}")

    def date_range(self, field: str, text: str, pos: int) -> DateRange:
        parts = text.split(":")
        if len(parts) > 2:
            self.error(pos, f"date range {text!r} has more than one ':'")
        start = self.date(parts[0], pos, first=True)
        end = self.date(parts[-1], pos, first=False)
        if end < start:
            self.error(pos, f"date range {text!r} ends before it starts")
        return DateRange(field, start, end)

    def date(self, text: str, pos: int, first: bool) -> date:
        m = re.fullmatch(r"(\d{4})(?:/(\d{1,2})(?:/(\d{1,2}))?)?", text)
        if not m:
            self.error(pos, f"bad date {text!r}: use YYYY, YYYY/MM or YYYY/MM/DD")
        y, mo, d = int(m.group(1)), m.group(2), m.group(3)
        try:
            if mo is None:
                return date(y, 1, 1) if first else date(y, 12, 31)
            mo = int(mo)
            if d is not None:
                return date(y, mo, int(d))
            return date(y, mo, 1) if first else _month_end(y, mo)
        except ValueError as exc:
            self.error(pos, f"bad date {text!r}: {exc}")


def parse_query(q: str) -> Node:
    """Parse a PubMed query into Term / DateRange / BoolOp nodes, or raise QuerySyntaxError."""
    return _Parser(q).parse()


def validate(q: str) -> None:
    """Raise QuerySyntaxError when ``q`` is not a query PubMed (and ``matches``) understands."""
    parse_query(q)


# ---------------------------------------------------------------- matching

def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


_WORD = re.compile(r"[^\W_]+")


def _words(text: str) -> list[str]:
    return _WORD.findall(_fold(text))


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _iso(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


class Prepared:
    """A record's searchable fields, folded and split into words once (records are searched
    many times by the twin)."""

    def __init__(self, record: dict):
        self.record = record
        self.title = _words(record.get("title") or "")
        self.abstract = _words(record.get("abstract") or "")
        self.mesh = [(_words(m.get("descriptor") or ""),
                      _words((m.get("descriptor") or "").split(",")[0]),
                      bool(m.get("major")),
                      [(_words(q.get("name") or ""), bool(q.get("major")))
                       for q in m.get("qualifiers") or []])
                     for m in record.get("mesh") or []]
        self.qualifiers = [q for *_, quals in self.mesh for q, _major in quals]
        self.keywords = [_words(k) for k in record.get("keywords") or []]
        self.chemicals = [_words(c.get("name") or "") for c in record.get("chemicals") or []]
        self.pub_types = [_words(p.get("name") or "") for p in record.get("publication_types") or []]
        self.languages = {(code or "").lower() for code in record.get("languages") or []}
        self.authors = [_words(a.get("collective_name") or
                               f"{a.get('last_name') or ''} {a.get('initials') or ''}")
                        for a in record.get("authors") or []]
        self.journals = [_words(record.get(k) or "") for k in ("journal", "journal_iso")]
        self.pub_dates = _pub_interval(record)
        self.entrez = _iso(record.get("entrez_date"))
        self.revised = _iso(record.get("date_revised"))
        self.all_fields = [self.title, self.abstract, *(desc for desc, *_ in self.mesh),
                           *self.qualifiers, *self.chemicals, *self.keywords, *self.pub_types]
        self.vocabulary = {w for hay in self.all_fields for w in hay}
        self._sorted_vocabulary = sorted(self.vocabulary)

    def has_prefix(self, prefix: str) -> bool:
        i = bisect.bisect_left(self._sorted_vocabulary, prefix)
        return i < len(self._sorted_vocabulary) and self._sorted_vocabulary[i].startswith(prefix)

    def text_fields(self, field: str) -> list[list[str]]:
        if field == "ti":
            return [self.title]
        if field == "ab":
            return [self.abstract]
        if field == "tiab":
            return [self.title, self.abstract]
        return self.all_fields  # [tw] and untagged terms search the same fields offline


def _pub_interval(record: dict) -> list[tuple[date, date]]:
    out = []
    year, month = record.get("pub_year"), record.get("pub_month")
    if year:
        if month:
            out.append((date(year, month, 1), _month_end(year, month)))
        else:
            out.append((date(year, 1, 1), date(year, 12, 31)))
    edate = _iso(record.get("electronic_date"))
    if edate:
        out.append((edate, edate))
    return out


def prepare(record: dict) -> Prepared:
    return record if isinstance(record, Prepared) else Prepared(record)


def _seq_match(hay: list[str], words: list[str], truncated: bool) -> bool:
    n = len(words)
    if n == 1 and not truncated:
        return words[0] in hay
    for i in range(len(hay) - n + 1):
        if hay[i:i + n - 1] == words[:-1] and (
                hay[i + n - 1].startswith(words[-1]) if truncated else hay[i + n - 1] == words[-1]):
            return True
    return False


def _near(hay: list[str], words: list[str], distance: int) -> bool:
    """All words within ``distance`` intervening words of each other, in any order."""
    positions = [[i for i, w in enumerate(hay) if w == word] for word in words]
    if not all(positions):
        return False
    best = None
    for anchor in positions[0]:
        chosen = [min(p, key=lambda i: abs(i - anchor)) for p in positions[1:]] + [anchor]
        span = max(chosen) - min(chosen) - (len(words) - 1)
        best = span if best is None else min(best, span)
    return best <= distance


def _equal_or_prefix(candidate: list[str], words: list[str], truncated: bool) -> bool:
    if truncated:
        return " ".join(candidate).startswith(" ".join(words))
    return candidate == words


def _mesh_match(rec: Prepared, term: Term, major_only: bool) -> bool:
    truncated = term.text.endswith("*")
    desc_text, _, qual_text = term.text.rstrip("*").partition("/")
    desc_words, qual_words = _words(desc_text), _words(qual_text)
    desc_truncated, qual_truncated = truncated and not qual_text, truncated and bool(qual_text)
    for desc, head, major, quals in rec.mesh:
        exploded = not term.noexp and not desc_truncated and head == desc_words and head != desc
        if not (exploded or _equal_or_prefix(desc, desc_words, desc_truncated)):
            continue
        if qual_text:
            majors = [qm for q, qm in quals if _equal_or_prefix(q, qual_words, qual_truncated)]
            if majors and (not major_only or major or any(majors)):
                return True
        elif not major_only or major or any(qm for _, qm in quals):
            return True
    return False


def _term_match(rec: Prepared, term: Term) -> bool:
    truncated = term.text.endswith("*")
    words = _words(term.text.rstrip("*"))
    f = term.field
    if f in _TEXT_FIELDS:
        # cheap rejections first: most records lack some word of the term
        if not rec.vocabulary.issuperset(words[:-1] if truncated else words):
            return False
        if truncated and not rec.has_prefix(words[-1]):
            return False
        if term.proximity is not None:
            return any(_near(hay, words, term.proximity) for hay in rec.text_fields(f))
        return any(_seq_match(hay, words, truncated) for hay in rec.text_fields(f))
    if f in ("mh", "majr"):
        return _mesh_match(rec, term, major_only=(f == "majr"))
    if f == "sh":
        return any(_equal_or_prefix(q, words, truncated) for q in rec.qualifiers)
    if f == "pt":
        return any(_equal_or_prefix(p, words, truncated) for p in rec.pub_types)
    if f == "la":
        wanted = " ".join(words)
        return _LANGUAGES.get(wanted, wanted) in rec.languages
    if f == "ta":
        return any(_equal_or_prefix(j, words, truncated) for j in rec.journals)
    if f == "au":
        # PubMed completes the last initials: "smith j" finds "Smith JA".
        return any(a[:len(words) - 1] == words[:-1] and len(a) >= len(words)
                   and a[len(words) - 1].startswith(words[-1]) for a in rec.authors)
    return rec.record.get("pmid") == int(term.text)  # [pmid], the one field left


def _date_match(rec: Prepared, node: DateRange) -> bool:
    if node.field == "dp":
        return any(s <= node.end and e >= node.start for s, e in rec.pub_dates)
    value = rec.revised if node.field == "mdat" else rec.entrez
    return value is not None and node.start <= value <= node.end


def _eval(node: Node, rec: Prepared) -> bool:
    if isinstance(node, BoolOp):
        left = _eval(node.left, rec)
        if node.op == "AND":
            return left and _eval(node.right, rec)
        if node.op == "OR":
            return left or _eval(node.right, rec)
        return left and not _eval(node.right, rec)
    if isinstance(node, DateRange):
        return _date_match(rec, node)
    return _term_match(rec, node)


def matches(query: str | Node, record: dict | Prepared) -> bool:
    """True when the record (a parsed-record dict, or ``prepare(record)``) satisfies the query."""
    node = parse_query(query) if isinstance(query, str) else query
    return _eval(node, prepare(record))
