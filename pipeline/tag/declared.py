"""The design a title says its paper is: "...: a randomized controlled trial", "A narrative review".

Authors name their own design in the title more and more often. The tagger takes that as
the answer when the title says it plainly, and `corpus` uses the same reading to label
modern abstracts for training and evaluation (the title is then hidden from the model).
"""
from __future__ import annotations

import re

# A title's closing segment ("...: a randomized controlled trial.") or opening words
# ("Meta-analysis of ...") that name the paper's own design. Titles naming a part of or a plan
# for a study (a protocol, a secondary or subgroup analysis), a notice about one (a correction,
# a retraction, a reply) or a method built on one ("emulating a randomized trial") are left out:
# their design is not the one named.
_SEGMENTS = re.compile(r"[:?]\s+|\s[-\u2013\u2014]\s+|\.\s+")
_NOT_THE_STUDY = re.compile(
    r"\b(?:protocol|secondary(?!\s+to\b)|post[- ]?hoc|sub-?analys\w*|sub-?study|subgroup|cost-\w+|costs?|economic"
    r"|process evaluation|qualitative|rationale|design|extension|follow-?up|pooled analysis|re-?analysis"
    r"|exploratory|ancillary|nested|mediation|analysis plan|lessons|commentary|reply|response to|letter"
    r"|corrigendum|erratum|correction|retraction|retracted|withdrawn|expression of concern|editorial|comment"
    r"|emulat\w*)\b|^re:|^regarding\b",
    re.I)
_LEAD = r"^(?:an?\s+|the\s+)?"
# The design noun ends the declaration, or a phrase about it follows ("... trial of X in Y",
# "... cohort study, 2010-2020", "... case series demonstrating ..."): "a randomized controlled
# trial classifier" is not a trial.
_END = (r"(?=\W*$|\s*[(\[,;]|\s+(?:study|report)\b|\s+(?:\w+ing|\w+ed|of|in|on|for|with|among|from|at|to"
        r"|versus|vs|and|after|during|across|within|between)\b)")
_DECLARATIONS = [
    ("meta_analysis", re.compile(_LEAD + r"(?:[\w-]+\s+){0,3}?(?:network\s+)?meta[- ]?analysis\b", re.I)),
    ("systematic_review", re.compile(
        _LEAD + r"(?:[\w-]+\s+){0,3}?(?:systematic(?:\s+literature)?|scoping|umbrella)\s+review\b", re.I)),
    ("rct", re.compile(_LEAD + r"(?:[\w-]+,?\s+){0,5}?(?<!non[- ])(?<!quasi[- ])randomi[sz]ed[\s,-]+"
                       r"(?:[\w-]+,?\s+){0,5}?trial" + _END, re.I)),
    ("case_report", re.compile(_LEAD + r"(?:[\w-]+\s+){0,2}?case\s+report\b", re.I)),
    # Observational designs: the commonest modern primary studies, which the indexed labels
    # (MeSH check tags, mostly 1970s) hardly show in today's wording.
    ("case_series", re.compile(_LEAD + r"(?:[\w-]+,?\s+){0,3}?case\s+series" + _END, re.I)),
    ("case_control", re.compile(
        _LEAD + r"(?:[\w-]+,?\s+){0,5}?case[- ]control(?:led)?\s+(?:study|analysis)" + _END, re.I)),
    ("cross_sectional", re.compile(
        _LEAD + r"(?:[\w-]+,?\s+){0,5}?cross[- ]sectional\s+(?:study|survey|analysis)" + _END, re.I)),
    ("cohort", re.compile(_LEAD + r"(?:[\w-]+,?\s+){0,5}?cohort\s+(?:study|analysis)" + _END, re.I)),
    ("narrative_review", re.compile(
        _LEAD + r"(?:[\w-]+\s+){0,2}?(?:(?:narrative|literature|critical|brief|comprehensive|historical)\s+|mini-?\s*)"
        r"review\b|" + _LEAD + r"review\s+of\s+(?:the\s+)?literature\b", re.I)),
]
_SYNTHESES = ("meta_analysis", "systematic_review")
# Every declaration holds one of these: the tagger reads each title, and a substring test rules
# out most of them (five in six recent titles, nineteen in twenty from the 1970s) for a
# twentieth of the cost of the patterns.
_GATE = ("analys", "review", "trial", "report", "series", "cohort", "control", "sectional", "literature")
# A review's own words, wherever they stand in the segment.
_REVIEW_WORDS = re.compile(r"\b(?:meta[- ]?analy\w*|systematic(?:\s+literature)?\s+review|scoping\s+review"
                           r"|umbrella\s+review)\b", re.I)
# "A systematic review and meta-analysis" pools; "an umbrella review of meta-analyses" reviews.
_POOLED = re.compile(r"\band\s+(?:an?\s+)?(?:[\w-]+\s+){0,3}?meta[- ]?analy", re.I)
# "A cohort and cross-sectional study" names two observational designs, though only one is
# followed by "study".
_OBSERVATIONAL_WORDS = re.compile(r"\b(cohort|cross[- ]sectional|case[- ]control)", re.I)
# A review title that also reports patients ("review of the literature and report of 17 cases")
# is a case report or series with a literature section, not a review.
_REPORTS_CASES = re.compile(
    r"\b(?:reports?\s+of|case\s+reports?|case\s+presentation|presentation\s+of|\d+\s+(?:new\s+)?(?:cases|patients)"
    r"|(?:a|one|two|three|four|five|six)\s+(?:new\s+)?(?:cases?|patients?))\b", re.I)


def declared_design(title: str) -> str | None:
    """The design a title says the paper is, or None when it does not say so plainly.

    "X and Y: a systematic review and meta-analysis" is a meta-analysis: a review that pools
    results is one, as NLM's publication types have it. A review of cohort studies is a review;
    a title naming a study and a review ("a cohort study and meta-analysis") or two primary
    designs ("a cohort and cross-sectional study") names neither. A question ("time for a
    randomized trial?") and an opening "The randomized controlled trial" are about a design.
    """
    low = title.lower()
    if not any(word in low for word in _GATE):
        return None
    title = title.strip().rstrip(".").strip("[]").rstrip(".")  # translated titles come bracketed
    if not title or _NOT_THE_STUDY.search(title):
        return None
    segments = [s.strip() for s in _SEGMENTS.split(title)]
    candidates = [] if title.endswith("?") else [segments[-1]]
    if len(segments) > 1 and not segments[0].lower().startswith("the "):
        candidates.append(segments[0])
    for segment in candidates:
        found = {design: m for design, pattern in _DECLARATIONS if (m := pattern.search(segment))}
        if "narrative_review" in found and (len(found) > 1 or _REPORTS_CASES.search(title)):
            del found["narrative_review"]  # "a case report and review of the literature"
        if not found:
            continue
        review = _REVIEW_WORDS.search(segment)
        primary = [d for d in found if d not in _SYNTHESES and d != "narrative_review"]
        if primary and review and review.start() >= min(found[d].end() for d in primary):
            return None  # "a randomised trial and meta-analysis", "case series and a systematic review"
        if "case_report" in found and len(found) > 1:
            return None  # "a case report and systematic review": which one NLM would say is unclear
        if "meta_analysis" in found or ("systematic_review" in found and _POOLED.search(segment)):
            return "meta_analysis"
        if "systematic_review" in found:
            return "systematic_review"
        if len(found) > 1 or len({w.lower().replace(" ", "-") for w in _OBSERVATIONAL_WORDS.findall(segment)}) > 1:
            return None
        return next(iter(found))
    return None
