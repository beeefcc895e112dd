"""How many participants (or animals) a study had, and the words that say so.

Totals stated as totals win ("a total of 120 patients", "120 patients were randomized");
otherwise the largest count of people or animals named in the abstract ("40 patients",
"N = 40"), since group sizes ("ketamine (n = 20)") and subsets ("of these, 12 patients") are
smaller than the whole. A case report with no count is one patient.
"""
from __future__ import annotations

import re

from .text import words

_UNITS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen".split())}
_TENS = {w: 10 * i for i, w in enumerate("_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()) if w != "_"}
# Every spelled-out number the patterns know, as `words()` tokens: when none occurs, only digit
# runs are looked at (scanning for number words costs far more than scanning for digits).
NUMBER_WORDS = frozenset(list(_UNITS) + list(_TENS) + [f"{t}-{u}" for t in _TENS for u in list(_UNITS)[1:10]]
                         + ["hundred"])
# A digit run followed by a space and a word, or preceded by "n =": the only numbers that can
# count people (this skips p-values, doses and percentages before any Python code runs).
_DIGIT_RUN = re.compile(r"\d[\d,]*(?= [a-z(])")
# On ASCII text \d is [0-9], which the regex engine scans for about a third faster.
_ASCII_DIGIT_RUN = re.compile(r"[0-9][0-9,]*(?= [a-z(])")
_N_EQUALS_RUN = re.compile(r"n ?= ?(\d[\d,]*)")
_NOUNS = (r"(?:patients?|participants?|subjects?|volunteers?|individuals?|persons?|people|adults?|children|"
          r"adolescents?|infants?|neonates?|women|men|males?|females?|veterans?|outpatients?|inpatients?|"
          r"cases|respondents?|users?|smokers?|students?|healthy controls|controls|parturients?|mothers?|"
          r"rats?|mice|dogs?|cats?|rabbits?|monkeys?|pigs?|piglets?|sheep|lambs?|ewes?|horses?|calves|"
          r"animals?|hamsters?|primates?|baboons?|guinea pigs?)")
_LOW = r"[a-z0-9()\-]+"  # a modifier word between the number and the noun ("adult male", "(18-65 years)")
# Anchored right after a number: the people or animals it counts, with up to 3 (or, after
# "a total of", 6) modifier words between.
_COUNTED = re.compile(rf" (?:{_LOW} ){{0,3}}{_NOUNS}\b")
_COUNTED_LONG = re.compile(rf" (?:{_LOW} ){{0,6}}{_NOUNS}\b")
_TOTAL_BEFORE = re.compile(r"(?:a total of|total of|overall,?|in total,?|altogether,?|randomi[sz]ed|enrolled|included"
                           r"|recruited|studied) $")
_TOTAL_AFTER = re.compile(r" (?:were|was) (?:randomi[sz]ed|enrolled|included|recruited|studied|analy[sz]ed|assigned"
                          r"|allocated)\b")
_N_EQUALS = re.compile(r"n ?= ?$")
_YEAR_BEFORE = re.compile(r"\b(?:in|since|from|during|until) $")
_SINGLE = re.compile(r"\b(?:a|an|one) (?:\d+-(?:year|month|week|day)-old |(?:young|elderly|pregnant) )?"
                     r"(?:man|woman|boy|girl|patient|infant|child|neonate|male|female)\b")
_MAX_PLAUSIBLE = 50_000_000


def _value(token: str) -> int | None:
    token = token.strip().lower()
    if not token:
        return None
    hundred = token.endswith(" hundred")
    token = token.removesuffix(" hundred")
    tens, _, unit = token.partition("-")
    value = _TENS.get(tens, _UNITS.get(tens))
    if value is None:
        return None
    if unit:
        value += _UNITS.get(unit, 0)
    return value * 100 if hundred else value


_THOUSANDS = re.compile(r"\d{1,3}(?:,\d{3})+")


def _numbers(low: str, spelled: set[str]):
    """(start, end, value) of each whole number: digit runs followed by a word, that are not part
    of a decimal, a range or a word ("0.5 mg", "18-65 years", "5ht2a"), and the `spelled` number
    words, each found with `str.find` (a regex alternation of number words is slow to scan)."""
    runs = [(m.start(), m.group()) for m in (_ASCII_DIGIT_RUN if low.isascii() else _DIGIT_RUN).finditer(low)]
    runs += [(m.start(1), m.group(1)) for m in _N_EQUALS_RUN.finditer(low)]
    for start, run in runs:
        run = run.rstrip(",")
        end = start + len(run)
        glued_before = start > 0 and (low[start - 1].isalnum() or low[start - 1] in ".-")
        if glued_before or ("," in run and not _THOUSANDS.fullmatch(run)):
            continue
        yield start, end, int(run.replace(",", ""))
    # Longest first ("twenty-five" before the "five" inside it), and never in set order, which
    # changes from run to run with string hashing.
    for word in sorted(spelled, key=lambda w: (-len(w), w)):
        value = _value(word)
        at = low.find(word) if value is not None else -1
        while at >= 0:
            end = at + len(word)
            if (at == 0 or not low[at - 1].isalnum()) and not low[end:end + 1].isalnum() and \
                    low[end:end + 1] != "-":
                if low.startswith(" hundred", end):
                    yield at, end + 8, value * 100
                else:
                    yield at, end, value
            at = low.find(word, end)


def sample_size(text: str, is_case_report: bool = False, tokens=None) -> tuple[int | None, str | None]:
    """(count, the phrase it came from), or (None, None) when the text names none.

    `tokens`, the text's `words()` when the caller has them, only decides whether spelled-out
    numbers need looking for.
    """
    if not text:
        return None, None
    low = text.lower()
    if tokens is None:
        tokens = set(words(low))
    best: tuple[int, int, int, int] | None = None  # (count, named-the-noun, start, end)
    for start, end, n in _numbers(low, NUMBER_WORDS & tokens):
        if n <= 0 or n > _MAX_PLAUSIBLE:
            continue
        before = low[max(0, start - 20):start]
        if 1950 <= n <= 2030 and _YEAR_BEFORE.search(before):
            continue  # "in 2019 patients" is a year as often as a count
        n_equals = _N_EQUALS.search(before)
        if n_equals:
            candidate = (n, 0, start - len(n_equals.group()), end)
        else:
            total_before = _TOTAL_BEFORE.search(before)
            counted = (_COUNTED_LONG if total_before else _COUNTED).match(low, end)
            if counted is None:
                continue
            if total_before:
                return n, text[start - len(total_before.group()):counted.end()]
            total_after = _TOTAL_AFTER.match(low, counted.end())
            if total_after:
                return n, text[start:total_after.end()]
            candidate = (n, 1, start, counted.end())
        if best is None or candidate[:2] > best[:2]:
            best = candidate
    if best is not None:
        return best[0], text[best[2]:best[3]]
    if is_case_report:
        match = _SINGLE.search(low)
        if match:
            return 1, text[match.start():match.end()]
    return None, None
