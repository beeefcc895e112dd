"""How many participants (or animals) a study had, and the words that say so.

Totals stated as totals win ("a total of 120 patients", "120 patients were randomized");
otherwise the largest count of people or animals named in the abstract ("40 patients",
"N = 40"), since group sizes ("ketamine (n = 20)") and subsets ("of these, 12 patients") are
smaller than the whole. A case report with no count is one patient.
"""
from __future__ import annotations

import re

_UNITS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen".split())}
_TENS = {w: 10 * i for i, w in enumerate("_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()) if w != "_"}
_WORD_NUMBER = (r"(?:(?:" + "|".join(_TENS) + r")(?:-(?:" + "|".join(list(_UNITS)[1:10]) + r"))?|"
                + "|".join(sorted(_UNITS, key=len, reverse=True)) + r")(?: hundred)?")
_NUMBER = r"(\d{1,3}(?:,\d{3})+|\d+|" + _WORD_NUMBER + r")"
_NOUNS = (r"(?:patients?|participants?|subjects?|volunteers?|individuals?|persons?|people|adults?|children|"
          r"adolescents?|infants?|neonates?|women|men|males?|females?|veterans?|outpatients?|inpatients?|"
          r"cases|respondents?|users?|smokers?|students?|healthy controls|controls|parturients?|mothers?|"
          r"rats?|mice|dogs?|cats?|rabbits?|monkeys?|pigs?|piglets?|sheep|lambs?|ewes?|horses?|calves|"
          r"animals?|hamsters?|primates?|baboons?|guinea pigs?)")
_LOW = "[a-z0-9()\\-]+"  # a modifier word between the number and the noun ("adult male", "(18-65 years)")
_COUNT = re.compile(rf"\b{_NUMBER} (?:{_LOW} ){{0,3}}{_NOUNS}\b")
_TOTAL = re.compile(
    rf"\b(?:a total of|total of|overall,?|in total,?|altogether,?) {_NUMBER} (?:{_LOW} ){{0,6}}{_NOUNS}\b"
    rf"|\b{_NUMBER} (?:{_LOW} ){{0,3}}{_NOUNS} (?:were|was) (?:randomi[sz]ed|enrolled|included|recruited|studied|"
    rf"analy[sz]ed|assigned|allocated)\b"
    rf"|\b(?:randomi[sz]ed|enrolled|included|recruited|studied) {_NUMBER} (?:{_LOW} ){{0,3}}{_NOUNS}\b")
_COUNT_N = re.compile(r"\bn ?= ?(\d{1,3}(?:,\d{3})+|\d+)\b")
_SINGLE = re.compile(r"\b(?:a|an|one) (?:\d+-(?:year|month|week|day)-old |(?:young|elderly|pregnant) )?"
                     r"(?:man|woman|boy|girl|patient|infant|child|neonate|male|female)\b")
_MAX_PLAUSIBLE = 50_000_000


def _value(token: str) -> int | None:
    token = token.strip().lower()
    if not token:
        return None
    if token[0].isdigit():
        return int(token.replace(",", ""))
    hundred = token.endswith(" hundred")
    token = token.removesuffix(" hundred")
    tens, _, unit = token.partition("-")
    value = _TENS.get(tens, _UNITS.get(tens))
    if value is None:
        return None
    if unit:
        value += _UNITS.get(unit, 0)
    return value * 100 if hundred else value


def _first_number(match: re.Match) -> int | None:
    for group in match.groups():
        if group:
            return _value(group)
    return None


def _plausible(n: int | None, text: str, match: re.Match) -> bool:
    if n is None or n <= 0 or n > _MAX_PLAUSIBLE:
        return False
    # "in 2019 patients" is a year as often as a count.
    return not (1950 <= n <= 2030 and re.search(r"\b(?:in|since|from|during|until) $", text[max(0, match.start() - 7):match.start()]))


def sample_size(text: str, is_case_report: bool = False) -> tuple[int | None, str | None]:
    """(count, the phrase it came from), or (None, None) when the text names none."""
    if not text:
        return None, None
    low = text.lower()
    for match in _TOTAL.finditer(low):
        n = _first_number(match)
        if _plausible(n, low, match):
            return n, text[match.start():match.end()]
    best: tuple[int, re.Match] | None = None
    for match in [*_COUNT.finditer(low), *_COUNT_N.finditer(low)]:
        n = _first_number(match)
        if _plausible(n, low, match) and (best is None or n > best[0]):
            best = (n, match)
    if best is not None:
        return best[0], text[best[1].start():best[1].end()]
    if is_case_report:
        match = _SINGLE.search(low)
        if match:
            return 1, text[match.start():match.end()]
    return None, None
